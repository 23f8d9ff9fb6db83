"""Where a population's patients run: in this process, in local worker processes, or on a Dask cluster (issue 12).

Every backend runs the same function on the same patient values, each patient in a fresh solver (alone or in a
batch, below: the same numbers bit for bit), so the numbers do not depend on the backend, the number of workers or
the chunking: a population on a Dask cluster equals the serial run exactly (tests/test_population_spec.py).
Patients travel in chunks (a few per task, fewer at the end: :func:`chunk_bounds`) to keep the scheduler's
overhead per patient small; results come back in patient order.

Backends:
- ``workers == 1`` and no scheduler: this process;
- ``workers > 1``: a local process pool (fork where the platform has it, so the workers inherit the compiled model);
- ``scheduler="local"``: a Dask ``LocalCluster`` of ``workers`` single-threaded worker processes started for the run
  (forked where the platform has it, as the local pool's);
- ``scheduler="tcp://HOST:8786"``: an existing Dask cluster (every worker needs ckdmbd installed, same version).

Dask is imported only when a scheduler is asked for, so the local backends do not pay for it.

A population's members (:func:`ckdmbd.population.simulate_pinned`) run in batches on the batched engine
(:func:`ckdmbd.simulation.simulate_many`, :func:`pinned_batch`): the patients of a chunk that pin the same
parameters share one protocol and run in one compiled call, keeping only what a member's outcome reads (the
values at each session's start); each patient's numbers are those of its single run, bit for bit
(tests/test_engine_population.py), so the backends still agree exactly.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any

Outcome = tuple[str, str, Any, float]  # (status, message, per-session frame, day a failed run stopped) per patient
Simulate = Callable[[Any, dict[str, float], Any], Outcome]


CONNECT_TIMEOUT = "10s"  # how long to wait for an existing Dask scheduler before giving up


class BackendError(ValueError):
    """A backend that cannot be reached or started; the message names the option and the value (one line)."""


MAX_CHUNK = 8
"""Patients per task at most: a task of 8 dialysis patient-years is about half a second of one core."""


def chunk_size(n_patients: int, workers: int) -> int:
    """Patients per task: about four tasks per worker (so a slow patient does not idle the others), at most 8."""
    return max(1, min(MAX_CHUNK, n_patients // (4 * max(workers, 1)) or 1))


def chunk_bounds(n_patients: int, workers: int) -> list[tuple[int, int]]:
    """(start, stop) of each task's patients, in patient order: ``chunk_size`` patients while plenty remain, then
    tasks that shrink (a quarter of the remaining patients per worker, down to one patient) so that the workers
    finish together: with equal tasks of 8, the last one ran alone while the other workers idled (half a second
    of a 2-worker run). A patient's numbers do not depend on its task (:func:`pinned_batch`)."""
    workers = max(workers, 1)
    size, bounds, start = chunk_size(n_patients, workers), [], 0
    while start < n_patients:
        step = max(1, min(size, -(-(n_patients - start) // (4 * workers))))
        bounds.append((start, start + step))
        start += step
    return bounds


BATCH = 16
"""Patients per batched call in this process (progress is reported per batch)."""


def run_patients(simulate: Simulate, scenario: Any, options: Any, samples: Sequence[dict[str, float]],
                 workers: int = 1, scheduler: str | None = None,
                 progress: Callable[[int, int], None] | None = None) -> list[Outcome]:
    """Outcomes of ``simulate(scenario, values, options)`` for every patient's ``values``, in patient order."""
    if scheduler is not None:
        return _run_dask(simulate, scenario, options, samples, workers, scheduler, progress)
    if workers == 1:
        outcomes = []
        step = BATCH if _batched(simulate) else 1
        for k in range(0, len(samples), step):
            outcomes.extend(_simulate_chunk(simulate, scenario, options, samples[k:k + step], threads=None))
            if progress:
                progress(len(outcomes), len(samples))
        return outcomes
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    outcomes = []
    with ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_init_worker,
                             initargs=(simulate, scenario, options)) as pool:
        chunks = [list(samples[a:b]) for a, b in chunk_bounds(len(samples), workers)]
        for chunk_outcomes in pool.map(_worker_chunk, chunks):
            outcomes.extend(chunk_outcomes)
            if progress:
                progress(len(outcomes), len(samples))
    return outcomes


_WORKER: dict[str, Any] = {}


def _init_worker(simulate: Simulate, scenario: Any, options: Any) -> None:
    _WORKER.update(simulate=simulate, scenario=scenario, options=options)


def _worker_chunk(chunk: list[dict[str, float]]) -> list[Outcome]:
    return _simulate_chunk(_WORKER["simulate"], _WORKER["scenario"], _WORKER["options"], chunk)


def _simulate_chunk(simulate: Simulate, scenario: Any, options: Any, chunk: Sequence[dict[str, float]],
                    threads: int | None = 1) -> list[Outcome]:
    """A few patients in the worker's process (one Dask task): batched where the simulation has a batched form
    (a task of one patient too: the batch keeps only the session values, where a single run builds a frame of
    every output), else one after another. ``threads``: 1 in worker processes (the serial compiled driver:
    fork-safe)."""
    from ckdmbd.solvers.batch import batchable

    if _batched(simulate) and chunk and batchable(options) and options.specialised is True:
        return pinned_batch(scenario, chunk, options, threads)
    return [simulate(scenario, values, options) for values in chunk]


def _batched(simulate: Simulate) -> bool:
    """Whether ``simulate`` is a population member's run, which :func:`pinned_batch` computes in batches."""
    from ckdmbd.population import simulate_pinned

    return simulate is simulate_pinned


def pinned_batch(sc: Any, chunk: Sequence[dict[str, float]], options: Any, threads: int | None = 1) -> list[Outcome]:
    """:func:`ckdmbd.population.simulate_pinned` for every patient of ``chunk`` (the same outcomes, bit for bit),
    in one :func:`ckdmbd.simulation.simulate_many` call per group of patients that pin the same parameters (they
    share a protocol). A group the batch cannot take as a whole (its protocol is refused) runs patient by patient,
    so each failure stays that patient's value."""
    from ckdmbd.population import pinned_actions, simulate_pinned

    groups: dict[frozenset[str], list[int]] = {}
    for k, values in enumerate(chunk):
        groups.setdefault(frozenset(values), []).append(k)
    outcomes: list[Outcome | None] = [None] * len(chunk)
    for members in groups.values():
        try:
            batch = _pinned_group(sc, [chunk[k] for k in members], options, threads, pinned_actions)
        except Exception:
            batch = [simulate_pinned(sc, chunk[k], options) for k in members]
        for k, outcome in zip(members, batch, strict=True):
            outcomes[k] = outcome
    return outcomes  # type: ignore[return-value]


def _pinned_group(sc: Any, group: Sequence[dict[str, float]], options: Any, threads: int | None,
                  pinned_actions: Callable) -> list[Outcome]:
    import math

    import pandas as pd

    from ckdmbd.model.configurations import model as build_model
    from ckdmbd.sessions import sessions
    from ckdmbd.simulation import simulate_many
    from ckdmbd.units import HOURS_PER_DAY

    if not sc.duration_h > 0:
        raise ValueError("a batch needs a positive duration")
    names = build_model(sc.configuration).output_names
    columns = {"pre_calcium_mmol_L": "ca_mM", "pre_phosphate_mmol_L": "phosphate_mM", "pre_pth_pmol_L": "pth_pM"}
    if "ionized_calcium_mM" in names:  # the columns session_outcome's frame has
        columns["pre_ionized_calcium_mmol_L"] = "ionized_calcium_mM"
    deposit = "deposit_diameter_cm" in names and "deposit_mass_g" in names
    outputs = (*columns.values(), *(("deposit_mass_g",) if deposit else ()))
    batch = simulate_many(sc.configuration, sc.duration_h, pinned_actions(sc, group[0]),
                          parameters=[{**sc.parameter_overrides, **values} for values in group], outputs=outputs,
                          output_interval_h=sc.output_interval_h, solver=options, start_h=-sc.history_h,
                          threads=threads, sessions_h=sessions(sc.events))
    outcomes: list[Outcome] = []
    for j in range(len(group)):
        if batch.status[j] == -1:  # refused before the run, as failed_outcome words it
            outcomes.append(("failed", batch.messages[j], pd.DataFrame(), math.nan))
            continue
        if batch.status[j] != 0:
            day = batch.failed_at_h[j] / 24.0
            outcomes.append(("failed", batch.messages[j] + f" (at day {day:.4g})", pd.DataFrame(), day))
            continue
        pre = batch.predialysis[j]
        if not len(batch.session_starts_h):
            outcomes.append(("ok", "success", pd.DataFrame(columns=[]), math.nan))
            continue
        table = {"start_day": batch.session_starts_h / HOURS_PER_DAY}
        table.update({col: pre[:, c] for c, col in enumerate(columns)})
        if deposit:
            table["deposit_mass_g"] = pre[:, len(columns)]
        outcomes.append(("ok", "success", pd.DataFrame(table), math.nan))
    return outcomes


def _client(scheduler: str, workers: int):
    """A Dask client and the cluster it started (None when it joined an existing one)."""
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError as exc:  # pragma: no cover - dask is a dependency; a broken install still gets one line
        raise BackendError(f"--scheduler {scheduler!r} needs dask[distributed] ({exc})") from None
    if scheduler == "local":
        import dask

        # Forked worker processes (where the platform can fork, as the local pool's) inherit the imported package
        # and the compiled model: spawned ones imported ckdmbd and loaded the model before their first patient,
        # ~2 s of a 2-worker run (the tasks run the serial driver, which a forked process may call).
        method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
        with dask.config.set({"distributed.worker.multiprocessing-method": method}):
            cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
                                   silence_logs=40)
        return Client(cluster), cluster
    if not scheduler.startswith(("tcp://", "tls://", "inproc://")):
        raise BackendError(f"--scheduler: {scheduler!r} must be 'local' or a scheduler address such as "
                           f"tcp://HOST:8786")
    try:
        return Client(scheduler, timeout=CONNECT_TIMEOUT), None
    except OSError as exc:
        raise BackendError(f"--scheduler: cannot reach the Dask scheduler at {scheduler!r} ({exc})") from None


def _run_dask(simulate: Simulate, scenario: Any, options: Any, samples: Sequence[dict[str, float]], workers: int,
              scheduler: str, progress: Callable[[int, int], None] | None) -> list[Outcome]:
    from dask.distributed import as_completed

    client, cluster = _client(scheduler, workers)
    try:
        n_workers = max(1, len(client.scheduler_info().get("workers", {})) or workers)
        bounds = chunk_bounds(len(samples), n_workers)
        starts = [a for a, _ in bounds]
        scattered = client.scatter([scenario, options], broadcast=True)
        futures = {client.submit(_simulate_chunk, simulate, scattered[0], scattered[1],
                                 list(samples[a:b]), 1, pure=False): a for a, b in bounds}
        results: dict[int, list[Outcome]] = {}
        done = 0
        for future in as_completed(futures):
            start = futures[future]
            results[start] = future.result()
            done += len(results[start])
            if progress:
                progress(done, len(samples))
        return [outcome for s in starts for outcome in results[s]]
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
