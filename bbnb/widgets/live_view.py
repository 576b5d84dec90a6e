"""``LiveView``: watch a session's browser while it runs, in the notebook.

Against Browserbase, the session's ``debuggerFullscreenUrl`` (``client.sessions.debug``)
is embedded in an iframe (``.iframe``, an ``ipywidgets.HTML``), with a tab picker
when the session has several pages.  Against the emulator, pictures are pulled
through the kernel from a ``FrameSource`` and shown in ``.image`` (an
``ipywidgets.Image``), so it works where the notebook's browser cannot reach the
emulator's port (Binder, remote kernels).  The default source, ``ClientFeed``,
long-polls the emulator's screencast route (``client.sessions.screencast``); pass
``frames=`` to use another.  A background thread pulls the newest
frame (older ones are skipped, never queued) at up to ``max_fps``; it stops when the
source says the session ended, or on ``close()``.  In iframe mode a thread polls the
session and replaces the iframe by a note when the session ends.
"""

from __future__ import annotations

import html
import threading
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import ipywidgets as w

from bbnb._exceptions import APIStatusError
from bbnb.client._resources.sessions import SCREENCAST_MAX_WAIT
from bbnb.models import SessionLiveUrls
from bbnb.widgets._client import UsesClient
from bbnb.widgets._feedback import ErrorBox, call_guarded
from bbnb.widgets.replay import session_of

__all__ = ["ClientFeed", "FrameSource", "LiveFrame", "LiveView"]

_TERMINAL = frozenset({"COMPLETED", "ERROR", "TIMED_OUT"})
_IFRAME_STYLE = "width:100%;height:540px;border:1px solid #ccc;border-radius:4px"
_THUMB_STYLE = "width:320px;height:200px;border:1px solid #ccc;border-radius:4px"


@dataclass(frozen=True, slots=True)
class LiveFrame:
    """One screencast picture: sequence number, JPEG bytes, time (epoch seconds) and page."""

    seq: int
    jpeg: bytes
    t: float
    page_id: str = "0"

    def __repr__(self) -> str:
        return (
            f"LiveFrame(seq={self.seq}, t={self.t:.3f}, page_id={self.page_id!r}, "
            f"{len(self.jpeg)} bytes)"
        )


@runtime_checkable
class FrameSource(Protocol):
    """Where live pictures of one session come from (the emulator's screencast feed)."""

    def next_frame(
        self, after: int, timeout: float, page_id: str | None = None
    ) -> LiveFrame | None:
        """The newest frame with ``seq > after`` (of page ``page_id``, or of any page),
        waiting up to ``timeout`` s; None if none came."""
        ...

    @property
    def ended(self) -> bool:
        """True once the session has ended and no more frames will come."""
        ...


class ClientFeed:
    """A ``FrameSource`` that long-polls the emulator's screencast route through a client."""

    def __init__(self, client: Any, session_id: str) -> None:
        self._client = client
        self.session_id = session_id
        self._ended = False

    def __repr__(self) -> str:
        return f"ClientFeed(session_id={self.session_id!r}, ended={self._ended})"

    def next_frame(
        self, after: int, timeout: float, page_id: str | None = None
    ) -> LiveFrame | None:
        """The newest frame after ``after`` (None if none came within ``timeout``)."""
        if self._ended:
            return None
        try:
            shot = self._client.sessions.screencast(
                self.session_id,
                after=after,
                timeout=min(timeout, SCREENCAST_MAX_WAIT),
                page_id=page_id,
            )
        except APIStatusError as error:
            if error.status_code == 410:
                self._ended = True
                return None
            raise
        return None if shot is None else LiveFrame(shot.seq, shot.jpeg, shot.t, shot.page_id)

    @property
    def ended(self) -> bool:
        """True once the emulator said the session ended."""
        return self._ended


