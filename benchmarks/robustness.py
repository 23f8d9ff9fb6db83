"""The robustness campaign of issue 15 at full size: seeded dialysis and CKD patients sampled across the declared
physiological ranges (``src/ckdmbd/parameters/ranges.toml``) and the treatment space (``ckdmbd.robustness``), each
simulated for a history plus a reported period; prints the counts by outcome, every failure on one line (patient,
treatment, time, reason), the slowest patients and the wall time, and writes the failures' parameter sets as JSON.

Default: the issue's 1,000 dialysis and 500 CKD patients, one year of history and one reported (about 6 s per
patient on one core: ~2.5 h of CPU, so use --workers). ``make robustness`` runs it. The CI keeps a smaller sample
(tests/test_robustness.py, slow).

Run: ``PYTHONPATH=src python benchmarks/robustness.py [--dialysis 1000] [--ckd 500] [--history-days 365]
[--days 365] [--seed 2015] [--workers 2] [--failures robustness-failures.json]``; exit status 1 if any patient
failed.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from ckdmbd.robustness import Campaign, run_campaign, sample_patients

CHUNK = 50


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dialysis", type=int, default=1000)
    ap.add_argument("--ckd", type=int, default=500)
    ap.add_argument("--history-days", type=float, default=365.0)
    ap.add_argument("--days", type=float, default=365.0)
    ap.add_argument("--seed", type=int, default=2015)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--accuracy", default="population")
    ap.add_argument("--failures", type=Path, default=Path("robustness-failures.json"))
    args = ap.parse_args(argv)
    failed = []
    total_start = time.perf_counter()
    for kind, n in (("dialysis", args.dialysis), ("ckd", args.ckd)):
        if n <= 0:
            continue
        patients = sample_patients(n, args.seed, kind, args.history_days, args.days)

        def progress(done: int, total: int, kind: str = kind) -> None:
            print(f"  {kind}: {done}/{total}", file=sys.stderr, flush=True)

        campaign = Campaign()
        for first in range(0, n, CHUNK):  # in chunks, so that a long campaign reports failures as it goes
            part = run_campaign(patients[first:first + CHUNK], args.accuracy, args.workers)
            campaign.outcomes += part.outcomes
            campaign.wall_s += part.wall_s
            for outcome in part.failures:
                print("  failure: " + outcome.line(), file=sys.stderr, flush=True)
            progress(len(campaign.outcomes), n)
        counts = dict(campaign.counts())
        walls = sorted(campaign.outcomes, key=lambda o: o.wall_s)
        print(f"{kind}: {n} patients, {args.history_days:g} + {args.days:g} days, seed {args.seed}: {counts}; "
              f"wall {campaign.wall_s:.0f} s on {args.workers} worker(s), median {walls[len(walls) // 2].wall_s:.2f} "
              f"s per patient, slowest {walls[-1].wall_s:.1f} s (patient {walls[-1].patient.index})")
        for outcome in campaign.failures:
            print("  " + outcome.line())
            failed.append({"kind": kind, "patient": outcome.patient.index, "status": outcome.status,
                           "failed_at_day": outcome.failed_at_day, "reason": outcome.reason,
                           "treatment": outcome.patient.treatment, "parameters": outcome.patient.parameters,
                           "scenario": outcome.patient.scenario})
    print(f"total wall {time.perf_counter() - total_start:.0f} s; {len(failed)} failures")
    if failed:
        args.failures.write_text(json.dumps(failed, indent=1), encoding="utf-8")
        print(f"failures' parameter sets and scenarios: {args.failures}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
