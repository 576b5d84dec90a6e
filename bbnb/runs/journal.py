"""The journal: an SQLite file that remembers every batch and run as it is submitted.

Where: ``$BBNB_HOME/journal.sqlite``, default ``./.bbnb/journal.sqlite``.

Write order (the reason a crash can never make bbnb create a run twice):

1. ``record_submitting`` commits a ``submitting`` row *before* the create POST is sent.
   The row holds the request body with secrets masked, the input key, the kind
   (``agent``/``function``), the function id, the batch id and the local time.
2. ``record_created`` adds the run/invocation id as soon as the server answers.
3. ``record_status`` / ``record_final`` follow the run to its end (status, result
   JSON, cause, timestamps).

A ``submitting`` row without an id therefore means "the POST may or may not have
reached the server"; ``bbnb.runs.attach`` reconciles such rows against the server's
own list before sending anything.

What is never stored: the API key (the journal never sees it), agent variable values
and external proxy passwords (masked to ``**********`` before writing, and scrubbed
from results that echo them).  Because of that, a run whose create was never sent
and whose body needs a secret cannot be re-sent from the journal alone: ``attach``
reports it (or takes the values again through ``attach(..., variables=...)``).

Each write is its own transaction; the database is in WAL mode with a busy timeout,
so several processes (two kernels, a kernel and ``bbnb``'s CLI) may share the file,
and a process killed at any instant leaves a consistent journal behind.

The ``cache`` table holds the latest COMPLETED answer per request and server for
``bbnb.runs.cache`` (keys are hashes; secrets are salted-hashed into them, never stored).

Each batch records the server it ran on: its base URL and a hash of the API key
(``key_hash``; never the key), so that ``attach`` asks only that server about its runs.

A file at the journal path that is not a bbnb journal (damaged, or someone else's
database), or one written by a newer bbnb (``PRAGMA user_version`` above
``SCHEMA_VERSION``), is moved aside with its bytes kept, a ``JournalWarning`` says
so in one line naming both files, and a fresh journal starts.  A journal that cannot
be written (a read-only folder) raises ``JournalUnavailableError``; batches then
warn and run without one (``open_journal``).
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import sqlite3
import threading
import time
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "CACHE_MAX_ENTRIES",
    "SCHEMA_VERSION",
    "BatchRecord",
    "CacheEntry",
    "Journal",
    "JournalUnavailableError",
    "JournalWarning",
    "RunRecord",
    "default_journal_path",
    "key_hash",
]

SCHEMA_VERSION = 3
"""1: batches and runs; 2: batches.key_hash (which key's server a batch ran on);
3: the result cache (``cache``) and its salt (``meta``)."""
CACHE_MAX_ENTRIES = 50_000
"""Cached answers kept per journal; the oldest go first (``Journal.cache_evict``)."""
_TABLES = frozenset({"batches", "runs"})


class JournalWarning(UserWarning):
    """The journal file had to be replaced (and was kept aside), or cannot be used."""


class JournalUnavailableError(OSError):
    """The journal cannot be opened or written (e.g. its folder is read-only)."""


def key_hash(api_key: str) -> str:
    """A short, one-way fingerprint of an API key: tells servers' keys apart, reveals nothing."""
    return hashlib.sha256(f"bbnb-journal:{api_key}".encode()).hexdigest()[:16]


RunState = Literal["queued", "submitting", "created", "done", "rejected", "abandoned"]
"""``queued``: known input, no POST ever sent.  ``submitting``: POST maybe sent.
``created``: id known, not finished.
``done``: final status seen.  ``rejected``: the server provably refused the create.
``abandoned``: never created and cannot be re-sent (see ``error``)."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS batches (
    batch_id     TEXT PRIMARY KEY,
    kind         TEXT NOT NULL,
    function_id  TEXT,
    base_url     TEXT,
    key_hash     TEXT,
    state        TEXT NOT NULL,
    total        INTEGER NOT NULL,
    options      TEXT NOT NULL,
    created_at   REAL NOT NULL,
    updated_at   REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS runs (
    batch_id          TEXT NOT NULL,
    idx               INTEGER NOT NULL,
    input_key         TEXT NOT NULL,
    kind              TEXT NOT NULL,
    function_id       TEXT,
    request           TEXT NOT NULL,
    needs_secrets     INTEGER NOT NULL DEFAULT 0,
    state             TEXT NOT NULL,
    remote_id         TEXT,
    status            TEXT,
    run               TEXT,
    cause             TEXT,
    error             TEXT,
    attempts          INTEGER NOT NULL DEFAULT 0,
    submitted_at      REAL,
    server_created_at TEXT,
    created_at        REAL NOT NULL,
    updated_at        REAL NOT NULL,
    ended_at          REAL,
    PRIMARY KEY (batch_id, idx)
);
CREATE INDEX IF NOT EXISTS runs_by_remote_id ON runs (remote_id);
CREATE TABLE IF NOT EXISTS meta (
    name   TEXT PRIMARY KEY,
    value  TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS cache (
    server        TEXT NOT NULL,
    cache_key     TEXT NOT NULL,
    kind          TEXT NOT NULL,
    remote_id     TEXT NOT NULL,
    run           TEXT NOT NULL,
    completed_at  REAL NOT NULL,
    PRIMARY KEY (server, cache_key)
);
CREATE INDEX IF NOT EXISTS cache_by_age ON cache (completed_at);
"""


def default_journal_path() -> Path:
    """``$BBNB_HOME/journal.sqlite`` if ``BBNB_HOME`` is set, else ``./.bbnb/journal.sqlite``."""
    home = os.environ.get("BBNB_HOME")
    folder = Path(home).expanduser() if home else Path.cwd() / ".bbnb"
    return folder / "journal.sqlite"


def encode_key(key: Any) -> str:
    """JSON text for an input key (tuples from a MultiIndex become tagged lists)."""
    if isinstance(key, tuple):
        return json.dumps({"__tuple__": [_plain(k) for k in key]})
    return json.dumps(_plain(key))


def decode_key(text: str) -> Any:
    """The inverse of ``encode_key`` (non-JSON keys come back as their ``str``)."""
    value = json.loads(text)
    if isinstance(value, dict) and set(value) == {"__tuple__"}:
        return tuple(value["__tuple__"])
    return value


def _plain(key: Any) -> Any:
    if key is None or isinstance(key, (bool, int, float, str)):
        return key
    item = getattr(key, "item", None)  # numpy scalars
    if callable(item):
        value = item()
        if isinstance(value, (bool, int, float, str)):
            return value
    return str(key)


@dataclass(frozen=True)
class CacheEntry:
    """One cached answer: the run's wire JSON (scrubbed), its id and when it completed."""

    kind: str
    remote_id: str
    run: dict[str, Any]
    completed_at: float


@dataclass(frozen=True)
class BatchRecord:
    """One row of the ``batches`` table."""

    batch_id: str
    kind: str
    function_id: str | None
    base_url: str | None
    key_hash: str | None
    state: str
    total: int
    options: dict[str, Any]
    created_at: float
    updated_at: float


@dataclass(frozen=True)
class RunRecord:
    """One row of the ``runs`` table (the request is masked; ``run`` is wire JSON)."""

    batch_id: str
    idx: int
    key: Any
    kind: str
    function_id: str | None
    request: dict[str, Any]
    needs_secrets: bool
    state: str
    remote_id: str | None
    status: str | None
    run: dict[str, Any] | None
    cause: dict[str, Any] | None
    error: str | None
    attempts: int
    submitted_at: float | None
    server_created_at: str | None
    created_at: float
    updated_at: float
    ended_at: float | None


def _connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, timeout=30.0, isolation_level=None, check_same_thread=False)
    try:
        conn.execute("PRAGMA busy_timeout=30000")
    except BaseException:
        conn.close()
        raise
    return conn


