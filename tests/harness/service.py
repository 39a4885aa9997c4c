"""Registries shared by many short-lived callers, stopped when the process that owns them ends.

ansible-test runs each integration target as its own ansible-playbook; the targets' setup role calls
`python -m harness ensure` in every one of them. The first call starts `python -m harness serve` in the
background and waits for its state file; later calls find it running and reuse it. `serve` is armed before
it starts anything: it watches its owner (by default the nearest ancestor whose command line names
ansible-test) and stops the registries and the token server when the owner is gone, when it gets SIGTERM
(`python -m harness down --dir DIR` sends it), or when it dies (the registries carry a parent-death signal).
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from typing import Any, Optional

from .registry import Harness, pid_matches

STATE_FILE = "state.json"
SERVICE_LOG = "service.log"
POLL_SECONDS = 0.2


class ServiceError(RuntimeError):
    """The shared registries could not be started or found."""


def _proc_stat(pid: int) -> Optional[tuple[int, str]]:
    """(parent pid, start time in clock ticks) of a live process, or None."""
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8") as handle:
            raw = handle.read()
    except OSError:
        return None
    fields = raw[raw.rindex(")") + 2:].split()  # after "pid (comm) "
    return int(fields[1]), fields[19]


def _cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            return handle.read().replace(b"\0", b" ").decode("utf-8", "replace")
    except OSError:
        return ""


def find_owner(names: list[str], start: Optional[int] = None) -> tuple[int, str]:
    """The nearest ancestor whose command line names the first of `names` found, as (pid, start time)."""
    chain: list[int] = []
    pid = start if start is not None else os.getppid()
    while pid > 1:
        chain.append(pid)
        stat = _proc_stat(pid)
        if stat is None:
            break
        pid = stat[0]
    for name in names:
        for candidate in chain:
            if any(os.path.basename(word) == name for word in _cmdline(candidate).split()):
                stat = _proc_stat(candidate)
                if stat is not None:
                    return candidate, stat[1]
    raise ServiceError(f"no ancestor process is one of {names}: nothing would stop the registries")


def owner_alive(pid: int, started: str) -> bool:
    stat = _proc_stat(pid)
    return stat is not None and stat[1] == started


def _write_json(path: str, data: dict[str, Any]) -> None:
    temp = path + ".tmp"
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(data, handle, indent=2)
        handle.write("\n")
    os.replace(temp, path)


def serve(directory: str, flavours: list[str], owner_pid: int, owner_started: str) -> int:
    """Start and seed the registries, publish DIR/state.json, then wait for the owner to end (or SIGTERM)."""
    directory = os.path.abspath(directory)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda signum, frame: stop.set())
    signal.signal(signal.SIGINT, lambda signum, frame: stop.set())
    state_path = os.path.join(directory, STATE_FILE)
    with Harness(os.path.join(directory, "harness"), flavours=tuple(flavours)) as harness:
        seeded = harness.seed()
        token = harness.token_server
        _write_json(state_path, {
            "dir": directory,
            "ca_cert": harness.certs.ca_cert if harness.certs else None,
            "registries": {name: registry.to_dict() for name, registry in harness.registries.items()},
            "token_server": None if token is None else {
                "url": token.url, "realm": token.realm, "service": token.service, "users": token.users},
            # `down` stops this process (its command line names DIR); it stops the rest.
            "processes": [{"name": "serve", "pid": os.getpid(), "marker": directory}],
            "owner": {"pid": owner_pid, "cmdline": _cmdline(owner_pid)},
            "seeded": seeded,
            "timings": harness.timings,
        })
        print(f"serving {sorted(harness.registries)} until pid {owner_pid} ends", flush=True)
        while not stop.wait(POLL_SECONDS) and owner_alive(owner_pid, owner_started):
            pass
        os.unlink(state_path)
    print("stopped", flush=True)
    return 0


def _running_state(directory: str) -> Optional[dict[str, Any]]:
    try:
        with open(os.path.join(directory, STATE_FILE), encoding="utf-8") as handle:
            state: dict[str, Any] = json.load(handle)
    except (OSError, ValueError):
        return None
    if all(pid_matches(int(entry["pid"]), str(entry["marker"])) for entry in state.get("processes", [])):
        return state
    return None


def ensure(directory: str, flavours: list[str], owners: list[str], timeout: float = 60.0) -> tuple[dict[str, Any], bool]:
    """The state of the running service in DIR, starting one first if none runs; (state, started)."""
    directory = os.path.abspath(directory)
    state = _running_state(directory)
    if state is not None:
        return state, False
    owner_pid, owner_started = find_owner(owners)
    shutil.rmtree(directory, ignore_errors=True)  # a stale run's storage must not leak into this one
    os.makedirs(directory)
    package_parent = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [package_parent, os.environ.get("PYTHONPATH")])))
    command = [sys.executable, "-m", "harness", "serve", "--dir", directory, "--owner-pid", str(owner_pid),
               "--owner-started", owner_started]
    for flavour in flavours:
        command += ["--flavour", flavour]
    log_path = os.path.join(directory, SERVICE_LOG)
    with open(log_path, "ab") as log:
        process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env,
                                   start_new_session=True)
    deadline = time.monotonic() + timeout
    while True:
        state = _running_state(directory)
        if state is not None:
            return state, True
        if process.poll() is not None or time.monotonic() > deadline:
            if process.poll() is None:
                process.terminate()
            with open(log_path, encoding="utf-8", errors="replace") as handle:
                tail = "".join(handle.readlines()[-30:])
            raise ServiceError(f"the registries did not start (service exit code {process.poll()}):\n{tail}")
        time.sleep(0.05)
