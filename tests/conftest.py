# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Make ``ansible_collections.oci.registry`` importable through Ansible's own collection loader.

The tests run from a staged copy at ``<root>/ansible_collections/oci/registry`` (tests/run makes
it). Installing the collection finder, as ansible-test's pytest plugin does, lets tests load the
lookup through the real plugin loader with its option definitions.
"""

from __future__ import annotations

import os

from ansible.utils.collection_loader._collection_finder import _AnsibleCollectionFinder

COLLECTION_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PATHS_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(COLLECTION_ROOT)))

if os.path.basename(os.path.dirname(os.path.dirname(COLLECTION_ROOT))) != 'ansible_collections':
    raise RuntimeError('run the tests from a staged tree <dir>/ansible_collections/oci/registry: use "bash tests/run"')

_AnsibleCollectionFinder(paths=[PATHS_ROOT], scan_sys_paths=False)._install()  # pylint: disable=protected-access
