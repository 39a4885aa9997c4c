# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""registry_sync against skopeo sync: first sync and no-op resync of 20 repositories x 10 tags between two local registries.

Run from a staged tree (tests/run stages one; or after `bash tests/run setup`):
    PYTHONPATH=<stage root>:<stage>/tests:<stage>/benchmarks python benchmarks/sync.py [--rounds 5] [--json]

The source holds 20 repositories of 10 tags each: every fourth repository multi-arch (an index of linux/amd64 and
linux/arm64/v8 per tag), the others single-platform images whose one layer is one of three shared base layers (the
tags differ by their configs). Each round runs, in a shuffled order: our first sync (a registry_sync playbook to a
fresh target registry: no blob there to skip or mount from) followed by our no-op resync to the same target, skopeo's
first sync to another fresh target followed by its no-op resync, and a one-task playbook (ansible.builtin.ping). The
fresh targets are started and skopeo's blob-info cache is removed in the untimed setups (the cache would turn repeat
copies into mounts and flatter skopeo). Ours is the task time, the playbook's time less the ping playbook's in the same
round; skopeo is one `skopeo sync --src yaml` process for all repositories. Ratios are taken per round. Requests are
counted by the registries themselves (/metrics).
"""

from __future__ import annotations

import os
import subprocess
import tempfile

from _bench import Bench, FreshRegistries, Playbooks, Variant, clear_skopeo_cache, median, parser, registry_requests
from harness import Harness
from harness.seed import push_image, push_index

REPOS, TAGS = 20, 10


def seed(source):
    names = ['bench/app%02d' % n for n in range(REPOS)]
    for n, name in enumerate(names):
        for tag in range(TAGS):
            if n % 4 == 0:
                push_index(source, name, '1.%d.0' % tag, labels={'build': '%s-%d' % (name, tag)})
            else:
                push_image(source, name, '1.%d.0' % tag, content='shared base layer %d\n' % (n % 3), labels={'build': '%s-%d' % (name, tag)})
    return names


def skopeo_spec(tmp, source, names):
    spec = os.path.join(tmp, 'skopeo-sync.yml')
    with open(spec, 'w', encoding='utf-8') as handle:
        handle.write('%s:\n  tls-verify: false\n  images:\n' % source.host)
        for name in names:
            handle.write('    %s: [%s]\n' % (name, ', '.join('"1.%d.0"' % tag for tag in range(TAGS))))
    return spec


def skopeo_sync(spec, target):
    subprocess.run(['skopeo', 'sync', '--all', '--preserve-digests', '--src', 'yaml', '--dest', 'docker', '--dest-tls-verify=false',
                    spec, '%s/sk' % target.host], check=True, capture_output=True, timeout=900)


def ours_playbook(books, source, names, target, label):
    entries = ''.join('          - {source: "%s/%s", target: "%s/%s"}\n' % (source.host, name, target.host, name) for name in names)
    return books.write(label, '    - oci.registry.registry_sync:\n        plain_http: true\n        repositories:\n' + entries)


def variants(harness, tmp, source, names):
    """ping, ours first/noop, skopeo first/noop; a no-op runs right behind its first sync, on the same target."""
    books, fresh, current = Playbooks(tmp), FreshRegistries(harness), {}
    spec = skopeo_spec(tmp, source, names)

    def ours_first():
        target = fresh('ours_target')
        current['ours'] = (ours_playbook(books, source, names, target, 'sync-%s' % target.name), target)
        return current['ours']

    def skopeo_first():
        clear_skopeo_cache()
        current['skopeo'] = fresh('skopeo_target')
        return current['skopeo']

    def skopeo_noop():
        clear_skopeo_cache()
        return current['skopeo']

    def ours_requests(state):
        return registry_requests(source, state[1])

    def skopeo_requests(target):
        return registry_requests(source, target)

    return {
        'ping': books.write('ping', '    - ansible.builtin.ping:\n'),
        'ours first': Variant(lambda state: state[0](), setup=ours_first, requests=ours_requests),
        'ours noop': Variant(lambda state: state[0](), setup=lambda: current['ours'], requests=ours_requests, after='ours first'),
        'skopeo first': Variant(lambda target: skopeo_sync(spec, target), setup=skopeo_first, requests=skopeo_requests),
        'skopeo noop': Variant(lambda target: skopeo_sync(spec, target), setup=skopeo_noop, requests=skopeo_requests,
                               after='skopeo first'),
    }


def main(argv=None):
    args = parser(__doc__).parse_args(argv)
    bench = Bench(args)
    with Harness(flavours=('open',)) as harness, tempfile.TemporaryDirectory() as tmp:
        source = harness.open
        names = seed(source)
        result = bench.compare(variants(harness, tmp, source, names))
    ping = median(result.times['ping'])
    for kind, target, request_target in (('first', 0.45, 1.0), ('noop', 0.30, 0.6)):
        ours_raw = median(result.times['ours ' + kind])
        bench.report('sync 20 repos x 10 tags, %s' % ('first sync' if kind == 'first' else 'no-op resync'), result,
                     'ours ' + kind, 'skopeo ' + kind, 'skopeo sync', ours_minus='ping', peer_minus=None, target=target,
                     request_target=request_target, notes='task time = playbook (median %.2f s) - ping playbook (median %.2f s), same round'
                     % (ours_raw, ping))
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
