# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""registry_tags_info with digests: true against bare HEAD requests of the same tags, same registry, same run.

Run from a staged tree (tests/run stages one; or after `bash tests/run setup`):
    PYTHONPATH=<stage root>:<stage>/tests python benchmarks/tags_digests.py [--tags 2500] [--rounds 3] [--flavour open|token]

The baseline is the least a client can do: one requests.Session (pool of 8+ connections), a ready
Authorization header, and 8 threads sending HEAD for each tag. The module run adds listing, ping,
token, filtering and its own bounded pool. Goal: at most 1.2x the baseline. Timings are
for reading, not asserting: the tests assert request budgets, never seconds.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import requests

from ansible_collections.oci.registry.plugins.modules import registry_tags_info as tags_info
from ansible_collections.oci.registry.plugins.module_utils.client._client import RegistryClient
from ansible_collections.oci.registry.plugins.module_utils.model._manifest import ACCEPT
from ansible_collections.oci.registry.plugins.module_utils.wire._connection import ConnectionOptions
from harness import Harness
from harness.seed import PushClient, link_tags_on_disk, push_image

from _bench import report

WORKERS = 8


def bare_heads(registry, repository, tags, user):
    """The baseline: 8 threads of HEADs on one Session, token fetched before the clock starts."""
    session = requests.Session()
    session.mount('http://', requests.adapters.HTTPAdapter(pool_maxsize=WORKERS))
    headers = {'Accept': ACCEPT}
    if user:
        pusher = PushClient(registry.url, user, registry.users[user], verify=registry.verify)
        headers.update(pusher._auth_headers('repository:%s:pull' % repository))  # pylint: disable=protected-access

    def head(tag):
        response = session.head('%s/v2/%s/manifests/%s' % (registry.url, repository, tag), headers=headers)
        assert response.status_code == 200, response.status_code
        return response.headers['Docker-Content-Digest']

    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        digests = list(pool.map(head, tags))
    elapsed = time.perf_counter() - start
    assert len(digests) == len(tags)
    return elapsed, len(tags)


def module_run(registry, repository, count, user):
    """registry_tags_info's run() with digests: true, from a cold client (ping, token, list included)."""
    options = ConnectionOptions(username=user, password=registry.users[user] if user else None, plain_http=True)
    client = RegistryClient(options)
    params = {'repository': '%s/%s' % (registry.host, repository), 'match': None, 'exclude': None, 'sort': 'name', 'order': 'asc',
              'limit': None, 'digests': True, 'workers': WORKERS}
    start = time.perf_counter()
    result = tags_info.run(client, params, False)
    elapsed = time.perf_counter() - start
    assert len(result['tags']) == count and all(d['digest'] for d in result['details'])
    return elapsed, len(client.log)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--tags', type=int, default=2500)
    parser.add_argument('--rounds', type=int, default=3)
    parser.add_argument('--flavour', choices=('open', 'token'), default='open')
    parser.add_argument('--json', action='store_true', help='one JSON line per result, for benchmarks/run-all (README.md)')
    args = parser.parse_args(argv)
    with Harness(flavours=(args.flavour,)) as harness:
        registry = harness[args.flavour]
        user = 'reader' if args.flavour == 'token' else None
        pushed = push_image(registry, 'bench/tags', 'seed', verify=registry.verify)
        tags = ['1.0.%d' % i for i in range(args.tags - 1)]
        link_tags_on_disk(registry, 'bench/tags', pushed['digest'], tags)
        tags.append('seed')
        bare_heads(registry, 'bench/tags', tags[:50], user)  # warm the registry's own caches before measuring either
        bare, module, counts = [], [], []
        for _round in range(args.rounds):  # interleaved, so machine load hits both alike
            bare.append(bare_heads(registry, 'bench/tags', tags, user)[0])
            elapsed, requests_sent = module_run(registry, 'bench/tags', len(tags), user)
            module.append(elapsed)
            counts.append(requests_sent)
        b, m = statistics.median(bare), statistics.median(module)
        if args.json:
            report(True, 'tags_info, %d tags with digests' % len(tags), m, b, 'bare HEADs, %d threads' % WORKERS, 1.2,
                   '%s registry; %d requests' % (args.flavour, max(counts)))
            return 0
        print('registry %s, %d tags, %d threads, %d rounds (medians)' % (args.flavour, len(tags), WORKERS, args.rounds))
        print('  bare HEADs            %7.0f ms  %5.3f ms/tag  %d requests' % (b * 1000, b * 1000 / len(tags), len(tags)))
        print('  tags_info digests     %7.0f ms  %5.3f ms/tag  %d requests' % (m * 1000, m * 1000 / len(tags), max(counts)))
        print('  ratio                 %7.2fx (goal <= 1.2x)' % (m / b))
    return 0


if __name__ == '__main__':
    sys.exit(main())
