"""Turn what a widget holds into the equivalent ``%%bb_run`` cell.

Secrets never go into the text: a variable's value is written as the template
``{{name}}``, which the magic resolves from the notebook namespace (define it with
``getpass`` or from the environment).  Session settings travel by variable
(``--settings-var NAME``) because they can hold a proxy password.  ``reveal=True``
writes variable values literally; it exists for round-trip tests and is never used
by a button.
"""

from __future__ import annotations

import json
import shlex
from typing import Any

from bbnb.models import AgentRunCreateParams

__all__ = ["agent_magic", "function_magic", "json_word", "quote", "variable_references"]


def quote(text: str) -> str:
    """Quote one word for the magic line the way a person would write it.

    Plain words stay bare; text with spaces goes in single quotes, or in double quotes
    when it holds an apostrophe (``"the story's title"``), escaping only ``"`` and
    ``\\``.  The magic splits its line with ``shlex`` (POSIX), which reads all three
    back to ``text``.
    """
    if text and shlex.quote(text) == text:
        return text
    if "'" not in text:
        return f"'{text}'"
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def json_word(value: Any) -> str:
    """JSON as one single-quoted word; an apostrophe inside becomes JSON's ``\\u0027``."""
    return "'" + _compact(value).replace("'", "\\u0027") + "'"


def variable_references(params: AgentRunCreateParams) -> list[str]:
    """Names the generated cell expects in the namespace (one per variable)."""
    return sorted(params.variables or {})


def agent_magic(
    params: AgentRunCreateParams,
    *,
    settings_var: str | None = None,
    timeout: float | None = None,
    reveal: bool = False,
) -> str:
    """The ``%%bb_run agent`` cell (options line + task body) equivalent to ``params``."""
    words = ["%%bb_run", "agent"]
    if params.agent_id:
        words += ["--agent-id", quote(params.agent_id)]
    if params.result_schema is not None:
        words += ["--schema", json_word(params.result_schema)]
    for name, variable in sorted((params.variables or {}).items()):
        value = variable.value.get_secret_value() if reveal else "{{" + name + "}}"
        words += ["--var", quote(f"{name}={value}")]
    if params.pause_when:
        words += ["--pause-when", quote(params.pause_when)]
    if settings_var:
        words += ["--settings-var", settings_var]
    if timeout is not None:
        words += ["--timeout", f"{timeout:g}"]
    return " ".join(words) + "\n" + params.task


def function_magic(
    function_id: str,
    params: dict[str, Any] | None,
    *,
    settings_var: str | None = None,
    timeout: float | None = None,
) -> str:
    """The ``%%bb_run function ID`` cell whose body is the JSON params."""
    words = ["%%bb_run", "function", quote(function_id)]
    if settings_var:
        words += ["--settings-var", settings_var]
    if timeout is not None:
        words += ["--timeout", f"{timeout:g}"]
    body = json.dumps(params or {}, indent=2, ensure_ascii=False)
    return " ".join(words) + "\n" + body
