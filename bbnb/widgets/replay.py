"""``Replay``: step through a finished session's recording, with the agent's step beside it.

``Replay(run_or_session_id, client=...)`` reads the session's replay pages
(``client.sessions.replays``), fetches each page's video and decodes it with PyAV into
``.frames`` (``ReplayFrame``: epoch time, page, JPEG), sorted by time.  A play button
and a slider move through them; ``.image`` (an ``ipywidgets.Image``) shows the current
frame and ``.step`` the message the agent had written last at that moment (for an
agent run: its transcript, fetched from ``client.agents.runs.messages``).  It works the
same against Browserbase and the emulator: both serve replays as HLS video.  Frames
are kept as JPEGs (tens of KB each at ``max_width``); ``max_frames`` bounds how many
(the first ones of the session).  For a
function invocation the steps are its handler's log lines
(``client.functions.invocations.logs``).
"""

from __future__ import annotations

import bisect
import html
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import ipywidgets as w

from bbnb.models import Message, MessagePart
from bbnb.widgets._client import UsesClient
from bbnb.widgets._feedback import ErrorBox
from bbnb.widgets._video import ReplayFrame, decode_video

__all__ = [
    "Replay",
    "ReplayFrame",
    "RowRef",
    "Step",
    "part_text",
    "replay",
    "session_of",
    "step_text",
]

_STEP_STYLE = "font-size:12px;line-height:1.35;max-height:360px;overflow:auto;white-space:pre-wrap"
_TEXT_LIMIT = 600


def session_of(source: Any) -> str:
    """The session id of a run, an invocation, or a session id given as text."""
    if isinstance(source, str):
        if not source.strip():
            raise ValueError("session id must not be empty")
        return source
    session_id = getattr(source, "session_id", None)
    if isinstance(session_id, str) and session_id:
        return session_id
    raise TypeError(
        f"give a session id, an agent run or an invocation; a {type(source).__name__} "
        "has no session_id (a run that has not started has none yet)"
    )


@dataclass(frozen=True, slots=True)
class RowRef:
    """What a ``to_frame`` row says about its run: the session, and the run or invocation."""

    session_id: str
    run_id: str | None = None
    id: str | None = None  # an invocation's id (then ``function_id`` is set too)
    function_id: str | None = None


def _cell(row: Any, name: str) -> str | None:
    try:
        value = row[name]
    except (KeyError, IndexError, TypeError):
        return None
    return value if isinstance(value, str) and value else None


def row_ref(row: Any) -> RowRef:
    """The ``RowRef`` of one row of a ``bbnb.to_frame`` DataFrame (``df.iloc[i]``)."""
    if hasattr(row, "iloc") and hasattr(row, "columns"):  # a DataFrame: one row only
        if len(row) != 1:
            raise ValueError(f"give one row (df.iloc[i]), not a DataFrame of {len(row)} rows")
        row = row.iloc[0]
    if not hasattr(row, "__getitem__") or isinstance(row, str):
        raise TypeError(
            f"give a row of a bbnb.to_frame DataFrame (df.iloc[i]), not a {type(row).__name__}"
        )
    session_id = _cell(row, "_session_id")
    run_or_invocation = _cell(row, "_id")
    if session_id is None:
        which = f"run {run_or_invocation}" if run_or_invocation else "this row"
        raise ValueError(
            f"{which} has no _session_id, so there is nothing to replay (it never started a "
            "session); give a row of a bbnb.to_frame DataFrame whose _session_id is set"
        )
    if _cell(row, "_task") is not None:  # agent runs carry their task; invocations do not
        return RowRef(session_id, run_id=run_or_invocation)
    if run_or_invocation is not None:
        return RowRef(session_id, id=run_or_invocation, function_id="")
    return RowRef(session_id)


def part_text(part: MessagePart) -> str | None:
    """One part of an agent message for a person: its text, a tool call with its input,
    a tool's result, or a file; None for a part with nothing to show."""
    if part.type in ("text", "reasoning") or (part.text and not part.tool_name):
        return _short(part.text) if part.text else None
    if part.type == "tool-call":
        args = json.dumps(part.input, default=str) if part.input is not None else ""
        return _short(f"{part.tool_name}({args})")
    if part.type == "tool-result":
        return _short(f"{part.tool_name} → {json.dumps(part.output, default=str)}")
    if part.type == "file":
        return f"[{part.media_type or 'file'}]"
    return None


def step_text(message: Message) -> str:
    """One message as a short line for a person: its role, then each part's text."""
    pieces = [text for text in map(part_text, message.message.parts) if text]
    text = " ".join(pieces) or f"({message.message.role} message)"
    return f"{message.message.role}: {text}"[:_TEXT_LIMIT]


