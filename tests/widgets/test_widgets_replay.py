"""Replay: a finished run's recording decoded into timestamped frames, stepped with its messages."""

from __future__ import annotations

import html
from typing import Any

import av
import numpy as np
import pytest

from bbnb.client._client import Client
from bbnb.emulator import Emulator, EmulatorConfig
from bbnb.models import Message
from bbnb.widgets import LiveView, Replay
from bbnb.widgets.replay import step_text
from bbnb.widgets.run_panel import step_text as panel_step_text
from tests.synthetic_frames import coded_jpeg, read_code


def _code(jpeg: bytes) -> int:
    """The number drawn in a JPEG picture."""
    codec = av.CodecContext.create("mjpeg", "r")
    frame = codec.decode(av.Packet(jpeg))[0]
    return read_code(np.asarray(frame.to_ndarray(format="rgb24")))


@pytest.fixture
def finished_run(widget_emulator: Emulator, widget_client: Client) -> Any:
    """A completed agent run whose session recorded one frame at each message's time."""
    run = widget_client.agents.runs.create(task="Read the title of example.com")
    run = widget_client.agents.runs.wait(run.run_id)
    recording = widget_emulator.recordings.start(run.session_id)
    for i, message in enumerate(widget_client.agents.runs.messages(run.run_id)):
        recording.add_frame("TAB", coded_jpeg(i + 1), message.created_at.timestamp())
    return run


def test_replay_frames_match_the_run_messages(widget_client: Client, finished_run: Any) -> None:
    """Each decoded frame has its message's time and picture, and shows that message as the step."""
    messages = list(widget_client.agents.runs.messages(finished_run.run_id))
    replay = Replay(finished_run, client=widget_client)
    assert replay.box.errors == []
    times = [round(m.created_at.timestamp(), 3) for m in messages]
    assert [f.t for f in replay.frames][: len(times)] == times
    for i, message in enumerate(messages):
        replay.slider.value = i
        assert _code(bytes(replay.image.value)) == i + 1
        assert replay.step.value and step_text(message)[:30] in html.unescape(replay.step.value)
    assert replay.frames[-1].page_id == "0"


def test_play_moves_the_slider_and_the_picture(widget_client: Client, finished_run: Any) -> None:
    """The play button's value drives the slider; the picture follows."""
    replay = Replay(finished_run, client=widget_client)
    replay.play.value = 3
    assert replay.slider.value == 3 and replay.index == 3
    assert _code(bytes(replay.image.value)) == 4
    assert replay.play.max == replay.slider.max == len(replay.frames) - 1
    assert 50 <= replay.play.interval <= 1000


def test_replay_by_session_id_with_two_pages(
    widget_emulator: Emulator, widget_client: Client
) -> None:
    """A plain session id works; frames of two tabs are merged in time order with their page ids."""
    session = widget_client.sessions.create()
    recording = widget_emulator.recordings.start(session.id)
    t0 = widget_emulator.clock.now()
    recording.add_frame("A", coded_jpeg(10), t0)
    recording.add_frame("B", coded_jpeg(20), t0 + 0.5)
    recording.add_frame("A", coded_jpeg(11), t0 + 1.0)
    widget_client.sessions.release(session.id)
    replay = Replay(session.id, client=widget_client)
    pictures = [(f.page_id, _code(f.jpeg)) for f in replay.frames]
    assert pictures[:3] == [("0", 10), ("1", 20), ("0", 11)]
    assert replay.steps == [] and replay.step.value == ""


def test_session_without_recording_says_so(widget_client: Client) -> None:
    """No frames: a calm message in the widget, no exception."""
    session = widget_client.sessions.create(browser_settings={"record_session": False})
    replay = Replay(session.id, client=widget_client)
    assert replay.frames == []
    assert "no recorded frames" in replay.box.widget.value


@pytest.mark.parametrize(
    ("source", "error", "message"),
    [("", ValueError, "must not be empty"), (42, TypeError, "has no session_id")],
    ids=["empty-id", "not-a-run"],
)
def test_bad_source_is_refused(
    widget_client: Client, source: Any, error: type[Exception], message: str
) -> None:
    """Something that is not a session id or a run is refused with what to pass."""
    with pytest.raises(error, match=message):
        Replay(source, client=widget_client)


def test_invocation_replay_steps_are_its_logs(
    widget_emulator: Emulator, widget_client: Client
) -> None:
    """For a function invocation, the step beside each frame is the handler's latest log line."""
    invocation = widget_client.functions.invoke("echo", params={"x": 1}, wait=True)
    logs = widget_client.functions.invocations.logs(invocation.id).logs
    assert logs
    recording = widget_emulator.recordings.start(invocation.session_id)
    recording.add_frame("TAB", coded_jpeg(9), logs[0].timestamp / 1000)
    replay = Replay(invocation, client=widget_client)
    assert [s.text for s in replay.steps] == [f"log: {line.message}" for line in logs]
    assert "echoing 1 params" in html.unescape(replay.step.value)


