# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Bad-input matrix: every invalid input gives one actionable line, no traceback, and no write.

Rows run in-process (argspec validation as AnsibleModule does it, the connection checks of run_module,
then the module's run(); the lookup through the plugin loader; the reference filter, whose test must answer false)
against the harness's real registries; the registries' own /metrics must show no accepted PUT/POST/PATCH/DELETE
afterwards. A representative subset runs through the installed collection (one ad hoc command, one playbook), where
the task result must also carry no `exception`.
"""

from __future__ import annotations

import json
import os

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.oci.registry.plugins.filter.reference import FilterModule
from ansible_collections.oci.registry.plugins.test.reference import TestModule as ReferenceTests  # not a pytest class
from ansible_collections.oci.registry.plugins.modules import registry_archive as archive
from ansible_collections.oci.registry.plugins.modules import registry_login as login
from ansible_collections.oci.registry.plugins.modules import registry_manifest_info as manifest_info
from ansible_collections.oci.registry.plugins.modules import registry_repo_delete as repo_delete
from ansible_collections.oci.registry.plugins.modules import registry_search_info as search_info
from ansible_collections.oci.registry.plugins.modules import registry_tag as tag
from ansible_collections.oci.registry.plugins.modules import registry_sync as sync
from ansible_collections.oci.registry.plugins.modules import registry_tags_info as tags_info

from harness.seed import push_image
from stress import accepted_writes, assert_one_line, registry_writes, run_lookup, run_module

BAD_DIGEST = 'sha256:' + 'ab' * 31
TEST_PLUGIN = ReferenceTests()
MODULES = {'registry_manifest_info': manifest_info, 'registry_repo_delete': repo_delete, 'registry_login': login, 'registry_tag': tag,
           'registry_archive': archive, 'registry_search_info': search_info, 'registry_tags_info': tags_info, 'registry_sync': sync}


def _docker_config(tmp, content):
    path = os.path.join(tmp, 'config.json')
    with open(path, 'w', encoding='utf-8') as handle:
        handle.write(content if isinstance(content, str) else json.dumps(content))
    return tmp


def _open(h, image='test/oci-image:v1', **extra):
    return dict({'image': '%s/%s' % (h.open.host, image), 'plain_http': True, 'timeout': 2, 'retries': 0}, **extra)


def _tls(h, image='test/oci-image:v1', **extra):
    return dict({'image': '%s/%s' % (h.basic_tls.host, image), 'timeout': 2, 'retries': 0}, **extra)


def _token(h, image='test/oci-image:v1', **extra):
    return dict({'image': '%s/%s' % (h.token.host, image), 'plain_http': True, 'timeout': 2, 'retries': 0}, **extra)


def _delete(h, repository='test/oci-image', **extra):
    return dict({'repository': '%s/%s' % (h.open.host, repository), 'plain_http': True, 'timeout': 2, 'retries': 0}, **extra)


def _login(h, d, **extra):
    return dict({'registry': h.token.host, 'plain_http': True, 'timeout': 2, 'retries': 0, 'auth_file': os.path.join(d, 'auth.json')},
                **extra)


def _tag(h, source='test/oci-image:v1', **extra):
    return dict({'source': '%s/%s' % (h.open.host, source), 'tags': ['copy'], 'plain_http': True, 'timeout': 2, 'retries': 0}, **extra)


def _archive(h, d, **extra):
    return dict({'state': 'exported', 'path': os.path.join(d, 'out.tar'), 'images': ['%s/test/oci-image:v1' % h.open.host],
                 'plain_http': True, 'timeout': 2, 'retries': 0}, **extra)


def _corrupt_archive(d, content):
    path = os.path.join(d, 'corrupt.tar')
    with open(path, 'wb') as handle:
        handle.write(content)
    return path


def _tags(h, repository='test/oci-image', **extra):
    return dict({'repository': '%s/%s' % (h.open.host, repository), 'plain_http': True, 'timeout': 2, 'retries': 0}, **extra)


def _sync(h, entry=None, **extra):
    entry = dict({'source': '%s/test/oci-image' % h.open.host, 'target': '%s/bad/sync' % h.open.host}, **(entry or {}))
    return dict({'repositories': [entry], 'plain_http': True, 'timeout': 2, 'retries': 0}, **extra)


def _search(h, **extra):
    return dict({'registry': h.open.host, 'plain_http': True, 'timeout': 2, 'retries': 0}, **extra)


def _no_deletes(h):
    """A registry with storage.delete.enabled off, holding one image (started once, on first use)."""
    if 'nodelete' not in h.registries:
        h.add_registry('nodelete', 'open', delete_enabled=False)
        push_image(h['nodelete'], 'keep/me', 'v1')
    return h['nodelete']


def _tar_without_index():
    """A valid tar that is no OCI layout: an oci-layout file and nothing else."""
    import io  # pylint: disable=import-outside-toplevel
    import tarfile  # pylint: disable=import-outside-toplevel
    data, raw = b'{"imageLayoutVersion": "1.0.0"}', io.BytesIO()
    with tarfile.open(fileobj=raw, mode='w') as tar:
        info = tarfile.TarInfo('oci-layout')
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return raw.getvalue()


def _closed_port():
    import socket  # pylint: disable=import-outside-toplevel
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return '127.0.0.1:%d' % sock.getsockname()[1]


# (id, plugin, params(harness, tmp) -> dict, needles the one-line message must contain)
# plugin: a module name in MODULES, or 'lookup' (params: terms plus options).
ROWS = [
    # references, tags, digests
    ('image-uppercase', 'registry_manifest_info', lambda h, d: _open(h, 'Test/App:v1'), ['image', 'lowercase']),
    ('image-bad-tag', 'registry_manifest_info', lambda h, d: _open(h, 'test/app:-bad'), ['image', 'tag']),
    ('image-tag-too-long', 'registry_manifest_info', lambda h, d: _open(h, 'test/app:' + 'a' * 129), ['image', '129 characters']),
    ('image-short-digest', 'registry_manifest_info', lambda h, d: _open(h, 'test/app@' + BAD_DIGEST), ['image', '64', 'hex']),
    ('image-md5-digest', 'registry_manifest_info', lambda h, d: _open(h, 'test/app@md5:' + 'a' * 32), ['image', 'algorithm']),
    ('image-empty', 'registry_manifest_info', lambda h, d: _open(h, ''), ['image']),
    ('image-with-space', 'registry_manifest_info', lambda h, d: _open(h, 'test/my app:v1'), ['image']),
    ('image-with-scheme', 'registry_manifest_info', lambda h, d: dict(_open(h), image='https://%s/test/app:v1' % h.open.host),
     ['image']),
    ('image-double-slash', 'registry_manifest_info', lambda h, d: _open(h, 'test//app:v1'), ['image']),
    # platforms
    ('platform-no-arch', 'registry_manifest_info', lambda h, d: _open(h, platform='linux'), ['platform', 'os/architecture']),
    ('platform-too-long', 'registry_manifest_info', lambda h, d: _open(h, platform='linux/arm64/v8/x'), ['platform', 'os/architecture']),
    ('platform-absent', 'registry_manifest_info', lambda h, d: _open(h, 'test/multiarch:v1', platform='linux/s390x'),
     ['linux/s390x', 'linux/amd64', 'linux/arm64']),
    ('platform-single-image-mismatch', 'registry_manifest_info', lambda h, d: _open(h, platform='linux/arm64'),
     ['single-platform', 'linux/amd64']),
    # option types and values
    ('config-not-bool', 'registry_manifest_info', lambda h, d: _open(h, config='maybe'), ['config', 'bool']),
    ('timeout-not-number', 'registry_manifest_info', lambda h, d: _open(h, timeout='soon'), ['timeout', 'float']),
    ('timeout-zero', 'registry_manifest_info', lambda h, d: _open(h, timeout=0), ['timeout must be a positive']),
    ('timeout-negative', 'registry_manifest_info', lambda h, d: _open(h, timeout=-5), ['timeout must be a positive']),
    ('retries-too-many', 'registry_manifest_info', lambda h, d: _open(h, retries=11), ['retries must be between 0 and 10']),
    ('retries-negative', 'registry_manifest_info', lambda h, d: _open(h, retries=-1), ['retries must be between 0 and 10']),
    ('retries-not-int', 'registry_manifest_info', lambda h, d: _open(h, retries='many'), ['retries', 'int']),
    ('auth-method-unknown', 'registry_manifest_info', lambda h, d: _open(h, auth_method='kerberos'), ['auth_method', 'one of']),
    ('unknown-option', 'registry_manifest_info', lambda h, d: dict(_open(h), imagee='x'), ['imagee', 'supported parameters']),
    ('image-missing', 'registry_manifest_info', lambda h, d: {'plain_http': True}, ['missing required', 'image']),
    # conflicting options
    ('username-without-password', 'registry_manifest_info', lambda h, d: _token(h, username='reader'),
     ['username and password must be given together']),
    ('password-without-username', 'registry_manifest_info', lambda h, d: _token(h, password='x' * 12),
     ['username and password must be given together']),
    ('ca-cert-and-no-validation', 'registry_manifest_info', lambda h, d: _tls(h, ca_cert=h.basic_tls.ca_cert, validate_certs=False),
     ['contradict']),
    ('ca-cert-missing-file', 'registry_manifest_info', lambda h, d: _tls(h, ca_cert=os.path.join(d, 'nope.pem')), ['ca_cert', 'not a readable file']),
    ('auth-method-password-without-credentials', 'registry_manifest_info', lambda h, d: _token(h, auth_method='password'),
     ['auth_method password needs username and password']),
    # credentials, TLS, HTTP vs HTTPS, reachability
    ('wrong-password-basic', 'registry_manifest_info',
     lambda h, d: _tls(h, ca_cert=h.basic_tls.ca_cert, username=h.basic_tls.admin_user, password='wrong-password'),
     ['HTTP 401', 'check username/password']),
    ('wrong-password-token', 'registry_manifest_info', lambda h, d: _token(h, username='reader', password='wrong-password'),
     ['token request', 'HTTP 401', 'user reader']),
    ('anonymous-on-private-token-repo', 'registry_manifest_info', lambda h, d: _token(h, auth_method='none'),
     ['HTTP 401', 'no credentials were found']),
    ('untrusted-tls', 'registry_manifest_info', lambda h, d: _tls(h), ['TLS', 'ca_cert']),
    ('plain-http-against-https', 'registry_manifest_info', lambda h, d: _tls(h, plain_http=True), ['plain_http: false']),
    ('https-against-plain-http', 'registry_manifest_info', lambda h, d: _open(h, plain_http=False), ['plain_http: true']),
    ('nothing-listening', 'registry_manifest_info', lambda h, d: dict(_open(h), image=_closed_port() + '/test/app:v1'),
     ['cannot connect', 'Connection refused']),
    ('multiarch-config-without-platform', 'registry_manifest_info', lambda h, d: _open(h, 'test/multiarch:v1', config=True),
     ['multi-arch', 'set platform']),
    # malformed auth files
    ('docker-config-not-json', 'registry_manifest_info', lambda h, d: _token(h, docker_config=_docker_config(d, '{"auths": ')),
     ['docker config', 'fix or remove the file']),
    ('docker-config-not-object', 'registry_manifest_info', lambda h, d: _token(h, docker_config=_docker_config(d, '[1, 2]')),
     ['docker config', 'not a JSON object']),
    ('docker-config-bad-base64', 'registry_manifest_info',
     lambda h, d: _token(h, docker_config=_docker_config(d, {'auths': {h.token.host: {'auth': 'bm8tY29sb24taGVyZQ=='}}})),
     ['"auth" value', 'base64 of user:password']),
    ('docker-config-helper-missing', 'registry_manifest_info',
     lambda h, d: _token(h, docker_config=_docker_config(d, {'credHelpers': {h.token.host: 'nonexistent-helper'}})),
     ['docker-credential-nonexistent-helper', 'not on PATH']),
    # registry_repo_delete
    ('delete-bad-repository', 'registry_repo_delete', lambda h, d: _delete(h, 'Bad/Repo', tags=['v1']), ['repository']),
    ('delete-repository-with-tag', 'registry_repo_delete', lambda h, d: _delete(h, 'test/oci-image:v1', tags=['v1']), ['repository']),
    ('delete-bad-tag', 'registry_repo_delete', lambda h, d: _delete(h, tags=['-v1']), ['tags', 'tag']),
    ('delete-bad-digest', 'registry_repo_delete', lambda h, d: _delete(h, digests=[BAD_DIGEST]), ['digests', '64']),
    ('delete-nothing-named', 'registry_repo_delete', lambda h, d: _delete(h), ['nothing to delete', 'all_tags']),
    ('delete-all-tags-and-tags', 'registry_repo_delete', lambda h, d: _delete(h, tags=['v1'], all_tags=True), ['all_tags', 'cannot be combined']),
    ('delete-force-not-bool', 'registry_repo_delete', lambda h, d: _delete(h, tags=['v1'], force='sometimes'), ['force', 'bool']),
    ('delete-tags-not-list-of-str', 'registry_repo_delete', lambda h, d: _delete(h, tags=[{'a': 1}]), ['tags']),
    ('delete-collateral-tags', 'registry_repo_delete', lambda h, d: _delete(h, tags=['v1']), ['latest', 'force']),
    ('delete-wrong-password', 'registry_repo_delete',
     lambda h, d: dict(_delete(h), repository='%s/test/oci-image' % h.token.host, tags=['v1'], username='admin', password='wrong-password'),
     ['HTTP 401']),
    ('delete-reader-not-allowed', 'registry_repo_delete',
     lambda h, d: dict(_delete(h), repository='%s/test/docker-image' % h.token.host, tags=['v1'], username='reader',
                       password=h.token.users['reader']), ['insufficient scope']),
    ('delete-deletes-disabled', 'registry_repo_delete',
     lambda h, d: dict(_delete(h), repository='%s/keep/me' % _no_deletes(h).host, tags=['v1']), ['deletes are disabled', 'storage.delete.enabled']),
    # registry_login
    ('login-registry-with-scheme', 'registry_login', lambda h, d: _login(h, d, registry='https://%s' % h.token.host, username='reader',
                                                                         password=h.token.users['reader']), ['registry', 'host[:port]']),
    ('login-registry-with-path', 'registry_login', lambda h, d: _login(h, d, registry='%s/team' % h.token.host, username='reader',
                                                                       password=h.token.users['reader']), ['registry', 'host[:port]']),
    # One grammar for every option that names a registry: a trailing "/" is refused the same way everywhere.
    ('login-registry-trailing-slash', 'registry_login', lambda h, d: _login(h, d, registry='%s/' % h.token.host, username='reader',
                                                                            password=h.token.users['reader']), ['registry', 'trailing "/"']),
    ('login-state-unknown', 'registry_login', lambda h, d: _login(h, d, state='gone'), ['state', 'present', 'absent']),
    ('login-present-without-credentials', 'registry_login', _login, ['needs the credentials', 'username and password']),
    ('login-wrong-password', 'registry_login', lambda h, d: _login(h, d, username='reader', password='wrong-password'), ['HTTP 401']),
    ('login-auth-file-not-json', 'registry_login',
     lambda h, d: _login(h, d, auth_file=_docker_config(d, '{"auths": {') + '/config.json', username='reader', password=h.token.users['reader']),
     ['not valid JSON', 'left untouched']),
    ('login-auth-file-not-auths', 'registry_login',
     lambda h, d: _login(h, d, auth_file=_docker_config(d, '[]') + '/config.json', username='reader', password=h.token.users['reader']),
     ['not a docker/podman auth file']),
    ('login-untrusted-tls', 'registry_login', lambda h, d: _login(h, d, registry=h.basic_tls.host, plain_http=False, username='alice',
                                                                  password='x' * 12), ['TLS', 'ca_cert']),
    # registry_tag
    ('tag-bad-source', 'registry_tag', lambda h, d: _tag(h, 'Test/OCI:v1'), ['source', 'lowercase']),
    ('tag-bad-target-tag', 'registry_tag', lambda h, d: _tag(h, tags=['ok', '.bad']), ['tag', '.bad']),
    ('tag-no-tags', 'registry_tag', lambda h, d: _tag(h, tags=[]), ['tags']),
    ('tag-bad-repository', 'registry_tag', lambda h, d: _tag(h, repository='Not Valid'), ['repository']),
    ('tag-overwrite-not-bool', 'registry_tag', lambda h, d: _tag(h, overwrite='perhaps'), ['overwrite', 'bool']),
    ('tag-source-auth-unknown-key', 'registry_tag', lambda h, d: _tag(h, source_auth={'pasword': 'x'}), ['source_auth', 'pasword']),
    ('tag-missing-source', 'registry_tag', lambda h, d: _tag(h, 'test/nothing:v1'), ['test/nothing:v1', 'not found']),
    ('tag-reader-cannot-push', 'registry_tag', lambda h, d: dict(_tag(h), source='%s/test/oci-image:v1' % h.token.host, username='reader',
                                                                 password=h.token.users['reader']), ['insufficient scope']),
    # registry_archive
    ('archive-state-unknown', 'registry_archive', lambda h, d: _archive(h, d, state='saved'), ['state', 'exported', 'imported']),
    ('archive-export-without-images', 'registry_archive', lambda h, d: _archive(h, d, images=None), ['images']),
    ('archive-export-bad-image', 'registry_archive', lambda h, d: _archive(h, d, images=['%s/Bad:v1' % h.open.host]), ['lowercase']),
    ('archive-export-bad-platform', 'registry_archive', lambda h, d: _archive(h, d, platforms=['linux']), ['platform', 'os/architecture']),
    ('archive-import-missing-file', 'registry_archive', lambda h, d: _archive(h, d, state='imported', path=os.path.join(d, 'nope.tar'),
                                                                              images=None, registry=h.open.host), ['nope.tar']),
    ('archive-import-corrupt', 'registry_archive',
     lambda h, d: _archive(h, d, state='imported', path=_corrupt_archive(d, b'this is not a tar archive at all' * 40), images=None,
                           registry=h.open.host), ['corrupt.tar']),
    ('archive-import-truncated-tar', 'registry_archive',
     lambda h, d: _archive(h, d, state='imported', path=_corrupt_archive(d, _tar_without_index()), images=None,
                           registry=h.open.host), ['corrupt.tar']),
    # registry_tags_info
    ('tags-bad-match-regex', 'registry_tags_info', lambda h, d: _tags(h, match='v(1'), ['match', 'regular expression']),
    ('tags-bad-exclude-regex', 'registry_tags_info', lambda h, d: _tags(h, exclude='*latest'), ['exclude', 'regular expression']),
    ('tags-sort-unknown', 'registry_tags_info', lambda h, d: _tags(h, sort='age'), ['sort', 'semver']),
    ('tags-order-unknown', 'registry_tags_info', lambda h, d: _tags(h, order='up'), ['order', 'asc']),
    ('tags-limit-negative', 'registry_tags_info', lambda h, d: _tags(h, limit=-1), ['limit']),
    ('tags-workers-zero', 'registry_tags_info', lambda h, d: _tags(h, workers=0), ['workers']),
    ('tags-bad-semver', 'registry_tags_info', lambda h, d: _tags(h, semver='>=1.26 <two'), ['semver', 'comparator', '<two']),
    ('tags-bad-repository', 'registry_tags_info', lambda h, d: _tags(h, 'Test//x'), ['repository']),
    ('tags-private-anonymous', 'registry_tags_info', lambda h, d: dict(_tags(h), repository='%s/test/oci-image' % h.token.host,
                                                                       auth_method='none'), ['HTTP 401']),
    # registry_sync
    ('sync-unknown-entry-key', 'registry_sync', lambda h, d: _sync(h, {'tag': 'v1'}), ['repositories', 'tag']),
    ('sync-unknown-tags-key', 'registry_sync', lambda h, d: _sync(h, {'tags': {'regex': 'v'}}), ['repositories', 'regex']),
    ('sync-bad-match', 'registry_sync', lambda h, d: _sync(h, {'tags': {'match': 'v(1'}}), ['repositories[0].tags.match', 'regular expression']),
    ('sync-bad-semver', 'registry_sync', lambda h, d: _sync(h, {'tags': {'semver': '~1.2'}}), ['repositories[0].tags.semver', '~1.2']),
    ('sync-target-with-tag', 'registry_sync', lambda h, d: _sync(h, {'target': '%s/bad/sync:v1' % h.open.host}),
     ['repositories[0].target', 'tag']),
    ('sync-source-with-digest', 'registry_sync', lambda h, d: _sync(h, {'source': '%s/test/oci-image@%s' % (h.open.host, 'sha256:' + 'ab' * 32)}),
     ['repositories[0].source']),
    ('sync-same-repository', 'registry_sync', lambda h, d: _sync(h, {'target': '%s/test/oci-image' % h.open.host}), ['same repository']),
    ('sync-bad-pin', 'registry_sync', lambda h, d: _sync(h, {'tags': {'names': ['v1@sha256:1234']}}), ['repositories[0].tags.names', 'digest']),
    ('sync-bad-immutable', 'registry_sync', lambda h, d: _sync(h, immutable=['(']), ['immutable[0]', 'regular expression']),
    ('sync-negative-prune-max', 'registry_sync', lambda h, d: _sync(h, prune_max=-1), ['prune_max']),
    ('sync-workers-zero', 'registry_sync', lambda h, d: _sync(h, workers=0), ['workers must be between 1 and 32']),
    ('sync-workers-too-many', 'registry_sync', lambda h, d: _sync(h, workers=33), ['workers must be between 1 and 32']),
    ('sync-bad-platform', 'registry_sync', lambda h, d: _sync(h, platforms=['amd64']), ['platforms', 'os/architecture']),
    ('sync-limit-zero', 'registry_sync', lambda h, d: _sync(h, {'tags': {'limit': 0}}), ['repositories[0].tags.limit']),
    ('sync-no-repositories', 'registry_sync', lambda h, d: _sync(h, repositories=[]), ['repositories']),
    # registry_search_info
    ('search-catalog-refused', 'registry_search_info', lambda h, d: dict(_search(h), registry=h.token.host, username='reader',
                                                                         password=h.token.users['reader']), ['catalog']),
    ('search-bad-registry', 'registry_search_info', lambda h, d: _search(h, registry='https://%s/v2' % h.open.host), ['registry']),
    ('search-registry-trailing-slash', 'registry_search_info', lambda h, d: _search(h, registry='%s/' % h.open.host),
     ['registry', 'trailing "/"']),
    ('search-limit-zero', 'registry_search_info', lambda h, d: _search(h, limit=0), ['limit']),
    # the reference filter (its test answers false for all of these)
    ('filter-uppercase', 'filter', lambda h, d: {'value': 'Registry.example.com/Team/App:1.0'}, ['oci.registry.reference', 'lowercase']),
    ('filter-bad-tag', 'filter', lambda h, d: {'value': 'registry.example.com/app:.hidden'}, ['oci.registry.reference', 'tag']),
    ('filter-bad-digest', 'filter', lambda h, d: {'value': 'registry.example.com/app@sha256:1234'}, ['oci.registry.reference', '64']),
    ('filter-empty', 'filter', lambda h, d: {'value': ''}, ['oci.registry.reference']),
    ('filter-not-a-string', 'filter', lambda h, d: {'value': ['registry.example.com/app']}, ['oci.registry.reference', 'string']),
    ('filter-scheme', 'filter', lambda h, d: {'value': 'https://registry.example.com/app:1'}, ['oci.registry.reference']),
    # the lookup
    ('lookup-workers-zero', 'lookup', lambda h, d: {'terms': ['%s/test/oci-image:v1' % h.open.host], 'workers': 0, 'plain_http': True},
     ['workers must be between 1 and 32']),
    ('lookup-workers-too-many', 'lookup', lambda h, d: {'terms': ['%s/test/oci-image:v1' % h.open.host], 'workers': 33, 'plain_http': True},
     ['workers must be between 1 and 32']),
    ('lookup-output-unknown', 'lookup', lambda h, d: {'terms': ['%s/test/oci-image:v1' % h.open.host], 'output': 'sha', 'plain_http': True},
     ['output', 'sha']),
    ('lookup-term-uppercase', 'lookup', lambda h, d: {'terms': ['%s/Test/App:v1' % h.open.host], 'plain_http': True}, ['Test/App', 'lowercase']),
    ('lookup-term-not-string', 'lookup', lambda h, d: {'terms': [42], 'plain_http': True}, ['42', 'string']),
    ('lookup-platform-bad', 'lookup', lambda h, d: {'terms': ['%s/test/multiarch:v1' % h.open.host], 'platform': 'arm64', 'plain_http': True},
     ['platform', 'os/architecture']),
    ('lookup-missing-image', 'lookup',
     lambda h, d: {'terms': ['%s/test/oci-image:v1' % h.open.host, '%s/test/nothing:v9' % h.open.host], 'plain_http': True},
     ['test/nothing:v9', 'not found']),
    ('lookup-wrong-password', 'lookup',
     lambda h, d: {'terms': ['%s/test/oci-image:v1' % h.token.host], 'plain_http': True, 'username': 'reader', 'password': 'wrong-password'},
     ['HTTP 401', 'user reader']),
    ('lookup-timeout-zero', 'lookup', lambda h, d: {'terms': ['%s/test/oci-image:v1' % h.open.host], 'timeout': 0, 'plain_http': True},
     ['timeout must be a positive']),
    ('lookup-retries-not-int', 'lookup', lambda h, d: {'terms': ['%s/test/oci-image:v1' % h.open.host], 'retries': 'many', 'plain_http': True},
     ['retries', 'many']),
]


def _run_filter(value):
    try:
        return 'ok', FilterModule().filters()['reference'](value)
    except AnsibleFilterError as exc:
        return 'error', exc.message


def _registries(harness):
    return [harness.open, harness.basic_tls, harness.token]


@pytest.fixture(scope='module')
def no_writes(harness):
    """The registries' own write counts before the matrix; each row compares against them."""
    return {r.name: registry_writes(r) for r in _registries(harness)}


def test_the_matrix_is_big_enough():
    assert len(ROWS) >= 40
    assert len({row[0] for row in ROWS}) == len(ROWS)


@pytest.mark.parametrize('row_id,plugin,params,needles', ROWS, ids=[r[0] for r in ROWS])
def test_bad_input_gives_one_actionable_line_and_no_write(harness, tmp_path, no_writes, row_id, plugin, params, needles):
    values = params(harness, str(tmp_path))
    sent = []
    if plugin == 'lookup':
        terms = values.pop('terms')
        kind, message = run_lookup(terms, **values)
    elif plugin == 'filter':
        kind, message = _run_filter(values['value'])
        assert TEST_PLUGIN.tests()['reference'](values['value']) is False
    else:
        kind, message, client = run_module(MODULES[plugin], values)
        sent = client.log.records
    assert kind == 'error', 'accepted: %r -> %r' % (values, message)
    assert_one_line(message, *needles)
    for secret in ('wrong-password', harness.token.users['reader'], harness.basic_tls.admin_password):
        assert secret not in message
    assert accepted_writes(sent) == []
    assert {r.name: registry_writes(r) for r in _registries(harness)} == no_writes, sent


def test_a_missing_image_or_repository_is_not_an_error_for_the_info_modules(harness):
    kind, result, _client = run_module(manifest_info, _open(harness, 'test/nothing-here:v1'))
    assert kind == 'ok' and result['exists'] is False
    kind, result, _client = run_module(tags_info, _tags(harness, 'test/nothing-here'))
    assert kind == 'ok' and result['exists'] is False and result['tags'] == []


# A representative subset through the installed collection: one ad hoc command, the rest as tasks of one playbook
# (each ansible process costs seconds on a busy machine). The user sees one line, no traceback, no `exception`.
ADHOC = 'image-bad-tag'
PLAYBOOK = ['timeout-not-number', 'wrong-password-token', 'untrusted-tls', 'docker-config-not-json', 'multiarch-config-without-platform',
            'ca-cert-and-no-validation']


def _check_result(name, needles, result, output):
    assert 'Traceback' not in output, (name, output)
    assert result.get('failed', True) is True, (name, result)
    # ansible-core 2.19 puts '(traceback unavailable)' there for its own argspec failures: harmless, no traceback shown
    assert result.get('exception') in (None, '(traceback unavailable)'), (name, result.get('exception'))
    assert_one_line(result['msg'], *needles)


def test_subset_through_the_installed_collection(ansible, harness, tmp_path, no_writes):
    rows = {row[0]: row for row in ROWS}
    _id, plugin, params, needles = rows[ADHOC]
    run = ansible.adhoc('oci.registry.%s' % plugin, json.dumps(params(harness, str(tmp_path))))
    assert run.rc != 0 and 'localhost | FAILED! => ' in run.stdout, run.output
    _check_result(ADHOC, needles, json.loads(run.stdout.split('localhost | FAILED! => ', 1)[1]), run.output)

    tasks, out = [], tmp_path / 'results.json'
    for index, name in enumerate(PLAYBOOK):
        directory = tmp_path / name
        directory.mkdir()
        tasks.append('- name: %s\n  oci.registry.%s: %s\n  register: r%d\n  ignore_errors: true\n' % (
            name, rows[name][1], json.dumps(rows[name][2](harness, str(directory))), index))
    tasks.append('- ansible.builtin.copy:\n    dest: %s\n    content: "{{ [%s] | to_json }}"\n' % (
        out, ', '.join('r%d' % i for i in range(len(PLAYBOOK)))))
    run = ansible.playbook(''.join(tasks))
    assert run.rc == 0, run.output
    for name, result in zip(PLAYBOOK, json.loads(out.read_text())):
        _check_result(name, rows[name][3], result, run.output)
    assert {r.name: registry_writes(r) for r in _registries(harness)} == no_writes
