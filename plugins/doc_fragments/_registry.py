# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# This is a private doc fragment of oci.registry: do not use it from other collections.

from __future__ import annotations


class ModuleDocFragment:
    # Connection and authentication options shared by every module. Keep in lockstep with
    # REGISTRY_ARGSPEC in plugins/module_utils/_module.py (a unit test compares them).
    DOCUMENTATION = r'''
options:
  username:
    description:
      - User name for the registry (Basic auth, and the user presented to a token server).
      - For Google Artifact Registry and GCR use V(oauth2accesstoken) with an access token as O(password),
        or V(_json_key) with the content of a service-account key file as O(password).
      - For AWS ECR use V(AWS) with the password from C(aws ecr get-login-password).
      - If not set, the environment variable E(OCI_REGISTRY_USERNAME) is used.
    type: str
  password:
    description:
      - Password or personal access token for O(username).
      - If not set, the environment variable E(OCI_REGISTRY_PASSWORD) is used.
      - Never shown in any output, at any verbosity.
    type: str
  token:
    description:
      - "A ready bearer token, sent as C(Authorization: Bearer <token>)."
      - If the registry refuses it and uses a token server, it is exchanged there as an identity
        (OAuth2 refresh) token, as C(docker login) does with C(identitytoken).
      - If not set, the environment variable E(OCI_REGISTRY_TOKEN) is used.
    type: str
  auth_method:
    description:
      - Where credentials come from.
      - V(auto) takes the first found of O(username)/O(password) or O(token), the docker config
        (O(docker_config), where its C(credHelpers) entry for the registry comes first, then its C(auths) entry, then C(credsStore)),
        a podman auth file (E(REGISTRY_AUTH_FILE), C($XDG_RUNTIME_DIR/containers/auth.json),
        C(~/.config/containers/auth.json)), and for Google hosts
        (C(gcr.io), C(*.gcr.io), C(*-docker.pkg.dev)) Google application default credentials; else anonymous.
      - V(none) is always anonymous. V(password) uses only the options. V(docker_config) uses only
        the docker config. V(google) uses only Google application default credentials (needs C(google-auth)).
    type: str
    default: auto
    choices: [auto, none, password, docker_config, google]
  docker_config:
    description:
      - Directory holding C(config.json), or the path of a docker-style auth file.
      - If not set, the environment variable E(DOCKER_CONFIG) is used, then C(~/.docker/config.json).
    type: path
  validate_certs:
    description:
      - Verify the registry's TLS certificate.
      - If not set, the environment variable E(OCI_REGISTRY_VALIDATE_CERTS) is used.
    type: bool
    default: true
  ca_cert:
    description:
      - CA bundle (PEM) that signed the registry's certificate. Takes precedence over E(REQUESTS_CA_BUNDLE).
      - If not set, the environment variable E(OCI_REGISTRY_CA_CERT) is used.
    type: path
  plain_http:
    description:
      - Talk plain HTTP instead of HTTPS, for local and test registries.
      - If not set, the environment variable E(OCI_REGISTRY_PLAIN_HTTP) is used.
    type: bool
    default: false
  timeout:
    description:
      - Seconds to wait for each response from the registry.
    type: float
    default: 30
  retries:
    description:
      - How many times a read request (GET, HEAD) is retried after a connection error or an HTTP
        429, 500, 502, 503 or 504, with exponential backoff, honouring C(Retry-After) (each wait at most 30 seconds).
      - Writes are never sent twice; they are retried only when the connection could not be opened at all.
    type: int
    default: 3
notes:
  - Proxies are taken from the E(HTTPS_PROXY), E(HTTP_PROXY) and E(NO_PROXY) environment variables.
  - Credentials and tokens are only ever sent to the registry host, never to the storage a registry redirects blob downloads to.
requirements:
  - requests 2.25.1 or later, with urllib3 1.26.5 or later (1.26 and 2.x; the python3-requests of RHEL 9 and Debian 12 qualify)
  - google-auth 2.0 or later (only for O(auth_method=google) and Google application default credentials)
'''

    # The same options for lookup plugins, where Ansible's config system reads the environment.
    PLUGIN = r'''
options:
  username:
    description:
      - User name for the registry (Basic auth, and the user presented to a token server).
      - For Google hosts V(oauth2accesstoken) with an access token, or V(_json_key) with a service-account key as O(password).
    type: str
    env:
      - name: OCI_REGISTRY_USERNAME
  password:
    description:
      - Password or personal access token for O(username). Never shown in any output.
    type: str
    env:
      - name: OCI_REGISTRY_PASSWORD
  token:
    description:
      - A ready bearer token; exchanged at the token server as an identity token if the registry refuses it.
    type: str
    env:
      - name: OCI_REGISTRY_TOKEN
  auth_method:
    description:
      - Where credentials come from; see the modules' documentation of this option.
    type: str
    default: auto
    choices: [auto, none, password, docker_config, google]
  docker_config:
    description:
      - Directory holding C(config.json), or the path of a docker-style auth file.
    type: path
    env:
      - name: DOCKER_CONFIG
  validate_certs:
    description:
      - Verify the registry's TLS certificate.
    type: bool
    default: true
    env:
      - name: OCI_REGISTRY_VALIDATE_CERTS
  ca_cert:
    description:
      - CA bundle (PEM) that signed the registry's certificate.
    type: path
    env:
      - name: OCI_REGISTRY_CA_CERT
  plain_http:
    description:
      - Talk plain HTTP instead of HTTPS, for local and test registries.
    type: bool
    default: false
    env:
      - name: OCI_REGISTRY_PLAIN_HTTP
  timeout:
    description:
      - Seconds to wait for each response from the registry.
    type: float
    default: 30
  retries:
    description:
      - Retries of read requests after connection errors or HTTP 429/5xx, honouring C(Retry-After).
    type: int
    default: 3
'''

    # Connection options for the registry that images are copied from (registry_tag, registry_sync).
    SOURCE_AUTH = r'''
options:
  source_auth:
    description:
      - Connection options for the source registry (where images are copied from), for copies between registries that
        need different credentials or TLS settings. Each option set here replaces the task's option of the same name when
        talking to the source; those not set are inherited.
      - The task's own options apply to the target registry.
    type: dict
    suboptions:
      username:
        description: User name on the source registry.
        type: str
      password:
        description: Password (or access token used as password) on the source registry.
        type: str
      token:
        description: A bearer token or identity token for the source registry.
        type: str
      auth_method:
        description: Where the source's credentials come from; see O(auth_method).
        type: str
        choices: [auto, none, password, docker_config, google]
      docker_config:
        description: Docker config directory or file for the source registry.
        type: path
      validate_certs:
        description: Whether to verify the source registry's TLS certificate.
        type: bool
      ca_cert:
        description: CA bundle that signed the source registry's certificate.
        type: path
      plain_http:
        description: Talk plain HTTP to the source registry.
        type: bool
      timeout:
        description: Seconds per request to the source registry.
        type: float
      retries:
        description: Retries of failed safe requests to the source registry.
        type: int
'''

    # The signature gate of registry_tag and registry_sync (and the promote role).
    VERIFY = r'''
options:
  verify:
    description:
      - Verify the source image's cosign signatures before anything is written, as M(oci.registry.registry_signature_info)
        does (both formats, keyed, without a transparency log, which is what C(cosign verify --key K --insecure-ignore-tlog) checks).
      - M(oci.registry.registry_tag) fails and writes nothing when the signatures do not satisfy the rule;
        M(oci.registry.registry_sync) reports each such tag as C(blocked), with the reason, and copies the others.
      - Costs per image 3 GET requests on a registry without the referrers API (2 with it), plus one per simple-signing layer
        and two per bundle; the keys are parsed once per task. Needs the C(cryptography) Python library where the module runs.
      - Signatures are checked in the source repository. Use O(referrers=true) to carry them along to the target.
    type: dict
    suboptions:
      keys:
        description:
          - Public keys, each a file path or PEM text (C(-----BEGIN PUBLIC KEY-----)).
          - ECDSA P-256, P-384, P-521, RSA (PKCS#1 v1.5, SHA-256) and plain Ed25519.
        type: list
        elements: str
        required: true
      require:
        description: V(any) of the keys, or V(all) of them (each must have signed).
        type: str
        choices: [any, all]
        default: any
      min_count:
        description: The number of valid signatures needed.
        type: int
        default: 1
'''
