"""Where "copy as magic" puts its text: the clipboard, a copyable box, or the next cell.

A button click runs in a comm handler, where the kernel cannot add a cell, so the
button shows the cell text in a box with a **Copy to clipboard** button (the
browser's clipboard API, run by the click itself).  Called from a cell,
``insert_next_cell`` uses IPython's ``set_next_input`` payload, which JupyterLab
turns into a new cell below.
"""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as w

__all__ = ["MagicOutput"]


def _shell() -> Any:
    from IPython import get_ipython

    return get_ipython()


def clipboard_button(text: str) -> str:
    """An HTML button that copies ``text`` to the clipboard when clicked (no kernel round trip)."""
    script = (
        "navigator.clipboard.writeText(this.dataset.text)"
        ".then(() => { this.textContent = 'Copied'; })"
        ".catch(() => { this.textContent = 'Select the text below and copy it'; });"
    )
    return (
        f'<button type="button" class="bbnb-copy-button" data-text="{html.escape(text)}" '
        f'onclick="{html.escape(script)}" style="margin:2px 8px 2px 0;padding:2px 10px;'
        'cursor:pointer">Copy to clipboard</button>'
    )


class MagicOutput:
    """A hidden box that shows a generated ``%%bb_run`` cell when asked."""

    def __init__(self) -> None:
        self.note = w.HTML(value="")
        self.copy = w.HTML(value="")
        self.copy.add_class("bbnb-copy-clipboard")
        self.text = w.Textarea(value="", rows=6, layout=w.Layout(width="640px"))
        self.text.add_class("bbnb-magic-text")
        self.widget = w.VBox([w.HBox([self.copy, self.note]), self.text])
        self.widget.layout.display = "none"

    def show(self, text: str, needs: list[str]) -> None:
        """Show ``text`` to copy; ``needs`` are names the cell expects in the namespace."""
        hint = (
            "Paste it into a new cell (after <code>%load_ext bbnb</code>), or run "
            "<code>.copy_as_magic()</code> in a cell to add it below that cell."
        )
        if needs:
            names = ", ".join(f"<code>{html.escape(n)}</code>" for n in needs)
            hint += (
                f" Define {names} first, e.g. with <code>getpass()</code>: values are not copied."
            )
        self.note.value = f"<span style='font-size:12px;color:#374151'>{hint}</span>"
        self.copy.value = clipboard_button(text)
        self.text.value = text
        self.widget.layout.display = "flex"

    def bind(self, name: str, value: Any) -> None:
        """Put ``value`` into the notebook namespace as ``name`` (for ``--settings-var``)."""
        shell = _shell()
        if shell is None:
            raise RuntimeError("not running in IPython: bind the settings variable yourself")
        shell.user_ns[name] = value

    def insert_next_cell(self, text: str) -> bool:
        """Ask the front end to add ``text`` as the next cell; False outside IPython."""
        shell = _shell()
        if shell is None:
            return False
        shell.set_next_input(text, replace=False)
        return True
