"""Running the units: one after another in this process, or as tasks on ``dask.distributed``.

Each unit is one task, :func:`run_unit`, which runs the ordinary pipeline
(:func:`siteplan.pipeline.run`) on the unit's scenario and writes its outputs
(:func:`siteplan.outputs.writer.write_run`) into the cache, under the unit's key; a unit whose key is already
in the cache is not run again. A task never raises: a failure becomes an outcome with the error, so
the other units finish. The results do not depend on where a unit ran: a unit reads only its own
inputs and the seed, so no Dask, one worker or many give the same files.

With ``--scheduler`` the workers must see the same file system as this process (the scenario's
inputs and the cache folder), as on a cluster with a shared disk.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import socket
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext, suppress
from dataclasses import asdict, dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any

from ..common.parallel import limited
from ..progress import UnitBars, announce, listen
from .logs import captured_warnings, labelled_logs

log = logging.getLogger(__name__)

__all__ = ["UnitTask", "Outcome", "run_unit", "run_units", "dask_available", "check_scheduler", "SUMMARY"]

#: the file in a cached unit that holds its headline figures
SUMMARY = "summary.json"


@dataclass(frozen=True)
class UnitTask:
    """What a worker needs to run one unit (small, picklable)."""

    label: str
    scenario_path: str
    key: str
    cache_dir: str
    seed: int | None = None
    #: a size (businesses): larger units start first, so that a big one does not start last
    weight: int = 0
    #: on Dask: the event topic the worker sends the unit's stages to (progress), with the unit's index
    topic: str = ""
    index: int = 0


@dataclass
class Outcome:
    """A unit's result: status ``ok`` (computed), ``cached`` (reused), ``failed`` (with ``error``) or
    ``missing`` (not run: the Dask scheduler was lost first; ``error`` says so)."""

    label: str
    key: str
    status: str
    error: str = ""
    seconds: float = 0.0
    worker: str = ""
    figures: dict[str, Any] = field(default_factory=dict)
    #: the worker process's peak resident memory (MB) when the unit ended (Unix; 0 elsewhere)
    peak_mb: float = 0.0
    #: CPU seconds of the process that ran it, while it ran (the benchmark's CPU-bound work)
    cpu_s: float = 0.0
    #: the unit's warnings logged while it ran, each starting with its label (on Dask: the command logs them)
    logged: list[str] = field(default_factory=list)


def _peak_mb() -> float:
    try:
        import resource
    except ImportError:  # Windows
        return 0.0
    import sys

    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(rss / (1024 * 1024 if sys.platform == "darwin" else 1024), 1)


def unit_dir(cache_dir: str | Path, key: str) -> Path:
    """Where a unit's outputs are kept in the cache."""
    return Path(cache_dir) / "units" / key


def _figures(res: Any) -> dict[str, Any]:
    rows = res.plan.rows
    assigned = rows["status"] == "assigned"
    return {"businesses": len(rows), "assigned": int(assigned.sum()),
            "unassigned": int((~assigned).sum()),
            "land_ha": round(float(rows.loc[assigned, "land_m2"].sum()) / 1e4, 2),
            "mean_km": round(float(rows.loc[assigned, "distance_km"].mean()), 3) if assigned.any() else None,
            "estates": len(res.prep.region.layers["estates"]), "zones": len(res.zones),
            "sites": len(res.sites), "warnings": len(res.warnings),
            "gap": res.plan.solver.get("gap")}


def run_unit(task: UnitTask) -> Outcome:
    """Run one unit into the cache (or find it there); never raises.

    Parameters
    ----------
    task
        The unit.

    Returns
    -------
    Outcome
    """
    t0 = time.perf_counter()
    c0 = time.process_time()
    where = f"{socket.gethostname()}:{os.getpid()}"
    done = unit_dir(task.cache_dir, task.key)
    with listen(_worker_sender(task.topic, task.index)) if task.topic else nullcontext():
        if not task.topic:  # here: the caller labels the log lines (labelled_logs)
            out = _run_unit(task, t0, where, done)
        else:
            # on a worker: labelled, and kept for the command; one thread (the worker's own: its log capture is
            # by thread, and the workers already use the cores)
            with captured_warnings(task.label) as logged, limited(1):
                out = _run_unit(task, t0, where, done)
            out.logged = logged
    out.cpu_s = round(time.process_time() - c0, 3)
    return out


