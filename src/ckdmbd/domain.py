"""Where a scenario leaves the model's domain before it is run (issue 16): kidney failure left untreated.

A GFR of 5 mL/min or less without dialysis is untreated end-stage kidney failure: uraemia, hyperkalaemia and fluid
overload kill within days to weeks, none of which the model represents, so its calcium, phosphate and bone values
over months of such a course are outside any human's (the report's 10 years of ``set_gfr = 0`` without dialysis: a
44.6 cm deposit and bone calcium of -37,000 mmol). The run is still made; the command warns in one line naming the
event and the time.

The GFR course is read from the scenario's events (``set_gfr``, ``gfr_decline`` with its first-order fall, kidney
transplants) and the patient's GFR; dialysis coverage from the (closed) hemodialysis schedules.
"""

from __future__ import annotations

import math

from ckdmbd import units
from ckdmbd.protocol import GFRDecline, Hemodialysis, KidneyTransplant, SetGFR, event_start_h

ANURIA_GFR_ML_MIN = 5.0
"""KDIGO 2012 GFR category G5 starts at 15 mL/min; dialysis is started at 5-14 mL/min (IDEAL trial: late start at
5-7 mL/min; Cooper et al., N Engl J Med 2010;363:609-19): at or below 5 mL/min the kidneys no longer keep a
patient alive."""
UNTREATED_LIMIT_DAYS = 30.0
"""assumed: a patient with GFR <= 5 mL/min survives some days to a few weeks without dialysis (uraemia,
hyperkalaemia); beyond 30 days the course is no patient's."""


def _gfr_course(sc, default_gfr_ml_min: float) -> list[tuple[float, float, str]]:
    """(start time h, GFR mL/min from then, what set it) as steps; a decline is resolved at its crossing of
    :data:`ANURIA_GFR_ML_MIN` (the only level that matters here)."""
    gfr0 = sc.parameter_overrides.get("GFR_0")
    start = units.l_h_to_ml_min(gfr0) if gfr0 is not None else default_gfr_ml_min
    steps = [(-sc.history_h, start, "patient.gfr" if gfr0 is not None else "the patient's GFR")]
    for k, ev in enumerate(sc.events):
        if isinstance(ev, SetGFR):
            steps.append((ev.time_h, ev.gfr_ml_min, f"events[{k}] (set_gfr {ev.gfr_ml_min:g} mL/min)"))
        elif isinstance(ev, GFRDecline):
            label = f"events[{k}] (gfr_decline to {ev.to_ml_min:g} mL/min)"
            steps.append((ev.start_h, ev.from_ml_min, label))
            if ev.to_ml_min <= ANURIA_GFR_ML_MIN < ev.from_ml_min:
                fraction = math.log(ev.from_ml_min / ANURIA_GFR_ML_MIN) / math.log(ev.from_ml_min / ev.to_ml_min)
                steps.append((ev.start_h + fraction * ev.duration_h, ANURIA_GFR_ML_MIN, label))
        elif isinstance(ev, KidneyTransplant):
            steps.append((event_start_h(ev), ev.graft_gfr_ml_min, f"events[{k}] (kidney_transplant)"))
    return sorted(steps, key=lambda s: s[0])


def untreated_kidney_failure(sc, default_gfr_ml_min: float = 100.0) -> list[str]:
    """One line for every stretch of more than :data:`UNTREATED_LIMIT_DAYS` with GFR <= 5 mL/min and no dialysis
    schedule, naming the event that set the GFR and the time."""
    end = sc.duration_h
    steps = _gfr_course(sc, default_gfr_ml_min)
    dialysis = sorted((ev.start_h, min(ev.end_h, end)) for ev in sc.events if isinstance(ev, Hemodialysis))
    stretches: list[tuple[float, float, str]] = []  # consecutive steps at or below the level, merged
    for i, (t0, gfr, label) in enumerate(steps):
        t1 = steps[i + 1][0] if i + 1 < len(steps) else end
        if gfr > ANURIA_GFR_ML_MIN or t1 <= t0:
            continue
        if stretches and stretches[-1][1] == t0:
            stretches[-1] = (stretches[-1][0], t1, stretches[-1][2])
        else:
            stretches.append((t0, t1, label))
    warnings = []
    for t0, t1, label in stretches:
        cursor = t0  # walk the stretch [t0, t1) past the dialysis schedules
        gaps = []
        for a, b in dialysis:
            if b <= cursor or a >= t1:
                continue
            if a > cursor:
                gaps.append((cursor, a))
            cursor = max(cursor, b)
        if cursor < t1:
            gaps.append((cursor, t1))
        for a, b in gaps:
            days = (b - a) / units.HOURS_PER_DAY
            if days > UNTREATED_LIMIT_DAYS:
                first, last = a / units.HOURS_PER_DAY, b / units.HOURS_PER_DAY
                warnings.append(f"{label}: GFR at most {ANURIA_GFR_ML_MIN:g} mL/min without dialysis for "
                                f"{days:.0f} days (day {first:.6g} to {last:.6g}); "
                                f"untreated kidney failure is fatal within weeks, and the model's values there are "
                                f"no patient's")
    return warnings


# --- concentrations outside any reported human value (issue 16, item 2) --------------------------------------------

HUMAN_RANGES: dict[str, tuple[float, float, str]] = {
    "calcium_mmol_L": (0.9, 4.5, "mmol/L"),
    "phosphate_mmol_L": (0.1, 6.5, "mmol/L"),
    "pth_pmol_L": (0.0, 550.0, "pmol/L"),
}
"""assumed: bounds just outside the extremes reported in living patients: total calcium about 1.0 mmol/L in severe
hypocalcaemia and 4-4.5 mmol/L in hypercalcaemic crisis; phosphate below 0.1 mmol/L in refeeding and about 6.5
mmol/L (20 mg/dL) in tumour lysis; intact PTH near 5,000 pg/mL (530 pmol/L) in the most severe secondary
hyperparathyroidism. A model value beyond them is no patient's: the run is kept and the reader is told."""


def outside_human_range(frame, ranges: dict[str, tuple[float, float, str]] = HUMAN_RANGES) -> list[str]:
    """One line per quantity whose course leaves its :data:`HUMAN_RANGES` bounds, naming the first day it does and
    the extreme value reached. Values are reported as computed, never clipped."""
    import numpy as np

    warnings = []
    days = frame["time_days"].to_numpy() if "time_days" in frame else frame.index.to_numpy()
    for column, (low, high, unit) in ranges.items():
        if column not in frame:
            continue
        values = frame[column].to_numpy(dtype=float)
        outside = (values < low) | (values > high) | ~np.isfinite(values)
        if not outside.any():
            continue
        first = int(np.argmax(outside))
        if not np.isfinite(values[first]):
            warnings.append(f"{column} is not a finite number from day {days[first]:.1f}: the course is no patient's")
            continue
        below = values[first] < low
        extreme = float(np.nanmin(values)) if below else float(np.nanmax(values))
        side = f"below {low:g}" if below else f"above {high:g}"
        warnings.append(f"{column} {side} {unit} from day {days[first]:.1f} (extreme {extreme:.4g} {unit}): "
                        "outside any reported human value, the course is no patient's")
    return warnings
