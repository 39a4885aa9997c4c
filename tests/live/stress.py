# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Shared pieces of the stress tests: fault proxies, in-process runs of each plugin, outcome checks.

Every plugin is driven in-process the same way, so one table row adds a module to the fault and bad-input matrices:
a module through its pure ``run(client, params, check_mode)`` after AnsibleModule-style argspec validation, the lookup
through the real plugin loader. ``outcome()`` returns ('ok', result) or ('error', message) and fails the test on any
exception that is not the plugin's own clean error (that would be a traceback for the user).
"""

from __future__ import annotations

import re
import typing as t

import pytest

from ansible.errors import AnsibleError
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.plugins.loader import lookup_loader

from ansible_collections.oci.registry.plugins.module_utils.client._client import RegistryClient
from ansible_collections.oci.registry.plugins.module_utils.model._errors import RegistryError
from ansible_collections.oci.registry.plugins.module_utils._module import REGISTRY_ARGSPEC, check_connection_options
from ansible_collections.oci.registry.plugins.module_utils.wire._connection import ConnectionOptions

from harness.fault_proxy import FaultProxy, StorageServer

# Short waits so that every fault test finishes in about a second.
FAST = {'timeout': 1.0, 'retries': 3}
WRITE_METHODS = ('PUT', 'POST', 'PATCH', 'DELETE')


class Proxies(t.NamedTuple):
    open: FaultProxy  # in front of harness.open
    token: FaultProxy  # in front of harness.token, its challenge pointing at token_server
    token_server: FaultProxy  # in front of the harness token server
    storage: StorageServer  # the "other host" blob GETs are redirected to


@pytest.fixture(scope='module')
def proxies(harness) -> t.Iterator[Proxies]:
    storage = StorageServer().start()
    token_server = FaultProxy(harness.token_server.url).start()
    token = FaultProxy(harness.token.url, rewrite={harness.token_server.url: token_server.url}).start()
    open_ = FaultProxy(harness.open.url).start()
    try:
        yield Proxies(open_, token, token_server, storage)
    finally:
        for server in (open_, token, token_server, storage):
            server.stop()


@pytest.fixture()
def clean(proxies: Proxies) -> Proxies:
    """The proxies with no rules and no records, before and after the test."""
    for proxy in proxies[:3]:
        proxy.clear()
    yield proxies
    for proxy in proxies[:3]:
        proxy.clear()


def module_params(module: t.Any, params: t.Dict[str, t.Any]) -> t.Dict[str, t.Any]:
    """Validate params against the module's real argspec (read from its main()) as AnsibleModule would."""
    spec = module_argspec(module)
    result = ArgumentSpecValidator(spec['argument_spec'], mutually_exclusive=spec.get('mutually_exclusive'),
                                   required_together=spec.get('required_together'), required_one_of=spec.get('required_one_of'),
                                   required_if=spec.get('required_if'), required_by=spec.get('required_by')).validate(params)
    if result.error_messages:
        raise ArgSpecError(result.error_messages[0])
    return result.validated_parameters


class ArgSpecError(Exception):
    """What AnsibleModule would fail_json with before run() is called."""


_ARGSPECS: t.Dict[str, t.Dict[str, t.Any]] = {}


def module_argspec(module: t.Any) -> t.Dict[str, t.Any]:
    """The keyword arguments a module's main() gives AnsibleModule, captured by running main() with a stand-in."""
    name = module.__name__
    if name not in _ARGSPECS:
        captured: t.Dict[str, t.Any] = {}

        class Capture(Exception):
            pass

        def fake(**kwargs: t.Any) -> None:
            captured.update(kwargs)
            raise Capture()

        original = module.AnsibleModule
        module.AnsibleModule = fake
        try:
            module.main()
        except Capture:
            pass
        finally:
            module.AnsibleModule = original
        _ARGSPECS[name] = captured
    return _ARGSPECS[name]


def run_module(module: t.Any, params: t.Dict[str, t.Any], check_mode: bool = False,
               client: t.Optional[RegistryClient] = None) -> t.Tuple[str, t.Any, RegistryClient]:
    """What run_module() does, in-process: argspec, connection checks, run(); ('ok', result) or ('error', msg)."""
    try:
        validated = module_params(module, params)
    except ArgSpecError as exc:
        return 'error', str(exc), client or RegistryClient(ConnectionOptions())
    options = ConnectionOptions.from_getter(validated.get)
    problem = check_connection_options(options)
    client = client or RegistryClient(options)
    if problem:
        return 'error', problem, client
    try:
        return 'ok', module.run(client, validated, check_mode), client
    except RegistryError as exc:
        return 'error', exc.message, client


def run_lookup(terms: t.List[str], **options: t.Any) -> t.Tuple[str, t.Any]:
    lookup = lookup_loader.get('oci.registry.digest')
    try:
        return 'ok', lookup.run(terms, variables={}, **options)
    except AnsibleError as exc:  # AnsibleLookupError, or Ansible's own AnsibleOptionsError for a bad option value
        return 'error', exc.message


def common_options() -> t.Set[str]:
    return set(REGISTRY_ARGSPEC)


def assert_one_line(message: str, *needles: str) -> None:
    """An actionable error: one line, no traceback, containing each needle (case-insensitive)."""
    assert message and '\n' not in message.strip(), message
    assert 'Traceback' not in message, message
    for needle in needles:
        assert needle.lower() in message.lower(), (needle, message)


def registry_writes(registry: t.Any) -> int:
    """Writes a real harness registry accepted so far (2xx answers to PUT/POST/PATCH/DELETE), from its own /metrics.

    A refused write is no write: registry_repo_delete asks a registry whether it deletes by tag with the DELETE
    itself, which distribution 2.8 refuses with 400 before anything changes.
    """
    total = 0.0
    for line in registry.metrics().splitlines():
        if line.startswith('registry_http_requests_total{') and re.search(r'code="2\d\d"', line) and \
                re.search(r'method="(%s)"' % '|'.join(WRITE_METHODS), line, re.IGNORECASE):
            total += float(line.rsplit(' ', 1)[1])
    return int(total)


def accepted_writes(records: t.Iterable[t.Any]) -> t.List[t.Any]:
    """The writes in a client's RequestLog that the registry accepted (2xx)."""
    return [r for r in records if r.method in WRITE_METHODS and r.status is not None and 200 <= r.status < 300]
