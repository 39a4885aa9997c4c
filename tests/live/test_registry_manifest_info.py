# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""registry_manifest_info and the digest lookup, installed, against the harness's real registries.

The module's contract (every kind of image on each registry, check mode, bad input) is its ansible-test
target, tests/integration/targets/registry_manifest_info; here are ad-hoc runs, credential sources and secrets.
"""

from __future__ import annotations

import base64
import json
import os

from conftest import assert_ok, connection_vars


def test_adhoc_command(ansible, harness):
    registry = harness.open
    result = ansible.adhoc('oci.registry.registry_manifest_info', 'image=%s/test/multiarch:v1 platform=linux/arm64 plain_http=true' % registry.host)
    assert result.rc == 0, result.output
    assert '"platform_digest": "%s"' % harness.seeded['open']['oci_index']['children']['linux/arm64/v8'] in result.stdout
    assert '"changed": false' in result.stdout


def test_wrong_password_is_a_clear_error_and_never_shown(ansible, harness):
    registry = harness.basic_tls
    secret = 'Wr0ng!Pa55-%s' % os.getpid()
    conn = dict(connection_vars(registry), username='alice', password=secret)
    tasks = '''
    - oci.registry.registry_manifest_info: "{{ conn | combine({'image': host ~ '/test/oci-image:v1'}) }}"
    '''
    result = ansible.playbook(tasks, {'host': registry.host, 'conn': conn}, verbosity=4)
    assert result.rc != 0
    assert 'HTTP 401' in result.output and 'check username/password' in result.output
    assert secret not in result.output
    assert base64.b64encode(('alice:%s' % secret).encode()).decode() not in result.output
    # the lookup says it too, naming the term, and hides the password as well
    lookup = ansible.playbook('''
    - ansible.builtin.debug:
        msg: "{{ lookup('oci.registry.digest', host ~ '/test/oci-image:v1', **conn) }}"
    ''', {'host': registry.host, 'conn': conn}, verbosity=4)
    assert lookup.rc != 0 and 'HTTP 401' in lookup.output and "term '%s/test/oci-image:v1'" % registry.host in lookup.output
    assert secret not in lookup.output


def test_tls_without_ca_fails_with_hint_and_with_ca_or_no_verify_works(ansible, harness):
    registry = harness.basic_tls
    user, password = 'alice', registry.users['alice']
    image = '%s/test/oci-image:v1' % registry.host
    result = ansible.adhoc('oci.registry.registry_manifest_info', 'image=%s username=%s' % (image, user),
                           env={'OCI_REGISTRY_PASSWORD': password})
    assert result.rc != 0
    assert 'the certificate is not trusted: set ca_cert' in result.output
    good = ansible.adhoc('oci.registry.registry_manifest_info', 'image=%s username=%s ca_cert=%s' % (image, user, registry.ca_cert),
                         env={'OCI_REGISTRY_PASSWORD': password})
    assert good.rc == 0 and harness.seeded['basic_tls']['oci_image']['digest'] in good.stdout
    unverified = ansible.adhoc('oci.registry.registry_manifest_info', 'image=%s username=%s validate_certs=false' % (image, user),
                               env={'OCI_REGISTRY_PASSWORD': password})
    assert unverified.rc == 0, unverified.output
    # a plain-HTTP registry asked over HTTPS says what to change
    plain = ansible.adhoc('oci.registry.registry_manifest_info', 'image=%s/test/oci-image:v1' % harness.open.host)
    assert plain.rc != 0 and 'set plain_http: true' in plain.output
    # and a TLS registry asked over plain HTTP says the opposite
    tls_as_http = ansible.adhoc('oci.registry.registry_manifest_info', 'image=%s plain_http=true' % image)
    assert tls_as_http.rc != 0 and 'the server speaks HTTPS: set plain_http: false' in tls_as_http.output


def test_credentials_from_environment_and_docker_config(ansible, harness, tmp_path):
    registry = harness.basic_tls
    password = registry.users['alice']
    digest = harness.seeded['basic_tls']['oci_image']['digest']
    image = 'image=%s/test/oci-image:v1' % registry.host
    env_auth = ansible.adhoc('oci.registry.registry_manifest_info', image, env={
        'OCI_REGISTRY_USERNAME': 'alice', 'OCI_REGISTRY_PASSWORD': password, 'OCI_REGISTRY_CA_CERT': registry.ca_cert})
    assert env_auth.rc == 0 and digest in env_auth.stdout, env_auth.output

    config_dir = tmp_path / 'docker'
    config_dir.mkdir()
    (config_dir / 'config.json').write_text(json.dumps({'auths': {'https://%s' % registry.host: {
        'auth': base64.b64encode(('alice:%s' % password).encode()).decode()}}}))
    by_env = ansible.adhoc('oci.registry.registry_manifest_info', image + ' ca_cert=%s' % registry.ca_cert,
                           env={'DOCKER_CONFIG': str(config_dir)})
    assert by_env.rc == 0 and digest in by_env.stdout, by_env.output
    by_option = ansible.adhoc('oci.registry.registry_manifest_info', image + ' ca_cert=%s auth_method=docker_config docker_config=%s' % (
        registry.ca_cert, config_dir / 'config.json'))
    assert by_option.rc == 0 and digest in by_option.stdout, by_option.output
    # auth_method none ignores the docker config: the registry then refuses
    anonymous = ansible.adhoc('oci.registry.registry_manifest_info', image + ' ca_cert=%s auth_method=none' % registry.ca_cert,
                              env={'DOCKER_CONFIG': str(config_dir)})
    assert anonymous.rc != 0 and 'HTTP 401' in anonymous.output


def test_token_registry_users_and_anonymous(ansible, harness):
    registry = harness.token
    seeded = harness.seeded['token']
    tasks = '''
    - name: Anonymous pull is allowed under public/
      oci.registry.registry_manifest_info:
        image: "{{ host }}/public/hello:v1"
        plain_http: true
      register: public
    - name: Anonymous pull of a private repository
      oci.registry.registry_manifest_info:
        image: "{{ host }}/test/oci-image:v1"
        plain_http: true
      register: private
      ignore_errors: true
    - name: The pull-only user, credentials from the environment
      oci.registry.registry_manifest_info:
        image: "{{ host }}/test/oci-image:v1"
        plain_http: true
      environment:
        OCI_REGISTRY_USERNAME: reader
        OCI_REGISTRY_PASSWORD: "{{ reader_password }}"
      register: reader
    - ansible.builtin.assert:
        that:
          - public.exists and public.digest == seeded.public_image.digest
          - private is failed
          - private.error_kind in ['authentication', 'permission_denied']
          - "'no credentials were found for registry' in private.msg"
          - reader.digest == seeded.oci_image.digest
    '''
    result = ansible.playbook(tasks, {'host': registry.host, 'seeded': seeded, 'reader_password': registry.users['reader']})
    assert_ok(result)
