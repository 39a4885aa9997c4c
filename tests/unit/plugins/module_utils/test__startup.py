# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""_startup: module_utils imported from a zip, as Ansible runs a module, are compiled once each.

Each case builds a zip shaped like an AnsiballZ payload (this collection's package path, the
real _startup.py, a layer package with two files, one importing the other) and imports from it
in a fresh interpreter that counts Python's ``compile`` audit events per file. Without the
finder, zipimport compiles every file twice; that case runs too, so the test fails if the
finder stops working and shows why it exists.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import typing as t
import zipfile

from ansible_collections.oci.registry.plugins.module_utils import _startup

PACKAGE = 'ansible_collections/oci/registry/plugins/module_utils'

_PROBE = '''
import collections, json, sys
sys.path.insert(0, %(zip)r)
counts = collections.Counter()
sys.addaudithook(lambda event, args: counts.update([args[1].split('.zip/')[-1]]) if event == 'compile' and '.zip/' in str(args[1]) else None)
if %(startup)r:
    from ansible_collections.oci.registry.plugins.module_utils import _startup
    assert _startup.install() is True
from ansible_collections.oci.registry.plugins.module_utils.layer import _first
print(json.dumps({'counts': counts, 'value': _first.VALUE, 'file': _first.__file__, 'package_path': _first.PACKAGE_PATH,
                  'finders': [type(f).__name__ for f in sys.meta_path]}))
'''


def payload(tmp_path: t.Any) -> str:
    """A zip holding the collection's package path, the real _startup.py and a small layer package."""
    path = os.path.join(str(tmp_path), 'payload.zip')
    with zipfile.ZipFile(path, 'w') as archive:
        for level in ('ansible_collections', 'ansible_collections/oci', 'ansible_collections/oci/registry',
                      'ansible_collections/oci/registry/plugins', PACKAGE):
            archive.writestr(level + '/__init__.py', '')
        with open(_startup.__file__, encoding='utf-8') as handle:
            archive.writestr(PACKAGE + '/_startup.py', handle.read())
        archive.writestr(PACKAGE + '/layer/__init__.py', 'PACKAGE_FILE = __file__\n')
        archive.writestr(PACKAGE + '/layer/_first.py', 'from ._second import VALUE\nfrom . import PACKAGE_FILE as PACKAGE_PATH\n')
        archive.writestr(PACKAGE + '/layer/_second.py', 'VALUE = 42\n')
    return path


def probe(tmp_path: t.Any, startup: bool) -> t.Dict[str, t.Any]:
    zip_path = payload(tmp_path)
    out = subprocess.run([sys.executable, '-I', '-c', _PROBE % {'zip': zip_path, 'startup': startup}],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def test_each_file_is_compiled_once_through_the_finder(tmp_path: t.Any) -> None:
    result = probe(tmp_path, startup=True)
    ours = {name: count for name, count in result['counts'].items() if '/layer/' in name}
    assert ours == {PACKAGE + '/layer/__init__.py': 1, PACKAGE + '/layer/_first.py': 1, PACKAGE + '/layer/_second.py': 1}
    assert result['value'] == 42  # a relative import inside the package works
    assert result['file'].endswith('payload.zip/' + PACKAGE + '/layer/_first.py')
    assert result['package_path'].endswith('payload.zip/' + PACKAGE + '/layer/__init__.py')
    assert result['finders'][0] == 'CompileOnceFinder' and result['finders'].count('CompileOnceFinder') == 1


def test_without_the_finder_zipimport_compiles_each_file_twice(tmp_path: t.Any) -> None:
    result = probe(tmp_path, startup=False)
    ours = {name: count for name, count in result['counts'].items() if '/layer/' in name}
    assert ours == {PACKAGE + '/layer/__init__.py': 2, PACKAGE + '/layer/_first.py': 2, PACKAGE + '/layer/_second.py': 2}
    assert 'CompileOnceFinder' not in result['finders']


def test_files_on_disk_install_nothing() -> None:
    assert _startup.install(loader=None) is False
    assert not any(isinstance(finder, _startup.CompileOnceFinder) for finder in sys.meta_path)


def test_the_finder_leaves_other_names_and_paths_alone(tmp_path: t.Any) -> None:
    finder = _startup.CompileOnceFinder()
    assert finder.find_spec('json', None) is None
    assert finder.find_spec(_startup.PACKAGE + 'model._digest', [str(tmp_path)]) is None  # a directory, not a zip
    zip_path = payload(tmp_path)
    assert finder.find_spec(_startup.PACKAGE + 'layer._missing', [zip_path + '/' + PACKAGE + '/layer']) is None
    spec = finder.find_spec(_startup.PACKAGE + 'layer._second', [zip_path + '/' + PACKAGE + '/layer'])
    assert spec is not None and spec.origin == zip_path + '/' + PACKAGE + '/layer/_second.py' and spec.submodule_search_locations is None