def _short(text: str, limit: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


class Step:
    """A transcript entry placed in time: when it was written (epoch seconds) and its text."""

    __slots__ = ("t", "text")

    def __init__(self, t: float, text: str) -> None:
        self.t = t
        self.text = text

    def __repr__(self) -> str:
        return f"Step(t={self.t:.3f}, text={self.text[:40]!r})"


def _epoch(value: datetime) -> float:
    return value.timestamp()


def _log_time(stamp: float) -> float:
    """An invocation log's timestamp in epoch seconds (the API sends milliseconds)."""
    return stamp / 1000 if stamp > 1e11 else stamp


class Replay(UsesClient, w.VBox):  # type: ignore[misc]
    """The recording of a session (or of a run's session), frame by frame."""

    def __init__(
        self,
        source: Any,
        *,
        client: Any = None,
        messages: Sequence[Message] | None = None,
        max_frames: int = 3000,
        max_width: int | None = 960,
    ) -> None:
        self.session_id = session_of(source)
        self._client = client
        self.run_id: str | None = getattr(source, "run_id", None)
        self.invocation_id: str | None = (
            getattr(source, "id", None)
            if getattr(source, "function_id", None) is not None
            else None
        )
        self.box = ErrorBox()
        self.image = w.Image(
            format="jpeg", layout=w.Layout(max_width="720px", border="1px solid #d1d5db")
        )
        self.slider = w.IntSlider(value=0, min=0, max=0, description="frame", readout=False)
        self.play = w.Play(value=0, min=0, max=0, interval=200, description="Play")
        w.link((self.play, "value"), (self.slider, "value"))
        self.time_label = w.HTML(value="")
        self.step = w.HTML(value="", layout=w.Layout(width="320px"))
        self.frames: list[ReplayFrame] = []
        self.steps: list[Step] = []
        self.slider.observe(lambda change: self.show(change["new"]), names="value")
        super().__init__(
            children=[
                w.HTML(f"<b>Replay of session {html.escape(self.session_id)}</b>"),
                w.HBox([self.play, self.slider, self.time_label]),
                w.HBox([self.image, self.step]),
                self.box.widget,
            ]
        )
        self.add_class("bbnb-replay")
        try:
            self.steps = self._load_steps(messages)
            self.frames = self._load_frames(max_frames, max_width)
        except Exception as exc:
            self.box.show(exc)
            return
        if not self.frames:
            self.box.message(
                f"Session {self.session_id} has no recorded frames (recordSession was off, "
                "or no page was shown yet)."
            )
            return
        last = len(self.frames) - 1
        self.slider.max = self.play.max = last
        self.play.interval = self._interval()
        self.show(0)

    def _load_steps(self, messages: Sequence[Message] | None) -> list[Step]:
        if messages is None and self.run_id is not None:
            messages = list(self.client.agents.runs.messages(self.run_id))
        steps = [Step(_epoch(m.created_at), step_text(m)) for m in messages or []]
        if messages is None and self.invocation_id is not None:
            logs = self.client.functions.invocations.logs(self.invocation_id).logs
            steps = [Step(_log_time(line.timestamp), f"log: {line.message}") for line in logs]
        return sorted(steps, key=lambda s: s.t)

    def _load_frames(self, max_frames: int, max_width: int | None) -> list[ReplayFrame]:
        replay = self.client.sessions.replays.retrieve(self.session_id)
        frames: list[ReplayFrame] = []
        for page in replay.pages:
            video = self.client.sessions.replays.page_video(self.session_id, page.page_id)
            frames += decode_video(
                video,
                start=page.start_time_ms / 1000,
                page_id=page.page_id,
                max_frames=max_frames - len(frames),
                max_width=max_width,
            )
            if len(frames) >= max_frames:
                break
        return sorted(frames, key=lambda f: (f.t, f.page_id))

    def _interval(self) -> int:
        """Milliseconds between frames when playing: the typical gap, 50..1000 ms."""
        gaps = sorted(b.t - a.t for a, b in zip(self.frames, self.frames[1:], strict=False))
        typical = gaps[len(gaps) // 2] if gaps else 0.2
        return int(min(1000, max(50, typical * 1000)))

    @property
    def index(self) -> int:
        """The frame shown now."""
        return int(self.slider.value)

    def step_at(self, t: float) -> Step | None:
        """The last transcript step written at or before ``t`` (epoch seconds)."""
        at = bisect.bisect_right([s.t for s in self.steps], t + 0.0005)
        return self.steps[at - 1] if at else None

    def show(self, index: int) -> None:
        """Show frame ``index``: its picture, time, and the agent's step at that moment."""
        if not self.frames:
            return
        index = max(0, min(index, len(self.frames) - 1))
        frame = self.frames[index]
        self.image.value = frame.jpeg
        elapsed = frame.t - self.frames[0].t
        self.time_label.value = (
            f"{elapsed:6.2f} s &middot; page {html.escape(frame.page_id)} &middot; "
            f"{index + 1}/{len(self.frames)}"
        )
        step = self.step_at(frame.t)
        if step is not None:
            text = step.text
        elif self.steps:  # a picture from before the first step (the tab as it opened)
            first = self.steps[0]
            text = f"(before the first step, {first.t - frame.t:.1f} s later) {first.text}"
        else:
            text = ""
        self.step.value = (
            f'<div class="bbnb-replay-step" style="{_STEP_STYLE}">{html.escape(text)}</div>'
            if text
            else ""
        )
        if self.slider.value != index:
            self.slider.value = index


def replay(row: Any, *, client: Any = None, **options: Any) -> Replay:
    """Open the replay of one row of a ``bbnb.to_frame`` DataFrame: ``replay(df.iloc[i])``.

    The row's ``_session_id`` names the recording; its ``_id`` the agent run (whose
    messages become the steps) or the invocation (whose logs do).  Runs and session
    ids work too.  ``options`` go to ``Replay`` (``max_frames``, ``max_width``).
    """
    source = row if isinstance(row, str) or hasattr(row, "session_id") else row_ref(row)
    return Replay(source, client=client, **options)
