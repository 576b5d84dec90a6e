"""Live frames of one tab through CDP ``Page.startScreencast``."""

from __future__ import annotations

import asyncio
import base64
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from bbnb.emulator.browsers.cdp import CdpError
from bbnb.emulator.browsers.session import SessionBrowser

__all__ = ["ScreencastFrame", "screencast"]


@dataclass(frozen=True)
class ScreencastFrame:
    """One JPEG frame of a tab."""

    data: bytes
    width: int
    height: int
    timestamp: float


async def screencast(
    browser: SessionBrowser, target_id: str, *, quality: int = 60, max_width: int = 1280
) -> AsyncIterator[ScreencastFrame]:
    """Yield frames of ``target_id`` until the tab or the browser goes away (or you stop)."""
    cdp = browser.cdp
    attached = await cdp.send("Target.attachToTarget", {"targetId": target_id, "flatten": True})
    session = attached["sessionId"]
    frames: asyncio.Queue[ScreencastFrame | None] = asyncio.Queue(maxsize=4)

    def on_frame(params: dict[str, Any], cdp_session: str | None) -> None:
        if cdp_session != session:
            return
        meta = params.get("metadata", {})
        frame = ScreencastFrame(
            base64.b64decode(params["data"]),
            int(meta.get("deviceWidth", 0)),
            int(meta.get("deviceHeight", 0)),
            float(meta.get("timestamp", 0.0)),
        )
        if frames.full():
            with contextlib.suppress(asyncio.QueueEmpty):
                frames.get_nowait()
        frames.put_nowait(frame)
        ack = cdp.send(
            "Page.screencastFrameAck", {"sessionId": params["sessionId"]}, session_id=session
        )
        asyncio.ensure_future(ack).add_done_callback(lambda t: t.exception())

    def on_detached(params: dict[str, Any], _s: str | None) -> None:
        if params.get("sessionId") == session:
            frames.put_nowait(None)

    unsubscribe = [
        cdp.on("Page.screencastFrame", on_frame),
        cdp.on("Target.detachedFromTarget", on_detached),
    ]
    closed = asyncio.ensure_future(cdp.closed.wait())
    getter: asyncio.Future[ScreencastFrame | None] | None = None
    try:
        await cdp.send("Page.enable", session_id=session)
        await cdp.send(
            "Page.startScreencast",
            {"format": "jpeg", "quality": quality, "maxWidth": max_width, "everyNthFrame": 1},
            session_id=session,
        )
        while True:
            getter = asyncio.ensure_future(frames.get())
            await asyncio.wait({getter, closed}, return_when=asyncio.FIRST_COMPLETED)
            if not getter.done():
                getter.cancel()
                return
            frame = getter.result()
            if frame is None:
                return
            yield frame
    finally:
        closed.cancel()
        if getter is not None:
            getter.cancel()  # closed or cancelled mid-wait: leave no task behind on the loop
        for stop in unsubscribe:
            stop()
        with contextlib.suppress(CdpError):
            await cdp.send("Page.stopScreencast", session_id=session, wait=2.0)
            await cdp.send("Target.detachFromTarget", {"sessionId": session}, wait=2.0)
