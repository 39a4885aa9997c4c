# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# This is a private module_utils file of oci.registry: do not use it from other collections.
"""Compile each of this collection's module_utils files once when a module runs from its AnsiballZ zip.

Ansible runs a module from a zip that carries module_utils as source, so every task compiles
them. Python's ``zipimport`` compiles a source file twice per import (Python 3.8 to 3.14 at
least): once when the import system asks ``get_filename()`` for the module's spec, and again in
``exec_module()`` to run it. That doubles the largest part of a module's start-up that is ours.

Every module imports this file before any other file of the collection. When this file itself
came from a zip, it puts a finder first on ``sys.meta_path`` that answers only for names under
this package: it builds the spec from the zip's table of contents (no compiling) and hands the
loading to the zip's own ``zipimporter``, which compiles the file once. Anything else (another
package, a path that is not a zip, a name the zip does not hold) it leaves to the normal import
system. Run from files on disk (the controller, tests, an exploded module) it installs nothing.
"""

from __future__ import annotations

import importlib.machinery
import sys
import typing as t
import zipimport

PACKAGE = __name__.rpartition('.')[0] + '.'


class CompileOnceFinder:
    """A meta path finder for this package's modules inside a zip: specs from the zip's contents, loading by zipimport."""

    def __init__(self, package: str = PACKAGE) -> None:
        self.package = package

    def find_spec(self, fullname: str, path: t.Optional[t.Sequence[str]] = None, target: t.Any = None) -> t.Optional[importlib.machinery.ModuleSpec]:
        if not fullname.startswith(self.package) or not path:
            return None
        for entry in path:
            spec = _zip_spec(fullname, entry)
            if spec is not None:
                return spec
        return None

    def invalidate_caches(self) -> None:
        """Nothing cached here: the zipimporters are the import system's own."""


def _zip_spec(fullname: str, entry: str) -> t.Optional[importlib.machinery.ModuleSpec]:
    """The spec zipimport would build for ``fullname`` under the path entry ``entry``, without compiling; None if not there."""
    importer = sys.path_importer_cache.get(entry)
    if importer is None:
        try:
            importer = sys.path_importer_cache[entry] = zipimport.zipimporter(entry)
        except (zipimport.ZipImportError, OSError, ValueError):
            return None
    if not isinstance(importer, zipimport.zipimporter):
        return None
    try:
        package = importer.is_package(fullname)  # reads the zip's table of contents only
    except zipimport.ZipImportError:
        return None
    base = '%s/%s' % (entry.rstrip('/'), fullname.rpartition('.')[2])
    spec = importlib.machinery.ModuleSpec(fullname, importer, origin=base + ('/__init__.py' if package else '.py'), is_package=package)
    if package:
        spec.submodule_search_locations = [base]
    spec.has_location = True
    return spec


def install(loader: t.Any = globals().get('__loader__')) -> bool:
    """Put the finder first on sys.meta_path when this file was loaded from a zip (once); True when it is there."""
    if not isinstance(loader, zipimport.zipimporter):
        return False
    if not any(isinstance(finder, CompileOnceFinder) for finder in sys.meta_path):
        sys.meta_path.insert(0, CompileOnceFinder())
    return True


install()
