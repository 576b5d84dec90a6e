"""Tests for the ``%bb_run`` line parser, request planning and ``--dry-run`` (no network)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pandas as pd
import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell
from pydantic import BaseModel

from bbnb.magics import agent_settings, function_settings, parse_magic_line
from bbnb.models import AgentBrowserSettings, SessionCreateParams

CellRunner = Callable[[str], Any]

SECRET = "sentinel-Secret-7731"


class Product(BaseModel):
    """A result schema given as a pydantic model."""

    name: str
    price: float


class FakeSettingsWidget:
    """Duck-typed stand-in for ``bbnb.widgets.SessionSettings`` (``.value``, ``.to_magic``)."""

    def __init__(self, value: Any) -> None:
        self.value = value

    def to_magic(self, settings_var: str = "settings") -> str:
        """What the real widget returns."""
        return f"--settings-var {settings_var}"


def test_parse_every_option() -> None:
    """Every documented option parses into the namespace the magic uses."""
    args = parse_magic_line(
        "agent 'Find {{x}}' -o out --schema-var S --settings-var st --var a=1 --var b={{pw}} "
        "--agent-id ag --pause-when 'a code is needed' --foreach rows --concurrency 4 "
        "--timeout 30 --no-wait --progress text --on-interrupt detach --raw --dry-run"
    )
    assert args.kind == "agent"
    assert args.words == ["Find {{x}}"]
    assert (args.out, args.schema_var, args.settings_var) == ("out", "S", "st")
    assert args.var == [("a", "1"), ("b", "{{pw}}")]
    assert (args.agent_id, args.pause_when) == ("ag", "a code is needed")
    assert (args.foreach, args.concurrency, args.timeout) == ("rows", 4, 30.0)
    assert args.no_wait and args.raw and args.dry_run
    assert (args.progress, args.on_interrupt) == ("text", "detach")


def test_parse_function_options_and_intermixed_order() -> None:
    """Options may come before or after the positional words; ``fn`` is accepted."""
    args = parse_magic_line("""--params '{"a": 1}' fn abc-123 --params-var p --schema '{}'""")
    assert args.kind == "fn"
    assert args.words == ["abc-123"]
    assert json.loads(args.params) == {"a": 1}
    assert args.params_var == "p"
    assert args.schema == "{}"


@pytest.mark.parametrize(
    ("line", "fragment"),
    [
        ("", "needs a KIND"),
        ("agnet x", "Did you mean 'agent'"),
        ("agent x --bogus", "unknown option --bogus"),
        ("agent x --schma-var S", "Did you mean --schema-var"),
        ("agent x --concurrency 0", "must be at least 1"),
        ("agent x --concurrency many", "not a whole number"),
        ("agent x --timeout -3", "more than 0 seconds"),
        ("agent x --timeout soon", "not a number of seconds"),
        ("agent x -o 2bad", "not a Python variable name"),
        ("agent x -o class", "not a Python variable name"),
        ("agent x --var novalue", "is not name=value"),
        ("agent x --progress loud", "invalid choice"),
        ("agent x --on-interrupt ignore", "invalid choice"),
        ("agent What's up", "No closing quotation"),
    ],
    ids=[
        "empty",
        "kind-typo",
        "unknown-option",
        "option-typo",
        "concurrency-zero",
        "concurrency-word",
        "timeout-negative",
        "timeout-word",
        "out-not-identifier",
        "out-keyword",
        "var-without-equals",
        "bad-progress",
        "bad-on-interrupt",
        "unbalanced-quote",
    ],
)
def test_parse_mistakes_are_usage_errors(line: str, fragment: str) -> None:
    """Every mistake on the magic line is one ``UsageError`` that says what was wrong."""
    with pytest.raises(UsageError) as info:
        parse_magic_line(line)
    assert fragment in str(info.value)
    assert "\n" not in str(info.value)


def dry_run(run: CellRunner, source: str) -> list[tuple[str, dict[str, Any]]]:
    """Run a ``--dry-run`` cell and return the (request line, body) pairs it printed."""
    cell = run(source)
    assert cell.error is None, cell.err
    out = cell.out
    assert "nothing was sent" in out
    pairs: list[tuple[str, dict[str, Any]]] = []
    decoder = json.JSONDecoder()
    text = out
    while "POST " in text:
        text = text[text.index("POST ") :]
        head, _, rest = text.partition("\n")
        body, end = decoder.raw_decode(rest)
        pairs.append((head, body))
        text = rest[end:]
    return pairs


def test_dry_run_agent_line_form(run: CellRunner) -> None:
    """The line form's task, verbatim, is the body; ``$`` and ``%name%`` stay literal."""
    pairs = dry_run(run, "%bb_run agent 'Buy it under $19.99 as %user%' --dry-run")
    assert pairs == [("POST /v1/agents/runs", {"task": "Buy it under $19.99 as %user%"})]


