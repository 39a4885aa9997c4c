# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The version matrix of the test command: every ansible-core and Python that the collection claims.

    python tests/utils/matrix.py run --collection DIR [--jobs 2] [--cell NAME ...]
    python tests/utils/matrix.py readme [--check]

`run` (called by `bash tests/run matrix` and `bash tests/run`) reads tests/matrix/pins.yml and runs
its cells, a few side by side, each with its own venv (cached under ~/.cache/oci-registry-matrix, keyed
on the interpreter and the pins, rebuilt when missing):

  controller X.Y  that ansible-core as the controller: build and install the collection with it,
                  `ansible-doc --json` of every plugin and role, tests/matrix/every_module.yml,
                  tests/matrix/role_specs.yml and demo/playbook.yml against registries from tests/harness
  sanity X.Y      `ansible-test sanity` of that ansible-core (the oldest and the newest)
  node X.Y        that Python as the managed node (ansible_python_interpreter, a venv with only the
                  packages of pins.yml) under the newest controller: tests/matrix/every_module.yml, and
                  `ansible-test sanity --test compile --test import --python X.Y`
  node X.Y NAME   a requests/urllib3 stack that users' nodes and execution environments have (pins.yml
                  managed_nodes.stacks, e.g. a distribution's python3-requests): every_module.yml with it,
                  and the transport's unit tests (TRANSPORT_UNIT_TESTS) under its urllib3

It prints the table (cell, versions, result, seconds), writes it with the results to tests/output/matrix/
of the repository (OCI_REGISTRY_REPO, else the collection), and fails when a cell fails, when the pins
do not cover what meta/runtime.yml and tests/config.yml claim, or when the "Supported versions" block of
README.md is not what the run proved. `readme` rewrites that block from the last run's results.

Interpreters come from the Python version manager's `versions/` directory (`pyenv root`), else from a
working pythonX.Y on PATH.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import fcntl
import glob
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Iterator, Optional

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_ROOT = os.path.dirname(os.path.dirname(HERE))
CACHE = os.environ.get('OCI_REGISTRY_MATRIX_CACHE') or os.path.expanduser('~/.cache/oci-registry-matrix')
# ansible-test keeps its sanity venvs and get-pip cache under ~/.ansible/test: the matrix gives it a HOME of its
# own there, so that it neither waits for nor races with the sanity runs of tests/run (locked per Python below).
ANSIBLE_TEST_HOME = os.path.join(CACHE, 'ansible-test-home')
README_START = '<!-- matrix:start -->'
README_END = '<!-- matrix:end -->'
PLUGIN_TYPES = (('module', 'modules'), ('lookup', 'lookup'), ('filter', 'filter'), ('test', 'test'))
TIMEOUT = {'venv': 900, 'ansible': 600, 'sanity': 1500, 'unit': 300}
# Run again under each stack's urllib3: the retries, Retry-After waits and body reads over real sockets.
TRANSPORT_UNIT_TESTS = 'tests/unit/plugins/module_utils/wire/test__transport.py'
# The libraries whose floors requirements.txt states: each must be the oldest version a node cell runs.
FLOOR_CHECKED = ('requests', 'urllib3', 'cryptography', 'google-auth')


class StepFailed(Exception):
    """A step of a cell failed; the message says which and why."""


@dataclass
class Cell:
    """One cell of the matrix: what runs, on which versions, and how it went."""

    name: str
    kind: str  # controller | sanity | node
    python: str  # minor version of the interpreter under test
    core: str  # the ansible-core pin (of the controller, for node cells)
    controller_python: str
    stack: Optional[dict[str, Any]] = None  # node cells of managed_nodes.stacks: name, label, python, packages
    versions: dict[str, str] = field(default_factory=dict)
    checks: list[str] = field(default_factory=list)
    result: str = 'not run'
    seconds: float = 0.0
    error: str = ''


# --- configuration ---------------------------------------------------------------------------------


def load_pins(root: str) -> dict[str, Any]:
    with open(os.path.join(root, 'tests', 'matrix', 'pins.yml'), encoding='utf-8') as handle:
        pins: dict[str, Any] = yaml.safe_load(handle)
    return pins


def packages_for(pins: dict[str, Any], version: str) -> dict[str, str]:
    """The packages of pins.yml for a venv of Python X.Y: `packages`, with that Python's overrides."""
    return dict(pins['packages'], **(pins.get('packages_by_python') or {}).get(version, {}))


def node_packages(pins: dict[str, Any], cell: 'Cell') -> dict[str, str]:
    """What a node cell's venv gets: its stack's packages, else those of pins.yml for its Python."""
    return dict(cell.stack['packages']) if cell.stack else packages_for(pins, cell.python)


def release(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r'\d+', version))


