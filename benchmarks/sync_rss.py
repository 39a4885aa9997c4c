# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Peak memory of registry_sync: one image with a 1 MiB layer, then one with a 256 MiB layer, between two local registries.

Run from a staged tree (tests/run stages one; or after `bash tests/run setup`):
    PYTHONPATH=<stage root>:<stage>/tests python benchmarks/sync_rss.py

Each sync runs in a process of its own, which reports its VmHWM (peak resident memory since it was exec'd; a
fork's ru_maxrss would also count the pages of the parent that made the 256 MiB layer). Flat means the two figures
are close: blobs stream in 1 MiB chunks whatever their size.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from harness import Harness
from harness.seed import PushClient

from _bench import CHILD_PRELUDE

CHILD = CHILD_PRELUDE + r'''
import json
from _bench import ConnectionOptions, RegistryClient, sync
params = json.loads(sys.argv[1])
options = ConnectionOptions(plain_http=True)
result = sync(RegistryClient(options), RegistryClient(options), params, False)
with open('/proc/self/status', encoding='ascii') as status:
    peak = [line for line in status if line.startswith('VmHWM')][0].split()[1]
print(json.dumps({'VmHWM_mib': int(peak) / 1024, 'copied_bytes': result['copied_bytes']}))
'''


def main():
    with Harness(flavours=('open',)) as harness:
        target = harness.add_registry('tgt', 'open')
        push = PushClient(harness.open.url)
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
            params = {'repositories': [{'source': '%s/%s' % (harness.open.host, repo), 'target': '%s/%s' % (target.host, repo)}],
                      'immutable': [], 'platforms': None, 'referrers': False, 'prune': False, 'prune_max': 10, 'source_auth': None,
                      'workers': 8, 'keep_going': True, 'min_ratelimit_remaining': 0}
            out = subprocess.run([sys.executable, '-c', CHILD, json.dumps(params)], capture_output=True, text=True, check=False)
            print(mib, 'MiB layer:', out.stdout.strip() or out.stderr[-500:])


if __name__ == '__main__':
    main()
