"""A small Docker token-auth server (GET /token and OAuth2 POST /token) for distribution's auth.token.

It also stands in for Google's OAuth2 token endpoint (POST /google/token), so the real google-auth library can be
run without a network: google_credentials() writes a service-account key file whose token_uri points here. The JWT
assertion google-auth signs with that key is verified, and the access token it gets back is accepted from then on
as the password of user `oauth2accesstoken` (pull rights), which is how Artifact Registry and GCR take it."""
from __future__ import annotations

import base64
import binascii
import datetime
import hashlib
import hmac
import json
import os
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, NamedTuple, Optional, Set, cast
from urllib.parse import parse_qs, urlsplit

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from .certs import load_rsa_key, make_signing_key, rsa_key_at

DEFAULT_SERVICE = "oci-test-registry"
DEFAULT_ISSUER = "oci-test-token-issuer"
DEFAULT_EXPIRES_IN = 300
GOOGLE_USER = "oauth2accesstoken"
GOOGLE_SCOPE = "https://www.googleapis.com/auth/cloud-platform"
GOOGLE_JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
GOOGLE_CLIENT_EMAIL = "registry-reader@oci-test.iam.gserviceaccount.com"

Policy = Callable[[Optional[str], str, str], Set[str]]


class TokenRequest(NamedTuple):
    """One request the token server answered; user is the authenticated user (None: anonymous or refused)."""

    method: str
    path: str
    user: Optional[str]


def make_password(length: int = 12) -> str:
    """A random password that always carries characters which need care in URLs, shells and logs."""
    return secrets.token_urlsafe(length)[:length] + "!@#%"


def default_policy(user: Optional[str], resource_type: str, name: str) -> set[str]:
    """admin: everything; reader and Google's oauth2accesstoken: pull everywhere; anonymous: pull on public/*."""
    if resource_type == "repository":
        if user == "admin":
            return {"pull", "push", "delete", "*"}
        if user in ("reader", GOOGLE_USER):
            return {"pull"}
        if user is None and name.startswith("public/"):
            return {"pull"}
        return set()
    if resource_type == "registry" and name == "catalog" and user == "admin":
        return {"*"}
    return set()


def parse_scope(scope: str) -> Optional[tuple[str, str, list[str]]]:
    """Split `type[(class)]:name:action,action` (the name may itself hold colons)."""
    parts = scope.split(":", 1)
    if len(parts) != 2 or ":" not in parts[1]:
        return None
    resource_type = parts[0].split("(", 1)[0]
    name, actions = parts[1].rsplit(":", 1)
    if not resource_type or not name:
        return None
    return resource_type, name, [action for action in actions.split(",") if action]


def libtrust_key_id(public_key: rsa.RSAPublicKey) -> str:
    """The `kid` distribution derives from a key: base32 of the first 240 bits of sha256(SPKI DER), grouped by 4."""
    der = public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    encoded = base64.b32encode(hashlib.sha256(der).digest()[:30]).decode("ascii").rstrip("=")
    return ":".join(encoded[i:i + 4] for i in range(0, len(encoded), 4))


