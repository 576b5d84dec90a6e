"""``{{name}}`` templates in task text and function params.

The rules, kept deliberately small so that ordinary text never surprises anyone:

* A template is two opening braces, a *name path* and two closing braces:
  ``{{company}}``, ``{{ company }}``, ``{{page.url}}``, ``{{row.price}}``,
  ``{{items.0}}``.  Spaces inside the braces are allowed.
* A name path is names separated by dots.  A name is letters, digits, ``_`` or ``-``
  (``{{row.unit-price}}`` works).  A part that is all digits indexes a list.
  A column whose name has other characters (spaces, ``%``) is reached with quotes:
  ``{{row["unit price"]}}`` or ``{{row['unit price']}}``.
* Anything else stays literal: JSON braces (``{"a": {"b": 1}}``), prices (``$19.99``),
  Browserbase's own variable placeholders (``%password%``), single braces (``{x}``)
  and double braces around something that is not a name path (``{{ 1 + 2 }}``).
* Escaping: a backslash before the braces, ``\\{{name}}``, gives the literal text
  ``{{name}}`` (the backslash is removed).
* Lookup: the first name comes from the namespace (the notebook's variables).  Inside
  ``--foreach``, ``row`` is the current element or row, and the current row's
  columns/keys may also be used bare (``{{company}}``); the row wins over the
  namespace because it is the nearer scope.  Later names read a mapping key, a
  pandas column, a list index or an attribute (never a private ``_attr``).
* Values: strings as they are; dicts and lists as JSON; other values with ``str()``.
  A missing value (``None``, ``NaN``, ``pd.NA``) is an error, because a task such as
  "price of " is never what was meant.
* An unknown name raises ``TemplateError`` that names the template, the closest
  matches (``difflib``) and how to fix it.

``render_params`` applies the same rules inside a JSON value: it walks the decoded
object and renders each string; a string that is exactly one template
(``"{{row.qty}}"``) takes the value itself, keeping its type (a number stays a number).
"""

from __future__ import annotations

import difflib
import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = [
    "NO_ROW",
    "TemplateError",
    "find_templates",
    "has_templates",
    "render",
    "render_params",
]

_NAME = r"[^\W\d]\w*(?:-\w+)*|\d+"
_QUOTED = r"\[\s*(?:\"[^\"\n]*\"|'[^'\n]*')\s*\]"
_PATH = rf"(?:{_NAME})(?:\.(?:{_NAME})|{_QUOTED})*"
_TEMPLATE = re.compile(rf"(?P<escape>\\)?\{{\{{\s*(?P<path>{_PATH})\s*\}}\}}")
_PART = re.compile(rf"\.?(?P<name>{_NAME})|{_QUOTED.replace('(?:', '(?P<quoted>', 1)}")


class _NoRow:
    """Marker: not inside ``--foreach``."""

    def __repr__(self) -> str:
        return "NO_ROW"


NO_ROW: Any = _NoRow()
"""Pass as ``row`` (the default) when rendering outside ``--foreach``."""


class TemplateError(ValueError):
    """A ``{{name}}`` template could not be resolved; the message says what to do."""


@dataclass(frozen=True)
class _Template:
    text: str
    path: tuple[str, ...]


def _split_path(path: str) -> tuple[str, ...]:
    parts: list[str] = []
    for match in _PART.finditer(path):
        name = match.group("name")
        if name is not None:
            parts.append(name)
        else:
            parts.append(match.group("quoted")[1:-1])
    return tuple(parts)


def find_templates(text: str) -> list[str]:
    """The name paths of every (unescaped) template in ``text``, in order."""
    return [m.group("path") for m in _TEMPLATE.finditer(text) if not m.group("escape")]


def has_templates(text: str) -> bool:
    """True if ``text`` holds at least one unescaped ``{{name}}`` template."""
    return bool(find_templates(text))


def render(text: str, namespace: Mapping[str, Any], row: Any = NO_ROW) -> str:
    """Replace every ``{{name}}`` in ``text``; ``\\{{name}}`` becomes the literal ``{{name}}``."""

    def replace(match: re.Match[str]) -> str:
        if match.group("escape"):
            return match.group(0)[1:]
        template = _Template(match.group(0), _split_path(match.group("path")))
        return _format(template, _resolve(template, namespace, row))

    return _TEMPLATE.sub(replace, text)


def render_params(value: Any, namespace: Mapping[str, Any], row: Any = NO_ROW) -> Any:
    """Render templates inside a decoded JSON value (strings only; keys stay as they are).

    A string that is exactly one template is replaced by the value itself, so
    ``{"qty": "{{row.qty}}"}`` gives ``{"qty": 3}``; values must be JSON-ready.
    """
    if isinstance(value, str):
        whole = _TEMPLATE.fullmatch(value.strip())
        if whole is not None and not whole.group("escape"):
            template = _Template(whole.group(0), _split_path(whole.group("path")))
            return _jsonable(template, _resolve(template, namespace, row))
        return render(value, namespace, row)
    if isinstance(value, dict):
        return {key: render_params(item, namespace, row) for key, item in value.items()}
    if isinstance(value, list):
        return [render_params(item, namespace, row) for item in value]
    return value


