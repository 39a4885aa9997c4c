# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# This is a private module_utils file of oci.registry: do not use it from other collections.
"""docker config.json and podman auth.json files: where they are, how their keys are spelled, reading and writing.

Reading (:func:`file_credentials`) serves the credential sources of ``_credentials.py``;
writing (:class:`AuthFile`, :func:`plan`, :func:`apply`) serves registry_login, and changes
only the entries of one registry, keeping every other key and entry. Both match keys with
:func:`matching_keys`, so a key that is read is the key that is replaced.

Files are replaced atomically (a temporary file in the same directory, then a rename), with
mode 0600, and a missing parent directory is created with mode 0700. When the file configures
a credential helper for the registry (``credHelpers``, or the default ``credsStore``), the
secret goes to ``docker-credential-<name> store`` / ``erase`` as docker does, and the file
keeps no secret for it.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import subprocess
import tempfile
import typing as t

from ansible_collections.oci.registry.plugins.module_utils.model._errors import AuthenticationError, InvalidInputError, RegistryError, register_secret
from ansible_collections.oci.registry.plugins.module_utils.model._vendors import DOCKER_HUB_AUTH_KEYS, VENDOR_ENDPOINTS
from ._connection import Credentials

CONFIG_FILE = 'config.json'
HELPER_TIMEOUT = 30
# What ``docker-credential-*`` helpers put in Username when Secret is an identity token.
IDENTITY_TOKEN_USER = '<token>'


# --- where the files are ----------------------------------------------------------------------

def docker_config_file(location: t.Optional[str]) -> str:
    """The file a ``docker_config`` value names, for reading and for writing alike.

    A directory (one that exists, or a missing path not ending in ``.json``) holds
    ``config.json``, as ``DOCKER_CONFIG`` does for docker; anything else is the file itself.
    Without a value: ``$DOCKER_CONFIG``, else ``~/.docker``.
    """
    location = location or os.environ.get('DOCKER_CONFIG') or os.path.join(os.path.expanduser('~'), '.docker')
    if os.path.isdir(location) or (not os.path.exists(location) and not location.endswith('.json')):
        return os.path.join(location, CONFIG_FILE)
    return location


def podman_auth_files() -> t.List[str]:
    """podman/buildah/skopeo auth files, in the order they read them: REGISTRY_AUTH_FILE, $XDG_RUNTIME_DIR, ~/.config."""
    paths = []
    if os.environ.get('REGISTRY_AUTH_FILE'):
        paths.append(os.environ['REGISTRY_AUTH_FILE'])
    if os.environ.get('XDG_RUNTIME_DIR'):
        paths.append(os.path.join(os.environ['XDG_RUNTIME_DIR'], 'containers', 'auth.json'))
    paths.append(os.path.join(os.path.expanduser('~'), '.config', 'containers', 'auth.json'))
    return paths


def default_auth_file(docker_config: t.Optional[str]) -> t.Tuple[str, str]:
    """The file registry_login uses when ``auth_file`` is not set, and which setting chose it.

    In order: ``$REGISTRY_AUTH_FILE``; the ``docker_config`` option (or ``$DOCKER_CONFIG``);
    ``$XDG_RUNTIME_DIR/containers/auth.json``; ``~/.docker/config.json``.
    """
    if os.environ.get('REGISTRY_AUTH_FILE'):
        return os.environ['REGISTRY_AUTH_FILE'], 'REGISTRY_AUTH_FILE'
    if docker_config:
        return docker_config_file(docker_config), 'docker_config'
    if os.environ.get('XDG_RUNTIME_DIR'):
        return os.path.join(os.environ['XDG_RUNTIME_DIR'], 'containers', 'auth.json'), 'XDG_RUNTIME_DIR'
    return os.path.join(os.path.expanduser('~'), '.docker', CONFIG_FILE), 'default'


# --- how keys are spelled ---------------------------------------------------------------------

def auth_keys(registry: str) -> t.Tuple[str, ...]:
    """The names an auth file may use for this registry, most specific first (Docker Hub has several)."""
    if VENDOR_ENDPOINTS.is_docker_hub(registry):
        return DOCKER_HUB_AUTH_KEYS
    return (registry,)


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


# --- reading ----------------------------------------------------------------------------------

def read_json_file(path: str, what: str) -> t.Optional[t.Dict[str, t.Any]]:
    """A JSON object from ``path``; None when the file does not exist."""
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


def entry_credentials(entry: t.Mapping[str, t.Any], source: str) -> t.Optional[Credentials]:
    """The credentials of one ``auths`` entry: ``identitytoken``, ``auth`` (base64 of user:password) or username/password."""
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


def file_credentials(path: str, registry: str, repository: t.Optional[str] = None, what: str = 'docker config') -> t.Optional[Credentials]:
    """What an auth file holds for a registry: its ``credHelpers`` entry, else its ``auths`` entry, else ``credsStore``."""
    config = read_json_file(path, what)
    if not config:
        return None
    helpers = config.get('credHelpers') or {}
    keys = matching_keys({k: {} for k in helpers}, registry, repository)
    if keys:
        return run_credential_helper(helpers[keys[0]], keys[0])
    auths = config.get('auths') or {}
    keys = matching_keys(auths, registry, repository)
    if keys:
        found = entry_credentials(auths[keys[0]], 'docker config %s' % path)
        if found:
            return found
    if config.get('credsStore'):
        return run_credential_helper(config['credsStore'], keys[0] if keys else auth_keys(registry)[0])
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


# --- writing (registry_login) -----------------------------------------------------------------

def encode_entry(creds: Credentials) -> t.Dict[str, str]:
    """The ``auths`` entry docker and podman write: ``auth`` = base64(user:password), or an ``identitytoken``."""
    if creds.token:
        entry = {'identitytoken': creds.token}
        if creds.username:
            entry['auth'] = base64.b64encode(('%s:' % creds.username).encode('utf-8')).decode('ascii')
        return entry
    return {'auth': base64.b64encode(('%s:%s' % (creds.username, creds.password)).encode('utf-8')).decode('ascii')}


def _same(found: t.Optional[Credentials], creds: Credentials) -> bool:
    if found is None:
        return False
    if creds.token:
        return found.identity_token == creds.token
    return (found.username, found.password) == (creds.username, creds.password) and not found.identity_token


def _decoded(entry: t.Any, source: str) -> t.Optional[Credentials]:
    try:
        return entry_credentials(entry, source) if isinstance(entry, dict) else None
    except AuthenticationError:
        return None  # an unreadable old entry is simply replaced


class AuthFile:
    """One auth file: load it (keeping its key order), change one registry's entries, write it back."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.raw: t.Optional[bytes] = None
        self.data: t.Dict[str, t.Any] = {}

    def load(self) -> 'AuthFile':
        try:
            with open(self.path, 'rb') as handle:
                self.raw = handle.read()
        except (FileNotFoundError, NotADirectoryError):
            return self  # a new file; whether it can be written is found out when it is
        except OSError as exc:
            raise InvalidInputError('cannot read auth file %s: %s' % (self.path, exc.strerror or exc),
                                    hint='give a readable auth_file') from None
        try:
            data = json.loads(self.raw.decode('utf-8')) if self.raw.strip() else {}
        except (ValueError, UnicodeDecodeError) as exc:
            raise InvalidInputError('auth file %s is not valid JSON (%s); it was left untouched' % (self.path, exc),
                                    hint='fix or remove the file, or choose another auth_file') from None
        if not isinstance(data, dict) or not isinstance(data.get('auths', {}), dict):
            raise InvalidInputError('auth file %s is not a docker/podman auth file (a JSON object with an "auths" object); '
                                    'it was left untouched' % self.path, hint='fix or remove the file, or choose another auth_file')
        self.data = data
        return self

    @property
    def auths(self) -> t.Dict[str, t.Any]:
        return self.data.setdefault('auths', {})

    def helper(self, registry: str) -> t.Optional[t.Tuple[str, str, bool]]:
        """(helper name, server key, is credsStore) when a credential helper holds this registry's secret."""
        helpers = self.data.get('credHelpers') or {}
        keys = matching_keys({k: {} for k in helpers if isinstance(helpers[k], str)}, registry)
        if keys:
            return helpers[keys[0]], keys[0], False
        if isinstance(self.data.get('credsStore'), str) and self.data['credsStore']:
            return self.data['credsStore'], auth_keys(registry)[0], True
        return None

    def keys(self, registry: str) -> t.List[str]:
        """The registry-wide keys of ``auths`` for this registry (repository-scoped keys are left alone)."""
        return matching_keys(self.auths, registry)

    def describe(self, registry: str) -> t.Dict[str, str]:
        """The registry's entries for a diff: key -> who is logged in, never a secret."""
        return {key: _who(_decoded(self.auths[key], 'auth file %s' % self.path)) for key in self.keys(registry)}

    def holds(self, registry: str, creds: Credentials) -> bool:
        """Whether every registry-wide entry of the registry already holds exactly these credentials."""
        keys = self.keys(registry)
        return bool(keys) and all(_same(_decoded(self.auths[key], 'auth file %s' % self.path), creds) for key in keys)

    def set_entries(self, registry: str, entry: t.Dict[str, str]) -> bool:
        """Put ``entry`` under every registry-wide key of the registry (the canonical key when none). True when changed."""
        changed = False
        for key in self.keys(registry) or [auth_keys(registry)[0]]:
            if self.auths.get(key) != entry:
                self.auths[key] = dict(entry)
                changed = True
        return changed

    def remove_entries(self, registry: str) -> bool:
        keys = self.keys(registry)
        for key in keys:
            del self.auths[key]
        return bool(keys)

    def write(self) -> None:
        """Atomic replace in the same directory, mode 0600; the parent directory is created 0700 when missing."""
        target = os.path.realpath(self.path)  # a symlinked auth file stays a symlink; its target is updated
        directory = os.path.dirname(target)
        raw = (json.dumps(self.data, indent='\t', ensure_ascii=False) + '\n').encode('utf-8')
        tmp = None
        try:
            if not os.path.isdir(directory):
                os.makedirs(directory, mode=0o700)
                os.chmod(directory, 0o700)
            fd, tmp = tempfile.mkstemp(prefix='.%s.' % os.path.basename(target), suffix='.tmp', dir=directory)
            with os.fdopen(fd, 'wb') as handle:
                handle.write(raw)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(tmp, 0o600)
            os.replace(tmp, target)
            tmp = None
        except OSError as exc:
            raise InvalidInputError('cannot write auth file %s: %s' % (self.path, exc.strerror or exc),
                                    hint='choose an auth_file in a directory the task user can write') from None
        finally:
            if tmp is not None:
                try:
                    os.unlink(tmp)
                except OSError:
                    pass
        self.raw = raw


