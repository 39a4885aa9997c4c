"""CLI for demos and scripts: detached registries that outlive this process.

    python -m harness up --dir DIR [--flavour open] [--flavour basic_tls] [--flavour token] [--no-seed]
    python -m harness down --dir DIR
    python -m harness ensure --dir DIR [--flavour ...] [--owner ansible-test] [--owner ansible-playbook]

`ensure` reuses the registries a `serve` process keeps in DIR, or starts one that stops them when the first
ancestor named by --owner ends (see harness/service.py); it prints DIR/state.json's path and whether it started.

`up` writes DIR/state.json (registries, users, pids, seeded digests) and prints it; `down` stops exactly the
pids recorded there (each only while its command line still names its config file). Run with tests/ on the path
(cd tests, or PYTHONPATH=tests).
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import time
from typing import Any, Optional

from .certs import make_certs
from .registry import FLAVOURS, Registry, RegistryError, launch, pid_matches, stop_pid, stop_processes, wait_ready
from .seed import seed_registries
from .service import ServiceError, ensure, serve
from .token_server import TokenServer

STATE_FILE = "state.json"
TOKEN_CONFIG = "token-server.json"


def _state_path(directory: str) -> str:
    return os.path.join(directory, STATE_FILE)


def _read_state(directory: str) -> Optional[dict[str, Any]]:
    try:
        with open(_state_path(directory), encoding="utf-8") as handle:
            state: dict[str, Any] = json.load(handle)
            return state
    except FileNotFoundError:
        return None


def _write_state(directory: str, state: dict[str, Any]) -> None:
    fd = os.open(_state_path(directory), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(state, handle, indent=2)
        handle.write("\n")


def _wait_port(port: int, process: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise RegistryError(f"token server exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise RegistryError(f"token server not listening on {port} after {timeout}s") from None
            time.sleep(0.02)


def _spawn_token_server(directory: str) -> tuple[TokenServer, subprocess.Popen[bytes], str]:
    """Create the key and users here, then serve them from a detached `python -m harness serve-token`."""
    token_dir = os.path.join(directory, "token")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    server = TokenServer(token_dir, port=port)
    server.google_credentials()  # the key is written before the detached server starts, which reads the same one
    config_path = os.path.join(token_dir, TOKEN_CONFIG)
    fd = os.open(config_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump({"directory": token_dir, "port": port, "service": server.service, "issuer": server.issuer,
                   "users": server.users, "expires_in": server.expires_in}, handle)
    package_parent = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [package_parent, os.environ.get("PYTHONPATH")])))
    with open(os.path.join(token_dir, "token-server.log"), "ab") as log:
        process = subprocess.Popen([sys.executable, "-m", "harness", "serve-token", "--config", config_path],
                                   stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env,
                                   start_new_session=True)
    return server, process, config_path


def command_up(directory: str, flavours: list[str], seed: bool) -> int:
    directory = os.path.abspath(directory)
    os.makedirs(directory, exist_ok=True)
    previous = _read_state(directory)
    if previous and any(_alive(entry) for entry in previous.get("processes", [])):
        print(f"{directory} already has running processes: run `down` first", file=sys.stderr)
        return 1
    certs = make_certs(os.path.join(directory, "certs"))
    state: dict[str, Any] = {"dir": directory, "ca_cert": certs.ca_cert, "registries": {}, "token_server": None,
                             "processes": [], "seeded": {}}
    registries: list[Registry] = []
    token_process: Optional[subprocess.Popen[bytes]] = None
    token_server: Optional[TokenServer] = None
    done = False
    try:
        if "token" in flavours:
            token_server, token_process, token_config = _spawn_token_server(directory)
            state["processes"].append({"name": "token-server", "pid": token_process.pid, "marker": token_config})
            state["token_server"] = {
                "url": token_server.url, "realm": token_server.realm, "service": token_server.service,
                "issuer": token_server.issuer, "users": token_server.users, "cert_path": token_server.cert_path,
                "google_credentials": token_server.google_credentials_path,
            }
            _write_state(directory, state)
        for flavour in flavours:
            registry = launch(flavour, flavour, directory, certs=certs, token_server=token_server, detached=True)
            registries.append(registry)
            state["processes"].append({"name": flavour, "pid": registry.pid, "marker": registry.config_path})
            state["registries"][flavour] = registry.to_dict()
            _write_state(directory, state)  # written as we go, so `down` can always clean up
        if token_server is not None and token_process is not None:
            _wait_port(token_server.port, token_process)
        wait_ready(registries)
        if seed:
            state["seeded"] = seed_registries(registries)
        _write_state(directory, state)
        done = True
    finally:
        if not done:
            stop_processes(registries)
            if token_process is not None:
                token_process.terminate()
                token_process.wait(timeout=5)
    print(json.dumps(state, indent=2))
    return 0


def _alive(entry: dict[str, Any]) -> bool:
    return pid_matches(int(entry["pid"]), str(entry["marker"]))


def command_down(directory: str) -> int:
    state = _read_state(os.path.abspath(directory))
    if state is None:
        print(f"no {STATE_FILE} in {directory}: nothing to stop", file=sys.stderr)
        return 0
    result: dict[str, list[str]] = {"stopped": [], "not_running": []}
    # Registries first, the token server last.
    for entry in sorted(state.get("processes", []), key=lambda item: item["name"] == "token-server"):
        stopped = stop_pid(int(entry["pid"]), str(entry["marker"]))
        result["stopped" if stopped else "not_running"].append(f"{entry['name']}:{entry['pid']}")
    print(json.dumps(result))
    return 0


def command_serve_token(config_path: str) -> int:
    with open(config_path, encoding="utf-8") as handle:
        config = json.load(handle)
    server = TokenServer(config["directory"], service=config["service"], issuer=config["issuer"], users=config["users"],
                         expires_in=int(config["expires_in"]), port=int(config["port"]))
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m harness", description="oci.registry test registries")
    commands = parser.add_subparsers(dest="command", required=True)
    up = commands.add_parser("up", help="start detached registries, seed them, write DIR/state.json")
    up.add_argument("--dir", required=True)
    up.add_argument("--flavour", action="append", choices=FLAVOURS + ("all",),
                    help="open (default), basic_tls, token or all; repeatable")
    up.add_argument("--no-seed", action="store_true", help="start empty registries")
    down = commands.add_parser("down", help="stop the processes recorded in DIR/state.json")
    down.add_argument("--dir", required=True)
    serve_token = commands.add_parser("serve-token", help=argparse.SUPPRESS)
    serve_token.add_argument("--config", required=True)
    shared = commands.add_parser("ensure", help="reuse the registries served from DIR, or start them for the --owner process")
    shared.add_argument("--dir", required=True)
    shared.add_argument("--flavour", action="append", choices=FLAVOURS, help="default: every flavour")
    shared.add_argument("--owner", action="append", help="command name of the ancestor whose end stops them; repeatable, "
                        "the first one found wins (default: ansible-test, then ansible-playbook)")
    serving = commands.add_parser("serve", help=argparse.SUPPRESS)
    serving.add_argument("--dir", required=True)
    serving.add_argument("--flavour", action="append", choices=FLAVOURS, required=True)
    serving.add_argument("--owner-pid", type=int, required=True)
    serving.add_argument("--owner-started", required=True)
    args = parser.parse_args(argv)
    if args.command == "ensure":
        try:
            state, started = ensure(args.dir, args.flavour or list(FLAVOURS), args.owner or ["ansible-test", "ansible-playbook"])
        except ServiceError as error:
            print(f"harness ensure: {error}", file=sys.stderr)
            return 1
        print(json.dumps({"state": os.path.join(state["dir"], STATE_FILE), "started": started, "owner": state["owner"]}))
        return 0
    if args.command == "serve":
        return serve(args.dir, args.flavour, args.owner_pid, args.owner_started)
    if args.command == "up":
        flavours = args.flavour or ["open"]
        if "all" in flavours:
            flavours = list(FLAVOURS)
        return command_up(args.dir, list(dict.fromkeys(flavours)), not args.no_seed)
    if args.command == "down":
        return command_down(args.dir)
    return command_serve_token(args.config)


if __name__ == "__main__":
    sys.exit(main())