def test_dry_run_agent_cell_form_with_every_agent_option(
    shell: InteractiveShell, run: CellRunner
) -> None:
    """The cell body is the task; schema, settings, variables, agent id and pause go in."""
    shell.user_ns.update(
        Product=Product,
        settings={"context": {"id": "ctx-1", "persist": True}, "verified": True},
        pw=SECRET,
        company="Acme",
    )
    pairs = dry_run(
        run,
        "%%bb_run agent --schema-var Product --settings-var settings --var password={{pw}} "
        "--var code=1234 --agent-id agent-9 --pause-when 'a code is needed' --dry-run\n"
        'Log in to {{company}} with %password% and return {"name": ..., "price": ...}\n',
    )
    [(head, body)] = pairs
    assert head == "POST /v1/agents/runs"
    assert body["task"] == ('Log in to Acme with %password% and return {"name": ..., "price": ...}')
    assert body["resultSchema"]["properties"]["price"]["type"] == "number"
    assert body["browserSettings"] == {
        "context": {"id": "ctx-1", "persist": True},
        "verified": True,
    }
    assert body["variables"] == {
        "password": {"value": "**********"},
        "code": {"value": "**********"},
    }
    assert (body["agentId"], body["pauseWhen"]) == ("agent-9", "a code is needed")


def test_dry_run_never_prints_secrets(shell: InteractiveShell, run: CellRunner) -> None:
    """Variable values and proxy passwords are masked in the dry-run output."""
    shell.user_ns["pw"] = SECRET
    shell.user_ns["settings"] = SessionCreateParams.model_validate(
        {"proxies": [{"type": "external", "server": "http://p:1", "password": SECRET}]}
    )
    cell = run("%bb_run agent 'Use %pw%' --var pw={{pw}} --settings-var settings --dry-run")
    assert cell.error is None, cell.err
    assert SECRET not in cell.out + cell.err
    assert "**********" in cell.out


def test_dry_run_foreach_list(shell: InteractiveShell, run: CellRunner) -> None:
    """``--foreach`` over a list makes one body per element with ``{{row}}`` filled in."""
    shell.user_ns["shops"] = ["a.com", "b.com", "c.com"]
    pairs = dry_run(run, "%%bb_run agent --foreach shops --dry-run\nPrice on {{row}}?")
    assert [body["task"] for _, body in pairs] == [
        "Price on a.com?",
        "Price on b.com?",
        "Price on c.com?",
    ]
    assert pairs[1][0] == "POST /v1/agents/runs  # input 1"


def test_dry_run_foreach_dataframe(shell: InteractiveShell, run: CellRunner) -> None:
    """``--foreach`` over a DataFrame keys by index and fills ``{{row.col}}`` and ``{{col}}``."""
    shell.user_ns["df"] = pd.DataFrame(
        {"domain": ["a.com", "b.com"], "max price": [10, 20]}, index=["x", "y"]
    )
    pairs = dry_run(
        run,
        "%%bb_run agent --foreach df --dry-run\n"
        "Cheapest on {{row.domain}} under {{row['max price']}} ({{domain}})",
    )
    assert [(head, body["task"]) for head, body in pairs] == [
        ("POST /v1/agents/runs  # input 'x'", "Cheapest on a.com under 10 (a.com)"),
        ("POST /v1/agents/runs  # input 'y'", "Cheapest on b.com under 20 (b.com)"),
    ]


