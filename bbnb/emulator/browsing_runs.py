"""Agent runs worked by the browsing agent: when, how they start, and their messages.

A run whose task names a page the emulator's pages can open (the local web, a
loopback server; any page with ``EmulatorConfig(open_web=True)``) is worked for real by
``bbnb.emulator.browsing_agent`` in the background.  While it works, the run is
RUNNING, whatever the emulator's clock says (a ``ManualClock`` does not hurry real
work); when it ends, its duration, outcome, cause, result and messages are stored
on the record.  Real work takes real time, so the limit is ``config.run_max_seconds``
real seconds, whatever the speed: past it the run ends ``TIMED_OUT``.  Other runs (no page it can open, or
``pauseWhen``, which the rule-based agent cannot judge) keep the simulated plan, and
their transcript says why.
"""

from __future__ import annotations

import asyncio
import logging
import math
from typing import TYPE_CHECKING, Any

from bbnb.emulator.browser_pages import BrowserPages
from bbnb.emulator.browsing_agent import AgentOutcome, AgentStopped, browse, substitute, task_urls
from bbnb.emulator.pages import HttpPages, PageOpener, closed_web
from bbnb.emulator.records import RunRecord
from bbnb.emulator.wire import iso, stable_uuid

if TYPE_CHECKING:
    from bbnb.emulator.service import EmulatorService

__all__ = ["fallback_reason", "opener_of", "start_browsing", "trace_messages"]

log = logging.getLogger("bbnb.emulator")


def opener_of(emu: EmulatorService, session_id: str | None = None) -> PageOpener:
    """The pages a run or invocation uses: its session's real browser when the emulator
    has real browsers, else HTTP pages (no JavaScript) of the local web and loopback."""
    opener: PageOpener | None = getattr(emu, "page_opener", None)
    if opener is not None:
        return opener
    if session_id is not None and emu.live.real:
        return BrowserPages(emu.live, session_id)
    return HttpPages(emu.config.seed, open_web=emu.config.open_web)


def fallback_reason(task: str, pause_when: str | None) -> str:
    """Why a run of ``task`` answers with generated values instead of reading pages."""
    if pause_when:
        return "runs with pauseWhen follow a simulated script (the rule-based agent cannot judge when to pause)"
    urls = task_urls(task)
    if not urls:
        return "the task names no page to open"
    return closed_web(urls[0])


def _browsable(emu: EmulatorService, run: RunRecord, opener: PageOpener) -> bool:
    if run.pause_when:
        return False
    return any(opener.can_open(u) for u in task_urls(substitute(run.task, run.variables)))


def start_browsing(
    emu: EmulatorService, run: RunRecord, schema: dict[str, Any] | None
) -> asyncio.Task[None] | None:
    """Work ``run`` with the browsing agent when its task names a page it can open.

    On an event loop the work runs as a task (returned, so the owner can wait for
    it); without one it runs to the end before this returns.  Returns None when the
    run keeps its simulated plan, or has already finished.
    """
    opener = opener_of(emu, run.session_id)
    if not _browsable(emu, run, opener):
        return None
    limit = emu.config.run_max_seconds  # real work runs on real time: no speed-up
    run.run_s = limit
    run.outcome = "TIMED_OUT"
    run.cause = ["TIMED_OUT", f"The run exceeded its maximum duration of {limit:g} seconds."]
    run.result, run.partial, run.steps, run.trace = None, None, 0, []
    emu.store.save(run)  # what a restart finds if this process dies while the agent works
    run.run_s = math.inf  # RUNNING until the agent ends (the limit is a real-time timeout)
    work = _work(emu, run, schema, opener, limit)
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        asyncio.run(work)
        return None
    return asyncio.ensure_future(work)


async def _work(
    emu: EmulatorService,
    run: RunRecord,
    schema: dict[str, Any] | None,
    opener: PageOpener,
    limit: float,
) -> None:
    clock = emu.clock
    run.pending_s = max(0.0, clock.now() - run.created)
    task = substitute(run.task, run.variables)
    outcome: AgentOutcome | None = None
    try:
        async with asyncio.timeout(limit):
            outcome = await browse(
                task,
                schema,
                opener,
                now=clock.now,
                should_stop=lambda: run.stopped_at is not None,
                progress=lambda steps: _show(run, AgentOutcome("RUNNING", steps=steps)),
            )
    except AgentStopped:
        log.info("run %s was stopped while browsing", run.run_id)
    except TimeoutError:
        log.info("run %s timed out after %g s of browsing", run.run_id, limit)
    except Exception:  # the agent has a bug: end the run as a runner failure, keep serving
        log.exception("the browsing agent failed on run %s", run.run_id)
        outcome = AgentOutcome(
            "FAILED", cause=("AGENT_ERROR", "The rule-based agent failed; see the emulator log.")
        )
    run.run_s = max(0.0, clock.now() - run.start)
    if outcome is not None and run.stopped_at is None:
        run.outcome = outcome.status
        run.cause = list(outcome.cause) if outcome.cause else None
        run.steps = sum(1 for s in outcome.steps)
        _show(run, outcome)
        if outcome.status == "COMPLETED":
            run.result = {
                "output": outcome.output,
                "summary": outcome.summary,
                "stepsTaken": run.steps,
                "taskDuration": round(run.run_s, 1),
            }
    emu.store.save(run)
    if emu.live.browsers.get(run.session_id) is not None:
        # The run is over: its browser goes (and stops counting against --max-browsers).
        await emu.live.finish(run.session_id, "COMPLETED")


def _show(run: RunRecord, outcome: AgentOutcome) -> None:
    """Put ``outcome``'s messages on the run (as far as they go), without secrets."""
    run.trace = [
        [t, role, _secret_free(content, run.variables)] for t, role, content in outcome.messages()
    ]


def _secret_free(content: Any, variables: dict[str, str]) -> Any:
    """``content`` with variable values put back as ``%name%`` (transcripts keep no secrets)."""
    if not variables:
        return content
    if isinstance(content, str):
        for name, value in variables.items():
            if value:
                content = content.replace(value, f"%{name}%")
        return content
    if isinstance(content, list):
        return [_secret_free(c, variables) for c in content]
    if isinstance(content, dict):
        return {k: _secret_free(v, variables) for k, v in content.items()}
    return content


def trace_messages(run: RunRecord, now: float) -> list[dict[str, Any]]:
    """The stored messages of a browsing run written by ``now`` (wire-shaped)."""
    state = run.state(now)
    horizon = now if state.ended is None else min(now, state.ended)
    out = []
    for index, (t, role, content) in enumerate(run.trace or []):
        if t > horizon:
            break
        out.append(
            {
                "id": stable_uuid(run.run_id, "msg", index),
                "createdAt": iso(t),
                "message": {"role": role, "content": content},
            }
        )
    return out