class Change(t.NamedTuple):
    """What logging in or out changes: the file (already changed in memory), a helper action, and a diff."""

    file: bool
    helper_action: t.Optional[str]  # 'store', 'erase' or None
    before: t.Dict[str, str]
    after: t.Dict[str, str]

    @property
    def changed(self) -> bool:
        return self.file or self.helper_action is not None


def _who(creds: t.Optional[Credentials], helper: t.Optional[str] = None) -> str:
    who = 'no credentials' if creds is None else 'identity token' if creds.identity_token or creds.token else 'user %s' % creds.username
    return '%s in docker-credential-%s' % (who, helper) if helper else who


def plan(auth: AuthFile, registry: str, creds: t.Optional[Credentials]) -> Change:
    """Log in with ``creds`` (None: log out) in memory; the caller writes the file and runs the helper action."""
    helper = auth.helper(registry)
    before = auth.describe(registry)
    if helper is not None:
        name, server, default_store = helper
        found = run_credential_helper(name, server)
        before = {server: _who(found, name)} if found else {}
        if creds is not None:
            action = None if _same(found, creds) else 'store'
            # With credsStore, docker keeps an empty auths entry, and one holding a secret would be read first.
            return Change(default_store and auth.set_entries(registry, {}), action, before, {server: _who(creds, name)})
        return Change(auth.remove_entries(registry), 'erase' if found else None, before, {})
    if creds is None:
        return Change(auth.remove_entries(registry), None, before, {})
    changed = not auth.holds(registry, creds) and auth.set_entries(registry, encode_entry(creds))
    after = {key: _who(creds) for key in auth.keys(registry)}
    if changed and before == after:  # the same user with another secret
        after = {key: '%s (new secret)' % who for key, who in after.items()}
    return Change(changed, None, before, after)


