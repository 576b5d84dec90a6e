"""A journal path holding something unusable: set aside (bytes kept), a fresh journal, go on."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from bbnb.client._client import Client
from bbnb.runs import Journal, run_many
from bbnb.runs.journal import SCHEMA_VERSION, JournalUnavailableError, JournalWarning

V1_SCHEMA = """
CREATE TABLE batches (batch_id TEXT PRIMARY KEY, kind TEXT NOT NULL, function_id TEXT,
    base_url TEXT, state TEXT NOT NULL, total INTEGER NOT NULL, options TEXT NOT NULL,
    created_at REAL NOT NULL, updated_at REAL NOT NULL);
CREATE TABLE runs (batch_id TEXT NOT NULL, idx INTEGER NOT NULL, input_key TEXT NOT NULL,
    kind TEXT NOT NULL, function_id TEXT, request TEXT NOT NULL,
    needs_secrets INTEGER NOT NULL DEFAULT 0, state TEXT NOT NULL, remote_id TEXT,
    status TEXT, run TEXT, cause TEXT, error TEXT, attempts INTEGER NOT NULL DEFAULT 0,
    submitted_at REAL, server_created_at TEXT, created_at REAL NOT NULL,
    updated_at REAL NOT NULL, ended_at REAL, PRIMARY KEY (batch_id, idx));
INSERT INTO batches VALUES ('old', 'agent', NULL, 'http://x', 'done', 0, '{}', 1.0, 1.0);
"""


def _garbage(path: Path) -> None:
    path.write_bytes(b"these are my notes, not a database\n" * 40)


def _foreign(path: Path) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE recipes (name TEXT)")
        conn.execute("INSERT INTO recipes VALUES ('bread')")
    conn.close()


def _newer(path: Path) -> None:
    Journal(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute(f"PRAGMA user_version={SCHEMA_VERSION + 5}")
    conn.close()


def _damaged(path: Path) -> None:
    journal = Journal(path)
    journal.start_batch("b", kind="agent", total=0)
    journal.close()
    data = bytearray(path.read_bytes())
    data[4096:8192] = b"\xff" * 4096  # the first table page is overwritten
    path.write_bytes(bytes(data))


@pytest.mark.parametrize(
    ("make", "tag", "needle"),
    [
        (_garbage, "damaged", "not an SQLite database"),
        (_foreign, "damaged", "an SQLite database of something else (tables: recipes)"),
        (_newer, "newer", "written by a newer bbnb"),
        (_damaged, "damaged", "damaged"),
    ],
    ids=["not-a-database", "foreign-database", "newer-bbnb", "damaged-pages"],
)
def test_unusable_file_is_set_aside(
    journal_path: Path, make: object, tag: str, needle: str
) -> None:
    """One warning names the file and where it went; its bytes are intact; the new journal works."""
    journal_path.parent.mkdir(parents=True)
    make(journal_path)  # type: ignore[operator]
    before = journal_path.read_bytes()
    with pytest.warns(JournalWarning) as seen:
        journal = Journal(journal_path)
    (warning,) = seen
    message = str(warning.message)
    assert "\n" not in message and str(journal_path) in message and needle in message
    (kept,) = [
        p
        for p in journal_path.parent.iterdir()
        if f".{tag}-" in p.name and "-wal" not in p.name and "-shm" not in p.name
    ]
    assert str(kept) in message
    assert kept.read_bytes() == before
    journal.start_batch("fresh", kind="agent", total=0)
    assert [b.batch_id for b in journal.batches()] == ["fresh"]
    journal.close()


def test_old_journal_is_upgraded_in_place(journal_path: Path) -> None:
    """A journal of the previous schema keeps its rows and gains the key_hash column, silently."""
    journal_path.parent.mkdir(parents=True)
    with sqlite3.connect(journal_path) as conn:
        conn.executescript(V1_SCHEMA)
    conn.close()
    journal = Journal(journal_path)
    (old,) = journal.batches()
    assert old.batch_id == "old" and old.key_hash is None
    journal.start_batch("new", kind="agent", total=0, base_url="http://x", key_hash="abc")
    assert journal.batch("new") is not None and journal.batch("new").key_hash == "abc"  # type: ignore[union-attr]
    journal.close()
    assert [p.name for p in journal_path.parent.iterdir() if ".damaged-" in p.name] == []


def test_run_goes_on_after_a_corrupt_journal(client: Client, journal_path: Path) -> None:
    """run_many over a garbage journal file warns once, then journals into a fresh file."""
    journal_path.parent.mkdir(parents=True)
    _garbage(journal_path)
    with pytest.warns(JournalWarning, match="Moved it to"):
        batch = run_many(client, ["a", "b"], progress="none", journal=str(journal_path))
    assert batch.counts == {"COMPLETED": 2}
    with Journal(journal_path) as journal:
        assert [b.batch_id for b in journal.batches()] == [batch.id]


def test_unwritable_journal_runs_without_one(client: Client, tmp_path: Path) -> None:
    """When the journal's folder cannot be made or written, one line says so and the run works."""
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the journal folder should be")
    path = blocker / "bbnb" / "journal.sqlite"
    with pytest.raises(JournalUnavailableError, match="set BBNB_HOME to a writable folder"):
        Journal(path)
    with pytest.warns(JournalWarning, match="runs without a journal") as seen:
        batch = run_many(client, ["a", "b"], progress="none", journal=str(path))
    assert len(seen) == 1 and str(path) in str(seen[0].message)
    assert batch.counts == {"COMPLETED": 2}
    assert blocker.read_text() == "a file where the journal folder should be"
