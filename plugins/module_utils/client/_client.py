# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# This is a private module_utils file of oci.registry: do not use it from other collections.
"""RegistryClient: the registry operations every module and plugin builds on.

One client serves any number of registries, with one Transport (Session + auth state) per
registry host, so a playbook run or a lookup with many terms shares pings and tokens. Its
methods come by concern: transports, ping, manifests, blobs, tags, catalog, referrers, and
the vendors' own APIs (Docker Hub, Google), which it hands out bound to its transports.
"""

from __future__ import annotations

import contextlib
import json
import re
import threading
import typing as t
from dataclasses import dataclass
from urllib.parse import quote, urlencode

from ansible_collections.oci.registry.plugins.module_utils.model._digest import check_announced, compute_digest, verify_digest
from ansible_collections.oci.registry.plugins.module_utils.model._errors import (
    AuthenticationError, InvalidInputError, NotFoundError, PermissionDeniedError, RegistryError, UnsupportedError,
)
from ansible_collections.oci.registry.plugins.module_utils.model._manifest import ACCEPT, MAX_MANIFEST_SIZE, OCI_INDEX, Manifest, Platform
from ansible_collections.oci.registry.plugins.module_utils.model._reference import ImageReference, RegistryName
from ansible_collections.oci.registry.plugins.module_utils.model._referrers import COSIGN_SUFFIXES, cosign_tag, describe_cosign, fallback_tag, from_index
from ansible_collections.oci.registry.plugins.module_utils.model._vendors import VENDOR_ENDPOINTS, VendorEndpoints
from ansible_collections.oci.registry.plugins.module_utils.wire._auth import CATALOG_SCOPE, Authenticator, repository_scope
from ansible_collections.oci.registry.plugins.module_utils.wire._connection import ConnectionOptions, Credentials, RequestAuth
from ansible_collections.oci.registry.plugins.module_utils.wire._credentials import find_credentials
from ansible_collections.oci.registry.plugins.module_utils.wire._ratelimit import parse_ratelimit
from ansible_collections.oci.registry.plugins.module_utils.wire._transport import RequestLog, Transport, read_capped, read_json

if t.TYPE_CHECKING:
    from ._google import GoogleRepository
    from ._hub import DockerHubAPI

# Image configs are small JSON documents; a cap keeps a hostile registry from exhausting memory.
MAX_CONFIG_SIZE = 16 * 1024 * 1024
MAX_LIST_BODY = 16 * 1024 * 1024
MAX_PAGES = 10000
_LINK_NEXT = re.compile(r'<([^>]+)>\s*;[^,]*rel="?next"?')

# What a registry-level call takes: a registry on its own, or any reference on it (its repository is not used).
Where = t.Union[ImageReference, RegistryName]
AuthFactory = t.Callable[[Transport], RequestAuth]


@dataclass(frozen=True)
class Descriptor:
    """What HEAD tells about a manifest: enough to resolve a digest without pulling."""

    digest: str
    media_type: str
    size: t.Optional[int]
    ratelimit: t.Optional[t.Dict[str, t.Any]] = None


@dataclass(frozen=True)
class Resolution:
    """A reference resolved to its digest and, when a platform was asked, the platform's digest."""

    reference: ImageReference
    digest: str
    media_type: str
    manifest: t.Optional[Manifest] = None
    platform_digest: t.Optional[str] = None
    platform_manifest: t.Optional[Manifest] = None
    ratelimit: t.Optional[t.Dict[str, t.Any]] = None
    config: t.Optional[t.Dict[str, t.Any]] = None  # the image config, when resolving had to read it

    @property
    def image_manifest(self) -> t.Optional[Manifest]:
        """The single-platform manifest at hand: the platform child, or the manifest itself if it is not an index."""
        if self.platform_manifest is not None:
            return self.platform_manifest
        return self.manifest if self.manifest is not None and not self.manifest.is_index else None


@dataclass(frozen=True)
class TagListing:
    """A repository's tags, plus ``{tag: (digest, created epoch seconds or None)}`` when the listing itself told."""

    tags: t.List[str]
    known: t.Dict[str, t.Tuple[str, t.Optional[float]]]


