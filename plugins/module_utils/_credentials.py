# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# This is a private module_utils file of oci.registry: do not use it from other collections.
"""Credential sources: each a small class whose ``credentials(registry, repository)`` returns Credentials or None.

``auth_method: auto`` asks them in order (options, docker config, podman auth file, Google)
and takes the first answer; anonymous access is what remains when none answers.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import subprocess
import typing as t
from dataclasses import dataclass

from ._errors import AuthenticationError, InvalidInputError, register_secret
from ._vendors import auth_keys, is_google

if t.TYPE_CHECKING:
    from ._transport import ConnectionOptions

AUTH_METHODS = ('auto', 'none', 'password', 'docker_config', 'google')
GOOGLE_SCOPE = 'https://www.googleapis.com/auth/cloud-platform'
HELPER_TIMEOUT = 30
# What ``docker-credential-*`` helpers put in Username when Secret is an identity token.
IDENTITY_TOKEN_USER = '<token>'


@dataclass(frozen=True)
class Credentials:
    username: t.Optional[str] = None
    password: t.Optional[str] = None
    token: t.Optional[str] = None  # a ready bearer token (also tried as a refresh token when refused)
    identity_token: t.Optional[str] = None  # an OAuth2 refresh token, e.g. docker config's identitytoken
    source: str = ''

    def __repr__(self) -> str:  # never show secrets, even in a debugger or a traceback
        return 'Credentials(username=%r, source=%r)' % (self.username, self.source)


class OptionsSource:
    """``username``/``password``/``token`` options (and their OCI_REGISTRY_* env fallbacks)."""

    name = 'options'

    def __init__(self, options: 'ConnectionOptions') -> None:
        self.options = options

    def credentials(self, registry: str, repository: t.Optional[str] = None) -> t.Optional[Credentials]:
        opts = self.options
        if opts.username is not None and opts.password is not None:
            return Credentials(opts.username, opts.password, source='the username/password options')
        if opts.token:
            return Credentials(opts.username, token=opts.token, source='the token option')
        if opts.username is not None or opts.password is not None:
            raise InvalidInputError('username and password must be given together (only %s is set)' % (
                'username' if opts.username is not None else 'password'))
        return None


def _json_file(path: str, what: str) -> t.Optional[t.Dict[str, t.Any]]:
    try:
        with open(path, 'rb') as handle:
            data = json.loads(handle.read().decode('utf-8'))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise AuthenticationError('cannot read %s %s: %s' % (what, path, exc), hint='fix or remove the file, or set auth_method')
    if not isinstance(data, dict):
        raise AuthenticationError('%s %s is not a JSON object' % (what, path))
    return data


def parse_auth_key(key: str) -> t.Tuple[str, str]:
    """An ``auths``/``credHelpers`` key as (host, namespace), lower-cased.

    docker's forms (``host``, ``https://host``, ``https://host/v1/``, ``host/v2/``) name the whole
    registry: namespace ``''``. podman's repository-scoped keys (``quay.io/org``,
    ``quay.io/org/app``, containers-auth.json(5)) name a namespace or repository on it.
    """
    key = key.strip().lower()
    if '://' in key:
        return key.split('://', 1)[1].split('/', 1)[0], ''
    host, _sep, path = key.partition('/')
    path = path.strip('/')
    return host, ('' if path in ('v1', 'v2') else path)


def _namespaces(repository: t.Optional[str]) -> t.List[str]:
    """``org/team/app`` -> ``['org/team/app', 'org/team', 'org', '']``: most specific first."""
    parts = repository.lower().split('/') if repository else []
    return ['/'.join(parts[:i]) for i in range(len(parts), -1, -1)]


def matching_keys(mapping: t.Mapping[str, t.Any], registry: str, repository: t.Optional[str] = None) -> t.List[str]:
    """The keys of an auth-file mapping that apply to ``registry`` (and ``repository``), best first.

    The one place that matches keys, for reading and for writing: a repository-scoped key beats a
    namespace key, which beats the registry's own key (``quay.io/org/app``, ``quay.io/org``,
    ``quay.io``); among keys for the same scope, the registry's preferred names come first
    (for Docker Hub ``https://index.docker.io/v1/``, ``docker.io``, ...), an exact spelling first.
    Without ``repository`` only registry-wide keys match.
    """
    aliases = auth_keys(registry)
    hosts = list(dict.fromkeys(parse_auth_key(alias)[0] for alias in aliases))
    parsed = [(key, parse_auth_key(key)) for key, value in mapping.items() if isinstance(value, dict)]
    exact = {alias.lower(): rank for rank, alias in enumerate(aliases)}
    found: t.List[str] = []
    for namespace in _namespaces(repository):
        for host in hosts:
            keys = [key for key, (khost, kpath) in parsed if khost == host and kpath == namespace and key not in found]
            found += sorted(keys, key=lambda k: exact.get(k.lower(), len(exact)))
    return found


def _entry_for(auths: t.Mapping[str, t.Any], registry: str,
               repository: t.Optional[str] = None) -> t.Tuple[t.Optional[str], t.Optional[t.Dict[str, t.Any]]]:
    """The most specific auths entry for a registry (and repository), whatever form its key takes."""
    keys = matching_keys(auths, registry, repository)
    return (keys[0], auths[keys[0]]) if keys else (None, None)


def _from_auth_entry(entry: t.Mapping[str, t.Any], source: str) -> t.Optional[Credentials]:
    if entry.get('identitytoken'):
        return Credentials(entry.get('username'), identity_token=entry['identitytoken'], source=source)
    if entry.get('auth'):
        try:
            decoded = base64.b64decode(entry['auth'], validate=False).decode('utf-8')
        except (binascii.Error, UnicodeDecodeError, ValueError):
            raise AuthenticationError('the "auth" value in %s is not base64 of user:password' % source)
        username, sep, password = decoded.partition(':')
        if not sep:
            raise AuthenticationError('the "auth" value in %s is not base64 of user:password' % source)
        return Credentials(username, password, source=source)
    if entry.get('username') and entry.get('password'):
        return Credentials(entry['username'], entry['password'], source=source)
    return None


def call_credential_helper(helper: str, action: str, payload: str, server: str) -> t.Any:
    """Run ``docker-credential-<helper> <action>`` (get, store, erase) with ``payload`` on stdin."""
    program = 'docker-credential-%s' % helper
    try:
        # Not AnsibleModule.run_command: the lookup runs this too, on the controller, where there is no module.
        return subprocess.run(  # pylint: disable=ansible-bad-function
            [program, action], input=payload.encode('utf-8'), capture_output=True, timeout=HELPER_TIMEOUT, check=False)
    except FileNotFoundError:
        raise AuthenticationError('credential helper %s is configured for %s but is not on PATH' % (program, server),
                                  hint='install it, or set auth_method to another method')
    except subprocess.TimeoutExpired:
        raise AuthenticationError('credential helper %s did not answer within %d seconds' % (program, HELPER_TIMEOUT))


def run_credential_helper(helper: str, server: str) -> t.Optional[Credentials]:
    """``docker-credential-<helper> get`` with the server URL on stdin; None when it has nothing."""
    program = 'docker-credential-%s' % helper
    proc = call_credential_helper(helper, 'get', server, server)
    out = proc.stdout.decode('utf-8', 'replace')
    if proc.returncode != 0:
        if 'credentials not found' in (out + proc.stderr.decode('utf-8', 'replace')).lower():
            return None
        raise AuthenticationError('credential helper %s failed for %s (exit code %d)' % (program, server, proc.returncode))
    try:
        data = json.loads(out)
        username, secret = data.get('Username'), data.get('Secret')
    except (ValueError, AttributeError):
        raise AuthenticationError('credential helper %s returned something that is not JSON' % program)
    if not secret:
        return None
    register_secret(secret)
    source = 'credential helper %s' % program
    if username == IDENTITY_TOKEN_USER:
        return Credentials(identity_token=secret, source=source)
    return Credentials(username, secret, source=source)


class DockerConfigSource:
    """docker's config.json: ``credHelpers``, then ``auths`` entries, then ``credsStore``."""

    name = 'docker_config'

    def __init__(self, location: t.Optional[str] = None) -> None:
        location = location or os.environ.get('DOCKER_CONFIG') or os.path.join(os.path.expanduser('~'), '.docker')
        self.path = os.path.join(location, 'config.json') if os.path.isdir(location) else location

    def credentials(self, registry: str, repository: t.Optional[str] = None) -> t.Optional[Credentials]:
        config = _json_file(self.path, 'docker config')
        if not config:
            return None
        helpers = config.get('credHelpers') or {}
        key, entry = _entry_for({k: {} for k in helpers}, registry, repository)
        if key:
            return run_credential_helper(helpers[key], key)
        key, entry = _entry_for(config.get('auths') or {}, registry, repository)
        if entry:
            found = _from_auth_entry(entry, 'docker config %s' % self.path)
            if found:
                return found
        if config.get('credsStore'):
            return run_credential_helper(config['credsStore'], key or auth_keys(registry)[0])
        return None


class PodmanAuthSource:
    """podman/buildah/skopeo auth files: REGISTRY_AUTH_FILE, then $XDG_RUNTIME_DIR/containers/auth.json."""

    name = 'podman'

    def paths(self) -> t.List[str]:
        paths = []
        if os.environ.get('REGISTRY_AUTH_FILE'):
            paths.append(os.environ['REGISTRY_AUTH_FILE'])
        if os.environ.get('XDG_RUNTIME_DIR'):
            paths.append(os.path.join(os.environ['XDG_RUNTIME_DIR'], 'containers', 'auth.json'))
        paths.append(os.path.join(os.path.expanduser('~'), '.config', 'containers', 'auth.json'))
        return paths

    def credentials(self, registry: str, repository: t.Optional[str] = None) -> t.Optional[Credentials]:
        for path in self.paths():
            data = _json_file(path, 'container auth file')
            if data:
                found = DockerConfigSource(path).credentials(registry, repository)
                if found:
                    return found
        return None


def _import_google_auth() -> t.Any:
    """The google package with google.auth loaded, or None when google-auth is not installed.

    Imported on first use, not with this file: it costs every module run about 150 ms of start-up
    (a third of registry_manifest_info's), and only Google hosts or auth_method google need it.
    """
    try:
        import google.auth  # pylint: disable=import-outside-toplevel
        import google.auth.exceptions  # pylint: disable=import-outside-toplevel
        import google.auth.transport.requests  # pylint: disable=import-outside-toplevel
    except ImportError:
        return None
    return google


class GoogleSource:
    """Google Application Default Credentials for gcr.io / *.gcr.io / *-docker.pkg.dev.

    A service-account key file works through ADC (GOOGLE_APPLICATION_CREDENTIALS) or directly
    as username ``_json_key`` with the key's JSON as password.
    """

    name = 'google'

    def __init__(self, required: bool = False) -> None:
        self.required = required

    def credentials(self, registry: str, repository: t.Optional[str] = None) -> t.Optional[Credentials]:
        if not is_google(registry) and not self.required:
            return None
        google = _import_google_auth()
        if google is None:
            if self.required:
                raise AuthenticationError('auth_method google needs the google-auth Python library, which is not installed',
                                          hint='pip install google-auth on the host that runs the task')
            return None
        try:
            creds, _project = google.auth.default(scopes=[GOOGLE_SCOPE])  # pylint: disable=no-member
            creds.refresh(google.auth.transport.requests.Request())
        except google.auth.exceptions.GoogleAuthError as exc:
            if self.required:
                raise AuthenticationError('Google application default credentials are not usable for %s: %s' % (registry, exc),
                                          hint='run "gcloud auth application-default login" or set GOOGLE_APPLICATION_CREDENTIALS')
            return None
        if not creds.token:
            return None
        register_secret(creds.token)
        return Credentials('oauth2accesstoken', creds.token, source='Google application default credentials')


def credential_sources(options: 'ConnectionOptions') -> t.List[t.Any]:
    """The sources asked, in order, for an auth_method."""
    method = options.auth_method
    if method == 'none':
        return []
    if method == 'password':
        return [OptionsSource(options)]
    if method == 'docker_config':
        return [DockerConfigSource(options.docker_config)]
    if method == 'google':
        return [GoogleSource(required=True)]
    if method == 'auto':
        return [OptionsSource(options), DockerConfigSource(options.docker_config), PodmanAuthSource(), GoogleSource()]
    raise InvalidInputError('auth_method %r is not one of %s' % (method, ', '.join(AUTH_METHODS)))


def find_credentials(registry: str, options: 'ConnectionOptions', repository: t.Optional[str] = None) -> t.Optional[Credentials]:
    """The first credentials any source has for this registry, or None for anonymous access.

    ``repository`` (the repository being accessed, e.g. ``org/app``) lets podman's
    repository-scoped auth-file keys apply; without it only registry-wide keys match.
    """
    for source in credential_sources(options):
        found = source.credentials(registry, repository)
        if found is not None:
            return found
    if options.auth_method == 'password':
        raise InvalidInputError('auth_method password needs username and password, or token')
    return None