def _problem(conn: sqlite3.Connection) -> str | None:
    """Why this database is not a journal this bbnb can use (None if it is)."""
    version = int(conn.execute("PRAGMA user_version").fetchone()[0])
    if version > SCHEMA_VERSION:
        return (
            f"it was written by a newer bbnb (journal schema {version}; this bbnb reads "
            f"up to {SCHEMA_VERSION})"
        )
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    if tables and not tables >= _TABLES:
        return f"it is an SQLite database of something else (tables: {', '.join(sorted(tables))})"
    for table in sorted(_TABLES & tables):  # reads each table's root page: cheap, finds damage
        conn.execute(f"SELECT * FROM {table} LIMIT 1").fetchall()
    return None


def _migrate(conn: sqlite3.Connection) -> None:
    """WAL mode, the tables, and any column an older journal lacks (the file is ours)."""
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.executescript(_SCHEMA)
    columns = {r[1] for r in conn.execute("PRAGMA table_info(batches)")}
    if "key_hash" not in columns:
        conn.execute("ALTER TABLE batches ADD COLUMN key_hash TEXT")
    conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")


def _move_aside(path: Path, tag: str) -> Path:
    """Rename the file (and its -wal/-shm companions) to ``<name>.<tag>-<time>``; return it."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    target = path.with_name(f"{path.name}.{tag}-{stamp}")
    n = 1
    while target.exists():
        n += 1
        target = path.with_name(f"{path.name}.{tag}-{stamp}-{n}")
    for suffix in ("", "-wal", "-shm"):
        source = Path(f"{path}{suffix}")
        if source.exists():
            source.replace(Path(f"{target}{suffix}"))
    return target


class Journal:
    """The SQLite journal of batches and runs (see the module docstring)."""

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.path = Path(path) if path is not None else default_journal_path()
        self._lock = threading.Lock()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._conn = self._open()
        except (OSError, sqlite3.OperationalError) as error:
            raise JournalUnavailableError(
                f"cannot write the bbnb journal {self.path} ({error}); set BBNB_HOME to a "
                "writable folder"
            ) from None

    def _open(self) -> sqlite3.Connection:
        """Connect, setting aside a file that is not a usable journal (see the docstring)."""
        try:
            conn = _connect(self.path)
            problem = _problem(conn)
        except sqlite3.DatabaseError as error:
            if isinstance(error, sqlite3.OperationalError):
                raise
            conn, problem = None, f"it is not an SQLite database ({error})"
        if problem is None:
            assert conn is not None
            try:
                with self._lock:
                    _migrate(conn)
                return conn
            except sqlite3.DatabaseError as error:
                conn.close()
                if isinstance(error, sqlite3.OperationalError):
                    raise
                problem = f"it is damaged ({error})"
        elif conn is not None:
            conn.close()
        kept = _move_aside(self.path, "newer" if "newer bbnb" in problem else "damaged")
        warnings.warn(
            f"bbnb: the journal {self.path} could not be used: {problem}. Moved it to "
            f"{kept} (its bytes are kept) and started a fresh journal.",
            JournalWarning,
            stacklevel=3,
        )
        conn = _connect(self.path)
        with self._lock:
            _migrate(conn)
        return conn

    def __repr__(self) -> str:
        return f"Journal({str(self.path)!r})"

    def close(self) -> None:
        """Close the connection (the file stays)."""
        with self._lock:
            self._conn.close()

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Cursor]:
        with self._lock:
            cur = self._conn.cursor()
            cur.execute("BEGIN IMMEDIATE")
            try:
                yield cur
            except BaseException:
                cur.execute("ROLLBACK")
                raise
            cur.execute("COMMIT")

    def _read(self, sql: str, args: Sequence[Any] = ()) -> list[sqlite3.Row]:
        with self._lock:
            cur = self._conn.cursor()
            cur.row_factory = sqlite3.Row
            return list(cur.execute(sql, args))

    # -- batches --------------------------------------------------------------------

    def start_batch(
        self,
        batch_id: str,
        *,
        kind: str,
        total: int,
        function_id: str | None = None,
        base_url: str | None = None,
        options: dict[str, Any] | None = None,
        key_hash: str | None = None,
    ) -> None:
        """Record a new batch in state ``running``, on the server ``base_url``/``key_hash``."""
        now = time.time()
        with self._write() as cur:
            cur.execute(
                """INSERT INTO batches (batch_id, kind, function_id, base_url, key_hash, state,
                       total, options, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?)""",
                (
                    batch_id,
                    kind,
                    function_id,
                    base_url,
                    key_hash,
                    "running",
                    total,
                    json.dumps(options or {}, default=str),
                    now,
                    now,
                ),
            )

    def set_batch_state(self, batch_id: str, state: str) -> None:
        """Mark a batch ``running``, ``done``, ``interrupted`` or ``detached``."""
        with self._write() as cur:
            cur.execute(
                "UPDATE batches SET state=?, updated_at=? WHERE batch_id=?",
                (state, time.time(), batch_id),
            )

    def batch(self, batch_id: str) -> BatchRecord | None:
        """The batch row, or None."""
        rows = self._read("SELECT * FROM batches WHERE batch_id=?", (batch_id,))
        return _batch_record(rows[0]) if rows else None

    def batches(self) -> list[BatchRecord]:
        """Every batch, newest first."""
        rows = self._read("SELECT * FROM batches ORDER BY created_at DESC")
        return [_batch_record(r) for r in rows]

    # -- runs -----------------------------------------------------------------------

    def record_queued(
        self,
        batch_id: str,
        rows: Sequence[tuple[int, Any, dict[str, Any], bool]],
        *,
        kind: str,
        function_id: str | None = None,
    ) -> None:
        """Write every input of a new batch as ``queued`` (one transaction).

        ``rows`` are ``(index, key, masked request, needs_secrets)``.  A queued row
        proves no create was ever sent for it, so ``attach`` may submit it.
        """
        now = time.time()
        with self._write() as cur:
            cur.executemany(
                """INSERT OR IGNORE INTO runs (batch_id, idx, input_key, kind, function_id,
                       request, needs_secrets, state, attempts, created_at, updated_at)
                   VALUES (?,?,?,?,?,?,?,'queued',0,?,?)""",
                [
                    (
                        batch_id,
                        idx,
                        encode_key(key),
                        kind,
                        function_id,
                        json.dumps(req),
                        int(secret),
                        now,
                        now,
                    )
                    for idx, key, req, secret in rows
                ],
            )

    def record_submitting(
        self,
        batch_id: str,
        idx: int,
        *,
        key: Any,
        kind: str,
        request: dict[str, Any],
        needs_secrets: bool,
        function_id: str | None = None,
        submitted_at: float | None = None,
    ) -> None:
        """Write (or re-arm) the row of one input just before its create POST is sent.

        ``request`` must already be masked (see ``bbnb.runs._secrets.mask_request``).
        """
        now = time.time()
        with self._write() as cur:
            cur.execute(
                """INSERT INTO runs (batch_id, idx, input_key, kind, function_id, request,
                       needs_secrets, state, attempts, submitted_at, created_at, updated_at)
                   VALUES (?,?,?,?,?,?,?,'submitting',1,?,?,?)
                   ON CONFLICT (batch_id, idx) DO UPDATE SET
                       state='submitting', attempts=attempts+1, error=NULL,
                       submitted_at=excluded.submitted_at, updated_at=excluded.updated_at""",
                (
                    batch_id,
                    idx,
                    encode_key(key),
                    kind,
                    function_id,
                    json.dumps(request),
                    int(needs_secrets),
                    submitted_at if submitted_at is not None else now,
                    now,
                    now,
                ),
            )

    def record_created(
        self,
        batch_id: str,
        idx: int,
        *,
        remote_id: str,
        status: str | None,
        server_created_at: str | None = None,
    ) -> None:
        """The server gave the run/invocation id: the row is now ``created``."""
        with self._write() as cur:
            cur.execute(
                """UPDATE runs SET state='created', remote_id=?, status=?,
                       server_created_at=?, updated_at=?, error=NULL
                   WHERE batch_id=? AND idx=?""",
                (remote_id, status, server_created_at, time.time(), batch_id, idx),
            )

    def record_status(self, batch_id: str, idx: int, status: str) -> None:
        """A non-final status change (PENDING -> RUNNING, PAUSED)."""
        with self._write() as cur:
            cur.execute(
                "UPDATE runs SET status=?, updated_at=? WHERE batch_id=? AND idx=?",
                (status, time.time(), batch_id, idx),
            )

    def record_final(
        self,
        batch_id: str,
        idx: int,
        *,
        status: str,
        run: dict[str, Any],
        cause: dict[str, Any] | None,
    ) -> None:
        """The run reached a status the batch stops at; keep its whole (scrubbed) JSON."""
        now = time.time()
        with self._write() as cur:
            cur.execute(
                """UPDATE runs SET state='done', status=?, run=?, cause=?, updated_at=?,
                       ended_at=? WHERE batch_id=? AND idx=?""",
                (
                    status,
                    json.dumps(run, default=str),
                    json.dumps(cause) if cause is not None else None,
                    now,
                    now,
                    batch_id,
                    idx,
                ),
            )

    def record_cached(
        self, batch_id: str, answers: Sequence[tuple[int, str, str, dict[str, Any]]]
    ) -> None:
        """Mark inputs answered from the result cache ``done``, in one transaction.

        ``answers`` are ``(index, run id, status, run JSON)``.
        """
        now = time.time()
        with self._write() as cur:
            cur.executemany(
                """UPDATE runs SET state='done', remote_id=?, status=?, run=?, updated_at=?,
                       ended_at=? WHERE batch_id=? AND idx=?""",
                [
                    (remote_id, status, json.dumps(run, default=str), now, now, batch_id, idx)
                    for idx, remote_id, status, run in answers
                ],
            )

    def record_error(self, batch_id: str, idx: int, *, state: RunState, error: str) -> None:
        """A create that was refused (``rejected``) or cannot be re-sent (``abandoned``)."""
        with self._write() as cur:
            cur.execute(
                "UPDATE runs SET state=?, error=?, updated_at=? WHERE batch_id=? AND idx=?",
                (state, error, time.time(), batch_id, idx),
            )

    def runs(self, batch_id: str) -> list[RunRecord]:
        """Every run row of a batch, in input order."""
        rows = self._read("SELECT * FROM runs WHERE batch_id=? ORDER BY idx", (batch_id,))
        return [_run_record(r) for r in rows]

    def find_run(self, remote_id: str) -> RunRecord | None:
        """The row holding a run/invocation id, or None."""
        rows = self._read("SELECT * FROM runs WHERE remote_id=? LIMIT 1", (remote_id,))
        return _run_record(rows[0]) if rows else None

    def claimed_ids(self, remote_ids: Sequence[str]) -> set[str]:
        """Which of these ids some journal row already owns."""
        if not remote_ids:
            return set()
        marks = ",".join("?" * len(remote_ids))
        rows = self._read(f"SELECT remote_id FROM runs WHERE remote_id IN ({marks})", remote_ids)
        return {str(r["remote_id"]) for r in rows}

    # -- the result cache ---------------------------------------------------------------

    def cache_salt(self) -> str:
        """This journal's random salt for hashing secret values into cache keys."""
        rows = self._read("SELECT value FROM meta WHERE name='cache_salt'")
        if rows:
            return str(rows[0]["value"])
        with self._write() as cur:
            cur.execute(
                "INSERT OR IGNORE INTO meta VALUES ('cache_salt', ?)", (secrets.token_hex(16),)
            )
        return str(self._read("SELECT value FROM meta WHERE name='cache_salt'")[0]["value"])

    def cache_get(self, server: str, cache_key: str, *, since: float) -> CacheEntry | None:
        """The answer cached for this request on this server, if it completed after ``since``."""
        rows = self._read(
            "SELECT * FROM cache WHERE server=? AND cache_key=? AND completed_at>=?",
            (server, cache_key, since),
        )
        if not rows:
            return None
        r = rows[0]
        return CacheEntry(r["kind"], r["remote_id"], json.loads(r["run"]), r["completed_at"])

    def cache_put(
        self,
        server: str,
        cache_key: str,
        *,
        kind: str,
        remote_id: str,
        run: dict[str, Any],
        completed_at: float,
    ) -> None:
        """Remember a COMPLETED answer (scrubbed wire JSON) for this request and server."""
        with self._write() as cur:
            cur.execute(
                "INSERT OR REPLACE INTO cache VALUES (?,?,?,?,?,?)",
                (server, cache_key, kind, remote_id, json.dumps(run, default=str), completed_at),
            )

    def cache_evict(self, max_entries: int = CACHE_MAX_ENTRIES) -> int:
        """Drop the oldest answers beyond ``max_entries``; return how many went."""
        with self._write() as cur:
            (count,) = cur.execute("SELECT count(*) FROM cache").fetchone()
            extra = int(count) - max_entries
            if extra <= 0:
                return 0
            cur.execute(
                "DELETE FROM cache WHERE rowid IN "
                "(SELECT rowid FROM cache ORDER BY completed_at LIMIT ?)",
                (extra,),
            )
        return extra

    def cache_info(self) -> dict[str, Any]:
        """``entries``, ``bytes`` (of stored answers) and ``oldest`` (epoch seconds or None)."""
        (row,) = self._read(
            "SELECT count(*) AS n, coalesce(sum(length(run)), 0) AS size, "
            "min(completed_at) AS oldest FROM cache"
        )
        return {"entries": int(row["n"]), "bytes": int(row["size"]), "oldest": row["oldest"]}

    def cache_clear(self, *, before: float | None = None) -> int:
        """Forget cached answers (all, or those completed before ``before``); return how many."""
        with self._write() as cur:
            if before is None:
                cur.execute("DELETE FROM cache")
            else:
                cur.execute("DELETE FROM cache WHERE completed_at<?", (before,))
            return int(cur.rowcount)

    # -- history ----------------------------------------------------------------------

    def history(self, batch_id: str | None = None) -> pd.DataFrame:
        """Past runs (one row each, joined with their batch) as a DataFrame, newest first."""
        import pandas as pd

        sql = """SELECT r.batch_id, b.kind AS batch_kind, b.state AS batch_state,
                        b.created_at AS batch_created_at, r.idx, r.input_key, r.kind,
                        r.function_id, r.state, r.remote_id, r.status, r.cause, r.error,
                        r.request, r.created_at, r.ended_at
                 FROM runs r JOIN batches b USING (batch_id)"""
        args: tuple[Any, ...] = ()
        if batch_id is not None:
            sql += " WHERE r.batch_id=?"
            args = (batch_id,)
        sql += " ORDER BY b.created_at DESC, r.idx"
        rows = self._read(sql, args)
        records = []
        for r in rows:
            request = json.loads(r["request"])
            cause = json.loads(r["cause"]) if r["cause"] else None
            records.append(
                {
                    "batch_id": r["batch_id"],
                    "batch_state": r["batch_state"],
                    "batch_created_at": _ts(r["batch_created_at"]),
                    "index": r["idx"],
                    "key": decode_key(r["input_key"]),
                    "kind": r["kind"],
                    "function_id": r["function_id"],
                    "task": request.get("task"),
                    "state": r["state"],
                    "id": r["remote_id"],
                    "status": r["status"],
                    "cause_code": (cause or {}).get("code"),
                    "error": r["error"],
                    "created_at": _ts(r["created_at"]),
                    "ended_at": _ts(r["ended_at"]),
                }
            )
        columns = [
            "batch_id",
            "batch_state",
            "batch_created_at",
            "index",
            "key",
            "kind",
            "function_id",
            "task",
            "state",
            "id",
            "status",
            "cause_code",
            "error",
            "created_at",
            "ended_at",
        ]
        return pd.DataFrame.from_records(records, columns=columns)


