# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""auth_method google with the real google-auth library, end to end, against the harness's token registry.

Only Google's side is stood in, because no local server can be Google: the harness token server answers as Google's
OAuth2 token endpoint. The service-account key file that GOOGLE_APPLICATION_CREDENTIALS names carries a token_uri
pointing there, so google-auth signs its JWT assertion with the key and posts it exactly as it would to
oauth2.googleapis.com; the server verifies it and accepts the access token it hands out as the password of
oauth2accesstoken, the user Artifact Registry and GCR take it under. The collection (installed as a user installs
it), ansible, google-auth and the registry are real. The version matrix runs the same play with the oldest
google-auth that requirements.txt claims.
"""

from __future__ import annotations

import json

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from conftest import assert_ok

READ = '''
- oci.registry.registry_manifest_info:
    image: "{{ image }}"
    auth_method: google
    plain_http: true
  register: info
- ansible.builtin.copy:
    content: "{{ info | to_json }}"
    dest: "{{ out }}"
'''


def key_material(path):
    with open(path, encoding='utf-8') as handle:
        info = json.load(handle)
    body = ''.join(info['private_key'].strip().splitlines()[1:-1])
    return [body[i:i + 40] for i in range(0, len(body), 40)]  # any piece of the key would be a leak


def test_service_account_key_reads_a_token_registry(ansible, harness, tmp_path):
    server = harness.token_server
    key_file = server.google_credentials(str(tmp_path / 'sa.json'))
    grants_before = len(server.google_grants)
    requests_before = len(server.requests)
    out = tmp_path / 'info.json'
    image = '%s/test/oci-image:v1' % harness.token.host

    run = ansible.playbook(READ, {'image': image, 'out': str(out)}, env={'GOOGLE_APPLICATION_CREDENTIALS': key_file}, verbosity=4)

    assert_ok(run)
    info = json.loads(out.read_text())
    assert info['digest'] == harness.seeded['token']['oci_image']['digest']
    # One refresh for the task, and the registry's token came to the user Google's access tokens go by.
    new_grants = server.google_grants[grants_before:]
    assert len(new_grants) == 1
    registry_logins = [r for r in server.requests[requests_before:] if r.method == 'GET']
    assert registry_logins and {r.user for r in registry_logins} == {'oauth2accesstoken'}
    for secret in [new_grants[0]] + key_material(key_file):
        assert secret not in run.output, 'a secret leaked into the output at -vvvv'
    assert 'eyJ' not in run.output, 'a JWT (the assertion or a registry token) leaked into the output'


def test_a_key_google_refuses_fails_clearly(ansible, harness, tmp_path):
    server = harness.token_server
    key_file = server.google_credentials(str(tmp_path / 'sa.json'))
    with open(key_file, encoding='utf-8') as handle:
        info = json.load(handle)
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    info['private_key'] = other.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                              serialization.NoEncryption()).decode('ascii')
    with open(key_file, 'w', encoding='utf-8') as handle:
        json.dump(info, handle)
    grants_before = len(server.google_grants)
    requests_before = len(server.requests)

    run = ansible.playbook(READ, {'image': '%s/test/oci-image:v1' % harness.token.host, 'out': str(tmp_path / 'x')},
                           env={'GOOGLE_APPLICATION_CREDENTIALS': key_file}, verbosity=4)

    assert run.rc != 0
    assert 'Google application default credentials are not usable for %s' % harness.token.host in run.output
    assert 'invalid_grant: invalid JWT signature' in run.output  # Google's own reason is passed on,
    assert "('invalid_grant" not in run.output  # as words, not as the repr of google-auth's exception arguments
    assert 'GOOGLE_APPLICATION_CREDENTIALS' in run.output  # and what to do about it
    assert 'Traceback' not in run.output
    assert len(server.google_grants) == grants_before
    assert not [r for r in server.requests[requests_before:] if r.method == 'GET'], 'the registry was asked without credentials'
    for secret in key_material(key_file):
        assert secret not in run.output, 'the key leaked into the output at -vvvv'


def test_a_missing_key_file_fails_clearly(ansible, harness, tmp_path):
    missing = str(tmp_path / 'no-such-key.json')
    run = ansible.adhoc('oci.registry.registry_manifest_info',
                        'image=%s/test/oci-image:v1 auth_method=google plain_http=true' % harness.token.host,
                        env={'GOOGLE_APPLICATION_CREDENTIALS': missing})
    assert run.rc != 0
    assert 'Google application default credentials are not usable' in run.output and 'no-such-key.json' in run.output
    assert 'Traceback' not in run.output
