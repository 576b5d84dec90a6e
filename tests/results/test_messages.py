"""messages_frame: one row per message part, from models or wire dicts."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bbnb.models import Message, MessagesPage
from bbnb.results import MESSAGE_COLUMNS, messages_frame

WIRE = [
    {
        "id": "m1",
        "createdAt": "2026-01-01T10:00:00Z",
        "message": {
            "role": "assistant",
            "content": [
                {"type": "reasoning", "text": "look at the page"},
                {
                    "type": "tool-call",
                    "toolCallId": "c1",
                    "toolName": "goto",
                    "input": {"url": "https://example.com"},
                },
            ],
        },
    },
    {
        "id": "m2",
        "createdAt": "2026-01-01T10:00:02Z",
        "message": {
            "role": "tool",
            "content": [
                {"type": "tool-result", "toolCallId": "c1", "toolName": "goto", "output": [1, 2]}
            ],
        },
    },
    {
        "id": "m3",
        "createdAt": "2026-01-01T10:00:03Z",
        "message": {"role": "assistant", "content": "done"},
    },
    {
        "id": "m4",
        "createdAt": "2026-01-01T10:00:04Z",
        "message": {"role": "assistant", "content": []},
    },
]


def test_parts_become_rows() -> None:
    """Each part is a row; tool input/output are JSON text; plain content is a text part."""
    df = messages_frame(WIRE, run_id="run-1")
    assert list(df.columns) == list(MESSAGE_COLUMNS)
    assert df["message_id"].tolist() == ["m1", "m1", "m2", "m3", "m4"]
    assert df["type"].tolist()[:4] == ["reasoning", "tool-call", "tool-result", "text"]
    assert json.loads(df["input"].iloc[1]) == {"url": "https://example.com"}
    assert json.loads(df["output"].iloc[2]) == [1, 2]
    assert df["text"].iloc[3] == "done"
    assert df["part"].isna().tolist() == [False, False, False, False, True]
    assert (df["run_id"] == "run-1").all()
    assert str(df["created_at"].dtype) == "datetime64[us, UTC]"
    assert str(df["text"].dtype) == "string"


@pytest.mark.parametrize(
    "source",
    [
        {"run-1": [Message.from_wire(m) for m in WIRE]},
        [("run-1", WIRE)],
        {"run-1": MessagesPage.from_wire({"data": WIRE, "nextSince": "m4"}).data},
    ],
    ids=["mapping-of-models", "pairs-of-wire", "page-data"],
)
def test_inputs_agree(source: Any) -> None:
    """Models, wire dicts, mappings and pairs give the same frame."""
    expected = messages_frame(WIRE, run_id="run-1")
    got = messages_frame(source)
    assert got.equals(expected)


def test_page_object_is_accepted() -> None:
    """A MessagesPage is read through its data."""
    page = MessagesPage.from_wire({"data": WIRE, "nextSince": "m4"})
    assert len(messages_frame(page)) == 5


def test_runs_are_told_apart() -> None:
    """Messages of several runs keep their run ids."""
    df = messages_frame({"a": WIRE[:1], "b": WIRE[2:3]})
    assert df["run_id"].tolist() == ["a", "a", "b"]


def test_bad_input_is_a_clear_error() -> None:
    """Something that is not messages raises TypeError saying what is accepted."""
    with pytest.raises(TypeError, match="takes messages"):
        messages_frame([1, 2])