def requirement_floors(root: str) -> dict[str, str]:
    """name -> X.Y.Z of each `name>=X.Y.Z` line of requirements.txt."""
    floors = {}
    with open(os.path.join(root, 'requirements.txt'), encoding='utf-8') as handle:
        for line in handle:
            match = re.fullmatch(r'([A-Za-z0-9_.-]+)\s*>=\s*([0-9][0-9.]*)\s*(#.*)?', line.strip())
            if match:
                floors[match.group(1).lower()] = match.group(2)
    return floors


def check_floors(root: str, pins: dict[str, Any]) -> list[str]:
    """requirements.txt claims exactly the oldest requests and urllib3 that a node cell runs: nothing less."""
    problems = []
    floors = requirement_floors(root)
    venvs = [node_packages(pins, cell) for cell in make_cells(pins) if cell.kind == 'node']
    for name in FLOOR_CHECKED:
        tested = [packages[name] for packages in venvs if name in packages]
        if len(tested) != len(venvs):
            problems.append('tests/matrix/pins.yml: not every node venv pins %s' % name)
        elif floors.get(name) != min(tested, key=release):
            problems.append('requirements.txt says %s>=%s, but the oldest %s of the node cells is %s'
                            % (name, floors.get(name, '?'), name, min(tested, key=release)))
    return problems


def minor(version: str) -> tuple[int, int]:
    major, minor_part = version.split('.')[:2]
    return int(major), int(minor_part)


def check_claims(root: str, pins: dict[str, Any]) -> list[str]:
    """What meta/runtime.yml and tests/config.yml claim, against what the pins run; returns the problems."""
    problems = []
    with open(os.path.join(root, 'meta', 'runtime.yml'), encoding='utf-8') as handle:
        requires = str(yaml.safe_load(handle)['requires_ansible'])
    with open(os.path.join(root, 'tests', 'config.yml'), encoding='utf-8') as handle:
        python_requires = str(yaml.safe_load(handle)['modules']['python_requires'])
    cores = [minor(entry['ansible_core']) for entry in pins['controller']]
    match = re.fullmatch(r'\s*>=\s*(\d+\.\d+)(\.\d+)?\s*', requires)
    if not match:
        problems.append('meta/runtime.yml: requires_ansible %r is not of the form ">=X.Y.Z"' % requires)
    elif cores[0] != minor(match.group(1)):
        problems.append('the oldest controller pin is %d.%d, but meta/runtime.yml claims %s' % (cores[0] + (requires,)))
    if cores != [(cores[0][0], cores[0][1] + offset) for offset in range(len(cores))]:
        problems.append('tests/matrix/pins.yml: the controller minors are not every minor from the oldest on: %s' % cores)
    nodes = [minor(version) for version in pins['managed_nodes']['python']]
    match = re.fullmatch(r'\s*>=\s*(\d+\.\d+)\s*', python_requires)
    if not match:
        problems.append('tests/config.yml: modules.python_requires %r is not of the form ">=X.Y"' % python_requires)
    elif nodes[0] != minor(match.group(1)):
        problems.append('the oldest managed-node Python is %d.%d, but tests/config.yml claims %s' % (nodes[0] + (python_requires,)))
    if nodes != [(nodes[0][0], nodes[0][1] + offset) for offset in range(len(nodes))]:
        problems.append('tests/matrix/pins.yml: the managed-node Pythons skip a version: %s' % nodes)
    problems += check_floors(root, pins)
    unused = sorted(set(plugin_names(root)['module']) - modules_used(root))
    if unused:
        problems.append('tests/matrix/every_module.yml does not use %s: add a play for each' % ', '.join(unused))
    return problems


def modules_used(root: str) -> set[str]:
    """The modules the tasks of tests/matrix/every_module.yml call (by FQCN)."""
    with open(os.path.join(root, 'tests', 'matrix', 'every_module.yml'), encoding='utf-8') as handle:
        plays = yaml.safe_load(handle)
    return {key[len('oci.registry.'):] for play in plays for task in play.get('tasks', []) for key in task
            if key.startswith('oci.registry.')}


