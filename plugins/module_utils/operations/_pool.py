# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# This is a private module_utils file of oci.registry: do not use it from other collections.
"""One bounded thread pool for concurrent registry requests over one shared RegistryClient.

The client is safe to share: one Transport (requests Session, connection pool) and one
Authenticator (ping, token cache, behind a lock) per registry host, so every worker reuses
the same connections and the same token.
"""

from __future__ import annotations

import threading
import typing as t
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait

from ansible_collections.oci.registry.plugins.module_utils.model._options import DEFAULT_WORKERS, MAX_WORKERS, check_workers

T = t.TypeVar('T')
R = t.TypeVar('R')


def bounded_map(func: t.Callable[[T], R], items: t.Sequence[T], workers: int = DEFAULT_WORKERS) -> t.List[R]:
    """``[func(item) for item in items]`` on at most ``workers`` threads, results in item order.

    When a call raises, calls not yet started are cancelled and the exception of the first
    failing item (in item order) is raised, so a failure costs no more requests than needed.
    """
    if not items:
        return []
    workers = max(1, min(workers, MAX_WORKERS, len(items)))
    if workers == 1:
        return [func(item) for item in items]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(func, item) for item in items]
        done, _pending = wait(futures, return_when=FIRST_EXCEPTION)
        if any(future.exception() is not None for future in done):
            for future in futures:
                future.cancel()
    for future in futures:
        if not future.cancelled() and future.exception() is not None:
            raise t.cast(BaseException, future.exception())
    return [future.result() for future in futures]


def in_background(func: t.Callable[..., R], *args: t.Any) -> 'Future[R]':
    """Start ``func(*args)`` on a thread of its own and return its Future: one request overlapping another."""
    future: 'Future[R]' = Future()

    def work() -> None:
        try:
            future.set_result(func(*args))
        except BaseException as exc:  # pylint: disable=broad-exception-caught
            future.set_exception(exc)

    threading.Thread(target=work, daemon=True).start()
    return future


# check_workers is parsed in model._options; it stays importable from here for callers that take it with the pool.
__all__ = ['DEFAULT_WORKERS', 'MAX_WORKERS', 'bounded_map', 'check_workers', 'in_background']
