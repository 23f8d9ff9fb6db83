"""Dialysis sessions as a clinic sees them: output times that resolve each session, and per-session tables.

A clinic measures pre-dialysis blood (just before a session starts) and sometimes post-dialysis blood; the
model's time series is sampled at exactly those times, so that model and laboratory values are comparable.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import numpy as np

from ckdmbd.protocol import Event, Hemodialysis
from ckdmbd.units import HOURS_PER_DAY

if TYPE_CHECKING:  # pandas only where a table is built (cold start: loading a scenario reads this module)
    import pandas as pd

SESSION_RESOLUTION_H = 0.25  # issue #3: at least every 15 minutes during a session
REBOUND_SAMPLES_H = (0.25, 0.5, 1.0, 2.0, 3.0, 6.0)  # after the end, to resolve the phosphate rebound


def sessions(events: Iterable[Event]) -> list[tuple[float, float]]:
    """(start, end) in hours of every dialysis session in ``events``, sorted."""
    out = [s for ev in events if isinstance(ev, Hemodialysis) for s in ev.sessions()]
    return sorted(out)


def session_output_times(events: Iterable[Event], duration_h: float) -> np.ndarray:
    """Output times every 15 min inside each session plus rebound samples after it (within [0, duration])."""
    times = []
    for begin, end in sessions(events):
        if end < 0 or begin > duration_h:
            continue
        n = round((end - begin) / SESSION_RESOLUTION_H)
        times.extend(np.linspace(begin, end, n + 1))
        times.extend(end + r for r in REBOUND_SAMPLES_H)
    t = np.asarray(times, dtype=float)
    return t[(t >= 0) & (t <= duration_h)]


def _first_close(t: np.ndarray, x: float) -> int | None:
    """The first index of the ascending ``t`` with ``np.isclose(t, x, atol=1e-6)`` (|t - x| <= 1e-6 + 1e-5 |x|),
    found by bisection: a scenario's sessions include its history's, thousands outside the output."""
    tol = 1e-6 + 1e-5 * abs(x)
    k = int(np.searchsorted(t, x - tol, side="left"))
    while k < len(t) and t[k] <= x + tol:
        if abs(t[k] - x) <= tol:
            return k
        k += 1
    return None


def session_table(frame: pd.DataFrame, events: Iterable[Event]) -> pd.DataFrame:
    """One row per session inside the output: pre/post values, reduction ratio, phosphate removed and calcium
    gained (from the cumulative ledgers). Needs outputs at the session start and end times."""
    t = frame["time_days"].to_numpy() * HOURS_PER_DAY
    columns = {c: frame[c].to_numpy() for c in frame.columns}  # rows read from arrays: iloc costs ~0.5 ms a row
    rows = []
    for begin, end in sessions(events):
        i, j = _first_close(t, begin), _first_close(t, end)
        if i is None or j is None:
            continue
        pre = {c: v[i] for c, v in columns.items()}
        post = {c: v[j] for c, v in columns.items()}
        row = {
            "start_day": begin / HOURS_PER_DAY,
            "pre_phosphate_mmol_L": pre["phosphate_mmol_L"],
            "post_phosphate_mmol_L": post["phosphate_mmol_L"],
            "phosphate_reduction": 1.0 - post["phosphate_mmol_L"] / pre["phosphate_mmol_L"],
            "pre_calcium_mmol_L": pre["calcium_mmol_L"],
            "post_calcium_mmol_L": post["calcium_mmol_L"],
            "pre_pth_pmol_L": pre["pth_pmol_L"],
            "post_pth_pmol_L": post["pth_pmol_L"],
        }
        for col in ("ionized_calcium_mmol_L",):
            if col in frame:
                row[f"pre_{col}"] = pre[col]
                row[f"post_{col}"] = post[col]
        if "ledger_dialysate_phosphate" in frame:
            row["phosphate_removed_mmol"] = post["ledger_dialysate_phosphate"] - pre["ledger_dialysate_phosphate"]
            row["calcium_gained_mmol"] = post["ledger_dialysate_calcium"] - pre["ledger_dialysate_calcium"]
        if "ledger_ultrafiltration_water" in frame:  # convective losses belong to the session's balance
            uf = {el: post[f"ledger_ultrafiltration_{el}"] - pre[f"ledger_ultrafiltration_{el}"]
                  for el in ("water", "phosphate", "calcium")}
            row["ultrafiltration_L"] = uf["water"]
            row["phosphate_removed_mmol"] += uf["phosphate"]
            row["calcium_gained_mmol"] -= uf["calcium"]
            row["pre_ecf_volume_L"] = pre["ecf_volume_L"]
            row["post_ecf_volume_L"] = post["ecf_volume_L"]
        rows.append(row)
    import pandas as pd

    return pd.DataFrame(rows)
