#!/usr/bin/env python3
"""Write the tutorial notebooks from the cell texts in ``notebooks/_cells/``.

The notebooks are generated so that they can be reviewed as plain text and stay
consistent: every notebook gets the same kernel metadata, stable cell ids and no
outputs.  Each ``_cells/NN-name.pct`` file holds one notebook; cells are separated by
lines ``# %% [markdown]`` or ``# %%`` (the "percent" format that editors understand),
and markdown cells have each line prefixed with ``# ``.

    python notebooks/_build.py           # write notebooks/*.ipynb
    python notebooks/_build.py --check   # exit 1 if a notebook differs from its source
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parent
SOURCES = HERE / "_cells"
MARKER_CODE = "# %%"
MARKER_MD = "# %% [markdown]"

KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
LANGUAGE_INFO = {"name": "python", "pygments_lexer": "ipython3"}


def parse_cells(text: str) -> list[tuple[str, str]]:
    """(kind, source) pairs from a percent-format text; kind is 'code' or 'markdown'."""
    cells: list[tuple[str, list[str]]] = []
    for line in text.splitlines():
        if line.strip() == MARKER_MD:
            cells.append(("markdown", []))
        elif line.strip() == MARKER_CODE:
            cells.append(("code", []))
        elif cells:
            cells[-1][1].append(line)
        elif line.strip():
            raise ValueError(f"text before the first cell marker: {line!r}")
    result = []
    for kind, lines in cells:
        if kind == "markdown":
            bad = [ln for ln in lines if ln and not (ln == "#" or ln.startswith("# "))]
            if bad:
                raise ValueError(f"markdown lines must start with '# ': {bad[0]!r}")
            lines = [ln[2:] if ln.startswith("# ") else "" for ln in lines]
        source = "\n".join(lines).strip("\n")
        if not source.strip():
            raise ValueError(f"empty {kind} cell")
        result.append((kind, source))
    return result


def build(source: Path) -> Any:
    """The notebook for one ``_cells/*.pct`` file, outputs cleared, ids stable."""
    nb: Any = new_notebook()  # type: ignore[no-untyped-call]
    nb.metadata = {"kernelspec": KERNELSPEC, "language_info": LANGUAGE_INFO}
    stem = source.stem
    for i, (kind, text) in enumerate(parse_cells(source.read_text(encoding="utf-8"))):
        new_cell: Any = new_markdown_cell if kind == "markdown" else new_code_cell
        cell = new_cell(text)
        cell["id"] = f"{stem[:2]}-{i:02d}"
        nb.cells.append(cell)
    nbformat.validate(nb)
    return nb


def render(nb: Any) -> str:
    """The notebook as the exact text written to disk."""
    text: str = nbformat.writes(nb)  # type: ignore[no-untyped-call]
    return text + "\n"


def main(argv: list[str] | None = None) -> int:
    """Write every notebook, or with ``--check`` report the ones out of date."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only compare, write nothing")
    args = parser.parse_args(argv)
    stale = []
    for source in sorted(SOURCES.glob("[0-9][0-9]-*.pct")):
        target = HERE / f"{source.stem}.ipynb"
        text = render(build(source))
        current = target.read_text(encoding="utf-8") if target.exists() else None
        if current == text:
            continue
        if args.check:
            stale.append(target.name)
        else:
            target.write_text(text, encoding="utf-8")
            print(f"wrote {target.relative_to(HERE.parent)}")
    if stale:
        print(f"out of date (run python notebooks/_build.py): {', '.join(stale)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
