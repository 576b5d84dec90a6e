"""How ``%bb_run`` lays out what it shows: for a notebook's width, the answer first.

Pure functions on DataFrames (no IPython): the tidy-up applied to every frame the
magic returns, the per-batch history and its per-run drill-down, and the answer of a
single schema-less run as a short block shown above its table.
"""

from __future__ import annotations

import html
from typing import Any

__all__ = [
    "answer_bundle",
    "history_batches",
    "history_runs",
    "plural",
    "status_counts",
    "tidy_frame",
]

_TASK_WIDTH = 60
_STATUS_ORDER = ("COMPLETED", "FAILED", "TIMED_OUT", "STOPPED", "PAUSED", "RUNNING", "PENDING")
_RUN_COLUMNS = ("index", "key", "status", "cause_code", "error", "id", "ended_at")


def plural(count: int, word: str) -> str:
    """``1 row``, ``2 rows``."""
    return f"{count} {word}{'' if count == 1 else 's'}"


def tidy_frame(frame: Any) -> Any:
    """The magic's frame as a person reads it: only statuses that occur, empty cells as <NA>.

    ``_status`` keeps only the categories present (``value_counts()`` lists no zeros);
    an all-empty categorical column (``_task`` of function runs) becomes a string
    column, shown as ``<NA>`` like every other empty cell.
    """
    import pandas as pd

    for name in frame.columns:
        column = frame[name]
        if not isinstance(column.dtype, pd.CategoricalDtype):
            continue
        if name == "_status":
            frame[name] = column.cat.remove_unused_categories()
        elif len(column) and column.isna().all():
            frame[name] = column.astype("string")
    return frame


def status_counts(statuses: Any) -> str:
    """``COMPLETED 12 · FAILED 1`` (most useful first, zeros left out)."""
    counts = {str(k): int(v) for k, v in dict(statuses).items() if int(v)}
    order = [s for s in _STATUS_ORDER if s in counts] + sorted(set(counts) - set(_STATUS_ORDER))
    return " · ".join(f"{s} {counts[s]}" for s in order)


def _short(text: Any, width: int = _TASK_WIDTH) -> str:
    if not isinstance(text, str):
        return ""
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def history_batches(runs: Any) -> Any:
    """One row per batch, newest first: when, what, how many runs and how they ended.

    ``runs`` is ``bbnb.history()`` (one row per run).  Drill into one batch with
    ``%bb_run history BATCH_ID``.
    """
    import pandas as pd

    columns = ["batch_id", "created", "kind", "state", "runs", "statuses", "task"]
    if runs is None or len(runs) == 0:
        return pd.DataFrame({c: pd.Series(dtype="string") for c in columns})
    rows = []
    for batch_id, group in runs.groupby("batch_id", sort=False):
        first = group.iloc[0]
        what = first.get("task")
        if not isinstance(what, str) or not what:
            what = f"function {first.get('function_id') or ''}".strip()
        created = first.get("batch_created_at")
        rows.append(
            {
                "batch_id": batch_id,
                "created": created.strftime("%Y-%m-%d %H:%M:%S") if pd.notna(created) else "",
                "kind": first.get("kind", ""),
                "state": first.get("batch_state", ""),
                "runs": len(group),
                "statuses": status_counts(group["status"].fillna("NOT SUBMITTED").value_counts()),
                "task": _short(what),
            }
        )
    frame = pd.DataFrame(rows, columns=columns)
    return frame.astype({c: "string" for c in columns if c != "runs"})


def history_runs(runs: Any) -> Any:
    """The runs of one batch in the columns a person checks first (all of them: bbnb.history())."""
    keep = [c for c in _RUN_COLUMNS if c in runs.columns]
    return runs[keep].reset_index(drop=True)


def answer_bundle(answer: str) -> dict[str, str]:
    """A single run's answer as a short block shown above its table (plain text and HTML)."""
    return {
        "text/plain": f"Answer: {answer}",
        "text/html": (
            "<div class='bbnb-answer' style='border-left:3px solid #15803d;padding:4px 8px;"
            "margin:2px 0;white-space:pre-wrap'><b>Answer</b><br>"
            f"{html.escape(answer)}</div>"
        ),
    }
