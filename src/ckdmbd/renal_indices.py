"""The renal phosphate indices a clinic measures, computed from a run as a laboratory would compute them.

- ``tmp_gfr_mmol_L``: the tubular maximum of phosphate reabsorption per litre of glomerular filtrate, TmP/GFR =
  P - U_P V / GFR (Bijvoet's definition, as the Walton-Bijvoet nomogram and Payne's formula estimate it from a spot
  urine: Payne, Ann Clin Biochem 1998;35:201). Reference intervals 0.80-1.35 mmol/L in adults (field notes §2).
- ``phosphate_fe_percent``: fractional excretion of phosphate, 100 U_P V / (GFR P), on total plasma phosphate as a
  laboratory reports it (creatinine clearance standing for GFR).

Both need glomerular filtration: in anuria they are undefined and reported as NaN (no urine to measure), which is
what a clinic records too.
"""

import numpy as np


def renal_phosphate_indices(phosphate_mM: np.ndarray, excretion_mmol_h: np.ndarray,
                            gfr_L_h: np.ndarray) -> dict[str, np.ndarray]:
    """TmP/GFR (mmol/L) and FE_phosphate (%) from plasma phosphate, urinary phosphate excretion and GFR."""
    phosphate = np.asarray(phosphate_mM, dtype=float)
    excretion = np.asarray(excretion_mmol_h, dtype=float)
    gfr = np.asarray(gfr_L_h, dtype=float)
    filtering = gfr > 1e-9  # L/h (2e-8 mL/min): above the round-off of an anuric GFR of 0, below any real kidney
    safe_gfr = np.where(filtering, gfr, 1.0)
    per_litre = excretion / safe_gfr
    tmp_gfr = np.where(filtering, phosphate - per_litre, np.nan)
    fe = np.where(filtering & (phosphate > 0.0), 100.0 * per_litre / np.where(phosphate > 0.0, phosphate, 1.0),
                  np.nan)
    return {"tmp_gfr_mmol_L": tmp_gfr, "phosphate_fe_percent": fe}