def _resolve(template: _Template, namespace: Mapping[str, Any], row: Any) -> Any:
    head, *rest = template.path
    if head == "row" and row is not NO_ROW:
        value = row
    elif row is not NO_ROW and _has_key(row, head):
        value = _child(row, head)
    elif head in namespace:
        value = namespace[head]
    else:
        raise TemplateError(_unknown_name(template, head, namespace, row))
    walked = [head]
    for part in rest:
        try:
            value = _child(value, part)
        except LookupError:
            raise TemplateError(_unknown_part(template, ".".join(walked), value, part)) from None
        walked.append(part)
    return value


def _has_key(container: Any, key: str) -> bool:
    if isinstance(container, Mapping):
        return key in container
    keys = getattr(container, "keys", None)
    if callable(keys) and hasattr(container, "__getitem__"):
        try:
            return key in list(keys())
        except TypeError:
            return False
    return False


def _child(value: Any, part: str) -> Any:
    """``value[part]`` for mappings and rows, ``value[int(part)]`` for lists, else an attribute."""
    if _has_key(value, part):
        return value[part]
    if part.isdigit() and isinstance(value, Sequence) and not isinstance(value, str | bytes):
        index = int(part)
        if index < len(value):
            return value[index]
        raise LookupError(part)
    if not part.startswith("_") and not isinstance(value, Mapping) and hasattr(value, part):
        return getattr(value, part)
    raise LookupError(part)


def _is_missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    try:
        import pandas as pd

        return (
            value is pd.NA
            or value is pd.NaT
            or (not isinstance(value, str | bytes | Sequence | Mapping) and bool(pd.isna(value)))
        )
    except (ImportError, TypeError, ValueError):
        return False


def _format(template: _Template, value: Any) -> str:
    if _is_missing(value):
        raise TemplateError(
            f"{template.text} has no value (it is {value!r}); fill it in "
            "(for a DataFrame: df.fillna(...) or drop the row) before running"
        )
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping | list | tuple) or callable(getattr(value, "to_dict", None)):
        return json.dumps(_jsonable(template, value), ensure_ascii=False)
    return str(value)


def _jsonable(template: _Template, value: Any) -> Any:
    """``value`` as plain JSON data (numpy/pandas scalars unwrapped), or a ``TemplateError``."""
    if _is_missing(value):
        raise TemplateError(f"{template.text} has no value (it is {value!r}); fill it in first")
    try:
        return json.loads(json.dumps(value, default=_json_default))
    except (TypeError, ValueError) as exc:
        raise TemplateError(f"{template.text} is not JSON data: {exc}") from None


def _json_default(value: Any) -> Any:
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict):
        return to_dict()
    isoformat = getattr(value, "isoformat", None)
    if callable(isoformat):
        return isoformat()
    item = getattr(value, "item", None)
    if callable(item):
        return item()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _suggest(word: str, candidates: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, [str(c) for c in candidates], n=3, cutoff=0.6)
    return f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""


def _unknown_name(template: _Template, head: str, namespace: Mapping[str, Any], row: Any) -> str:
    candidates = [name for name in namespace if not name.startswith("_")]
    where = "the notebook namespace"
    if row is not NO_ROW:
        candidates = ["row", *_keys_of(row), *candidates]
        where = "the current row (use {{row}} or {{row.column}}) or the notebook namespace"
    if head == "row" and row is NO_ROW:
        return (
            f"{template.text}: 'row' only exists with --foreach; add --foreach NAME "
            "or use a variable name"
        )
    return (
        f"unknown name {head!r} in {template.text}.{_suggest(head, candidates)} "
        f"Names come from {where}; define it first, or write \\{{{{...}}}} for literal braces"
    )


def _unknown_part(template: _Template, parent: str, value: Any, part: str) -> str:
    if part.isdigit() and isinstance(value, Sequence) and not isinstance(value, str | bytes):
        return (
            f"{template.text}: index {part} is out of range; {parent!r} has {len(value)} "
            f"item(s) (indexes 0..{len(value) - 1})"
        )
    keys = _keys_of(value)
    if keys:
        shown = ", ".join(repr(k) for k in keys[:12]) + (", ..." if len(keys) > 12 else "")
        return (
            f"{template.text}: {parent!r} has no key or column {part!r}."
            f"{_suggest(part, keys)} Available: {shown}"
        )
    attrs = [a for a in dir(value) if not a.startswith("_")]
    return (
        f"{template.text}: {parent!r} ({type(value).__name__}) has no attribute {part!r}."
        f"{_suggest(part, attrs)}"
    )


def _keys_of(value: Any) -> list[str]:
    if isinstance(value, Mapping):
        return [str(k) for k in value]
    keys = getattr(value, "keys", None)
    if callable(keys) and hasattr(value, "__getitem__"):
        try:
            return [str(k) for k in keys()]
        except TypeError:
            return []
    return []