def _rfc3339(timestamp: float) -> str:
    return datetime.datetime.fromtimestamp(timestamp, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class TokenError(Exception):
    """An error answer: HTTP status, OAuth2 error code and message."""

    def __init__(self, status: int, error: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.error = error
        self.message = message

    def body(self) -> dict[str, Any]:
        code = "UNAUTHORIZED" if self.status == 401 else "DENIED" if self.status == 403 else "INVALID_REQUEST"
        return {"errors": [{"code": code, "message": self.message}], "error": self.error, "error_description": self.message}


class TokenServer:
    """Issues RS256 registry tokens. Run it in a thread with start()/stop(), or in the foreground with serve_forever().

    The signing key and its certificate live in `directory` (created, or reused when already there);
    `cert_path` is what the registry needs as `auth.token.rootcertbundle`.
    Attributes expires_in, header_mode ("kid" or "x5c"), allow_post, require_client_id and claim_overrides may be
    changed while running. distribution allows 60 s of clock leeway on exp/nbf, so a token that must be refused at once
    needs claim_overrides={"exp": int(time.time()) - 120}; it also refuses a list `aud`, a wrong `iss` and a missing kid.
    """

    def __init__(self, directory: str, *, service: str = DEFAULT_SERVICE, issuer: str = DEFAULT_ISSUER,
                 users: Optional[dict[str, str]] = None, expires_in: int = DEFAULT_EXPIRES_IN, host: str = "127.0.0.1",
                 port: int = 0, policy: Policy = default_policy, header_mode: str = "kid", allow_post: bool = True,
                 require_client_id: bool = True) -> None:
        self.directory = directory
        self.service = service
        self.issuer = issuer
        self.users: dict[str, str] = dict(users) if users is not None else {"admin": make_password(), "reader": make_password()}
        self.expires_in = expires_in
        self.host = host
        self.port = port
        self.policy = policy
        self.header_mode = header_mode
        self.allow_post = allow_post
        self.require_client_id = require_client_id
        self.claim_overrides: dict[str, Any] = {}
        self.requests: list[TokenRequest] = []
        self.grants: list[dict[str, Any]] = []
        self._refresh_tokens: dict[str, str] = {}
        self.google_grants: list[str] = []  # the access tokens issued for Google service-account assertions
        self._google_signing_key: Optional[rsa.RSAPrivateKey] = None
        self._lock = threading.Lock()
        self._httpd: Optional[ThreadingHTTPServer] = None
        self._thread: Optional[threading.Thread] = None
        self.key_path = os.path.join(directory, "token-signer.key")
        self.cert_path = os.path.join(directory, "token-signer.crt")
        if os.path.exists(self.key_path) and os.path.exists(self.cert_path):
            self._key = load_rsa_key(self.key_path)
        else:
            self._key, self.key_path, self.cert_path = make_signing_key(directory)
        with open(self.cert_path, "rb") as handle:
            cert = x509.load_pem_x509_certificate(handle.read())
        self._x5c = [base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode("ascii")]
        self.key_id = libtrust_key_id(self._key.public_key())

    # -- addresses -----------------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def realm(self) -> str:
        return f"{self.url}/token"

    # -- lifecycle -----------------------------------------------------------------------------------------
    def _bind(self) -> ThreadingHTTPServer:
        httpd = _HTTPServer((self.host, self.port), _Handler)
        httpd.token_server = self
        self.port = httpd.server_address[1]
        self._httpd = httpd
        return httpd

    def start(self) -> int:
        """Serve in a daemon thread; returns the port."""
        httpd = self._bind()
        self._thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="oci-test-token-server", daemon=True)
        self._thread.start()
        return self.port

    def serve_forever(self) -> None:
        """Serve in the calling thread until interrupted or stop() is called from elsewhere."""
        httpd = self._bind()
        try:
            httpd.serve_forever(poll_interval=0.2)
        finally:
            httpd.server_close()

    def stop(self) -> None:
        """Stop serving (also ends serve_forever() when called from another thread)."""
        httpd, thread = self._httpd, self._thread
        self._httpd = self._thread = None
        if httpd is not None:
            httpd.shutdown()
            if thread is not None:
                httpd.server_close()
                thread.join(timeout=5)

    def __enter__(self) -> TokenServer:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- bookkeeping ---------------------------------------------------------------------------------------
    @property
    def request_count(self) -> int:
        with self._lock:
            return len(self.requests)

    def reset(self) -> None:
        """Forget recorded requests and grants (refresh tokens stay valid)."""
        with self._lock:
            self.requests.clear()
            self.grants.clear()

    def record(self, method: str, path: str, user: Optional[str]) -> None:
        with self._lock:
            self.requests.append(TokenRequest(method, path, user))

    # -- token logic ---------------------------------------------------------------------------------------
    def authenticate(self, username: str, password: str) -> str:
        if username == GOOGLE_USER:
            with self._lock:
                if password in self.google_grants:
                    return username
        expected = self.users.get(username)
        if expected is None or not hmac.compare_digest(expected.encode("utf-8"), password.encode("utf-8")):
            raise TokenError(401, "invalid_grant", "incorrect username or password")
        return username

    def grant(self, user: Optional[str], scopes: list[str]) -> list[dict[str, Any]]:
        """The intersection of asked and allowed actions, merged per resource; refused resources are left out."""
        granted: dict[tuple[str, str], list[str]] = {}
        for scope in scopes:
            parsed = parse_scope(scope)
            if parsed is None:
                raise TokenError(400, "invalid_scope", f"malformed scope {scope!r}")
            resource_type, name, actions = parsed
            allowed = self.policy(user, resource_type, name)
            for action in actions:
                if action in allowed and action not in granted.setdefault((resource_type, name), []):
                    granted[(resource_type, name)].append(action)
        return [{"type": rtype, "name": name, "actions": actions} for (rtype, name), actions in granted.items() if actions]

    def check_service(self, service: Optional[str]) -> None:
        if service and service != self.service:
            raise TokenError(400, "invalid_request", f"unknown service {service!r}")

    def issue(self, user: Optional[str], scopes: list[str], grant_type: str, offline: bool) -> dict[str, Any]:
        access = self.grant(user, scopes)
        now = int(time.time())
        claims = {
            "iss": self.issuer, "sub": user or "", "aud": self.service, "exp": now + self.expires_in, "nbf": now,
            "iat": now, "jti": secrets.token_hex(16), "access": access,
        }
        claims.update(self.claim_overrides)
        headers: dict[str, Any] = {"typ": "JWT"}
        if self.header_mode == "x5c":
            headers["x5c"] = self._x5c
        else:
            headers["kid"] = self.key_id
        token = jwt.encode(claims, self._key, algorithm="RS256", headers=headers)
        answer: dict[str, Any] = {"token": token, "access_token": token, "expires_in": self.expires_in, "issued_at": _rfc3339(now)}
        if offline and user is not None:
            answer["refresh_token"] = self._refresh_token_for(user)
        with self._lock:
            self.grants.append({"user": user, "grant_type": grant_type, "scopes": list(scopes), "access": access})
        return answer

    def _refresh_token_for(self, user: str) -> str:
        refresh_token = secrets.token_urlsafe(24)
        with self._lock:
            self._refresh_tokens[refresh_token] = user
        return refresh_token

    def user_for_refresh_token(self, refresh_token: str) -> str:
        with self._lock:
            user = self._refresh_tokens.get(refresh_token)
        if user is None or user not in self.users:
            raise TokenError(401, "invalid_grant", "unknown or revoked refresh token")
        return user

    # -- Google's OAuth2 token endpoint -------------------------------------------------------------------
    @property
    def google_credentials_path(self) -> str:
        return os.path.join(self.directory, "google-service-account.json")

    @property
    def google_token_uri(self) -> str:
        return f"{self.url}/google/token"

    def _google_key(self) -> rsa.RSAPrivateKey:
        """The service account's key, made once and kept in the directory (a detached server reads the same one)."""
        with self._lock:
            if self._google_signing_key is None:
                self._google_signing_key = rsa_key_at(os.path.join(self.directory, "google-service-account.key"))
            return self._google_signing_key

    def google_credentials(self, path: Optional[str] = None) -> str:
        """Write a service-account key file (what GOOGLE_APPLICATION_CREDENTIALS names) whose token_uri is this server."""
        key = self._google_key()
        info = {
            "type": "service_account", "project_id": "oci-test", "private_key_id": "oci-test-key-1",
            "private_key": key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                             serialization.NoEncryption()).decode("ascii"),
            "client_email": GOOGLE_CLIENT_EMAIL, "client_id": "100000000000000000001", "token_uri": self.google_token_uri,
        }
        path = path or self.google_credentials_path
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(info, handle)
        return path

    def handle_google(self, form: dict[str, list[str]]) -> tuple[Optional[str], dict[str, Any]]:
        """A JWT-bearer grant: the assertion must be signed by the service account's key, name it as issuer, ask for
        the cloud-platform scope and not have expired; the answer is an access token valid for an hour."""
        if _first(form, "grant_type") != GOOGLE_JWT_GRANT:
            raise TokenError(400, "unsupported_grant_type", "only the JWT bearer grant is supported")
        assertion = _first(form, "assertion") or ""
        try:
            claims = jwt.decode(assertion, self._google_key().public_key(), algorithms=["RS256"], options={"verify_aud": False})
        except jwt.PyJWTError as exc:
            raise TokenError(400, "invalid_grant", f"invalid JWT signature or claims: {exc}") from exc
        if claims.get("iss") != GOOGLE_CLIENT_EMAIL or GOOGLE_SCOPE not in str(claims.get("scope", "")).split():
            raise TokenError(400, "invalid_scope", "the assertion must come from the service account and ask for cloud-platform")
        access_token = "ya29." + secrets.token_urlsafe(32)
        with self._lock:
            self.google_grants.append(access_token)
        return GOOGLE_USER, {"access_token": access_token, "expires_in": 3599, "token_type": "Bearer"}

    def handle_get(self, query: dict[str, list[str]], authorization: Optional[str]) -> tuple[Optional[str], dict[str, Any]]:
        user: Optional[str] = None
        if authorization and authorization[:6].lower() == "basic ":
            try:
                decoded = base64.b64decode(authorization[6:].strip(), validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError) as exc:
                raise TokenError(401, "invalid_request", "malformed Basic credentials") from exc
            username, sep, password = decoded.partition(":")
            if not sep:
                raise TokenError(401, "invalid_request", "malformed Basic credentials")
            user = self.authenticate(username, password)
        self.check_service(_first(query, "service"))
        offline = (_first(query, "offline_token") or "").lower() == "true"
        return user, self.issue(user, query.get("scope", []), "get", offline)

    def handle_post(self, form: dict[str, list[str]]) -> tuple[Optional[str], dict[str, Any]]:
        grant_type = _first(form, "grant_type")
        if self.require_client_id and not _first(form, "client_id"):
            raise TokenError(400, "invalid_request", "client_id is required")
        self.check_service(_first(form, "service"))
        scopes = " ".join(form.get("scope", [])).split()
        if grant_type == "password":
            username = _first(form, "username")
            password = _first(form, "password")
            if username is None or password is None:
                raise TokenError(400, "invalid_request", "username and password are required")
            user = self.authenticate(username, password)
            offline = _first(form, "access_type") == "offline"
            return user, self.issue(user, scopes, "password", offline)
        if grant_type == "refresh_token":
            refresh_token = _first(form, "refresh_token")
            if not refresh_token:
                raise TokenError(400, "invalid_request", "refresh_token is required")
            user = self.user_for_refresh_token(refresh_token)
            answer = self.issue(user, scopes, "refresh_token", False)
            answer["refresh_token"] = refresh_token
            return user, answer
        raise TokenError(400, "unsupported_grant_type", f"unsupported grant_type {grant_type!r}")


