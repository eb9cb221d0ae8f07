"""The monitoring store's schema: one SQLite file per run, ``<run dir>/monitoring.db``.

Tables (times are seconds since the epoch, as ``time.time()``):

``meta(key, value)``
    ``schema_version``, ``run_id``, ``run_dir``, ``started``, ``ended`` (absent while the run
    is live), ``parsl_version``, ``script`` (the file name only, never its directory).
``task(task_id, app, submitted)``
    One row per task, written when it is created (state ``pending``).
``dependency(task_id, parent_id)``
    The task graph: ``task_id`` waited for ``parent_id``.
``launch(task_id, try, executor, time)``
    One row per try, when the kernel handed it to ``executor`` (state ``launched``). ``try``
    counts from 0: a retry is a launch with a higher ``try``. Unique on ``(task_id, try)``.
``try_run(task_id, try, executor, host, pid, thread, started, ended, exit_code, outcome, time)``
    One row per try, written when it ended: where and when it ran as its worker saw it
    (``thread``: the worker thread's name when the worker is a thread, else empty;
    ``exit_code`` for bash apps; these five are NULL when nothing ran, as when the executor
    refused the try), and ``outcome``, the state the task moved to at ``time``:
    ``exec_done``, ``failed``, ``joining``, or ``launched`` when it was tried again.
``state_change(task_id, try, state, time, executor)``
    The changes outside a try: ``memo_done``, ``dep_fail``, ``failed`` before any try, and
    the end of a join (``exec_done`` or ``failed`` after ``joining``). ``try`` is how many
    tries had failed.
``failure(task_id, error_type, message)``
    Why a task ended badly (the message is cut at 2,000 characters).
``block(executor, block_id, event, time, detail)``
    Block and worker events from executors that scale: ``submitted``, ``running``,
    ``released``, ``failed``, ``worker_lost``...

Views:

``transition(task_id, try, state, time, executor)``
    Every state change of every task after ``pending`` (which ``task.submitted`` implies):
    the launches, the outcomes of the tries (a retry shows as the next launch) and the
    state changes. Order by ``time`` for the sequence. ``try`` is how many tries had failed
    when the task entered the state: a final ``failed`` row carries the number of tries made.
``task_final(task_id, state, try, executor, time)``
    Each task's latest transition (tasks still pending have none).

A no-op task is three rows in the store (``task``, ``launch``, ``try_run``), which the
workflow's process sends as one when the task ends before the monitor's next drain (see
:mod:`parsl.interfaces.task_feed`). Schema 1 stored one row per transition (four per no-op
task); schema 2 keeps its ``transition`` and ``task_final`` as views. ``dependency``,
``launch`` and ``try_run`` are indexed on ``task_id`` from the start: the writer process keeps
the indexes up to date on its own core, so the store is ready to query the moment the run
ends.
Nothing else is stored: no configuration, no arguments or results, no credentials.
"""
from __future__ import annotations

SCHEMA_VERSION = "2"
DB_NAME = "monitoring.db"

# each transition, with its rank: the launches (0), the outcomes of tries other than retries (1),
# the changes outside a try (2). A task's later rank is always its later state: a try's outcome
# other than a retry ends its tries, and the changes outside a try come before any try or after
# a join. So a task's newest state is its row of highest (rank, time).
_RANKED = """
    SELECT task_id, try, 'launched' AS state, time, executor, 0 AS rank FROM launch
    UNION ALL
    SELECT task_id, CASE outcome WHEN 'failed' THEN try + 1 ELSE try END, outcome, time, executor, 1
        FROM try_run WHERE outcome <> 'launched'
    UNION ALL
    SELECT task_id, try, state, time, executor, 2 FROM state_change
"""

DDL = f"""
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS task (task_id INTEGER PRIMARY KEY, app TEXT NOT NULL, submitted REAL NOT NULL);
CREATE TABLE IF NOT EXISTS dependency (task_id INTEGER NOT NULL, parent_id INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS launch (task_id INTEGER NOT NULL, try INTEGER NOT NULL, executor TEXT, time REAL NOT NULL);
CREATE TABLE IF NOT EXISTS try_run (task_id INTEGER NOT NULL, try INTEGER NOT NULL, executor TEXT, host TEXT, pid INTEGER, thread TEXT,
    started REAL, ended REAL, exit_code INTEGER, outcome TEXT NOT NULL, time REAL NOT NULL);
CREATE TABLE IF NOT EXISTS state_change (task_id INTEGER NOT NULL, try INTEGER NOT NULL, state TEXT NOT NULL, time REAL NOT NULL, executor TEXT);
CREATE TABLE IF NOT EXISTS failure (task_id INTEGER PRIMARY KEY, error_type TEXT, message TEXT);
CREATE TABLE IF NOT EXISTS block (executor TEXT, block_id TEXT, event TEXT, time REAL, detail TEXT);
CREATE INDEX IF NOT EXISTS dependency_task ON dependency(task_id);
CREATE UNIQUE INDEX IF NOT EXISTS launch_try ON launch(task_id, try);
CREATE INDEX IF NOT EXISTS try_run_task ON try_run(task_id);
CREATE INDEX IF NOT EXISTS state_change_task ON state_change(task_id);
CREATE VIEW IF NOT EXISTS transition AS SELECT task_id, try, state, time, executor FROM ({_RANKED});
CREATE VIEW IF NOT EXISTS task_final AS
    SELECT task_id, state, try, executor, time FROM (
        -- SQLite's bare columns: with max(), they come from the row that holds the maximum
        -- (time is below 1e10 s until the year 2286)
        SELECT task_id, state, try, executor, time, max(rank * 1e10 + time) FROM ({_RANKED}) GROUP BY task_id);
"""

FINAL_STATES = ("exec_done", "memo_done", "failed", "dep_fail")
