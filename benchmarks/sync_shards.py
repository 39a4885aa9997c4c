# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""registry_sync's plan of a 2,000-repository catalog (check mode), as 1 shard and as 4 shards side by side.

Run from a staged tree (tests/run stages one; or after `bash tests/run setup`):
    PYTHONPATH=<stage root>:<stage>/tests python benchmarks/sync_shards.py [--repositories 2000] [--json]

A fault-free local source registry holds N tiny repositories (one image, one tag each, every one the same blobs),
seeded in well under a second by pushing one image and copying its repository tree in distribution's filesystem
layout N-1 times (harness.seed.clone_repository_on_disk). One whole-registry entry (include ['bench/**']) plans them
into a target registry in check mode, twice: against an empty target (every tag created: the plan a first mirror
makes) and against a target already in step (every tag unchanged: the plan of every later run). Each shard runs in its
own process with its own client, as an AWX slice job would; the 4 shards run side by side (on this machine's cores),
then one after another (each with the machine to itself, as each would on its own execution node). Times are wall clock of
the sync call (validation, catalog listing, plan, dry copy walk); requests are the client's own count.

No peer: skopeo sync plans nothing it does not copy. Self-contained (no _bench.py) so that it runs on any tree.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import time
import typing as t

from harness import Harness
from harness.seed import clone_repository_on_disk, push_image

SHARD_COUNTS = (1, 4)


def seed(registry: t.Any, count: int, under: str = '') -> float:
    """``bench/r0000`` ... ``bench/rNNNN`` (under ``under/`` when given), one tag ``1.0`` each, the same image; the seconds it took.

    The image is pushed as ``bench/r0000`` (its config names that repository) and its tree copied to the others, so the
    target seeded with ``under='mirror'`` holds exactly the source's bytes: a mirror in step.
    """
    start = time.perf_counter()
    push_image(registry, 'bench/r0000', '1.0', content='one tiny layer\n', labels={'bench': 'shards'})
    names = ['%s/r%04d' % ('%s/bench' % under if under else 'bench', n) for n in range(count)]
    clone_repository_on_disk(registry, 'bench/r0000', [name for name in names if name != 'bench/r0000'])
    return time.perf_counter() - start


def plan_shard(source_host: str, target_host: str, index: int, count: int, repositories: int) -> t.Dict[str, t.Any]:
    """One shard's check-mode plan in this process, with a client of its own: time, requests, what it owned and planned."""
    from ansible_collections.oci.registry.plugins.module_utils.client._client import RegistryClient
    from ansible_collections.oci.registry.plugins.module_utils.operations._sync import sync
    from ansible_collections.oci.registry.plugins.module_utils.wire._connection import ConnectionOptions

    client = RegistryClient(ConnectionOptions(plain_http=True, auth_method='none'))
    params = {'repositories': [{'source': source_host, 'target': target_host, 'include': ['bench/**'], 'target_prefix': 'mirror'}],
              'shard': {'index': index, 'count': count}, 'max_repositories': repositories}
    start = time.perf_counter()
    result = sync(client, client, params, check_mode=True)
    seconds = time.perf_counter() - start
    actions = {action: number for action, number in result['summary'].items() if number}
    requests = sum(sum(per_host.values()) for per_host in result['requests'].values())
    catalog = sum(listing['requests'] for listing in result['catalog'].values())
    return {'index': index, 'seconds': round(seconds, 2), 'requests': requests, 'catalog_requests': catalog,
            'repositories': result['shard']['repositories'], 'actions': actions}


def run_shards(source: t.Any, target: t.Any, count: int, repositories: int, side_by_side: bool = True
               ) -> t.Tuple[float, t.List[t.Dict[str, t.Any]]]:
    """All shards of ``count``, one process each, side by side or one after another; (wall seconds, per-shard rows)."""
    start = time.perf_counter()
    with concurrent.futures.ProcessPoolExecutor(max_workers=count if side_by_side else 1) as pool:
        futures = [pool.submit(plan_shard, source.host, target.host, index, count, repositories) for index in range(count)]
        rows = [future.result() for future in futures]
    return time.perf_counter() - start, rows


def main() -> int:
    parse = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parse.add_argument('--repositories', type=int, default=2000)
    parse.add_argument('--json', action='store_true', help='one JSON object per result')
    args = parse.parse_args()
    with Harness(flavours=('open',)) as harness:
        source, target = harness.open, harness.add_registry('shards-target', 'open')
        seeded = seed(source, args.repositories)
        for label in ('empty target (first mirror)', 'target in step (later runs)'):
            if label.startswith('target in step'):
                seed(target, args.repositories, under='mirror')
            for count, side_by_side in ((1, True), (4, True), (4, False)):
                wall, rows = run_shards(source, target, count, args.repositories, side_by_side)
                how = '' if count == 1 else ' side by side' if side_by_side else ' one after another (each alone, as on its own node)'
                line = {'scenario': 'plan %d repositories, %s, %d shard%s%s' % (args.repositories, label, count, 's' if count > 1 else '', how),
                        'wall_seconds': round(wall, 2), 'seeded_seconds': round(seeded, 2), 'shards': rows}
                print(json.dumps(line) if args.json else _readable(line), flush=True)
    return 0


def _readable(line: t.Dict[str, t.Any]) -> str:
    rows = '\n'.join('    shard %(index)d: %(repositories)d repositories, %(seconds).2f s, %(requests)d requests '
                     '(%(catalog_requests)d listing the catalog), %(actions)s' % row for row in line['shards'])
    return '%s: %.2f s wall (seeding took %.2f s)\n%s' % (line['scenario'], line['wall_seconds'], line['seeded_seconds'], rows)


if __name__ == '__main__':
    raise SystemExit(main())
