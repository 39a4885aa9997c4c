# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Integration fixtures: real registries on 127.0.0.1, and the collection built and installed as a user installs it.

Playbooks and ad-hoc commands run in subprocesses against the installed collection (never the
source tree); request budgets are measured in-process from the client's RequestLog and,
from the outside, from the registries' own /metrics and the token server's request list.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import textwrap
import typing as t

import pytest

TESTS_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COLLECTION_ROOT = os.path.dirname(TESTS_DIR)
if TESTS_DIR not in sys.path:
    sys.path.insert(0, TESTS_DIR)

from harness import Harness  # noqa: E402  pylint: disable=wrong-import-position
from harness.seed import push_image  # noqa: E402  pylint: disable=wrong-import-position


# The Ansible CLIs of the Python running the tests (tests/run's venv), whatever PATH says.
BIN_DIR = os.path.dirname(sys.executable)


class Run(t.NamedTuple):
    rc: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


@pytest.fixture(scope='session')
def harness() -> t.Iterator[Harness]:
    with Harness() as running:
        running.seed()
        yield running


@pytest.fixture(scope='session')
def installed_collection(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Build the collection tarball and install it with ansible-galaxy, as a user would."""
    work = tmp_path_factory.mktemp('collection')
    subprocess.run([os.path.join(BIN_DIR, 'ansible-galaxy'), 'collection', 'build', COLLECTION_ROOT, '--output-path', str(work), '--force'],
                   check=True, capture_output=True)
    tarball = str(work / 'oci-registry-0.1.0.tar.gz')
    install_path = str(work / 'collections')
    subprocess.run([os.path.join(BIN_DIR, 'ansible-galaxy'), 'collection', 'install', tarball, '-p', install_path, '--force'], check=True, capture_output=True)
    assert os.path.isfile(os.path.join(install_path, 'ansible_collections', 'oci', 'registry', 'plugins', 'modules',
                                       'registry_manifest_info.py'))
    return install_path


@pytest.fixture(scope='session')
def ansible_env(installed_collection: str, tmp_path_factory: pytest.TempPathFactory) -> t.Dict[str, str]:
    home = tmp_path_factory.mktemp('home')
    env = {k: v for k, v in os.environ.items() if not k.startswith(('OCI_REGISTRY_', 'ANSIBLE_')) and k not in (
        'PYTHONPATH', 'DOCKER_CONFIG', 'REGISTRY_AUTH_FILE', 'XDG_RUNTIME_DIR')}
    env.update({
        'ANSIBLE_COLLECTIONS_PATH': installed_collection,
        'ANSIBLE_COLLECTIONS_SCAN_SYS_PATH': 'false',
        'ANSIBLE_LOCALHOST_WARNING': 'false',
        'ANSIBLE_INVENTORY_UNPARSED_WARNING': 'false',
        'ANSIBLE_NOCOLOR': '1',
        'ANSIBLE_FORCE_COLOR': '0',
        'ANSIBLE_PYTHON_INTERPRETER': sys.executable,
        'ANSIBLE_LOCAL_TEMP': str(home / 'tmp'),
        'ANSIBLE_REMOTE_TEMP': str(home / 'remote-tmp'),
        'PATH': BIN_DIR + os.pathsep + os.environ.get('PATH', ''),
        'HOME': str(home),  # no stray ~/.docker/config.json from the machine
    })
    return env


@pytest.fixture(scope='session')
def ansible(ansible_env: t.Dict[str, str]) -> 'Ansible':
    return Ansible(ansible_env)


class Ansible:
    """Runs ansible-playbook and ad-hoc ansible against the installed collection."""

    def __init__(self, env: t.Dict[str, str]) -> None:
        self.env = env

    def playbook(self, tasks: str, extra_vars: t.Optional[t.Dict[str, t.Any]] = None, env: t.Optional[t.Dict[str, str]] = None,
                 verbosity: int = 0, play_extra: str = '', check: bool = False) -> Run:
        with tempfile.TemporaryDirectory() as tmp:
            playbook = os.path.join(tmp, 'play.yml')
            with open(playbook, 'w', encoding='utf-8') as handle:
                handle.write('- hosts: localhost\n  gather_facts: false\n%s  tasks:\n%s' % (
                    textwrap.indent(textwrap.dedent(play_extra), '  '), textwrap.indent(textwrap.dedent(tasks), '    ')))
            args = ['ansible-playbook', playbook, '-i', 'localhost,', '-c', 'local']
            if extra_vars:
                vars_file = os.path.join(tmp, 'vars.json')
                with open(vars_file, 'w', encoding='utf-8') as handle:
                    json.dump(extra_vars, handle)
                args += ['-e', '@' + vars_file]
            if verbosity:
                args.append('-' + 'v' * verbosity)
            if check:
                args.append('--check')
            return self._run(args, env)

    def adhoc(self, module: str, args: str, env: t.Optional[t.Dict[str, str]] = None, verbosity: int = 0) -> Run:
        cmd = ['ansible', 'localhost', '-m', module, '-a', args]
        if verbosity:
            cmd.append('-' + 'v' * verbosity)
        return self._run(cmd, env)

    def run_cli(self, args: t.List[str], env: t.Optional[t.Dict[str, str]] = None) -> Run:
        return self._run(args, env)

    def _run(self, args: t.List[str], env: t.Optional[t.Dict[str, str]]) -> Run:
        full_env = dict(self.env)
        full_env.update(env or {})
        proc = subprocess.run(args, env=full_env, capture_output=True, text=True, timeout=300, check=False)
        return Run(proc.returncode, proc.stdout, proc.stderr)


def assert_ok(run: Run) -> None:
    assert run.rc == 0, 'ansible failed (rc=%d):\n%s' % (run.rc, run.output[-6000:])


def connection_vars(registry: t.Any, user: t.Optional[str] = None) -> t.Dict[str, t.Any]:
    """Module options that reach a harness registry: plain_http / ca_cert and, optionally, a user's credentials."""
    opts: t.Dict[str, t.Any] = {'plain_http': registry.scheme == 'http'}
    if registry.ca_cert:
        opts['ca_cert'] = registry.ca_cert
    if user:
        opts.update(username=user, password=registry.users[user])
    return opts


def seed_tags(registry: t.Any, repository: str, count: int) -> t.List[str]:
    """Put one small image under ``count`` tags of one repository; returns the references."""
    tags = ['t%02d' % i for i in range(count)]
    push_image(registry, repository, tags, content='many tags\n', verify=registry.verify)
    return ['%s/%s:%s' % (registry.host, repository, tag) for tag in tags]
