# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The reference filter and test through ansible-doc, from the installed collection (their results in a playbook
are the ansible-test target tests/integration/targets/filter_reference)."""

from __future__ import annotations

import json
import os
import subprocess

import pytest
import yaml

from conftest import BIN_DIR, assert_ok


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
