# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Secrets scan: every auth path at -vvvv, in success and in failure; no secret anywhere.

One playbook runs each auth path twice (right and wrong secret) with the module, and the lookup for the paths that live
on the controller, at -vvvv with --diff. Scanned for every password, token, refresh token, base64 credential and
Authorization value used or issued during the run (the token server in this process records what it issued): the
playbook's stdout and stderr, every registered result, the registries' own log files and the token server's request
list. Zero hits.
"""

from __future__ import annotations

import base64
import json
import os
import stat

from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from ansible_collections.oci.registry.plugins.modules import registry_manifest_info as manifest_info

from conftest import assert_ok
from stress import run_lookup, run_module

WRONG = 'Wr0ng-secret-%s!@#'


def _b64(user, password):
    return base64.b64encode(('%s:%s' % (user, password)).encode('utf-8')).decode('ascii')


@pytest.fixture()
def issued(harness, monkeypatch):
    """Every token and refresh token the token server hands out during the test."""
    server = harness.token_server
    tokens = []
    original = server.issue

    def issue(*args, **kwargs):
        answer = original(*args, **kwargs)
        tokens.extend(v for k, v in answer.items() if k in ('token', 'access_token', 'refresh_token'))
        return answer

    monkeypatch.setattr(server, 'issue', issue)
    return tokens


def _token_for(harness, **params):
    server = harness.token_server
    response = requests.get(server.realm, params=dict({'service': server.service, 'client_id': 'test'}, **params),
                            auth=('reader', server.users['reader']), timeout=10)
    response.raise_for_status()
    return response.json()


def _config_dir(tmp_path, name, config):
    directory = tmp_path / name
    directory.mkdir()
    (directory / 'config.json').write_text(json.dumps(config))
    return str(directory)


def _helper_dir(tmp_path, name, user, secret):
    directory = tmp_path / name
    directory.mkdir()
    helper = directory / 'docker-credential-stress'
    helper.write_text('#!/bin/sh\ncat >/dev/null\nprintf \'%%s\' \'%s\'\n' % json.dumps({'Username': user, 'Secret': secret}))
    helper.chmod(helper.stat().st_mode | stat.S_IXUSR)
    return str(directory)


def _env_failures(harness, monkeypatch, image, password):
    monkeypatch.setenv('OCI_REGISTRY_USERNAME', 'reader')
    monkeypatch.setenv('OCI_REGISTRY_PASSWORD', password)
    kind, message, _client = run_module(manifest_info, {'image': image, 'plain_http': True})
    assert kind == 'error'
    kind, lookup_message = run_lookup([image], plain_http=True)
    assert kind == 'error'
    monkeypatch.delenv('OCI_REGISTRY_USERNAME')
    monkeypatch.delenv('OCI_REGISTRY_PASSWORD')
    return message + '\n' + lookup_message


def test_no_secret_in_any_output_or_log(ansible, harness, tmp_path, issued, monkeypatch):
    tls, token = harness.basic_tls, harness.token
    alice, alice_pw = tls.admin_user, tls.admin_password
    reader_pw = token.users['reader']
    ready_token = _token_for(harness, scope='repository:test/oci-image:pull')['token']
    refresh = _token_for(harness, offline_token='true')['refresh_token']
    wrong = {name: WRONG % name for name in ('basic', 'token', 'option', 'identity', 'auth', 'helper', 'env', 'lookup')}
    bogus_refresh = 'bogus-refresh-token-0123456789abcdef'
    tls_image = '%s/test/oci-image:v1' % tls.host
    token_image = '%s/test/oci-image:v1' % token.host
    tls_opts = {'ca_cert': tls.ca_cert}
    token_opts = {'plain_http': True}
    configs = {
        'identity_ok': _config_dir(tmp_path, 'identity_ok', {'auths': {token.host: {'identitytoken': refresh}}}),
        'identity_bad': _config_dir(tmp_path, 'identity_bad', {'auths': {token.host: {'identitytoken': bogus_refresh}}}),
        'auth_ok': _config_dir(tmp_path, 'auth_ok', {'auths': {tls.host: {'auth': _b64(alice, alice_pw)}}}),
        'auth_bad': _config_dir(tmp_path, 'auth_bad', {'auths': {tls.host: {'auth': _b64(alice, wrong['auth'])}}}),
        'helper': _config_dir(tmp_path, 'helper', {'credHelpers': {token.host: 'stress'}}),
    }
    helpers = {'ok': _helper_dir(tmp_path, 'helper_ok', 'reader', reader_pw),
               'bad': _helper_dir(tmp_path, 'helper_bad', 'reader', wrong['helper'])}
    path = os.environ.get('PATH', '')

    # (name, module options, task environment, should succeed)
    cases = [
        ('basic over TLS', dict(tls_opts, image=tls_image, username=alice, password=alice_pw), None, True),
        ('basic over TLS, wrong password', dict(tls_opts, image=tls_image, username=alice, password=wrong['basic']), None, False),
        ('token with password', dict(token_opts, image=token_image, username='reader', password=reader_pw), None, True),
        ('token with wrong password', dict(token_opts, image=token_image, username='reader', password=wrong['token']), None, False),
        ('token option', dict(token_opts, image=token_image, token=ready_token), None, True),
        ('token option, bogus', dict(token_opts, image=token_image, token=wrong['option']), None, False),
        ('identity token in docker config', dict(token_opts, image=token_image, auth_method='docker_config',
                                                 docker_config=configs['identity_ok']), None, True),
        ('unknown identity token in docker config', dict(token_opts, image=token_image, auth_method='docker_config',
                                                         docker_config=configs['identity_bad']), None, False),
        ('docker config auth entry', dict(tls_opts, image=tls_image, auth_method='docker_config', docker_config=configs['auth_ok']),
         None, True),
        ('docker config auth entry, wrong password', dict(tls_opts, image=tls_image, auth_method='docker_config',
                                                          docker_config=configs['auth_bad']), None, False),
        ('credential helper', dict(token_opts, image=token_image, auth_method='docker_config', docker_config=configs['helper']),
         {'PATH': helpers['ok'] + os.pathsep + path}, True),
        ('credential helper, wrong secret', dict(token_opts, image=token_image, auth_method='docker_config',
                                                 docker_config=configs['helper']), {'PATH': helpers['bad'] + os.pathsep + path}, False),
    ]
    tasks = []
    for index, (name, options, environment, _ok) in enumerate(cases):
        task = {'name': name, 'oci.registry.registry_manifest_info': options, 'register': 'r%d' % index, 'ignore_errors': True}
        if environment:
            task['environment'] = environment
        tasks.append(task)
    lookups = [
        ('lookup, token with password', "query('oci.registry.digest', '%s', username='reader', password=pw, plain_http=true)" % token_image,
         True),
        ('lookup, wrong password', "query('oci.registry.digest', '%s', username='reader', password=bad, plain_http=true)" % token_image,
         False),
        ('lookup, basic over TLS', "query('oci.registry.digest', '%s', username='%s', password=alice_pw, ca_cert='%s')" % (
            tls_image, alice, tls.ca_cert), True),
    ]
    first_lookup = len(tasks)
    for offset, (name, expression, _ok) in enumerate(lookups):
        tasks.append({'name': name, 'ansible.builtin.set_fact': {'found%d' % offset: '{{ %s }}' % expression},
                      'register': 'r%d' % (first_lookup + offset), 'ignore_errors': True})
    results_file = tmp_path / 'results.json'
    tasks.append({'ansible.builtin.copy': {'dest': str(results_file), 'content': '{{ [%s] | to_json }}' % ', '.join(
        'r%d' % i for i in range(len(tasks)))}})
    # The env-var path needs the variables in the ansible process itself: Ansible's own connection plugin echoes a task's
    # `environment:` at -vvv (values included), so secrets must never go there; a second playbook runs beside the first.
    env_file = tmp_path / 'env.json'
    env_tasks = [
        {'name': 'env vars', 'oci.registry.registry_manifest_info': dict(token_opts, image=token_image), 'register': 'e0'},
        {'name': 'lookup, env vars', 'ansible.builtin.set_fact': {
            'found': "{{ query('oci.registry.digest', '%s', plain_http=true) }}" % token_image}, 'register': 'e1'},
        {'ansible.builtin.copy': {'dest': str(env_file), 'content': '{{ [e0, e1] | to_json }}'}},
    ]
    with ThreadPoolExecutor(max_workers=2) as pool:
        main_run = pool.submit(ansible.playbook, json.dumps(tasks), {'pw': reader_pw, 'bad': wrong['lookup'], 'alice_pw': alice_pw},
                               verbosity=4, check=False)
        env_run = pool.submit(ansible.playbook, json.dumps(env_tasks), None,
                              env={'OCI_REGISTRY_USERNAME': 'reader', 'OCI_REGISTRY_PASSWORD': reader_pw}, verbosity=4)
        run, env_run = main_run.result(), env_run.result()
    assert_ok(run)
    assert_ok(env_run)
    # the env path with a wrong password, in-process (the module's own result and message are what could leak)
    env_failures = _env_failures(harness, monkeypatch, token_image, wrong['env'])
    results = json.loads(results_file.read_text())
    outcomes = [(c[0], c[3]) for c in cases] + [(l[0], l[2]) for l in lookups]
    for (name, ok), result in zip(outcomes, results):
        assert bool(result.get('failed')) != ok, (name, result.get('msg'))
        if not ok:
            assert result.get('msg'), name

    secrets = {alice_pw, reader_pw, token.users['admin'], ready_token, refresh, bogus_refresh, *wrong.values(), *issued,
               _b64(alice, alice_pw), _b64('reader', reader_pw), _b64(alice, wrong['auth'])}
    secrets |= {_b64('reader', w) for w in wrong.values()}
    assert len(issued) >= 4  # the run really fetched tokens whose leak would show
    places = {'stdout': run.stdout, 'stderr': run.stderr, 'results': results_file.read_text(), 'env stdout': env_run.stdout,
              'env stderr': env_run.stderr, 'env results': env_file.read_text(), 'env failures': env_failures,
              'token server requests': '\n'.join(r.path for r in harness.token_server.requests)}
    for registry in (tls, token, harness.open):
        with open(registry.log_path, encoding='utf-8', errors='replace') as handle:
            places['%s registry log' % registry.name] = handle.read()
    hits = ['%s... in %s: ...%s...' % (secret[:6], where, text[max(0, text.index(secret) - 200):text.index(secret) + 40].replace(secret, '<SECRET>'))
            for secret in secrets for where, text in places.items() if secret in text]
    assert hits == []
    assert 'Traceback' not in run.output + env_run.output
    assert 'HTTP 401' in env_failures
    # the scan saw real verbose output: module invocations and the failures' messages
    assert 'VALUE_SPECIFIED_IN_NO_LOG_PARAMETER' in run.stdout
    assert run.stdout.count('HTTP 401') >= 3
