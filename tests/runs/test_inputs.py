"""Input normalisation: keys, templates, validation before anything is sent."""

from __future__ import annotations

import pandas as pd
import pytest

from bbnb.runs._inputs import prepare_agent_inputs, prepare_function_inputs, render_template


def test_list_of_strings_keeps_positions() -> None:
    """Plain task strings are keyed by their list index."""
    prepared = prepare_agent_inputs(["a", "b"], common={"result_schema": {"type": "object"}})
    assert [(p.key, p.task) for p in prepared] == [(0, "a"), (1, "b")]
    assert prepared[0].body.result_schema == {"type": "object"}


def test_dicts_use_their_key_field() -> None:
    """A dict's "key" names the input and is not sent."""
    prepared = prepare_agent_inputs([{"key": "acme", "task": "x", "pause_when": "login"}])
    assert prepared[0].key == "acme"
    assert "key" not in prepared[0].body.to_wire()


def test_dataframe_template_uses_the_index() -> None:
    """{{column}} fills from each row; the DataFrame index becomes the key."""
    frame = pd.DataFrame({"company": ["Acme", "Globex"]}, index=["r1", "r2"])
    prepared = prepare_agent_inputs(
        frame, template='Price of {{company}} in $ as {"usd": 1} and %code%'
    )
    assert [p.key for p in prepared] == ["r1", "r2"]
    assert prepared[1].task == 'Price of Globex in $ as {"usd": 1} and %code%'


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("Visit {{compnay}}", "Did you mean 'company'"),
        ("Visit {{nothing_like_it}}", "Available: 'company'"),
    ],
    ids=["typo", "unknown"],
)
def test_unknown_column_is_explained(template: str, message: str) -> None:
    """An unknown placeholder names close matches and the available columns."""
    with pytest.raises(ValueError, match=message):
        render_template(template, {"company": "Acme"})


def test_missing_value_is_an_error() -> None:
    """A NaN cell is refused rather than rendered into the task."""
    frame = pd.DataFrame({"company": ["Acme", None]})
    with pytest.raises(ValueError, match="no value for"):
        prepare_agent_inputs(frame, template="Visit {{company}}")


@pytest.mark.parametrize(
    ("tasks", "message"),
    [
        ([{"task": "a", "key": 1}, {"task": "b", "key": 1}], "share the key 1"),
        ([{"task": "a", "bogus": 1}], "bogus"),
        ([""], "task"),
        ([3], "must be a task string"),
        ("just one string", "list of task strings"),
        ([], "no inputs"),
    ],
    ids=["duplicate-key", "unknown-field", "empty-task", "not-a-task", "bare-string", "empty"],
)
def test_bad_inputs_fail_before_sending(tasks: object, message: str) -> None:
    """Every bad input is refused up front with a message naming the problem."""
    with pytest.raises((ValueError, TypeError), match=message):
        prepare_agent_inputs(tasks)


def test_function_inputs_from_frame_and_list() -> None:
    """Function params come from dicts or DataFrame rows, keyed alike."""
    frame = pd.DataFrame({"url": ["u1", "u2"]}, index=[10, 20])
    prepared = prepare_function_inputs(frame, session_create_params={"timeout": 120})
    assert [(p.key, p.body.params) for p in prepared] == [(10, {"url": "u1"}), (20, {"url": "u2"})]
    with pytest.raises(ValueError, match="region"):
        prepare_function_inputs([{"a": 1}], session_create_params={"region": "us-east-1"})
