"""Offline stand-in for the get-pip script that ansible-test downloads.

ansible-test bootstraps pip into each sanity test virtual environment by running
``get-pip.py`` fetched from its own file host, which this project's machines cannot reach.
It first looks for a cached copy at ``~/.ansible/test/cache/get_pip_<version>.py``;
``tests/run`` copies this file there.

It is run (through ansible-test's quiet_pip.py) by the new environment's python with
get-pip's arguments, e.g. ``--disable-pip-version-check pip==24.2 --no-setuptools --no-wheel``.
It installs the bundled pip with ``ensurepip`` and then lets that pip install the requested
packages from the configured index.

``ensurepip`` sets ``PIP_CONFIG_FILE=/dev/null`` in its process, which would hide the pip
configuration (index, certificates, find-links) of the machine, so the environment is
copied before it runs and each step runs in its own process with that copy.
"""

from __future__ import annotations

import os
import subprocess
import sys

GET_PIP_ONLY_FLAGS = ('--no-setuptools', '--no-wheel')


def main() -> None:
    """Bootstrap pip, then install the requested packages."""
    env = dict(os.environ)
    args = sys.argv[1:]
    pip_args = [arg for arg in args if arg not in GET_PIP_ONLY_FLAGS]

    subprocess.run([sys.executable, '-m', 'ensurepip', '--default-pip'], env=env, check=True,
                   stdout=subprocess.DEVNULL)
    subprocess.run([sys.executable, '-m', 'pip', 'install', '--quiet'] + pip_args, env=env, check=True)

    if '--no-setuptools' in args:
        # get-pip would not have installed setuptools; ensurepip may have (Python < 3.12).
        subprocess.run([sys.executable, '-m', 'pip', 'uninstall', '--yes', '--quiet', 'setuptools'],
                       env=env, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


if __name__ == '__main__':
    main()
