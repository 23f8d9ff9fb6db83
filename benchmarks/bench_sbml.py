"""Benchmark: a dialysis patient-year in ckdmbd against libRoadRunner running ckdmbd's own SBML export (issue #13).

Like for like: the same model (``hemodialysis-adherent``, default configuration, its 5-year history folded into the
exported initial values), the same events (every session a pair of SBML events), the same output grid (daily plus
every 15 minutes in sessions), and each engine at tolerances whose accuracy is measured in the same run against a
tight ckdmbd reference (rtol 1e-9): max relative error over the grid on calcium, phosphate, PTH and calcitriol.
Both engines start from the scenario's state at t = 0 and run only the scenario's duration. Timings are medians of
``--repeats`` runs after a warm-up, with the machine's load average; libRoadRunner's load/compile of the SBML is
reported apart (once per model, not per run). The ratio column is against
libRoadRunner at its ``--rr-rtol`` (default 1e-6, CVODE's usual setting).

Run: ``PYTHONPATH=src .venv/bin/python benchmarks/bench_sbml.py [--repeats N] [--duration "1 year"]`` (minutes:
libRoadRunner needs ~30 s to compile the default configuration's assignment rules).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np

from ckdmbd.calibration import split_history, start_state
from ckdmbd.export.sbml import export_scenario
from ckdmbd.scenario import load_scenario, with_overrides
from ckdmbd.sessions import session_output_times
from ckdmbd.simulation import SolverOptions, simulate

COLUMNS = {"calcium_mmol_L": "ca_mM", "phosphate_mmol_L": "phosphate_mM", "pth_pmol_L": "pth_pM",
           "calcitriol_pmol_L": "calcitriol_pM"}


def _median_s(fn, repeats: int) -> tuple[float, float, float, object]:
    out = fn()  # warm-up (numba cache load, first-call overheads)
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), min(times), max(times), out


def _max_rel_error(values: dict[str, np.ndarray], reference: dict[str, np.ndarray]) -> float:
    worst = 0.0
    for col, ref in reference.items():
        scale = np.maximum(np.abs(ref), 1e-12)
        worst = max(worst, float(np.max(np.abs(values[col] - ref) / scale)))
    return worst


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--duration", default="1 year")
    parser.add_argument("--rr-rtol", type=float, default=1e-6)
    args = parser.parse_args()
    try:
        import roadrunner
    except ImportError:
        raise SystemExit("libroadrunner is not installed (pip install -e .[test])") from None

    sc = with_overrides(load_scenario("hemodialysis-adherent"), args.duration)
    # both engines start from the scenario's state at t = 0 (its history simulated once, as the export folds it
    # into the SBML's initial values) and run only the year: the history is not part of the timing
    start = start_state(sc)
    replayed, future = split_history(sc, sc.duration_h)
    times_h = np.unique(np.concatenate([np.arange(0.0, sc.duration_h + 1e-9, sc.output_interval_h),
                                        session_output_times(sc.events, sc.duration_h)]))

    def ckdmbd(solver: SolverOptions) -> dict[str, np.ndarray]:
        frame = simulate(sc.configuration, sc.duration_h, [*replayed, *future], initial_state=start,
                         parameters=sc.parameter_overrides, output_times_h=times_h, solver=solver).to_frame(
                             include_states=False)
        return {c: frame[c].to_numpy() for c in COLUMNS}

    reference = ckdmbd(SolverOptions(rtol=1e-9, atol=1e-12))

    def ckdmbd_run(preset: str):
        return lambda: ckdmbd(SolverOptions.preset(preset, specialised=True))

    t = time.perf_counter()
    sbml = export_scenario(sc)
    export_s = time.perf_counter() - t
    t = time.perf_counter()
    rr = roadrunner.RoadRunner(sbml)
    load_s = time.perf_counter() - t

    def rr_run(rtol: float):
        def run():
            rr.resetAll()
            rr.integrator.relative_tolerance = rtol
            rr.integrator.absolute_tolerance = rtol * 1e-3
            rr.integrator.maximum_num_steps = 1_000_000
            got = np.asarray(rr.simulate(times=times_h, selections=["time", *COLUMNS.values()]))
            return {c: got[:, k] for k, c in enumerate(COLUMNS, start=1)}
        return run

    cases = {
        f"libRoadRunner (CVODE), rtol {args.rr_rtol:g}": rr_run(args.rr_rtol),
        f"libRoadRunner (CVODE), rtol {args.rr_rtol / 10:g}": rr_run(args.rr_rtol / 10),
        "ckdmbd, report preset (rtol 1e-6), one call": ckdmbd_run("report"),
        "ckdmbd, population preset (rtol 1e-4), one call": ckdmbd_run("population"),
    }
    rows = {}
    for name, fn in cases.items():
        med, lo, hi, out = _median_s(fn, args.repeats)
        rows[name] = (med, lo, hi, _max_rel_error(out, reference))
        print(f"  measured {name}: median {med:.3f} s", flush=True)
    anchor = rows[f"libRoadRunner (CVODE), rtol {args.rr_rtol:g}"][0]
    load = os.getloadavg()
    print(f"dialysis run of {args.duration} ({len(times_h)} output times), hemodialysis-adherent; "
          f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}, {os.cpu_count()} CPUs")
    print(f"SBML export {export_s:.1f} s ({len(sbml) / 1e3:.0f} kB); libRoadRunner load/compile {load_s:.1f} s "
          f"(once per model)")
    print(f"{'engine':44s} {'median s':>9s} {'min':>8s} {'max':>8s} {'x RR':>7s} {'max rel err':>12s}")
    for name, (med, lo, hi, err) in rows.items():
        print(f"{name:44s} {med:9.3f} {lo:8.3f} {hi:8.3f} {med / anchor:7.3f} {err:12.2e}")
    print("max rel err: over the grid on calcium, phosphate, PTH and calcitriol, against ckdmbd at rtol 1e-9")


if __name__ == "__main__":
    main()
