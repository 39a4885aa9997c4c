# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
name: digest
short_description: Resolve container image references to digests
version_added: 0.1.0
description:
  - Resolves each term, an image reference such as C(registry.example.com/team/app:1.4), to the digest its tag points at,
    by asking the registry directly (HEAD on the manifest; no pull, and on Docker Hub no pull-limit cost).
  - Terms are resolved concurrently, and every term on the same registry shares one connection, one ping and one token.
  - A missing image fails the lookup with an error naming the term.
author:
  - oci.registry maintainers (@oci-registry)
extends_documentation_fragment:
  - oci.registry._registry.PLUGIN
options:
  _terms:
    description: Image references, C([registry[:port]/]repository[:tag][@digest]).
    required: true
    type: list
    elements: str
  platform:
    description:
      - For multi-arch images, return the digest of the child for this platform, C(os/architecture[/variant]).
      - Costs one manifest GET per multi-arch term (on Docker Hub, a GET counts against the pull limit).
    type: str
  output:
    description:
      - V(digest) returns C(sha256:...).
      - V(reference) returns the normalized reference pinned to the digest, C(registry/repository@sha256:...).
    type: str
    default: digest
    choices: [digest, reference]
  workers:
    description: How many terms are resolved at the same time.
    type: int
    default: 8
notes:
  - Runs on the controller, so credentials and certificates are the controller's.
  - Returns a list with one entry per term, in the order of the terms.
seealso:
  - module: oci.registry.registry_manifest_info
'''

EXAMPLES = r'''
- name: Pin an image by digest
  ansible.builtin.debug:
    msg: "{{ lookup('oci.registry.digest', 'docker.io/library/nginx:1.27') }}"

- name: Resolve several images at once, as pinned references
  ansible.builtin.set_fact:
    pinned: "{{ query('oci.registry.digest', 'registry.example.com/team/api:2.1', 'registry.example.com/team/web:2.1',
                      output='reference') }}"

- name: The arm64 image of a multi-arch tag, on a registry with its own CA
  ansible.builtin.set_fact:
    arm_digest: "{{ lookup('oci.registry.digest', 'registry.internal:5000/base/debian:12', platform='linux/arm64',
                           ca_cert='/etc/pki/registry-ca.pem') }}"
'''

RETURN = r'''
_raw:
  description: One digest (C(sha256:...)) or, with O(output=reference), one C(registry/repository@digest) per term.
  type: list
  elements: str
'''

from ansible.errors import AnsibleLookupError

from ansible_collections.oci.registry.plugins.plugin_utils._lookup import RegistryLookupBase, lookup_error
from ansible_collections.oci.registry.plugins.module_utils.model._errors import RegistryError
from ansible_collections.oci.registry.plugins.module_utils.model._options import check_workers, parse_image, parse_platform
from ansible_collections.oci.registry.plugins.module_utils.operations._pool import bounded_map


class LookupModule(RegistryLookupBase):

    def run(self, terms, variables=None, **kwargs):
        self.set_options(var_options=variables, direct=kwargs)
        output = self.get_option('output')
        try:
            workers = check_workers(self.get_option('workers'))
            platform = parse_platform(self.get_option('platform'))
            refs = [parse_image(term, option='term %r' % (term,)) for term in terms]
        except RegistryError as exc:
            raise AnsibleLookupError(exc.message) from None
        client = self.registry_client()

        def resolve(term_ref):
            term, ref = term_ref
            try:
                found = client.resolve(ref, platform=platform)
            except RegistryError as exc:
                raise lookup_error(term, exc) from None
            digest = found.platform_digest or found.digest
            return digest if output == 'digest' else '%s@%s' % (ref.name, digest)

        return bounded_map(resolve, list(zip(terms, refs)), workers)
