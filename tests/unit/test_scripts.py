# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The scripts a user runs find the venv that `tests/run setup` builds.

tests/utils/venv.sh is the one place that names it. When demo/run spelled the path itself, it kept
an old one after tests/run moved its venv, and ran the harness with the system Python on every
machine that had no old venv lying around (CI runs the demo from an empty HOME for the same reason).
"""

from __future__ import annotations

import hashlib
import os
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
VENV_SCRIPT = os.path.join('tests', 'utils', 'venv.sh')
# Scripts that run `tests/run setup` and then use its venv.
USERS = ('demo/run', 'benchmarks/run-all', 'tests/run')
# Written into the staged tree by a run, not part of the repository: ansible-test's inventory names the
# interpreter of the venv it ran with.
GENERATED = (os.path.join('tests', 'integration', 'inventory'),)


def _text_files():
    for directory, dirs, files in os.walk(ROOT):
        dirs[:] = [name for name in dirs if name not in ('.git', 'output', '__pycache__', '.ansible')]
        for name in files:
            path = os.path.relpath(os.path.join(directory, name), ROOT)
            if path in GENERATED:
                continue
            try:
                with open(os.path.join(ROOT, path), encoding='utf-8') as handle:
                    yield path, handle.read()
            except (UnicodeDecodeError, OSError):
                continue


def test_only_venv_sh_names_the_venv_directory():
    naming = sorted(path for path, text in _text_files()
                    if 'oci-registry-venv' in text and path not in (VENV_SCRIPT, os.path.join('tests', 'unit', 'test_scripts.py')))
    assert naming == []


@pytest.mark.parametrize('script', USERS)
def test_scripts_take_the_venv_from_venv_sh(script):
    with open(os.path.join(ROOT, script), encoding='utf-8') as handle:
        text = handle.read()
    assert 'source "$REPO_ROOT/tests/utils/venv.sh"' in text
    assert 'VENV=$(oci_registry_venv)' in text


def _venv_sh(tmp_path, **env):
    environ = {key: value for key, value in os.environ.items() if key != 'OCI_REGISTRY_VENV'}
    environ.update(HOME=str(tmp_path), **env)
    proc = subprocess.run(['bash', os.path.join(ROOT, VENV_SCRIPT)], env=environ, capture_output=True, text=True, check=False)
    assert proc.returncode == 0 and proc.stderr == '', proc.stderr
    return proc.stdout.strip()


def test_venv_sh_default_is_per_requirements_under_home(tmp_path):
    path = _venv_sh(tmp_path)
    assert os.path.dirname(path) == str(tmp_path / '.cache')
    with open(os.path.join(ROOT, 'tests', 'requirements.txt'), 'rb') as handle:
        digest = hashlib.sha256(handle.read()).hexdigest()
    assert os.path.basename(path) == 'oci-registry-venv-' + digest[:12]


def test_venv_sh_honours_oci_registry_venv(tmp_path):
    assert _venv_sh(tmp_path, OCI_REGISTRY_VENV='/opt/tools/venv') == '/opt/tools/venv'


def test_the_tests_run_in_that_venv():
    """tests/run put this venv first on PATH: the same one demo/run and benchmarks/run-all use."""
    proc = subprocess.run(['bash', os.path.join(ROOT, VENV_SCRIPT)], capture_output=True, text=True, check=True)
    assert os.path.realpath(os.environ['PATH'].split(os.pathsep)[0]) == os.path.realpath(os.path.join(proc.stdout.strip(), 'bin'))
