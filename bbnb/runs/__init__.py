"""Runs at scale: batches, progress, Ctrl-C, and a journal that loses nothing.

* ``run_many(client, tasks, ...)`` / ``invoke_many(client, function_id, params_list, ...)``
  (and ``run_many_async`` / ``invoke_many_async``) submit many runs politely (a
  concurrency cap that adapts to 429s, a creation rate cap), observe them with few
  requests, show progress, and return a ``Batch``.
* ``Journal``: the SQLite record of every batch and run (``$BBNB_HOME/journal.sqlite``,
  default ``./.bbnb/journal.sqlite``); ``attach(id)`` finishes a batch after a crash;
  ``history()`` lists what was run.
* ``last_batch()``: the latest batch of this process, also after Ctrl-C.
* The result cache in the journal (``cache=True``; ``cache_info()``, ``clear_cache()``):
  see ``bbnb.runs.cache``.
"""

from __future__ import annotations

from bbnb.runs.attach import attach, attach_async, history
from bbnb.runs.batch import Batch, BatchItem, BatchStats
from bbnb.runs.cache import cache_info, clear_cache
from bbnb.runs.journal import Journal, default_journal_path
from bbnb.runs.progress import ProgressState, make_progress
from bbnb.runs.submit import (
    invoke_many,
    invoke_many_async,
    last_batch,
    run_many,
    run_many_async,
)

__all__ = [
    "Batch",
    "BatchItem",
    "BatchStats",
    "Journal",
    "ProgressState",
    "attach",
    "attach_async",
    "cache_info",
    "clear_cache",
    "default_journal_path",
    "history",
    "invoke_many",
    "invoke_many_async",
    "last_batch",
    "make_progress",
    "run_many",
    "run_many_async",
]
