"""``/v1/contexts`` without a browser: shapes (the SDK, strict), errors, and restarts."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from browserbase import BadRequestError, Browserbase, ConflictError, NotFoundError

from bbnb.emulator import Emulator, EmulatorConfig

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient


@pytest.fixture
def make_sdk() -> Iterator[Callable[[Emulator], Browserbase]]:
    """``make_sdk(emulator)``: the official SDK, strict, on an emulator's ASGI app."""
    clients: list[TestClient] = []
    emulators: list[Emulator] = []

    def make(emulator: Emulator) -> Browserbase:
        client = TestClient(emulator.app, base_url="http://emulator.local")
        clients.append(client)
        emulators.append(emulator)
        return Browserbase(
            api_key=emulator.config.api_key,
            base_url="http://emulator.local",
            http_client=client,
            _strict_response_validation=True,
        )

    yield make
    for client in clients:
        client.close()
    for emulator in emulators:
        emulator.close()


def test_crud_shapes(make_sdk: Callable[[Emulator], Browserbase]) -> None:
    """Create, retrieve and delete validate against the SDK's types."""
    sdk = make_sdk(Emulator())
    created = sdk.contexts.create()
    assert created.cipher_algorithm == "AES-256-CBC"
    fetched = sdk.contexts.retrieve(created.id)
    assert fetched.id == created.id
    sdk.contexts.delete(created.id)
    with pytest.raises(NotFoundError):
        sdk.contexts.retrieve(created.id)


def test_names_are_unique_case_insensitively(make_sdk: Callable[[Emulator], Browserbase]) -> None:
    """A second context with the same name (any case) is refused."""
    sdk = make_sdk(Emulator())
    sdk.contexts.create(extra_body={"name": "Shop login"})
    with pytest.raises(ConflictError, match="already exists"):
        sdk.contexts.create(extra_body={"name": "shop LOGIN"})


@pytest.mark.parametrize(
    "body",
    [pytest.param({"name": ""}, id="empty-name"), pytest.param({"colour": "red"}, id="unknown")],
)
def test_bad_bodies_are_400(
    make_sdk: Callable[[Emulator], Browserbase], body: dict[str, object]
) -> None:
    """Bad create bodies get Browserbase's 400 with the reason."""
    sdk = make_sdk(Emulator())
    with pytest.raises(BadRequestError):
        sdk.contexts.create(extra_body=body)


def test_contexts_survive_a_restart_with_a_db(
    make_sdk: Callable[[Emulator], Browserbase], tmp_path: Path
) -> None:
    """With db_path, contexts are kept next to the database and served after a restart."""
    config = EmulatorConfig(db_path=str(tmp_path / "emulator.sqlite"))
    first = Emulator(config)
    created = make_sdk(first).contexts.create()
    first.close()
    second = make_sdk(Emulator(config))
    assert second.contexts.retrieve(created.id).id == created.id
    assert second.contexts.create().id != created.id
