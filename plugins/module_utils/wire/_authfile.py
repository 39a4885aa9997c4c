# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# This is a private module_utils file of oci.registry: do not use it from other collections.
"""docker config.json and podman auth.json files: where they are, how their keys are spelled, and reading them.

Reading (:func:`file_credentials`) serves the credential sources of ``_credentials.py``.
Writing lives in ``_authwrite.py`` (registry_login's, loaded by no other module); both match
keys with :func:`matching_keys`, so a key that is read is the key that is replaced.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import subprocess
import typing as t

from ansible_collections.oci.registry.plugins.module_utils.model._errors import AuthenticationError, register_secret
from ansible_collections.oci.registry.plugins.module_utils.model._vendors import DOCKER_HUB_AUTH_KEYS, is_docker_hub
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
    if is_docker_hub(registry):
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
