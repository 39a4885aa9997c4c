# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The digest lookup against its peers: skopeo inspect --raw per reference, and bare HEAD requests over 8 threads.

Run from a staged tree (benchmarks/run-all stages one; or after `bash tests/run setup`):
    PYTHONPATH=<stage root>:<stage>/tests python benchmarks/digest_peers.py [--refs 100] [--rounds 3] [--json]

On one token registry (reader credentials) in the same run:
- ours: the oci.registry.digest lookup through Ansible's plugin loader, a cold client each time (ping, token, HEADs);
- skopeo: `skopeo inspect --raw docker://...` once per reference, as a playbook would shell out to it;
- floor: the registry's own floor, a bare requests.Session doing the same ping and token request and then only the
  HEADs, over 8 threads like the lookup's default workers.
The lookup's marginal cost per reference, (t(N) - t(1)) / (N - 1), must be at most 1.2x the floor's.
"""

from __future__ import annotations

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import requests

from ansible.plugins.loader import lookup_loader
from ansible.utils.collection_loader._collection_finder import _AnsibleCollectionFinder

import ansible_collections
from harness import Harness
from harness.seed import push_image

from _bench import median_time, parser, report


def install_collection_finder():
    """Let Ansible's plugin loader find the staged collection, as tests/conftest.py does."""
    root = os.path.dirname(os.path.abspath(list(ansible_collections.__path__)[0]))
    _AnsibleCollectionFinder(paths=[root], scan_sys_paths=False)._install()  # pylint: disable=protected-access


def ours(refs, password):
    lookup = lookup_loader.get('oci.registry.digest')
    return lookup.run(refs, variables={}, username='reader', password=password, plain_http=True)


def floor(registry, server, refs, password, threads=8):
    """Ping, one token for the repository, then only HEADs over `threads` threads on one pooled session."""
    session = requests.Session()
    adapter = requests.adapters.HTTPAdapter(pool_maxsize=threads)
    session.mount('http://', adapter)
    session.get('%s/v2/' % registry.url, timeout=10).close()
    repository = refs[0].split('/', 1)[1].rsplit(':', 1)[0]
    token = session.get(server.realm, params={'service': server.service, 'scope': 'repository:%s:pull' % repository},
                        auth=('reader', password), timeout=10).json()['token']
    headers = {'Authorization': 'Bearer %s' % token, 'Accept': 'application/vnd.oci.image.index.v1+json, '
               'application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, '
               'application/vnd.docker.distribution.manifest.v2+json'}

    def head(ref):
        name, tag = ref.split('/', 1)[1].rsplit(':', 1)
        response = session.head('%s/v2/%s/manifests/%s' % (registry.url, name, tag), headers=headers, timeout=10)
        return response.headers['Docker-Content-Digest']

    with ThreadPoolExecutor(max_workers=threads) as pool:
        digests = list(pool.map(head, refs))
    session.close()
    return digests


def skopeo(refs, password):
    for ref in refs:
        subprocess.run(['skopeo', 'inspect', '--raw', '--tls-verify=false', '--creds', 'reader:%s' % password, 'docker://%s' % ref],
                       check=True, stdout=subprocess.DEVNULL)


def main(argv=None):
    parse = parser(__doc__)
    parse.add_argument('--refs', type=int, default=100)
    args = parse.parse_args(argv)
    install_collection_finder()
    with Harness(flavours=('token',)) as harness:
        registry, server = harness.token, harness.token_server
        password = registry.users['reader']
        tags = ['b%03d' % i for i in range(args.refs)]
        digest = push_image(registry, 'bench/digest', tags)['digest']
        refs = ['%s/bench/digest:%s' % (registry.host, tag) for tag in tags]
        assert ours(refs, password) == [digest] * len(refs) and floor(registry, server, refs, password) == [digest] * len(refs)
        times = {}
        for count in (1, len(refs)):
            subset = refs[:count]
            times['ours', count] = median_time(lambda: ours(subset, password), args.rounds)
            times['floor', count] = median_time(lambda: floor(registry, server, subset, password), args.rounds)
            times['skopeo', count] = median_time(lambda: skopeo(subset, password), args.rounds if count == 1 else 1)
        count = len(refs)
        report(args.json, 'digest lookup, 1 reference', times['ours', 1], times['skopeo', 1], 'skopeo inspect --raw', 1.0,
               'cold: ping, token, HEAD')
        report(args.json, 'digest lookup, %d references' % count, times['ours', count], times['skopeo', count],
               'skopeo inspect --raw x%d' % count, 1.0, 'lookup: 8 workers; skopeo: one process per reference')
        report(args.json, 'digest lookup, %d references vs floor' % count, times['ours', count], times['floor', count],
               'bare HEADs, 8 threads', None, 'whole run, both with ping and token')
        report(args.json, 'digest lookup, marginal cost per reference', (times['ours', count] - times['ours', 1]) / (count - 1),
               (times['floor', count] - times['floor', 1]) / (count - 1), 'bare HEADs, 8 threads', 1.2, '(t(%d) - t(1)) / %d' % (count, count - 1))
    return 0


if __name__ == '__main__':
    sys.exit(main())
