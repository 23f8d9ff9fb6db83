"""Benchmark: a virtual haemodialysis population through ``ckdmbd population`` (the whole command, as a user runs it)
and ``ckdmbd.Population.run`` on 1 process, N local workers and a Dask LocalCluster of N workers, and where a
patient's time goes.

Each patient is an anuric haemodialysis patient (thrice weekly, binder, no simulated history) run for ``--years``
with dietary phosphorus, mobilisation and dialyzer clearances and binder adherence drawn per patient; the accuracy
is the ``population`` preset. Tables:

1. ``ckdmbd population SPEC --workers N -q`` and ``... --scheduler local`` as fresh processes: wall time from the
   command's start to its end (imports, draws, the run, Parquet, summary.json and report.html), patient-years per
   second; the pooled numbers are read back from the Parquet files and compared with the first run's (they must be
   equal).
2. ``Population.run`` in this process (the model and the compiled drivers loaded by a warm-up first).
3. Where the time goes (``--no-breakdown`` skips it): CPU seconds per patient of a batch on one core, split into the
   compiled solver call (``_integrate_many_serial``) and the Python around it, and the calling process's one-off
   work for the population (draws, collecting the outcomes, Parquet, the HTML page).

Every table prints the load average before and after (the machine is shared: compare rows of one run, not runs).
Run: ``PYTHONPATH=src .venv/bin/python benchmarks/bench_population.py [--patients N] [--years Y] [--workers 2]
[--no-serial] [--no-dask] [--no-cli] [--no-api] [--no-breakdown]``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

from ckdmbd.population import Population, summary

BASE = """
[scenario]
name = "bench-hd"
duration = "{years} years"
output_interval = "1 day"

[patient]
diet_phosphorus = "1000 mg/day"

[[events]]
type = "set_gfr"
time = "0 h"
gfr = "0 mL/min"

[[events]]
type = "hemodialysis"
time = "0 h"

[[events]]
type = "phosphate_binder"
time = "0 h"
dose = "2.4 g/day"
"""

SPEC = """
[population]
scenario = "base.toml"
size = {size}
seed = 2011

[distributions.dietary_phosphorus]
type = "normal"
mean = "982 mg/day"
sd = "192 mg/day"
low = "500 mg/day"
high = "1600 mg/day"

[distributions.phosphate_mobilisation_clearance]
type = "normal"
mean = "99 mL/min"
sd = "47 mL/min"
low = "45 mL/min"
high = "208 mL/min"

[distributions.dialyzer_phosphate_clearance]
type = "normal"
mean = "160 mL/min"
sd = "14 mL/min"
low = "110 mL/min"
high = "210 mL/min"

