# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""registry_tags_info with digests: true against bare HEAD requests of the same tags, same registry, same run.

Run from a staged tree (tests/run stages one; or after `bash tests/run setup`):
    PYTHONPATH=<stage root>:<stage>/tests python benchmarks/tags_digests.py [--tags 2500] [--rounds 5] [--flavour open|token] [--json]

The baseline is the least a client can do: one requests.Session (pool of 8+ connections), a ready
Authorization header (fetched in the untimed setup), and 8 threads sending HEAD for each tag. The module run adds
listing, ping, token, filtering and its own bounded pool, from a cold client. Both run once per round in a shuffled
order, after one untimed warm-up each; the goal is a median per-round ratio of at most 1.2. Timings are for reading,
not asserting: the tests assert request budgets, never seconds.
"""

from __future__ import annotations

import sys
from concurrent.futures import ThreadPoolExecutor

import requests

from ansible_collections.oci.registry.plugins.modules import registry_tags_info as tags_info
from harness import Harness
from harness.seed import PushClient, link_tags_on_disk, push_image

from _bench import ACCEPT, Bench, ConnectionOptions, RegistryClient, Variant, parser, registry_requests

WORKERS = 8


def bare_setup(registry, repository, user):
    """A Session with a pool of WORKERS connections and ready headers (token fetched here, before the clock starts)."""
    session = requests.Session()
    session.mount('http://', requests.adapters.HTTPAdapter(pool_maxsize=WORKERS))
    headers = {'Accept': ACCEPT}
    if user:
        pusher = PushClient(registry.url, user, registry.users[user], verify=registry.verify)
        headers.update(pusher._auth_headers('repository:%s:pull' % repository))  # pylint: disable=protected-access
    return session, headers


def bare_heads(registry, repository, tags, state):
    """The baseline: 8 threads of HEADs on one Session."""
    session, headers = state

    def head(tag):
        response = session.head('%s/v2/%s/manifests/%s' % (registry.url, repository, tag), headers=headers)
        assert response.status_code == 200, response.status_code
        return response.headers['Docker-Content-Digest']

    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        digests = list(pool.map(head, tags))
    session.close()
    assert len(digests) == len(tags)


def module_run(registry, repository, count, user, client):
    """registry_tags_info's run() with digests: true, from a cold client (ping, token, list included)."""
    params = {'repository': '%s/%s' % (registry.host, repository), 'match': None, 'exclude': None, 'semver': None, 'sort': 'name', 'order': 'asc',
              'limit': None, 'digests': True, 'workers': WORKERS}
    result = tags_info.run(client, params, False)
    assert len(result['tags']) == count and all(d['digest'] for d in result['details'])


def main(argv=None):
    parse = parser(__doc__)
    parse.add_argument('--tags', type=int, default=2500)
    parse.add_argument('--flavour', choices=('open', 'token'), default='open')
    args = parse.parse_args(argv)
    bench = Bench(args)
    with Harness(flavours=(args.flavour,)) as harness:
        registry = harness[args.flavour]
        user = 'reader' if args.flavour == 'token' else None
        pushed = push_image(registry, 'bench/tags', 'seed', verify=registry.verify)
        tags = ['1.0.%d' % i for i in range(args.tags - 1)]
        link_tags_on_disk(registry, 'bench/tags', pushed['digest'], tags)
        tags.append('seed')
        options = ConnectionOptions(username=user, password=registry.users[user] if user else None, plain_http=True)
        result = bench.compare({
            'bare': Variant(lambda state: bare_heads(registry, 'bench/tags', tags, state),
                            setup=lambda: bare_setup(registry, 'bench/tags', user), requests=lambda _state: registry_requests(registry)),
            'ours': Variant(lambda client: module_run(registry, 'bench/tags', len(tags), user, client),
                            setup=lambda: RegistryClient(options), requests=lambda _client: registry_requests(registry)),
        }, warmup=True)
        bench.report('tags_info, %d tags with digests' % len(tags), result, 'ours', 'bare', 'bare HEADs, %d threads' % WORKERS,
                     target=1.2, notes='%s registry; requests counted by the registry (/metrics)' % args.flavour)
    return 0


if __name__ == '__main__':
    sys.exit(main())
