# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""registry_tag against skopeo copy: requests and wall time of a retag, a cross-repo and a cross-registry copy.

Run from a staged tree (tests/run stages one; or after `bash tests/run setup`):
    PYTHONPATH=<stage root>:<stage>/tests python benchmarks/tag_copy.py [--rounds 5] [--blob-mib 256] [--json]

Both tools copy the same image on the same local registries in the same run, all six variants in a shuffled order
every round, each to a target name of its own that round (chosen in the untimed setup, which also removes skopeo's
blob-info cache before a skopeo run). Requests are counted by the registries themselves (/metrics), so token requests
(none here: open registries) and client-side caching do not blur the comparison. Last, a child process copies an
image with one large random blob between two registries and reports its peak RSS (VmHWM) (memory must stay bounded
whatever the blob size). Timings are for reading, not asserting.
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys

from ansible_collections.oci.registry.plugins.modules import registry_tag
from harness import Harness
from harness.seed import OCI_MANIFEST, PushClient, push_image, push_index

from _bench import CHILD_PRELUDE, Bench, ConnectionOptions, RegistryClient, Variant, clear_skopeo_cache, parser, registry_requests

RSS_CHILD = CHILD_PRELUDE + '''
import time
from _bench import ConnectionOptions, CopyStats, RegistryClient, RegistryRepository, copy_image, parse_image
source, target = parse_image(sys.argv[1]), parse_image(sys.argv[2])
client = RegistryClient(ConnectionOptions(plain_http=True))
def hwm():  # peak RSS of this process image in KiB (ru_maxrss would include the parent's memory from before exec)
    return next(int(line.split()[1]) for line in open('/proc/self/status') if line.startswith('VmHWM:'))
client.ping(source); client.ping(target)
before = hwm()
stats = CopyStats()
start = time.perf_counter()
copy_image(RegistryRepository(client, source), RegistryRepository(client, target), source.tag, [target.tag], stats=stats)
print(before, hwm(), stats.copied_bytes, time.perf_counter() - start)
'''


def ours(source, tags, repository=None):
    client = RegistryClient(ConnectionOptions(plain_http=True))
    params = {'source': source, 'tags': tags, 'repository': repository, 'overwrite': True, 'referrers': False, 'source_auth': None}
    result = registry_tag.run(client, params, False)
    assert result['changed']
    return result


def skopeo(source, target, multi):
    args = ['skopeo', 'copy', '--quiet', '--src-tls-verify=false', '--dest-tls-verify=false', '--preserve-digests']
    if multi:
        args.append('--all')
    subprocess.run(args + ['docker://' + source, 'docker://' + target], check=True, capture_output=True, timeout=300)


def variants(registries, ours_action, skopeo_action):
    """Ours and skopeo for one scenario; each run gets a fresh number n for its target's name."""
    numbers = itertools.count()

    def skopeo_setup():
        clear_skopeo_cache()
        return next(numbers)

    def count(_number):
        return registry_requests(*registries)

    return (Variant(ours_action, setup=lambda: next(numbers), requests=count),
            Variant(skopeo_action, setup=skopeo_setup, requests=count))


def peak_rss(source, target, size_mib):
    pusher = PushClient(source.url, timeout=600)
    blob = os.urandom(size_mib * 1024 * 1024)
    layer = pusher.upload_blob('bench/big', blob)
    config = json.dumps({'architecture': 'amd64', 'os': 'linux', 'rootfs': {'type': 'layers', 'diff_ids': []}}).encode()
    config_digest = pusher.upload_blob('bench/big', config)
    manifest = json.dumps({'schemaVersion': 2, 'mediaType': OCI_MANIFEST,
                           'config': {'mediaType': 'application/vnd.oci.image.config.v1+json', 'digest': config_digest, 'size': len(config)},
                           'layers': [{'mediaType': 'application/vnd.oci.image.layer.v1.tar', 'digest': layer, 'size': len(blob)}]}).encode()
    pusher.put_manifest('bench/big', 'v1', manifest, OCI_MANIFEST)
    del blob
    proc = subprocess.run([sys.executable, '-c', RSS_CHILD, '%s/bench/big:v1' % source.host, '%s/bench/big:v1' % target.host],
                          check=True, capture_output=True, text=True, timeout=600)
    before, peak, copied, seconds = proc.stdout.split()
    return 'cross-registry copy of a %d MiB blob: %.1f MiB copied in %.1f s, peak RSS %.1f MiB (%.1f MiB before the copy, +%.1f MiB)' % (
        size_mib, int(copied) / 2 ** 20, float(seconds), int(peak) / 1024, int(before) / 1024, (int(peak) - int(before)) / 1024)


def main(argv=None):
    parse = parser(__doc__)
    parse.add_argument('--blob-mib', type=int, default=256)
    args = parse.parse_args(argv)
    bench = Bench(args)
    with Harness(flavours=('open',)) as harness:
        one, two = harness.open, harness.add_registry('other', 'open')
        push_image(one, 'bench/app', 'v1', content='benchmark image\n')
        push_index(one, 'bench/multi', 'v1')
        src, multi = '%s/bench/app:v1' % one.host, '%s/bench/multi:v1' % one.host
        scenarios = {
            'same-repository retag': variants(
                [one], lambda n: ours(src, ['ours%d' % n]), lambda n: skopeo(src, '%s/bench/app:sk%d' % (one.host, n), False)),
            'cross-repository copy (mount)': variants(
                [one], lambda n: ours(src, ['v1'], '%s/bench/ours-repo%d' % (one.host, n)),
                lambda n: skopeo(src, '%s/bench/sk-repo%d:v1' % (one.host, n), False)),
            'cross-registry multi-arch copy': variants(
                [one, two], lambda n: ours(multi, ['v1'], '%s/bench/ours-multi%d' % (two.host, n)),
                lambda n: skopeo(multi, '%s/bench/sk-multi%d:v1' % (two.host, n), True)),
        }
        spec = {}
        for label, (our_variant, skopeo_variant) in scenarios.items():
            spec['ours: ' + label], spec['skopeo: ' + label] = our_variant, skopeo_variant
        result = bench.compare(spec)
        for label in scenarios:
            bench.report(label, result, 'ours: ' + label, 'skopeo: ' + label, 'skopeo copy', target=1.0,
                         notes='open registries; requests counted by the registries')
        bench.note(peak_rss(one, two, args.blob_mib))
    return 0


if __name__ == '__main__':
    sys.exit(main())
