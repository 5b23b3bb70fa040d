"""Fixtures of the KakaoTalk skill tests: a slow Rasa stand-in, the app, and a callback receiver."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.kakao_support import SlowRasa, make_app


@pytest.fixture
def rasa() -> SlowRasa:
    return SlowRasa()


@pytest.fixture
def app(tmp_path: Path, rasa: SlowRasa) -> Iterator[Flask]:
    app = make_app(tmp_path, rasa)
    yield app
    app.extensions["bokji.kakao"].close()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()
