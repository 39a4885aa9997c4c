# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""plugins/module_utils is cut into layers, and each layer imports only from the layers below it.

    model       names, digests, manifests, referrers, options, errors, vendor facts: pure data, no I/O
    wire        transport, auth, credentials, auth files, rate limits: one HTTP conversation with one registry
    client      RegistryClient and the vendors' own APIs (Docker Hub, Google)
    stores      where images are read and written: a registry repository, an OCI image layout
    operations  what a module does: copy, tagging, tag selection, delete, archive, sync
    (top)       _module.py, the Ansible edge, and _startup.py, the import finder every module loads first;
                plugin_utils and the plugins themselves

A file may import from its own layer and from any layer below; an import from a layer above
fails here with the file and the import named.
"""

from __future__ import annotations

import ast
import os

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODULE_UTILS = os.path.join(ROOT, 'plugins', 'module_utils')
PACKAGE = 'ansible_collections.oci.registry.plugins.module_utils'
LAYERS = ('model', 'wire', 'client', 'stores', 'operations')
TOP = len(LAYERS)


def rank(layer: str) -> int:
    return LAYERS.index(layer) if layer in LAYERS else TOP


def layer_files():
    for directory, _dirs, files in os.walk(MODULE_UTILS):
        for name in sorted(files):
            if name.endswith('.py') and name != '__init__.py':
                path = os.path.join(directory, name)
                layer = os.path.relpath(directory, MODULE_UTILS)
                yield os.path.relpath(path, ROOT), ('' if layer == '.' else layer)


FILES = sorted(layer_files())


def import_froms(path: str):
    """Every ``from ... import`` of ``path``, wherever it is written (top level, type checking, functions)."""
    with open(os.path.join(ROOT, path), encoding='utf-8') as handle:
        tree = ast.parse(handle.read())
    return [node for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)]


def imported_layers(path: str, own_layer: str):
    for node in import_froms(path):
        if node.level == 1:
            yield own_layer, '.%s' % (node.module or '')
        elif node.level > 1:
            yield '<relative beyond its layer>', '.' * node.level + (node.module or '')
        elif node.module and node.module.startswith(PACKAGE + '.'):
            first = node.module[len(PACKAGE) + 1:].split('.')[0]
            yield (first if first in LAYERS else ''), node.module


def test_every_file_is_in_a_layer():
    outside = [path for path, layer in FILES if layer not in LAYERS and os.path.basename(path) not in ('_module.py', '_startup.py')]
    assert outside == [], 'module_utils files belong in one of %s' % (LAYERS,)


@pytest.mark.parametrize('path,layer', FILES)
def test_imports_come_from_below(path, layer):
    above = ['%s (layer %r above %r)' % (module, other or 'top', layer or 'top')
             for other, module in imported_layers(path, layer)
             if other not in LAYERS + ('',) or rank(other) > rank(layer)]
    assert above == []


def test_the_rule_catches_an_upward_import(tmp_path):
    """The checker itself: a model file importing the client is reported."""
    bad = tmp_path / 'bad.py'
    bad.write_text('from %s.client._client import RegistryClient\n' % PACKAGE)
    found = list(imported_layers(str(bad), 'model'))
    assert found == [('client', PACKAGE + '.client._client')]
    assert rank('client') > rank('model')


def test_a_layer_package_import_counts_as_that_layer(tmp_path):
    """`from <package>.model import _digest` is an import from the model layer, not from the top."""
    source = tmp_path / 'ok.py'
    source.write_text('from %s.model import _digest\n' % PACKAGE)
    assert list(imported_layers(str(source), 'wire')) == [('model', PACKAGE + '.model')]


def file_imports(path: str, layer: str):
    """The module_utils files ``path`` imports (``<layer>/<name>``), wherever the import is written (type checking, functions too)."""
    for node in import_froms(path):
        if node.level == 1:
            targets = [node.module] if node.module else [alias.name for alias in node.names]
            yield from ('%s/%s' % (layer, name) for name in targets)
        elif node.module and node.module.startswith(PACKAGE + '.'):
            yield '/'.join(node.module[len(PACKAGE) + 1:].split('.'))


def find_cycle(graph):
    """One import cycle of ``graph`` ({file: set of files}) as a list of files, or [] when there is none."""
    state, stack = {}, []

    def visit(node):
        state[node] = 'open'
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 'open':
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        state[node] = 'done'
        stack.pop()
        return []

    for start in sorted(graph):
        if start not in state:
            found = visit(start)
            if found:
                return found
    return []


def test_no_file_imports_itself_back():
    """No two module_utils files import each other, even only for type checking: each concept can be read from the bottom up."""
    graph = {}
    for path, layer in FILES:
        name = os.path.relpath(path, os.path.relpath(MODULE_UTILS, ROOT))[:-3]
        graph[name] = set(file_imports(path, layer))
    assert find_cycle(graph) == []


def test_the_cycle_rule_catches_a_cycle():
    assert find_cycle({'client/_client': {'client/_google'}, 'client/_google': {'client/_client'}}) == [
        'client/_client', 'client/_google', 'client/_client']
    assert find_cycle({'a': {'b'}, 'b': set()}) == []
