# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""registry_archive export/import of a multi-arch image with a large layer, against skopeo oci-archive in the same run.

Run from a staged tree (tests/run stages one; or after `bash tests/run setup`):
    PYTHONPATH=<stage root>:<stage>/tests python benchmarks/archive.py [--layer-mib 256] [--rounds 3]

Starts one open registry, pushes a two-platform index whose amd64 child has one incompressible
layer of --layer-mib MiB, then times each step in its own process (wall time, peak RSS from
wait4): our export to a .tar, skopeo copy --all to oci-archive, our import of our archive into a
new registry, skopeo's import of the same archive there; rounds interleave (each tool goes first
every other round) and medians are compared. Every step must keep the index digest.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

from harness import Harness
from harness.seed import DEFAULT_CREATED, OCI_CONFIG, OCI_INDEX, OCI_LAYER, OCI_MANIFEST, PushClient, push_image, sha256_digest

RUN_MODULE = '''
import json, sys
from ansible_collections.oci.registry.plugins.modules import registry_archive
from ansible_collections.oci.registry.plugins.module_utils.client._client import RegistryClient
from ansible_collections.oci.registry.plugins.module_utils.wire._connection import ConnectionOptions
params = json.loads(sys.argv[1])
result = registry_archive.run(RegistryClient(ConnectionOptions(plain_http=True)), params, False)
print(json.dumps({'digest': result['images'][0]['digest'], 'blobs': result['blobs'], 'bytes': result['bytes']}))
'''


# ru_maxrss of a child forked from this benchmark process counts this process's pages from before
# exec, so every measured command is started by a small launcher (python -S, about 9 MiB) and the
# launcher reports its own child's peak: that is the command's own peak RSS, not ours.
LAUNCHER = (
    'import os, sys\n'
    'pid = os.fork()\n'
    'if pid == 0:\n'
    '    os.execvp(sys.argv[1], sys.argv[1:])\n'
    '_pid, status, usage = os.wait4(pid, 0)\n'
    'sys.stderr.write("\\nMAXRSS_KIB %d\\n" % usage.ru_maxrss)\n'
    'sys.exit(os.waitstatus_to_exitcode(status))\n'
)


def timed(label, argv):
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, '-S', '-c', LAUNCHER] + argv, capture_output=True, check=False)
    wall = time.perf_counter() - start
    out, err = proc.stdout.decode(), proc.stderr.decode()
    if proc.returncode != 0:
        raise SystemExit('%s failed: %s %s' % (label, out[-2000:], err[-2000:]))
    rss = int(err.rsplit('MAXRSS_KIB ', 1)[1].split()[0]) / 1024.0
    print('%-36s %7.2f s  peak RSS %6.1f MiB' % (label, wall, rss))
    return wall, rss, out