[distributions.binder_adherence]
type = "uniform"
low = 0
high = 1
"""


def _load() -> str:
    return " / ".join(f"{x:.2f}" for x in os.getloadavg())


def _frames(out: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    return pd.read_parquet(out / "patients.parquet"), pd.read_parquet(out / "sessions.parquet")


def cli_rows(folder: Path, args) -> None:
    """The whole ``ckdmbd population`` command in fresh processes (as a user runs it: the numba cache warm)."""
    import ckdmbd

    here = str(Path(ckdmbd.__file__).resolve().parents[1])  # the commands run the ckdmbd this process imported
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([here, os.environ.get("PYTHONPATH", "")])}
    command = [sys.executable, "-m", "ckdmbd.cli", "population", str(folder / "spec.toml"), "-q"]
    subprocess.run([*command[:4], str(folder / "warm.toml"), "--out", str(folder / "warm"), "-q"], check=True,
                   env=env)  # the numba cache of the drivers, once
    runs = [(f"ckdmbd population --workers {args.workers}", ["--workers", str(args.workers)])]
    if not args.no_dask:
        runs.append((f"ckdmbd population --scheduler local --workers {args.workers}",
                     ["--scheduler", "local", "--workers", str(args.workers)]))
    years = args.patients * args.years
    print(f"\n`ckdmbd population`, {args.patients} patients x {args.years:g} year (whole command), load before "
          f"{_load()}:\n")
    print("| command | wall (s) | patient-years/s | failed | equal to the first row |")
    print("|---|---|---|---|---|")
    first = None
    for k, (label, extra) in enumerate(runs):
        out = folder / f"cli{k}"
        t = time.perf_counter()
        subprocess.run([*command, "--out", str(out), *extra], check=True, env=env)
        wall = time.perf_counter() - t
        frames = _frames(out)
        first = first or frames
        same = first[0].equals(frames[0]) and first[1].equals(frames[1])
        failed = int((frames[0]["status"] != "ok").sum())
        print(f"| {label} | {wall:.2f} | {years / wall:.2f} | {failed} | {same} |")
    print(f"\nload after {_load()}")


def api_rows(folder: Path, args) -> None:
    pop = Population(folder / "spec.toml")
    runs = [] if args.no_serial else [("1 process", 1, None)]
    runs.append((f"{args.workers} local workers", args.workers, None))
    if not args.no_dask:
        runs.append((f"Dask LocalCluster, {args.workers} workers (start-up included)", args.workers, "local"))
    years = args.patients * args.years
    print(f"\n`Population.run` in this process, {args.patients} patients x {args.years:g} year, load before "
          f"{_load()}:\n")
    print("| backend | wall (s) | patient-years/s | patients/s | failed | equal to the first row |")
    print("|---|---|---|---|---|---|")
    results = {}
    for label, workers, scheduler in runs:
        t = time.perf_counter()
        results[label] = pop.run(workers=workers, scheduler=scheduler)
        wall = time.perf_counter() - t
        first = results[runs[0][0]]
        same = (first.patients.equals(results[label].patients)
                and first.sessions.equals(results[label].sessions))
        print(f"| {label} | {wall:.2f} | {years / wall:.2f} | {args.patients / wall:.2f} | "
              f"{len(results[label].failures)} | {same} |")
    print(f"\nload after {_load()}\n")
    print(summary(results[runs[0][0]]).to_string(index=False))


def breakdown(folder: Path, args) -> None:
    """CPU seconds per patient on one core, inside a task, and the calling process's one-off work."""
    from ckdmbd.model.configurations import model
    from ckdmbd.population import _collect, simulate_pinned
    from ckdmbd.population_backends import _simulate_chunk, chunk_size
    from ckdmbd.population_report import write_page
    from ckdmbd.simulation import SolverOptions

    pop = Population(folder / "spec.toml")
    spec = pop.spec
    options = SolverOptions.preset(spec.accuracy, specialised=True)
    generated = model(spec.scenario.configuration).generated
    driver = generated._integrate_many_serial
    spent = [0.0]

    def timed(*a):
        t = time.process_time()
        try:
            return driver(*a)
        finally:
            spent[0] += time.process_time() - t

    print(f"\nWhere the time goes (CPU s, one core), load before {_load()}:\n")
    t = time.process_time()
    samples = pop.samples()
    draws = time.process_time() - t
    n = min(len(samples), max(2 * chunk_size(len(samples), args.workers), 16))
    size = chunk_size(len(samples), args.workers)
    _simulate_chunk(simulate_pinned, spec.scenario, options, samples[:2], 1)  # the serial driver loaded
    generated._integrate_many_serial = timed
    try:
        t = time.process_time()
        outcomes = [o for k in range(0, n, size)
                    for o in _simulate_chunk(simulate_pinned, spec.scenario, options, samples[k:k + size], 1)]
        task = time.process_time() - t
    finally:
        generated._integrate_many_serial = driver
    outcomes = [outcomes[k % n] for k in range(len(samples))]  # the tables of a full population, for the rest
    t = time.process_time()
    result = _collect(spec, samples, outcomes)
    collect = time.process_time() - t
    t = time.process_time()
    result.write(folder / "breakdown")
    parquet = time.process_time() - t
    t = time.process_time()
    write_page(result, folder / "breakdown" / "report.html")
    page = time.process_time() - t
    print("| where | CPU | per |")
    print("|---|---|---|")
    print(f"| compiled solver (`_integrate_many_serial`) | {1e3 * spent[0] / n:.1f} ms | patient ({n} patients, "
          f"tasks of {size}) |")
    print(f"| Python around it in the task (tables, parameter vectors, outcome frames) | "
          f"{1e3 * (task - spent[0]) / n:.1f} ms | patient |")
    print(f"| draws ({len(samples)} patients) | {draws:.3f} s | population |")
    print(f"| collecting the outcomes into the two tables | {collect:.3f} s | population |")
    print(f"| Parquet | {parquet:.3f} s | population |")
    print(f"| report.html | {page:.3f} s | population |")
    print(f"\nload after {_load()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--patients", type=int, default=20)
    parser.add_argument("--years", type=float, default=1.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--no-dask", action="store_true", help="skip the Dask LocalCluster rows")
    parser.add_argument("--no-serial", action="store_true",
                        help="skip the 1-process row (the others are then compared with the local workers' run)")
    parser.add_argument("--no-cli", action="store_true", help="skip the `ckdmbd population` command rows")
    parser.add_argument("--no-api", action="store_true", help="skip the `Population.run` rows")
    parser.add_argument("--no-breakdown", action="store_true", help="skip the table of where the time goes")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "base.toml").write_text(BASE.format(years=args.years), encoding="utf-8")
        (folder / "warm.toml").write_text(SPEC.format(size=2), encoding="utf-8")
        (folder / "spec.toml").write_text(SPEC.format(size=args.patients), encoding="utf-8")
        if not args.no_cli:
            cli_rows(folder, args)
        if not args.no_api:
            warm = Population(folder / "warm.toml")
            warm.run()  # the model and the threaded driver
            warm.run(workers=2)  # the serial driver's numba cache
            api_rows(folder, args)
        if not args.no_breakdown:
            breakdown(folder, args)


if __name__ == "__main__":
    main()
