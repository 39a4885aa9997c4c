# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What each module loads when it starts: only what its own work needs.

A task pays for every module it imports, on every run: the module_utils come from the AnsiballZ
zip and are compiled from source each time, and libraries such as cryptography take milliseconds
to import. So a module that only reads never loads the copy engine, the delete planner, the layout
store or auth-file writing; nothing loads a vendor's API file (Docker Hub, Google) or the
signature code until a task needs it; registry_tag and registry_sync load the signature code
only when ``verify`` is set, and registry_sync loads the delete planner only when it prunes.

Each module is imported in a fresh interpreter (after ``ansible.module_utils.basic``, which every
module loads) and what that import added to ``sys.modules`` is compared with the rule; the lazy
paths themselves (prune, verify, Docker Hub, Google) are run by their own tests.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import typing as t

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PACKAGE = 'ansible_collections.oci.registry.plugins.'
UTILS = PACKAGE + 'module_utils.'
MODULES = sorted(name[:-3] for name in os.listdir(os.path.join(ROOT, 'plugins', 'modules')) if name.endswith('.py') and name != '__init__.py')

READ_ONLY = {'registry_manifest_info', 'registry_tags_info', 'registry_search_info', 'registry_signature_info'}
SIGNS_OR_VERIFIES = {'registry_sign', 'registry_signature_info'}

# module_utils (and libraries) a module may load only when its own work needs them, by who may load them at start-up
ONLY_FOR = {
    'operations._copy': {'registry_tag', 'registry_sync', 'registry_archive'},
    'operations._delete': {'registry_repo_delete'},
    'operations._archive': {'registry_archive'},
    'stores._layout': {'registry_archive'},
    'wire._authwrite': {'registry_login'},
    'wire._authfile': {'registry_login'},
    'operations._signatures': SIGNS_OR_VERIFIES,
    'model._signature': SIGNS_OR_VERIFIES,
    'cryptography': SIGNS_OR_VERIFIES,
    'nacl': SIGNS_OR_VERIFIES,
    'client._hub': set(),
    'client._google': set(),
}

_PROBE = '''
import json, sys
import ansible.module_utils.basic
before = set(sys.modules)
import %s
print(json.dumps(sorted(set(sys.modules) - before)))
'''


def loaded_by(module: str) -> t.Set[str]:
    """Names a fresh interpreter adds to sys.modules when it imports the module: ours without the package prefix."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    out = subprocess.run([sys.executable, '-c', _PROBE % (PACKAGE + 'modules.' + module)], env=env, capture_output=True, text=True, check=True)
    names = json.loads(out.stdout)
    return {name[len(UTILS):] if name.startswith(UTILS) else name for name in names}


@pytest.fixture(scope='module')
def startup() -> t.Dict[str, t.Set[str]]:
    return {module: loaded_by(module) for module in MODULES}


def offending(module: str, loaded: t.Set[str]) -> t.List[str]:
    """What ``module`` loaded at start-up beyond what it may."""
    return sorted(name for name, allowed in ONLY_FOR.items()
                  if module not in allowed and any(got == name or got.startswith(name + '.') for got in loaded))


@pytest.mark.parametrize('module', MODULES)
def test_a_module_loads_only_what_its_work_needs(startup: t.Dict[str, t.Set[str]], module: str) -> None:
    assert offending(module, startup[module]) == []


@pytest.mark.parametrize('module', sorted(READ_ONLY))
def test_read_only_modules_load_nothing_that_writes(startup: t.Dict[str, t.Set[str]], module: str) -> None:
    writers = {'operations._copy', 'operations._delete', 'operations._archive', 'operations._sync', 'operations._tagging', 'wire._authwrite'}
    assert startup[module] & writers == set()


def test_the_probe_sees_what_a_module_loads(startup: t.Dict[str, t.Set[str]]) -> None:
    """The rule can fail: the probe reports the loads it is meant to catch."""
    assert {'client._client', 'wire._transport', 'urllib3'} <= startup['registry_manifest_info']
    assert {'operations._delete'} <= startup['registry_repo_delete']
    assert {'model._signature', 'cryptography'} <= startup['registry_sign']
    assert offending('registry_manifest_info', {'operations._delete', 'cryptography.hazmat', 'client._client'}) == ['cryptography', 'operations._delete']


@pytest.mark.parametrize('module', MODULES)
def test_a_module_imports_startup_before_any_other_file_of_the_collection(module: str) -> None:
    """_startup makes zipimport compile each later file once; a file imported before it is compiled twice."""
    with open(os.path.join(ROOT, 'plugins', 'modules', module + '.py'), encoding='utf-8') as handle:
        tree = ast.parse(handle.read())
    ours = [node for node in tree.body if isinstance(node, ast.ImportFrom) and (node.module or '').startswith('ansible_collections.oci.registry')]
    first = ours[0]
    assert (first.module, [alias.name for alias in first.names]) == ('ansible_collections.oci.registry.plugins.module_utils', ['_startup'])
