# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The common options are declared twice, as REGISTRY_ARGSPEC and as the _registry doc fragment: they must agree."""
from __future__ import annotations

import dataclasses
import typing as t

import pytest
import yaml
from ansible.module_utils.basic import env_fallback
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.oci.registry.plugins.doc_fragments._registry import ModuleDocFragment
from ansible_collections.oci.registry.plugins.module_utils._module import REGISTRY_ARGSPEC, check_connection_options, registry_argspec
from ansible_collections.oci.registry.plugins.module_utils.wire._connection import ConnectionOptions

DOC_OPTIONS: dict[str, dict[str, t.Any]] = yaml.safe_load(ModuleDocFragment.DOCUMENTATION)["options"]
PLUGIN_OPTIONS: dict[str, dict[str, t.Any]] = yaml.safe_load(ModuleDocFragment.PLUGIN)["options"]
FRAGMENTS = pytest.mark.parametrize("fragment", [DOC_OPTIONS, PLUGIN_OPTIONS], ids=["DOCUMENTATION", "PLUGIN"])
FIELDS = {field.name: field for field in dataclasses.fields(ConnectionOptions)}


def _env_names(spec: dict[str, t.Any]) -> list[str]:
    fallback = spec.get("fallback")
    if not fallback:
        return []
    assert fallback[0] is env_fallback
    return list(fallback[1])


@FRAGMENTS
def test_same_option_names(fragment: dict[str, dict[str, t.Any]]) -> None:
    assert sorted(fragment) == sorted(REGISTRY_ARGSPEC)


@FRAGMENTS
@pytest.mark.parametrize("name", sorted(REGISTRY_ARGSPEC))
def test_same_type_default_choices(fragment: dict[str, dict[str, t.Any]], name: str) -> None:
    spec, doc = REGISTRY_ARGSPEC[name], fragment[name]
    assert doc.get("type", "str") == spec.get("type", "str")
    assert doc.get("default") == spec.get("default")
    assert type(doc.get("default")) is type(spec.get("default")) or {type(doc.get("default")), type(spec.get("default"))} <= {int, float}
    assert doc.get("choices") == spec.get("choices")
    assert doc.get("required", False) == spec.get("required", False)
    assert doc.get("elements") == spec.get("elements")
    assert doc.get("description"), "option %s has no description" % name


def test_no_log_is_password_and_token_only() -> None:
    assert sorted(name for name, spec in REGISTRY_ARGSPEC.items() if spec.get("no_log")) == ["password", "token"]
    # An option whose name looks secret but is not one must say so, or ansible-test complains.
    assert all("no_log" not in spec or spec["no_log"] is True for spec in REGISTRY_ARGSPEC.values())


def test_plugin_env_equals_argspec_fallback() -> None:
    for name, spec in REGISTRY_ARGSPEC.items():
        documented = [entry["name"] for entry in PLUGIN_OPTIONS[name].get("env", [])]
        assert documented == _env_names(spec), name


@FRAGMENTS
@pytest.mark.parametrize("name", sorted(REGISTRY_ARGSPEC))
def test_descriptions_are_strings(fragment: dict[str, dict[str, t.Any]], name: str) -> None:
    # An unquoted "C(a: b)" in a YAML list item turns the line into a mapping.
    description = fragment[name]["description"]
    assert isinstance(description, list)
    assert [type(line) for line in description] == [str] * len(description), description


@pytest.mark.parametrize("name", sorted(REGISTRY_ARGSPEC))
def test_module_docs_name_the_env_fallback(name: str) -> None:
    # Modules have no env: key, so the description says which variable is read.
    text = " ".join(str(line) for line in DOC_OPTIONS[name]["description"])
    for env in _env_names(REGISTRY_ARGSPEC[name]):
        assert "E(%s)" % env in text, name


def test_argspec_options_are_connection_options() -> None:
    assert sorted(FIELDS) == sorted(REGISTRY_ARGSPEC)


@pytest.mark.parametrize("name", sorted(REGISTRY_ARGSPEC))
def test_connection_options_defaults(name: str) -> None:
    assert FIELDS[name].default == REGISTRY_ARGSPEC[name].get("default")


def test_registry_argspec_adds_module_options() -> None:
    spec = registry_argspec(image={"type": "str", "required": True})
    assert spec["image"] == {"type": "str", "required": True}
    assert {k: v for k, v in spec.items() if k != "image"} == REGISTRY_ARGSPEC
    assert "image" not in REGISTRY_ARGSPEC


