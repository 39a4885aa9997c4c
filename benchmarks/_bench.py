# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Shared by the benchmark scripts: the one interleaving method, and the output convention run-all reads (README.md).

Every comparison with a peer goes through `Bench.compare`: all variants (ours, the peers, any baseline such as a
one-task playbook) run once per round, in an order shuffled afresh each round by a seeded random.Random (the seed is
printed, `--seed` replays an order), for at least 5 rounds; `setup` runs untimed right before its variant. A ratio is
computed per round, from figures taken in that same round, and `Bench.report` gives the median of those ratios and
their range [min, max], so a machine whose speed drifts between rounds cannot tilt one side.

With --json each result is one line of JSON:
    {"scenario": "...", "ours": seconds, "peer": seconds or null, "peer_name": "...", "ratio": median per-round ratio,
     "ratio_min": ..., "ratio_max": ..., "rounds": 5, "seed": ..., "target": the largest acceptable ratio or null,
     "ours_requests": ..., "peer_requests": ..., "request_ratio": ..., "request_target": ...,
     "ours_cpu": ..., "peer_cpu": ..., "cpu_ratio": ..., "cpu_ratio_min": ..., "cpu_ratio_max": ...,
     "load_min": ..., "load_max": ..., "notes": "..."}
`ours` and `peer` are medians over the rounds (of the time net of its baseline, divided by `per`); the cpu_* figures are
the same for the CPU time of this process and its waited-for children (the client side: not the registries), which a
loaded machine distorts far less than wall time; load_* is the range of the 1-minute load average at the rounds' starts. Lines printed with
`Bench.note` are plain text; run-all records them below the table.
"""

from __future__ import annotations

import importlib
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import time
import typing as t

import ansible_collections

BIN_DIR = os.path.dirname(sys.executable)
BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
MIN_ROUNDS = 5

# Every use of the collection's module_utils by the benchmarks goes through these names (`from _bench import
# RegistryClient`), in this process or in a child (`CHILD_PRELUDE`), so a move of module_utils is one edit here.
MODULE_UTILS = 'ansible_collections.oci.registry.plugins.module_utils'
_MODULE_UTILS_NAMES = {
    'ACCEPT': 'model._manifest',
    'ConnectionOptions': 'wire._connection',
    'CopyStats': 'operations._copy',
    'RegistryClient': 'client._client',
    'RegistryRepository': 'stores._store',
    'copy_image': 'operations._copy',
    'parse_image': 'model._options',
    'sync': 'operations._sync',
}
CHILD_PRELUDE = 'import sys\nsys.path.insert(0, %r)\n' % BENCH_DIR

SKOPEO_BLOB_INFO_CACHES = ('/var/lib/containers/cache/blob-info-cache-v1.boltdb',
                           os.path.expanduser('~/.local/share/containers/cache/blob-info-cache-v1.boltdb'))


def __getattr__(name: str) -> t.Any:
    """Imported on first use, so a benchmark that needs none of module_utils does not load it."""
    if name in _MODULE_UTILS_NAMES:
        return getattr(importlib.import_module('%s.%s' % (MODULE_UTILS, _MODULE_UTILS_NAMES[name])), name)
    raise AttributeError('module %r has no attribute %r' % (__name__, name))


def parser(doc: str) -> t.Any:
    # imported here, not at the top: the child processes that import this file for module_utils need neither
    import argparse  # pylint: disable=import-outside-toplevel
    parse = argparse.ArgumentParser(description=doc.strip().splitlines()[0])
    parse.add_argument('--json', action='store_true', help='print one JSON object per result (for run-all)')
    parse.add_argument('--rounds', type=int, default=MIN_ROUNDS,
                       help='rounds; each runs every variant once, in a shuffled order (at least %d for a comparison)' % MIN_ROUNDS)
    parse.add_argument('--seed', type=int, default=None, help='seed of the shuffles (default: a random one, printed)')
    return parse


def clear_skopeo_cache() -> None:
    """Remove skopeo's blob-info cache: otherwise repeat copies to one registry turn into mounts and flatter it."""
    for cache in SKOPEO_BLOB_INFO_CACHES:
        if os.path.exists(cache):
            os.unlink(cache)


def registry_requests(*registries: t.Any) -> int:
    """Requests the registries answered so far, from their own /metrics."""
    return sum(registry.request_count() for registry in registries)


class FreshRegistries:
    """A new open registry per call (a target with no blob to skip or mount from); the previous one of the same prefix
    is stopped and its storage removed first, so rounds of large copies do not fill the disk."""

    def __init__(self, harness: t.Any) -> None:
        self.harness = harness
        self.numbers: t.Dict[str, int] = {}
        self.current: t.Dict[str, t.Any] = {}

    def __call__(self, prefix: str) -> t.Any:
        previous = self.current.pop(prefix, None)
        if previous is not None:
            previous.stop()
            self.harness.registries.pop(previous.name, None)
            shutil.rmtree(previous.root_dir, ignore_errors=True)
        number = self.numbers[prefix] = self.numbers.get(prefix, -1) + 1
        registry = self.current[prefix] = self.harness.add_registry('%s%d' % (prefix, number), 'open')
        return registry


