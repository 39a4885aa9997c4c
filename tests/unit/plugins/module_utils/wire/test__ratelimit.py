# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Rate limits: Docker Hub's RateLimit-* headers parsed from tables, and the gate that keeps a floor of them."""
from __future__ import annotations

import typing as t

import pytest

from ansible_collections.oci.registry.plugins.module_utils.wire._ratelimit import (
    FLOOR, TOO_MANY_REQUESTS, RateGate, RateLimitStop, RateStop, parse_ratelimit,
)


@pytest.mark.parametrize('headers,expected', [
    ({}, None),
    ({'ratelimit-limit': '100;w=21600', 'ratelimit-remaining': '76;w=21600', 'docker-ratelimit-source': '203.0.113.7'},
     {'limit': 100, 'remaining': 76, 'window_seconds': 21600, 'source': '203.0.113.7'}),
    ({'ratelimit-remaining': 'x'}, {'limit': None, 'remaining': None, 'window_seconds': None, 'source': None}),
])
def test_parse_ratelimit(headers: t.Dict[str, str], expected: t.Optional[t.Dict[str, t.Any]]) -> None:
    assert parse_ratelimit(headers) == expected


def seen(remaining: int, limit: int = 100, window: t.Optional[int] = 21600) -> t.Dict[str, t.Any]:
    return {'limit': limit, 'remaining': remaining, 'window_seconds': window, 'source': None}


@pytest.mark.parametrize('floor,remaining,admitted', [
    (0, 1, 5),  # no floor: never held back
    (5, None, 5),  # no RateLimit-Remaining seen: never held back
    (5, 7, 2),  # 7 left, keep 5: two pulls
    (5, 5, 0),
    (1, 3, 2),
])
def test_gate_admits_down_to_the_floor(floor: int, remaining: t.Optional[int], admitted: int) -> None:
    gate = RateGate('docker.io', floor)
    if remaining is not None:
        gate.observe(seen(remaining))
    count = 0
    for _n in range(5):
        try:
            gate.admit()
        except RateLimitStop as exc:
            assert exc.stop == RateStop('docker.io', FLOOR, t.cast(int, remaining) - count, floor) and exc.kind == 'rate_limited'
            break
        count += 1
        gate.release(seen(gate.remaining - 1) if gate.remaining is not None else None)
    assert count == admitted
    stopped = count < 5
    assert (gate.stopped is not None) == stopped
    assert gate.report() == {'limit': 100 if remaining is not None else None, 'remaining': None if remaining is None else remaining - admitted,
                             'window_seconds': 21600 if remaining is not None else None,
                             'stopped': gate.stopped.text if stopped else None}


def test_gate_counts_pulls_in_flight() -> None:
    gate = RateGate('docker.io', 5)
    gate.observe(seen(7))
    gate.admit()
    gate.admit()  # two in flight: 7 - 2 = 5 left
    with pytest.raises(RateLimitStop):
        gate.admit()
    assert gate.in_flight == 2


def test_gate_keeps_the_lowest_remaining_and_the_first_stop() -> None:
    gate = RateGate('docker.io', 0)
    gate.observe(seen(40))
    gate.observe(seen(60))  # an older answer arriving late
    gate.observe({'remaining': None})
    assert gate.remaining == 40
    gate.refused()
    assert gate.stopped == RateStop('docker.io', TOO_MANY_REQUESTS)
    assert gate.report()['stopped'] == 'registry docker.io answered 429 Too Many Requests'
    with pytest.raises(RateLimitStop, match='copy not started: registry docker.io answered 429'):
        gate.admit()
    floor = RateGate('docker.io', 10, remaining=3)
    with pytest.raises(RateLimitStop):
        floor.admit()
    floor.refused()  # a 429 after the floor stop keeps the floor as the reason
    assert floor.stopped is not None and floor.stopped.cause == FLOOR
    assert floor.stopped.text == 'RateLimit-Remaining of registry docker.io is 3, and min_ratelimit_remaining is 10'
