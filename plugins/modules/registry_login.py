#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
module: registry_login
short_description: Check registry credentials and keep them in a docker or podman auth file for later steps
version_added: 0.1.0
description:
  - Checks credentials against a registry and stores them in a docker C(config.json) or podman C(auth.json)
    auth file, as C(docker login), C(podman login), C(crane auth login) and C(regctl registry login) do, so that later
    steps which call other tools (podman, buildah, skopeo, helm, docker) find them. With O(state=absent) it removes
    the registry's entry again, as C(docker logout) does.
  - >-
    The entry is C({"auths": {"<registry>": {"auth": "<base64 of user:password>"}}}), or C(identitytoken) for O(token).
    Docker Hub is written under C(https://index.docker.io/v1/), other registries under their C(host[:port]). When the
    file already has the registry under another spelling (C(https://host), C(docker.io), ...) that entry is updated
    instead, so no reader finds an old secret first. Every other key and entry of the file is kept, including
    podman's repository-scoped entries (C(quay.io/org)) of the same registry.
  - The file is replaced atomically (a temporary file in the same directory, then a rename), with mode C(0600); a
    missing parent directory is created with mode C(0700). A symbolic link to the file stays a link; its target is replaced.
  - When the file names a credential helper for the registry (its C(credHelpers) entry, or C(credsStore)), the secret
    is stored with C(docker-credential-<name> store) and removed with C(docker-credential-<name> erase), as docker does,
    and the file keeps no secret for the registry (with C(credsStore) its C(auths) entry is an empty C({})).
  - The secret never appears in the result, the diff, a warning or an error, at any verbosity.
  - Other modules of this collection read the written entry (see O(auth_method)), but only when no earlier source
    has credentials for the registry.
author:
  - oci.registry maintainers (@oci-registry)
extends_documentation_fragment:
  - oci.registry._registry
  - oci.registry._attributes
options:
  registry:
    description:
      - The registry to log in to, as C(host[:port]) (V(registry.example.com:5000), V(quay.io), V(ghcr.io)).
        Docker Hub is V(docker.io) (V(index.docker.io) and V(registry-1.docker.io) are the same).
      - No scheme, no path and no trailing C(/), as in every option that names a registry. The connection uses the
        common options (O(plain_http), O(ca_cert), O(validate_certs)).
    type: str
    required: true
  state:
    description:
      - V(present) checks the credentials (see O(verify)) and stores them. They come from O(username) and
        O(password), or from O(token) (stored as an identity token), or from their E(OCI_REGISTRY_*) environment
        variables; auth files and credential helpers are not used to find them.
      - V(absent) removes the registry's entries (every registry-wide spelling of its key; repository-scoped entries
        stay) and erases its secret from a configured credential helper. It needs no credentials and sends no request.
    type: str
    choices: [present, absent]
    default: present
  auth_file:
    description:
      - The auth file to change.
      - When not set, the first of these is used, E(REGISTRY_AUTH_FILE) (the podman/buildah/skopeo auth file);
        the O(docker_config) option or E(DOCKER_CONFIG) (C(config.json) in that directory, or that file when it
        is a C(.json) file); C($XDG_RUNTIME_DIR/containers/auth.json) when E(XDG_RUNTIME_DIR) is set (podman's
        default); C(~/.docker/config.json) (docker's default). RV(auth_file_source) says which one applied.
      - Point later tools at the same file (C(podman --authfile), C(skopeo --authfile), E(REGISTRY_AUTH_FILE),
        C(DOCKER_CONFIG) for a C(config.json) in a directory).
    type: path
  verify:
    description:
      - Before anything is written, ping the registry and send an authenticated request with the credentials
        (on a token registry, after fetching a token, the way C(docker login) checks them), so that wrong credentials
        fail the task and leave the file unchanged. Also done in check mode.
      - A registry that asks for no credentials accepts any; RV(verified) is then V(false).
      - V(false) stores the credentials without contacting the registry.
    type: bool
    default: true
notes:
  - The secret is written in clear (base64 is no encryption) unless a credential helper is configured, as with
    C(docker login). Use a file on a private, short-lived path in CI and remove it (O(state=absent)) when done.
  - The module runs on the host that runs the task, and writes the auth file there.
seealso:
  - module: oci.registry.registry_manifest_info
  - name: containers-auth.json(5)
    description: The podman auth file format, including repository-scoped keys.
    link: https://github.com/containers/image/blob/main/docs/containers-auth.json.5.md
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details: Check mode still verifies the credentials against the registry (a read), but writes nothing.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: full
    details: The registry's entries before and after, as the user logged in; never the secret.
  idempotent:
    description: When run twice in a row with the same input, the second run reports no change.
    support: full
'''

EXAMPLES = r'''
- name: Log in for a later podman step (an AWX job template with a custom credential type injecting OCI_REGISTRY_*)
  oci.registry.registry_login:
    registry: registry.example.com
    auth_file: "{{ lookup('ansible.builtin.env', 'HOME') }}/.config/containers/auth.json"
  # username and password come from OCI_REGISTRY_USERNAME / OCI_REGISTRY_PASSWORD

- name: Push with podman, using the same auth file
  ansible.builtin.command:
    cmd: >-
      podman push --authfile {{ lookup('ansible.builtin.env', 'HOME') }}/.config/containers/auth.json
      registry.example.com/team/app:1.4.2
  changed_when: true

- name: Log in to Docker Hub in docker's config for a later docker or helm step
  oci.registry.registry_login:
    registry: docker.io
    username: deploybot
    password: "{{ vault_dockerhub_token }}"
    auth_file: /home/ci/.docker/config.json

- name: Log in to a self-hosted registry with its own CA, in a job-private file
  oci.registry.registry_login:
    registry: registry.internal:5000
    ca_cert: /etc/pki/registry-ca.pem
    username: deploy
    password: "{{ vault_registry_password }}"
    auth_file: "{{ job_dir }}/auth.json"
  register: login

- name: Copy with skopeo using that file
  ansible.builtin.command:
    cmd: >-
      skopeo copy --authfile {{ login.auth_file }} --dest-cert-dir /etc/pki/registry-certs
      docker://registry.internal:5000/team/app:1.4.2 docker://registry.internal:5000/team/app:stable
  changed_when: true

- name: Log out again when the job is done
  oci.registry.registry_login:
    registry: registry.internal:5000
    state: absent
    auth_file: "{{ job_dir }}/auth.json"
'''

RETURN = r'''
registry:
  description: The registry, normalized (V(docker.io) for Docker Hub).
  returned: always
  type: str
  sample: registry.example.com:5000
auth_file:
  description: The auth file that was (or, in check mode, would be) changed.
  returned: always
  type: str
  sample: /home/ci/.docker/config.json
auth_file_source:
  description: What chose RV(auth_file), V(auth_file), V(REGISTRY_AUTH_FILE), V(docker_config), V(XDG_RUNTIME_DIR) or V(default).
  returned: always
  type: str
  sample: auth_file
auth_keys:
  description: The C(auths) keys of the registry in the file after the task (before it, for O(state=absent)).
  returned: always
  type: list
  elements: str
  sample: ["registry.example.com:5000"]
credential_helper:
  description: The credential helper (C(docker-credential-<name>)) that holds the secret, V(null) when the file holds it.
  returned: always
  type: str
  sample: null
verified:
  description: Whether the registry accepted the credentials (V(false) when O(verify=false), for O(state=absent),
    or when the registry asks for no credentials).
  returned: always
  type: bool
  sample: true
diff:
  description: The registry's entries before and after, key -> who is logged in. Never the secret.
  returned: always
  type: dict
  sample: {"before": {}, "after": {"registry.example.com:5000": "user deploy"}}
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.oci.registry.plugins.module_utils import _startup  # pylint: disable=unused-import  # first: see there
from ansible_collections.oci.registry.plugins.module_utils.model._errors import InvalidInputError
from ansible_collections.oci.registry.plugins.module_utils.model._options import parse_registry
from ansible_collections.oci.registry.plugins.module_utils.wire._authfile import default_auth_file
from ansible_collections.oci.registry.plugins.module_utils.wire._authwrite import AuthFile, apply, plan
from ansible_collections.oci.registry.plugins.module_utils._module import registry_argspec, run_module


def run(client, params, check_mode):
    registry = parse_registry(params['registry'])
    path, chosen_by = (params['auth_file'], 'auth_file') if params['auth_file'] else default_auth_file(params['docker_config'])
    auth = AuthFile(path).load()
    creds, verified = None, False
    if params['state'] == 'present':
        creds = client.options.explicit_credentials()
        if creds is None:
            raise InvalidInputError('state=present needs the credentials to store: username and password, or token '
                                    '(or OCI_REGISTRY_USERNAME and OCI_REGISTRY_PASSWORD, or OCI_REGISTRY_TOKEN)')
        if params['verify']:  # before anything is written: refused credentials leave the file as it was
            verified = client.check_credentials(registry, creds) is not None
    keys_before = auth.keys(registry.registry)
    change = plan(auth, registry.registry, creds)
    if change.changed and not check_mode:
        apply(auth, change, registry.registry, creds)
    helper = auth.helper(registry.registry)
    return {
        'changed': change.changed, 'registry': registry.registry, 'auth_file': path, 'auth_file_source': chosen_by,
        'verified': verified, 'auth_keys': auth.keys(registry.registry) if creds else keys_before,
        'credential_helper': 'docker-credential-%s' % helper[0] if helper else None,
        'diff': {'before': change.before, 'after': change.after},
    }


def main():
    module = AnsibleModule(
        argument_spec=registry_argspec(
            registry={'type': 'str', 'required': True},
            state={'type': 'str', 'default': 'present', 'choices': ['present', 'absent']},
            auth_file={'type': 'path'},
            verify={'type': 'bool', 'default': True},
        ),
        supports_check_mode=True,
    )
    run_module(module, run)


if __name__ == '__main__':
    main()