@contextlib.contextmanager
def _not_found_as_missing(ref: ImageReference, reference: t.Optional[str] = None) -> t.Iterator[None]:
    """Say plainly that an image is missing, whichever of MANIFEST_UNKNOWN / NAME_UNKNOWN / bare 404 the registry sent."""
    try:
        yield
    except NotFoundError as exc:
        own = ref.digest or ref.tag  # None for a bare repository (a store's), whose .reference would raise
        what = '%s%s%s' % (ref.name, '@' if ':' in reference else ':', reference) if reference and reference != own else str(ref)
        codes = '/'.join(exc.codes) or 'HTTP 404'
        raise exc.with_message('image %s not found on registry %s: no such tag, digest or repository (%s)' % (what, ref.registry, codes)) from None


def _manifest_path(ref: ImageReference, reference: t.Optional[str] = None) -> str:
    return '/v2/%s/manifests/%s' % (ref.repository, quote(reference or ref.reference, safe=':'))


def _blob_path(ref: ImageReference, digest: str) -> str:
    return '/v2/%s/blobs/%s' % (ref.repository, digest)


class RegistryClient:
    """Registry operations over HTTP API V2; raises RegistryError subclasses on failure."""

    # Where vendor-only APIs are; tests replaying a vendor's responses from a local server set their own (see VendorEndpoints).
    vendors: VendorEndpoints = VENDOR_ENDPOINTS

    def __init__(self, options: ConnectionOptions, log: t.Optional[RequestLog] = None) -> None:
        self.options = options
        self.log = log if log is not None else RequestLog()
        self._transports: t.Dict[str, Transport] = {}
        self._lock = threading.Lock()

    # Transports

    def _transport(self, key: t.Optional[str], base_url: str, registry: str, auth: AuthFactory) -> Transport:
        """The one place Transports are built.

        One per ``key`` (a registry's API host, a vendor API's URL) for the client's life, so
        every call to a host shares its ping and tokens; ``key`` None gives a private one
        (credentials under test stay out of the shared auth state).
        """
        if key is None:
            return Transport(base_url, registry, self.options, self.log, auth)
        with self._lock:
            transport = self._transports.get(key)
            if transport is None:
                transport = self._transports[key] = Transport(base_url, registry, self.options, self.log, auth)
            return transport

    def transport(self, where: Where) -> Transport:
        """The Transport of ``where``'s registry, whose auth finds credentials per repository (auth_method) on first need."""
        registry, options, vendors = where.registry, self.options, self.vendors
        return self._transport(where.api_host, options.base_url(where.api_host), registry, lambda transport: Authenticator(
            transport, lambda repository: find_credentials(registry, options, repository, vendors)))

    # Ping and credentials

    def ping(self, where: Where) -> t.Optional[str]:
        """Check the registry answers the V2 API; return the auth scheme it asks for, if any."""
        return _ping(self.transport(where))

    def check_credentials(self, registry: RegistryName, credentials: Credentials) -> t.Optional[str]:
        """Ping the registry and, when it asks for auth, GET /v2/ with exactly ``credentials``.

        On a token registry this first fetches a token for no repository (the harmless scope
        ``docker login`` uses too). Returns the auth scheme asked for (``basic``, ``bearer``), or
        None for an open registry; refused credentials raise AuthenticationError.
        """
        transport = self._transport(None, self.options.base_url(registry.api_host), registry.registry,
                                    lambda transport: Authenticator(transport, lambda _repository: credentials))
        scheme = _ping(transport)
        if scheme is not None:
            transport.request('GET', '/v2/', operation='log in to %s' % registry.registry).close()
        return scheme

    # Manifests

    def head_manifest(self, ref: ImageReference) -> Descriptor:
        """Digest, media type and size of a manifest from one HEAD (GET only if the digest header is missing)."""
        transport = self.transport(ref)
        with _not_found_as_missing(ref):
            response = transport.request('HEAD', _manifest_path(ref), scopes=[repository_scope(ref.repository, 'pull')],
                                         headers={'Accept': ACCEPT}, operation='HEAD manifest %s' % ref, repository=ref.repository)
        digest = response.headers.get('Docker-Content-Digest')
        media_type = response.headers.get('Content-Type', '').split(';')[0].strip()
        length = response.headers.get('Content-Length')
        ratelimit = parse_ratelimit(response.headers)
        if ref.digest and digest and digest != ref.digest:
            raise RegistryError('registry %s answered HEAD for %s with digest %s' % (ref.registry, ref, digest))
        if not digest:  # optional header (OCI 1.1): hash the bytes instead
            manifest = self.get_manifest(ref)
            return Descriptor(manifest.digest, manifest.media_type, manifest.size, ratelimit)
        return Descriptor(digest, media_type, int(length) if length and length.isdigit() else None, ratelimit)

    def get_manifest(self, ref: ImageReference, reference: t.Optional[str] = None, cap: int = MAX_MANIFEST_SIZE) -> Manifest:
        """GET a manifest's exact bytes; by digest the bytes are verified against it. ResponseTooLargeError past ``cap`` bytes."""
        reference = reference or ref.reference
        transport = self.transport(ref)
        with _not_found_as_missing(ref, reference):
            response = transport.request('GET', _manifest_path(ref, reference), scopes=[repository_scope(ref.repository, 'pull')],
                                         headers={'Accept': ACCEPT}, stream=True, operation='GET manifest %s' % ref,
                                         repository=ref.repository)
        raw = read_capped(response, cap, 'manifest of %s' % ref)
        if ':' in reference:
            verify_digest(raw, reference, 'manifest %s@%s' % (ref.name, reference))
            digest = reference
        else:
            digest = check_announced(raw, response.headers.get('Docker-Content-Digest'),
                                     'the manifest registry %s sent for %s (Docker-Content-Digest)' % (ref.registry, ref))
        return Manifest.from_bytes(raw, response.headers.get('Content-Type'), digest, parse_ratelimit(response.headers))

    def resolve(self, ref: ImageReference, platform: t.Optional[Platform] = None, content: bool = False) -> Resolution:
        """Resolve a reference: HEAD first; GET only for a platform choice, content, or a missing digest header."""
        if not content and platform is None:
            head = self.head_manifest(ref)
            return Resolution(ref, head.digest, head.media_type, ratelimit=head.ratelimit)
        manifest = self.get_manifest(ref)
        digest, media_type, ratelimit = manifest.digest, manifest.media_type, manifest.ratelimit
        if platform is None:
            return Resolution(ref, digest, media_type, manifest, ratelimit=ratelimit)
        if manifest.is_index:
            child = manifest.select_platform(platform)
            if child is None:
                raise NotFoundError('%s has no image for platform %s; it has: %s' % (
                    ref, platform, ', '.join(c['platform'] or '(unspecified)' for c in manifest.children) or 'no children'),
                    codes=['PLATFORM_UNKNOWN'])
            child_manifest = self.get_manifest(ref, child) if content else None
            return Resolution(ref, digest, media_type, manifest, child, child_manifest, ratelimit)
        # A single-platform image names its platform only in its config.
        config = self.get_config(ref, manifest)
        if config.get('os') and config.get('architecture'):
            found = Platform(str(config['os']), str(config['architecture']), config.get('variant') or None)
            if not platform.matches(found):
                raise NotFoundError('%s is a single-platform image for %s, not %s' % (ref, found, platform), codes=['PLATFORM_UNKNOWN'])
        return Resolution(ref, digest, media_type, manifest, digest, manifest, ratelimit, config)

    def get_config(self, ref: ImageReference, manifest: Manifest) -> t.Dict[str, t.Any]:
        """The image config blob of a single-platform manifest, verified against its digest."""
        descriptor = manifest.config_descriptor
        if descriptor is None:
            raise RegistryError('%s (%s) has no config: it is not a single-platform image manifest' % (ref, manifest.media_type))
        raw = self.get_blob(ref, descriptor['digest'], MAX_CONFIG_SIZE)
        try:
            config = json.loads(raw.decode('utf-8'))
        except (ValueError, UnicodeDecodeError) as exc:
            raise RegistryError('the config blob %s of %s is not JSON: %s' % (descriptor['digest'], ref, exc))
        return config if isinstance(config, dict) else {}

    def put_manifest(self, ref: ImageReference, raw: bytes, media_type: str) -> str:
        """PUT exact manifest bytes under ref's tag or digest; returns the digest of the bytes."""
        self._put_manifest(ref, raw, media_type)
        return compute_digest(raw)

    def put_referrer(self, ref: ImageReference, raw: bytes, media_type: str) -> bool:
        """PUT a manifest that has a ``subject`` (by its digest); True when the registry indexed the subject itself
        (``OCI-Subject`` answered), False when the client must add it to the ``sha256-<hex>`` fallback tag."""
        return bool(self._put_manifest(ref.with_digest(compute_digest(raw)), raw, media_type).headers.get('OCI-Subject'))

    def _put_manifest(self, ref: ImageReference, raw: bytes, media_type: str) -> t.Any:
        transport = self.transport(ref)
        response = transport.request('PUT', _manifest_path(ref), scopes=[repository_scope(ref.repository, 'pull,push')],
                                     headers={'Content-Type': media_type}, data=raw, ok=(200, 201, 202),
                                     operation='PUT manifest %s' % ref, repository=ref.repository)
        response.close()
        return response

    def delete_manifest(self, ref: ImageReference) -> bool:
        """DELETE a manifest by digest (or tag where supported). False when it was already gone."""
        transport = self.transport(ref)
        try:
            response = transport.request('DELETE', _manifest_path(ref), scopes=[repository_scope(ref.repository, 'delete')],
                                         ok=(200, 202, 204), operation='DELETE manifest %s' % ref, repository=ref.repository)
        except NotFoundError:
            return False
        response.close()
        return True

    def delete_tag(self, ref: ImageReference, tag: str) -> bool:
        """OCI tag DELETE (Google: untag). False when the tag was already gone.

        Raises UnsupportedError when the registry deletes manifests by digest only (distribution 2.x
        answers 400 DIGEST_INVALID, Harbor 400 UNSUPPORTED, others 405): nothing was deleted then.
        """
        try:
            return self.delete_manifest(ref.with_tag(tag))
        except RegistryError as exc:
            if exc.status == 405 or (exc.status == 400 and (not exc.codes or set(exc.codes) & {'DIGEST_INVALID', 'UNSUPPORTED'})):
                raise exc.with_message('registry %s does not delete tags by name: DELETE of %s:%s answered HTTP %s %s' % (
                    ref.registry, ref.name, tag, exc.status, '/'.join(exc.codes)), UnsupportedError, hint=None) from None
            raise

    # Blobs

    def blob_exists(self, ref: ImageReference, digest: str) -> bool:
        transport = self.transport(ref)
        try:
            response = transport.request('HEAD', _blob_path(ref, digest),
                                         scopes=[repository_scope(ref.repository, 'pull')], operation='HEAD blob %s' % digest,
                                         repository=ref.repository)
        except NotFoundError:
            return False
        response.close()
        return True

    def get_blob(self, ref: ImageReference, digest: str, cap: int) -> bytes:
        """GET a small blob (config), following storage redirects without credentials, verified against its digest."""
        raw = read_capped(self.open_blob(ref, digest), cap, 'blob %s' % digest)
        verify_digest(raw, digest, 'blob %s of %s' % (digest, ref.name))
        return raw

    def open_blob(self, ref: ImageReference, digest: str) -> t.Any:
        """A streamed response for a blob of any size (the caller iterates and closes it)."""
        transport = self.transport(ref)
        return transport.request('GET', _blob_path(ref, digest), scopes=[repository_scope(ref.repository, 'pull')],
                                 stream=True, operation='GET blob %s of %s' % (digest, ref.name), repository=ref.repository)

    def mount_blob(self, target: ImageReference, digest: str, source_repository: str) -> bool:
        """Cross-repository mount within one registry. True when mounted (201); an unused upload session is cancelled."""
        transport = self.transport(target)
        query = urlencode([('mount', digest), ('from', source_repository)])
        response = transport.request('POST', '/v2/%s/blobs/uploads/?%s' % (target.repository, query),
                                     scopes=[repository_scope(target.repository, 'pull,push'), repository_scope(source_repository, 'pull')],
                                     ok=(201, 202), operation='mount blob %s' % digest, repository=target.repository)
        response.close()
        if response.status_code == 201:
            return True
        location = response.headers.get('Location')
        if location:
            self.cancel_upload(target, location)
        return False

    # A blob upload is a session (POST) and then its bytes (PUT); a session that will not be
    # completed is cancelled (DELETE) rather than left to expire.

    def start_upload(self, target: ImageReference, digest: str) -> str:
        """POST to open an upload session for ``digest``; returns the URL to PUT its bytes to."""
        transport = self.transport(target)
        response = transport.request('POST', '/v2/%s/blobs/uploads/' % target.repository, scopes=[repository_scope(target.repository, 'pull,push')],
                                     ok=(202,), operation='start upload of %s' % digest, repository=target.repository)
        response.close()
        location = response.headers.get('Location')
        if not location:
            raise RegistryError('registry %s opened an upload for %s without a Location header' % (target.registry, target.repository))
        return location + ('&' if '?' in location else '?') + urlencode([('digest', digest)])

    def finish_upload(self, target: ImageReference, digest: str, url: str, data: t.Any, size: t.Optional[int] = None) -> None:
        """PUT a blob's bytes (or an iterable of chunks) to a session from ``start_upload``: a monolithic upload."""
        headers = {'Content-Type': 'application/octet-stream'}
        if size is not None:
            headers['Content-Length'] = str(size)
        self.transport(target).request('PUT', url, scopes=[repository_scope(target.repository, 'pull,push')], headers=headers, data=data,
                                       ok=(201, 204), operation='upload blob %s' % digest, repository=target.repository).close()

    def cancel_upload(self, target: ImageReference, url: str) -> None:
        """DELETE an upload session that will not be completed; best effort (an abandoned one expires on its own)."""
        try:
            self.transport(target).request('DELETE', url, scopes=[repository_scope(target.repository, 'pull,push')], ok=(200, 202, 204, 404),
                                           operation='cancel upload', repository=target.repository).close()
        except RegistryError:
            pass

    def upload_blob(self, target: ImageReference, digest: str, data: t.Any, size: t.Optional[int] = None) -> None:
        """Monolithic upload: POST to open a session, then PUT the bytes (or an iterator of chunks) with ?digest=."""
        self.finish_upload(target, digest, self.start_upload(target, digest), data, size)

    # Tags

    def list_tags_detailed(self, ref: ImageReference, page_size: t.Optional[int] = None) -> TagListing:
        """Every tag of a repository and, where the registry's listing carries them (Google), each tag's digest and created time."""
        google_tag_details = _google().google_tag_details if self.vendors.is_google(ref.registry) else None
        listing = TagListing([], {})
        for data in self.pages(ref, '/v2/%s/tags/list' % ref.repository, [repository_scope(ref.repository, 'pull')],
                               'list tags of %s' % ref.name, page_size):
            listing.tags.extend(tag for tag in data.get('tags') or [] if isinstance(tag, str))  # "tags": null means none
            if google_tag_details is not None:
                listing.known.update(google_tag_details(data))
        return listing

    def list_tags(self, ref: ImageReference, page_size: t.Optional[int] = None) -> t.List[str]:
        """Every tag of a repository, as :meth:`list_tags_detailed` lists them."""
        return self.list_tags_detailed(ref, page_size).tags

    # Catalog

    def iter_catalog(self, registry: RegistryName, page_size: t.Optional[int] = 1000) -> t.Iterator[str]:
        """Repository names of a registry, page by page as they are consumed; a refused or missing catalog says so plainly."""
        try:
            for data in self.pages(registry, '/v2/_catalog', [CATALOG_SCOPE], 'list repositories of %s' % registry.registry, page_size):
                yield from data.get('repositories') or []
        except (AuthenticationError, PermissionDeniedError) as exc:
            hint = ('the catalog needs a user allowed to list repositories (registry:catalog:* on token registries); '
                    'Docker Hub and GHCR offer no catalog')
            if exc.hint and exc.hint.startswith('no credentials'):  # anonymous: say that first
                hint = '%s; %s' % (exc.hint, hint)
            raise exc.with_message('the catalog of registry %s (/v2/_catalog) is not available to these credentials: %s'
                                   % (registry.registry, exc.msg), hint=hint) from None
        except (NotFoundError, UnsupportedError) as exc:
            raise exc.with_message('registry %s offers no catalog (/v2/_catalog answered HTTP %s%s): its repositories cannot be listed'
                                   % (registry.registry, exc.status, ' ' + '/'.join(exc.codes) if exc.codes else ''),
                                   UnsupportedError, hint='name the repositories one by one instead') from None

    def iter_repositories(self, registry: RegistryName, namespaces: t.Optional[t.Sequence[str]] = None,
                          page_size: t.Optional[int] = 1000) -> t.Iterator[str]:
        """Every repository of a registry: its catalog, or on Docker Hub (no catalog) each namespace's Hub API listing.

        ``namespaces`` is required on Docker Hub, which lists one user or organization at a time (``library``
        holds the official images), and ignored elsewhere.
        """
        if not self.vendors.is_docker_hub(registry.registry):
            yield from self.iter_catalog(registry, page_size)
            return
        if not namespaces:
            raise InvalidInputError('Docker Hub has no catalog: its repositories are listed per namespace (a user or organization), '
                                    'so name the namespaces to list (library for the official images)')
        transport = self.docker_hub_listing(registry)
        for namespace in namespaces:
            yield from _hub().namespace_repositories(transport, namespace)

    # Paging (tags and catalog)

    def pages(self, where: Where, path: str, scopes: t.List[str], operation: str,
              page_size: t.Optional[int] = None) -> t.Iterator[t.Dict[str, t.Any]]:
        """Each page's JSON object, following ``Link: <...>; rel="next"`` (absolute or relative) until there is none.

        A first page refused with 400 PAGINATION_NUMBER_INVALID (distribution caps ``n`` at 1000)
        is asked again with a smaller ``n``: 1000, then 100, then none.
        """
        transport = self.transport(where)
        repository = where.repository if isinstance(where, ImageReference) else None
        url: t.Optional[str] = _with_page_size(path, page_size)
        pages = 0
        while url is not None:
            if pages >= MAX_PAGES:
                raise RegistryError('%s: registry %s kept sending more pages (over %d)' % (operation, where.registry, MAX_PAGES))
            try:
                response = transport.request('GET', url, scopes=scopes, headers={'Accept': 'application/json'}, stream=True,
                                             operation=operation, repository=repository)
            except RegistryError as exc:
                page_size = _smaller_page_size(page_size) if pages == 0 and 'PAGINATION_NUMBER_INVALID' in exc.codes else None
                if page_size is None:
                    raise
                url = _with_page_size(path, page_size)
                continue
            data = read_json(response, MAX_LIST_BODY, operation, 'registry %s' % where.registry)
            pages += 1
            yield data if isinstance(data, dict) else {}
            match = _LINK_NEXT.search(response.headers.get('Link', ''))
            url = transport.url(match.group(1)) if match else None

    # Referrers

    def list_referrers(self, ref: ImageReference, digest: str) -> t.List[t.Dict[str, t.Any]]:
        """What refers to ``digest``: the OCI 1.1 referrers API, else (404) the ``sha256-<hex>`` tag index.

        Each entry: ``digest``, ``media_type``, ``artifact_type``, ``annotations``, ``size``,
        ``kind`` (``referrer``) and ``tag`` (the fallback tag when it came from there, else None).
        """
        transport = self.transport(ref)
        fallback: t.Optional[str] = None
        try:
            response = transport.request('GET', '/v2/%s/referrers/%s' % (ref.repository, digest),
                                         scopes=[repository_scope(ref.repository, 'pull')], headers={'Accept': OCI_INDEX}, stream=True,
                                         operation='list referrers of %s@%s' % (ref.name, digest), repository=ref.repository)
            raw = read_capped(response, MAX_MANIFEST_SIZE, 'referrers of %s@%s' % (ref.name, digest))
            index = Manifest.from_bytes(raw, OCI_INDEX)
        except NotFoundError:
            fallback = fallback_tag(digest)
            try:
                index = self.get_manifest(ref, fallback)
            except NotFoundError:
                return []
        return from_index(index.data, fallback)

    def referrers(self, ref: ImageReference, digest: str) -> t.List[t.Dict[str, t.Any]]:
        """What refers to ``digest``: :meth:`list_referrers`, then cosign's ``sha256-<hex>.sig``/``.att``/``.sbom`` tags.

        Each cosign tag costs one HEAD; one that exists is listed with ``kind`` ``cosign``, its
        ``tag``, ``artifact_type`` ``cosign/<suffix>`` and no media type (it is not read).
        """
        found = self.list_referrers(ref, digest)
        for suffix in COSIGN_SUFFIXES:
            tag = cosign_tag(digest, suffix)
            try:
                cosign_digest = self.head_manifest(ref.with_tag(tag)).digest
            except NotFoundError:
                continue
            found.append(describe_cosign(cosign_digest, tag, suffix))
        return found

    # Vendors' own APIs

    def search_docker_hub(self, registry: RegistryName, query: str, limit: int) -> t.List[t.Dict[str, t.Any]]:
        """Docker Hub's search API (``vendors.hub_search_url``), page by page until ``limit`` results or the last page."""
        return _hub().search(self.transport(registry), self.vendors.hub_search_url, query, limit)

    def docker_hub(self, ref: ImageReference) -> 'DockerHubAPI':
        """Docker Hub's own API (``vendors.hub_api_url``), one Transport per run whose auth is the Hub JWT, sent to that host only."""
        registry, options, vendors = ref.registry, self.options, self.vendors
        base_url = vendors.hub_api_url.rstrip('/')
        hub = _hub()
        transport = self._transport(base_url, base_url, 'Docker Hub API',
                                    lambda transport: hub.HubAuth(transport, find_credentials(registry, options, vendors=vendors)))
        return hub.DockerHubAPI(transport, ref)

    def docker_hub_listing(self, registry: RegistryName) -> Transport:
        """The Hub API for reads: the JWT when credentials are found for docker.io (private repositories), else anonymous."""
        options, vendors = self.options, self.vendors
        base_url = vendors.hub_api_url.rstrip('/')
        return self._transport(base_url + ' reads', base_url, 'Docker Hub API', lambda transport: _hub().HubAuth(
            transport, find_credentials(registry.registry, options, vendors=vendors), required=False))

    def google(self, ref: ImageReference) -> 'GoogleRepository':
        """A repository on a Google registry, read through Google's extended ``tags/list``."""
        return _google().GoogleRepository(self.pages, ref)


# The vendor files load when a registry is that vendor's: most runs never need them, and every module
# would otherwise pay for compiling them at start-up.

def _google() -> t.Any:
    """The Google vendor file."""
    from . import _google as google  # pylint: disable=import-outside-toplevel
    return google


def _hub() -> t.Any:
    """The Docker Hub vendor file."""
    from . import _hub as hub  # pylint: disable=import-outside-toplevel
    return hub


def _ping(transport: Transport) -> t.Optional[str]:
    """The auth scheme a registry's Transport was challenged with at ``/v2/`` (pinged once), or None when open."""
    return transport.auth.scheme() if transport.auth is not None else None


def _with_page_size(path: str, page_size: t.Optional[int]) -> str:
    return path + ('?%s' % urlencode([('n', page_size)]) if page_size else '')


def _smaller_page_size(page_size: t.Optional[int]) -> t.Optional[int]:
    """The next ``n`` to try after a registry refused ``page_size``; 0 means send none, None means give up."""
    if not page_size:
        return None
    return 1000 if page_size > 1000 else 100 if page_size > 100 else 0
