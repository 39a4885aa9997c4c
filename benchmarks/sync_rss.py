# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Peak memory of registry_sync: one image with a 1 MiB layer, then one with a 256 MiB layer, between two local registries.

Run with the test venv's python and a staged tree (tests/run stages one):
    python benchmarks/sync_rss.py <directory holding ansible_collections/>

Each sync runs in a process of its own, which reports its VmHWM (peak resident memory since it was exec'd; a
fork's ru_maxrss would also count the pages of the parent that made the 256 MiB layer). Flat means the two figures
are close: blobs stream in 1 MiB chunks whatever their size.
"""
import json
import os
import subprocess
import sys
stage = sys.argv[1]
sys.path[:0] = [stage, stage + '/ansible_collections/oci/registry/tests']
from harness import Harness
from harness.seed import PushClient
CHILD = r'''
import resource, sys, json
sys.path[:0] = [sys.argv[1]]
from ansible_collections.oci.registry.plugins.module_utils._client import RegistryClient
from ansible_collections.oci.registry.plugins.module_utils._transport import ConnectionOptions
from ansible_collections.oci.registry.plugins.module_utils import _sync
params = json.loads(sys.argv[2])
o = ConnectionOptions(plain_http=True)
r = _sync.sync(RegistryClient(o), RegistryClient(o), params, False)
print(json.dumps({'VmHWM_mib': int([l for l in open('/proc/self/status') if l.startswith('VmHWM')][0].split()[1]) / 1024, 'copied_bytes': r['copied_bytes']}))
'''
with Harness(flavours=('open',)) as h:
    target = h.add_registry('tgt', 'open')
    push = PushClient(h.open.url)
    for mib in (1, 256):
        repo = 'rss/layer%d' % mib
        layer = os.urandom(mib * 1024 * 1024)
        ld = push.upload_blob(repo, layer)
        cfg = json.dumps({'architecture': 'amd64', 'os': 'linux', 'mib': mib}).encode()
        cd = push.upload_blob(repo, cfg)
        man = json.dumps({'schemaVersion': 2, 'mediaType': 'application/vnd.oci.image.manifest.v1+json',
                          'config': {'mediaType': 'application/vnd.oci.image.config.v1+json', 'digest': cd, 'size': len(cfg)},
                          'layers': [{'mediaType': 'application/vnd.oci.image.layer.v1.tar', 'digest': ld, 'size': len(layer)}]}).encode()
        push.put_manifest(repo, 'v1', man, 'application/vnd.oci.image.manifest.v1+json')
        del layer
        params = {'repositories': [{'source': '%s/%s' % (h.open.host, repo), 'target': '%s/%s' % (target.host, repo)}],
                  'immutable': [], 'platforms': None, 'referrers': False, 'prune': False, 'prune_max': 10, 'source_auth': None,
                  'workers': 8, 'keep_going': True, 'min_ratelimit_remaining': 0}
        out = subprocess.run([sys.executable, '-c', CHILD, stage, json.dumps(params)], capture_output=True, text=True)
        print(mib, 'MiB layer:', out.stdout.strip() or out.stderr[-500:])
