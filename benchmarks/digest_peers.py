# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The digest lookup against its peers: skopeo inspect --raw per reference, and bare HEAD requests over 8 threads.

Run from a staged tree (benchmarks/run-all stages one; or after `bash tests/run setup`):
    PYTHONPATH=<stage root>:<stage>/tests python benchmarks/digest_peers.py [--refs 100] [--rounds 5] [--json]

On one token registry (reader credentials) in the same run:
- ours: the oci.registry.digest lookup through Ansible's plugin loader, a cold client each time (ping, token, HEADs);
- skopeo: `skopeo inspect --raw docker://...` once per reference, as a playbook would shell out to it;
- floor: the registry's own floor, a bare requests.Session doing the same ping and token request and then only the
  HEADs, over 8 threads like the lookup's default workers.
Each of the three runs with 1 and with N references, all six in a shuffled order every round. The lookup's marginal
cost per reference, (t(N) - t(1)) / (N - 1) with both times from the same round, must be at most 1.2x the floor's.
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

from _bench import Bench, parser


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
    bench = Bench(args)
    install_collection_finder()
    with Harness(flavours=('token',)) as harness:
        registry, server = harness.token, harness.token_server
        password = registry.users['reader']
        tags = ['b%03d' % i for i in range(args.refs)]
        digest = push_image(registry, 'bench/digest', tags)['digest']
        refs = ['%s/bench/digest:%s' % (registry.host, tag) for tag in tags]
        assert ours(refs, password) == [digest] * len(refs) and floor(registry, server, refs, password) == [digest] * len(refs)
        variants = {}
        for count in (1, len(refs)):
            subset = refs[:count]
            variants['ours %d' % count] = lambda subset=subset: ours(subset, password)
            variants['floor %d' % count] = lambda subset=subset: floor(registry, server, subset, password)
            variants['skopeo %d' % count] = lambda subset=subset: skopeo(subset, password)
        result = bench.compare(variants)
        count = len(refs)
        bench.report('digest lookup, 1 reference', result, 'ours 1', 'skopeo 1', 'skopeo inspect --raw', target=1.0,
                     notes='cold: ping, token, HEAD')
        bench.report('digest lookup, %d references' % count, result, 'ours %d' % count, 'skopeo %d' % count,
                     'skopeo inspect --raw x%d' % count, target=1.0, notes='lookup: 8 workers; skopeo: one process per reference')
        bench.report('digest lookup, %d references vs floor' % count, result, 'ours %d' % count, 'floor %d' % count,
                     'bare HEADs, 8 threads', notes='whole run, both with ping and token')
        bench.report('digest lookup, marginal cost per reference', result, 'ours %d' % count, 'floor %d' % count,
                     'bare HEADs, 8 threads', ours_minus='ours 1', peer_minus='floor 1', per=count - 1, target=1.2,
                     notes='(t(%d) - t(1)) / %d, same round' % (count, count - 1))
    return 0


if __name__ == '__main__':
    sys.exit(main())
