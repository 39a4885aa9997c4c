# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# This is a private plugin_utils file of oci.registry: do not use it from other collections.
"""Lookup glue: plugin options -> one RegistryClient, RegistryError -> AnsibleLookupError."""

from __future__ import annotations

import typing as t

from ansible.errors import AnsibleLookupError
from ansible.plugins.lookup import LookupBase

from ansible_collections.oci.registry.plugins.module_utils.model._errors import RegistryError
from ansible_collections.oci.registry.plugins.module_utils.wire._connection import ConnectionOptions
from ansible_collections.oci.registry.plugins.module_utils.wire._transport import HAS_URLLIB3
from ansible_collections.oci.registry.plugins.module_utils.client._client import RegistryClient
from ansible_collections.oci.registry.plugins.module_utils._module import check_connection_options


class RegistryLookupBase(LookupBase):
    """A lookup that talks to registries: one client per run, shared by every term."""

    def registry_client(self) -> RegistryClient:
        if not HAS_URLLIB3:  # urllib3 comes with requests
            raise AnsibleLookupError('the oci.registry lookups need the Python library "requests" on the controller: pip install requests')
        options = ConnectionOptions.from_getter(self.get_option)
        problem = check_connection_options(options)
        if problem:
            raise AnsibleLookupError(problem)
        return RegistryClient(options)


def lookup_error(term: t.Any, exc: RegistryError) -> AnsibleLookupError:
    """The one translation of a registry error for lookups: it names the term that failed."""
    return AnsibleLookupError('term %r: %s' % (term, exc.message))
