"""The widgets answer an identical, already COMPLETED request from the journal's result cache."""

from __future__ import annotations

import html
from typing import Any

import pytest

from bbnb._clock import ManualClock
from bbnb.client._client import Client
from bbnb.emulator import Emulator, EmulatorConfig
from bbnb.runs import cache_info, run_many
from bbnb.widgets import AgentTask, FunctionInvoke

SETTLE = 30.0
"""Real seconds a test waits for a widget to settle before failing."""

TASK = "List the products on example.com"


def _ran(form: Any) -> Any:
    """Click Run and wait for the panel to settle; the run (fresh or cached)."""
    form.run_button.click()
    return form.wait(SETTLE)


@pytest.fixture
def prices(widget_emulator: Emulator) -> str:
    """A deployed function returning one row per sku."""
    return widget_emulator.register_function(
        "prices", lambda params, context: [{"sku": s, "price": 9.5} for s in params["skus"]]
    )


def test_same_task_twice_is_answered_from_the_cache(
    widget_emulator: Emulator, widget_client: Any
) -> None:
    """Re-running an identical task creates no run and shows the cached answer, saying so."""
    first = AgentTask(TASK, client=widget_client)
    run = _ran(first)
    assert run.status == "COMPLETED", first.errors
    assert widget_emulator.stats.runs_created == 1
    assert not bool(first.frame["_cached"].iloc[0])
    assert first.panel.cache_box.layout.display == "none"

    again = AgentTask(TASK, client=widget_client)  # the notebook re-run
    cached = _ran(again)
    assert again.errors == []
    assert widget_emulator.stats.runs_created == 1, "no new run was created"
    assert cached.id == run.id
    assert again.cached is not None and again.result.id == run.id
    assert "COMPLETED" in again.panel.status.value
    note = html.unescape(again.panel.cache_note.value)
    assert "from cache (" in note and " ago)" in note and run.id in note
    assert again.panel.cache_box.layout.display == "flex"
    assert not again.panel.again_button.disabled
    assert "bbnb-result-table" in again.panel.result_html.value
    # a simulated session recorded nothing: no replay section, and no error either
    assert again.replay is None and again.panel.watch.layout.display == "none"
    assert bool(again.frame["_cached"].iloc[0])
    assert again.frame["_cached_at"].notna().all()
    data = [c for c in first.frame.columns if not c.startswith("_")]
    assert again.frame[data].equals(first.frame[data])


def test_run_again_creates_a_new_run_and_caches_it(
    widget_emulator: Emulator, widget_client: Any
) -> None:
    """Run again beside a cached answer creates a run; the next identical Run gets that one."""
    form = AgentTask(TASK, client=widget_client)
    old = _ran(form)
    assert _ran(form).id == old.id and widget_emulator.stats.runs_created == 1
    form.panel.again_button.click()
    new = form.wait(SETTLE)
    assert form.errors == []
    assert widget_emulator.stats.runs_created == 2
    assert new.status == "COMPLETED" and new.id != old.id
    assert form.cached is None and not bool(form.frame["_cached"].iloc[0])
    assert form.panel.cache_box.layout.display == "none"
    assert _ran(form).id == new.id, "the refreshed answer replaced the old one"
    assert widget_emulator.stats.runs_created == 2


@pytest.mark.parametrize(
    "widget_config",
    [EmulatorConfig(seed=7, run_failure_rate=1.0)],
    ids=["every-run-fails"],
)
def test_a_failed_run_is_never_served_from_the_cache(
    widget_emulator: Emulator, widget_client: Any
) -> None:
    """A FAILED run is not cached: the same task runs again."""
    form = AgentTask(TASK, client=widget_client)
    first = _ran(form)
    assert first.status == "FAILED"
    second = _ran(form)
    assert second.status == "FAILED" and second.id != first.id
    assert widget_emulator.stats.runs_created == 2
    assert form.cached is None
    assert form.panel.cache_box.layout.display == "none"
    assert cache_info()["entries"] == 0


def test_function_invocation_twice_is_answered_from_the_cache(
    widget_emulator: Emulator, widget_client: Any, prices: str
) -> None:
    """An identical invocation is served from the cache; changed params invoke again."""
    first = FunctionInvoke(prices, {"skus": ["a", "b"]}, client=widget_client)
    invocation = _ran(first)
    assert invocation.status == "COMPLETED", first.errors
    again = FunctionInvoke(prices, {"skus": ["a", "b"]}, client=widget_client)
    assert _ran(again).id == invocation.id
    assert widget_emulator.stats.invocations_created == 1
    assert "from cache" in again.panel.cache_note.value
    assert again.frame["_cached"].all() and len(again.frame) == 2
    again.params.value = '{"skus": ["a", "b", "c"]}'
    assert _ran(again).id != invocation.id
    assert widget_emulator.stats.invocations_created == 2
    assert len(again.frame) == 3 and not again.frame["_cached"].any()


