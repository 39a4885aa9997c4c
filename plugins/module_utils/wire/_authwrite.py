# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# This is a private module_utils file of oci.registry: do not use it from other collections.
"""Writing docker/podman auth files and credential helpers' store and erase: what registry_login changes.

Reading (paths, keys, entries, helpers' ``get``) is ``_authfile.py``'s; only registry_login loads this file.
Only the entries of one registry change; every other key and entry is kept. Files are replaced
atomically (a temporary file in the same directory, then a rename), with mode 0600, and a missing
parent directory is created with mode 0700. When the file configures a credential helper for the
registry (``credHelpers``, or the default ``credsStore``), the secret goes to
``docker-credential-<name> store`` / ``erase`` as docker does, and the file keeps no secret for it.
"""

from __future__ import annotations

import base64
import json
import os
import tempfile
import typing as t

from ansible_collections.oci.registry.plugins.module_utils.model._errors import AuthenticationError, InvalidInputError, RegistryError
from ._authfile import IDENTITY_TOKEN_USER, auth_keys, call_credential_helper, entry_credentials, matching_keys, run_credential_helper
from ._connection import Credentials


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
