"""Where a population's patients run: in this process, in local worker processes, or on a Dask cluster (issue 12).

Every backend runs the same function on the same patient values, one patient at a time in a fresh solver, so the
numbers do not depend on the backend, the number of workers or the chunking: a population on a Dask cluster equals
the serial run exactly (tests/test_population_backends.py). Patients travel in chunks (a few per task) to keep the
scheduler's overhead per patient small; results come back in patient order.

Backends:
- ``workers == 1`` and no scheduler: this process;
- ``workers > 1``: a local process pool (fork where the platform has it, so the workers inherit the compiled model);
- ``scheduler="local"``: a Dask ``LocalCluster`` of ``workers`` single-threaded worker processes started for the run;
- ``scheduler="tcp://HOST:8786"``: an existing Dask cluster (every worker needs ckdmbd installed, same version).

Dask is imported only when a scheduler is asked for, so the local backends do not pay for it.
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


def chunk_size(n_patients: int, workers: int) -> int:
    """Patients per task: about four tasks per worker (so a slow patient does not idle the others), at most 8."""
    return max(1, min(8, n_patients // (4 * max(workers, 1)) or 1))


def run_patients(simulate: Simulate, scenario: Any, options: Any, samples: Sequence[dict[str, float]],
                 workers: int = 1, scheduler: str | None = None,
                 progress: Callable[[int, int], None] | None = None) -> list[Outcome]:
    """Outcomes of ``simulate(scenario, values, options)`` for every patient's ``values``, in patient order."""
    if scheduler is not None:
        return _run_dask(simulate, scenario, options, samples, workers, scheduler, progress)
    if workers == 1:
        outcomes = []
        for k, values in enumerate(samples):
            outcomes.append(simulate(scenario, values, options))
            if progress:
                progress(k + 1, len(samples))
        return outcomes
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    outcomes = []
    with ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_init_worker,
                             initargs=(simulate, scenario, options)) as pool:
        for k, outcome in enumerate(pool.map(_worker_patient, samples,
                                             chunksize=chunk_size(len(samples), workers))):
            outcomes.append(outcome)
            if progress:
                progress(k + 1, len(samples))
    return outcomes


_WORKER: dict[str, Any] = {}


def _init_worker(simulate: Simulate, scenario: Any, options: Any) -> None:
    _WORKER.update(simulate=simulate, scenario=scenario, options=options)


def _worker_patient(values: dict[str, float]) -> Outcome:
    return _WORKER["simulate"](_WORKER["scenario"], values, _WORKER["options"])


def _simulate_chunk(simulate: Simulate, scenario: Any, options: Any,
                    chunk: Sequence[dict[str, float]]) -> list[Outcome]:
    """One Dask task: a few patients, one after another, in the worker's process."""
    return [simulate(scenario, values, options) for values in chunk]


def _client(scheduler: str, workers: int):
    """A Dask client and the cluster it started (None when it joined an existing one)."""
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError as exc:  # pragma: no cover - dask is a dependency; a broken install still gets one line
        raise BackendError(f"--scheduler {scheduler!r} needs dask[distributed] ({exc})") from None
    if scheduler == "local":
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
        size = chunk_size(len(samples), n_workers)
        starts = list(range(0, len(samples), size))
        scattered = client.scatter([scenario, options], broadcast=True)
        futures = {client.submit(_simulate_chunk, simulate, scattered[0], scattered[1],
                                 list(samples[s:s + size]), pure=False): s for s in starts}
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
