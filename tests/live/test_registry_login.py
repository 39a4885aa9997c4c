# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""registry_login, installed, against the harness's Basic-over-TLS and token registries.

Each auth file lives in the test's tmp_path; later steps read credentials from that file alone
(``auth_method: docker_config`` or the podman env), skopeo reads it with ``--authfile``, and the
full ansible output at ``-vvvv`` is scanned for the password, its base64 form and any JWT.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import stat
import subprocess
import sys

import pytest

from ansible_collections.oci.registry.plugins.modules import registry_login
from ansible_collections.oci.registry.plugins.module_utils.client._client import RegistryClient
from ansible_collections.oci.registry.plugins.module_utils.wire._connection import ConnectionOptions

from conftest import assert_ok, connection_vars

# A docker-written file (tab indented, as `docker login` writes it) with entries that must survive.
OTHER = {
    'auths': {
        'other.example.com': {'auth': base64.b64encode(b'other:other-pw').decode()},
        'https://index.docker.io/v1/': {'auth': base64.b64encode(b'hub:hub-pw').decode(), 'email': 'x@example.com'},
    },
    'HttpHeaders': {'User-Agent': 'Docker-Client/24.0'},
    'currentContext': 'default',
}


def docker_written(data):
    return (json.dumps(data, indent='\t') + '\n').encode()


def b64(user, password):
    return base64.b64encode(('%s:%s' % (user, password)).encode()).decode()


def assert_no_secret(output, *secrets):
    for secret in secrets:
        assert secret not in output, 'a secret leaked into the output'
    assert 'eyJ' not in output, 'a JWT leaked into the output'


LOGIN_CYCLE = '''
- name: Check mode with diff writes nothing
  oci.registry.registry_login: "{{ conn | combine({'registry': host, 'auth_file': file}) }}"
  check_mode: true
  diff: true
  register: check
- ansible.builtin.slurp: {src: "{{ file }}"}
  register: after_check
- name: Log in
  oci.registry.registry_login: "{{ conn | combine({'registry': host, 'auth_file': file}) }}"
  register: login
- name: Again, unchanged
  oci.registry.registry_login: "{{ conn | combine({'registry': host, 'auth_file': file}) }}"
  register: again
- name: Read with the written file alone
  oci.registry.registry_manifest_info:
    image: "{{ host }}/test/oci-image:v1"
    ca_cert: "{{ conn.ca_cert | default(omit) }}"
    plain_http: "{{ conn.plain_http }}"
    auth_method: docker_config
    docker_config: "{{ file }}"
  register: read
- ansible.builtin.assert:
    that:
      - "check is changed and check.diff.before == {} and check.diff.after == {host: 'user ' ~ conn.username}"
      - after_check.content | b64decode == original
      - login is changed and login.verified and login.auth_file == file and login.auth_file_source == 'auth_file'
      - login.auth_keys == [host] and login.credential_helper == None
      - again is not changed and again.verified
      - read.exists and read.digest == digest
'''

LOGOUT_CYCLE = '''
- name: Log out in check mode
  oci.registry.registry_login: {registry: "{{ host }}", auth_file: "{{ file }}", state: absent}
  check_mode: true
  register: check
- name: Log out
  oci.registry.registry_login: {registry: "{{ host }}", auth_file: "{{ file }}", state: absent}
  diff: true
  register: logout
- name: Again, unchanged
  oci.registry.registry_login: {registry: "{{ host }}", auth_file: "{{ file }}", state: absent}
  register: again
- ansible.builtin.assert:
    that:
      - check is changed and logout is changed and again is not changed
      - "logout.diff.before == {host: 'user ' ~ user} and logout.diff.after == {}"
'''


