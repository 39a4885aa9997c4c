# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""House rules about the shape of the code, checked on every file of plugins/.

- No function grows past 60 lines: past that a function does more than one thing.
- Read-only modules never import the copy engine (it is the only code that writes images).
- Comments and docstrings give the reason in place: no issue numbers and no design notes that
  live outside the repository, which a newcomer reading the code cannot open.
"""

from __future__ import annotations

import ast
import os
import re

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PLUGINS = os.path.join(ROOT, 'plugins')
MAX_FUNCTION_LINES = 60
READ_ONLY = ('registry_manifest_info', 'registry_tags_info', 'registry_search_info', 'registry_signature_info')
OUTSIDE_CITATION = re.compile(r'\bissues? #?\d+|\(issue\b|DESIGN\.md|VENDOR-APIS|REGISTRY-FACTS|TESTING\.md|STYLE\.md', re.IGNORECASE)


def plugin_files():
    for directory, _dirs, files in os.walk(PLUGINS):
        for name in sorted(files):
            if name.endswith('.py'):
                yield os.path.relpath(os.path.join(directory, name), ROOT)


FILES = sorted(plugin_files())


@pytest.mark.parametrize('path', FILES)
def test_functions_stay_short(path):
    with open(os.path.join(ROOT, path), encoding='utf-8') as handle:
        tree = ast.parse(handle.read())
    long_ones = ['%s (%d lines)' % (node.name, node.end_lineno - node.lineno + 1) for node in ast.walk(tree)
                 if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES]
    assert long_ones == []


@pytest.mark.parametrize('path', FILES + ['meta/runtime.yml'])
def test_no_citations_a_newcomer_cannot_follow(path):
    with open(os.path.join(ROOT, path), encoding='utf-8') as handle:
        cited = ['%d: %s' % (number, line.strip()) for number, line in enumerate(handle, 1) if OUTSIDE_CITATION.search(line)]
    assert cited == []


@pytest.mark.parametrize('module', READ_ONLY)
def test_read_only_modules_do_not_import_the_copy_engine(module):
    with open(os.path.join(PLUGINS, 'modules', module + '.py'), encoding='utf-8') as handle:
        tree = ast.parse(handle.read())
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
    assert not [name for name in imported if name.endswith(('._copy', '._archive', '._sync'))]
