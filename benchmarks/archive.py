# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""registry_archive export/import of a multi-arch image with a large layer, against skopeo oci-archive in the same run.

Run from a staged tree (tests/run stages one; or after `bash tests/run setup`):
    PYTHONPATH=<stage root>:<stage>/tests python benchmarks/archive.py [--layer-mib 256] [--rounds 5] [--json]

Starts one open registry, pushes a two-platform index whose amd64 child has one incompressible layer of --layer-mib
MiB, and makes one reference archive with our export (untimed). Each round runs four steps, each in its own process
(wall time, peak RSS from wait4), in a shuffled order: our export to a .tar, skopeo copy --all to oci-archive, our
import of the reference archive into a fresh registry, skopeo's import of the same archive into another fresh
registry (fresh, so no tool can skip or mount a blob; skopeo's blob-info cache is removed before each skopeo step).
Export and import ratios are taken per round. Every step of ours must keep the index digest.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile

from harness import Harness
from harness.seed import DEFAULT_CREATED, OCI_CONFIG, OCI_INDEX, OCI_LAYER, OCI_MANIFEST, PushClient, push_image, sha256_digest

from _bench import CHILD_PRELUDE, Bench, FreshRegistries, Variant, clear_skopeo_cache, parser

RUN_MODULE = CHILD_PRELUDE + '''
import json
from ansible_collections.oci.registry.plugins.modules import registry_archive
from _bench import ConnectionOptions, RegistryClient
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


def launch(label, argv):
    """Run argv under the launcher; its peak RSS in MiB and its stdout."""
    proc = subprocess.run([sys.executable, '-S', '-c', LAUNCHER] + argv, capture_output=True, check=False)
    out, err = proc.stdout.decode(), proc.stderr.decode()
    if proc.returncode != 0:
        raise SystemExit('%s failed: %s %s' % (label, out[-2000:], err[-2000:]))
    return int(err.rsplit('MAXRSS_KIB ', 1)[1].split()[0]) / 1024.0, out


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
    parse = parser(__doc__)
    parse.add_argument('--layer-mib', type=int, default=256)
    args = parse.parse_args(argv)
    bench = Bench(args)
    with Harness(flavours=('open',)) as harness, tempfile.TemporaryDirectory() as tmp:
        registry = harness.open
        # pushed from a child process: a child forked from a process that held the layer would inherit its peak RSS
        digest = subprocess.run([sys.executable, __file__, '--push', registry.url, str(args.layer_mib)], check=True,
                                capture_output=True, text=True).stdout.strip()
        bench.note('index %s with a %d MiB layer on %s' % (digest, args.layer_mib, registry.host))
        source = '%s/bench/big:v1' % registry.host
        reference = os.path.join(tmp, 'reference.tar')
        export = {'state': 'exported', 'images': [source], 'registry': None, 'platforms': None, 'referrers': False}
        _rss, out = launch('reference export', [sys.executable, '-c', RUN_MODULE, json.dumps(dict(export, path=reference))])
        assert json.loads(out)['digest'] == digest, out
        fresh = FreshRegistries(harness)
        rss = {}

        def step(label, argv_, check=False):
            peak, out = launch(label, argv_)
            rss.setdefault(label, []).append(peak)
            if check:
                assert json.loads(out)['digest'] == digest, out

        def archive_path(name):
            path = os.path.join(tmp, name + '.tar')
            if os.path.exists(path):
                os.unlink(path)
            return path

        def skopeo_setup(make):
            def setup():
                clear_skopeo_cache()
                return make()
            return setup

        imported = dict(export, state='imported', path=reference)
        result = bench.compare({
            'ours export': Variant(
                lambda path: step('ours export', [sys.executable, '-c', RUN_MODULE, json.dumps(dict(export, path=path))], True),
                setup=lambda: archive_path('ours')),
            'skopeo export': Variant(
                lambda path: step('skopeo export', ['skopeo', 'copy', '--all', '--preserve-digests', '--src-tls-verify=false',
                                                    'docker://' + source, 'oci-archive:%s:v1' % path]),
                setup=skopeo_setup(lambda: archive_path('skopeo'))),
            'ours import': Variant(
                lambda target: step('ours import', [sys.executable, '-c', RUN_MODULE, json.dumps(dict(
                    imported, images=[{'source': 'v1', 'target': '%s/bench/ours:v1' % target.host}]))], True),
                setup=lambda: fresh('ours_import')),
            'skopeo import': Variant(
                lambda target: step('skopeo import', ['skopeo', 'copy', '--all', '--preserve-digests', '--dest-tls-verify=false',
                                                      'oci-archive:%s:v1' % reference, 'docker://%s/bench/theirs:v1' % target.host]),
                setup=skopeo_setup(lambda: fresh('skopeo_import'))),
        })
        bench.note('archive sizes: ours %.1f MiB, skopeo %.1f MiB' % (
            os.path.getsize(os.path.join(tmp, 'ours.tar')) / 2 ** 20, os.path.getsize(os.path.join(tmp, 'skopeo.tar')) / 2 ** 20))
        for kind in ('export', 'import'):
            bench.report('archive %s, %d MiB layer' % (kind, args.layer_mib), result, 'ours ' + kind, 'skopeo ' + kind,
                         'skopeo copy --all %s' % ('-> oci-archive' if kind == 'export' else 'oci-archive ->'), target=1.0,
                         notes='peak RSS ours %.1f MiB, skopeo %.1f MiB (max over rounds)' % (
                             max(rss['ours ' + kind]), max(rss['skopeo ' + kind])))
    return 0


if __name__ == '__main__':
    if sys.argv[1:2] == ['--push']:
        print(push_big_index(sys.argv[2], 'bench/big', int(sys.argv[3])))
        sys.exit(0)
    sys.exit(main())
