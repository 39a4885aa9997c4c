# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Wall-clock and request counts of digest resolution against a local token-auth registry.

Run from a staged tree (tests/run stages one; or after `bash tests/run setup`):
    PYTHONPATH=<stage root>:<stage>/tests python benchmarks/digest_lookup.py [--terms 50] [--rounds 3]

Prints, for N references in one repository: a cold client resolving them one by one, the same
concurrently with the lookup's worker count, and a warm client (token cached). Timings are for
reading, not asserting: the tests assert request budgets, never seconds.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor

from harness import Harness
from harness.seed import push_image

from _bench import ConnectionOptions, RegistryClient, parse_image


def measure(label, refs, options, workers, rounds, warm_client=None):
    times, counts = [], []
    for _round in range(rounds):
        client = warm_client or RegistryClient(options)
        before = len(client.log)
        start = time.perf_counter()
        with ThreadPoolExecutor(max_workers=workers) as pool:
            digests = list(pool.map(lambda ref: client.resolve(ref).digest, refs))
        times.append(time.perf_counter() - start)
        counts.append(len(client.log) - before)
        assert len(set(digests)) == 1
    print('%-34s %4d refs  %6.1f ms median  %5.2f ms/ref  %3d requests' % (
        label, len(refs), statistics.median(times) * 1000, statistics.median(times) * 1000 / len(refs), max(counts)))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--terms', type=int, default=50)
    parser.add_argument('--rounds', type=int, default=3)
    args = parser.parse_args(argv)
    with Harness(flavours=('token',)) as harness:
        registry = harness.token
        tags = ['b%03d' % i for i in range(args.terms)]
        push_image(registry, 'bench/many', tags, verify=registry.verify)
        refs = [parse_image('%s/bench/many:%s' % (registry.host, tag)) for tag in tags]
        options = ConnectionOptions(username='reader', password=registry.users['reader'], plain_http=True)
        measure('cold client, sequential', refs, options, 1, args.rounds)
        measure('cold client, 8 workers (lookup)', refs, options, 8, args.rounds)
        warm = RegistryClient(options)
        warm.resolve(refs[0])
        measure('warm client, 8 workers', refs, options, 8, args.rounds, warm_client=warm)
    return 0


if __name__ == '__main__':
    sys.exit(main())
