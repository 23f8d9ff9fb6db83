"""Benchmark: one patient-year of thrice-weekly haemodialysis against the healthy baseline year, same run.

A dialysis year is cut into ~313 segments by session starts and ends (every restart is exact), and each session is
resolved every 15 minutes in the output, so it costs far more than the healthy steady-state year; this prints how
much more, as medians over repeats after warm-up, and the time of a 200-patient population year (in one process,
serially). Run: ``.venv/bin/python benchmarks/bench_dialysis.py [--repeats N] [--patients N]``.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from ckdmbd.protocol import Hemodialysis, PhosphateBinder
from ckdmbd.scenario import load_scenario, run_scenario
from ckdmbd.sessions import session_output_times
from ckdmbd.simulation import simulate
from ckdmbd.units import HOURS_PER_YEAR, ml_min_to_l_h


def _median_ms(fn, repeats: int) -> tuple[float, float, float]:
    fn()  # warm-up (numba cache load, first-call overheads)
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1e3)
    return statistics.median(times), min(times), max(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--patients", type=int, default=200)
    args = parser.parse_args()

    start = run_scenario(load_scenario("hemodialysis-adherent")).y[0]
    events = [Hemodialysis(0.0, HOURS_PER_YEAR), PhosphateBinder(0.0, 2.4, 1.0)]
    grid = session_output_times(events, HOURS_PER_YEAR)

    cases = {
        "healthy year, daily output (reference config)": lambda: simulate("reference", HOURS_PER_YEAR),
        "healthy year, daily output (default config)": lambda: simulate("default", HOURS_PER_YEAR),
        "dialysis patient-year, daily output": lambda: simulate(
            "default", HOURS_PER_YEAR, events, initial_state=start),
        "dialysis patient-year, + every 15 min in sessions": lambda: simulate(
            "default", HOURS_PER_YEAR, events, initial_state=start, extra_output_times_h=grid),
        "dialysis patient-year, + 15 min, to_frame()": lambda: simulate(
            "default", HOURS_PER_YEAR, events, initial_state=start, extra_output_times_h=grid).to_frame(),
    }
    rows = {name: _median_ms(fn, args.repeats) for name, fn in cases.items()}
    base = rows["healthy year, daily output (default config)"][0]
    print(f"{'case':52s} {'median ms':>10s} {'min':>9s} {'max':>9s} {'x healthy':>10s}")
    for name, (med, lo, hi) in rows.items():
        print(f"{name:52s} {med:10.2f} {lo:9.2f} {hi:9.2f} {med / base:10.1f}")
    r = simulate("default", HOURS_PER_YEAR, events, initial_state=start)
    print(f"dialysis patient-year: {r.n_steps} steps, {r.n_rhs} rhs evaluations, "
          f"{len(events[0].sessions())} sessions")

    rng = np.random.default_rng(1)
    t = time.perf_counter()
    for _ in range(args.patients):
        params = {"phosphate_mobilisation_clearance": ml_min_to_l_h(rng.uniform(45, 208)),  # K_M, Agar 2011
                  "dialyzer_phosphate_clearance": ml_min_to_l_h(rng.uniform(130, 190))}
        simulate("default", HOURS_PER_YEAR, events, initial_state=start, parameters=params)
    total = time.perf_counter() - t
    print(f"{args.patients} dialysis patient-years, serial, one process: {total:.1f} s "
          f"({total / args.patients * 1e3:.0f} ms per patient-year)")


if __name__ == "__main__":
    main()