@pytest.mark.parametrize(
    ("cache", "served"),
    [pytest.param(False, "first", id="off"), pytest.param("refresh", "latest", id="refresh")],
)
def test_cache_off_or_refresh_always_runs(
    widget_emulator: Emulator, widget_client: Any, cache: bool | str, served: str
) -> None:
    """cache=False neither reads nor writes the cache; cache='refresh' runs and stores each time."""
    first = _ran(AgentTask(TASK, client=widget_client))
    forms = [AgentTask(TASK, client=widget_client, cache=cache) for _ in range(2)]
    runs = [_ran(form) for form in forms]
    assert widget_emulator.stats.runs_created == 3
    assert len({first.id, *(run.id for run in runs)}) == 3
    assert all(form.cached is None for form in forms)
    assert ("_cached" in forms[0].frame.columns) is (cache == "refresh")
    later = _ran(AgentTask(TASK, client=widget_client))
    assert later.id == (first.id if served == "first" else runs[-1].id)
    assert widget_emulator.stats.runs_created == 3


def test_the_cache_is_per_server(widget_emulator: Emulator, widget_client: Any) -> None:
    """An answer from one server is never served for another (a second emulator runs it)."""
    assert _ran(AgentTask(TASK, client=widget_client)).status == "COMPLETED"
    other = Emulator(EmulatorConfig(seed=7), clock=ManualClock())
    try:
        with Client(
            api_key=other.config.api_key,
            base_url="http://other-emulator.test",
            transport=other.transport(),
            clock=other.clock,
        ) as client:
            form = AgentTask(TASK, client=client)
            assert _ran(form).status == "COMPLETED"
            assert form.cached is None and other.stats.runs_created == 1
    finally:
        other.close()


def test_a_bad_cache_option_says_what_to_pass() -> None:
    """cache= accepts True, False or 'refresh' and says so otherwise."""
    with pytest.raises(ValueError, match="cache must be True"):
        AgentTask(TASK, cache="sometimes")


def test_variable_values_key_the_cache_but_never_reach_the_journal(
    widget_emulator: Emulator, widget_client: Any, widget_journal_home: Any
) -> None:
    """Same secret → cached; a changed secret → a new run; no secret is written to the journal."""
    secrets = ["hunter2-SENTINEL-one", "hunter2-SENTINEL-two"]

    def run_with(value: str) -> Any:
        form = AgentTask("Sign in to example.com as %user%", client=widget_client)
        form.variables.add_row("user", value)
        return _ran(form), form

    first, _ = run_with(secrets[0])
    same, form = run_with(secrets[0])
    assert same.id == first.id and form.cached is not None
    changed, form = run_with(secrets[1])
    assert changed.id != first.id and form.cached is None
    assert widget_emulator.stats.runs_created == 2
    stored = b"".join(p.read_bytes() for p in widget_journal_home.iterdir() if p.is_file())
    assert stored, "the journal was written"
    assert not any(secret.encode() in stored for secret in secrets)


def test_a_batch_answer_serves_the_widget_and_back(
    widget_emulator: Emulator, widget_client: Any
) -> None:
    """run_many(cache=True) and AgentTask share one cache: the same request is run once."""
    batch = run_many(widget_client, [TASK], cache=True, progress="none")
    (run,) = list(batch)
    form = AgentTask(TASK, client=widget_client)
    assert _ran(form).id == run.id and form.cached is not None
    fresh = AgentTask("Report the page title of example.com", client=widget_client)
    made = _ran(fresh)
    again = run_many(
        widget_client, ["Report the page title of example.com"], cache=True, progress="none"
    )
    assert [r.id for r in again] == [made.id] and again.stats.cached == 1
    assert widget_emulator.stats.runs_created == 2


def test_an_expired_answer_runs_again(widget_emulator: Emulator, widget_client: Any) -> None:
    """Past cache_ttl the cached answer is not served: the task runs again."""
    first = _ran(AgentTask(TASK, client=widget_client, cache_ttl=3600))
    within = AgentTask(TASK, client=widget_client, cache_ttl=3600)
    assert _ran(within).id == first.id
    widget_emulator.clock.advance(3601)
    expired = AgentTask(TASK, client=widget_client, cache_ttl=3600)
    assert _ran(expired).id != first.id and expired.cached is None
    assert widget_emulator.stats.runs_created == 2
