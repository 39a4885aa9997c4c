# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""registry_sync's input model: defaults written once (the module's argspec and its docs read the same values), and
every bad value refused with the option named, before any request."""
from __future__ import annotations

import typing as t

import pytest
import yaml

from ansible_collections.oci.registry.plugins.module_utils.model._errors import InvalidInputError
from ansible_collections.oci.registry.plugins.module_utils.model._options import DEFAULTS as SHARED_DEFAULTS
from ansible_collections.oci.registry.plugins.module_utils.operations._sync_model import DEFAULTS, TAG_DEFAULTS, Options, Selection, parse
from ansible_collections.oci.registry.plugins.modules import registry_sync

ENTRY = {'source': 'src.test/app', 'target': 'dst.test/app'}


def argspec() -> t.Dict[str, t.Any]:
    captured: t.Dict[str, t.Any] = {}

    class Captured(Exception):
        pass

    def capture(**kwargs: t.Any) -> None:
        captured.update(kwargs)
        raise Captured()

    original, registry_sync.AnsibleModule = registry_sync.AnsibleModule, capture
    try:
        registry_sync.main()
    except Captured:
        pass
    finally:
        registry_sync.AnsibleModule = original
    return captured['argument_spec']


DOC = yaml.safe_load(registry_sync.DOCUMENTATION)['options']


@pytest.mark.parametrize('name', sorted(set(DEFAULTS) - {'platforms'}))
def test_task_defaults_are_the_argspec_and_doc_defaults(name: str) -> None:
    assert argspec()[name]['default'] == DOC[name]['default'] == (list(DEFAULTS[name]) if name == 'immutable' else DEFAULTS[name])
    if name in SHARED_DEFAULTS:
        assert DEFAULTS[name] == SHARED_DEFAULTS[name]


@pytest.mark.parametrize('name', sorted(TAG_DEFAULTS))
def test_selection_defaults_are_the_argspec_and_doc_defaults(name: str) -> None:
    tags = argspec()['repositories']['options']['tags']['options']
    doc = DOC['repositories']['suboptions']['tags']['suboptions']
    assert tags[name]['default'] == doc[name]['default'] == TAG_DEFAULTS[name] == getattr(Selection(), name)


def test_without_the_argspec_parse_falls_back_to_the_same_defaults() -> None:
    [entry], options = parse({'repositories': [ENTRY]})
    assert options == Options() == Options(DEFAULTS['workers'], DEFAULTS['keep_going'], (), DEFAULTS['prune_max'], DEFAULTS['min_ratelimit_remaining'])
    assert (entry.platforms, entry.referrers, entry.prune) == ((), DEFAULTS['referrers'], DEFAULTS['prune'])
    assert (entry.selection.sort, entry.selection.order) == (TAG_DEFAULTS['sort'], TAG_DEFAULTS['order'])


def test_an_entry_overrides_the_task_level_options() -> None:
    entries, _options = parse({'repositories': [dict(ENTRY, prune=False, referrers=True, platforms=['linux/arm64']), ENTRY],
                               'prune': True, 'platforms': ['linux/amd64']})
    assert [(e.prune, e.referrers, [str(p) for p in e.platforms]) for e in entries] == [
        (False, True, ['linux/arm64']), (True, False, ['linux/amd64'])]
    assert [(e.source.name, e.target.name) for e in entries] == [('src.test/app', 'dst.test/app')] * 2


@pytest.mark.parametrize('params,words', [
    ({'repositories': []}, ['repositories is empty']),
    ({'repositories': ['src.test/app']}, ['repositories[0] must be a dict']),
    ({'repositories': [{'target': 'dst.test/app'}]}, ['repositories[0].source is required']),
    ({'repositories': [dict(ENTRY, target='dst.test/app:v1')]}, ['repositories[0].target: ', 'without tag or digest']),
    ({'repositories': [dict(ENTRY, target='src.test/app')]}, ['repositories[0]: source and target are the same repository']),
    ({'repositories': [dict(ENTRY, tags={'names': ['v1@sha256:' + 'a' * 100]})]}, ['repositories[0].tags.names']),
    ({'repositories': [dict(ENTRY, tags={'names': []})]}, ['repositories[0].tags.names must be a non-empty list']),
    ({'repositories': [dict(ENTRY, tags={'match': '('})]}, ['repositories[0].tags.match', 'regular expression']),
    ({'repositories': [dict(ENTRY, tags={'semver': '~1'})]}, ['repositories[0].tags.semver']),
    ({'repositories': [dict(ENTRY, tags={'limit': 0})]}, ['repositories[0].tags.limit']),
    ({'repositories': [dict(ENTRY, tags={'sort': 'size'})]}, ['repositories[0].tags.sort must be one of']),
    ({'repositories': [dict(ENTRY, platforms=['amd64'])]}, ['repositories[0].platforms']),
    ({'repositories': [ENTRY], 'platforms': ['amd64']}, ['platforms: ']),
    ({'repositories': [ENTRY], 'immutable': ['(']}, ['immutable[0]']),
    ({'repositories': [ENTRY], 'prune_max': -1}, ['prune_max must be 0 or more']),
    ({'repositories': [ENTRY], 'min_ratelimit_remaining': -1}, ['min_ratelimit_remaining must be 0']),
    ({'repositories': [ENTRY], 'workers': 33}, ['workers must be between 1 and 32']),
])
def test_bad_input_names_the_option(params: t.Dict[str, t.Any], words: t.List[str]) -> None:
    with pytest.raises(InvalidInputError) as caught:
        parse(params)
    assert all(word in caught.value.msg for word in words), caught.value.msg


def test_pins_are_strict_digests() -> None:
    digest = 'sha256:' + 'ab' * 32
    [entry], _options = parse({'repositories': [dict(ENTRY, tags={'names': ['v1@' + digest, 'v2']})]})
    assert entry.selection.names == {'v1': digest, 'v2': None}
    assert (entry.selection.pin('v1'), entry.selection.pin('v2'), entry.selection.pin('v3')) == (digest, None, None)