class Variant:
    """One thing to time: `run(state)`, after an untimed `setup() -> state`.

    `requests(state)` reads a cumulative request counter before and after the run (untimed); `after` names the
    variant this one always runs right behind in a round (a no-op resync behind its first sync): the pair is shuffled
    as one unit.
    """

    def __init__(self, run: t.Callable[[t.Any], t.Any], setup: t.Optional[t.Callable[[], t.Any]] = None,
                 requests: t.Optional[t.Callable[[t.Any], int]] = None, after: t.Optional[str] = None) -> None:
        self.run = run
        self.setup = setup
        self.requests = requests
        self.after = after


def median(values: t.List[float]) -> float:
    import statistics  # pylint: disable=import-outside-toplevel
    return statistics.median(values)


class Result:
    """Per-round figures of a comparison: times[name][round] (seconds of `clock`), cpu[name][round] (CPU seconds of
    this process and of its children that ended during the run: the client's own work, which a loaded machine
    inflates far less than wall time), requests[name][round] or None, and the 1-minute load average at each round's start."""

    def __init__(self, names: t.List[str], rounds: int, seed: int) -> None:
        self.rounds = rounds
        self.seed = seed
        self.times: t.Dict[str, t.List[float]] = {name: [] for name in names}
        self.cpu: t.Dict[str, t.List[float]] = {name: [] for name in names}
        self.requests: t.Dict[str, t.Optional[t.List[int]]] = {name: [] for name in names}
        self.loads: t.List[float] = []

    def net(self, name: str, minus: t.Optional[str] = None, cpu: bool = False) -> t.List[float]:
        """The variant's time (or CPU time) in each round, less `minus`'s in the same round."""
        values = self.cpu if cpu else self.times
        if minus is None:
            return list(values[name])
        return [value - base for value, base in zip(values[name], values[minus])]

    def ratios(self, ours: str, peer: str, ours_minus: t.Optional[str] = None, peer_minus: t.Optional[str] = None,
               cpu: bool = False) -> t.List[float]:
        return [o / p if p else float('inf') for o, p in zip(self.net(ours, ours_minus, cpu), self.net(peer, peer_minus, cpu))]

    def median_requests(self, name: str) -> t.Optional[float]:
        counts = self.requests[name]
        return median([float(c) for c in counts]) if counts else None


_SAME = object()