def test_dry_run_function_cell_params_and_foreach(shell: InteractiveShell, run: CellRunner) -> None:
    """Function params come from the cell body; whole templates keep their JSON type."""
    shell.user_ns["jobs"] = pd.DataFrame({"url": ["u1", "u2"], "depth": [1, 2]})
    pairs = dry_run(
        run,
        "%%bb_run function fn-1 --foreach jobs --dry-run\n"
        '{"url": "{{row.url}}", "depth": "{{row.depth}}", "note": "{not a template}"}',
    )
    assert pairs == [
        (
            "POST /v1/functions/fn-1/invoke  # input 0",
            {"params": {"url": "u1", "depth": 1, "note": "{not a template}"}},
        ),
        (
            "POST /v1/functions/fn-1/invoke  # input 1",
            {"params": {"url": "u2", "depth": 2, "note": "{not a template}"}},
        ),
    ]


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("%bb_run fn fn-1 --params '{\"a\": [1, 2]}' --dry-run", {"params": {"a": [1, 2]}}),
        ("%bb_run function fn-1 --params-var p --dry-run", {"params": {"from": "var"}}),
        ("%bb_run fn fn-1 --dry-run", {}),
        (
            "%bb_run fn fn-1 --settings-var fs --dry-run",
            {"sessionCreateParams": {"timeout": 120, "browserSettings": {"blockAds": True}}},
        ),
        ("%bb_run fn fn-1 --foreach rows --dry-run", {"params": {"k": 1}}),
    ],
    ids=["params-json", "params-var", "no-params", "function-settings", "foreach-dicts"],
)
def test_dry_run_function_forms(
    shell: InteractiveShell, run: CellRunner, source: str, expected: dict[str, Any]
) -> None:
    """Each way of giving function params and settings produces the right invoke body."""
    shell.user_ns.update(
        p={"from": "var"},
        fs={"timeout": 120, "browserSettings": {"blockAds": True}},
        rows=[{"k": 1}],
    )
    [(head, body)] = dry_run(run, source)
    assert head.startswith("POST /v1/functions/fn-1/invoke")
    assert body == expected


def test_settings_widget_value_is_used(shell: InteractiveShell, run: CellRunner) -> None:
    """An object with ``.value`` and ``.to_magic`` (the settings widget) gives its value."""
    shell.user_ns["w"] = FakeSettingsWidget(AgentBrowserSettings(verified=True))
    [(_, body)] = dry_run(run, "%bb_run agent 'Go' --settings-var w --dry-run")
    assert body["browserSettings"] == {"verified": True}


def test_settings_conversions() -> None:
    """Session settings map onto agent settings and back, refusing what does not fit."""
    session = SessionCreateParams.model_validate(
        {"browserSettings": {"context": {"id": "c"}, "verified": True}, "proxies": True}
    )
    agent = agent_settings(session)
    assert agent.to_wire() == {"context": {"id": "c"}, "verified": True, "proxies": True}
    assert function_settings(agent).to_wire() == {
        "browserSettings": {"context": {"id": "c"}, "verified": True},
        "proxies": True,
    }
    with pytest.raises(ValueError, match=r"browserSettings\.blockAds, region"):
        agent_settings({"region": "us-east-1", "browserSettings": {"blockAds": True}})


