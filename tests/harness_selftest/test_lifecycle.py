"""Starting and stopping: nothing of ours may outlive stop() or `down`."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from typing import Any

import requests
from google.auth.transport import requests as google_requests
from google.oauth2 import service_account as google_service_account

from harness import ACCEPT, Harness

TESTS_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def running(pid: int) -> bool:
    """Alive and not a zombie."""
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8") as handle:
            state = handle.read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def test_stop_leaves_nothing_running() -> None:
    harness = Harness()
    harness.start()
    extra = harness.add_registry("extra", "token")
    assert extra.users is harness.token.users and extra.url != harness.token.url
    pids = [registry.pid for registry in harness.registries.values()]
    assert len(pids) == 4
    base_dir = harness.base_dir
    assert harness.token_server is not None
    token_port = harness.token_server.port
    assert all(running(pid) for pid in pids) and listening(token_port)
    with open(f"/proc/{pids[0]}/cmdline", "rb") as handle:
        assert b"docker-registry" in handle.read()
    harness.stop()
    assert not any(running(pid) for pid in pids)
    assert not listening(token_port)
    assert not os.path.exists(base_dir)


def test_context_manager_stops_on_error() -> None:
    pids = []
    try:
        with Harness(flavours=("open",)) as harness:
            pids = [harness.open.pid]
            raise KeyError("boom")
    except KeyError:
        pass
    assert pids and not running(pids[0])


def test_cli_up_survives_exit_and_down_stops_it(tmp_path: object) -> None:
    directory = str(tmp_path)
    env = dict(os.environ, PYTHONPATH=TESTS_DIR)
    up = subprocess.run([sys.executable, "-m", "harness", "up", "--dir", directory, "--flavour", "open", "--flavour", "token"],
                        env=env, capture_output=True, text=True, timeout=60, check=False)
    state: dict[str, Any] = {}
    try:
        assert up.returncode == 0, up.stderr
        state = json.loads(up.stdout)
        with open(os.path.join(directory, "state.json"), encoding="utf-8") as handle:
            assert json.load(handle) == state
        assert [process["name"] for process in state["processes"]] == ["token-server", "open", "token"]
        assert all(running(process["pid"]) for process in state["processes"])  # the CLI has exited, they have not
        registry = state["registries"]["open"]
        entry = state["seeded"]["open"]["oci_index"]
        response = requests.get(f"{registry['url']}/v2/{entry['repository']}/manifests/v1", headers={"Accept": ACCEPT}, timeout=10)
        assert response.headers["Docker-Content-Digest"] == entry["digest"]
        token_server = state["token_server"]
        token = requests.get(token_server["realm"], params={"service": token_server["service"], "scope": "repository:public/hello:pull"},
                             timeout=10).json()["token"]
        public = requests.get(f"{state['registries']['token']['url']}/v2/public/hello/manifests/v1",
                              headers={"Accept": ACCEPT, "Authorization": f"Bearer {token}"}, timeout=10)
        assert public.headers["Docker-Content-Digest"] == state["seeded"]["token"]["public_image"]["digest"]
        # The detached server answers as Google's token endpoint with the key the CLI wrote before starting it,
        # and takes the access token it gave out as oauth2accesstoken's password.
        credentials = google_service_account.Credentials.from_service_account_file(
            token_server["google_credentials"], scopes=["https://www.googleapis.com/auth/cloud-platform"])
        credentials.refresh(google_requests.Request())
        private = requests.get(token_server["realm"], auth=("oauth2accesstoken", credentials.token), timeout=10,
                               params={"service": token_server["service"], "scope": "repository:test/oci-image:pull"})
        assert private.status_code == 200, private.text
        assert requests.get(token_server["realm"], auth=("oauth2accesstoken", "ya29.made-up"), timeout=10,
                            params={"service": token_server["service"]}).status_code == 401
    finally:
        down = subprocess.run([sys.executable, "-m", "harness", "down", "--dir", directory], env=env, capture_output=True,
                              text=True, timeout=60, check=False)
    assert down.returncode == 0, down.stderr
    assert sorted(json.loads(down.stdout)["stopped"]) == sorted(f"{p['name']}:{p['pid']}" for p in state["processes"])
    assert not any(running(process["pid"]) for process in state["processes"])
