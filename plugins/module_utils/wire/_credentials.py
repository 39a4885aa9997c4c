# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# This is a private module_utils file of oci.registry: do not use it from other collections.
"""Credential sources: each a small class whose ``credentials(registry, repository)`` returns Credentials or None.

``auth_method: auto`` asks them in order (options, docker config, podman auth file, Google)
and takes the first answer; anonymous access is what remains when none answers. The auth
files themselves (paths, keys, reading) are ``_authfile.py``'s.
"""

from __future__ import annotations

import typing as t

from ansible_collections.oci.registry.plugins.module_utils.model._errors import AuthenticationError, InvalidInputError, register_secret
from ansible_collections.oci.registry.plugins.module_utils.model._vendors import GOOGLE_SCOPE, VENDOR_ENDPOINTS, VendorEndpoints
from ._connection import ConnectionOptions, Credentials

AUTH_METHODS = ('auto', 'none', 'password', 'docker_config', 'google')


class OptionsSource:
    """``username``/``password``/``token`` options (and their OCI_REGISTRY_* env fallbacks)."""

    name = 'options'

    def __init__(self, options: ConnectionOptions) -> None:
        self.options = options

    def credentials(self, registry: str, repository: t.Optional[str] = None) -> t.Optional[Credentials]:
        return self.options.explicit_credentials()


class DockerConfigSource:
    """docker's config.json: ``credHelpers``, then ``auths`` entries, then ``credsStore``."""

    name = 'docker_config'

    def __init__(self, location: t.Optional[str] = None) -> None:
        self.path = _authfile().docker_config_file(location)

    def credentials(self, registry: str, repository: t.Optional[str] = None) -> t.Optional[Credentials]:
        return _authfile().file_credentials(self.path, registry, repository)


class PodmanAuthSource:
    """podman/buildah/skopeo auth files: REGISTRY_AUTH_FILE, then $XDG_RUNTIME_DIR/containers/auth.json, then ~/.config."""

    name = 'podman'

    def paths(self) -> t.List[str]:
        return _authfile().podman_auth_files()

    def credentials(self, registry: str, repository: t.Optional[str] = None) -> t.Optional[Credentials]:
        for path in self.paths():
            found = _authfile().file_credentials(path, registry, repository, what='container auth file')
            if found:
                return found
        return None


def _authfile() -> t.Any:
    """The auth-file reader, loaded when a registry first asks for credentials (an open registry never needs it)."""
    from . import _authfile as authfile  # pylint: disable=import-outside-toplevel
    return authfile


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

    def __init__(self, required: bool = False, vendors: VendorEndpoints = VENDOR_ENDPOINTS) -> None:
        self.required = required
        self.vendors = vendors

    def credentials(self, registry: str, repository: t.Optional[str] = None) -> t.Optional[Credentials]:
        if not self.vendors.is_google(registry) and not self.required:
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
                # google-auth's RefreshError carries (message, response body): its str() is the repr of that tuple.
                reason = (exc.args[0] if exc.args and isinstance(exc.args[0], str) else str(exc)).rstrip('. ')
                raise AuthenticationError('Google application default credentials are not usable for %s: %s' % (registry, reason),
                                          hint='run "gcloud auth application-default login" or set GOOGLE_APPLICATION_CREDENTIALS')
            return None
        if not creds.token:
            return None
        register_secret(creds.token)
        return Credentials('oauth2accesstoken', creds.token, source='Google application default credentials')


def credential_sources(options: ConnectionOptions, vendors: VendorEndpoints = VENDOR_ENDPOINTS) -> t.List[t.Any]:
    """The sources asked, in order, for an auth_method."""
    method = options.auth_method
    if method == 'none':
        return []
    if method == 'password':
        return [OptionsSource(options)]
    if method == 'docker_config':
        return [DockerConfigSource(options.docker_config)]
    if method == 'google':
        return [GoogleSource(required=True, vendors=vendors)]
    if method == 'auto':
        return [OptionsSource(options), DockerConfigSource(options.docker_config), PodmanAuthSource(), GoogleSource(vendors=vendors)]
    raise InvalidInputError('auth_method %r is not one of %s' % (method, ', '.join(AUTH_METHODS)))


def find_credentials(registry: str, options: ConnectionOptions, repository: t.Optional[str] = None,
                     vendors: VendorEndpoints = VENDOR_ENDPOINTS) -> t.Optional[Credentials]:
    """The first credentials any source has for this registry, or None for anonymous access.

    ``repository`` (the repository being accessed, e.g. ``org/app``) lets podman's
    repository-scoped auth-file keys apply; without it only registry-wide keys match.
    ``vendors`` says which hosts are Google's (Application Default Credentials apply there).
    """
    for source in credential_sources(options, vendors):
        found = source.credentials(registry, repository)
        if found is not None:
            return found
    if options.auth_method == 'password':
        raise InvalidInputError('auth_method password needs username and password, or token')
    return None
