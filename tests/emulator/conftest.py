"""Fixtures for the emulator tests: a synchronous HTTP client on the in-process app,
and validators for response bodies (bbnb models and the OpenAPI document)."""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from bbnb.emulator import Emulator
from tests.emulator.contract import OpenAPI


@pytest.fixture
def api(emulator: Emulator) -> Iterator[TestClient]:
    """A sync client on the emulator's ASGI app, authenticated; server bugs raise."""
    with TestClient(
        emulator.app,
        base_url="http://emulator.local",
        headers={"X-BB-API-Key": emulator.config.api_key},
    ) as client:
        yield client


@pytest.fixture(scope="session")
def openapi() -> OpenAPI:
    """Browserbase's OpenAPI document, ready to validate response bodies."""
    return OpenAPI.load()
