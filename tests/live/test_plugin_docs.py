# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The installed collection's docs: EXAMPLES parse and pass ansible-playbook --syntax-check, ansible-doc renders."""

from __future__ import annotations

import ast
import glob
import json
import os
import subprocess

import pytest
import yaml

from conftest import BIN_DIR, COLLECTION_ROOT, assert_ok


def _discover():
    """Every module and lookup of the collection: a new plugin is checked without anyone listing it."""
    found = []
    for kind, folder in (('module', 'modules'), ('lookup', 'lookup')):
        for path in sorted(glob.glob(os.path.join(COLLECTION_ROOT, 'plugins', folder, '*.py'))):
            name = os.path.basename(path)[:-3]
            if not name.startswith('_'):
                found.append((kind, name, os.path.relpath(path, COLLECTION_ROOT)))
    return found


PLUGINS = _discover()


def test_every_plugin_is_discovered():
    names = {name for _kind, name, _path in PLUGINS}
    assert {'registry_manifest_info', 'registry_tag', 'registry_tags_info', 'registry_search_info', 'registry_repo_delete',
            'registry_login', 'registry_archive', 'registry_sign', 'registry_signature_info', 'digest'} <= names


def _docs(path):
    """DOCUMENTATION, EXAMPLES and RETURN of a plugin file, read without importing it."""
    with open(os.path.join(COLLECTION_ROOT, path), encoding='utf-8') as handle:
        tree = ast.parse(handle.read())
    return {node.targets[0].id: ast.literal_eval(node.value) for node in tree.body
            if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name) and node.targets[0].id.isupper()}


@pytest.mark.parametrize('kind,name,path', PLUGINS)
def test_examples_pass_syntax_check(ansible, tmp_path, kind, name, path):
    """The examples point at registries that do not exist here, so their syntax is what can be checked."""
    examples = yaml.safe_load(_docs(path)['EXAMPLES'])
    assert isinstance(examples, list) and examples
    assert all('name' in task for task in examples), examples
    # Galaxy's importer lints EXAMPLES as a list of tasks: a whole play belongs in examples/.
    plays = [task['name'] for task in examples if 'hosts' in task]
    assert not plays, 'EXAMPLES of %s hold plays (move them to examples/): %s' % (name, plays)
    play = tmp_path / 'examples.yml'
    play.write_text(yaml.safe_dump([{'hosts': 'localhost', 'gather_facts': False, 'tasks': examples}], sort_keys=False))
    assert_ok(ansible.run_cli([os.path.join(BIN_DIR, 'ansible-playbook'), '--syntax-check', '-i', 'localhost,', str(play)]))


EXAMPLE_PLAYBOOKS = sorted(os.path.relpath(path, COLLECTION_ROOT) for path in glob.glob(os.path.join(COLLECTION_ROOT, 'examples', '*.yml')))


def test_example_playbooks_are_found():
    assert {'examples/promote.yml', 'examples/retention.yml', 'examples/archive_transfer.yml'} <= set(EXAMPLE_PLAYBOOKS)


@pytest.mark.parametrize('path', EXAMPLE_PLAYBOOKS)
def test_example_playbooks_pass_syntax_check(ansible, path):
    """The ready playbooks of examples/ against the installed collection (their modules and roles resolve)."""
    assert_ok(ansible.run_cli([os.path.join(BIN_DIR, 'ansible-playbook'), '--syntax-check', '-i', 'localhost,',
                               os.path.join(COLLECTION_ROOT, path)]))


@pytest.mark.parametrize('kind,name,path', PLUGINS)
def test_ansible_doc_renders_every_option(ansible_env, kind, name, path):
    proc = subprocess.run([os.path.join(BIN_DIR, 'ansible-doc'), '-t', kind, '--json', 'oci.registry.' + name], env=ansible_env,
                          capture_output=True, text=True, check=True)
    doc = json.loads(proc.stdout)['oci.registry.' + name]['doc']
    documented = set(doc['options'])
    for option in ('username', 'password', 'token', 'auth_method', 'docker_config', 'validate_certs', 'ca_cert', 'plain_http',
                   'timeout', 'retries'):
        assert option in documented, option
    declared = yaml.safe_load(_docs(path)['DOCUMENTATION'])['options']
    assert set(declared) <= documented
