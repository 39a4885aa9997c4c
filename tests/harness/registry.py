"""Start and stop Debian's docker-registry (CNCF distribution 2.8) on loopback, one config per instance."""
from __future__ import annotations

import http.client
import json
import os
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
from dataclasses import dataclass, field, fields
from typing import Any, Optional, Union

import bcrypt

from .certs import CertPaths, make_certs
from .seed import seed_registries
from .token_server import TokenServer, make_password

FLAVOURS = ("open", "basic_tls", "token")
AUTH_OF_FLAVOUR = {"open": "none", "basic_tls": "basic", "token": "token"}
REGISTRY_BINARY = "docker-registry"
START_TIMEOUT = 15.0
STOP_TIMEOUT = 5.0


class RegistryError(RuntimeError):
    """A registry could not be started."""


@dataclass
class Registry:
    """A running registry. `url` is scheme://host; pass `verify` as requests' per-request verify=."""

    name: str
    host: str
    scheme: str
    url: str
    ca_cert: Optional[str]
    users: dict[str, str]
    log_path: str
    flavour: str = "open"
    auth: str = "none"
    debug_url: str = ""
    config_path: str = ""
    root_dir: str = ""
    pid: int = 0
    process: Optional[subprocess.Popen[bytes]] = field(default=None, repr=False, compare=False)

    @property
    def verify(self) -> Union[str, bool]:
        return self.ca_cert if self.ca_cert else True

    @property
    def admin_user(self) -> Optional[str]:
        """The user with push rights: `admin` on token registries, the only htpasswd user on basic ones."""
        if "admin" in self.users:
            return "admin"
        return next(iter(self.users), None)

    @property
    def admin_password(self) -> Optional[str]:
        user = self.admin_user
        return self.users[user] if user else None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields (everything but the process handle)."""
        data = {item.name: getattr(self, item.name) for item in fields(self) if item.name != "process"}
        data["users"] = dict(self.users)
        return data

    def metrics(self) -> str:
        """Prometheus text from the debug listener (counts requests per handler/method/code)."""
        connection = http.client.HTTPConnection(self.debug_url.split("://", 1)[1], timeout=5)
        try:
            connection.request("GET", "/metrics")
            return connection.getresponse().read().decode("utf-8")
        finally:
            connection.close()

    def request_count(self, method: Optional[str] = None) -> int:
        """Requests this registry answered so far (from /metrics), optionally for one HTTP method."""
        total = 0.0
        for line in self.metrics().splitlines():
            if not line.startswith("registry_http_requests_total{"):
                continue
            if method and f'method="{method.lower()}"' not in line.lower():
                continue
            total += float(line.rsplit(" ", 1)[1])
        return int(total)

    def stop(self) -> None:
        stop_processes([self])


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def write_htpasswd(path: str, users: dict[str, str]) -> None:
    """bcrypt at the minimum cost: the registry checks the hash on every request, so cost 10 would add ~60 ms each."""
    with open(path, "w", encoding="utf-8") as handle:
        for user, password in users.items():
            hashed = bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt(rounds=4)).decode("ascii")
            handle.write(f"{user}:{hashed}\n")


def registry_config(name: str, directory: str, port: int, debug_port: int, *, tls: Optional[CertPaths] = None,
                    htpasswd_path: Optional[str] = None, token_server: Optional[TokenServer] = None,
                    delete_enabled: bool = True) -> dict[str, Any]:
    http_section: dict[str, Any] = {
        "addr": f"127.0.0.1:{port}",
        "secret": secrets.token_hex(16),
        "debug": {"addr": f"127.0.0.1:{debug_port}", "prometheus": {"enabled": True, "path": "/metrics"}},
        "headers": {"X-Content-Type-Options": ["nosniff"]},
    }
    if tls is not None:
        http_section["tls"] = {"certificate": tls.server_cert, "key": tls.server_key}
    config: dict[str, Any] = {
        "version": "0.1",
        "log": {"level": "warn", "formatter": "text", "fields": {"registry": name}},
        "storage": {
            "filesystem": {"rootdirectory": os.path.join(directory, "data")},
            "delete": {"enabled": delete_enabled},
            "maintenance": {"uploadpurging": {"enabled": False}},
        },
        "http": http_section,
        "health": {"storagedriver": {"enabled": False}},
    }
    if htpasswd_path is not None:
        config["auth"] = {"htpasswd": {"realm": f"oci-test-{name}", "path": htpasswd_path}}
    elif token_server is not None:
        config["auth"] = {"token": {
            "realm": token_server.realm, "service": token_server.service, "issuer": token_server.issuer,
            "rootcertbundle": token_server.cert_path,
        }}
    return config


def _command(config_path: str, die_with_parent: bool) -> list[str]:
    binary = shutil.which(REGISTRY_BINARY) or f"/usr/bin/{REGISTRY_BINARY}"
    command = [binary, "serve", config_path]
    setpriv = shutil.which("setpriv")
    if die_with_parent and setpriv:
        # The registry gets SIGTERM if the thread that started it dies, so a killed test run leaves nothing behind.
        command = [setpriv, "--pdeathsig", "TERM", "--"] + command
    return command


def launch(name: str, flavour: str, base_dir: str, *, certs: Optional[CertPaths] = None,
           token_server: Optional[TokenServer] = None, users: Optional[dict[str, str]] = None,
           detached: bool = False, delete_enabled: bool = True) -> Registry:
    """Write the config and start the process without waiting for it (see wait_ready).

    delete_enabled: false starts it with storage.delete.enabled off, so every manifest DELETE gets 405 UNSUPPORTED.
    """
    if flavour not in FLAVOURS:
        raise ValueError(f"unknown flavour {flavour!r}, expected one of {FLAVOURS}")
    directory = os.path.join(base_dir, name)
    os.makedirs(directory, exist_ok=True)
    port, debug_port = free_port(), free_port()
    tls: Optional[CertPaths] = None
    htpasswd_path: Optional[str] = None
    token: Optional[TokenServer] = None
    registry_users: dict[str, str] = {}
    if flavour == "basic_tls":
        if certs is None:
            raise ValueError("basic_tls needs certs")
        tls = certs
        registry_users = dict(users) if users else {"alice": make_password()}
        htpasswd_path = os.path.join(directory, "htpasswd")
        write_htpasswd(htpasswd_path, registry_users)
    elif flavour == "token":
        if token_server is None:
            raise ValueError("token needs a token_server")
        token = token_server
        registry_users = token_server.users
    config = registry_config(name, directory, port, debug_port, tls=tls, htpasswd_path=htpasswd_path, token_server=token,
                             delete_enabled=delete_enabled)
    config_path = os.path.join(directory, "config.yml")
    with open(config_path, "w", encoding="utf-8") as handle:
        json.dump(config, handle, indent=2)  # JSON is valid YAML
    log_path = os.path.join(directory, "registry.log")
    scheme = "https" if tls else "http"
    host = f"127.0.0.1:{port}"
    with open(log_path, "ab") as log:
        process = subprocess.Popen(_command(config_path, not detached), stdin=subprocess.DEVNULL, stdout=log,
                                   stderr=subprocess.STDOUT, cwd=directory, start_new_session=detached)
    return Registry(name=name, host=host, scheme=scheme, url=f"{scheme}://{host}", ca_cert=tls.ca_cert if tls else None,
                    users=registry_users, log_path=log_path, flavour=flavour, auth=AUTH_OF_FLAVOUR[flavour],
                    debug_url=f"http://127.0.0.1:{debug_port}", config_path=config_path, root_dir=directory, pid=process.pid,
                    process=process)


def _answers(registry: Registry) -> bool:
    host, port = registry.host.rsplit(":", 1)
    connection: http.client.HTTPConnection
    if registry.scheme == "https":
        context = ssl.create_default_context(cafile=registry.ca_cert)
        connection = http.client.HTTPSConnection(host, int(port), timeout=2, context=context)
    else:
        connection = http.client.HTTPConnection(host, int(port), timeout=2)
    try:
        connection.request("GET", "/v2/")
        return connection.getresponse().status in (200, 401)
    except OSError:
        return False
    finally:
        connection.close()


def log_tail(registry: Registry, lines: int = 20) -> str:
    try:
        with open(registry.log_path, encoding="utf-8", errors="replace") as handle:
            return "".join(handle.readlines()[-lines:])
    except OSError:
        return ""


def wait_ready(registries: list[Registry], timeout: float = START_TIMEOUT) -> None:
    """Poll GET /v2/ on each registry until it answers 200 or 401; raise if a process exits or time runs out."""
    deadline = time.monotonic() + timeout
    pending = list(registries)
    while pending:
        for registry in list(pending):
            if registry.process is not None and registry.process.poll() is not None:
                raise RegistryError(f"registry {registry.name} exited with {registry.process.returncode}:\n{log_tail(registry)}")
            if _answers(registry):
                pending.remove(registry)
        if pending:
            if time.monotonic() > deadline:
                raise RegistryError(f"registries not ready after {timeout}s: {[r.name for r in pending]}")
            time.sleep(0.01)


def start_registry(name: str, flavour: str, base_dir: str, *, certs: Optional[CertPaths] = None,
                   token_server: Optional[TokenServer] = None, users: Optional[dict[str, str]] = None,
                   detached: bool = False, attempts: int = 3) -> Registry:
    """Start one registry and wait until it answers (retrying with new ports if one was taken meanwhile)."""
    for attempt in range(attempts):
        registry = launch(name, flavour, base_dir, certs=certs, token_server=token_server, users=users, detached=detached)
        try:
            wait_ready([registry])
            return registry
        except RegistryError:
            stop_processes([registry])
            if attempt == attempts - 1 or "address already in use" not in log_tail(registry):
                raise
    raise RegistryError("unreachable")


def stop_processes(registries: list[Registry], timeout: float = STOP_TIMEOUT) -> None:
    """SIGTERM every process we started, wait, then SIGKILL stragglers."""
    running = [r.process for r in registries if r.process is not None and r.process.poll() is None]
    for process in running:
        process.terminate()
    deadline = time.monotonic() + timeout
    for process in running:
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def pid_matches(pid: int, marker: str) -> bool:
    """True when pid is alive and its command line contains marker (guards against pid reuse)."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            cmdline = handle.read().replace(b"\0", b" ").decode("utf-8", "replace")
    except OSError:
        return False
    return marker in cmdline


