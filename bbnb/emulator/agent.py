"""The simulated agent: how long a run takes, how it ends, what it answers and says.

Everything follows from the emulator seed, the task text and how many runs of the
same task came before (so a retried task may succeed where the first try failed).
The answer conforms to the run's ``resultSchema`` (see ``fakedata``), is the same
for the same seed and task, and fills fields named like a variable with that
variable's value.  The transcript (messages) is generated on demand from the same
seed and revealed as the run's clock advances; it never contains variable values,
only their ``%name%`` placeholders, as a real agent's transcript does.
"""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass
from typing import Any

from bbnb.emulator.browsing_runs import fallback_reason, trace_messages
from bbnb.emulator.config import EmulatorConfig
from bbnb.emulator.fakedata import Hints, generate, spoil
from bbnb.emulator.records import RunRecord
from bbnb.emulator.wire import iso, stable_uuid

__all__ = ["RunPlan", "make_result", "plan_run", "task_hints", "transcript"]

_URL = re.compile(r"https?://([A-Za-z0-9.-]+)")
_DOMAIN = re.compile(
    r"\b((?:[a-z0-9-]+\.)+(?:com|org|net|io|dev|ai|co|edu|gov|uk|de|fr|app|info|news))\b",
    re.IGNORECASE,
)
_COUNT = re.compile(r"(?<![\w./:%-])(\d{1,2})(?![\w./%-])")
_PLACEHOLDER = re.compile(r"%([A-Za-z_][A-Za-z0-9_.-]*)%")

_FAILURES = (
    ("RUNNER_HEARTBEAT_LOST", "The runner stopped sending heartbeats and the run was abandoned."),
    ("NAVIGATION_FAILED", "The page at {site} could not be loaded (net::ERR_CONNECTION_RESET)."),
    ("AGENT_ERROR", "The agent could not find the requested information on {site}."),
    ("CAPTCHA_UNSOLVED", "A CAPTCHA on {site} could not be solved."),
)
_PIXEL = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="


@dataclass(frozen=True)
class RunPlan:
    """What a run will do, fixed when it is created."""

    pending_s: float
    run_s: float
    outcome: str
    steps: int
    seed: int
    cause: list[str] | None
    spoil: bool
    pause_offset: float | None


def _seed(*parts: object) -> int:
    return int(stable_uuid(*parts).replace("-", ""), 16) & ((1 << 63) - 1)


def task_hints(task: str, variables: dict[str, str] | None = None) -> Hints:
    """The site, item count and variables a task mentions."""
    match = _URL.search(task) or _DOMAIN.search(task)
    domain = match.group(1).lower() if match else "example.com"
    count_match = _COUNT.search(task)
    count = int(count_match.group(1)) if count_match else None
    if count is not None and not 1 <= count <= 50:
        count = None
    return Hints(domain=domain, count=count, variables=dict(variables or {}))


