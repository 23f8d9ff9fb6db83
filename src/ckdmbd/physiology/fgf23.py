"""FGF23: the bone-derived phosphaturic hormone (default configuration only).

FGF23 is made by osteocytes and osteoblasts; phosphate and calcitriol raise its production and it is cleared
partly by the kidney, so it climbs as kidney function fails (median ~760 pg/mL on haemodialysis vs ~20-60 pg/mL in
health; field notes, Sect. 4). It acts with Klotho to suppress renal phosphate reabsorption (raising
phosphaturia while kidney function remains) and renal 1-alpha-hydroxylase; those effects live in ``kidney`` and
``calcitriol``, which read ``fgf23_effect`` (FGF23 relative to baseline).

Kinetics follow the ACOP 2020 OpenBoneMin extension (inst/community/fgf-phos): first-order turnover kFGF 0.08 /h
with production stimulated by phosphate and by calcitriol^0.6; that extension has no feedback and no renal
clearance, both added here.
"""

import numba

from ckdmbd.model.framework import Process, State, Submodel, from_parameter
from ckdmbd.physiology._math import ppow

STATES = (State("fgf23", "pg/mL", "intact FGF23 in plasma", from_parameter("FGF23_0"), {}, "FGF23"),)
OUTPUTS = ("fgf23_production", "fgf23_elimination", "fgf23_effect")
PROCESSES = (
    Process("fgf23_production", "fgf23_production", {"fgf23": 1.0}, "kFGF*FGF23_0*PhosSTIM*CtriolSTIM, pg/mL/h"),
    Process("fgf23_elimination", "fgf23_elimination", {"fgf23": -1.0}, "kFGF*(non-renal + renal share)*FGF23"),
)


@numba.njit(cache=True, error_model="numpy")
def fgf23_kinetics(fgf23, phosphate_mM, calcitriol_pM, gfr, FGF23_0, kFGF, fgf23_phosphate_gamma,
                   fgf23_calcitriol_gamma, fgf23_renal_clearance_fraction, GFR_0, phosphate_baseline_mM,
                   calcitriol_baseline_pM):
    phos_stim = 1.0
    if phosphate_mM > phosphate_baseline_mM:  # ACOP 2020: stimulation above the baseline phosphate only
        phos_stim = (phosphate_mM / phosphate_baseline_mM) ** fgf23_phosphate_gamma
    ctriol_stim = ppow(calcitriol_pM / calcitriol_baseline_pM, fgf23_calcitriol_gamma)
    clearance = (1.0 - fgf23_renal_clearance_fraction) + fgf23_renal_clearance_fraction * gfr / GFR_0
    production = kFGF * FGF23_0 * phos_stim * ctriol_stim
    return production, kFGF * clearance * fgf23, fgf23 / FGF23_0


SUBMODEL = Submodel("fgf23", __doc__, fgf23_kinetics, OUTPUTS, STATES, PROCESSES, ("OpenBoneMin", "ACOP2020FGF23"))
