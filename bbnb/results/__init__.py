"""Results: runs, invocations and bare results into typed, validated DataFrames.

Pure functions (no network, no notebook imports):

* :func:`to_frame` — one row per result, or per element of its row array; columns
  and dtypes from the result schema; provenance columns start with ``_``.
* :func:`messages_frame` — one row per message part, for step-by-step analysis.

Column rules:

* Data columns come first, in schema order, nested names joined by ``sep``; a bare
  scalar or non-object result is the column ``value``.  Provenance follows:
  ``_key`` (batch key, else position in ``items``), ``_id``, ``_status`` (category),
  ``_task``, ``_session_id``, ``_created_at``, ``_started_at``, ``_ended_at``,
  ``_duration_s``, ``_cause_code``, ``_cause_message``, ``_summary``,
  ``_steps_taken``, ``_task_duration`` (the last three from an agent's
  ``result.summary/stepsTaken/taskDuration``), ``_conforms``, ``_errors``, ``_raw``.
* A data column whose name equals a provenance name is renamed ``result.<name>``;
  data names that repeat get ``~2``, ``~3``.
* dtypes: integer ``Int64``; number ``Float64`` (nullable, so missing is always
  ``pd.NA``); boolean ``boolean``; string ``string[pyarrow]``; ``date-time`` and
  ``date`` ``datetime64[us, UTC]``; enum ``category`` with the enum's categories in
  schema order; mixed/unknown types JSON text (``string``); kept arrays ``object``.
* Validation never raises (unless ``strict=True``): ``_conforms`` is True/False per
  result (NA when there is no result or no schema), ``_errors`` the first errors.
  A value of the wrong type (or an enum miss or an unparseable date) becomes NA in its
  typed column and is kept in ``_raw``: JSON text ``{"column.path": raw value}`` on
  the rows it came from.
"""

from __future__ import annotations

from bbnb.results._frame import PROVENANCE_COLUMNS, ResultValidationError, to_frame
from bbnb.results._messages import MESSAGE_COLUMNS, messages_frame

__all__ = [
    "MESSAGE_COLUMNS",
    "PROVENANCE_COLUMNS",
    "ResultValidationError",
    "messages_frame",
    "to_frame",
]
