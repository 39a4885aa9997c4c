# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

import base64
import json
import os
import pathlib
import sys
import typing as t

import google.auth
import google.auth.exceptions
import pytest

from ansible_collections.oci.registry.plugins.module_utils.wire._authfile import run_credential_helper
from ansible_collections.oci.registry.plugins.module_utils.wire._credentials import (
    DockerConfigSource,
    GoogleSource,
    PodmanAuthSource,
    find_credentials,
)
from ansible_collections.oci.registry.plugins.module_utils.model._errors import AuthenticationError, InvalidInputError, redact
from ansible_collections.oci.registry.plugins.module_utils.wire._connection import ConnectionOptions, Credentials

REGISTRY = "registry.example.com:5000"
HUB = "docker.io"
HUB_KEY = "https://index.docker.io/v1/"


def _auth(username: str, password: str) -> str:
    return base64.b64encode(("%s:%s" % (username, password)).encode()).decode()


def _write_json(path: pathlib.Path, data: t.Any) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data) if not isinstance(data, str) else data)
    return str(path)


@pytest.fixture(autouse=True)
def clean_env(tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> pathlib.Path:
    """An empty HOME and none of the variables that point at auth files: only what a test writes is found."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    for name in ("DOCKER_CONFIG", "REGISTRY_AUTH_FILE", "XDG_RUNTIME_DIR", "GOOGLE_APPLICATION_CREDENTIALS"):
        monkeypatch.delenv(name, raising=False)
    return home


# --- docker config: auths ---------------------------------------------------------------------

# registry, auths entries, expected (username, password, identity_token)
AUTHS = [
    (REGISTRY, {REGISTRY: {"auth": _auth("alice", "pw-alice")}}, ("alice", "pw-alice", None)),
    # The password may hold ":"; only the first one separates.
    (REGISTRY, {REGISTRY: {"auth": _auth("alice", "a:b:c")}}, ("alice", "a:b:c", None)),
    # docker login writes Docker Hub under its v1 URL.
    (HUB, {HUB_KEY: {"auth": _auth("hubuser", "pw-hub")}}, ("hubuser", "pw-hub", None)),
    (HUB, {"docker.io": {"auth": _auth("hubuser", "pw-hub")}}, ("hubuser", "pw-hub", None)),
    (HUB, {"registry-1.docker.io": {"auth": _auth("hubuser", "pw-hub")}}, ("hubuser", "pw-hub", None)),
    # Key forms: with a scheme, with /v1/, upper case.
    (REGISTRY, {"https://registry.example.com:5000": {"auth": _auth("bob", "pw-bob")}}, ("bob", "pw-bob", None)),
    (REGISTRY, {"registry.example.com:5000/v1/": {"auth": _auth("bob", "pw-bob")}}, ("bob", "pw-bob", None)),
    (REGISTRY, {"http://registry.example.com:5000/v2/": {"auth": _auth("bob", "pw-bob")}}, ("bob", "pw-bob", None)),
    (REGISTRY, {"Registry.Example.COM:5000": {"auth": _auth("bob", "pw-bob")}}, ("bob", "pw-bob", None)),
    # Separate username/password keys.
    (REGISTRY, {REGISTRY: {"username": "carol", "password": "pw-carol"}}, ("carol", "pw-carol", None)),
    # An identity token (docker login against a token server with OAuth2).
    (REGISTRY, {REGISTRY: {"auth": _auth("dave", ""), "identitytoken": "idtoken-dave"}}, (None, None, "idtoken-dave")),
    # The entry for another registry, or another port, is not used.
    (REGISTRY, {"registry.example.com": {"auth": _auth("eve", "pw-eve")}}, None),
    (REGISTRY, {"registry.example.com:5001": {"auth": _auth("eve", "pw-eve")}}, None),
    (HUB, {"ghcr.io": {"auth": _auth("eve", "pw-eve")}}, None),
    (REGISTRY, {}, None),
    (REGISTRY, {REGISTRY: {}}, None),
]


@pytest.mark.parametrize("registry, auths, expected", AUTHS)
def test_docker_config_auths(tmp_path: pathlib.Path, registry: str, auths: dict[str, t.Any],
                             expected: tuple[str | None, str | None, str | None] | None) -> None:
    path = _write_json(tmp_path / "docker" / "config.json", {"auths": auths})
    found = DockerConfigSource(path).credentials(registry)
    if expected is None:
        assert found is None
        return
    assert found is not None
    assert (found.username, found.password, found.identity_token) == expected
    assert found.token is None
    assert path in found.source


@pytest.mark.parametrize("auth", ["bm90LWJhc2U2NA", base64.b64encode(b"no-colon-here").decode(), base64.b64encode(b"\xff\xfe:x").decode()])
def test_docker_config_bad_auth_value(tmp_path: pathlib.Path, auth: str) -> None:
    path = _write_json(tmp_path / "config.json", {"auths": {REGISTRY: {"auth": auth}}})
    with pytest.raises(AuthenticationError, match="not base64 of user:password"):
        DockerConfigSource(path).credentials(REGISTRY)


def test_docker_config_env_dir(tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _write_json(tmp_path / "dcfg" / "config.json", {"auths": {REGISTRY: {"auth": _auth("env-user", "pw-env")}}})
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "dcfg"))
    found = find_credentials(REGISTRY, ConnectionOptions(auth_method="docker_config"))
    assert found is not None and (found.username, found.password) == ("env-user", "pw-env")


def test_docker_config_home(clean_env: pathlib.Path) -> None:
    _write_json(clean_env / ".docker" / "config.json", {"auths": {REGISTRY: {"auth": _auth("home-user", "pw-home")}}})
    found = find_credentials(REGISTRY, ConnectionOptions())
    assert found is not None and (found.username, found.password) == ("home-user", "pw-home")


def test_docker_config_option_file_wins_over_env(tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _write_json(tmp_path / "dcfg" / "config.json", {"auths": {REGISTRY: {"auth": _auth("env-user", "pw-env")}}})
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "dcfg"))
    path = _write_json(tmp_path / "elsewhere" / "my-auth.json", {"auths": {REGISTRY: {"auth": _auth("file-user", "pw-file")}}})
    found = find_credentials(REGISTRY, ConnectionOptions(auth_method="docker_config", docker_config=path))
    assert found is not None and (found.username, found.password) == ("file-user", "pw-file")
    assert path in found.source
    # The option may also name a directory holding config.json.
    found = find_credentials(REGISTRY, ConnectionOptions(auth_method="docker_config", docker_config=str(tmp_path / "dcfg")))
    assert found is not None and found.username == "env-user"


def test_docker_config_missing_file_is_anonymous(tmp_path: pathlib.Path) -> None:
    assert find_credentials(REGISTRY, ConnectionOptions(docker_config=str(tmp_path / "nope.json"))) is None


@pytest.mark.parametrize("content", ["{not json", "", "[1, 2]", '"string"', "\xff"])
def test_docker_config_invalid(tmp_path: pathlib.Path, content: str) -> None:
    path = tmp_path / "config.json"
    if content == "\xff":
        path.write_bytes(b"\xff\xfe{}")
    else:
        path.write_text(content)
    with pytest.raises(AuthenticationError) as exc:
        find_credentials(REGISTRY, ConnectionOptions(docker_config=str(path)))
    assert str(path) in str(exc.value)
    assert exc.value.kind == "authentication"


# --- credential helpers -----------------------------------------------------------------------

HELPER = r'''#!%(python)s
import json, os, sys
here = os.path.dirname(os.path.abspath(__file__))
server = sys.stdin.read()
with open(os.path.join(here, "calls.jsonl"), "a") as log:
    log.write(json.dumps({"argv": sys.argv[1:], "stdin": server}) + "\n")
mode = open(os.path.join(here, "mode")).read().strip()
if mode == "ok":
    print(json.dumps({"ServerURL": server, "Username": "helper-user", "Secret": "helper-secret-1"}))
elif mode == "token":
    print(json.dumps({"ServerURL": server, "Username": "<token>", "Secret": "helper-identity-token"}))
elif mode == "empty":
    print(json.dumps({"ServerURL": server, "Username": "", "Secret": ""}))
elif mode == "notfound":
    print("credentials not found in native keychain")
    sys.exit(1)
elif mode == "garbage":
    print("this is not json")
else:
    sys.stderr.write("keychain locked; Secret: helper-secret-leaked\n")
    print("helper-secret-leaked")
    sys.exit(3)
'''


class FakeHelper:
    """A docker-credential-fake on PATH that logs how it was called and answers per ``mode``."""

    def __init__(self, directory: pathlib.Path) -> None:
        self.directory = directory

    def set(self, mode: str) -> None:
        (self.directory / "mode").write_text(mode)

    @property
    def calls(self) -> list[dict[str, t.Any]]:
        log = self.directory / "calls.jsonl"
        return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


@pytest.fixture
def helper(tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> FakeHelper:
    directory = tmp_path / "bin"
    directory.mkdir()
    script = directory / "docker-credential-fake"
    script.write_text(HELPER % {"python": sys.executable})
    script.chmod(0o755)
    monkeypatch.setenv("PATH", str(directory) + os.pathsep + os.environ.get("PATH", ""))
    fake = FakeHelper(directory)
    fake.set("ok")
    return fake


def test_cred_helpers(tmp_path: pathlib.Path, helper: FakeHelper) -> None:
    path = _write_json(tmp_path / "config.json", {
        "auths": {REGISTRY: {"auth": _auth("not-used", "not-used")}},
        "credHelpers": {REGISTRY: "fake"},
    })
    found = DockerConfigSource(path).credentials(REGISTRY)
    assert found is not None
    assert (found.username, found.password, found.identity_token) == ("helper-user", "helper-secret-1", None)
    assert "docker-credential-fake" in found.source
    # Called as "docker-credential-fake get" with the server URL on stdin.
    assert helper.calls == [{"argv": ["get"], "stdin": REGISTRY}]
    assert "helper-secret-1" not in redact("the secret helper-secret-1 here")


def test_cred_helpers_identity_token(tmp_path: pathlib.Path, helper: FakeHelper) -> None:
    helper.set("token")
    path = _write_json(tmp_path / "config.json", {"credHelpers": {"https://registry.example.com:5000": "fake"}})
    found = DockerConfigSource(path).credentials(REGISTRY)
    assert found is not None
    assert (found.username, found.password, found.identity_token) == (None, None, "helper-identity-token")
    assert helper.calls[0]["stdin"] == "https://registry.example.com:5000"


@pytest.mark.parametrize("mode", ["notfound", "empty"])
def test_cred_helpers_nothing_found(tmp_path: pathlib.Path, helper: FakeHelper, mode: str) -> None:
    helper.set(mode)
    path = _write_json(tmp_path / "config.json", {"credHelpers": {REGISTRY: "fake"}})
    assert find_credentials(REGISTRY, ConnectionOptions(docker_config=path)) is None
    assert len(helper.calls) == 1


def test_cred_helper_failure_hides_output(helper: FakeHelper) -> None:
    helper.set("fail")
    with pytest.raises(AuthenticationError) as exc:
        run_credential_helper("fake", REGISTRY)
    message = str(exc.value)
    assert "docker-credential-fake" in message
    assert REGISTRY in message
    assert "exit code 3" in message
    assert "helper-secret-leaked" not in message
    assert "helper-secret-leaked" not in repr(exc.value.details())


def test_cred_helper_not_json(helper: FakeHelper) -> None:
    helper.set("garbage")
    with pytest.raises(AuthenticationError, match="docker-credential-fake returned something that is not JSON"):
        run_credential_helper("fake", REGISTRY)


def test_cred_helper_not_on_path(tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(AuthenticationError) as exc:
        run_credential_helper("does-not-exist", REGISTRY)
    assert "docker-credential-does-not-exist" in str(exc.value)
    assert "not on PATH" in str(exc.value)


@pytest.mark.parametrize("registry, auths, server", [
    (REGISTRY, {}, REGISTRY),
    # docker login with a store leaves an empty entry under the key it used.
    (REGISTRY, {"https://registry.example.com:5000": {}}, "https://registry.example.com:5000"),
    (HUB, {HUB_KEY: {}}, HUB_KEY),
    (HUB, {}, HUB_KEY),
])
def test_creds_store(tmp_path: pathlib.Path, helper: FakeHelper, registry: str, auths: dict[str, t.Any], server: str) -> None:
    path = _write_json(tmp_path / "config.json", {"auths": auths, "credsStore": "fake"})
    found = DockerConfigSource(path).credentials(registry)
    assert found is not None and (found.username, found.password) == ("helper-user", "helper-secret-1")
    assert helper.calls == [{"argv": ["get"], "stdin": server}]


def test_auths_entry_wins_over_creds_store(tmp_path: pathlib.Path, helper: FakeHelper) -> None:
    path = _write_json(tmp_path / "config.json", {"auths": {REGISTRY: {"auth": _auth("inline", "pw-inline")}}, "credsStore": "fake"})
    found = DockerConfigSource(path).credentials(REGISTRY)
    assert found is not None and found.username == "inline"
    assert helper.calls == []


# --- podman auth files ------------------------------------------------------------------------

def test_podman_registry_auth_file(tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _write_json(tmp_path / "podman-auth.json", {"auths": {REGISTRY: {"auth": _auth("podman-user", "pw-podman")}}})
    _write_json(tmp_path / "run" / "containers" / "auth.json", {"auths": {REGISTRY: {"auth": _auth("xdg-user", "pw-xdg")}}})
    monkeypatch.setenv("REGISTRY_AUTH_FILE", path)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path / "run"))
    found = find_credentials(REGISTRY, ConnectionOptions())
    assert found is not None and (found.username, found.password) == ("podman-user", "pw-podman")
    assert path in found.source


def test_podman_xdg_runtime_dir(tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _write_json(tmp_path / "run" / "containers" / "auth.json", {"auths": {"docker.io": {"auth": _auth("xdg-user", "pw-xdg")}}})
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path / "run"))
    found = find_credentials(HUB, ConnectionOptions())
    assert found is not None and (found.username, found.password) == ("xdg-user", "pw-xdg")
    assert path in found.source
    assert PodmanAuthSource().paths()[0] == path


def test_podman_falls_through_to_next_file(tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The first file has no entry for this registry: the next one is asked.
    monkeypatch.setenv("REGISTRY_AUTH_FILE", _write_json(tmp_path / "a.json", {"auths": {"quay.io": {"auth": _auth("q", "pw-q")}}}))
    _write_json(tmp_path / "run" / "containers" / "auth.json", {"auths": {REGISTRY: {"auth": _auth("xdg-user", "pw-xdg")}}})
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path / "run"))
    found = PodmanAuthSource().credentials(REGISTRY)
    assert found is not None and found.username == "xdg-user"


def test_docker_config_wins_over_podman(clean_env: pathlib.Path, tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _write_json(clean_env / ".docker" / "config.json", {"auths": {REGISTRY: {"auth": _auth("docker-user", "pw-docker")}}})
    monkeypatch.setenv("REGISTRY_AUTH_FILE", _write_json(tmp_path / "p.json", {"auths": {REGISTRY: {"auth": _auth("podman-user", "pw-p")}}}))
    found = find_credentials(REGISTRY, ConnectionOptions())
    assert found is not None and found.username == "docker-user"
    # auth_method docker_config never reads podman's files.
    (clean_env / ".docker" / "config.json").unlink()
    assert find_credentials(REGISTRY, ConnectionOptions(auth_method="docker_config")) is None
    assert find_credentials(REGISTRY, ConnectionOptions()) is not None


# --- auth_method and the options --------------------------------------------------------------

@pytest.fixture
def docker_config(tmp_path: pathlib.Path) -> str:
    return _write_json(tmp_path / "cfg" / "config.json", {"auths": {REGISTRY: {"auth": _auth("cfg-user", "pw-cfg")}}})


# options, expected (username, password, token) or None
METHODS: list[tuple[dict[str, t.Any], tuple[str | None, str | None, str | None] | None]] = [
    ({}, ("cfg-user", "pw-cfg", None)),
    ({"username": "opt-user", "password": "pw-opt"}, ("opt-user", "pw-opt", None)),
    ({"token": "opt-token"}, (None, None, "opt-token")),
    ({"username": "opt-user", "token": "opt-token"}, ("opt-user", None, "opt-token")),
    ({"auth_method": "none", "username": "opt-user", "password": "pw-opt"}, None),
    ({"auth_method": "none"}, None),
    ({"auth_method": "password", "username": "opt-user", "password": "pw-opt"}, ("opt-user", "pw-opt", None)),
    ({"auth_method": "password", "token": "opt-token"}, (None, None, "opt-token")),
    ({"auth_method": "docker_config", "username": "opt-user", "password": "pw-opt"}, ("cfg-user", "pw-cfg", None)),
    ({"auth_method": "docker_config"}, ("cfg-user", "pw-cfg", None)),
    # An empty password is a password (some registries accept a token as the user name).
    ({"username": "opt-user", "password": ""}, ("opt-user", "", None)),
]


@pytest.mark.parametrize("options, expected", METHODS)
def test_auth_method(docker_config: str, options: dict[str, t.Any], expected: tuple[str | None, str | None, str | None] | None) -> None:
    found = find_credentials(REGISTRY, ConnectionOptions(docker_config=docker_config, **options))
    if expected is None:
        assert found is None
    else:
        assert found is not None
        assert (found.username, found.password, found.token) == expected


@pytest.mark.parametrize("options, message", [
    ({"username": "opt-user"}, "only username is set"),
    ({"password": "pw-opt"}, "only password is set"),
    ({"auth_method": "password", "username": "opt-user"}, "only username is set"),
    ({"auth_method": "password"}, "auth_method password needs username and password, or token"),
    ({"auth_method": "kerberos"}, "auth_method 'kerberos' is not one of auto, none, password, docker_config, google"),
])
def test_auth_method_invalid(docker_config: str, options: dict[str, t.Any], message: str) -> None:
    with pytest.raises(InvalidInputError) as exc:
        find_credentials(REGISTRY, ConnectionOptions(docker_config=docker_config, **options))
    assert message in str(exc.value)
    assert "pw-opt" not in str(exc.value)


def test_auth_method_none_reads_no_file(tmp_path: pathlib.Path) -> None:
    # A broken docker config does not matter when nothing is to be read.
    path = _write_json(tmp_path / "config.json", "{broken")
    assert find_credentials(REGISTRY, ConnectionOptions(auth_method="none", docker_config=path)) is None
    assert find_credentials(REGISTRY, ConnectionOptions(username="u", password="pw-u", docker_config=path)) is not None


# --- Google -----------------------------------------------------------------------------------
# google.auth.default is replaced: no Google endpoint is reachable from here, and Application
# Default Credentials need a real Google account (and, on no account, would probe the GCE metadata server).

GOOGLE_TOKEN = "ya29.fake-google-access-token"


class FakeGoogleCredentials:
    def __init__(self, token: str | None) -> None:
        self.token: str | None = None
        self._next = token
        self.refreshed_with: list[t.Any] = []

    def refresh(self, request: t.Any) -> None:
        self.refreshed_with.append(request)
        self.token = self._next


class FakeGoogleAuth:
    def __init__(self, token: str | None = GOOGLE_TOKEN, error: Exception | None = None) -> None:
        self.token = token
        self.error = error
        self.calls: list[dict[str, t.Any]] = []
        self.credentials: list[FakeGoogleCredentials] = []

    def default(self, scopes: t.Any = None, **kwargs: t.Any) -> tuple[FakeGoogleCredentials, str]:
        self.calls.append(dict(kwargs, scopes=scopes))
        if self.error is not None:
            raise self.error
        creds = FakeGoogleCredentials(self.token)
        self.credentials.append(creds)
        return creds, "fake-project"


@pytest.fixture
def google_auth(monkeypatch: pytest.MonkeyPatch) -> FakeGoogleAuth:
    fake = FakeGoogleAuth()
    monkeypatch.setattr(google.auth, "default", fake.default)
    return fake


@pytest.mark.parametrize("registry", ["gcr.io", "eu.gcr.io", "us.gcr.io", "europe-west1-docker.pkg.dev", "us-docker.pkg.dev", "gcr.io:443"])
def test_google_hosts(google_auth: FakeGoogleAuth, registry: str) -> None:
    found = find_credentials(registry, ConnectionOptions())
    assert found is not None
    assert (found.username, found.password) == ("oauth2accesstoken", GOOGLE_TOKEN)
    assert google_auth.calls == [{"scopes": ["https://www.googleapis.com/auth/cloud-platform"]}]
    assert len(google_auth.credentials[0].refreshed_with) == 1
    assert GOOGLE_TOKEN not in redact("Authorization: x %s" % GOOGLE_TOKEN)


@pytest.mark.parametrize("registry", [REGISTRY, HUB, "ghcr.io", "quay.io", "gcr.io.example.com", "evilgcr.io", "docker.pkg.dev",
                                      "europe-west1-docker.pkg.dev.example.com", "pkg.dev"])
def test_google_not_asked_for_other_hosts(google_auth: FakeGoogleAuth, registry: str) -> None:
    assert find_credentials(registry, ConnectionOptions()) is None
    assert google_auth.calls == []


def test_google_options_win(google_auth: FakeGoogleAuth) -> None:
    found = find_credentials("gcr.io", ConnectionOptions(username="_json_key", password='{"type": "service_account"}'))
    assert found is not None and found.username == "_json_key"
    assert google_auth.calls == []


def test_google_method_for_any_host(google_auth: FakeGoogleAuth) -> None:
    found = find_credentials(REGISTRY, ConnectionOptions(auth_method="google"))
    assert found is not None and found.username == "oauth2accesstoken"


def test_google_no_default_credentials_auto(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeGoogleAuth(error=google.auth.exceptions.DefaultCredentialsError("Your default credentials were not found."))
    monkeypatch.setattr(google.auth, "default", fake.default)
    assert find_credentials("gcr.io", ConnectionOptions()) is None  # anonymous, as for a public image
    assert len(fake.calls) == 1


def test_google_no_default_credentials_required(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeGoogleAuth(error=google.auth.exceptions.DefaultCredentialsError("Your default credentials were not found."))
    monkeypatch.setattr(google.auth, "default", fake.default)
    with pytest.raises(AuthenticationError) as exc:
        find_credentials("europe-west1-docker.pkg.dev", ConnectionOptions(auth_method="google"))
    message = str(exc.value)
    assert "Google application default credentials are not usable for europe-west1-docker.pkg.dev" in message
    assert "Your default credentials were not found" in message
    assert "gcloud auth application-default login" in message
    assert "GOOGLE_APPLICATION_CREDENTIALS" in message


def test_google_refused_key_reads_as_words(monkeypatch: pytest.MonkeyPatch) -> None:
    # google-auth raises RefreshError(message, response body): its str() would be the repr of that tuple.
    refused = google.auth.exceptions.RefreshError("invalid_grant: Invalid JWT Signature.",
                                                  {"error": "invalid_grant", "error_description": "Invalid JWT Signature."})
    fake = FakeGoogleAuth(error=refused)
    monkeypatch.setattr(google.auth, "default", fake.default)
    with pytest.raises(AuthenticationError) as exc:
        find_credentials("gcr.io", ConnectionOptions(auth_method="google"))
    assert "not usable for gcr.io: invalid_grant: Invalid JWT Signature. Hint:" in str(exc.value)
    assert "('invalid_grant" not in str(exc.value) and "error_description" not in str(exc.value)


def test_google_refresh_gives_no_token(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeGoogleAuth(token=None)
    monkeypatch.setattr(google.auth, "default", fake.default)
    assert GoogleSource(required=True).credentials("gcr.io") is None


# --- Credentials ------------------------------------------------------------------------------

@pytest.mark.parametrize("credentials", [
    Credentials("alice", "pw-repr-password", source="the username/password options"),
    Credentials("alice", token="tok-repr-token", source="the token option"),
    Credentials(identity_token="id-repr-identity", source="docker config"),
    Credentials("oauth2accesstoken", "ya29.repr-google", source="Google application default credentials"),
])
def test_credentials_repr_hides_secrets(credentials: Credentials) -> None:
    for text in (repr(credentials), str(credentials), "%s" % [credentials], "%r" % {"c": credentials}):
        for secret in (credentials.password, credentials.token, credentials.identity_token):
            if secret:
                assert secret not in text
        assert credentials.source in text


# --- repository-scoped keys (podman, containers-auth.json(5)) and the one key matcher -----------

def test_repository_scoped_entry_wins_in_podman_file(tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _write_json(tmp_path / "auth.json", {"auths": {
        "quay.io": {"auth": _auth("wide", "pw-wide")}, "quay.io/org": {"auth": _auth("org", "pw-org")}}})
    monkeypatch.setenv("REGISTRY_AUTH_FILE", path)
    options = ConnectionOptions()
    found = [find_credentials("quay.io", options, repo) for repo in ("org/app", "other/app", None)]
    assert [c.username for c in found if c] == ["org", "wide", "wide"]
