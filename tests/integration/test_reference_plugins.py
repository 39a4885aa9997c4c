# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The reference filter and test through ansible-playbook and ansible-doc, from the installed collection."""

from __future__ import annotations

import json
import os
import subprocess

import pytest
import yaml

from conftest import BIN_DIR, assert_ok

SHA = 'sha256:' + 'cd' * 32


def test_filter_and_test_in_a_playbook(ansible, tmp_path):
    out = tmp_path / 'result.json'
    run = ansible.playbook('''
        - name: Parse
          ansible.builtin.set_fact:
            parsed: "{{ images | map('oci.registry.reference') | list }}"
            bare: "{{ 'ghcr.io/org/app' | oci.registry.reference(default_tag=None) }}"
            valid: "{{ candidates | select('oci.registry.reference') | list }}"
        - name: Save
          ansible.builtin.copy:
            content: "{{ {'parsed': parsed, 'bare': bare, 'valid': valid} | to_json }}"
            dest: "{{ out }}"
            mode: '0600'
        ''', extra_vars={'out': str(out), 'images': ['nginx', 'localhost:5000/team/app:1.4@' + SHA],
                         'candidates': ['ghcr.io/org/app:2.0', 'https://ghcr.io/org/app', 'Team/App', 'localhost:5000/x']})
    assert_ok(run)
    result = json.loads(out.read_text())
    assert result['parsed'] == [
        {'registry': 'docker.io', 'repository': 'library/nginx', 'tag': 'latest', 'digest': None,
         'name': 'docker.io/library/nginx', 'normalized': 'docker.io/library/nginx:latest'},
        {'registry': 'localhost:5000', 'repository': 'team/app', 'tag': '1.4', 'digest': SHA,
         'name': 'localhost:5000/team/app', 'normalized': 'localhost:5000/team/app:1.4@' + SHA},
    ]
    assert result['bare']['tag'] is None and result['bare']['normalized'] == 'ghcr.io/org/app'
    assert result['valid'] == ['ghcr.io/org/app:2.0', 'localhost:5000/x']


def test_invalid_reference_fails_the_task_naming_it(ansible):
    run = ansible.playbook('''
        - name: Parse a URL
          ansible.builtin.debug:
            msg: "{{ 'https://ghcr.io/org/app' | oci.registry.reference }}"
        ''')
    assert run.rc == 2, run.output
    assert 'oci.registry.reference: invalid image reference "https://ghcr.io/org/app": remove the scheme' in run.output
    assert 'Traceback' not in run.output


@pytest.mark.parametrize('kind', ['filter', 'test'])
def test_ansible_doc_renders(ansible_env, kind):
    proc = subprocess.run([os.path.join(BIN_DIR, 'ansible-doc'), '-t', kind, '--json', 'oci.registry.reference'], env=ansible_env,
                          capture_output=True, text=True, check=True)
    plugin = json.loads(proc.stdout)['oci.registry.reference']
    assert plugin['doc']['name'] == 'reference'
    assert '_input' in plugin['doc']['options']
    assert plugin['return']['_value']['type'] == ('dict' if kind == 'filter' else 'bool')
    examples = yaml.safe_load(plugin['examples'])
    assert examples and all('name' in task for task in examples)


@pytest.mark.parametrize('kind', ['filter', 'test'])
def test_examples_run(ansible, tmp_path, ansible_env, kind):
    """The examples need no registry: run them, not just syntax-check them."""
    proc = subprocess.run([os.path.join(BIN_DIR, 'ansible-doc'), '-t', kind, '--json', 'oci.registry.reference'], env=ansible_env,
                          capture_output=True, text=True, check=True)
    examples = yaml.safe_load(json.loads(proc.stdout)['oci.registry.reference']['examples'])
    play = tmp_path / 'examples.yml'
    play.write_text(yaml.safe_dump([{'hosts': 'localhost', 'gather_facts': False, 'tasks': examples}], sort_keys=False))
    assert_ok(ansible.run_cli([os.path.join(BIN_DIR, 'ansible-playbook'), '-i', 'localhost,', '-c', 'local', str(play)]))
