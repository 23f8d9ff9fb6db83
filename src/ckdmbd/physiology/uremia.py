"""Skeletal resistance to PTH in uremia (default configuration).

In kidney failure bone responds less to PTH (down-regulated PTH1 receptor, uremic toxins, low calcitriol), which is
why KDIGO 2017 targets intact PTH at 2-9 x the upper normal limit on dialysis rather than the normal range: a
"normal" PTH then goes with low bone turnover. Peterson-Riggs' bone sees plasma PTH directly; here the bone cell
signals (RANKL, OPG, RUNX2, CREB) read ``bone_pth_pM`` = PTH x sensitivity, with sensitivity
1 / (1 + r_max u^4) and u = 1 - GFR/GFR_0 (0 with normal kidneys, 1 in anuria): negligible until CKD stage 4,
1/(1 + r_max) in anuria. r_max = 3 (anuric bone needs ~4x the PTH for the same effect) is assumed from the
KDIGO target range.
"""

import numba

from ckdmbd.model.framework import Submodel

OUTPUTS = ("bone_pth_pM", "uremia_index")


@numba.njit(cache=True, error_model="numpy")
def skeletal_resistance(pth_pM, gfr, GFR_0, skeletal_pth_resistance_max):
    u = 1.0 - gfr / GFR_0
    u = min(max(u, 0.0), 1.0)
    return pth_pM / (1.0 + skeletal_pth_resistance_max * u**4), u


SUBMODEL = Submodel("uremia", __doc__, skeletal_resistance, OUTPUTS, (), (), ("KDIGO2017",))
