# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A local HTTP server on 127.0.0.1 replaying a vendor API's documented JSON answers (Docker Hub, Google),
for the few shapes no local registry produces. Tests point the client at it through VendorEndpoints."""

from __future__ import annotations

import contextlib
import json
import threading
import typing as t
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class JsonReplay(BaseHTTPRequestHandler):
    """Subclasses implement ``answer(path) -> (status, body)``; every request path is recorded in ``requests``."""

    requests: t.List[str] = []

    def answer(self, path: str) -> t.Tuple[int, t.Any]:
        raise NotImplementedError

    def do_GET(self) -> None:  # noqa: N802  pylint: disable=invalid-name
        self.requests.append(self.path)
        status, data = self.answer(self.path)
        body = json.dumps(data).encode()
        self.send_response(status)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: t.Any) -> None:  # pylint: disable=arguments-differ
        pass


@contextlib.contextmanager
def serve(handler: t.Type[JsonReplay]) -> t.Iterator[str]:
    """Run ``handler`` on a free port; yields ``127.0.0.1:PORT``. Its request list starts empty."""
    handler.requests = []
    server = ThreadingHTTPServer(('127.0.0.1', 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield '127.0.0.1:%d' % server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