class Bench:
    """The parsed options of one benchmark script, and its seeded shuffles."""

    def __init__(self, args: t.Any) -> None:
        self.json = args.json
        self.rounds = args.rounds
        self.seed = args.seed if args.seed is not None else random.SystemRandom().randrange(2 ** 31)
        self.rng = random.Random(self.seed)
        self.note('seed %d, %d rounds (variants in a shuffled order each round)' % (self.seed, self.rounds), to_stderr=True)

    def note(self, text: str, to_stderr: bool = False) -> None:
        """A line of text: on stdout (recorded by run-all below the table), or only on stderr."""
        print(text, file=sys.stderr if to_stderr else sys.stdout, flush=True)

    def compare(self, variants: t.Dict[str, t.Any], clock: t.Callable[[], float] = time.perf_counter,
                warmup: bool = False) -> Result:
        """Run every variant once per round, in a shuffled order; a plain callable is a Variant without setup."""
        if self.rounds < MIN_ROUNDS:
            raise SystemExit('a comparison needs at least %d rounds (--rounds %d given): fewer cannot tell a real '
                             'difference from the drift of a shared machine' % (MIN_ROUNDS, self.rounds))
        spec = {name: v if isinstance(v, Variant) else Variant(lambda _state, f=v: f()) for name, v in variants.items()}
        units: t.List[t.List[str]] = []
        for name, variant in spec.items():
            if variant.after is None:
                units.append([name])
            else:
                next(unit for unit in units if variant.after in unit).append(name)
        result = Result(list(spec), self.rounds, self.seed)
        if warmup:  # untimed: caches, connections, and an early failure instead of a late one
            for name in [name for unit in units for name in unit]:
                variant = spec[name]
                variant.run(variant.setup() if variant.setup else None)
        for number in range(self.rounds):
            order = list(units)
            self.rng.shuffle(order)
            names = [name for unit in order for name in unit]
            result.loads.append(os.getloadavg()[0])
            self.note('round %d/%d (load %.2f): %s' % (number + 1, self.rounds, result.loads[-1], ', '.join(names)), to_stderr=True)
            for name in names:
                elapsed, cpu, count = _measure(spec[name], clock)
                result.times[name].append(elapsed)
                result.cpu[name].append(cpu)
                if count is None:
                    result.requests[name] = None
                elif result.requests[name] is not None:
                    result.requests[name].append(count)
        return result

    def report(self, scenario: str, result: Result, ours: str, peer: str, peer_name: str, *, minus: t.Optional[str] = None,
               ours_minus: t.Any = _SAME, peer_minus: t.Any = _SAME, per: float = 1, target: t.Optional[float] = None,
               request_target: t.Optional[float] = None, notes: str = '') -> t.Dict[str, t.Any]:
        """One result row: the median of the per-round ratios ours / peer and their range, each side less its baseline.

        `minus` is the baseline of both sides (say, a one-task playbook); `ours_minus` / `peer_minus` set one side's
        alone. `per` divides the reported times (per task, per request), not the ratio.
        """
        ours_minus = minus if ours_minus is _SAME else ours_minus
        peer_minus = minus if peer_minus is _SAME else peer_minus
        ratios = result.ratios(ours, peer, ours_minus, peer_minus)
        cpu_ratios = result.ratios(ours, peer, ours_minus, peer_minus, cpu=True)
        ours_requests, peer_requests = result.median_requests(ours), result.median_requests(peer)
        request_ratio = None
        if ours_requests is not None and peer_requests:
            request_ratio = median([o / p for o, p in zip(result.requests[ours] or [], result.requests[peer] or []) if p])
        row = {'scenario': scenario, 'ours': _round(median(result.net(ours, ours_minus)) / per, 6),
               'peer': _round(median(result.net(peer, peer_minus)) / per, 6), 'peer_name': peer_name,
               'ratio': _round(median(ratios), 3), 'ratio_min': _round(min(ratios), 3), 'ratio_max': _round(max(ratios), 3),
               'rounds': result.rounds, 'seed': result.seed, 'target': target,
               'ours_requests': ours_requests, 'peer_requests': peer_requests, 'request_ratio': _round(request_ratio, 3),
               'request_target': request_target,
               'ours_cpu': _round(median(result.net(ours, ours_minus, True)) / per, 6),
               'peer_cpu': _round(median(result.net(peer, peer_minus, True)) / per, 6),
               'cpu_ratio': _round(median(cpu_ratios), 3), 'cpu_ratio_min': _round(min(cpu_ratios), 3),
               'cpu_ratio_max': _round(max(cpu_ratios), 3),
               'load_min': _round(min(result.loads), 2), 'load_max': _round(max(result.loads), 2), 'notes': notes}
        if self.json:
            print(json.dumps(row), flush=True)
        else:
            print(format_row(row), flush=True)
        return row


def _cpu() -> float:
    """CPU seconds of this process (all its threads) and of its waited-for children (subprocess.run waits for its
    child), in microseconds' resolution: os.times() counts clock ticks of 10 ms, too coarse for a HEAD or a retag."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _measure(variant: Variant, clock: t.Callable[[], float]) -> t.Tuple[float, float, t.Optional[int]]:
    state = variant.setup() if variant.setup else None
    before = variant.requests(state) if variant.requests else None
    cpu_start = _cpu()
    start = clock()
    variant.run(state)
    elapsed = clock() - start
    cpu = _cpu() - cpu_start
    if variant.requests is None or before is None:
        return elapsed, cpu, None
    return elapsed, cpu, variant.requests(state) - before


def _round(value: t.Optional[float], digits: int) -> t.Optional[float]:
    return None if value is None else round(value, digits)


def verdict(ratio: t.Optional[float], low: t.Optional[float], high: t.Optional[float], target: t.Optional[float]) -> str:
    """ok / MISSED by the median ratio, and whether the range straddles the target (then the verdict is weak)."""
    if ratio is None or target is None:
        return ''
    text = 'ok (<= %.2f)' % target if ratio <= target else 'MISSED (> %.2f)' % target
    if low is not None and high is not None and low <= target < high:
        text += ', range crosses it'
    return text


def format_row(row: t.Dict[str, t.Any]) -> str:
    requests = ''
    if row.get('ours_requests') is not None:
        requests = '  requests %g / %g (%s%s)' % (row['ours_requests'], row['peer_requests'] or 0, row['request_ratio'],
                                                  '' if row.get('request_target') is None else ', target <= %.2f' % row['request_target'])
    return '%-44s ours %10.3f ms  %-30s %10.3f ms  ratio %.2f [%.2f, %.2f]  %s%s  CPU ratio %.2f [%.2f, %.2f]  load %.1f-%.1f  %s' % (
        row['scenario'], row['ours'] * 1000, row['peer_name'], row['peer'] * 1000, row['ratio'], row['ratio_min'],
        row['ratio_max'], verdict(row['ratio'], row['ratio_min'], row['ratio_max'], row['target']), requests, row['cpu_ratio'],
        row['cpu_ratio_min'], row['cpu_ratio_max'], row['load_min'], row['load_max'], row['notes'])


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
