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


def test_layer_packages_import_alone() -> None:
    """Each layer package imports in a fresh interpreter without its parents pulling it in."""
    code = (
        "import importlib; "
        "[importlib.import_module(m) for m in ('bbnb.models', 'bbnb.wire', 'bbnb.runs', "
        "'bbnb.client', 'bbnb.results', 'bbnb.emulator', 'bbnb.magics', 'bbnb.widgets')]"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_only_a_few_modules_sit_at_the_top() -> None:
    """The package root holds at most six modules; the rest live in one package a layer."""
    from pathlib import Path

    root = Path(bbnb.__file__).parent
    modules = sorted(p.name for p in root.glob("*.py"))
    assert len(modules) <= 6, modules
