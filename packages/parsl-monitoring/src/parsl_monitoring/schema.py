"""The monitoring store's schema: one SQLite file per run, ``<run dir>/monitoring.db``.

Tables (times are seconds since the epoch, as ``time.time()``):

``meta(key, value)``
    ``schema_version``, ``run_id``, ``run_dir``, ``started``, ``ended`` (absent while the run
    is live), ``parsl_version``, ``script`` (the file name only, never its directory).
``task(task_id, app, submitted)``
    One row per task, written when it is created.
``dependency(task_id, parent_id)``
    The task graph: ``task_id`` waited for ``parent_id``.
``transition(task_id, try, state, time, executor)``
    Every state change, in the order they happened (``rowid`` order). States: ``pending``
    (implied by ``task.submitted``), ``launched``, ``running`` (reconstructed from
    ``try_run.started``), ``joining``, ``exec_done``, ``memo_done``, ``failed``, ``dep_fail``.
    ``try`` is how many tries had failed when the task entered the state: a retry is a
    ``launched`` row with a higher ``try``, and a final ``failed`` row carries the number of
    tries made.
``try_run(task_id, try, host, pid, thread, started, ended, exit_code)``
    Where and when each try ran (``try`` counts from 0), as its worker saw it (``thread``: the worker thread's name when
    the worker is a thread, else empty; ``exit_code`` for bash apps).
``failure(task_id, error_type, message)``
    Why a task ended badly (the message is cut at 2,000 characters).
``block(executor, block_id, event, time, detail)``
    Block and worker events from executors that scale: ``submitted``, ``running``,
    ``released``, ``failed``, ``worker_lost``...

View ``task_final(task_id, state, try, executor, time)``: each task's latest transition.
``transition``, ``dependency`` and ``try_run`` are indexed on ``task_id`` from the start: the
writer process keeps them up to date on its own core, so the store is ready to query the
moment the run ends (building them at the end held ``cleanup()`` up by a tenth of a second
per 100,000 tasks).
Nothing else is stored: no configuration, no arguments or results, no credentials.
"""
from __future__ import annotations

SCHEMA_VERSION = "1"
DB_NAME = "monitoring.db"

DDL = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS task (task_id INTEGER PRIMARY KEY, app TEXT NOT NULL, submitted REAL NOT NULL);
CREATE TABLE IF NOT EXISTS dependency (task_id INTEGER NOT NULL, parent_id INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS transition (task_id INTEGER NOT NULL, try INTEGER NOT NULL, state TEXT NOT NULL, time REAL NOT NULL, executor TEXT);
CREATE TABLE IF NOT EXISTS try_run (task_id INTEGER NOT NULL, try INTEGER NOT NULL, host TEXT, pid INTEGER, thread TEXT, started REAL, ended REAL, exit_code INTEGER);
CREATE TABLE IF NOT EXISTS failure (task_id INTEGER PRIMARY KEY, error_type TEXT, message TEXT);
CREATE TABLE IF NOT EXISTS block (executor TEXT, block_id TEXT, event TEXT, time REAL, detail TEXT);
CREATE INDEX IF NOT EXISTS transition_task ON transition(task_id);
CREATE INDEX IF NOT EXISTS dependency_task ON dependency(task_id);
CREATE INDEX IF NOT EXISTS try_run_task ON try_run(task_id);
CREATE VIEW IF NOT EXISTS task_final AS
    SELECT task_id, state, try, executor, time FROM transition
    WHERE rowid IN (SELECT max(rowid) FROM transition GROUP BY task_id);
"""

FINAL_STATES = ("exec_done", "memo_done", "failed", "dep_fail")
