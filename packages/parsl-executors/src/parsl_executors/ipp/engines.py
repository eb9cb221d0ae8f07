"""The engines an IPython Parallel executor has seen: where each runs (host, pid, block),
which were lost, and which the executor released itself; and the :class:`EngineLost` of a
task whose engine died.

::

    strategy tick ──probe(client)──▶ client.ids against the engines known
                                       ├─ gone, not released by us ──▶ on_lost(info)
                                       └─ new ──▶ identity() on the engine (async)
    IO thread ──── its answer ───────▶ EngineInfo(host, pid, block) ──▶ on_registered(info)
    user ───────── pids(client) ─────▶ engines not yet known asked synchronously; eid → pid
    scale_in ───── release(block ids) ▶ their engines' uuids marked released, moved to lost
    IO thread ──── find(eid) / released(uuid) / known()   (naming a task's lost engine)

Thread-safe: the strategy thread, ipyparallel's IO thread and the user's thread all call it.
"""
from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from functools import partial
from typing import Any, Callable, Collection, Mapping, Sequence

from ..errors import EngineLost
from .worker import identity

_ENGINE_UUID = re.compile(r"Engine b?'([^']+)'")


@dataclass
class EngineInfo:
    """An engine the executor has seen register."""

    engine_id: int
    host: str | None = None
    pid: int | None = None
    block: str | None = None
    uuid: str | None = None


def engine_lost(exc: BaseException, meta: Mapping[str, Any], known: Sequence[EngineInfo]) -> EngineLost:
    """The :class:`EngineLost` for ipyparallel's engine error ``exc`` on a task whose result
    metadata is ``meta``, naming the engine from ``known`` (the engines seen, live or lost)."""
    eid = meta.get("engine_id")
    info = next((i for i in known if eid is not None and i.engine_id == eid), None)
    uuid = info.uuid if info else None
    if info is None:
        # a task lost with its engine carries only the engine's uuid, in the message
        m = _ENGINE_UUID.search(str(exc))
        uuid = meta.get("engine_uuid") or (m.group(1) if m else None)
        info = next((i for i in known if uuid and i.uuid == uuid), None)
        if info is not None:
            eid = info.engine_id
    lost = EngineLost(eid, info.host if info else None, info.pid if info else None, info.block if info else None, str(exc))
    lost.uuid = info.uuid if info else uuid
    lost.__cause__ = exc
    return lost


def engine_uuid(client: Any, eid: int) -> str | None:
    """The uuid of engine ``eid`` from the client's id → uuid table (no public accessor in
    ipyparallel 9)."""
    table = getattr(client, "_engines", None) or {}
    uuid = table.get(eid)
    return uuid.decode() if isinstance(uuid, bytes) else uuid


class Engines:
    """The engines seen so far; ``on_registered`` and ``on_lost`` are called without its lock."""

    def __init__(self, on_registered: Callable[[EngineInfo], None], on_lost: Callable[[EngineInfo], None]) -> None:
        self._on_registered = on_registered
        self._on_lost = on_lost
        self._lock = threading.Lock()
        self._live: dict[int, EngineInfo] = {}
        self._lost: dict[int, EngineInfo] = {}
        self._probing: set[int] = set()
        self._released: set[str] = set()

    def live(self) -> dict[int, EngineInfo]:
        """Engine id → the engines registered now."""
        with self._lock:
            return dict(self._live)

    def known(self) -> list[EngineInfo]:
        """Every engine seen, live or lost."""
        with self._lock:
            return [*self._live.values(), *self._lost.values()]

    def find(self, eid: int) -> EngineInfo | None:
        with self._lock:
            return self._live.get(eid) or self._lost.get(eid)

    def released(self, uuid: str | None) -> bool:
        """Whether the engine ``uuid`` was stopped by the executor (scale-in), not lost."""
        return uuid is not None and uuid in self._released

    def probe(self, client: Any) -> None:
        """Note the engines that are gone since the last probe, and ask the new ones who they are."""
        ids = set(client.ids)
        with self._lock:
            gone = [self._live.pop(eid) for eid in set(self._live) - ids]
            for info in gone:
                self._lost[info.engine_id] = info
            new = ids - set(self._live) - self._probing
            self._probing |= new
        for info in gone:
            if not self.released(info.uuid):
                self._on_lost(info)
        for eid in new:
            try:
                ar = client[eid].apply_async(identity)
            except Exception:
                with self._lock:
                    self._probing.discard(eid)
                continue
            ar.add_done_callback(partial(self._probed, client, eid))

    def _probed(self, client: Any, eid: int, ar: Any) -> None:
        try:
            host, pid, block = ar.result()
        except Exception:
            with self._lock:
                self._probing.discard(eid)
            return
        self._record(client, eid, host, pid, block)

    def _record(self, client: Any, eid: int, host: str, pid: int, block: str) -> EngineInfo:
        info = EngineInfo(eid, host, pid, block or None, engine_uuid(client, eid))
        with self._lock:
            self._probing.discard(eid)
            self._live[eid] = info
        self._on_registered(info)
        return info

    def pids(self, client: Any) -> dict[int, int]:
        """Engine id → pid of the engines registered now (asking those not yet known)."""
        out: dict[int, int] = {}
        for eid in client.ids:
            with self._lock:
                info = self._live.get(eid)
            if info is None or info.pid is None:
                try:
                    host, pid, block = client[eid].apply_sync(identity)
                except Exception:
                    continue
                info = self._record(client, eid, host, pid, block)
            if info.pid is not None:
                out[eid] = info.pid
        return out

    def release(self, blocks: Collection[str]) -> list[int]:
        """The engines of ``blocks`` are being stopped by the executor: mark them released
        (their end is no loss); return their ids."""
        with self._lock:
            infos = [e for e in self._live.values() if e.block in blocks]
            for info in infos:
                if info.uuid:
                    self._released.add(info.uuid)
                self._lost[info.engine_id] = self._live.pop(info.engine_id)
        return [e.engine_id for e in infos]

    def in_blocks(self) -> list[int]:
        """Ids of the live engines that run in the executor's own blocks."""
        with self._lock:
            return [e.engine_id for e in self._live.values() if e.block is not None]

    def clear(self) -> None:
        with self._lock:
            self._live.clear()
