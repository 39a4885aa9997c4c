# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""registry_tag against skopeo copy: requests and wall time of a retag, a cross-repo and a cross-registry copy.

Run from a staged tree (tests/run stages one; or after `bash tests/run setup`):
    PYTHONPATH=<stage root>:<stage>/tests python benchmarks/tag_copy.py [--rounds 3] [--blob-mib 256]

Both tools copy the same image on the same local registries in the same run; requests are counted
by the registries themselves (/metrics), so token requests (none here: open registries) and
client-side caching do not blur the comparison. Last, a child process copies an image with one
large random blob between two registries and reports its peak RSS (VmHWM) (memory must stay bounded
whatever the blob size). Timings are for reading, not asserting.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

from ansible_collections.oci.registry.plugins.modules import registry_tag
from ansible_collections.oci.registry.plugins.module_utils.client._client import RegistryClient
from ansible_collections.oci.registry.plugins.module_utils.wire._connection import ConnectionOptions
from harness import Harness
from harness.seed import OCI_MANIFEST, PushClient, push_image, push_index

OPTIONS = ConnectionOptions(plain_http=True)

RSS_CHILD = '''
import sys, time
from ansible_collections.oci.registry.plugins.module_utils.client._client import RegistryClient, parse_image
from ansible_collections.oci.registry.plugins.module_utils.operations._copy import copy_image, CopyStats
from ansible_collections.oci.registry.plugins.module_utils.stores._store import RegistryRepository
from ansible_collections.oci.registry.plugins.module_utils.wire._connection import ConnectionOptions
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
    client = RegistryClient(OPTIONS)
    params = {'source': source, 'tags': tags, 'repository': repository, 'overwrite': True, 'referrers': False, 'source_auth': None}
    result = registry_tag.run(client, params, False)
    assert result['changed']
    return result


def skopeo(source, target, multi):
    args = ['skopeo', 'copy', '--quiet', '--src-tls-verify=false', '--dest-tls-verify=false', '--preserve-digests']
    if multi:
        args.append('--all')
    subprocess.run(args + ['docker://' + source, 'docker://' + target], check=True, capture_output=True, timeout=300)


def measure(registries, action):
    before = sum(r.request_count() for r in registries)
    start = time.perf_counter()
    action()
    elapsed = time.perf_counter() - start
    return elapsed, sum(r.request_count() for r in registries) - before


def compare(label, registries, rounds, ours_action, skopeo_action):
    rows = {}
    for name, action in (('oci.registry', ours_action), ('skopeo copy', skopeo_action)):
        samples = [measure(registries, lambda n=n: action(n)) for n in range(rounds)]
        rows[name] = (statistics.median(s[0] for s in samples), max(s[1] for s in samples))
    (our_time, our_requests), (sk_time, sk_requests) = rows['oci.registry'], rows['skopeo copy']
    print('%-40s oci.registry %7.1f ms %3d req | skopeo %7.1f ms %3d req | time ratio %.2f, request ratio %.2f' % (
        label, our_time * 1000, our_requests, sk_time * 1000, sk_requests, our_time / sk_time, our_requests / max(1, sk_requests)))


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
    print('cross-registry copy of a %d MiB blob: %.1f MiB copied in %.1f s, peak RSS %.1f MiB (%.1f MiB before the copy, +%.1f MiB)' % (
        size_mib, int(copied) / 2 ** 20, float(seconds), int(peak) / 1024, int(before) / 1024, (int(peak) - int(before)) / 1024))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--rounds', type=int, default=3)
    parser.add_argument('--blob-mib', type=int, default=256)
    args = parser.parse_args(argv)
    with Harness(flavours=('open',)) as harness:
        one, two = harness.open, harness.add_registry('other', 'open')
        push_image(one, 'bench/app', 'v1', content='benchmark image\n')
        push_index(one, 'bench/multi', 'v1')
        src, multi = '%s/bench/app:v1' % one.host, '%s/bench/multi:v1' % one.host
        compare('same-repository retag', [one], args.rounds,
                lambda n: ours(src, ['ours%d' % n]), lambda n: skopeo(src, '%s/bench/app:sk%d' % (one.host, n), False))
        compare('cross-repository copy (mount)', [one], args.rounds,
                lambda n: ours(src, ['v1'], '%s/bench/ours-repo%d' % (one.host, n)),
                lambda n: skopeo(src, '%s/bench/sk-repo%d:v1' % (one.host, n), False))
        compare('cross-registry multi-arch copy', [one, two], args.rounds,
                lambda n: ours(multi, ['v1'], '%s/bench/ours-multi%d' % (two.host, n)),
                lambda n: skopeo(multi, '%s/bench/sk-multi%d:v1' % (two.host, n), True))
        peak_rss(one, two, args.blob_mib)
    return 0


if __name__ == '__main__':
    sys.exit(main())
