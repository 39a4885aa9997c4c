# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

import json
import os
import pathlib
import stat

import pytest

from ansible_collections.oci.registry.plugins.module_utils.wire._authfile import default_auth_file, docker_config_file, matching_keys, parse_auth_key
from ansible_collections.oci.registry.plugins.module_utils.wire._authwrite import AuthFile, encode_entry, plan
from ansible_collections.oci.registry.plugins.module_utils.wire._credentials import DockerConfigSource
from ansible_collections.oci.registry.plugins.module_utils.wire._connection import Credentials
from ansible_collections.oci.registry.plugins.module_utils.model._errors import InvalidInputError

ALICE = Credentials("alice", "pw-alice")
REGISTRY = "registry.example.com:5000"
HUB = "docker.io"
HUB_KEY = "https://index.docker.io/v1/"


@pytest.fixture(autouse=True)
def clean_env(tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> pathlib.Path:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    for name in ("DOCKER_CONFIG", "REGISTRY_AUTH_FILE", "XDG_RUNTIME_DIR"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


# env, docker_config option, expected (path relative to tmp_path, source)
DEFAULTS = [
    ({}, None, ("home/.docker/config.json", "default")),
    ({"XDG_RUNTIME_DIR": "run"}, None, ("run/containers/auth.json", "XDG_RUNTIME_DIR")),
    ({"XDG_RUNTIME_DIR": "run"}, "dcfg", ("dcfg/config.json", "docker_config")),
    ({"XDG_RUNTIME_DIR": "run"}, "my.json", ("my.json", "docker_config")),
    ({"XDG_RUNTIME_DIR": "run", "REGISTRY_AUTH_FILE": "podman.json"}, "dcfg", ("podman.json", "REGISTRY_AUTH_FILE")),
]


@pytest.mark.parametrize("env, docker_config, expected", DEFAULTS)
def test_default_auth_file(tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch, env: dict[str, str],
                           docker_config: str | None, expected: tuple[str, str]) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, str(tmp_path / value))
    got = default_auth_file(str(tmp_path / docker_config) if docker_config else None)
    assert got == (str(tmp_path / expected[0]), expected[1])


# existing auths, registry, credentials (None: log out), expected changed, expected auths after
PLANS = [
    ({}, "r.example.com", ALICE, True, {"r.example.com": encode_entry(ALICE)}),
    ({"r.example.com": encode_entry(ALICE)}, "r.example.com", ALICE, False, {"r.example.com": encode_entry(ALICE)}),
    # The same credentials in another form count as the same.
    ({"r.example.com": {"username": "alice", "password": "pw-alice"}}, "r.example.com", ALICE, False,
     {"r.example.com": {"username": "alice", "password": "pw-alice"}}),
    # Another spelling of the registry is updated in place; scoped entries and other registries stay.
    ({"https://r.example.com": {"auth": "eDp5"}, "r.example.com/org": {"auth": "eDp6"}, "o.example.com": {}}, "r.example.com", ALICE, True,
     {"https://r.example.com": encode_entry(ALICE), "r.example.com/org": {"auth": "eDp6"}, "o.example.com": {}}),
    ({}, "docker.io", ALICE, True, {"https://index.docker.io/v1/": encode_entry(ALICE)}),
    ({}, "r.example.com", Credentials("bot", token="id-token"), True, {"r.example.com": {"identitytoken": "id-token", "auth": "Ym90Og=="}}),
    # Logging out removes every registry-wide spelling, nothing else.
    ({"docker.io": {}, "https://index.docker.io/v1/": {}, "docker.io/library/nginx": {}}, "docker.io", None, True,
     {"docker.io/library/nginx": {}}),
    ({"o.example.com": {}}, "r.example.com", None, False, {"o.example.com": {}}),
]


@pytest.mark.parametrize("auths, registry, creds, changed, after", PLANS)
def test_plan(auths: dict, registry: str, creds: Credentials | None, changed: bool, after: dict) -> None:
    auth = AuthFile("unused")
    auth.data = {"auths": json.loads(json.dumps(auths))}
    change = plan(auth, registry, creds)
    assert change.changed == changed and change.helper_action is None
    assert auth.auths == after
    assert "pw-alice" not in repr(change) and "id-token" not in repr(change)


def test_write_is_atomic_private_and_keeps_other_keys(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "new" / "dir" / "auth.json"
    auth = AuthFile(str(path)).load()
    auth.data = {"auths": {}, "credHelpers": {"x.example.com": "x"}, "psFormat": "table"}
    plan(auth, "r.example.com", ALICE)
    auth.write()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600 and stat.S_IMODE(os.stat(path.parent).st_mode) == 0o700
    assert json.loads(path.read_text()) == {"auths": {"r.example.com": encode_entry(ALICE)}, "credHelpers": {"x.example.com": "x"},
                                            "psFormat": "table"}
    assert os.listdir(path.parent) == ["auth.json"]


def test_symlinked_file_stays_a_link(tmp_path: pathlib.Path) -> None:
    (tmp_path / "real.json").write_text('{"auths": {}}')
    (tmp_path / "link.json").symlink_to(tmp_path / "real.json")
    auth = AuthFile(str(tmp_path / "link.json")).load()
    plan(auth, "r.example.com", ALICE)
    auth.write()
    assert os.path.islink(tmp_path / "link.json") and "r.example.com" in (tmp_path / "real.json").read_text()


@pytest.mark.parametrize("content", [b'{"auths": {', b'[]', b'{"auths": []}', b'\xff\xfe'])
def test_malformed_file_is_named(tmp_path: pathlib.Path, content: bytes) -> None:
    path = tmp_path / "auth.json"
    path.write_bytes(content)
    with pytest.raises(InvalidInputError, match=str(path)):
        AuthFile(str(path)).load()


# --- key spellings: one matcher for reading and writing ----------------------------------------

# registry, repository, keys in the file, the keys that apply, best first
SCOPED = [
    ("quay.io", "org/team/app", ["quay.io", "quay.io/org", "quay.io/org/team/app", "quay.io/org/team"],
     ["quay.io/org/team/app", "quay.io/org/team", "quay.io/org", "quay.io"]),
    # A namespace key never applies to another namespace, nor to a name that only starts the same.
    ("quay.io", "organic/app", ["quay.io/org", "quay.io"], ["quay.io"]),
    ("quay.io", "org/app", ["quay.io/org/app/sub", "quay.io/other"], []),
    # Without a repository only the registry's own keys apply.
    ("quay.io", None, ["quay.io/org", "https://quay.io", "quay.io"], ["quay.io", "https://quay.io"]),
    # docker's forms with a scheme or /v1/, /v2/ are registry-wide.
    (REGISTRY, "a/b", ["https://registry.example.com:5000/a", "registry.example.com:5000/v2/"],
     ["https://registry.example.com:5000/a", "registry.example.com:5000/v2/"]),
    # Docker Hub: podman's docker.io/library/nginx, then docker's v1 key before podman's docker.io.
    (HUB, "library/nginx", ["docker.io", HUB_KEY, "docker.io/library/nginx", "docker.io/library"],
     ["docker.io/library/nginx", "docker.io/library", HUB_KEY, "docker.io"]),
]


@pytest.mark.parametrize("registry, repository, keys, expected", SCOPED)
def test_matching_keys(registry: str, repository: str | None, keys: list[str], expected: list[str]) -> None:
    assert matching_keys({key: {} for key in keys}, registry, repository) == expected


@pytest.mark.parametrize("key, expected", [
    ("quay.io", ("quay.io", "")), ("Quay.IO/Org", ("quay.io", "org")), ("https://quay.io/v1/", ("quay.io", "")),
    ("http://quay.io/org", ("quay.io", "")), ("quay.io/v1/", ("quay.io", "")), ("quay.io/org/app/", ("quay.io", "org/app")),
])
def test_parse_auth_key(key: str, expected: tuple[str, str]) -> None:
    assert parse_auth_key(key) == expected


# docker_config value (relative to tmp_path; "dir/" is created as a directory, "file.json" as a file), expected file
DOCKER_CONFIG_FILES = [
    ("dir/", "dir/config.json"),            # an existing directory holds config.json
    ("conf.d.json/", "conf.d.json/config.json"),  # even when its name ends in .json
    ("file.json", "file.json"),             # an existing file is the file
    ("auth", "auth"),                       # an existing file, whatever its name
    ("missing", "missing/config.json"),     # a missing path reads as docker's directory
    ("missing.json", "missing.json"),       # a missing .json path is the file itself
]


@pytest.mark.parametrize("location, expected", DOCKER_CONFIG_FILES)
def test_docker_config_is_a_file_or_a_directory_one_way(tmp_path: pathlib.Path, location: str, expected: str) -> None:
    """Reading (auth_method docker_config) and writing (registry_login) take the same file from docker_config."""
    path = tmp_path / location.rstrip("/")
    if location.endswith("/"):
        path.mkdir()
    elif not location.startswith("missing"):
        path.write_text("{}")
    assert docker_config_file(str(path)) == str(tmp_path / expected)
    assert DockerConfigSource(str(path)).path == default_auth_file(str(path))[0] == str(tmp_path / expected)
