# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Client CPU per keep-alive HEAD of a manifest: the project's client against requests, urllib3 and http.client.

Run from a staged tree (benchmarks/run-all stages one; or after `bash tests/run setup`):
    PYTHONPATH=<stage root>:<stage>/tests python benchmarks/request_cpu.py [--requests 200] [--rounds 5] [--json]

On one open registry, in one process, four clients send HEAD for the same manifest with the same Accept header over
one kept-alive connection each: (a) the project's client, RegistryClient(...).head_manifest; (b) a bare
requests.Session; (c) a bare urllib3 HTTPConnectionPool; (d) http.client.HTTPConnection. Each is built and warmed
once (connection, ping), then every round runs --requests HEADs with each, in a shuffled order, timed by this
process's CPU clock (time.process_time: the client's work, not the registry's nor the wire's). Ratios are per round;
the goal is the project's client at most 1.5x a bare urllib3 pool. Last, untimed, os.environ is swapped for a
counting mapping and each client sends --requests HEADs more: the key reads and full scans of the environment per
request are reported.
"""

from __future__ import annotations

import http.client
import os
import sys
import time

import requests
import urllib3

from harness import Harness
from harness.seed import push_image

from _bench import ACCEPT, Bench, ConnectionOptions, RegistryClient, parse_image, parser

REPOSITORY, TAG = 'bench/cpu', 'v1'


class CountingEnviron(os._Environ):  # pylint: disable=protected-access
    """os.environ over the same data, counting key reads and full scans (items(), copies and `in` go through these)."""

    def __init__(self, original: os._Environ) -> None:  # pylint: disable=protected-access
        super().__init__(original._data, original.encodekey, original.decodekey,  # pylint: disable=protected-access
                         original.encodevalue, original.decodevalue)
        self.reads = 0
        self.scans = 0

    def __getitem__(self, key):
        self.reads += 1
        return super().__getitem__(key)

    def __iter__(self):
        self.scans += 1
        return super().__iter__()


def clients(registry, digest):
    """name -> a function sending one HEAD and checking the digest it answers."""
    host, port = registry.host.rsplit(':', 1)
    path = '/v2/%s/manifests/%s' % (REPOSITORY, TAG)
    headers = {'Accept': ACCEPT}
    project = RegistryClient(ConnectionOptions(plain_http=True))
    ref = parse_image('%s/%s:%s' % (registry.host, REPOSITORY, TAG))
    session = requests.Session()
    pool = urllib3.HTTPConnectionPool(host, int(port), maxsize=1)
    connection = http.client.HTTPConnection(host, int(port), timeout=30)

    def head_project():
        assert project.head_manifest(ref).digest == digest

    def head_session():
        response = session.head(registry.url + path, headers=headers, timeout=30)
        assert response.status_code == 200 and response.headers['Docker-Content-Digest'] == digest

    def head_urllib3():
        response = pool.request('HEAD', path, headers=headers, timeout=30)
        assert response.status == 200 and response.headers['Docker-Content-Digest'] == digest

    def head_http_client():
        connection.request('HEAD', path, headers=headers)
        response = connection.getresponse()
        response.read()
        assert response.status == 200 and response.getheader('Docker-Content-Digest') == digest

    return {'project client': head_project, 'requests.Session': head_session, 'urllib3 pool': head_urllib3,
            'http.client': head_http_client}


def repeat(head, count):
    def run():
        for _request in range(count):
            head()
    return run


def environ_reads(heads, count):
    """Per client, (key reads, full scans) of os.environ per request, counted over `count` requests."""
    counts = {}
    original = os.environ
    for name, head in heads.items():
        counting = os.environ = CountingEnviron(original)
        try:
            repeat(head, count)()
        finally:
            os.environ = original
        counts[name] = (counting.reads / count, counting.scans / count)
    return counts


def main(argv=None):
    parse = parser(__doc__)
    parse.add_argument('--requests', type=int, default=200, help='HEADs per client per round')
    args = parse.parse_args(argv)
    bench = Bench(args)
    with Harness(flavours=('open',)) as harness:
        registry = harness.open
        digest = push_image(registry, REPOSITORY, TAG)['digest']
        heads = clients(registry, digest)
        result = bench.compare({name: repeat(head, args.requests) for name, head in heads.items()}, clock=time.process_time,
                               warmup=True)
        environ = environ_reads(heads, args.requests)
        before = registry.request_count()
        repeat(heads['project client'], 10)()
        sent = registry.request_count() - before
    note = 'CPU per HEAD (process_time), %d keep-alive HEADs per client per round' % args.requests
    env = 'os.environ per request (%d keys): project client %.1f key reads, %.2f full scans; requests.Session %.1f, %.2f' % (
        (len(os.environ),) + environ['project client'] + environ['requests.Session'])
    bench.report('client CPU per HEAD: project client', result, 'project client', 'urllib3 pool', 'bare urllib3 HTTPConnectionPool',
                 per=args.requests, target=1.5, notes='%s; %s; %.1f registry requests per head_manifest' % (note, env, sent / 10))
    bench.report('client CPU per HEAD: project client', result, 'project client', 'http.client', 'http.client.HTTPConnection',
                 per=args.requests, notes=note)
    bench.report('client CPU per HEAD: requests.Session', result, 'requests.Session', 'urllib3 pool', 'bare urllib3 HTTPConnectionPool',
                 per=args.requests, notes=note)
    bench.report('client CPU per HEAD: requests.Session', result, 'requests.Session', 'http.client', 'http.client.HTTPConnection',
                 per=args.requests, notes=note)
    bench.report('client CPU per HEAD: urllib3 pool', result, 'urllib3 pool', 'http.client', 'http.client.HTTPConnection',
                 per=args.requests, notes=note)
    for name, (reads, scans) in environ.items():
        bench.note('os.environ per HEAD, %-18s %6.1f key reads  %5.2f full scans (of %d keys, each scan reads every key)' % (
            name, reads, scans, len(os.environ)))
    return 0


if __name__ == '__main__':
    sys.exit(main())
