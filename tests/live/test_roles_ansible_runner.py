# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The roles the AWX way: ansible-runner (the engine AWX and AAP run every job with), a private data dir holding the
example playbooks, credentials injected as environment variables exactly as the custom credential type of
docs/docsite/rst/guide_awx.rst injects them, extra vars as a job template passes them, and the results read from the
job's events, against the harness's token registry (user admin).
"""

from __future__ import annotations

import datetime
import os
import shutil
import uuid

import ansible_runner
import yaml

from conftest import COLLECTION_ROOT
from harness.seed import push_image

AWX_GUIDE = os.path.join(COLLECTION_ROOT, 'docs', 'docsite', 'rst', 'guide_awx.rst')


def _credential_injector():
    """The env injector of the credential type the guide shows (so the test and the docs cannot drift apart)."""
    with open(AWX_GUIDE, encoding='utf-8') as handle:
        text = handle.read()
    block = text.split('.. code-block:: yaml\n    :caption: Injector configuration\n', 1)[1]
    lines = []
    for line in block.splitlines()[1:]:
        if line and not line.startswith('    '):
            break
        lines.append(line[4:])
    return yaml.safe_load('\n'.join(lines))['env']


def _inject(inputs):
    """Render the injector as AWX does: {{ field }} from the credential's inputs; unset fields give empty strings."""
    env = {}
    for name, template in _credential_injector().items():
        field = template.strip('{} ')
        env[name] = str(inputs.get(field, ''))
    return env


def _job(ansible_env, private_data_dir, playbook, envvars, extravars):
    env = dict(ansible_env)
    env.update(envvars)
    return ansible_runner.run(private_data_dir=str(private_data_dir), playbook=playbook, envvars=env, extravars=extravars,
                              inventory='localhost ansible_connection=local ansible_python_interpreter=%s' % env[
                                  'ANSIBLE_PYTHON_INTERPRETER'], quiet=True, timeout=300)


def _fact(runner, task, fact):
    for event in runner.events:
        data = event.get('event_data', {})
        if event.get('event') == 'runner_on_ok' and data.get('task') == task:
            return data['res']['ansible_facts'][fact]
    raise AssertionError('no ok event for task %r' % task)


def _stdout(runner):
    return runner.stdout.read()


def test_promote_and_retention_through_ansible_runner(harness, ansible_env, tmp_path):
    registry = harness.token
    repository = 'runner/app-%s' % uuid.uuid4().hex[:8]
    now = datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')
    old = (datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=90)).strftime('%Y-%m-%dT%H:%M:%SZ')
    digest = push_image(registry, repository, ['1.0-rc.1'], created=now, content='release candidate\n', verify=registry.verify)['digest']
    stale = push_image(registry, repository, ['ci-1'], created=old, content='old ci build\n', verify=registry.verify)['digest']
    assert stale != digest

    project = tmp_path / 'project'
    project.mkdir()
    for name in ('promote.yml', 'retention.yml'):
        shutil.copy(os.path.join(COLLECTION_ROOT, 'examples', name), project)
    # The credential the job template is given: an AWX credential of the custom type, injected as environment.
    envvars = _inject({'username': 'admin', 'password': registry.users['admin']})
    assert envvars == {'OCI_REGISTRY_USERNAME': 'admin', 'OCI_REGISTRY_PASSWORD': registry.users['admin'], 'OCI_REGISTRY_TOKEN': ''}
    envvars['OCI_REGISTRY_PLAIN_HTTP'] = 'true'  # the harness's token registry is a local HTTP one

    image = '%s/%s' % (registry.host, repository)
    promote = _job(ansible_env, tmp_path, 'promote.yml', envvars,
                   {'promote_images': [{'source': image + ':1.0-rc.1', 'tags': ['1.0', 'latest']}]})
    assert (promote.status, promote.rc) == ('successful', 0), _stdout(promote)
    result = _fact(promote, 'Set promote_result', 'promote_result')
    assert result['moved'] == [image + ':1.0', image + ':latest']
    assert [row['verified'] for row in result['images'][0]['targets']] == [True, True]
    assert result['images'][0]['digest'] == digest
    assert registry.users['admin'] not in _stdout(promote)

    deletes = registry.request_count('DELETE')
    retention = _job(ansible_env, tmp_path, 'retention.yml', envvars,
                     {'retention_repositories': [image], 'retention_max_age_days': 30, 'retention_dry_run': False})
    assert (retention.status, retention.rc) == ('successful', 0), _stdout(retention)
    result = _fact(retention, 'Set retention_result', 'retention_result')
    assert result['deleted'] == ['ci-1']
    plan = {row['tag']: row['action'] for row in result['repositories'][0]['plan']}
    assert plan == {'1.0': 'keep', 'latest': 'keep', '1.0-rc.1': 'keep', 'ci-1': 'delete'}
    assert registry.request_count('DELETE') > deletes
    assert registry.users['admin'] not in _stdout(retention)
