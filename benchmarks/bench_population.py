"""Benchmark: a virtual haemodialysis population through ``ckdmbd.Population`` on 1 process, N local workers and a
Dask LocalCluster of N workers.

Each patient is an anuric haemodialysis patient (thrice weekly, binder, no simulated history) run for ``--years``
with dietary phosphorus, mobilisation and dialyzer clearances and binder adherence drawn per patient; the accuracy
is the ``population`` preset. Prints wall time, patient-years per second and whether the pooled numbers equal the
serial ones (they must; a table). The first run in a process pays the model load (numba cache) once; it is excluded by a
warm-up patient. Run: ``.venv/bin/python benchmarks/bench_population.py [--patients N] [--years Y] [--workers 2]``.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--patients", type=int, default=20)
    parser.add_argument("--years", type=float, default=1.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--no-dask", action="store_true", help="skip the Dask LocalCluster row")
    parser.add_argument("--no-serial", action="store_true",
                        help="skip the 1-process row (the others are then compared with the local workers' run)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "base.toml").write_text(BASE.format(years=args.years), encoding="utf-8")
        (folder / "warm.toml").write_text(SPEC.format(size=1), encoding="utf-8")
        (folder / "spec.toml").write_text(SPEC.format(size=args.patients), encoding="utf-8")
        Population(folder / "warm.toml").run()
        pop = Population(folder / "spec.toml")
        results = {}
        runs = [] if args.no_serial else [("1 process", 1, None)]
        runs.append((f"{args.workers} local workers", args.workers, None))
        if not args.no_dask:
            runs.append((f"Dask LocalCluster, {args.workers} workers (start-up included)", args.workers, "local"))
        years = args.patients * args.years
        print("| backend | wall (s) | patient-years/s | patients/s | failed | equal to the first row |")
        print("|---|---|---|---|---|---|")
        for label, workers, scheduler in runs:
            t = time.perf_counter()
            results[label] = pop.run(workers=workers, scheduler=scheduler)
            wall = time.perf_counter() - t
            first = results[runs[0][0]]
            same = (first.patients.equals(results[label].patients)
                    and first.sessions.equals(results[label].sessions))
            print(f"| {label} | {wall:.2f} | {years / wall:.2f} | {args.patients / wall:.2f} | "
                  f"{len(results[label].failures)} | {same} |")
        print(summary(results[runs[0][0]]).to_string(index=False))


if __name__ == "__main__":
    main()
