# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""registry_repo_delete against skopeo delete, each as a playbook would run it.

Run from a staged tree (benchmarks/run-all stages one; or after `bash tests/run setup`):
    PYTHONPATH=<stage root>:<stage>/tests python benchmarks/delete.py [--tags 20] [--rounds 3] [--json]

On one open registry (deletes enabled), --tags images, each under its own tag, are pushed before every round (untimed).
Ours is one registry_repo_delete task naming the tags; the peer is an ansible.builtin.command task running
`skopeo delete docker://...` looped over the tags (skopeo deletes one reference per call). Both are timed as
playbooks, minus a one-debug-task playbook's fixed cost; 1 tag and --tags tags.
"""

from __future__ import annotations

import sys
import tempfile

from harness import Harness
from harness.seed import PushClient, push_image

from _bench import Playbooks, median_time, parser, report


def main(argv=None):
    parse = parser(__doc__)
    parse.add_argument('--tags', type=int, default=20)
    args = parse.parse_args(argv)
    with Harness(flavours=('open',)) as harness, tempfile.TemporaryDirectory() as tmp:
        registry = harness.open
        playbook = Playbooks(tmp).write
        pusher = PushClient(registry.url)

        def seed(repository, count):
            def push():
                for index in range(count):
                    push_image(pusher, repository, 't%02d' % index, content='%s %d\n' % (repository, index))
            return push

        fixed = median_time(playbook('fixed', '    - ansible.builtin.debug:\n        msg: fixed cost\n'), args.rounds)
        for count in (1, args.tags):
            tags = ['t%02d' % i for i in range(count)]
            ours = playbook('ours%d' % count, '    - oci.registry.registry_repo_delete:\n        repository: %s/bench/ours\n'
                            '        tags: %s\n        plain_http: true\n' % (registry.host, tags))
            peer = playbook('skopeo%d' % count, '    - ansible.builtin.command: skopeo delete --tls-verify=false docker://%s/bench/skopeo:{{ item }}\n'
                            '      loop: %s\n' % (registry.host, tags))
            ours_time = median_time(ours, args.rounds, setup=seed('bench/ours', count)) - fixed
            peer_time = median_time(peer, args.rounds, setup=seed('bench/skopeo', count)) - fixed
            report(args.json, 'delete %d tag%s (task)' % (count, '' if count == 1 else 's'), ours_time, peer_time,
                   'skopeo delete (command task%s)' % ('' if count == 1 else ', loop'), 1.0,
                   'playbook time minus a 1-task playbook (%.2f s)' % fixed)
        pusher.close()
    return 0


if __name__ == '__main__':
    sys.exit(main())
