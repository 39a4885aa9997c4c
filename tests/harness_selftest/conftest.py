"""Shared fixtures: one started and seeded Harness for the whole session."""
from __future__ import annotations

import os
import sys
from typing import Any, Iterator

import pytest

TESTS_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if TESTS_DIR not in sys.path:
    sys.path.insert(0, TESTS_DIR)

from harness import Harness  # noqa: E402  pylint: disable=wrong-import-position


@pytest.fixture(scope="session")
def harness() -> Iterator[Harness]:
    with Harness() as running:
        running.seed()
        yield running


@pytest.fixture(scope="session")
def seeded(harness: Harness) -> dict[str, dict[str, Any]]:  # pylint: disable=redefined-outer-name
    return harness.seeded
