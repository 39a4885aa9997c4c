# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# This is a private module_utils file of oci.registry: do not use it from other collections.
"""What a connection to a registry is made of: the connection options, credentials, and the auth protocol.

``ConnectionOptions`` are the common options of every module and lookup; ``Credentials`` are what a
credential source found (``_credentials.py``); ``RequestAuth`` is what a Transport asks of its auth
(``_auth.Authenticator`` for registries, ``client._hub.HubAuth`` for Docker Hub's API). No I/O here.
"""

from __future__ import annotations

import typing as t
from dataclasses import dataclass

from ansible_collections.oci.registry.plugins.module_utils.model._errors import InvalidInputError


@dataclass(frozen=True)
class Credentials:
    """What a credential source found for a registry; the secrets are never shown by ``repr``."""

    username: t.Optional[str] = None
    password: t.Optional[str] = None
    token: t.Optional[str] = None  # a ready bearer token (also tried as a refresh token when refused)
    identity_token: t.Optional[str] = None  # an OAuth2 refresh token, e.g. docker config's identitytoken
    source: str = ''

    def __repr__(self) -> str:  # never show secrets, even in a debugger or a traceback
        return 'Credentials(username=%r, source=%r)' % (self.username, self.source)


class RequestAuth(t.Protocol):
    """How a Transport authenticates its requests to its own host.

    The registry's ``Authenticator`` (challenges, Basic, Bearer tokens) and Docker Hub's API
    ``HubAuth`` (a JWT from a login call) both implement it.
    """

    def apply(self, headers: t.Dict[str, str], scopes: t.Sequence[str], operation: str) -> None:
        """Put the Authorization header for these scopes on a request to the transport's host."""

    def refresh(self, response: t.Any, scopes: t.Sequence[str], operation: str) -> bool:
        """After a 401: True when sending the request once more, with fresh credentials, is worth it."""

    def credentials_for(self, repository: t.Optional[str]) -> t.Optional[Credentials]:
        """The credentials requests on ``repository`` use (None: no repository), or None when anonymous."""

    def scheme(self) -> t.Optional[str]:
        """The auth scheme the host asks for (``basic``, ``bearer``), learned once (a registry is pinged); None when open."""


@dataclass(frozen=True)
class ConnectionOptions:
    """The common connection and auth options of every module and lookup (``REGISTRY_ARGSPEC`` in _module.py)."""

    username: t.Optional[str] = None
    password: t.Optional[str] = None
    token: t.Optional[str] = None
    auth_method: str = 'auto'
    docker_config: t.Optional[str] = None
    validate_certs: bool = True
    ca_cert: t.Optional[str] = None
    plain_http: bool = False
    timeout: float = 30
    retries: int = 3

    @classmethod
    def from_getter(cls, get: t.Callable[[str], t.Any]) -> 'ConnectionOptions':
        """Build from any option source: ``module.params.get`` or a plugin's ``get_option``.

        An empty string counts as unset: AWX credential types inject ``OCI_REGISTRY_TOKEN=''``
        (and so on) for the fields a credential leaves empty.
        """
        values = {}
        for name, field in cls.__dataclass_fields__.items():  # pylint: disable=no-member
            value = get(name)
            values[name] = field.default if value is None or value == '' else value
        return cls(**values)

    @property
    def verify(self) -> t.Union[bool, str]:
        if not self.validate_certs:
            return False
        return self.ca_cert or True

    def base_url(self, api_host: str) -> str:
        """``https://host[:port]``, or ``http://`` with ``plain_http``."""
        return '%s://%s' % ('http' if self.plain_http else 'https', api_host)

    def explicit_credentials(self) -> t.Optional[Credentials]:
        """The credentials these options give themselves (``username``/``password`` or ``token``), else None.

        The options' env fallbacks (``OCI_REGISTRY_*``) count as given; auth files do not.
        """
        if self.username is not None and self.password is not None:
            return Credentials(self.username, self.password, source='the username/password options')
        if self.token:
            return Credentials(self.username, token=self.token, source='the token option')
        if self.username is not None or self.password is not None:
            raise InvalidInputError('username and password must be given together (only %s is set)' % (
                'username' if self.username is not None else 'password'))
        return None
