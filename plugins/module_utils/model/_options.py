# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# This is a private module_utils file of oci.registry: do not use it from other collections.
"""Options as users write them, turned into values: images, repositories, registries, platforms, patterns, workers.

Each parser names the option in its error (``images: ...``, ``repositories[2].source: ...``) and
raises InvalidInputError, the one error a module or lookup turns into a clean failure; the
grammars themselves live with their values (``_reference``, ``_manifest``). Defaults that an
argspec and the code reading its params both need are here too, so they are written once.
"""

from __future__ import annotations

import re
import typing as t

from ._errors import InvalidInputError
from ._manifest import Platform
from ._reference import ImageReference, RegistryName

T = t.TypeVar('T')
R = t.TypeVar('R')
# The most requests a plugin runs at once against one registry: the Transport keeps 16 connections per host.
MAX_WORKERS = 32
DEFAULT_WORKERS = 8
# Defaults of options that more than one place reads: an argspec declares them from here, and code
# that reads params without an argspec in front of it (unit tests, plugins) falls back to the same.
DEFAULTS: t.Mapping[str, t.Any] = {
    'workers': DEFAULT_WORKERS,
    'keep_going': True,
    'prune': False,
    'prune_max': 10,
    'referrers': False,
    'min_ratelimit_remaining': 0,
    'sort': 'name',
    'order': 'asc',
}

# What a user's regular expression is refused for, worded for options (``%(option)s``, ``%(text)r``,
# re's own ``%(reason)s``, and for ``reserved`` the clashing ``%(groups)s`` and every ``%(names)s``).
PATTERN_MESSAGES: t.Mapping[str, str] = {
    'type': '%(option)s must be a regular expression (a string), got %(text)r',
    'syntax': '%(option)s is not a valid regular expression (%(reason)s): %(text)r',
    'reserved': '%(option)s: the named group %(groups)s clashes with a key of details; rename it (reserved: %(names)s)',
}


def parsed(option: str, parse: t.Callable[[T], R], value: T, hint: t.Optional[str] = None) -> R:
    """``parse(value)`` with its ValueError (a grammar's message) as InvalidInputError naming the option.

    ``hint``: added in parentheses, to say what the option wants instead.
    """
    try:
        return parse(value)
    except ValueError as exc:
        raise InvalidInputError('%s: %s%s' % (option, exc, ' (%s)' % hint if hint else '')) from None


def check_workers(workers: t.Any, option: str = 'workers') -> int:
    """``workers`` itself when it is 1 to MAX_WORKERS; else InvalidInputError naming the option."""
    if not isinstance(workers, int) or isinstance(workers, bool) or not 1 <= workers <= MAX_WORKERS:
        raise InvalidInputError('%s must be between 1 and %d, got %s' % (option, MAX_WORKERS, workers))
    return workers


def parse_image(text: t.Any, option: str = 'image', default_tag: t.Optional[str] = 'latest') -> ImageReference:
    """Parse a user-supplied reference, turning ValueError into InvalidInputError naming the option."""
    if not isinstance(text, str):
        raise InvalidInputError('%s must be a string like registry.example.com/team/app:1.0, got %r' % (option, text))
    return parsed(option, lambda value: ImageReference.parse(value, default_tag=default_tag), text)


def parse_repository(value: t.Any, option: str = 'repository', missing: t.Optional[str] = None,
                     hint: t.Optional[str] = None) -> ImageReference:
    """``[registry[:port]/]repository`` without tag or digest, normalized like an image reference.

    ``missing``: what to say after the option's name when the value is not a non-empty string
    (``is required: ...``); without it, an empty string gets the grammar's own message.
    ``hint``: added in parentheses to a grammar error (what the option wants instead).
    """
    if missing is not None and (not isinstance(value, str) or not value):
        raise InvalidInputError('%s %s' % (option, missing))
    if not isinstance(value, str):
        raise InvalidInputError('%s must be a string like registry.example.com/team/app, got %r' % (option, value))
    return parsed(option, ImageReference.parse_repository, value, hint)


def parse_registry(text: t.Any, option: str = 'registry') -> RegistryName:
    """Parse an option that names a registry (``host[:port]``) with the one grammar, naming the option when it is wrong."""
    return parsed(option, RegistryName.parse, text)


def parse_names(values: t.Sequence[t.Any], option: str, validate: t.Callable[[str], str]) -> t.List[str]:
    """Validated, de-duplicated tags or digests, in the order given; InvalidInputError names the option and the value."""
    return list(dict.fromkeys(parsed(option, validate, str(value)) for value in values or []))


def parse_platform(text: t.Optional[str], option: str = 'platform') -> t.Optional[Platform]:
    """``os/arch[/variant]``, or None when the option is unset or empty."""
    if text is None or text == '':
        return None
    return parsed(option, Platform.parse, text)


def parse_platforms(values: t.Optional[t.Iterable[t.Optional[str]]], option: str = 'platforms') -> t.Tuple[Platform, ...]:
    """A list of platforms, in the order given; empty entries are skipped as :func:`parse_platform` skips an unset one."""
    return tuple(p for p in (parse_platform(value, option) for value in values or ()) if p is not None)


def compile_regex(text: t.Any, option: str, reserved: t.AbstractSet[str] = frozenset(),
                  messages: t.Optional[t.Mapping[str, str]] = None,
                  error: t.Callable[[str], Exception] = InvalidInputError) -> t.Pattern[str]:
    """A user's regular expression (``re.search`` semantics are the caller's), or ``error`` naming the option.

    ``reserved``: named groups the caller cannot accept (they would overwrite keys of its results).
    ``messages``: the wording of each refusal (default :data:`PATTERN_MESSAGES`), so that every caller
    keeps its own while the checks stay in one place; ``error`` the exception type raised.
    """
    messages = messages or PATTERN_MESSAGES
    values: t.Dict[str, t.Any] = {'option': option, 'text': text}
    if not isinstance(text, str):
        raise error(messages['type'] % values)
    try:
        pattern = re.compile(text)
    except re.error as exc:
        raise error(messages['syntax'] % dict(values, reason=exc)) from None
    clash = set(reserved) & set(pattern.groupindex)
    if clash:
        raise error(messages['reserved'] % dict(values, groups=', '.join(sorted(clash)), names=', '.join(sorted(reserved))))
    return pattern


def compile_pattern(text: t.Optional[str], option: str, reserved: t.AbstractSet[str] = frozenset()) -> t.Optional[t.Pattern[str]]:
    """An optional filter option: None when unset or empty (no filter), else :func:`compile_regex`."""
    if text is None or text == '':
        return None
    return compile_regex(text, option, reserved)
