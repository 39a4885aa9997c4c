# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Shared by the benchmark scripts: timing, and the one output convention run-all reads (see README.md).

Each scenario script prints, with --json, one JSON object per line:
    {"scenario": "...", "ours": seconds, "peer": seconds or null, "peer_name": "...", "ratio": ours / peer or null,
     "target": the largest acceptable ratio or null, "notes": "..."}
and otherwise a readable line per result.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import typing as t

import ansible_collections

BIN_DIR = os.path.dirname(sys.executable)


def parser(doc: str) -> argparse.ArgumentParser:
    parse = argparse.ArgumentParser(description=doc.strip().splitlines()[0])
    parse.add_argument('--json', action='store_true', help='print one JSON object per result (for run-all)')
    parse.add_argument('--rounds', type=int, default=3, help='repetitions; the median is reported')
    return parse


def median_time(action: t.Callable[[], t.Any], rounds: int, setup: t.Optional[t.Callable[[], t.Any]] = None) -> float:
    """Median wall time of `action` over `rounds` runs (`setup` runs before each, untimed)."""
    times = []
    for _round in range(rounds):
        if setup is not None:
            setup()
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def report(as_json: bool, scenario: str, ours: float, peer: t.Optional[float], peer_name: str,
           target: t.Optional[float] = None, notes: str = '') -> t.Dict[str, t.Any]:
    ratio = ours / peer if peer else None
    row = {'scenario': scenario, 'ours': round(ours, 4), 'peer': round(peer, 4) if peer is not None else None, 'peer_name': peer_name,
           'ratio': round(ratio, 3) if ratio is not None else None, 'target': target, 'notes': notes}
    if as_json:
        print(json.dumps(row), flush=True)
    else:
        verdict = '' if target is None or ratio is None else ('  ok (<= %.2f)' % target if ratio <= target else '  MISSED (> %.2f)' % target)
        print('%-44s ours %8.1f ms  %-28s %8s ms  ratio %5s%s  %s' % (
            scenario, ours * 1000, peer_name, '%.1f' % (peer * 1000) if peer is not None else '-',
            '%.2f' % ratio if ratio is not None else '-', verdict, notes), flush=True)
    return row


class Playbooks:
    """Write and run localhost playbooks with the staged collection, in a clean environment under `tmp`."""

    def __init__(self, tmp: str) -> None:
        root = os.path.dirname(os.path.abspath(list(ansible_collections.__path__)[0]))
        self.tmp = tmp
        self.env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=root, ANSIBLE_COLLECTIONS_SCAN_SYS_PATH='false',
                        ANSIBLE_LOCALHOST_WARNING='false', ANSIBLE_PYTHON_INTERPRETER=sys.executable,
                        ANSIBLE_LOCAL_TEMP=os.path.join(tmp, 'tmp'), HOME=tmp)
        self.env.pop('PYTHONPATH', None)

    def write(self, name: str, tasks: str) -> t.Callable[[], None]:
        """A playbook of `tasks` (YAML, indented for a play's task list); returns what runs it."""
        path = os.path.join(self.tmp, name + '.yml')
        with open(path, 'w', encoding='utf-8') as handle:
            handle.write('- hosts: localhost\n  gather_facts: false\n  tasks:\n' + tasks)
        return lambda: self.run(path)

    def run(self, path: str) -> None:
        subprocess.run([os.path.join(BIN_DIR, 'ansible-playbook'), path, '-i', 'localhost,', '-c', 'local'], check=True,
                       env=self.env, stdout=subprocess.DEVNULL)
