# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""registry_sync against skopeo sync: first sync and no-op resync of 20 repositories x 10 tags between two local registries.

Run from a staged tree (tests/run stages one; or after `bash tests/run setup`):
    PYTHONPATH=<stage root>:<stage>/tests:<stage>/benchmarks python benchmarks/sync.py [--rounds 3] [--json]

The source holds 20 repositories of 10 tags each: every fourth repository multi-arch (an index of linux/amd64 and
linux/arm64/v8 per tag), the others single-platform images whose one layer is one of three shared base layers (the
tags differ by their configs). Each round, each tool syncs everything to a fresh target registry (a first sync: no
blob there to skip or mount from), then syncs again (a no-op resync). skopeo's blob-info cache is removed before each
skopeo run, or repeat copies to one registry would turn into mounts and flatter it. Requests are counted by the
registries themselves (/metrics). Ours is the task time: the registry_sync playbook's time minus a one-task playbook's
(ansible.builtin.ping); skopeo is one `skopeo sync --src yaml` process for all repositories.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import tempfile
import time

from _bench import Playbooks, median_time, parser, report
from harness import Harness
from harness.seed import push_image, push_index

REPOS, TAGS = 20, 10
BLOB_INFO_CACHES = ('/var/lib/containers/cache/blob-info-cache-v1.boltdb',
                    os.path.expanduser('~/.local/share/containers/cache/blob-info-cache-v1.boltdb'))


def seed(source):
    names = ['bench/app%02d' % n for n in range(REPOS)]
    for n, name in enumerate(names):
        for tag in range(TAGS):
            if n % 4 == 0:
                push_index(source, name, '1.%d.0' % tag, labels={'build': '%s-%d' % (name, tag)})
            else:
                push_image(source, name, '1.%d.0' % tag, content='shared base layer %d\n' % (n % 3), labels={'build': '%s-%d' % (name, tag)})
    return names


def measure(registries, action):
    before = sum(r.request_count() for r in registries)
    start = time.perf_counter()
    action()
    return time.perf_counter() - start, sum(r.request_count() for r in registries) - before


def skopeo_sync(tmp, source, names, target):
    for cache in BLOB_INFO_CACHES:
        if os.path.exists(cache):
            os.unlink(cache)
    spec = os.path.join(tmp, 'skopeo-sync.yml')
    with open(spec, 'w', encoding='utf-8') as handle:
        handle.write('%s:\n  tls-verify: false\n  images:\n' % source.host)
        for name in names:
            handle.write('    %s: [%s]\n' % (name, ', '.join('"1.%d.0"' % tag for tag in range(TAGS))))
    subprocess.run(['skopeo', 'sync', '--all', '--preserve-digests', '--src', 'yaml', '--dest', 'docker', '--dest-tls-verify=false',
                    spec, '%s/sk' % target.host], check=True, capture_output=True, timeout=900)


def ours_playbook(books, source, names, target, label):
    entries = ''.join('          - {source: "%s/%s", target: "%s/%s"}\n' % (source.host, name, target.host, name) for name in names)
    return books.write(label, '    - oci.registry.registry_sync:\n        plain_http: true\n        repositories:\n' + entries)


def main():
    args = parser(__doc__).parse_args()
    with Harness(flavours=('open',)) as harness, tempfile.TemporaryDirectory() as tmp:
        source = harness.open
        names = seed(source)
        books = Playbooks(tmp)
        baseline = median_time(books.write('ping', '    - ansible.builtin.ping:\n'), args.rounds)
        rows = {key: [] for key in ('ours first', 'ours noop', 'skopeo first', 'skopeo noop')}
        for n in range(args.rounds):
            ours_target = harness.add_registry('ours%d' % n, 'open')
            run = ours_playbook(books, source, names, ours_target, 'sync%d' % n)
            rows['ours first'].append(measure([source, ours_target], run))
            rows['ours noop'].append(measure([source, ours_target], run))
            sk_target = harness.add_registry('skopeo%d' % n, 'open')
            rows['skopeo first'].append(measure([source, sk_target], lambda t=sk_target: skopeo_sync(tmp, source, names, t)))
            rows['skopeo noop'].append(measure([source, sk_target], lambda t=sk_target: skopeo_sync(tmp, source, names, t)))
        med = {key: (statistics.median(s[0] for s in samples), max(s[1] for s in samples)) for key, samples in rows.items()}
        for kind, target in (('first', 0.5), ('noop', 0.25)):
            ours_time, ours_requests = med['ours %s' % kind]
            sk_time, sk_requests = med['skopeo %s' % kind]
            report(args.json, 'sync 20 repos x 10 tags, %s' % ('first sync' if kind == 'first' else 'no-op resync'),
                   ours_time - baseline, sk_time, 'skopeo sync', target=target,
                   notes='requests ours %d, skopeo %d (ratio %.2f); task time = playbook %.2f s - one-task playbook %.2f s' % (
                       ours_requests, sk_requests, ours_requests / max(1, sk_requests), ours_time, baseline))
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
