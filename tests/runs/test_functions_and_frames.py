"""invoke_many over emulator functions, and batches turned into DataFrames."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from bbnb.client._client import Client
from bbnb.emulator import Emulator
from bbnb.runs import invoke_many, run_many

UNLIMITED = {"max_concurrent_sessions": None, "sessions_per_minute": None}


def _price(params: dict[str, Any], context: Any) -> dict[str, Any]:
    if params.get("sku") == "broken":
        raise RuntimeError("the page had no price")
    return {"sku": params["sku"], "price": len(params["sku"]) * 1.5}


@pytest.mark.parametrize("emulator_config", [UNLIMITED], indirect=True, ids=["unlimited"])
def test_invoke_many_keeps_keys_and_failures(client: Client, emulator: Emulator) -> None:
    """Each params row gets one invocation under its key; a handler error is a failure."""
    function_id = emulator.register_function("price", _price)
    frame = pd.DataFrame({"sku": ["ab", "abcd", "broken"]}, index=["x", "y", "z"])
    batch = invoke_many(client, function_id, frame, concurrency=2, progress="none", journal=False)
    assert [key for key, _ in batch.iter_keyed()] == ["x", "y", "z"]
    assert batch["y"].run is not None and batch["y"].run.results == {"sku": "abcd", "price": 6.0}
    assert [item.key for item in batch.failures] == ["z"]
    failed = batch["z"].run
    assert failed is not None and failed.cause is not None
    assert failed.cause.code == "WORKLOAD_ERROR"
    assert emulator.stats.invocations_created == 3


@pytest.mark.parametrize("emulator_config", [UNLIMITED], indirect=True, ids=["unlimited"])
def test_batch_to_frame_has_one_row_per_key(client: Client) -> None:
    """Batch.to_frame() goes through bbnb.results and keeps input keys."""
    schema = {
        "type": "object",
        "properties": {"title": {"type": "string"}, "price": {"type": "number"}},
        "required": ["title", "price"],
    }
    batch = run_many(
        client,
        [{"key": "a", "task": "price of a"}, {"key": "b", "task": "price of b"}],
        result_schema=schema,
        progress="none",
        journal=False,
    )
    frame = batch.to_frame(schema=schema)
    assert list(frame["_key"]) == ["a", "b"]
    assert {"title", "price", "_status"} <= set(frame.columns)
    assert set(frame["_status"]) == {"COMPLETED"}
