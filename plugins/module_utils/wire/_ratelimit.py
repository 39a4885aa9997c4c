# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# This is a private module_utils file of oci.registry: do not use it from other collections.
"""Pull rate limits: the ``RateLimit-*`` headers a registry sends, and the gate that keeps a floor of them.

Docker Hub sends ``ratelimit-limit: 100;w=21600`` and ``ratelimit-remaining: 76;w=21600`` on manifest
requests (other registries may too); :func:`parse_ratelimit` reads them wherever they come. A
:class:`RateGate` holds one source registry's allowance as the answers tell it, and refuses a request
that spends a pull (a manifest GET) when it would take the allowance below a floor, or once the
registry answered 429. Why it stopped is a :class:`RateStop` value, never a message to read back.
"""

from __future__ import annotations

import threading
import typing as t
from dataclasses import dataclass, field

from ansible_collections.oci.registry.plugins.module_utils.model._errors import RegistryError

# Why a gate stopped: its floor was reached, or the registry answered 429 Too Many Requests.
FLOOR = 'floor'
TOO_MANY_REQUESTS = 'too_many_requests'


def parse_ratelimit(headers: t.Mapping[str, str]) -> t.Optional[t.Dict[str, t.Any]]:
    """Docker Hub's ``ratelimit-limit: 100;w=21600`` headers as a dict, or None when absent."""
    limit, remaining = headers.get('ratelimit-limit'), headers.get('ratelimit-remaining')
    if not limit and not remaining:
        return None

    def split(value: t.Optional[str]) -> t.Tuple[t.Optional[int], t.Optional[int]]:
        if not value:
            return None, None
        count, _sep, rest = value.partition(';')
        window = rest.strip()[2:] if rest.strip().startswith('w=') else ''
        return (int(count) if count.strip().isdigit() else None, int(window) if window.isdigit() else None)

    lim, window = split(limit)
    rem, window2 = split(remaining)
    return {'limit': lim, 'remaining': rem, 'window_seconds': window or window2, 'source': headers.get('docker-ratelimit-source')}


@dataclass(frozen=True)
class RateStop:
    """Why a registry's pulls were stopped: ``cause`` is FLOOR (with the allowance seen and the floor) or TOO_MANY_REQUESTS."""

    registry: str
    cause: str
    remaining: t.Optional[int] = None
    floor: int = 0

    @property
    def text(self) -> str:
        if self.cause == FLOOR:
            return 'RateLimit-Remaining of registry %s is %d, and min_ratelimit_remaining is %d' % (
                self.registry, t.cast(int, self.remaining), self.floor)
        return 'registry %s answered 429 Too Many Requests' % self.registry


class RateLimitStop(RegistryError):
    """A request that spends a pull was not sent: its registry's gate is stopped (``stop`` says why)."""

    kind = 'rate_limited'

    def __init__(self, stop: RateStop) -> None:
        super().__init__('copy not started: %s' % stop.text)
        self.stop = stop


@dataclass
class RateGate:
    """The pull allowance of one source registry, as its ``RateLimit-*`` headers tell it, and the floor to keep (0: none)."""

    registry: str
    floor: int
    limit: t.Optional[int] = None
    remaining: t.Optional[int] = None
    window_seconds: t.Optional[int] = None
    in_flight: int = 0
    stopped: t.Optional[RateStop] = None
    lock: t.Any = field(default_factory=threading.Lock, repr=False)

    def observe(self, ratelimit: t.Optional[t.Mapping[str, t.Any]]) -> None:
        """Take in what an answer's headers said (the lowest ``remaining`` seen wins)."""
        if not ratelimit or ratelimit.get('remaining') is None:
            return
        with self.lock:
            self.remaining = ratelimit['remaining'] if self.remaining is None else min(self.remaining, ratelimit['remaining'])
            self.limit = ratelimit.get('limit') or self.limit
            self.window_seconds = ratelimit.get('window_seconds') or self.window_seconds

    def admit(self) -> None:
        """Before a request that spends a pull: RateLimitStop when it would take the allowance below the floor."""
        with self.lock:
            if self.stopped is None and self.floor and self.remaining is not None and self.remaining - self.in_flight - 1 < self.floor:
                self.stopped = RateStop(self.registry, FLOOR, self.remaining, self.floor)
            if self.stopped is not None:
                raise RateLimitStop(self.stopped)
            self.in_flight += 1

    def release(self, ratelimit: t.Optional[t.Mapping[str, t.Any]]) -> None:
        """After an admitted request, with what its answer's headers said (None when it failed)."""
        with self.lock:
            self.in_flight -= 1
        self.observe(ratelimit)

    def refused(self) -> None:
        """The registry answered 429: no more pulls from it in this run (an earlier stop keeps its reason)."""
        with self.lock:
            self.stopped = self.stopped or RateStop(self.registry, TOO_MANY_REQUESTS)

    def report(self) -> t.Dict[str, t.Any]:
        return {'limit': self.limit, 'remaining': self.remaining, 'window_seconds': self.window_seconds,
                'stopped': self.stopped.text if self.stopped else None}
