# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# This is a private module_utils file of oci.registry: do not use it from other collections.
"""Shards: one sync split over ``count`` independent runs (AWX slice jobs, hosts of an inventory).

A target repository belongs to shard ``sha256(name) % count``, where ``name`` is the normalized target
repository (``registry.example.com/mirror/team/app``), hashed as UTF-8. The assignment needs no shared
state: every run computes the same owner for every repository, a repository keeps its shard while
others come and go, and the shards of one count cover every repository exactly once.
"""

from __future__ import annotations

import typing as t
from dataclasses import dataclass

from ansible_collections.oci.registry.plugins.module_utils.model._digest import text_number
from ansible_collections.oci.registry.plugins.module_utils.model._errors import InvalidInputError

MAX_SHARDS = 1024


def shard_of(name: str, count: int) -> int:
    """The shard (``0`` to ``count - 1``) that owns the target repository ``name``."""
    return text_number(name) % count


@dataclass(frozen=True)
class Shard:
    """This run's part of the work: shard ``index`` of ``count``."""

    index: int = 0
    count: int = 1

    @classmethod
    def parse(cls, value: t.Optional[t.Mapping[str, t.Any]], option: str = 'shard') -> t.Optional['Shard']:
        """``{index, count}`` validated; None when not sharded. InvalidInputError names what is wrong and what is allowed."""
        if value is None:
            return None
        if not isinstance(value, t.Mapping):
            raise InvalidInputError('%s must be a dict {index, count}, got %r' % (option, value))
        index, count = value.get('index'), value.get('count')
        if not _integer(count) or not 1 <= count <= MAX_SHARDS:
            raise InvalidInputError('%s.count must be a whole number of shards from 1 to %d, got %r' % (option, MAX_SHARDS, count))
        if not _integer(index) or not 0 <= index < count:
            raise InvalidInputError('%s.index must be from 0 to %d (%s.count - 1; shards are numbered from 0), got %r' % (
                option, count - 1, option, index))
        return cls(index, count)

    def owns(self, name: str) -> bool:
        """Whether this shard plans, copies and prunes the target repository ``name``."""
        return shard_of(name, self.count) == self.index

    def report(self, owned: int, total: int) -> t.Dict[str, t.Any]:
        """The ``shard`` result key: which shard ran, how many repositories it owned of how many in all."""
        return {'index': self.index, 'count': self.count, 'repositories': owned, 'total_repositories': total}


def _integer(value: t.Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