SENTINEL_KEY = "bb_live_SENTINEL_7f3a9c_do_not_leak"


def _state_text(widget: Any) -> str:
    """Every trait value a widget and its children send to the front end, as text."""
    parts = [repr(widget.get_state())]
    for child in getattr(widget, "children", ()):
        parts.append(_state_text(child))
    return "\n".join(parts)


@pytest.mark.parametrize(
    "widget_config", [EmulatorConfig(seed=7, api_key=SENTINEL_KEY)], ids=["sentinel-key"]
)
def test_api_key_never_reaches_widget_state(
    widget_emulator: Emulator, widget_client: Client, finished_run: Any
) -> None:
    """Neither Replay nor LiveView puts the API key in any trait, repr or error line."""
    replay = Replay(finished_run, client=widget_client)
    live = LiveView(finished_run, client=widget_client)
    try:
        assert live.wait_stopped(5.0)
        for widget in (replay, live):
            assert SENTINEL_KEY not in _state_text(widget)
            assert SENTINEL_KEY not in repr(widget)
    finally:
        live.close()
    assert widget_emulator.config.api_key == SENTINEL_KEY


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ({"_id": "r1", "_session_id": None, "_task": "t"}, "run r1 has no _session_id"),
        ({"_id": None}, "this row has no _session_id"),
        (42, "give a row of a bbnb.to_frame DataFrame"),
    ],
    ids=["no-session", "no-columns", "not-a-row"],
)
def test_replay_of_a_bad_row_says_what_to_give(row: Any, message: str) -> None:
    """A row without a session (or no row at all) gets an error naming the fix."""
    import bbnb

    with pytest.raises((TypeError, ValueError), match=message):
        bbnb.replay(row)


def test_replay_of_a_frame_row_reads_the_run(widget_client: Client, finished_run: Any) -> None:
    """A ``to_frame`` row of an agent run gives its session and its messages as steps."""
    import bbnb

    row = bbnb.to_frame(finished_run).iloc[0]
    replay = bbnb.replay(row, client=widget_client)
    assert replay.session_id == finished_run.session_id
    assert replay.run_id == finished_run.run_id
    assert len(replay.steps) == len(list(widget_client.agents.runs.messages(finished_run.run_id)))


def test_a_picture_before_the_first_step_names_the_step_to_come(
    widget_emulator: Emulator, widget_client: Client
) -> None:
    """The tab can paint a moment before the agent writes its first step: say what comes next."""
    run = widget_client.agents.runs.wait(
        widget_client.agents.runs.create(task="Read the title of example.com").run_id
    )
    messages = list(widget_client.agents.runs.messages(run.run_id))
    recording = widget_emulator.recordings.start(run.session_id)
    recording.add_frame("TAB", coded_jpeg(1), messages[0].created_at.timestamp() - 0.3)
    recording.add_frame("TAB", coded_jpeg(2), messages[0].created_at.timestamp() + 0.1)
    replay = Replay(run, client=widget_client)
    shown = html.unescape(replay.step.value)
    assert "(before the first step, 0.3 s later)" in shown
    assert step_text(messages[0])[:20] in shown
    replay.slider.value = 1
    assert "before the first step" not in html.unescape(replay.step.value)


def test_tool_calls_and_results_read_as_steps() -> None:
    """A tool call shows its input and a tool result its output, never ``goto(None)``."""
    call = Message.model_validate(
        {
            "id": "m1",
            "createdAt": "2026-11-30T12:00:00Z",
            "message": {
                "role": "assistant",
                "content": [
                    {"type": "text", "text": "Opening the page."},
                    {
                        "type": "tool-call",
                        "toolCallId": "c1",
                        "toolName": "goto",
                        "input": {"url": "http://shop.bbnb.test/"},
                    },
                ],
            },
        }
    )
    result = Message.model_validate(
        {
            "id": "m2",
            "createdAt": "2026-11-30T12:00:01Z",
            "message": {
                "role": "tool",
                "content": [
                    {
                        "type": "tool-result",
                        "toolCallId": "c1",
                        "toolName": "goto",
                        "output": {"status": 200, "title": "bbnb Shop"},
                    }
                ],
            },
        }
    )
    assert step_text(call) == (
        'assistant: Opening the page. goto({"url": "http://shop.bbnb.test/"})'
    )
    assert step_text(result) == 'tool: goto → {"status": 200, "title": "bbnb Shop"}'
    assert panel_step_text(result) == 'goto → {"status": 200, "title": "bbnb Shop"}'
    assert panel_step_text(call) == 'goto({"url": "http://shop.bbnb.test/"})'