def _ts(value: float | None) -> Any:
    import pandas as pd

    return pd.Timestamp(value, unit="s", tz="UTC") if value is not None else pd.NaT


def _batch_record(r: sqlite3.Row) -> BatchRecord:
    return BatchRecord(
        batch_id=r["batch_id"],
        kind=r["kind"],
        function_id=r["function_id"],
        base_url=r["base_url"],
        key_hash=r["key_hash"],
        state=r["state"],
        total=r["total"],
        options=json.loads(r["options"]),
        created_at=r["created_at"],
        updated_at=r["updated_at"],
    )


def _run_record(r: sqlite3.Row) -> RunRecord:
    return RunRecord(
        batch_id=r["batch_id"],
        idx=r["idx"],
        key=decode_key(r["input_key"]),
        kind=r["kind"],
        function_id=r["function_id"],
        request=json.loads(r["request"]),
        needs_secrets=bool(r["needs_secrets"]),
        state=r["state"],
        remote_id=r["remote_id"],
        status=r["status"],
        run=json.loads(r["run"]) if r["run"] else None,
        cause=json.loads(r["cause"]) if r["cause"] else None,
        error=r["error"],
        attempts=r["attempts"],
        submitted_at=r["submitted_at"],
        server_created_at=r["server_created_at"],
        created_at=r["created_at"],
        updated_at=r["updated_at"],
        ended_at=r["ended_at"],
    )
