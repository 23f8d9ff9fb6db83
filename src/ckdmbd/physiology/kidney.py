"""Kidney: glomerular filtration rate and urinary calcium and phosphate excretion (Peterson & Riggs 2010).

GFR is a state (L/h) so that it can decline continuously: dGFR/dt = -kGFR x GFR, the first-order loss of
function OpenBoneMin uses for its secondary-hyperparathyroidism simulation (kGFR = 0: stable function).

Calcium: filtered load 0.3 x GFR x [Ca]; PTH-dependent active reabsorption with a GFR-dependent maximum; the
remainder, scaled by (2 - calcitriol effect T10), is excreted (J27).
Phosphate: 0.88 x GFR x ([P] - T46) is excreted when [P] exceeds the threshold T46 (J48).

Defects of BIOMD0000000613 (``excretion_reference``): the maximal reabsorption (0.3 GFR 2.35 - 0.149997) x ...
turns negative below 3.5 mL/min, so the kidney then excretes more calcium than it filters, and the (2 - T10)
factor can also push excretion above the filtered load when calcitriol is low. Correction (``excretion``):
maximal reabsorption floored at 0 and excretion capped at the filtered load, so excretion goes to 0 with GFR.

The default configuration replaces this submodel by the kidney by nephron segment (``nephron``), which keeps
this module's GFR state and processes.
"""

import numba

from ckdmbd.model.framework import Process, State, Submodel, from_parameter

STATES = (
    State("gfr", "L/h", "glomerular filtration rate", from_parameter("GFR_0"), {}, "GFR"),
)
OUTPUTS = ("calcium_excretion", "phosphate_excretion", "gfr_decline", "calcium_filtered")
PROCESSES = (
    Process("urine_calcium", "calcium_excretion", {"ecf_calcium": -1.0}, "J27, mmol/h", "urine"),
    Process("urine_phosphate", "phosphate_excretion", {"ecf_phosphate": -1.0}, "J48, mmol/h", "urine"),
    Process("gfr_decline", "gfr_decline", {"gfr": -1.0}, "kGFR*GFR, L/h^2"),
)


def derive(p):
    """T17: PTH at half-maximal reabsorption effect so that the effect is 1 at baseline PTH (BIOMD0000000613)."""
    return {"T17": p["pth_baseline_pM"] * p["T16"] - p["pth_baseline_pM"]}


@numba.njit(cache=True, inline="always", error_model="numpy")
def _filtered_and_capacity(gfr, ca_mM, Reabs50, ca_filtration_factor, reabs_offset, calcium_baseline_mM):
    filtered = ca_filtration_factor * gfr * ca_mM  # CaFilt = 0.6 * 0.5 * GFR * C1
    reabs_max = (ca_filtration_factor * gfr * calcium_baseline_mM - reabs_offset) * (
        Reabs50 + calcium_baseline_mM) / calcium_baseline_mM
    return filtered, reabs_max


@numba.njit(cache=True, inline="always", error_model="numpy")
def _excretion(filtered, reabs_max, gfr, ca_mM, pth_pM, calcitriol_pM, phosphate_mM, Reabs50, T7, T9, T16, T17,
               T46, phosphate_filterable_fraction, kGFR):
    reabsorbed = reabs_max * ca_mM / (Reabs50 + ca_mM) * (T16 * pth_pM / (pth_pM + T17))
    T10 = T7 * calcitriol_pM / (calcitriol_pM + T9)
    J27 = (2.0 - T10) * (filtered - reabsorbed)
    if J27 < 0.0:
        J27 = 0.0
    J48 = phosphate_filterable_fraction * gfr * (phosphate_mM - T46)
    if J48 < 0.0:
        J48 = 0.0
    return J27, J48, kGFR * gfr


@numba.njit(cache=True, error_model="numpy")
def excretion_reference(gfr, ca_mM, pth_pM, calcitriol_pM, phosphate_mM, Reabs50, T7, T9, T16, T17, T46,
                        ca_filtration_factor, reabs_offset, calcium_baseline_mM, phosphate_filterable_fraction,
                        kGFR):
    filtered, reabs_max = _filtered_and_capacity(gfr, ca_mM, Reabs50, ca_filtration_factor, reabs_offset,
                                                 calcium_baseline_mM)
    J27, J48, decline = _excretion(filtered, reabs_max, gfr, ca_mM, pth_pM, calcitriol_pM, phosphate_mM, Reabs50,
                                   T7, T9, T16, T17, T46, phosphate_filterable_fraction, kGFR)
    return J27, J48, decline, filtered


@numba.njit(cache=True, error_model="numpy")
def excretion(gfr, ca_mM, pth_pM, calcitriol_pM, phosphate_mM, Reabs50, T7, T9, T16, T17, T46,
              ca_filtration_factor, reabs_offset, calcium_baseline_mM, phosphate_filterable_fraction, kGFR):
    filtered, reabs_max = _filtered_and_capacity(gfr, ca_mM, Reabs50, ca_filtration_factor, reabs_offset,
                                                 calcium_baseline_mM)
    reabs_max = max(reabs_max, 0.0)
    J27, J48, decline = _excretion(filtered, reabs_max, gfr, ca_mM, pth_pM, calcitriol_pM, phosphate_mM, Reabs50,
                                   T7, T9, T16, T17, T46, phosphate_filterable_fraction, kGFR)
    return min(J27, filtered), J48, decline, filtered


REFERENCE = Submodel("kidney", __doc__, excretion_reference, OUTPUTS, STATES, PROCESSES,
                     ("PetersonRiggs2010",), derive, ("T17",))
CORRECTED = Submodel("kidney", __doc__, excretion, OUTPUTS, STATES, PROCESSES,
                     ("PetersonRiggs2010", "OpenBoneMin"), derive, ("T17",))