class LiveView(UsesClient, w.VBox):  # type: ignore[misc]
    """The live browser of a session (or of a run's session)."""

    def __init__(
        self,
        source: Any,
        *,
        client: Any = None,
        frames: FrameSource | None = None,
        max_fps: float = 10.0,
        poll_interval: float = 2.0,
        watch: bool = True,
        thumbnail: bool = False,
    ) -> None:
        self.session_id = session_of(source)
        self.thumbnail = thumbnail
        self._client = client
        if max_fps <= 0 or poll_interval <= 0:
            raise ValueError(
                f"max_fps and poll_interval must be > 0 (got {max_fps!r}, {poll_interval!r})"
            )
        self.max_fps = max_fps
        self.poll_interval = poll_interval
        self.box = ErrorBox()
        self.status = w.HTML(value="")
        # A border: a page's white edge must not blend into the notebook's background.
        self.image = w.Image(
            format="jpeg",
            layout=w.Layout(
                max_width="240px" if thumbnail else "960px", border="1px solid #d1d5db"
            ),
        )
        self.iframe = w.HTML(value="")
        self.tabs = w.Dropdown(options=[], description="Tab", layout=w.Layout(display="none"))
        self.frames_shown = 0
        self.last_frame: LiveFrame | None = None
        #: Frames mode: the page (tab) shown, or None for whichever changed last.
        self._page_filter: str | None = None
        self.pages_seen: list[str] = []
        self.live_urls: SessionLiveUrls | None = None
        if frames is None:
            # Also tells whether this is the emulator (its answers carry x-bb-emulator).
            self.client.sessions.retrieve(self.session_id)
            if self.client.simulated:
                frames = ClientFeed(self.client, self.session_id)
        self._frames = frames
        self._cancel = threading.Event()
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None
        self.mode = "frames" if frames is not None else "iframe"
        body = self.image if self.mode == "frames" else self.iframe
        super().__init__(children=[self.status, self.tabs, body, self.box.widget])
        self.add_class("bbnb-live-view")
        if thumbnail:
            self.add_class("bbnb-live-thumbnail")
        self.tabs.observe(lambda change: self._show_tab(change["new"]), names="value")
        if self.mode == "frames":
            self._say(
                f"{self.session_id[:8]}…"
                if thumbnail
                else f"Live view of session {self.session_id} (through the kernel)"
            )
            target = self._pull
        else:
            live = call_guarded(self.box, self.client.sessions.debug, self.session_id)
            if live is not None:
                self._embed(live)
            target = self._watch_session
        if watch:
            self._thread = threading.Thread(target=target, name="bbnb-live-view", daemon=True)
            self._thread.start()
        else:
            self._stopped.set()

    @property
    def running(self) -> bool:
        """True while frames are pulled or the session is watched."""
        return not self._stopped.is_set()

    def wait_stopped(self, timeout: float | None = None) -> bool:
        """Block until the view has stopped (the session ended, or ``close()``)."""
        return self._stopped.wait(timeout)

    def _say(self, text: str) -> None:
        self.status.value = f'<span class="bbnb-live-status">{html.escape(text)}</span>'

    # -- iframe mode (Browserbase) ---------------------------------------------------
    def _embed(self, live: SessionLiveUrls) -> None:
        self.live_urls = live
        pages = [(page.title or page.url or page.id, page.id) for page in live.pages]
        if len(pages) > 1:
            self.tabs.options = [("Active tab", ""), *pages]
            self.tabs.layout.display = ""
        self._set_iframe(live.debugger_fullscreen_url)
        self._say(f"Live view of session {self.session_id}")

    def _show_tab(self, page_id: str) -> None:
        if self.mode == "frames":
            self._page_filter = page_id or None
            return
        live = self.live_urls
        if live is None:
            return
        url = next(
            (p.debugger_fullscreen_url for p in live.pages if p.id == page_id),
            live.debugger_fullscreen_url,
        )
        self._set_iframe(url)

    def _set_iframe(self, url: str) -> None:
        self.iframe.value = (
            f'<iframe class="bbnb-live-iframe" src="{html.escape(url, quote=True)}" '
            f'style="{_THUMB_STYLE if self.thumbnail else _IFRAME_STYLE}" sandbox="allow-same-origin allow-scripts" '
            'allow="clipboard-read; clipboard-write"></iframe>'
        )

    def _watch_session(self) -> None:
        try:
            while not self._cancel.wait(self.poll_interval):
                session = call_guarded(self.box, self.client.sessions.retrieve, self.session_id)
                if session is not None and session.status in _TERMINAL:
                    self.iframe.value = ""
                    self._say(f"Session {self.session_id} ended ({session.status}).")
                    return
        finally:
            self._stopped.set()

    # -- frames mode (emulator) -------------------------------------------------------
    def _pull(self) -> None:
        frames = self._frames
        assert frames is not None
        gap = 1.0 / self.max_fps
        seq = -1
        showing: str | None = None
        try:
            while not self._cancel.is_set():
                wanted = self._page_filter
                if wanted != showing:  # a tab was picked: show its newest picture at once
                    showing, seq = wanted, -1
                failures = len(self.box.errors)
                frame = call_guarded(self.box, frames.next_frame, seq, 0.25, showing)
                if len(self.box.errors) > failures and self._cancel.wait(1.0):
                    break
                if frame is not None:
                    seq = frame.seq
                    self._note_page(frame.page_id)
                    self.last_frame = frame
                    self.frames_shown += 1
                    self.image.value = frame.jpeg
                    if self._cancel.wait(gap):
                        break
                elif frames.ended:
                    self._say(f"Session {self.session_id} ended.")
                    return
        finally:
            self._stopped.set()

    def _note_page(self, page_id: str) -> None:
        """Offer a tab picker once a second page (tab) shows up."""
        if page_id in self.pages_seen:
            return
        self.pages_seen.append(page_id)
        if len(self.pages_seen) > 1:
            self.tabs.options = [("Newest", "")] + [(f"Tab {p}", p) for p in self.pages_seen]
            self.tabs.layout.display = ""

    def stop(self) -> None:
        """Stop pulling frames or watching; the last picture stays on screen."""
        if not hasattr(self, "_cancel"):  # __init__ refused its arguments
            return
        self._cancel.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5)

    def close(self) -> None:
        """Stop pulling frames or watching, then close the widget."""
        self.stop()
        super().close()