def plan_run(
    config: EmulatorConfig, *, task: str, attempt: int, pause_when: str | None, has_schema: bool
) -> RunPlan:
    """Durations and outcome of the ``attempt``-th run of ``task`` (deterministic)."""
    seed = _seed(config.seed, "run", task, attempt)
    rng = random.Random(seed)
    pending = rng.uniform(*config.run_pending_seconds) / config.speed
    run_s = rng.uniform(*config.run_seconds) / config.speed
    steps = rng.randint(3, 7)
    roll = rng.random()
    site = task_hints(task).domain
    outcome, cause = "COMPLETED", None
    if roll < config.run_failure_rate:
        code, message = rng.choice(_FAILURES)
        outcome, cause = "FAILED", [code, message.format(site=site)]
        run_s *= rng.uniform(0.3, 0.9)
    elif roll < config.run_failure_rate + config.run_timeout_rate:
        outcome = "TIMED_OUT"
        run_s = config.run_max_seconds / config.speed
        limit = f"{config.run_max_seconds:g}"
        cause = ["TIMED_OUT", f"The run exceeded its maximum duration of {limit} seconds."]
    spoil_it = outcome == "COMPLETED" and has_schema and rng.random() < config.partial_result_rate
    pause_offset = None
    if pause_when and outcome != "TIMED_OUT":
        pause_offset = run_s * max(1, steps // 2) / (steps + 1)
    return RunPlan(pending, run_s, outcome, steps, seed, cause, spoil_it, pause_offset)


def make_result(
    *,
    seed: int,
    task: str,
    schema: dict[str, Any] | None,
    variables: dict[str, str],
    steps: int,
    run_s: float,
    spoil_seed: int | None,
) -> tuple[dict[str, Any], str | None]:
    """The run's ``result`` (output + runner metadata) and, if spoiled, what was spoiled."""
    hints = task_hints(task, variables)
    schema_key = json.dumps(schema, sort_keys=True, default=str) if schema is not None else ""
    rng = random.Random(_seed(seed, "result", task, schema_key))
    note = None
    if schema is not None:
        output: Any = generate(schema, rng, hints)
        if spoil_seed is not None:
            output, note = spoil(output, schema, random.Random(spoil_seed))
    else:
        n = hints.count or rng.randint(2, 6)
        output = f"I looked at {hints.domain} and found {n} matching results for the task."
    result = {
        "output": output,
        "summary": f"Worked on {hints.domain} in {steps} steps (simulated: generated values, "
        "no page was read).",
        "stepsTaken": steps,
        "taskDuration": round(run_s, 1),
    }
    return result, note


# -- transcript --------------------------------------------------------------------------


def _message(msg_id: str, t: float, role: str, content: Any) -> dict[str, Any]:
    return {"id": msg_id, "createdAt": iso(t), "message": {"role": role, "content": content}}


def _call(call_id: str, tool: str, tool_input: Any) -> dict[str, Any]:
    return {"type": "tool-call", "toolCallId": call_id, "toolName": tool, "input": tool_input}


def _result(call_id: str, tool: str, output: Any) -> dict[str, Any]:
    return {"type": "tool-result", "toolCallId": call_id, "toolName": tool, "output": output}


def _step_tool(
    index: int, steps: int, run: RunRecord, site: str, rng: random.Random
) -> tuple[str, Any, Any, str]:
    """(tool, input, output, thought) of step ``index``."""
    url = f"https://{site}/"
    placeholders = _PLACEHOLDER.findall(run.task)
    if index == 0:
        return "goto", {"url": url}, {"status": 200, "url": url}, f"I will start at {url}."
    if index == steps - 1:
        instruction = "Extract the information the task asks for"
        preview = "the requested fields" if run.result_schema else "the answer"
        return (
            "extract",
            {"instruction": instruction},
            {"extracted": preview},
            "The page has what I need; extracting it.",
        )
    if placeholders and index == 1:
        name = placeholders[0]
        action = f"type %{name}% into the {name} field"
        return "act", {"action": action}, {"success": True}, f"I need to enter %{name}%."
    choice = rng.choice(("act", "observe", "screenshot"))
    if choice == "act":
        target = rng.choice(
            ("the search box", "the next page link", "the results filter", "the menu")
        )
        return "act", {"action": f"click {target}"}, {"success": True}, f"Clicking {target}."
    if choice == "observe":
        return (
            "observe",
            {"instruction": "find the relevant elements"},
            {"elements": rng.randint(3, 40)},
            "Looking at the page.",
        )
    return "screenshot", {}, {"mediaType": "image/png"}, "Taking a screenshot to check the layout."


def transcript(run: RunRecord, now: float) -> list[dict[str, Any]]:
    """The messages a run has written by ``now``, oldest first (wire-shaped)."""
    if run.trace is not None:
        return trace_messages(run, now)
    rng = random.Random(run.seed ^ 0x5EED)
    site = task_hints(run.task).domain
    state = run.state(now)
    horizon = now if state.ended is None else min(now, state.ended)
    steps = run.steps
    slot = run.run_s / (steps + 1)
    reason = fallback_reason(run.task, run.pause_when)
    note = f"No page was read: {reason}. The answer will be generated values (simulated)."
    items: list[tuple[float | None, str, Any]] = [(run.start, "assistant", note)]
    pause_index = max(1, steps // 2) if run.pause_offset is not None else None
    for index in range(steps):
        if index == pause_index:
            question = f"I need your input to continue: {run.pause_when}"
            items.append(
                (
                    run.pause_at,
                    "assistant",
                    [
                        {"type": "text", "text": question},
                        _call(f"call_pause_{index}", "pause", {"message": question}),
                    ],
                )
            )
            if run.resumed_at is not None:
                reply = {"reply": run.resume_task or ""}
                items.append(
                    (run.resumed_at, "tool", [_result(f"call_pause_{index}", "pause", reply)])
                )
        tool, tool_input, output, thought = _step_tool(index, steps, run, site, rng)
        base = index * slot + (slot * 0.05 if index == pause_index else 0.0)
        call_id = f"call_{stable_uuid(run.run_id, index)[:8]}"
        parts: list[dict[str, Any]] = [
            {"type": "reasoning", "text": thought},
            _call(call_id, tool, tool_input),
        ]
        items.append((run.wall_time(base + slot * 0.1), "assistant", parts))
        result_parts = [_result(call_id, tool, output)]
        if tool == "screenshot":
            result_parts.append({"type": "file", "mediaType": "image/png", "data": _PIXEL})
        items.append((run.wall_time(base + slot * 0.6), "tool", result_parts))
    if run.outcome == "COMPLETED":
        items.append(
            (run.wall_time(run.run_s), "assistant", f"Done. I completed the task on {site}.")
        )
    elif run.outcome == "FAILED" and run.cause:
        items.append(
            (run.wall_time(run.run_s), "assistant", f"I could not finish the task: {run.cause[1]}")
        )
    out: list[dict[str, Any]] = []
    for index, (t, role, content) in enumerate(items):
        if t is None or t > horizon:
            break
        out.append(_message(stable_uuid(run.run_id, "msg", index), t, role, content))
    return out
