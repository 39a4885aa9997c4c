# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""registry_repo_delete against skopeo delete, each as a playbook would run it.

Run from a staged tree (benchmarks/run-all stages one; or after `bash tests/run setup`):
    PYTHONPATH=<stage root>:<stage>/tests python benchmarks/delete.py [--tags 20] [--rounds 5] [--json]

On one open registry (deletes enabled). Ours is one registry_repo_delete task naming the tags; the peer is an
ansible.builtin.command task running `skopeo delete docker://...` looped over the tags (skopeo deletes one reference
per call); 1 tag and --tags tags. Every round runs the four playbooks and a one-debug-task playbook (the fixed cost of
ansible-playbook) in a shuffled order; the images are pushed, untimed, right before each delete. Each side's time is
its playbook's less the fixed playbook's in the same round, and the ratio is taken per round.
"""

from __future__ import annotations

import sys
import tempfile

from harness import Harness
from harness.seed import PushClient, push_image

from _bench import Bench, Playbooks, Variant, median, parser


def main(argv=None):
    parse = parser(__doc__)
    parse.add_argument('--tags', type=int, default=20)
    args = parse.parse_args(argv)
    bench = Bench(args)
    with Harness(flavours=('open',)) as harness, tempfile.TemporaryDirectory() as tmp:
        registry = harness.open
        playbook = Playbooks(tmp).write
        pusher = PushClient(registry.url)

        def seed(repository, count):
            def push():
                for index in range(count):
                    push_image(pusher, repository, 't%02d' % index, content='%s %d\n' % (repository, index))
            return push

        variants = {'fixed': playbook('fixed', '    - ansible.builtin.debug:\n        msg: fixed cost\n')}
        counts = (1, args.tags)
        for count in counts:
            tags = ['t%02d' % i for i in range(count)]
            ours = playbook('ours%d' % count, '    - oci.registry.registry_repo_delete:\n        repository: %s/bench/ours%d\n'
                            '        tags: %s\n        plain_http: true\n' % (registry.host, count, tags))
            peer = playbook('skopeo%d' % count, '    - ansible.builtin.command: skopeo delete --tls-verify=false '
                            'docker://%s/bench/skopeo%d:{{ item }}\n      loop: %s\n' % (registry.host, count, tags))
            variants['ours %d' % count] = Variant(lambda _state, run=ours: run(), setup=seed('bench/ours%d' % count, count))
            variants['skopeo %d' % count] = Variant(lambda _state, run=peer: run(), setup=seed('bench/skopeo%d' % count, count))
        result = bench.compare(variants)
        pusher.close()
    for count in counts:
        bench.report('delete %d tag%s (task)' % (count, '' if count == 1 else 's'), result, 'ours %d' % count, 'skopeo %d' % count,
                     'skopeo delete (command task%s)' % ('' if count == 1 else ', loop'), minus='fixed', target=1.0,
                     notes='playbook time minus a 1-task playbook (median %.2f s) in the same round' % median(result.times['fixed']))
    return 0


if __name__ == '__main__':
    sys.exit(main())
