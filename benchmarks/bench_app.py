"""Benchmark: how long the what-if page (``ckdmbd app``) takes to answer one Run, per dialysis scenario it offers.

One Run is :func:`ckdmbd.app.simulate_whatif` on a parsed request: the what-if and the scenario as written, over the
scenario's own duration (capped at the app's 36 months). Per scenario, ``cold`` is the first Run of that scenario in
this process (the model is already compiled and loaded: that one-off cost is printed separately), ``warm`` the median
of ``-n`` later Runs, each with a different dietary phosphorus (so no answer can be a repeat of an earlier one), in
wall-clock seconds and in this process's CPU seconds. The machine's load average is printed with the table: the wall
times scale with the cores other processes take, the CPU times much less.

Run: ``PYTHONPATH=src .venv/bin/python benchmarks/bench_app.py [-n 3] [--scenarios seed-case hemodialysis-adherent]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

from ckdmbd.app import dialysis_scenarios, parse_request, simulate_whatif


def _run(scenario: str, phosphorus_mg_day: float) -> tuple[float, float]:
    request = parse_request({"scenario": scenario, "changes": {"dietary_phosphorus": f"{phosphorus_mg_day:g} mg/day"}})
    start, cpu = time.perf_counter(), time.process_time()
    result = simulate_whatif(request)
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    bad = {label: run["message"] for label, run in result["runs"].items() if run["status"] != "ok"}
    if bad:
        raise SystemExit(f"{scenario}: a run failed: {bad}")
    return elapsed, cpu


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=3, help="warm Runs per scenario (default 3)")
    ap.add_argument("--scenarios", nargs="*", default=None, help="default: every scenario the app offers")
    args = ap.parse_args()
    names = args.scenarios or list(dialysis_scenarios())
    start = time.perf_counter()
    _run("hemodialysis-adherent", 1000.0)  # model load / numba cache / specialised solver: once per process
    print(f"first Run in the process (model load and compile included): {time.perf_counter() - start:.2f} s")
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())} ({os.cpu_count()} CPUs)")
    print(f"{'scenario':32s} {'cold s':>8s} {'warm median s':>14s} {'warm min s':>11s} {'cold CPU s':>11s} "
          f"{'warm CPU median s':>18s} {'n':>3s}")
    for name in names:
        cold, cold_cpu = _run(name, 1010.0)
        warm = [_run(name, 1020.0 + 10.0 * k) for k in range(args.n)]
        wall, cpu = [w for w, _ in warm], [c for _, c in warm]
        print(f"{name:32s} {cold:8.3f} {statistics.median(wall):14.3f} {min(wall):11.3f} {cold_cpu:11.3f} "
              f"{statistics.median(cpu):18.3f} {args.n:3d}", flush=True)
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
