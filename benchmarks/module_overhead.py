# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Module overhead: a registry_manifest_info task against an ansible.builtin.ping task, per task, through ansible-playbook.

Run from a staged tree (benchmarks/run-all stages one; or after `bash tests/run setup`):
    PYTHONPATH=<stage root>:<stage>/tests:<stage>/benchmarks python benchmarks/module_overhead.py [--tasks 20] [--rounds 5] [--json]

Three playbooks on localhost (connection local) against one open registry: one debug task (the fixed cost of
ansible-playbook), --tasks registry_manifest_info tasks, and --tasks ping tasks, all three in a shuffled order in
every round. The cost per task is (t(playbook) - t(fixed)) / tasks with both times from the same round; the ratio of
the module's to ping's is taken per round, and the median of those ratios must be at most 1.15.
"""

from __future__ import annotations

import sys
import tempfile

from harness import Harness

from _bench import Bench, Playbooks, parser


def main(argv=None):
    parse = parser(__doc__)
    parse.add_argument('--tasks', type=int, default=20)
    args = parse.parse_args(argv)
    bench = Bench(args)
    with Harness(flavours=('open',)) as harness, tempfile.TemporaryDirectory() as tmp:
        harness.seed()
        playbooks = Playbooks(tmp)
        books = {}
        for name, task, count in (
                ('fixed', '    - ansible.builtin.debug:\n        msg: fixed cost\n', 1),
                ('ping', '    - ansible.builtin.ping:\n', args.tasks),
                ('ours', '    - oci.registry.registry_manifest_info:\n        image: %s/test/oci-image:v1\n        plain_http: true\n'
                 % harness.open.host, args.tasks)):
            books[name] = playbooks.write(name, task * count)
        result = bench.compare(books, warmup=True)
    bench.report('module overhead per task', result, 'ours', 'ping', 'ansible.builtin.ping task', minus='fixed', per=args.tasks,
                 target=1.15, notes='registry_manifest_info on an open registry; (t(%d tasks) - t(1 debug task)) / %d, same round'
                 % (args.tasks, args.tasks))
    return 0


if __name__ == '__main__':
    sys.exit(main())