@pytest.mark.parametrize(
    ("setup", "source", "fragment"),
    [
        ({}, "%%bb_run agent 'line task'\ncell task", "task is given twice"),
        ({}, "%bb_run agent", "no task"),
        ({}, "%bb_run agent '   '", "no task"),
        ({}, "%bb_run agent x --schema '{bad'", "--schema is not valid JSON"),
        ({}, "%bb_run agent x --schema '{\"type\": 5}'", "not a valid JSON Schema"),
        ({}, "%bb_run agent x --schema-var Nope", "no variable 'Nope'"),
        ({"S": {}}, "%bb_run agent x --schema-var S --schema '{}'", "not both"),
        ({"S": 3}, "%bb_run agent x --schema-var S", "JSON Schema dict or a pydantic model"),
        ({"st": {"region": "eu"}}, "%bb_run agent x --settings-var st", "--settings-var st"),
        (
            {"st": {"region": "us-east-1"}},
            "%bb_run agent x --settings-var st",
            "agent runs accept only",
        ),
        ({"st": {"region": "us-east-1"}}, "%bb_run fn f --settings-var st", "region"),
        ({"st": {"timeout": 30}}, "%bb_run fn f --settings-var st", "timeout"),
        ({"st": 42}, "%bb_run fn f --settings-var st", "expected SessionCreateParams"),
        (
            {"st": FakeSettingsWidget(None)},
            "%bb_run fn f --settings-var st",
            "expected SessionCreateParams",
        ),
        ({}, "%bb_run agent 'x {{row}}'", "only exists with --foreach"),
        ({}, "%bb_run agent 'x {{compnay}}'", "unknown name 'compnay'"),
        ({"company": 1}, "%bb_run agent 'x {{compnay}}'", "Did you mean 'company'"),
        ({"e": []}, "%bb_run agent x --foreach e", "is empty"),
        ({"g": 5}, "%bb_run agent x --foreach g", "expected a list"),
        ({}, "%bb_run agent x --concurrency 3", "only applies with --foreach"),
        (
            {"d": pd.DataFrame({"a": [1.0, None]})},
            "%bb_run agent 'x {{row.a}}' --foreach d",
            "has no value",
        ),
        ({"d": ["a"]}, "%bb_run agent 'x {{row.b}}' --foreach d", "in --foreach row 0"),
        ({}, "%bb_run agent x --var pw={{nothing}}", "--var pw"),
        ({}, "%bb_run agent x --var 'bad name=1'", "not usable as a %name% placeholder"),
        ({}, "%bb_run agent x --params '{}'", "--params does not apply to %bb_run agent"),
        ({}, "%bb_run fn", "which function"),
        ({}, "%bb_run fn a b", "takes one FUNCTION_ID"),
        ({}, "%bb_run fn f --agent-id a", "--agent-id does not apply"),
        ({}, "%bb_run fn f --var a=b", "--var does not apply"),
        ({}, "%%bb_run fn f --params '{}'\n{}", "params are given twice"),
        ({}, "%bb_run fn f --params '[1]'", "must be a JSON object"),
        ({}, "%%bb_run fn f\nnot json", "the cell body (function params) is not valid JSON"),
        ({"u": ["a"]}, "%bb_run fn f --foreach u", "not a dict of params"),
        ({"big": {"x": "y" * 70_000}}, "%bb_run fn f --params-var big", "64 KB"),
        ({}, "%bb_run attach", "exactly one ID"),
        ({}, "%bb_run stop a b", "exactly one ID"),
        ({}, "%%bb_run attach x\nbody", "takes no cell body"),
    ],
    ids=[
        "task-twice",
        "no-task",
        "blank-task",
        "schema-bad-json",
        "schema-invalid",
        "schema-var-missing",
        "schema-both",
        "schema-var-wrong-type",
        "agent-settings-invalid",
        "agent-settings-unsupported",
        "function-settings-region",
        "function-settings-timeout",
        "function-settings-wrong-type",
        "settings-widget-wrong-value",
        "row-without-foreach",
        "unknown-template",
        "template-typo",
        "foreach-empty",
        "foreach-not-iterable",
        "concurrency-without-foreach",
        "foreach-missing-value",
        "foreach-bad-column",
        "var-unknown-template",
        "var-bad-name",
        "params-for-agent",
        "function-no-id",
        "function-two-ids",
        "agent-id-for-function",
        "var-for-function",
        "params-twice",
        "params-not-object",
        "cell-params-bad-json",
        "foreach-scalars-without-template",
        "params-too-large",
        "attach-no-id",
        "stop-two-ids",
        "attach-cell-body",
    ],
)
def test_user_mistakes_are_one_line_usage_errors(
    shell: InteractiveShell,
    run: CellRunner,
    setup: dict[str, Any],
    source: str,
    fragment: str,
) -> None:
    """Each user mistake raises ``UsageError``: one line on stderr, no traceback, nothing sent."""
    shell.user_ns.update(setup)
    cell = run(source)
    assert isinstance(cell.error, UsageError), (cell.out, cell.err)
    assert fragment in str(cell.error)
    assert cell.err.startswith("UsageError: ") and cell.err.count("\n") == 1
    assert "Traceback" not in cell.out + cell.err
