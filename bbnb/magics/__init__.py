"""The notebook layer's magic: ``%bb_run`` / ``%%bb_run`` (``%load_ext bbnb``).

- ``_magic``: the IPython side (``BBMagic``, its traitlets configuration, the run loop
  that blocks in short slices so Ctrl-C works, display);
- ``_plan``: what a magic line and cell mean, as plain data (no IPython);
- ``_templating``: ``{{name}}`` in task text and function params.

It calls the same functions a Python user calls (``bbnb.client``, ``bbnb.runs``,
``bbnb.results``) and imports nothing above itself.
"""

from __future__ import annotations

from bbnb.magics._magic import (
    BBMagic,
    load_ipython_extension,
    parse_magic_line,
    unload_ipython_extension,
)
from bbnb.magics._plan import (
    KINDS,
    BBRunError,
    BBRunInterrupted,
    Plan,
    Request,
    agent_settings,
    describe_api_error,
    dry_run_text,
    foreach_rows,
    function_settings,
    plan_agent,
    plan_function,
    split_line,
    summary_line,
)

__all__ = [
    "KINDS",
    "BBMagic",
    "BBRunError",
    "BBRunInterrupted",
    "Plan",
    "Request",
    "agent_settings",
    "describe_api_error",
    "dry_run_text",
    "foreach_rows",
    "function_settings",
    "load_ipython_extension",
    "parse_magic_line",
    "plan_agent",
    "plan_function",
    "split_line",
    "summary_line",
    "unload_ipython_extension",
]