def _worker_sender(topic: str, index: int) -> Callable[[str, str], None] | None:
    """On a Dask worker: a listener that sends the unit's stages to the client as events."""
    try:
        from distributed import get_worker

        worker = get_worker()
    except (ImportError, ValueError):  # not on a worker
        return None
    return lambda stage, state: worker.log_event(topic, {"unit": index, "stage": stage, "state": state})


def _run_unit(task: UnitTask, t0: float, where: str, done: Path) -> Outcome:
    from ..errors import SiteplanError
    from ..outputs.stagecache import StageReuse
    from ..pipeline import run, write_outputs
    from ..scenario import load_scenario
    from .cache import claim_entry, seal_entry

    if (done / SUMMARY).is_file():
        figures = json.loads((done / SUMMARY).read_text(encoding="utf-8"))
        return Outcome(task.label, task.key, "cached", seconds=round(time.perf_counter() - t0, 3), worker=where,
                       figures=figures)
    stage = done.parent / f".{task.key}.partial-{uuid.uuid4().hex[:12]}"
    try:
        claim_entry(stage, "cache-unit", [])  # marked as siteplan's before anything is written
        stages = StageReuse.from_run(None)
        res = run(load_scenario(task.scenario_path), seed=task.seed, stages=stages)
        with announce("write"):
            write_outputs(res, stage, Path(task.scenario_path), stages)  # the files `siteplan run` writes
        figures = _figures(res)
        (stage / SUMMARY).write_text(json.dumps(figures, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        seal_entry(stage, "cache-unit")  # the files it holds: what pruning may remove
        try:
            stage.rename(done)
        except OSError:  # another run put the same unit there meanwhile: same key, same content
            shutil.rmtree(stage, ignore_errors=True)
        return Outcome(task.label, task.key, "ok", seconds=round(time.perf_counter() - t0, 3), worker=where,
                       figures=figures, peak_mb=_peak_mb())
    except (SiteplanError, Exception) as exc:  # reported with the unit; the others go on
        shutil.rmtree(stage, ignore_errors=True)
        msg = str(exc) if isinstance(exc, SiteplanError) else (
            f"internal error while running {task.scenario_path} ({type(exc).__name__}: {exc}); rerun this province "
            "alone with `siteplan run FILE --debug` for the traceback, and report it")
        log.debug("unit %s failed", task.label, exc_info=True)
        return Outcome(task.label, task.key, "failed", error=msg, seconds=round(time.perf_counter() - t0, 3),
                       worker=where)


def dask_available() -> bool:
    """True when ``dask.distributed`` can be imported (``pip install 'siteplan[dask]'``)."""
    try:
        import distributed  # noqa: F401 - imported only to see that it is installed
    except ImportError:
        return False
    return True


def _progress(outcome: Outcome, done: int, total: int) -> None:
    what = {"ok": "done", "cached": "unchanged (cached)", "failed": "FAILED"}[outcome.status]
    log.info("[%d/%d] %s: %s in %.1f s%s", done, total, outcome.label, what, outcome.seconds,
             f": {_first_problem(outcome.error)}" if outcome.error else "")


def _first_problem(error: str) -> str:
    """The error's first line, and the first problem listed when that line only counts them ("2 problems:")."""
    lines = [s.strip() for s in error.splitlines() if s.strip()]
    if len(lines) > 1 and lines[0].endswith(":"):
        return f"{lines[0]} {lines[1]}" + (" …" if len(lines) > 2 else "")
    return lines[0] if lines else ""


def run_units(tasks: list[UnitTask], *, workers: int = 0, scheduler: str | None = None,
              processes: bool = True, on_done: Callable[[Outcome, int, int], None] = _progress,
              bars: UnitBars | None = None) -> tuple[list[Outcome], dict[str, Any]]:
    """Run every unit; outcomes in the order of ``tasks``.

    Parameters
    ----------
    tasks
        The units.
    workers
        0: one after another in this process; N ≥ 1: a Dask ``LocalCluster`` of N workers (one thread
        each). Without ``dask.distributed`` installed the units run one after another, with a warning.
    scheduler
        Address of an existing Dask scheduler (``tcp://host:8786``); ``workers`` is then ignored.
    processes
        Worker processes (True) or threads of this process (False) for the ``LocalCluster``.
    on_done
        Called with each outcome as it arrives (the log line).
    bars
        The progress display (default: bars on stderr when it is a terminal); it receives every
        unit's stages, from this process or, on Dask, as the workers' events.

    Returns
    -------
    outcomes, engine
        ``engine`` says what ran them (for the manifest).
    """
    if (workers > 0 or scheduler) and not dask_available():
        log.warning("dask.distributed is not installed (pip install 'siteplan[dask]'); running the %d partitions "
                    "one after another", len(tasks))
        workers, scheduler = 0, None
    bars = bars if bars is not None else UnitBars([t.label for t in tasks])
    with bars:
        if workers <= 0 and not scheduler:
            outcomes = []
            for i, t in enumerate(tasks):
                with listen(partial(bars.stage, i), drawn=bars.enabled), labelled_logs(t.label):
                    outcomes.append(run_unit(t))
                bars.done(i, outcomes[-1].status)
                on_done(outcomes[-1], i + 1, len(tasks))
            return outcomes, {"engine": "sequential", "workers": 0}
        with _quiet_client():
            return _run_dask(tasks, workers, scheduler, on_done, bars, processes=processes)


@contextmanager
def _quiet_client() -> Iterator[None]:
    """A lost scheduler is reported once, by the command, not as the Dask client's reconnection tracebacks."""
    logger = logging.getLogger("distributed.client")
    before = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(before)


#: seconds to wait for an existing scheduler to answer (--scheduler)
CONNECT_TIMEOUT_S = 10.0


def check_scheduler(address: str, timeout: float = CONNECT_TIMEOUT_S) -> None:
    """Refuse, within ``timeout`` seconds, a ``--scheduler`` address where no Dask scheduler answers.

    Parameters
    ----------
    address
        ``tcp://host:port`` (or ``tls://``, or ``host:port``).
    timeout
        Seconds to wait for the connection.

    Raises
    ------
    InputError
        The address is malformed, or nothing listens there.
    """
    from ..errors import InputError

    scheme, _, rest = address.rpartition("://")
    if scheme not in ("", "tcp", "tls"):
        return  # another transport (inproc, ws): Client says
    host, sep, port = rest.rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port.isdigit():
        raise InputError(f"--scheduler {address}: give the scheduler's address as tcp://HOST:PORT (the address "
                         "`dask scheduler` prints, 8786 by default)")
    try:
        with socket.create_connection((host, int(port)), timeout=timeout):
            pass
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise InputError(f"--scheduler {address}: no Dask scheduler answers there ({reason} within "
                         f"{timeout:g} s); start one (`dask scheduler`, or your cluster's), check the address "
                         "and port, or run with --workers N on this machine") from None


def _client(scheduler: str) -> Any:
    from distributed import Client

    from ..errors import InputError

    check_scheduler(scheduler)
    try:
        return Client(scheduler, timeout=CONNECT_TIMEOUT_S)
    except (OSError, TimeoutError) as exc:  # something listens, but is no Dask scheduler (or not in time)
        raise InputError(f"--scheduler {scheduler}: no Dask scheduler answered there ({type(exc).__name__}: {exc}); "
                         "check the address and port (`dask scheduler` prints it)") from None


def _scheduler_lost(client: Any, exc: BaseException) -> bool:
    """True when a task's error means the scheduler is gone (not the task's own failure)."""
    from concurrent.futures import CancelledError

    if isinstance(exc, CancelledError) or type(exc).__name__ in ("FutureCancelledError", "CommClosedError"):
        return True
    return getattr(client, "status", "running") not in ("running", "connecting", "newly-created")


class _SchedulerLost(Exception):
    """The scheduler went away while units were running."""


def _result(client: Any, fut: Any, task: UnitTask) -> Outcome:
    """A finished future's outcome; a worker lost as often as Dask allows is the unit's failure."""
    try:
        out: Outcome = fut.result()
    except Exception as exc:  # noqa: BLE001 - Dask re-raises whatever killed the worker; the unit fails
        if _scheduler_lost(client, exc):
            raise _SchedulerLost(f"{type(exc).__name__}: {exc}".strip()) from None
        return Outcome(task.label, task.key, "failed",
                       error=f"the worker running it was lost ({type(exc).__name__}: {exc}); a worker that runs "
                             "out of memory is killed: give the workers more memory")
    return out


def _run_dask(tasks: list[UnitTask], workers: int, scheduler: str | None,
              on_done: Callable[[Outcome, int, int], None], bars: UnitBars, *,
              processes: bool) -> tuple[list[Outcome], dict[str, Any]]:
    from distributed import as_completed

    client, cluster, engine = _connect(workers, scheduler, processes=processes)
    topic = f"siteplan-progress-{uuid.uuid4().hex[:12]}"
    written: set[int] = set()
    here = f"{socket.gethostname()}:{os.getpid()}"

    client.subscribe_topic(topic, _stage_events(written, bars))
    lost = ""
    try:
        order = sorted(range(len(tasks)), key=lambda i: (-tasks[i].weight, i))
        futures = {client.submit(run_unit, replace(tasks[i], topic=topic, index=i),
                                 key=f"siteplan-unit-{i}-{tasks[i].key[:16]}", pure=False,
                                 priority=tasks[i].weight): i for i in order}
        results: dict[int, Outcome] = {}
        for fut in as_completed(list(futures)):
            i = futures[fut]
            try:
                results[i] = _result(client, fut, tasks[i])
            except _SchedulerLost as exc:  # the others cannot finish either: stop here
                lost = str(exc)
                break
            _said(results[i], i, here, (written, bars))
            on_done(results[i], len(results), len(tasks))
        if lost:
            for i, t in enumerate(tasks):
                if i not in results:
                    results[i] = _missing(t, scheduler or "LocalCluster", lost)
        return [results[i] for i in range(len(tasks))], {**engine, **({"lost": lost} if lost else {})}
    finally:
        _close(client, cluster, topic, lost)


def _stage_events(written: set[int], bars: UnitBars) -> Callable[[Any], None]:
    """The handler of the workers' stage events (run in the client's event-loop thread): the bars move,
    and ``written`` gets each unit whose write stage is done."""
    def on_event(event: Any) -> None:
        msg = event[1] if isinstance(event, tuple) and len(event) == 2 else event
        if not isinstance(msg, dict) or not isinstance(msg.get("unit"), int):
            return
        unit, stage, state = msg["unit"], str(msg.get("stage")), str(msg.get("state"))
        if stage == "write" and state == "done":
            written.add(unit)
        bars.stage(unit, stage, state)

    return on_event


def _said(o: Outcome, i: int, here: str, shown: tuple[set[int], UnitBars]) -> None:
    """A unit's outcome said: a remote worker's warnings logged, its last stage let arrive, its bar done."""
    written, bars = shown
    if o.worker and o.worker != here:
        for line in o.logged:  # a worker elsewhere: its warnings, with the unit's label
            log.warning("%s", line)
    if o.status == "ok":  # its stages travel apart from the result: let the last one arrive
        _wait_for(partial(written.__contains__, i), 1.0)
    bars.done(i, o.status)


def _connect(workers: int, scheduler: str | None, *, processes: bool) -> tuple[Any, Any, dict[str, Any]]:
    """A client of the ``--scheduler`` (checked first) or of a new LocalCluster; the engine's record."""
    from distributed import Client

    from .cluster import local_cluster

    if scheduler:
        client = _client(scheduler)
        return client, None, {"engine": "dask", "scheduler": scheduler,
                              "workers": len(client.scheduler_info().get("workers", {}))}
    cluster = local_cluster(workers, processes=processes)
    return Client(cluster), cluster, {"engine": "dask", "scheduler": "LocalCluster", "workers": workers,
                                      "processes": processes}


def _close(client: Any, cluster: Any, topic: str, lost: str) -> None:
    if lost:  # nothing to say goodbye to
        with suppress(Exception):  # the scheduler is gone: closing may fail in any way
            client.close(timeout=5)
    else:
        client.unsubscribe_topic(topic)
        client.close()
    if cluster is not None:
        cluster.close()


def _missing(t: UnitTask, scheduler: str, why: str) -> Outcome:
    """A unit the lost scheduler never finished: already in the cache (a worker wrote it), or not computed."""
    if (unit_dir(t.cache_dir, t.key) / SUMMARY).is_file():
        figures = json.loads((unit_dir(t.cache_dir, t.key) / SUMMARY).read_text(encoding="utf-8"))
        return Outcome(t.label, t.key, "cached", figures=figures)
    return Outcome(t.label, t.key, "missing", error=f"not computed: the Dask scheduler {scheduler} was lost ({why})")


def _wait_for(cond: Callable[[], bool], seconds: float) -> None:
    end = time.monotonic() + seconds
    while not cond() and time.monotonic() < end:
        time.sleep(0.01)


def outcome_record(o: Outcome) -> dict[str, Any]:
    """An outcome as a manifest entry."""
    return asdict(o)