@pytest.mark.parametrize('flavour, user', [('basic_tls', 'alice'), ('token', 'admin')])
def test_login_read_skopeo_logout(ansible, harness, tmp_path, flavour, user):
    registry = getattr(harness, flavour)
    password = registry.users[user]
    path = tmp_path / 'auth.json'
    original = docker_written(OTHER)
    path.write_bytes(original)
    conn = connection_vars(registry, user)
    run = ansible.playbook(LOGIN_CYCLE, verbosity=4, extra_vars={
        'conn': conn, 'host': registry.host, 'file': str(path), 'original': original.decode(),
        'digest': harness.seeded[flavour]['oci_image']['digest']})
    assert_ok(run)
    assert_no_secret(run.output, password, b64(user, password))

    data = json.loads(path.read_bytes())
    assert data['auths'][registry.host] == {'auth': b64(user, password)}
    assert {k: v for k, v in data.items() if k != 'auths'} == {k: v for k, v in OTHER.items() if k != 'auths'}
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert os.listdir(tmp_path) == ['auth.json']  # no temporary file left behind

    skopeo = [shutil.which('skopeo') or 'skopeo', 'inspect', '--raw', '--authfile', str(path)]
    if registry.scheme == 'http':
        skopeo.append('--tls-verify=false')
    else:  # a directory with only the CA: skopeo takes any *.key there for a client key
        (tmp_path / 'certs').mkdir()
        shutil.copy(registry.ca_cert, tmp_path / 'certs' / 'ca.crt')
        skopeo += ['--cert-dir', str(tmp_path / 'certs')]
    proc = subprocess.run(skopeo + ['docker://%s/test/oci-image:v1' % registry.host], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)['config']['digest'] == harness.seeded[flavour]['oci_image']['config_digest']

    run = ansible.playbook(LOGOUT_CYCLE, extra_vars={'host': registry.host, 'file': str(path), 'user': user})
    assert_ok(run)
    assert path.read_bytes() == original  # every other entry and key, byte for byte


def test_wrong_password_leaves_the_file_byte_identical(ansible, harness, tmp_path):
    registry = harness.token
    path = tmp_path / 'config.json'
    path.write_bytes(b'{"auths": {"other.example.com": {"auth": "eDp5"}}}')  # not our formatting: must stay as is
    args = dict(connection_vars(registry), registry=registry.host, auth_file=str(path), username='admin', password='wrong-Pa55word')
    run = ansible.adhoc('oci.registry.registry_login', json.dumps(args), verbosity=4)
    assert run.rc != 0
    assert 'authenticating as user admin' in run.output and '401' in run.output
    assert_no_secret(run.output, 'wrong-Pa55word', b64('admin', 'wrong-Pa55word'))
    assert path.read_bytes() == b'{"auths": {"other.example.com": {"auth": "eDp5"}}}'


def test_podman_default_file_and_repository_scoped_keys(ansible, harness, tmp_path):
    """With XDG_RUNTIME_DIR set the podman file is the default; its repository-scoped keys beat the registry's own."""
    registry = harness.token
    runtime = tmp_path / 'run'
    runtime.mkdir()
    env = {'XDG_RUNTIME_DIR': str(runtime), 'OCI_REGISTRY_USERNAME': 'reader', 'OCI_REGISTRY_PASSWORD': registry.users['reader']}
    tasks = '''
- oci.registry.registry_login: {registry: "{{ host }}", plain_http: true}
  register: login
- ansible.builtin.assert:
    that: [login is changed, login.auth_file_source == 'XDG_RUNTIME_DIR', "login.auth_file == runtime ~ '/containers/auth.json'"]
'''
    assert_ok(ansible.playbook(tasks, env=env, extra_vars={'host': registry.host, 'runtime': str(runtime)}))
    path = runtime / 'containers' / 'auth.json'
    assert stat.S_IMODE(os.stat(path.parent).st_mode) == 0o700
    # podman login quay.io/org style: the namespace key holds the good credentials, the registry key a stale one.
    data = json.loads(path.read_text())
    data['auths'] = {registry.host + '/test': data['auths'][registry.host], registry.host: {'auth': b64('reader', 'stale')}}
    path.write_text(json.dumps(data))
    tasks = '''
- oci.registry.registry_manifest_info: {image: "{{ host }}/test/oci-image:v1", plain_http: true}
  register: scoped
- oci.registry.registry_manifest_info: {image: "{{ host }}/public/hello:v1", plain_http: true}
  register: registry_wide
  ignore_errors: true
- ansible.builtin.assert:
    that:
      - scoped.exists
      - registry_wide is failed and 'authenticating as user reader from docker config' in registry_wide.msg
'''
    run = ansible.playbook(tasks, env={'XDG_RUNTIME_DIR': str(runtime)}, extra_vars={'host': registry.host})
    assert_ok(run)
    assert_no_secret(run.output, registry.users['reader'])