def push_big_index(url, repository, layer_mib):
    client = PushClient(url)
    layer = os.urandom(layer_mib * 1024 * 1024)
    layer_digest = client.upload_blob(repository, layer)
    config = json.dumps({'architecture': 'amd64', 'os': 'linux', 'created': DEFAULT_CREATED,
                         'rootfs': {'type': 'layers', 'diff_ids': [layer_digest]}}).encode()
    config_digest = client.upload_blob(repository, config)
    manifest = json.dumps({'schemaVersion': 2, 'mediaType': OCI_MANIFEST,
                           'config': {'mediaType': OCI_CONFIG, 'digest': config_digest, 'size': len(config)},
                           'layers': [{'mediaType': OCI_LAYER, 'digest': layer_digest, 'size': len(layer)}]}).encode()
    del layer
    amd = client.put_manifest(repository, sha256_digest(manifest), manifest, OCI_MANIFEST)
    arm = push_image(client, repository, None, platform=('linux', 'arm64', 'v8'))
    index = json.dumps({'schemaVersion': 2, 'mediaType': OCI_INDEX, 'manifests': [
        {'mediaType': OCI_MANIFEST, 'digest': amd, 'size': len(manifest), 'platform': {'os': 'linux', 'architecture': 'amd64'}},
        {'mediaType': OCI_MANIFEST, 'digest': arm['digest'], 'size': arm['size'],
         'platform': {'os': 'linux', 'architecture': 'arm64', 'variant': 'v8'}}]}).encode()
    return client.put_manifest(repository, 'v1', index, OCI_INDEX)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--layer-mib', type=int, default=256)
    parser.add_argument('--rounds', type=int, default=3)
    args = parser.parse_args(argv)
    with Harness(flavours=('open',)) as harness, tempfile.TemporaryDirectory() as tmp:
        registry = harness.open
        # pushed from a child process: a child forked from a process that held the layer would inherit its peak RSS
        digest = subprocess.run([sys.executable, __file__, '--push', registry.url, str(args.layer_mib)], check=True,
                                capture_output=True, text=True).stdout.strip()
        print('index %s with a %d MiB layer on %s' % (digest, args.layer_mib, registry.host))
        source = '%s/bench/big:v1' % registry.host
        samples = {}
        for n in range(args.rounds):
            # a new target registry each round: skopeo cannot mount from the source or from an earlier round
            target = harness.add_registry('bench_target%d' % n, 'open')
            ours, theirs = os.path.join(tmp, 'ours%d.tar' % n), os.path.join(tmp, 'theirs%d.tar' % n)
            export = {'state': 'exported', 'path': ours, 'images': [source], 'registry': None, 'platforms': None, 'referrers': False}
            imp = dict(export, state='imported', images=[{'source': 'v1', 'target': '%s/bench/ours:v1' % target.host}])
            steps = [
                ('oci.registry export', [sys.executable, '-c', RUN_MODULE, json.dumps(export)]),
                ('skopeo copy --all -> oci-archive', ['skopeo', 'copy', '--all', '--preserve-digests', '--src-tls-verify=false',
                                                      'docker://' + source, 'oci-archive:%s:v1' % theirs]),
                ('oci.registry import', [sys.executable, '-c', RUN_MODULE, json.dumps(imp)]),
                ('skopeo copy --all oci-archive ->', ['skopeo', 'copy', '--all', '--preserve-digests', '--dest-tls-verify=false',
                                                      'oci-archive:%s:v1' % ours, 'docker://%s/bench/theirs:v1' % target.host]),
            ]
            order = [0, 1, 2, 3] if n % 2 == 0 else [1, 0, 3, 2]  # interleaved: each tool goes first every other round
            for index in order:
                label, argv_ = steps[index]
                wall, rss, out = timed('[%d] %s' % (n, label), argv_)
                samples.setdefault(label, []).append((wall, rss))
                if label.startswith('oci.registry'):
                    assert json.loads(out)['digest'] == digest, out
        print('archive sizes: ours %.1f MiB, skopeo %.1f MiB' % (os.path.getsize(ours) / 2 ** 20, os.path.getsize(theirs) / 2 ** 20))
        med = {label: (statistics.median(w for w, _r in values), max(r for _w, r in values)) for label, values in samples.items()}
        for label, (wall, rss) in med.items():
            print('median %-36s %7.2f s  peak RSS %6.1f MiB' % (label, wall, rss))
        ours_export, skopeo_export = med['oci.registry export'], med['skopeo copy --all -> oci-archive']
        ours_import, skopeo_import = med['oci.registry import'], med['skopeo copy --all oci-archive ->']
        print('wall time ratio (ours / skopeo, medians of %d): export %.2f, import %.2f' % (
            args.rounds, ours_export[0] / skopeo_export[0], ours_import[0] / skopeo_import[0]))
        print('peak RSS ratio (ours / skopeo):  export %.2f, import %.2f' % (
            ours_export[1] / skopeo_export[1], ours_import[1] / skopeo_import[1]))
    return 0


if __name__ == '__main__':
    if sys.argv[1:2] == ['--push']:
        print(push_big_index(sys.argv[2], 'bench/big', int(sys.argv[3])))
        sys.exit(0)
    sys.exit(main())
