# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The promote and retention roles through ansible-playbook, from the installed collection, on the harness's open registry.

Connection settings reach the roles only through the play's module_defaults for
group/oci.registry.registry (the AWX way, through the environment, is test_roles_ansible_runner.py).
Writes are counted by the registry itself (/metrics), not by the client.
"""

from __future__ import annotations

import datetime
import json
import os
import subprocess
import uuid

import pytest
import requests
import yaml

from conftest import BIN_DIR, COLLECTION_ROOT, assert_ok, connection_vars
from harness.seed import ACCEPT, push_image


def _ago(days: float) -> str:
    return (datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=days)).strftime('%Y-%m-%dT%H:%M:%SZ')


def _seed(registry, repository, ages):
    """One distinct image per tag (so no tag is collateral of another), created ``days`` ago."""
    return {tag: push_image(registry, repository, tag, created=_ago(days), content='%s %s\n' % (repository, tag),
                            verify=registry.verify)['digest'] for tag, days in ages.items()}


def _tags(registry, repository):
    response = requests.get('%s/v2/%s/tags/list' % (registry.url, repository), verify=registry.verify, timeout=10)
    response.raise_for_status()
    return set(response.json().get('tags') or [])


def _digest(registry, reference):
    repository, tag = reference.split('/', 1)[1].rsplit(':', 1)
    response = requests.head('%s/v2/%s/manifests/%s' % (registry.url, repository, tag), headers={'Accept': ACCEPT},
                             verify=registry.verify, timeout=10)
    return response.headers.get('Docker-Content-Digest') if response.status_code == 200 else None


def _run_role(ansible, tmp_path, registry, role, variables, fact, check=False):
    """Run the role in a play whose module_defaults carry the connection; return (run, the role's fact)."""
    out = tmp_path / ('%s-%s.json' % (fact, uuid.uuid4().hex[:8]))
    defaults = json.dumps({'group/oci.registry.registry': connection_vars(registry)})
    run = ansible.playbook('''
        - name: Run the role
          ansible.builtin.include_role:
            name: oci.registry.%s
        - name: Save the fact
          ansible.builtin.copy:
            content: "{{ %s | to_json }}"
            dest: "{{ out }}"
            mode: '0600'
          check_mode: false
          changed_when: false
        ''' % (role, fact), extra_vars=dict(variables, out=str(out)), play_extra='module_defaults: %s\n' % defaults, check=check)
    result = json.loads(out.read_text()) if out.exists() else None
    return run, result


def _recap_changed(run):
    line = next(line for line in run.stdout.splitlines() if line.startswith('localhost') and 'changed=' in line)
    return int(line.split('changed=', 1)[1].split()[0])


# --- retention -------------------------------------------------------------------------------

AGES = {'latest': 400, '1.0.0': 400, 'v2.0.0': 350, '2.1.0-rc.1': 300, 'build-1': 200, 'build-2': 100, 'build-3': 10,
        'build-4': 1}
# retention_keep=2, retention_max_age_days=30: build-4 and build-3 are the 2 newest candidates; latest, 1.0.0 and
# v2.0.0 are protected by the default patterns; the other, older candidates go, newest first.
GOES = ['build-2', 'build-1', '2.1.0-rc.1']


def test_retention_dry_run_check_mode_delete_and_rerun(harness, ansible, tmp_path):
    registry = harness.open
    repository = 'roles/retention-%s' % uuid.uuid4().hex[:8]
    _seed(registry, repository, AGES)
    variables = {'retention_repositories': ['%s/%s' % (registry.host, repository)], 'retention_keep': 2,
                 'retention_max_age_days': 30}
    deletes = registry.request_count('DELETE')

    # Dry run (the default): the table says what would go and why, nothing is deleted.
    run, result = _run_role(ansible, tmp_path, registry, 'retention', variables, 'retention_result')
    assert_ok(run)
    assert result['dry_run'] is True and result['would_delete'] == GOES and result['deleted'] == []
    plan = {row['tag']: row for row in result['repositories'][0]['plan']}
    assert set(plan) == set(AGES)
    assert plan['latest']['action'] == 'keep' and plan['latest']['reason'] == 'protected by ^latest$'
    assert plan['v2.0.0']['reason'].startswith('protected by ^v?')
    assert plan['build-3'] == dict(plan['build-3'], action='keep', reason='among the 2 newest (#2), not older than 30 days')
    assert plan['build-2'] == dict(plan['build-2'], action='delete', reason='not among the 2 newest (#3), older than 30 days')
    assert 99 < plan['build-2']['age_days'] < 101
    assert 'would go (dry run' in run.stdout and 'protected by ^latest$' in run.stdout
    assert registry.request_count('DELETE') == deletes
    assert _tags(registry, repository) == set(AGES)

    # Check mode wins over retention_dry_run=false.
    run, result = _run_role(ansible, tmp_path, registry, 'retention', dict(variables, retention_dry_run=False), 'retention_result',
                            check=True)
    assert_ok(run)
    assert result['dry_run'] is True and result['would_delete'] == GOES and result['deleted'] == []
    assert registry.request_count('DELETE') == deletes

    # The real run deletes exactly those tags.
    run, result = _run_role(ansible, tmp_path, registry, 'retention', dict(variables, retention_dry_run=False), 'retention_result')
    assert_ok(run)
    assert result['dry_run'] is False and result['changed'] is True
    assert sorted(result['deleted']) == sorted(GOES)
    assert registry.request_count('DELETE') > deletes
    assert _tags(registry, repository) == set(AGES) - set(GOES)

    # A rerun finds nothing to delete and sends no DELETE.
    deletes = registry.request_count('DELETE')
    run, result = _run_role(ansible, tmp_path, registry, 'retention', dict(variables, retention_dry_run=False), 'retention_result')
    assert_ok(run)
    assert result['changed'] is False and result['would_delete'] == [] and result['deleted'] == []
    assert _recap_changed(run) == 0
    assert registry.request_count('DELETE') == deletes


def test_retention_match_and_age_only(harness, ansible, tmp_path):
    """retention_match limits what is considered; without retention_keep only the age counts."""
    registry = harness.open
    repository = 'roles/retention-match-%s' % uuid.uuid4().hex[:8]
    _seed(registry, repository, {'pr-1': 90, 'pr-2': 5, 'main-1': 90})
    run, result = _run_role(ansible, tmp_path, registry, 'retention', {
        'retention_repositories': ['%s/%s' % (registry.host, repository)], 'retention_match': '^pr-', 'retention_max_age_days': 30},
        'retention_result')
    assert_ok(run)
    assert result['would_delete'] == ['pr-1']
    assert [row['tag'] for row in result['repositories'][0]['plan']] == ['pr-2', 'pr-1']  # main-1 is never considered


def test_retention_needs_a_rule(ansible, tmp_path, harness):
    run, _result = _run_role(ansible, tmp_path, harness.open, 'retention', {'retention_repositories': ['127.0.0.1:1/x']},
                             'retention_result')
    assert run.rc == 2
    assert 'set retention_keep (keep the N newest tags), retention_max_age_days' in run.output


def test_retention_failure_surfaced_after_the_others(harness, ansible, tmp_path):
    """A repository that fails does not stop the next one; the role fails at the end, naming it and its error."""
    registry = harness.open
    clean = 'roles/retention-clean-%s' % uuid.uuid4().hex[:8]
    _seed(registry, clean, {'old-1': 200, 'new-1': 1})
    bad = '%s/roles/Not-Lowercase' % registry.host

    run, result = _run_role(ansible, tmp_path, registry, 'retention', {
        'retention_repositories': [bad, '%s/%s' % (registry.host, clean)], 'retention_keep': 1, 'retention_dry_run': False},
        'retention_result')
    assert run.rc == 2, run.output
    assert 'oci.registry.retention failed for %s' % bad in run.output
    assert 'lowercase' in run.output.split('oci.registry.retention failed for', 1)[1]
    assert _tags(registry, clean) == {'new-1'}
    assert result is None  # the play stopped at the failure, after setting the fact


def test_retention_tag_outside_match_on_the_same_image(harness, ansible, tmp_path):
    """A candidate on the same image as an unprotected tag outside retention_match: blocked, or with retention_force both go."""
    registry = harness.open
    repository = 'roles/retention-shared-%s' % uuid.uuid4().hex[:8]
    push_image(registry, repository, ['main', 'pr-1'], created=_ago(200), content='shared image\n', verify=registry.verify)
    _seed(registry, repository, {'pr-2': 1, 'pr-0': 300})
    variables = {'retention_repositories': ['%s/%s' % (registry.host, repository)], 'retention_keep': 1, 'retention_match': '^pr-',
                 'retention_dry_run': False}

    run, result = _run_role(ansible, tmp_path, registry, 'retention', variables, 'retention_result')
    assert_ok(run)
    plan = {row['tag']: row for row in result['repositories'][0]['plan']}
    assert set(plan) == {'pr-0', 'pr-1', 'pr-2'}
    assert plan['pr-1']['action'] == 'blocked' and plan['pr-1']['reason'].endswith('same image as kept tag main (force deletes both)')
    assert result['deleted'] == ['pr-0'] and result['blocked'] == ['pr-1']
    assert _tags(registry, repository) == {'main', 'pr-1', 'pr-2'}

    run, result = _run_role(ansible, tmp_path, registry, 'retention', dict(variables, retention_force=True), 'retention_result')
    assert_ok(run)
    entry = result['repositories'][0]
    assert entry['plan'][1] == dict(entry['plan'][1], tag='pr-1', action='delete', collateral=['main'])
    assert sorted(result['deleted']) == ['main', 'pr-1'] and entry['collateral_tags'] == ['main'] and result['blocked'] == []
    assert _tags(registry, repository) == {'pr-2'}


def _table_line(run, tag):
    """The line of the printed table that shows this tag (the debug output of the role)."""
    return next(line.strip().strip('",') for line in run.stdout.splitlines() if line.strip().strip('"').startswith(tag + ' '))


def _seed_shared(registry, repository):
    """1.2.3 (a protected release) and build-old on one image, 200 days old, beside builds on images of their own."""
    release = push_image(registry, repository, ['1.2.3', 'build-old'], created=_ago(200), content='release 1.2.3\n',
                         verify=registry.verify)['digest']
    _seed(registry, repository, {'build-mid': 100, 'build-new': 1})
    return release


def test_retention_force_never_deletes_a_protected_tag(harness, ansible, tmp_path):
    """A candidate on the same image as a protected tag is blocked and kept, even with retention_force.

    The open registry is distribution 2.8, which deletes by digest only: deleting build-old would take 1.2.3 along.
    """
    registry = harness.open
    repository = 'roles/retention-protected-%s' % uuid.uuid4().hex[:8]
    release = _seed_shared(registry, repository)
    run, result = _run_role(ansible, tmp_path, registry, 'retention', {
        'retention_repositories': ['%s/%s' % (registry.host, repository)], 'retention_keep': 1,
        'retention_dry_run': False, 'retention_force': True}, 'retention_result')
    assert _digest(registry, '%s/%s:1.2.3' % (registry.host, repository)) == release
    assert_ok(run)
    assert _tags(registry, repository) == {'1.2.3', 'build-old', 'build-new'}
    assert result['deleted'] == ['build-mid']
    plan = {row['tag']: row for row in result['repositories'][0]['plan']}
    assert plan['build-old']['action'] == 'blocked' and '1.2.3' in plan['build-old']['reason']
    assert plan['1.2.3']['action'] == 'keep'
    assert result['blocked'] == ['build-old'] and result['repositories'][0]['collateral_tags'] == []


@pytest.mark.parametrize('check', [False, True], ids=['dry_run', 'check_mode'])
def test_retention_dry_run_shows_the_protected_tag_blocking(harness, ansible, tmp_path, check):
    """Check mode and the dry run plan by the same rule, and the printed table says so, naming the protected tag."""
    registry = harness.open
    repository = 'roles/retention-protected-dry-%s' % uuid.uuid4().hex[:8]
    _seed_shared(registry, repository)
    deletes = registry.request_count('DELETE')
    run, result = _run_role(ansible, tmp_path, registry, 'retention', {
        'retention_repositories': ['%s/%s' % (registry.host, repository)], 'retention_keep': 1,
        'retention_dry_run': not check, 'retention_force': True}, 'retention_result', check=check)
    assert_ok(run)
    assert result['dry_run'] is True and result['would_delete'] == ['build-mid'] and result['blocked'] == ['build-old']
    plan = {row['tag']: row for row in result['repositories'][0]['plan']}
    assert plan['build-old']['action'] == 'blocked' and '1.2.3' in plan['build-old']['reason']
    line = _table_line(run, 'build-old')
    assert ' blocked ' in line and '1.2.3' in line.split(' blocked ', 1)[1], line
    assert registry.request_count('DELETE') == deletes
    assert _tags(registry, repository) == {'1.2.3', 'build-old', 'build-mid', 'build-new'}


# --- promote ---------------------------------------------------------------------------------

def test_promote_check_mode_first_run_and_rerun(harness, ansible, tmp_path):
    registry = harness.open
    repository = 'roles/promote-%s' % uuid.uuid4().hex[:8]
    source = '%s/%s:1.0' % (registry.host, repository)
    digest = push_image(registry, repository, '1.0', content='promote me\n', verify=registry.verify)['digest']
    old = push_image(registry, repository, 'prod', content='the old prod\n', verify=registry.verify)['digest']
    release = '%s/%s-release' % (registry.host, repository)
    variables = {'promote_images': [{'source': source, 'tags': ['prod', 'stable']},
                                    {'source': source, 'tags': ['1.0'], 'repository': release}]}
    targets = ['%s/%s:prod' % (registry.host, repository), '%s/%s:stable' % (registry.host, repository), release + ':1.0']
    writes = registry.request_count('PUT') + registry.request_count('POST')

    run, result = _run_role(ansible, tmp_path, registry, 'promote', variables, 'promote_result', check=True)
    assert_ok(run)
    assert result['changed'] is True and result['moved'] == targets
    rows = [row for image in result['images'] for row in image['targets']]
    assert [row['verified'] for row in rows] == [None, None, None]
    assert rows[0]['previous_digest'] == old
    assert registry.request_count('PUT') + registry.request_count('POST') == writes
    assert _digest(registry, targets[0]) == old and _digest(registry, targets[1]) is None

    run, result = _run_role(ansible, tmp_path, registry, 'promote', variables, 'promote_result')
    assert_ok(run)
    assert result['changed'] is True and result['moved'] == targets
    assert [image['digest'] for image in result['images']] == [digest, digest]
    assert all(row['verified'] is True and row['digest'] == digest for image in result['images'] for row in image['targets'])
    assert [_digest(registry, target) for target in targets] == [digest] * 3

    writes = registry.request_count('PUT') + registry.request_count('POST')
    run, result = _run_role(ansible, tmp_path, registry, 'promote', variables, 'promote_result')
    assert_ok(run)
    assert result['changed'] is False and result['moved'] == []
    assert all(row['verified'] is True for image in result['images'] for row in image['targets'])
    assert _recap_changed(run) == 0
    assert registry.request_count('PUT') + registry.request_count('POST') == writes


def test_promote_validates_its_variables(harness, ansible, tmp_path):
    """meta/argument_specs.yml is enforced: an entry without tags fails before any request."""
    run, _result = _run_role(ansible, tmp_path, harness.open, 'promote', {'promote_images': [{'source': 'x/y:1'}]}, 'promote_result')
    assert run.rc == 2
    assert 'tags' in run.output and 'promote_images' in run.output


# --- docs --------------------------------------------------------------------------------------

@pytest.mark.parametrize('role,prefix', [('promote', 'promote_'), ('retention', 'retention_')])
def test_argument_specs_document_every_variable(ansible_env, role, prefix):
    """ansible-doc renders each role; every default is documented, every option is prefixed, none is about connections."""
    proc = subprocess.run([os.path.join(BIN_DIR, 'ansible-doc'), '-t', 'role', '--json', 'oci.registry.' + role], env=ansible_env,
                          capture_output=True, text=True, check=True)
    options = json.loads(proc.stdout)['oci.registry.' + role]['entry_points']['main']['options']
    with open(os.path.join(COLLECTION_ROOT, 'roles', role, 'defaults', 'main.yml'), encoding='utf-8') as handle:
        defaults = yaml.safe_load(handle)
    assert set(defaults) <= set(options)
    assert all(name.startswith(prefix) for name in options)
    for name, spec in options.items():
        assert spec.get('description'), name
        if name in defaults:
            assert spec.get('default') == defaults[name] or (spec.get('default') is None and defaults[name] is None), name
    connection = {'username', 'password', 'token', 'ca_cert', 'plain_http', 'validate_certs', 'auth_method', 'docker_config'}
    assert not {name[len(prefix):] for name in options} & connection


@pytest.mark.parametrize('name,options,returns', [
    ('retention_plan', {'_input', 'keep', 'max_age_days', 'match', 'protect', 'force', 'now'},
     {'tag', 'digest', 'created', 'age_days', 'rank', 'action', 'reason', 'collateral'}),
    ('promote_result', {'_input', 'read_back'}, {'changed', 'moved', 'images'}),
])
def test_role_filters_render_in_ansible_doc(ansible_env, name, options, returns):
    """The roles' decisions are filters: each renders in ansible-doc with every option, its return and an example using it."""
    proc = subprocess.run([os.path.join(BIN_DIR, 'ansible-doc'), '-t', 'filter', '--json', 'oci.registry.' + name],
                          env=ansible_env, capture_output=True, text=True, check=True)
    entry = json.loads(proc.stdout)['oci.registry.' + name]
    assert set(entry['doc']['options']) == options
    assert set(entry['return']['_value']['contains']) == returns
    assert 'oci.registry.' + name in entry['examples']


def test_retention_plan_filter_bad_input(ansible):
    run = ansible.playbook('''
        - name: Plan with a broken pattern
          ansible.builtin.debug:
            msg: "{{ [] | oci.registry.retention_plan(keep=1, protect=['(']) }}"
        ''')
    assert run.rc == 2
    assert "oci.registry.retention_plan: protect: '(' is not a valid Python regular expression" in run.output
    assert 'Traceback' not in run.output