def _first(values: dict[str, list[str]], key: str) -> Optional[str]:
    found = values.get(key)
    return found[0] if found else None


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    token_server: TokenServer


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server_version = "oci-test-token-server"

    @property
    def _token_server(self) -> TokenServer:
        return cast(_HTTPServer, self.server).token_server

    def log_message(self, format: str, *args: Any) -> None:  # pylint: disable=redefined-builtin
        """Silence the default stderr access log."""

    def _send_json(self, status: int, body: dict[str, Any], extra_headers: Optional[dict[str, str]] = None) -> None:
        payload = json.dumps(body).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("Cache-Control", "no-store")
        for name, value in (extra_headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    def _answer(self, method: str, handler: Callable[[], tuple[Optional[str], dict[str, Any]]]) -> None:
        server = self._token_server
        try:
            user, body = handler()
        except TokenError as exc:
            server.record(method, self.path, None)
            extra = {"WWW-Authenticate": f'Basic realm="{server.realm}"'} if exc.status == 401 else None
            self._send_json(exc.status, exc.body(), extra)
            return
        server.record(method, self.path, user)
        self._send_json(200, body)

    def _not_found(self, method: str) -> None:
        self._token_server.record(method, self.path, None)
        self._send_json(404, {"errors": [{"code": "NOT_FOUND", "message": "not found"}]})

    def do_GET(self) -> None:  # pylint: disable=invalid-name
        split = urlsplit(self.path)
        if split.path != "/token":
            self._not_found("GET")
            return
        query = parse_qs(split.query, keep_blank_values=True)
        self._answer("GET", lambda: self._token_server.handle_get(query, self.headers.get("Authorization")))

    def do_POST(self) -> None:  # pylint: disable=invalid-name
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length > 0 else b""
        path = urlsplit(self.path).path
        form = parse_qs(raw.decode("utf-8", "replace"), keep_blank_values=True)
        if path == "/google/token":
            self._answer("POST", lambda: self._token_server.handle_google(form))
            return
        if path != "/token" or not self._token_server.allow_post:
            self._not_found("POST")
            return
        self._answer("POST", lambda: self._token_server.handle_post(form))