def apply(auth: AuthFile, change: Change, registry: str, creds: t.Optional[Credentials]) -> None:
    """Run the helper action, then write the file (a failing helper leaves the file as it was)."""
    helper = auth.helper(registry)
    if change.helper_action == 'store' and helper and creds:
        helper_store(helper[0], helper[1], creds)
    elif change.helper_action == 'erase' and helper:
        helper_erase(helper[0], helper[1])
    if change.file:
        auth.write()


def helper_store(helper: str, server: str, creds: Credentials) -> None:
    username = IDENTITY_TOKEN_USER if creds.token else creds.username
    payload = json.dumps({'ServerURL': server, 'Username': username, 'Secret': creds.token or creds.password})
    _check(call_credential_helper(helper, 'store', payload, server), helper, 'store', server)


def helper_erase(helper: str, server: str) -> None:
    _check(call_credential_helper(helper, 'erase', server, server), helper, 'erase', server)


def _check(proc: t.Any, helper: str, action: str, server: str) -> None:
    if proc.returncode != 0:
        # The helper's own output may echo what it was given: it is not shown.
        raise RegistryError('credential helper docker-credential-%s could not %s the credentials of %s (exit code %d)'
                            % (helper, action, server, proc.returncode), hint='check the helper works from a shell as the task user')
