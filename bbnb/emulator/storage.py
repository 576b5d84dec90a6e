"""Where the emulator keeps its records: memory, and optionally SQLite too.

Records live in dicts (by id) and lists (creation order) in memory, which is what
every request reads.  With a database path every change is also written through
to one SQLite table, and a new emulator on the same file loads everything back,
so a restarted ``bbnb emulator --db PATH`` still serves every run, invocation,
session and agent it had.  Variable values are never written to disk.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path
from typing import Any, Generic, TypeVar

from bbnb.emulator.records import AgentRecord, InvocationRecord, RunRecord, SessionRecord

__all__ = ["Store"]

Record = RunRecord | AgentRecord | InvocationRecord | SessionRecord
R = TypeVar("R", RunRecord, AgentRecord, InvocationRecord, SessionRecord)
T = TypeVar("T")

_KINDS: dict[str, type[Any]] = {
    cls.KIND: cls for cls in (RunRecord, AgentRecord, InvocationRecord, SessionRecord)
}
_ID_FIELD = {
    "run": "run_id",
    "agent": "agent_id",
    "invocation": "invocation_id",
    "session": "session_id",
}


class Table(Generic[T]):
    """Records of one kind: by id, and in creation order."""

    def __init__(self) -> None:
        self.by_id: dict[str, T] = {}
        self.order: list[T] = []
        self.next_seq = 0

    def __len__(self) -> int:
        return len(self.by_id)


class Store:
    """All records, in memory, written through to SQLite when a path is given."""

    def __init__(self, db_path: str | Path | None = None) -> None:
        self.runs: Table[RunRecord] = Table()
        self.agents: Table[AgentRecord] = Table()
        self.invocations: Table[InvocationRecord] = Table()
        self.sessions: Table[SessionRecord] = Table()
        self._tables: dict[str, Table[Any]] = {
            "run": self.runs,
            "agent": self.agents,
            "invocation": self.invocations,
            "session": self.sessions,
        }
        self._db: sqlite3.Connection | None = None
        self._lock = threading.Lock()
        self.path = Path(db_path) if db_path is not None else None
        if self.path is not None:
            self._open(self.path)

    # -- sqlite -------------------------------------------------------------------------
    def _open(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute(
            "CREATE TABLE IF NOT EXISTS records ("
            " kind TEXT NOT NULL, id TEXT NOT NULL, seq INTEGER NOT NULL, data TEXT NOT NULL,"
            " PRIMARY KEY (kind, id))"
        )
        self._db = db
        rows = db.execute("SELECT kind, data FROM records ORDER BY kind, seq").fetchall()
        for kind, data in rows:
            cls = _KINDS.get(kind)
            if cls is None:
                continue
            record = cls.from_row(json.loads(data))
            table = self._tables[kind]
            table.by_id[getattr(record, _ID_FIELD[kind])] = record
            table.order.append(record)
            table.next_seq = max(table.next_seq, record.seq + 1)

    def _write(self, record: Record) -> None:
        if self._db is None:
            return
        data = json.dumps(record.to_row(), separators=(",", ":"))
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO records (kind, id, seq, data) VALUES (?, ?, ?, ?)",
                (record.KIND, getattr(record, _ID_FIELD[record.KIND]), record.seq, data),
            )

    def close(self) -> None:
        """Close the database (memory stays readable)."""
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None

    # -- records ------------------------------------------------------------------------
    def seq(self, kind: str) -> int:
        """The next sequence number of ``kind`` (also used to derive ids)."""
        table = self._tables[kind]
        value = table.next_seq
        table.next_seq += 1
        return value

    def add(self, record: R) -> R:
        """Store a new record."""
        table = self._tables[record.KIND]
        table.by_id[getattr(record, _ID_FIELD[record.KIND])] = record
        table.order.append(record)
        self._write(record)
        return record

    def save(self, record: Record) -> None:
        """Persist a changed record (memory already holds the change)."""
        self._write(record)

    def delete(self, record: Record) -> None:
        """Remove a record everywhere."""
        kind = record.KIND
        key = getattr(record, _ID_FIELD[kind])
        table = self._tables[kind]
        if table.by_id.pop(key, None) is not None:
            table.order.remove(record)
        if self._db is not None:
            with self._lock:
                self._db.execute("DELETE FROM records WHERE kind = ? AND id = ?", (kind, key))