ENV = {
    "OCI_REGISTRY_USERNAME": "env-user",
    "OCI_REGISTRY_PASSWORD": "env-password-123",
    "OCI_REGISTRY_TOKEN": "env-token-456",
    "DOCKER_CONFIG": "/etc/docker-env",
    "OCI_REGISTRY_VALIDATE_CERTS": "false",
    "OCI_REGISTRY_CA_CERT": "/etc/ca-env.pem",
    "OCI_REGISTRY_PLAIN_HTTP": "yes",
}


def test_argspec_validates_with_env_fallbacks(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    result = ArgumentSpecValidator(REGISTRY_ARGSPEC).validate({})
    assert result.error_messages == []
    options = ConnectionOptions.from_getter(result.validated_parameters.get)
    assert options == ConnectionOptions(
        username="env-user", password="env-password-123", token="env-token-456", auth_method="auto", docker_config="/etc/docker-env",
        validate_certs=False, ca_cert="/etc/ca-env.pem", plain_http=True, timeout=30, retries=3)
    assert {"env-password-123", "env-token-456"} <= set(result._no_log_values)  # pylint: disable=protected-access
    assert "env-user" not in result._no_log_values  # pylint: disable=protected-access


def test_argspec_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ENV:
        monkeypatch.delenv(name, raising=False)
    result = ArgumentSpecValidator(REGISTRY_ARGSPEC).validate({})
    assert result.error_messages == []
    assert ConnectionOptions.from_getter(result.validated_parameters.get) == ConnectionOptions()


@pytest.mark.parametrize("params", [{"auth_method": "kerberos"}, {"retries": "many"}, {"timeout": "soon"}, {"validate_certs": "perhaps"}])
def test_argspec_refuses(params: dict[str, t.Any]) -> None:
    messages = ArgumentSpecValidator(REGISTRY_ARGSPEC).validate(params).error_messages
    assert len(messages) == 1
    assert next(iter(params)) in messages[0]


# options, message (None: acceptable)
CHECKS: list[tuple[dict[str, t.Any], str | None]] = [
    ({}, None),
    ({"timeout": 0.5, "retries": 0}, None),
    ({"retries": 10}, None),
    ({"ca_cert": __file__}, None),
    ({"ca_cert": "/nonexistent/ca.pem"},
     "ca_cert /nonexistent/ca.pem is not a readable file: give the path of the PEM bundle that signed the registry certificate"),
    ({"validate_certs": False}, None),
    ({"timeout": 0}, "timeout must be a positive number of seconds, got 0"),
    ({"timeout": -1.5}, "timeout must be a positive number of seconds, got -1.5"),
    ({"retries": -1}, "retries must be between 0 and 10, got -1"),
    ({"retries": 11}, "retries must be between 0 and 10, got 11"),
    ({"ca_cert": __file__, "validate_certs": False}, "ca_cert and validate_certs: false contradict each other: set only one"),
]


@pytest.mark.parametrize("options, message", CHECKS)
def test_check_connection_options(options: dict[str, t.Any], message: str | None) -> None:
    assert check_connection_options(ConnectionOptions(**options)) == message


# --- AWX credential types -----------------------------------------------------------------
@pytest.mark.parametrize("injected,expected", [
    # A token-only credential: AWX injects the fields left empty as empty strings.
    ({"OCI_REGISTRY_USERNAME": "", "OCI_REGISTRY_PASSWORD": "", "OCI_REGISTRY_TOKEN": "tok-1"},
     {"username": None, "password": None, "token": "tok-1"}),
    ({"OCI_REGISTRY_USERNAME": "ci", "OCI_REGISTRY_PASSWORD": "pw-1", "OCI_REGISTRY_TOKEN": ""},
     {"username": "ci", "password": "pw-1", "token": None}),
])
def test_empty_injected_env_counts_as_unset(monkeypatch: pytest.MonkeyPatch, injected: dict[str, str],
                                            expected: dict[str, t.Any]) -> None:
    for name in ENV:
        monkeypatch.delenv(name, raising=False)
    for name, value in injected.items():
        monkeypatch.setenv(name, value)
    result = ArgumentSpecValidator(REGISTRY_ARGSPEC).validate({})
    assert result.error_messages == []
    options = ConnectionOptions.from_getter(result.validated_parameters.get)
    assert (options.username, options.password, options.token) == (expected["username"], expected["password"], expected["token"])