HELPER = r'''#!%s
import json, os, sys
path = os.environ['FAKE_HELPER_STORE']
store = json.load(open(path)) if os.path.exists(path) else {}
action, data = sys.argv[1], sys.stdin.read()
if action == 'get':
    if data not in store:
        print('credentials not found in native keychain')
        sys.exit(1)
    print(json.dumps(dict(store[data], ServerURL=data)))
    sys.exit(0)
if action == 'store':
    entry = json.loads(data)
    store[entry['ServerURL']] = {'Username': entry['Username'], 'Secret': entry['Secret']}
elif action == 'erase':
    store.pop(data, None)
with open(path, 'w') as handle:
    json.dump(store, handle)
'''


def test_credential_store_holds_the_secret(ansible, harness, tmp_path):
    """With credsStore the secret goes to docker-credential-test store/erase (a fake helper on PATH)."""
    registry = harness.basic_tls
    bindir = tmp_path / 'bin'
    bindir.mkdir()
    helper = bindir / 'docker-credential-test'
    helper.write_text(HELPER % sys.executable)
    helper.chmod(0o755)
    store = tmp_path / 'store.json'
    path = tmp_path / 'config.json'
    path.write_text(json.dumps({'auths': {registry.host: {'auth': b64('alice', 'old')}}, 'credsStore': 'test'}))
    env = {'PATH': '%s%s%s' % (bindir, os.pathsep, ansible.env['PATH']), 'FAKE_HELPER_STORE': str(store)}
    tasks = '''
- oci.registry.registry_login: "{{ conn | combine({'registry': host, 'auth_file': file}) }}"
  register: login
- oci.registry.registry_login: "{{ conn | combine({'registry': host, 'auth_file': file}) }}"
  register: again
- oci.registry.registry_manifest_info:
    image: "{{ host }}/test/oci-image:v1"
    ca_cert: "{{ conn.ca_cert }}"
    docker_config: "{{ file }}"
    auth_method: docker_config
  register: read
- ansible.builtin.assert:
    that:
      - login is changed and login.credential_helper == 'docker-credential-test' and again is not changed
      - read.exists
'''
    run = ansible.playbook(tasks, env=env, verbosity=4, extra_vars={
        'conn': connection_vars(registry, 'alice'), 'host': registry.host, 'file': str(path)})
    assert_ok(run)
    assert_no_secret(run.output, registry.users['alice'], b64('alice', registry.users['alice']))
    assert json.loads(path.read_text())['auths'] == {registry.host: {}}  # no secret left in the file
    assert json.loads(store.read_text()) == {registry.host: {'Username': 'alice', 'Secret': registry.users['alice']}}
    run = ansible.adhoc('oci.registry.registry_login', 'registry=%s auth_file=%s state=absent' % (registry.host, path), env=env)
    assert_ok(run)
    assert json.loads(store.read_text()) == {} and json.loads(path.read_text())['auths'] == {}


# Request budgets, in-process from the RequestLog.

@pytest.mark.parametrize('flavour, user, expected', [
    ('basic_tls', 'alice', [('GET', '/v2/', 401), ('GET', '/v2/', 200)]),
    ('token', 'reader', [('GET', '/v2/', 401), ('GET', '/token', 200), ('GET', '/v2/', 200)]),
])
def test_login_budget(harness, tmp_path, flavour, user, expected):
    registry = getattr(harness, flavour)
    conn = connection_vars(registry, user)
    client = RegistryClient(ConnectionOptions(**conn))
    params = {'registry': registry.host, 'auth_file': str(tmp_path / 'auth.json'), 'state': 'present', 'verify': True, 'docker_config': None}
    result = registry_login.run(client, params, check_mode=True)
    assert result['changed'] and not os.path.exists(params['auth_file'])
    assert [(r.method, r.path, r.status) for r in client.log.records] == expected
    client = RegistryClient(ConnectionOptions(**conn))
    registry_login.run(client, dict(params, state='absent'), check_mode=False)
    assert len(client.log) == 0  # logging out sends nothing