def newer_on_pypi(pins: dict[str, Any]) -> str:
    """A note when PyPI has an ansible-core minor newer than the newest pin ('' when not, or when PyPI cannot say)."""
    newest = pins['controller'][-1]
    try:
        proc = subprocess.run([sys.executable, '-m', 'pip', 'index', 'versions', 'ansible-core', '--python-version', newest['python'],
                               '--only-binary=:all:'], capture_output=True, text=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return ''
    match = re.search(r'^ansible-core \(([0-9.]+)\)', proc.stdout, re.MULTILINE)
    if match and minor(match.group(1)) > minor(newest['ansible_core']):
        return ('note: PyPI has ansible-core %s, newer than the newest minor of tests/matrix/pins.yml (%s): add it there'
                % (match.group(1), newest['ansible_core']))
    return ''


def make_cells(pins: dict[str, Any]) -> list[Cell]:
    """The cells in the order they start: the long sanity runs early, so that two workers finish together."""
    controllers = pins['controller']
    newest = controllers[-1]
    cells = []
    for entry in controllers:
        if entry.get('sanity'):
            cells.append(Cell('sanity %d.%d' % minor(entry['ansible_core']), 'sanity', entry['python'], entry['ansible_core'],
                              entry['python']))
    for entry in controllers:
        cells.append(Cell('controller %d.%d' % minor(entry['ansible_core']), 'controller', entry['python'], entry['ansible_core'],
                          entry['python']))
    for version in pins['managed_nodes']['python']:
        cells.append(Cell('node %s' % version, 'node', version, newest['ansible_core'], newest['python']))
    for stack in pins['managed_nodes'].get('stacks') or []:
        cells.append(Cell('node %s %s' % (stack['python'], stack['name']), 'node', stack['python'], newest['ansible_core'],
                          newest['python'], stack=stack))
    return cells


# --- interpreters and venvs ----------------------------------------------------------------------


def _runs(python: str) -> bool:
    try:
        return subprocess.run([python, '-c', ''], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False,
                              timeout=60).returncode == 0
    except OSError:
        return False


def find_interpreter(version: str) -> str:
    """The newest X.Y.Z under the version manager's versions/, else a pythonX.Y on PATH that runs (not a shim)."""
    roots = []
    if shutil.which('pyenv'):
        proc = subprocess.run(['pyenv', 'root'], capture_output=True, text=True, check=False)
        if proc.returncode == 0 and proc.stdout.strip():
            roots.append(proc.stdout.strip())
    roots.append(os.environ.get('PYENV_ROOT') or os.path.expanduser('~/.pyenv'))
    for root in roots:
        found = []
        for path in glob.glob(os.path.join(root, 'versions', version + '.*', 'bin', 'python' + version)):
            patch = os.path.basename(os.path.dirname(os.path.dirname(path)))[len(version) + 1:]
            if patch.isdigit():
                found.append((int(patch), path))
        if found and _runs(max(found)[1]):
            return max(found)[1]
    on_path = shutil.which('python' + version)
    if on_path and _runs(on_path):
        return on_path
    raise StepFailed('no Python %s: install it (e.g. `pyenv install %s`)' % (version, version))


_THREAD_LOCKS: dict[str, threading.Lock] = {}
_THREAD_LOCKS_GUARD = threading.Lock()


@contextlib.contextmanager
def locked(path: str) -> Iterator[None]:
    """An exclusive lock on a file, between threads of this process and other processes (other work trees)."""
    with _THREAD_LOCKS_GUARD:
        thread_lock = _THREAD_LOCKS.setdefault(path, threading.Lock())
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with thread_lock, open(path, 'a', encoding='utf-8') as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def ensure_venv(label: str, version: str, packages: dict[str, str], log: 'Log') -> str:
    """A venv of Python X.Y with exactly these pins, reused while the interpreter and the pins are the same."""
    python = find_interpreter(version)
    identity = subprocess.run([python, '-c', 'import sys; print(sys.version.split()[0], sys.base_prefix)'],
                              capture_output=True, text=True, check=True).stdout.strip()
    pins = sorted('%s==%s' % item for item in packages.items())
    key = hashlib.sha256(json.dumps([identity, pins]).encode()).hexdigest()[:12]
    path = os.path.join(CACHE, '%s-%s' % (label, key))
    stamp = os.path.join(path, '.oci-registry-matrix')
    with locked(path + '.lock'):
        if os.path.isfile(stamp) and _runs(os.path.join(path, 'bin', 'python')):
            log.write('venv %s (cached)\n' % path)
            return path
        for stale in glob.glob(os.path.join(CACHE, label + '-*')):
            if os.path.isdir(stale) and stale != path:
                shutil.rmtree(stale, ignore_errors=True)
        shutil.rmtree(path, ignore_errors=True)
        log.run([python, '-m', 'venv', path], timeout=TIMEOUT['venv'])
        try:
            log.run([os.path.join(path, 'bin', 'python'), '-m', 'pip', 'install', '--disable-pip-version-check', '-q'] + pins,
                    timeout=TIMEOUT['venv'], env=dict(os.environ, PIP_NO_INPUT='1'))
        except StepFailed:
            shutil.rmtree(path, ignore_errors=True)
            raise
        with open(stamp, 'w', encoding='utf-8') as handle:
            handle.write('%s\n%s\n' % (identity, '\n'.join(pins)))
    return path


def venv_version(venv: str, code: str) -> str:
    return subprocess.run([os.path.join(venv, 'bin', 'python'), '-c', code], capture_output=True, text=True,
                          check=True).stdout.strip()


# --- running commands ------------------------------------------------------------------------------


class Log:
    """A cell's log file: every command and its output; the tail goes into the failure message."""

    def __init__(self, path: str) -> None:
        self.path = path
        with open(path, 'w', encoding='utf-8'):
            pass

    def write(self, text: str) -> None:
        with open(self.path, 'a', encoding='utf-8') as handle:
            handle.write(text)

    def run(self, argv: list[str], timeout: int, env: Optional[dict[str, str]] = None, cwd: Optional[str] = None,
            stdout_only: bool = False) -> str:
        """Run a command; returns its output (only stdout with stdout_only: stderr goes to the log alone)."""
        self.write('\n$ %s\n' % ' '.join(argv))
        begin = time.monotonic()
        try:
            proc = subprocess.run(argv, env=env, cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE if stdout_only else subprocess.STDOUT, text=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired as exc:
            self.write(exc.stdout.decode(errors='replace') if isinstance(exc.stdout, bytes) else exc.stdout or '')
            raise StepFailed('timed out after %ss: %s' % (timeout, ' '.join(argv))) from None
        output = proc.stdout + (proc.stderr or '')
        self.write('%s[%.1fs, exit %d]\n' % (output, time.monotonic() - begin, proc.returncode))
        if proc.returncode != 0:
            tail = '\n'.join(output.rstrip().splitlines()[-25:])
            raise StepFailed('exit %s: %s\n%s' % (proc.returncode, ' '.join(argv), tail))
        return proc.stdout


class Context:
    """Where a cell works, and the environment its commands get."""

    def __init__(self, cell: Cell, work: str, collection: str, output: str) -> None:
        self.cell = cell
        self.collection = collection
        self.dir = os.path.join(work, cell.name.replace(' ', '-'))
        os.makedirs(self.dir)
        self.log = Log(os.path.join(output, 'logs', cell.name.replace(' ', '-') + '.log'))
        self.venv = ''
        self.pybin = os.path.join(work, 'python-bin')
        self.registries: Optional[dict[str, Any]] = None

    def env(self, venv: str) -> dict[str, str]:
        env = {key: value for key, value in os.environ.items()
               if not key.startswith('ANSIBLE_') and key not in ('VIRTUAL_ENV', 'PYTHONPATH', 'PYTHONHOME')}
        env.update(
            PATH=os.pathsep.join([os.path.join(venv, 'bin'), self.pybin, os.environ.get('PATH', '')]),
            ANSIBLE_HOME=os.path.join(self.dir, 'ansible-home'),
            ANSIBLE_COLLECTIONS_PATH=os.path.join(self.dir, 'collections'),
            ANSIBLE_COLLECTIONS_SCAN_SYS_PATH='false',
            ANSIBLE_LOCALHOST_WARNING='false',
            ANSIBLE_INVENTORY_UNPARSED_WARNING='false',
            ANSIBLE_NOCOLOR='1',
            # Per-task timestamps, to see where a slow cell spends its time.
            ANSIBLE_LOG_PATH=self.log.path[:-len('.log')] + '.ansible.log',
            ANSIBLE_FORCE_COLOR='0',
            PYTHONDONTWRITEBYTECODE='1',
        )
        return env

    def ansible(self, venv: str, tool: str, *args: str, stdout_only: bool = False) -> str:
        return self.log.run([os.path.join(venv, 'bin', tool)] + list(args), timeout=TIMEOUT['ansible'], env=self.env(venv), cwd=self.dir,
                            stdout_only=stdout_only)


def link_interpreters(pybin: str, versions: list[str]) -> None:
    """pythonX.Y for ansible-test --python X.Y (it looks on PATH; version manager shims there do not run)."""
    os.makedirs(pybin, exist_ok=True)
    for version in versions:
        try:
            os.symlink(find_interpreter(version), os.path.join(pybin, 'python' + version))
        except StepFailed:
            pass  # the cells that need it fail and say so


# --- steps -----------------------------------------------------------------------------------------


def install_collection(ctx: Context, venv: str) -> None:
    """Build the tarball and install it with this ansible-core, as a user installs it."""
    ctx.ansible(venv, 'ansible-galaxy', 'collection', 'build', ctx.collection, '--output-path', ctx.dir, '--force')
    tarballs = glob.glob(os.path.join(ctx.dir, 'oci-registry-*.tar.gz'))
    ctx.ansible(venv, 'ansible-galaxy', 'collection', 'install', tarballs[0], '-p', os.path.join(ctx.dir, 'collections'), '--force')
    ctx.cell.checks.append('build+install')


def plugin_names(collection: str) -> dict[str, list[str]]:
    names = {}
    for kind, folder in PLUGIN_TYPES:
        names[kind] = sorted(os.path.basename(path)[:-3] for path in glob.glob(os.path.join(collection, 'plugins', folder, '*.py'))
                             if not os.path.basename(path).startswith('_'))
    names['role'] = sorted(os.path.basename(os.path.dirname(os.path.dirname(path)))
                           for path in glob.glob(os.path.join(collection, 'roles', '*', 'meta', 'argument_specs.yml')))
    return names


def check_docs(ctx: Context, venv: str) -> None:
    """ansible-doc --json of every plugin and role: it exits 0 for a name it cannot find, so read the JSON."""
    for kind, names in plugin_names(ctx.collection).items():
        fqcns = ['oci.registry.' + name for name in names]
        try:
            docs = json.loads(ctx.ansible(venv, 'ansible-doc', '-t', kind, '--json', *fqcns, stdout_only=True))
        except ValueError as exc:
            raise StepFailed('ansible-doc -t %s --json: not JSON (%s)' % (kind, exc)) from None
        for fqcn in fqcns:
            entry = docs.get(fqcn) or {}
            if kind == 'role':
                spec = (entry.get('entry_points') or {}).get('main') or {}
                if not spec.get('short_description') or not spec.get('options'):
                    raise StepFailed('ansible-doc -t role %s: no main entry point with options' % fqcn)
            elif not (entry.get('doc') or {}).get('short_description'):
                raise StepFailed('ansible-doc -t %s %s: no documentation (plugin not found?)' % (kind, fqcn))
    ctx.cell.checks.append('ansible-doc')


def start_registries(ctx: Context) -> dict[str, Any]:
    """An open HTTP registry, an htpasswd one over TLS and a token one (whose token server also answers as Google's
    OAuth2 endpoint), seeded; stopped by stop_registries."""
    directory = os.path.join(ctx.dir, 'registry')
    ctx.registries = {'dir': directory}
    ctx.log.run([sys.executable, '-m', 'harness', 'up', '--dir', directory, '--flavour', 'open', '--flavour', 'basic_tls', '--flavour', 'token'],
                timeout=120, cwd=os.path.join(ctx.collection, 'tests'))
    with open(os.path.join(directory, 'state.json'), encoding='utf-8') as handle:
        state: dict[str, Any] = json.load(handle)
    ctx.registries.update(state)
    return state


def stop_registries(ctx: Context) -> None:
    if ctx.registries is not None and os.path.isfile(os.path.join(ctx.registries['dir'], 'state.json')):
        with contextlib.suppress(StepFailed):
            ctx.log.run([sys.executable, '-m', 'harness', 'down', '--dir', ctx.registries['dir']], timeout=60,
                        cwd=os.path.join(ctx.collection, 'tests'))


def playbook_vars(ctx: Context, state: dict[str, Any], interpreter: str) -> str:
    secure = state['registries']['basic_tls']
    user = sorted(secure['users'])[0]
    work = os.path.join(ctx.dir, 'files')
    os.makedirs(work, exist_ok=True)
    values = {'open': state['registries']['open']['host'], 'secure': secure['host'], 'ca_cert': state['ca_cert'],
              'secure_user': user, 'secure_password': secure['users'][user], 'work': work,
              'token': state['registries']['token']['host'], 'google_credentials': state['token_server']['google_credentials'],
              'ansible_python_interpreter': interpreter}
    path = os.path.join(ctx.dir, 'vars.json')
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, 'w', encoding='utf-8') as handle:
        json.dump(values, handle)
    return path


def playbook(ctx: Context, venv: str, path: str, *extra: str) -> None:
    ctx.ansible(venv, 'ansible-playbook', os.path.join(ctx.collection, path), '-i', 'localhost,', '-c', 'local', *extra)


def run_playbooks(ctx: Context, venv: str, interpreter: str, demo: bool) -> None:
    """Every module (and the roles' argument specs, the demo) against fresh registries."""
    state = start_registries(ctx)
    try:
        variables = '@' + playbook_vars(ctx, state, interpreter)
        playbook(ctx, venv, 'tests/matrix/every_module.yml', '-e', variables)
        ctx.cell.checks.append('every module')
        if demo:
            playbook(ctx, venv, 'tests/matrix/role_specs.yml', '-e', variables)
            ctx.cell.checks.append('role argument specs')
            # Last: the demo deletes test/multiarch, which every_module.yml reads.
            playbook(ctx, venv, 'demo/playbook.yml', '-e', 'registry=' + state['registries']['open']['host'],
                     '-e', 'ansible_python_interpreter=' + interpreter)
            ctx.cell.checks.append('demo')
    finally:
        stop_registries(ctx)


def read_bytes(path: str) -> bytes:
    with open(path, 'rb') as handle:
        return handle.read()


def ensure_get_pip_standin(ctx: Context, venv: str, version: str) -> None:
    """ansible-test bootstraps pip with a get-pip script it downloads unless its cache has one (see get_pip_standin.py)."""
    code = ('import types, sys\n'
            'from ansible_test._internal.python_requirements import get_venv_packages\n'
            'print(get_venv_packages(types.SimpleNamespace(version=sys.argv[1]))["pip"])\n')
    pip_version = ctx.log.run([os.path.join(venv, 'bin', 'python'), '-c', code, version], timeout=60).strip()
    if not re.fullmatch(r'[0-9][0-9.]*', pip_version):
        raise StepFailed('cannot read the pip version of ansible-test (got %r)' % pip_version)
    target = os.path.join(ANSIBLE_TEST_HOME, '.ansible', 'test', 'cache', 'get_pip_%s.py' % pip_version.replace('.', '_'))
    source = os.path.join(HERE, 'get_pip_standin.py')
    wanted = read_bytes(source)
    if not os.path.isfile(target) or read_bytes(target) != wanted:
        os.makedirs(os.path.dirname(target), exist_ok=True)
        temporary = '%s.tmp.%d.%d' % (target, os.getpid(), threading.get_ident())
        shutil.copyfile(source, temporary)
        os.replace(temporary, target)


def ansible_test(ctx: Context, venv: str, python: str, *tests: str) -> None:
    """ansible-test sanity on a private copy of the collection (it writes tests/output into it)."""
    root = os.path.join(ctx.dir, 'sanity', 'ansible_collections', 'oci', 'registry')
    if not os.path.isdir(root):
        shutil.copytree(ctx.collection, root, ignore=lambda directory, names: [
            name for name in names if name in ('__pycache__', '.ansible') or os.path.join(directory, name) == os.path.join(
                ctx.collection, 'tests', 'output')])
    args = [os.path.join(venv, 'bin', 'ansible-test'), 'sanity', '--local', '--python', python, '--color', 'no']
    for test in tests:
        args += ['--test', test]
    # ansible-test builds its venvs per Python on first use: one run per Python at a time.
    with locked(os.path.join(CACHE, 'ansible-test-py%s.lock' % python)):
        ensure_get_pip_standin(ctx, venv, python)
        ctx.log.run(args, timeout=TIMEOUT['sanity'], env=dict(ctx.env(venv), HOME=ANSIBLE_TEST_HOME), cwd=root)
    ctx.cell.checks.append('sanity' if not tests else 'sanity ' + '+'.join(tests))


# --- cells -----------------------------------------------------------------------------------------


def controller_venv(ctx: Context, pins: dict[str, Any]) -> str:
    cell = ctx.cell
    packages = dict(packages_for(pins, cell.controller_python), **{'ansible-core': cell.core})
    return ensure_venv('controller-%s-py%s' % (cell.core, cell.controller_python), cell.controller_python, packages, ctx.log)


def run_cell(ctx: Context, pins: dict[str, Any]) -> None:
    cell = ctx.cell
    venv = controller_venv(ctx, pins)
    cell.versions['ansible-core'] = venv_version(venv, 'import ansible.release as r; print(r.__version__)')
    if cell.kind == 'sanity':
        cell.versions['python'] = venv_version(venv, 'import platform; print(platform.python_version())')
        ansible_test(ctx, venv, cell.python)
        return
    node = venv
    if cell.kind == 'node':
        label = 'node-py%s' % cell.python + ('-' + cell.stack['name'] if cell.stack else '')
        node = ensure_venv(label, cell.python, node_packages(pins, cell), ctx.log)
    cell.versions['python'] = venv_version(node, 'import platform; print(platform.python_version())')
    cell.versions['requests'] = venv_version(node, 'import requests; print(requests.__version__)')
    cell.versions['urllib3'] = venv_version(node, 'import urllib3; print(urllib3.__version__)')
    cell.versions['google-auth'] = venv_version(node, 'import google.auth; print(google.auth.__version__)')
    install_collection(ctx, venv)
    if cell.kind == 'controller':
        check_docs(ctx, venv)
    run_playbooks(ctx, venv, os.path.join(node, 'bin', 'python'), demo=cell.kind == 'controller')
    if cell.stack:
        transport_unit_tests(ctx, pins)
    elif cell.kind == 'node':
        ansible_test(ctx, venv, cell.python, 'compile', 'import')


def transport_unit_tests(ctx: Context, pins: dict[str, Any]) -> None:
    """The transport's unit tests with the stack's requests and urllib3 (a venv of its own: the stack plus pytest).

    Without tests/conftest.py, which needs ansible-core: the transport imports nothing of Ansible, and the
    staged tree's root makes ansible_collections.oci.registry importable as a namespace package.
    """
    cell = ctx.cell
    assert cell.stack is not None
    root = os.path.dirname(os.path.dirname(os.path.dirname(ctx.collection)))
    if os.path.basename(os.path.dirname(os.path.dirname(ctx.collection))) != 'ansible_collections':
        raise StepFailed('the transport unit tests need a staged collection (.../ansible_collections/oci/registry): use bash tests/run')
    packages = dict(cell.stack['packages'], **pins['managed_nodes']['unit_tools'])
    venv = ensure_venv('unit-py%s-%s' % (cell.python, cell.stack['name']), cell.python, packages, ctx.log)
    env = dict(ctx.env(venv), PYTHONPATH=root)
    ctx.log.run([os.path.join(venv, 'bin', 'python'), '-m', 'pytest', '--noconftest', '-p', 'no:cacheprovider', '-q',
                 TRANSPORT_UNIT_TESTS], timeout=TIMEOUT['unit'], env=env, cwd=ctx.collection)
    cell.checks.append('transport unit tests')


def run_timed(ctx: Context, pins: dict[str, Any], started: float) -> Cell:
    cell = ctx.cell
    begin = time.monotonic()
    try:
        run_cell(ctx, pins)
        cell.result = 'passed'
    except StepFailed as exc:
        cell.result, cell.error = 'FAILED', str(exc)
    except Exception as exc:  # pylint: disable=broad-exception-caught
        cell.result, cell.error = 'FAILED', '%s: %s' % (type(exc).__name__, exc)
    cell.seconds = time.monotonic() - begin
    print('[%4ds] %-16s %s (%ds)' % (time.monotonic() - started, cell.name, cell.result, cell.seconds), flush=True)
    return cell


# --- reports ---------------------------------------------------------------------------------------


def describe_versions(cell: Cell) -> str:
    versions = cell.versions
    parts = ['ansible-core %s' % versions.get('ansible-core', cell.core)]
    libraries = ['%s %s' % (name, versions[name]) for name in FLOOR_CHECKED if name in versions]
    if cell.kind == 'node':
        parts = ['python %s' % versions.get('python', cell.python)] + libraries + ['controller ' + parts[0]]
    else:
        parts += ['python %s' % versions.get('python', cell.python)] + libraries
    return ', '.join(parts)


def table(cells: list[Cell], total: float) -> str:
    rows = [('cell', 'versions', 'result', 'seconds')]
    rows += [(cell.name, describe_versions(cell), cell.result, '%d' % round(cell.seconds)) for cell in cells]
    widths = [max(len(row[index]) for row in rows) for index in range(4)]
    lines = ['  '.join(value.ljust(width) for value, width in zip(row, widths)).rstrip() for row in rows]
    lines.insert(1, '  '.join('-' * width for width in widths))
    lines.append('matrix: %d cells, %d passed, %ds wall time' % (len(cells), sum(cell.result == 'passed' for cell in cells), round(total)))
    return '\n'.join(lines) + '\n'


def readme_block(results: dict[str, Any]) -> str:
    """The "Supported versions" block of README.md from a run's results (versions only: no times, no machine)."""
    cells = results['cells']
    sanity = {cell['core'] for cell in cells if cell['kind'] == 'sanity' and cell['result'] == 'passed'}
    lines = [README_START,
             '<!-- Generated from the last run of the matrix by `python tests/utils/matrix.py readme`;'
             ' edit tests/matrix/pins.yml, not this table. -->',
             '| ansible-core | Controller Python | Tested on the controller |', '|---|---|---|']
    for cell in cells:
        if cell['kind'] == 'controller' and cell['result'] == 'passed':
            checks = ['collection build and install', '`ansible-doc` of every plugin and role', 'every module',
                      'role argument specs', 'the demo playbook']
            if cell['core'] in sanity:
                checks.append('`ansible-test sanity`')
            lines.append('| %s (%s) | %s | %s |' % ('%d.%d' % minor(cell['core']), cell['core'], cell['python'], ', '.join(checks)))
    lines += ['', '| Managed-node Python | requests + urllib3 | google-auth | Tested with |', '|---|---|---|---|']
    nodes = [cell for cell in cells if cell['kind'] == 'node' and cell['result'] == 'passed']
    for cell in sorted(nodes, key=lambda cell: (minor(cell['python']), release(cell['requests']))):
        versions = cell['versions']
        pair = '%s + %s' % (versions['requests'], versions['urllib3'])
        checks = ['every module against real registries (ansible-core %s controller)' % cell['core']]
        if cell.get('stack'):
            pair += ' (as in %s)' % cell['stack']['label']
            checks.append('the transport\'s unit tests')
        else:
            checks.append('`ansible-test sanity --test compile --test import`')
        lines.append('| %s | %s | %s | %s |' % (cell['python'], pair, versions.get('google-auth', '-'), '; '.join(checks)))
    lines.append(README_END)
    return '\n'.join(lines)


def rewrite_readme(text: str, block: str) -> str:
    start, end = text.find(README_START), text.find(README_END)
    if start < 0 or end < start:
        raise SystemExit('README.md has no %s ... %s block' % (README_START, README_END))
    return text[:start] + block + text[end + len(README_END):]


def results_json(cells: list[Cell], pins: dict[str, Any], total: float) -> dict[str, Any]:
    return {'seconds': round(total, 1), 'pins': pins, 'cells': [
        {'name': cell.name, 'kind': cell.kind, 'core': cell.core, 'python': cell.python, 'requests': cell.versions.get('requests'),
         'stack': cell.stack,
         'versions': cell.versions, 'checks': cell.checks, 'result': cell.result, 'seconds': round(cell.seconds, 1),
         'error': cell.error} for cell in cells]}


# --- commands --------------------------------------------------------------------------------------


def output_dir(root: str) -> str:
    return os.path.join(os.environ.get('OCI_REGISTRY_REPO') or root, 'tests', 'output', 'matrix')


def command_run(args: argparse.Namespace) -> int:
    collection = os.path.abspath(args.collection)
    pins = load_pins(collection)
    problems = check_claims(collection, pins)
    if problems:
        print('matrix: the pins do not match the claims:\n  ' + '\n  '.join(problems), file=sys.stderr)
        return 1
    cells = [cell for cell in make_cells(pins) if not args.cell or cell.name in args.cell]
    if not cells:
        print('matrix: no cell named %s; cells: %s' % (args.cell, ', '.join(c.name for c in make_cells(pins))), file=sys.stderr)
        return 2
    output = output_dir(collection)
    shutil.rmtree(os.path.join(output, 'logs'), ignore_errors=True)
    os.makedirs(os.path.join(output, 'logs'))
    work = tempfile.mkdtemp(prefix='oci-registry-matrix.')
    started = time.monotonic()
    try:
        link_interpreters(os.path.join(work, 'python-bin'), sorted({cell.python for cell in cells}, key=minor))
        print('matrix: %d cells, %d at a time; logs in %s' % (len(cells), args.jobs, os.path.join(output, 'logs')), flush=True)
        contexts = [Context(cell, work, collection, output) for cell in cells]
        with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
            list(pool.map(lambda ctx: run_timed(ctx, pins, started), contexts))
    finally:
        if os.environ.get('KEEP_STAGE') != '1':
            shutil.rmtree(work, ignore_errors=True)
    total = time.monotonic() - started
    report = table(cells, total)
    failed = [cell for cell in cells if cell.result != 'passed']
    for cell in failed:
        report += '\n%s: %s\n  (log: %s)\n' % (cell.name, cell.error, os.path.join(output, 'logs', cell.name.replace(' ', '-') + '.log'))
    note = '' if args.cell else newer_on_pypi(pins)
    if note:
        report += note + '\n'
    results = results_json(cells, pins, total)
    with open(os.path.join(output, 'results.json'), 'w', encoding='utf-8') as handle:
        json.dump(results, handle, indent=2)
    with open(os.path.join(output, 'table.txt'), 'w', encoding='utf-8') as handle:
        handle.write(report)
    print('\n' + report, end='', flush=True)
    if failed:
        return 1
    if not args.cell:
        return check_readme(collection, results)
    return 0


def check_readme(collection: str, results: dict[str, Any]) -> int:
    """README.md's "Supported versions" must say what this run proved."""
    with open(os.path.join(collection, 'README.md'), encoding='utf-8') as handle:
        text = handle.read()
    if rewrite_readme(text, readme_block(results)) != text:
        print('matrix: the "Supported versions" table of README.md is not what the matrix ran;'
              ' run `python tests/utils/matrix.py readme` and commit README.md', file=sys.stderr)
        return 1
    print('matrix: README.md "Supported versions" matches the matrix')
    return 0


def command_readme(args: argparse.Namespace) -> int:
    root = DEFAULT_ROOT
    results_path = args.results or os.path.join(output_dir(root), 'results.json')
    with open(results_path, encoding='utf-8') as handle:
        results = json.load(handle)
    failed = [cell['name'] for cell in results['cells'] if cell['result'] != 'passed']
    if failed or len(results['cells']) != len(make_cells(results['pins'])):
        print('matrix: %s is not a whole passing run (failed: %s); run `bash tests/run matrix` first'
              % (results_path, ', '.join(failed) or 'none, but cells are missing'), file=sys.stderr)
        return 1
    if args.check:
        return check_readme(root, results)
    path = os.path.join(root, 'README.md')
    with open(path, encoding='utf-8') as handle:
        text = handle.read()
    with open(path, 'w', encoding='utf-8') as handle:
        handle.write(rewrite_readme(text, readme_block(results)))
    print('matrix: README.md "Supported versions" written from %s' % results_path)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n', 1)[0])
    commands = parser.add_subparsers(dest='command', required=True)
    run = commands.add_parser('run', help='run the matrix')
    run.add_argument('--collection', default=DEFAULT_ROOT, help='the collection, at .../ansible_collections/oci/registry')
    run.add_argument('--jobs', type=int, default=int(os.environ.get('OCI_REGISTRY_MATRIX_JOBS', '2')), help='cells side by side')
    run.add_argument('--cell', action='append', help='run only this cell (repeatable), e.g. "node 3.9" or "node 3.9 rhel9"')
    readme = commands.add_parser('readme', help='rewrite the README.md table from the last run')
    readme.add_argument('--results', help='results.json of a run (default: tests/output/matrix/results.json)')
    readme.add_argument('--check', action='store_true', help='only check that README.md matches')
    args = parser.parse_args()
    return command_run(args) if args.command == 'run' else command_readme(args)


if __name__ == '__main__':
    sys.exit(main())
