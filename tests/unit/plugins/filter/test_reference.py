# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The reference filter and the reference test (one file: they share the grammar and the tables)."""
from __future__ import annotations

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.oci.registry.plugins.filter import reference as reference_filter
from ansible_collections.oci.registry.plugins.test import reference as reference_test

SHA = "sha256:" + "ab" * 32

# input -> registry, repository, tag, digest, name, normalized
VALID = [
    ("nginx", "docker.io", "library/nginx", "latest", None, "docker.io/library/nginx", "docker.io/library/nginx:latest"),
    ("localhost:5000/team/app", "localhost:5000", "team/app", "latest", None, "localhost:5000/team/app",
     "localhost:5000/team/app:latest"),
    ("localhost:5000/team/app:1.4@" + SHA, "localhost:5000", "team/app", "1.4", SHA, "localhost:5000/team/app",
     "localhost:5000/team/app:1.4@" + SHA),
    ("ghcr.io/org/app@" + SHA, "ghcr.io", "org/app", None, SHA, "ghcr.io/org/app", "ghcr.io/org/app@" + SHA),
    ("Registry.Example.COM:0443/a/b/c:v1", "registry.example.com:443", "a/b/c", "v1", None, "registry.example.com:443/a/b/c",
     "registry.example.com:443/a/b/c:v1"),
    ("[::1]:5000/app:dev", "[::1]:5000", "app", "dev", None, "[::1]:5000/app", "[::1]:5000/app:dev"),
    ("index.docker.io/bitnami/redis:7", "docker.io", "bitnami/redis", "7", None, "docker.io/bitnami/redis",
     "docker.io/bitnami/redis:7"),
]

# input -> words the error must contain (the value itself is always checked)
INVALID = [
    ("", ["empty"]),
    ("https://ghcr.io/org/app", ['remove the scheme "https://"']),
    ("Team/App", ["must be lowercase"]),
    ("app:", ["invalid tag"]),
    ("app@sha256:abc", ["64 lowercase hex"]),
    ("host:99999/app", ["out of range"]),
    ("app name", ["whitespace"]),
]


@pytest.mark.parametrize("text,registry,repository,tag,digest,name,normalized", VALID)
def test_filter_splits(text, registry, repository, tag, digest, name, normalized):
    assert reference_filter.parse_reference(text) == {
        "registry": registry, "repository": repository, "tag": tag, "digest": digest, "name": name, "normalized": normalized}


@pytest.mark.parametrize("text,expected_tag,expected_normalized", [
    ("ghcr.io/org/app", None, "ghcr.io/org/app"),
    ("ghcr.io/org/app:2", "2", "ghcr.io/org/app:2"),
])
def test_filter_without_default_tag(text, expected_tag, expected_normalized):
    for default in (None, ""):
        result = reference_filter.parse_reference(text, default_tag=default)
        assert (result["tag"], result["normalized"]) == (expected_tag, expected_normalized)


def test_filter_other_default_tag():
    assert reference_filter.parse_reference("app", default_tag="stable")["normalized"] == "docker.io/library/app:stable"


@pytest.mark.parametrize("text,words", INVALID)
def test_filter_error_names_value(text, words):
    with pytest.raises(AnsibleFilterError) as caught:
        reference_filter.parse_reference(text)
    message = str(caught.value)
    assert message.startswith("oci.registry.reference: ")
    assert f'"{text}"' in message
    for word in words:
        assert word in message


@pytest.mark.parametrize("value", [None, 42, ["nginx"], {"image": "nginx"}])
def test_filter_refuses_non_strings(value):
    with pytest.raises(AnsibleFilterError, match="expected a string"):
        reference_filter.parse_reference(value)


@pytest.mark.parametrize("text", [row[0] for row in VALID])
def test_test_true_for_valid(text):
    assert reference_test.is_reference(text) is True


@pytest.mark.parametrize("value", [row[0] for row in INVALID] + [None, 42, ["nginx"]])
def test_test_false_for_invalid(value):
    assert reference_test.is_reference(value) is False


def test_plugins_register_the_name():
    assert reference_filter.FilterModule().filters() == {"reference": reference_filter.parse_reference}
    assert reference_test.TestModule().tests() == {"reference": reference_test.is_reference}
