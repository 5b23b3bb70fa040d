"""Fixtures both tiers use."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.kakao_support import Receiver


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A local stand-in for Kakao's callbackUrl."""
    server = Receiver()
    yield server
    server.close()
