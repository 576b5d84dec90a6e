"""The public API: one sorted export list, complete, and importable without notebook extras."""

from __future__ import annotations

import inspect
import subprocess
import sys

import bbnb


def test_all_is_sorted_and_unique() -> None:
    """__all__ is sorted and lists each name once."""
    assert bbnb.__all__ == sorted(set(bbnb.__all__))


def test_every_export_exists() -> None:
    """Every name in __all__ resolves to an object."""
    missing = [name for name in bbnb.__all__ if not hasattr(bbnb, name)]
    assert missing == []


def test_every_public_class_and_function_is_exported() -> None:
    """Nothing public defined in bbnb's private modules is left out of __all__."""
    public = {
        name
        for name, value in vars(bbnb).items()
        if not name.startswith("_")
        and (inspect.isclass(value) or inspect.isfunction(value))
        and getattr(value, "__module__", "").startswith("bbnb")
    }
    assert public <= set(bbnb.__all__), sorted(public - set(bbnb.__all__))


def test_import_does_not_load_notebook_stack() -> None:
    """`import bbnb` pulls in neither IPython, ipywidgets nor the emulator server."""
    code = (
        "import sys, bbnb; "
        "print(sorted(m for m in ('IPython', 'ipywidgets', 'uvicorn', 'bbnb.magics', "
        "'bbnb.widgets') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
