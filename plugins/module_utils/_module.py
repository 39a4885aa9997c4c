# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# This is a private module_utils file of oci.registry: do not use it from other collections.
"""The common options, declared once, and the base every module runs on.

``REGISTRY_ARGSPEC`` must match ``plugins/doc_fragments/_registry.py`` (names, types, defaults,
no_log, env); a unit test holds them together.
"""

from __future__ import annotations

import dataclasses
import os
import typing as t

from ansible.module_utils.basic import AnsibleModule, env_fallback, missing_required_lib

from ansible_collections.oci.registry.plugins.module_utils.model._errors import InvalidInputError, RegistryError
from ansible_collections.oci.registry.plugins.module_utils.wire._connection import ConnectionOptions
from ansible_collections.oci.registry.plugins.module_utils.wire._credentials import AUTH_METHODS
from ansible_collections.oci.registry.plugins.module_utils.wire._transport import HAS_URLLIB3, URLLIB3_IMPORT_ERROR
from ansible_collections.oci.registry.plugins.module_utils.client._client import RegistryClient

REGISTRY_ARGSPEC: t.Dict[str, t.Dict[str, t.Any]] = {
    'username': {'type': 'str', 'fallback': (env_fallback, ['OCI_REGISTRY_USERNAME'])},
    'password': {'type': 'str', 'no_log': True, 'fallback': (env_fallback, ['OCI_REGISTRY_PASSWORD'])},
    'token': {'type': 'str', 'no_log': True, 'fallback': (env_fallback, ['OCI_REGISTRY_TOKEN'])},
    'auth_method': {'type': 'str', 'default': 'auto', 'choices': list(AUTH_METHODS)},
    'docker_config': {'type': 'path', 'fallback': (env_fallback, ['DOCKER_CONFIG'])},
    'validate_certs': {'type': 'bool', 'default': True, 'fallback': (env_fallback, ['OCI_REGISTRY_VALIDATE_CERTS'])},
    'ca_cert': {'type': 'path', 'fallback': (env_fallback, ['OCI_REGISTRY_CA_CERT'])},
    'plain_http': {'type': 'bool', 'default': False, 'fallback': (env_fallback, ['OCI_REGISTRY_PLAIN_HTTP'])},
    'timeout': {'type': 'float', 'default': 30},
    'retries': {'type': 'int', 'default': 3},
}

Runner = t.Callable[[RegistryClient, t.Dict[str, t.Any], bool], t.Dict[str, t.Any]]


def registry_argspec(**module_options: t.Dict[str, t.Any]) -> t.Dict[str, t.Dict[str, t.Any]]:
    """A module's argspec: its own options plus the common ones."""
    spec = dict(REGISTRY_ARGSPEC)
    spec.update(module_options)
    return spec


def check_connection_options(options: ConnectionOptions) -> t.Optional[str]:
    """A message for option values no registry call could work with, or None."""
    if options.timeout <= 0:
        return 'timeout must be a positive number of seconds, got %s' % options.timeout
    if options.retries < 0 or options.retries > 10:
        return 'retries must be between 0 and 10, got %s' % options.retries
    if options.ca_cert and not os.path.isfile(options.ca_cert):
        return 'ca_cert %s is not a readable file: give the path of the PEM bundle that signed the registry certificate' % options.ca_cert
    if options.ca_cert and not options.validate_certs:
        return 'ca_cert and validate_certs: false contradict each other: set only one'
    return None


def run_module(module: AnsibleModule, run: Runner) -> None:
    """Turn options into a client, call ``run(client, params, check_mode)``, and exit.

    Every RegistryError becomes one clean ``fail_json`` (message with hint, error kind,
    status and registry codes); nothing else is caught, so bugs still show their traceback.
    """
    if not HAS_URLLIB3:  # urllib3 comes with requests, which requirements.txt names
        module.fail_json(msg=missing_required_lib('requests'), exception=URLLIB3_IMPORT_ERROR)
    options = ConnectionOptions.from_getter(module.params.get)
    problem = check_connection_options(options)
    if problem:
        module.fail_json(msg=problem)
    client = RegistryClient(options)
    try:
        result = run(client, module.params, module.check_mode)
    except RegistryError as exc:
        module.fail_json(msg=exc.message, **exc.details())
    module.exit_json(**result)


def require_cryptography(module: AnsibleModule) -> None:
    """Fail cleanly when signatures are asked for and the ``cryptography`` library is missing where the module runs.

    Only a task that signs or verifies calls this: loading cryptography costs every other task start-up time.
    """
    from ansible_collections.oci.registry.plugins.module_utils.model import _signature  # pylint: disable=import-outside-toplevel
    if not _signature.HAS_CRYPTOGRAPHY:
        module.fail_json(msg=missing_required_lib('cryptography', reason='to sign and verify image signatures'),
                         exception=_signature.CRYPTOGRAPHY_IMPORT_ERROR)


# The gate's option (registry_tag, registry_sync): verify an image's signatures before anything is written.
# A gate is check(client, ref, digest) -> None when the image passes, else the reason it does not.
Gate = t.Callable[[RegistryClient, t.Any, str], t.Optional[str]]

VERIFY_OPTION: t.Dict[str, t.Any] = {'type': 'dict', 'options': {
    'keys': {'type': 'list', 'elements': 'str', 'required': True, 'no_log': False},
    'require': {'type': 'str', 'default': 'any', 'choices': ['any', 'all']},
    'min_count': {'type': 'int', 'default': 1},
}}


def verify_gate(value: t.Optional[t.Mapping[str, t.Any]]) -> t.Optional[Gate]:
    """The ``verify`` option as a gate, or None when it is not set.

    The signature code and cryptography load here, only for a task that sets ``verify``: every
    other registry_tag and registry_sync task starts without them.
    """
    if not value:
        return None
    from ansible_collections.oci.registry.plugins.module_utils.operations import _signatures  # pylint: disable=import-outside-toplevel
    rule = _signatures.parse_verify(value)
    return lambda client, ref, digest: _signatures.check_image(client, ref, digest, rule)


# A second set of connection options, for a second registry in one task (registry_tag's source_auth)

# The common options as a dict option's suboptions: no defaults and no env fallbacks, so an unset one inherits the task's value.
CONNECTION_SUBOPTIONS: t.Dict[str, t.Dict[str, t.Any]] = {
    name: {key: value for key, value in spec.items() if key not in ('default', 'fallback')} for name, spec in REGISTRY_ARGSPEC.items()
}


def client_with_overrides(client: RegistryClient, overrides: t.Optional[t.Mapping[str, t.Any]], option: str) -> RegistryClient:
    """``client`` itself, or a client whose connection options are the set values of ``overrides`` over the client's own.

    The new client shares the request log (budgets count every request of a task) and has its
    own Transport, credentials and tokens per host, so the same host may be reached with two
    identities (pull with one, push with the other).
    """
    values = {k: v for k, v in (overrides or {}).items() if v is not None}
    if not values:
        return client
    options = dataclasses.replace(client.options, **values)
    problem = check_connection_options(options)
    if problem:
        raise InvalidInputError('%s: %s' % (option, problem))
    return RegistryClient(options, log=client.log)
