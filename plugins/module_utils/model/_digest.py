# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# This is a private module_utils file of oci.registry: do not use it from other collections.
"""Content digests (``algorithm:hex``): the supported algorithms, their grammar, hashing and comparing.

Every place that names a digest or checks bytes against one goes through here, so the algorithms
are listed once and a mismatch reads the same whether it was found in a registry answer, a blob
stream or an archive on disk.
"""

from __future__ import annotations

import hashlib
import re
import typing as t

from ._errors import DigestMismatchError

# Algorithm -> hash constructor and length of the lowercase hex encoding.
ALGORITHMS: t.Dict[str, t.Callable[..., t.Any]] = {'sha256': hashlib.sha256, 'sha512': hashlib.sha512}
HEX_LENGTHS = {'sha256': 64, 'sha512': 128}
SUPPORTED_HELP = 'only sha256 and sha512 digests are supported'

_ALGORITHM_RE = re.compile(r'[a-z0-9]+(?:[.+_-][a-z0-9]+)*')
_HEX_RE = re.compile(r'[0-9a-f]+')


def validate_digest(digest: str, source: t.Optional[str] = None) -> str:
    """Return ``digest`` unchanged if it is a valid sha256/sha512 digest, else raise ValueError.

    ``source`` is the full input the digest came from (an image reference), quoted in the message.
    """
    where = ' in "%s"' % source if source is not None else ''
    if not isinstance(digest, str):
        raise ValueError('invalid digest %r%s: expected a string, got %s' % (digest, where, type(digest).__name__))
    prefix = 'invalid digest "%s"%s: ' % (digest, where)
    algorithm, sep, encoded = digest.partition(':')
    if not sep:
        raise ValueError(prefix + 'a digest is "algorithm:hex", for example "sha256:" followed by 64 lowercase hex characters')
    if not _ALGORITHM_RE.fullmatch(algorithm):
        raise ValueError(prefix + 'malformed algorithm "%s"; %s' % (algorithm, SUPPORTED_HELP))
    length = HEX_LENGTHS.get(algorithm)
    if length is None:
        raise ValueError(prefix + 'unsupported algorithm "%s"; %s' % (algorithm, SUPPORTED_HELP))
    if len(encoded) != length or not _HEX_RE.fullmatch(encoded):
        raise ValueError(prefix + '%s digests are %d lowercase hex characters (got %d characters)' % (algorithm, length, len(encoded)))
    return digest


def is_digest(text: t.Any) -> bool:
    """Whether ``text`` is a digest this collection supports, exactly: ``sha256:`` and 64 hex, or ``sha512:`` and 128."""
    try:
        validate_digest(text)
    except ValueError:
        return False
    return True


def has_algorithm_prefix(text: t.Any) -> bool:
    """Whether ``text`` starts like a digest (``sha256:``, ``sha512:``), valid or not: a user who wrote it meant one."""
    return isinstance(text, str) and text.partition(':')[0] in ALGORITHMS and ':' in text


def compute_digest(data: bytes, algorithm: str = 'sha256') -> str:
    """The content digest of raw bytes, ``algorithm:hex``."""
    return '%s:%s' % (algorithm, ALGORITHMS[algorithm](data).hexdigest())


def raw_hash(data: bytes, algorithm: str = 'sha256') -> bytes:
    """The hash of raw bytes as bytes (a public key's fingerprint is the base64 of its DER's sha256)."""
    return ALGORITHMS[algorithm](data).digest()


# scrypt parameters a key file may ask for: cosign writes N=2^15..2^17 with r=8, p=1; far larger
# values would only make a hostile file cost gigabytes of memory.
MAX_SCRYPT_N = 1 << 20
MAX_SCRYPT_R = 32
MAX_SCRYPT_P = 16


def scrypt_key(passphrase: bytes, salt: bytes, n: int, r: int, p: int, length: int = 32) -> bytes:
    """scrypt (RFC 7914), the key derivation of cosign's encrypted key files. ValueError for parameters out of bounds."""
    if n < 2 or n & (n - 1) or n > MAX_SCRYPT_N or not 0 < r <= MAX_SCRYPT_R or not 0 < p <= MAX_SCRYPT_P:
        raise ValueError('scrypt parameters N=%s r=%s p=%s are out of bounds (N a power of two up to 2^20, r up to %d, p up to %d)'
                         % (n, r, p, MAX_SCRYPT_R, MAX_SCRYPT_P))
    memory = 128 * r * (n + p + 2) + (1 << 20)
    return hashlib.scrypt(passphrase, salt=salt, n=n, r=r, p=p, maxmem=memory, dklen=length)


