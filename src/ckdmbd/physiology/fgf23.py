"""FGF23: the bone-derived phosphaturic hormone (default configuration only).

Osteocytes and osteoblasts make FGF23 in response to phosphate load, calcitriol and PTH (Front Endocrinol 2021,
588096; PTH raises osteocyte FGF23 expression, and parathyroidectomy or calcimimetics lower FGF23 in dialysis
patients). Two states:

- ``fgf23_expression``: bone's FGF23 production relative to baseline. It follows its target E* = (P/P_0)^gP (f_0 +
  (1 - f_0)(calcitriol/C_0)^gD) (PTH/PTH_0)^gPTH with a time constant of days (``fgf23_expression_time_h``): after
  kidney transplantation FGF23 stays inappropriately high for weeks despite falling phosphate and only reaches CKD-
  matched levels over months (Bhan 2006; Evenepoel 2008), which a production that followed plasma phosphate within
  hours could not do. Part of the expression (f_0) does not need calcitriol: dialysis patients carry very high FGF23
  despite calcitriol deficiency, which a pure power of calcitriol (zero without it) denies.
  Bone reads vitamin D receptor activation outside the parathyroid, ``vdr_gut_pM`` (``vitamin_d``: calcitriol plus
  paricalcitol at its non-parathyroid potency, as ``bone_mineral`` reads it): every VDR activator raises FGF23,
  paricalcitol included (Hansen 2012: FGF23 rose on alfacalcidol and on paricalcitol in haemodialysis; its
  osteocyte potency per gland effect is assumed equal to its intestinal one, 0.4 of calcitriol's). Without
  paricalcitol this is plain calcitriol.
- ``fgf23``: intact FGF23 in plasma, produced at k E FGF23_0 and eliminated at k (f_nr + f_r GFR/GFR_0) FGF23,
  with the plasma half-life of about 1 h seen after tumour removal (54.7 % left at 1 h, PMC4013303; 46-58 min,
  Khosravi 2007). Most clearance is not renal: the human kidney extracts ~22 % of FGF23 per pass at eGFR 60, no
  splanchnic removal (Am J Physiol Renal 2017;312:F254); the renal share at normal GFR is an assumption.

Its renal actions need the co-receptor klotho, which diseased kidney tissue loses (``renal_receptors`` module:
klotho per nephron falls with native kidney function, Rotondi 2015; a transplanted kidney brings its own). The
signal the kidney reads, ``fgf23_effect`` = (FGF23/FGF23_0) x klotho, suppresses
renal phosphate reabsorption (``nephron``) and 1-alpha-hydroxylase (``calcitriol``); less klotho means more FGF23
for the same effect, which is part of why FGF23 climbs in CKD.
"""

import numba

from ckdmbd.model.framework import Process, State, Submodel, from_parameter
from ckdmbd.physiology._math import ppow, smooth_floor

STATES = (
    State("fgf23", "pg/mL", "intact FGF23 in plasma", from_parameter("FGF23_0"), {}, "FGF23"),
    State("fgf23_expression", "1", "bone (osteocyte) FGF23 production relative to baseline", lambda p: 1.0, {}, ""),
)
OUTPUTS = ("fgf23_production", "fgf23_elimination", "fgf23_effect", "fgf23_expression_gain",
           "fgf23_expression_loss")
PROCESSES = (
    Process("fgf23_production", "fgf23_production", {"fgf23": 1.0}, "k E FGF23_0, pg/mL/h"),
    Process("fgf23_elimination", "fgf23_elimination", {"fgf23": -1.0}, "k (f_nr + f_r GFR/GFR_0) FGF23, pg/mL/h"),
    Process("fgf23_expression_gain", "fgf23_expression_gain", {"fgf23_expression": 1.0}, "E* / tau, 1/h"),
    Process("fgf23_expression_loss", "fgf23_expression_loss", {"fgf23_expression": -1.0}, "E / tau, 1/h"),
)


@numba.njit(cache=True, error_model="numpy")
def fgf23_kinetics(fgf23, fgf23_expression, phosphate_mM, vdr_gut_pM, pth_pM, gfr, FGF23_0, kFGF,
                   fgf23_phosphate_gamma, fgf23_calcitriol_gamma, fgf23_pth_gamma, fgf23_renal_clearance_fraction,
                   fgf23_calcitriol_independent_fraction,
                   fgf23_expression_time_h, klotho_relative, GFR_0, phosphate_baseline_mM,
                   calcitriol_baseline_pM, pth_baseline_pM, pth_hydroxylase_floor_pM):
    kidney = gfr / GFR_0
    kidney = min(max(kidney, 0.0), 1.5)
    target = (ppow(phosphate_mM / phosphate_baseline_mM, fgf23_phosphate_gamma)
              * (fgf23_calcitriol_independent_fraction + (1.0 - fgf23_calcitriol_independent_fraction)
                 * ppow(smooth_floor(vdr_gut_pM, 1.0) / calcitriol_baseline_pM, fgf23_calcitriol_gamma))
              * ppow(smooth_floor(pth_pM, pth_hydroxylase_floor_pM) / pth_baseline_pM, fgf23_pth_gamma))
    clearance = (1.0 - fgf23_renal_clearance_fraction) + fgf23_renal_clearance_fraction * kidney
    production = kFGF * FGF23_0 * fgf23_expression
    return (production, kFGF * clearance * fgf23, fgf23 / FGF23_0 * klotho_relative,
            target / fgf23_expression_time_h, fgf23_expression / fgf23_expression_time_h)


SUBMODEL = Submodel("fgf23", __doc__, fgf23_kinetics, OUTPUTS, STATES, PROCESSES,
                    ("Khosravi2007", "VanAncum2017FGF23", "Rotondi2015", "Bhan2006", "Evenepoel2008",
                     "FrontEndocrinol2021FGF23", "Hansen2012FGF23"))
