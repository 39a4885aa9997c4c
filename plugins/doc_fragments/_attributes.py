# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# This is a private doc fragment of oci.registry: do not use it from other collections.

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r'''
options: {}
attributes:
  action_group:
    description: Use C(group/oci.registry.registry) in C(module_defaults) to set defaults for this module.
    support: full
    membership:
      - oci.registry.registry
'''

    INFO_MODULE = r'''
options: {}
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details: This module only reads from the registry.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: N/A
    details: This module does not change anything.
  idempotent:
    description: When run twice in a row with the same input, the second run reports no change.
    support: full
'''