def stop_pid(pid: int, marker: str, timeout: float = STOP_TIMEOUT) -> bool:
    """Stop a detached process we started earlier, only if its command line still contains marker."""
    if not pid_matches(pid, marker):
        return False
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while pid_matches(pid, marker):
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            break
        time.sleep(0.02)
    return True


class Harness:
    """Certificates, a token server and one registry per flavour, all under one temporary directory.

    with Harness() as harness:          # start() on enter, stop() on exit
        harness.open.url, harness.basic_tls.users["alice"], harness.token_server.users["admin"]
        digests = harness.seed()        # seed_all() on every registry
    """

    def __init__(self, base_dir: Optional[str] = None, *, flavours: tuple[str, ...] = FLAVOURS,
                 token_expires_in: int = 300, die_with_parent: bool = True, keep_dir: bool = False) -> None:
        self._own_dir = base_dir is None
        self.base_dir = base_dir or ""
        self.flavours = flavours
        self.token_expires_in = token_expires_in
        self.die_with_parent = die_with_parent
        self.keep_dir = keep_dir
        self.registries: dict[str, Registry] = {}
        self.token_server: Optional[TokenServer] = None
        self.certs: Optional[CertPaths] = None
        self.seeded: dict[str, dict[str, Any]] = {}
        self.timings: dict[str, float] = {}

    def start(self) -> dict[str, Registry]:
        started = time.monotonic()
        if self._own_dir:
            self.base_dir = tempfile.mkdtemp(prefix="oci-harness-")
        try:
            self.certs = make_certs(os.path.join(self.base_dir, "certs"))
            if "token" in self.flavours:
                self.token_server = TokenServer(os.path.join(self.base_dir, "token"), expires_in=self.token_expires_in)
                self.token_server.start()
            launched = [self._launch(flavour, flavour) for flavour in self.flavours]
            wait_ready(launched)
        except BaseException:
            self.stop()
            raise
        self.timings["start"] = time.monotonic() - started
        return self.registries

    def _launch(self, name: str, flavour: str, delete_enabled: bool = True) -> Registry:
        registry = launch(name, flavour, self.base_dir, certs=self.certs, token_server=self.token_server,
                          detached=not self.die_with_parent, delete_enabled=delete_enabled)
        self.registries[name] = registry
        return registry

    def add_registry(self, name: str, flavour: str = "open", delete_enabled: bool = True) -> Registry:
        """Start one more registry (say, a scratch one a test may wreck) that stop() will also end.

        delete_enabled=False: a registry whose storage.delete.enabled is off (manifest DELETE -> 405 UNSUPPORTED).
        """
        if name in self.registries:
            raise ValueError(f"registry {name!r} already exists")
        if flavour == "token" and self.token_server is None:
            self.token_server = TokenServer(os.path.join(self.base_dir, "token"), expires_in=self.token_expires_in)
            self.token_server.start()
        registry = self._launch(name, flavour, delete_enabled)
        wait_ready([registry])
        return registry

    def seed(self) -> dict[str, dict[str, Any]]:
        """seed_all() every registry (in parallel) with its admin user; returns {registry name: digests}."""
        started = time.monotonic()
        self.seeded.update(seed_registries(list(self.registries.values())))
        self.timings["seed"] = time.monotonic() - started
        return self.seeded

    def stop(self) -> None:
        stop_processes(list(self.registries.values()))
        if self.token_server is not None:
            self.token_server.stop()
        if self._own_dir and not self.keep_dir and self.base_dir:
            shutil.rmtree(self.base_dir, ignore_errors=True)

    def __getitem__(self, name: str) -> Registry:
        return self.registries[name]

    @property
    def open(self) -> Registry:
        return self.registries["open"]

    @property
    def basic_tls(self) -> Registry:
        return self.registries["basic_tls"]

    @property
    def token(self) -> Registry:
        return self.registries["token"]

    def __enter__(self) -> Harness:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