class DigestCheck:
    """Hash bytes as they pass and compare them with a digest (and a descriptor's size) at the end.

    The one set of messages for a mismatch; ``what`` names the content (``blob sha256:... of team/app``).
    """

    def __init__(self, digest: str, size: t.Optional[int], what: str) -> None:
        self.digest, self.size, self.what = digest, size, what
        self.algorithm = digest.split(':', 1)[0]
        if self.algorithm not in ALGORITHMS:
            raise DigestMismatchError('cannot verify %s: unsupported digest algorithm %r; %s' % (what, self.algorithm, SUPPORTED_HELP))
        self._hasher = ALGORITHMS[self.algorithm]()
        self.total = 0

    def update(self, chunk: bytes) -> None:
        self._hasher.update(chunk)
        self.total += len(chunk)
        if self.size is not None and self.total > self.size:
            raise DigestMismatchError('%s is larger than the %d bytes its descriptor says' % (self.what, self.size))

    def finish(self) -> int:
        """Raise DigestMismatchError unless the bytes seen match; returns their count."""
        if self.size is not None and self.total != self.size:
            raise DigestMismatchError('%s is %d bytes, not the %d bytes its descriptor says (truncated?)' % (self.what, self.total, self.size))
        actual = '%s:%s' % (self.algorithm, self._hasher.hexdigest())
        if actual != self.digest:
            raise DigestMismatchError('%s does not match its digest: expected %s, the bytes hash to %s' % (self.what, self.digest, actual))
        return self.total


def text_number(text: str) -> int:
    """The sha256 of ``text``'s UTF-8 bytes as a non-negative integer.

    The same in every process and on every machine (Python's ``hash()`` of a string is salted per
    process), so work split by it (``text_number(name) % count``) lands on the same part everywhere.
    """
    return int(hashlib.sha256(text.encode('utf-8')).hexdigest(), 16)


def verify_digest(data: bytes, expected: str, what: str = 'content') -> None:
    """Raise DigestMismatchError unless ``data`` hashes to ``expected``."""
    check = DigestCheck(expected, None, what)
    check.update(data)
    check.finish()


def check_announced(data: bytes, announced: t.Optional[str], what: str) -> str:
    """The sha256 digest of ``data``, after checking it against a digest the sender ``announced`` for it.

    An announcement in an algorithm this collection supports must match the bytes (in that
    algorithm), else DigestMismatchError naming ``what``; one in another algorithm, or none, is
    not checked (the header is optional, and only a supported algorithm can be computed here).
    """
    digest = compute_digest(data)
    if announced and announced != digest and announced.partition(':')[0] in ALGORITHMS:
        verify_digest(data, announced, what)  # raises for a sha256 that differs; hashes again only for another algorithm
    return digest


def verified(chunks: t.Iterable[bytes], digest: str, size: t.Optional[int], what: str) -> t.Iterator[bytes]:
    """Pass chunks through, hashing them; raise DigestMismatchError before the last chunk leaves.

    The last chunk is held back until the whole blob has been hashed, so a writer that consumes
    this iterator never receives the complete bytes of a blob that does not match its digest:
    an upload is aborted before it completes, a file is never finished.
    """
    check = DigestCheck(digest, size, what)
    pending: t.Optional[bytes] = None
    for chunk in chunks:
        if not chunk:
            continue
        if pending is not None:
            yield pending
        check.update(chunk)
        pending = chunk
    check.finish()
    if pending is not None:
        yield pending


def check_chunks(chunks: t.Iterable[bytes], digest: str, size: t.Optional[int], what: str) -> int:
    """Hash a whole stream without keeping it: its size, or DigestMismatchError naming ``what``."""
    check = DigestCheck(digest, size, what)
    for chunk in chunks:
        check.update(chunk)
    return check.finish()
