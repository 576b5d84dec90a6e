"""ipywidgets forms for Browserbase: build settings and agent tasks, run them, watch batches.

- :class:`SessionSettings`: every ``sessionCreateParams`` field, validated as you type.
- :class:`AgentTask`: task, result schema, variables, browser settings, Run/Stop/Resume.
- :class:`FunctionInvoke`: params and session settings for a function, Run, result.
- :class:`RunMonitor`: a live view of a batch with Stop-all.
- :class:`LiveView`: a session's browser while it runs (iframe, or frames through the kernel).
- :class:`Replay`: a session's recording frame by frame, with the agent's step beside it
  (``bbnb.replay(df.iloc[i])`` opens it for a row of a result DataFrame).
- :class:`LiveFollow`: the live view of a run that has no session yet (``%bb_run --live``).

``AgentTask`` and ``FunctionInvoke`` show the live view while running and the replay when
done.  Like ``%bb_run`` they answer a request identical to one that COMPLETED on the same
server within 24 h from the journal's result cache (``cache=True|False|"refresh"``; the
panel says "from cache" and offers Run again); ``RunMonitor`` shows live thumbnails of a few sessions in flight.

Secrets (variable values, proxy passwords) are captured into ``SecretStr`` in Python
and cleared from the front end; the API key is never a widget value.
"""

from __future__ import annotations

from bbnb.widgets.agent_task import AgentTask
from bbnb.widgets.function_invoke import FunctionInvoke
from bbnb.widgets.live_follow import LiveFollow
from bbnb.widgets.live_view import LiveView
from bbnb.widgets.monitor import RunMonitor
from bbnb.widgets.replay import Replay
from bbnb.widgets.settings import SessionSettings

__all__ = [
    "AgentTask",
    "FunctionInvoke",
    "LiveFollow",
    "LiveView",
    "Replay",
    "RunMonitor",
    "SessionSettings",
]
