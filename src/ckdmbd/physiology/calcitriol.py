"""Renal 1-alpha-hydroxylase and calcitriol (1,25-(OH)2 vitamin D), Peterson & Riggs 2010.

1-alpha-hydroxylase activity A is produced at T65 x (PTH stimulation T68) x (phosphate effect) and decays at
T64 (t1/2 13.9 h); calcitriol B is produced at rate A and eliminated at T69 (t1/2 6.9 h).

Phosphate above 1.2 mM inhibits the hydroxylase. Defect of BIOMD0000000613 (``calcitriol_synthesis_reference``): the
inhibition's Emax, derived so that the effect is 1 at 1.2 mM, comes out at 1.019 > 1, so the effect turns
negative above about 2.1 mM phosphate, calcitriol goes negative and the solver fails: end-stage kidney disease
cannot be simulated. Correction (``calcitriol_synthesis``): maximal inhibition is exactly 100 % and the EC50 is
re-derived (1.2975 instead of 1.3021 mM) so that the effect is still exactly 1 at 1.2 mM; the curve is otherwise
the same (within 0.02, i.e. 2 % of baseline hydroxylase production, up to 1.6 mM) and tends to 0, never below.

Extension (default configuration): FGF23 suppresses the hydroxylase, production x (FGF23 / FGF23_0)^-0.3;
production is limited by substrate 25(OH)D and scales with renal mass, and clearance falls with kidney function
(``calcitriol_synthesis_with_fgf23``). Calcitriol and alfacalcidol taken as drugs enter from ``vitamin_d``.

The PTH stimulation PTH^0.111 of BIOMD0000000613 has an infinite slope at PTH = 0: after total
parathyroidectomy PTH decays towards 0 and round-off of 1e-9 pM swings hydroxylase production by 10 %, so the
solver chatters. The corrected configuration reads PTH through a C1 floor (identity above
``pth_hydroxylase_floor_pM`` = 0.1 pM, below the detection limit of intact-PTH assays).
"""

import math

import numba

from ckdmbd.model.derivation import above, parameter
from ckdmbd.model.framework import Process, State, Submodel, from_parameter
from ckdmbd.physiology._math import hill, ppow, smooth_floor

STATES = (
    State("hydroxylase", "pmol/h", "renal 1-alpha-hydroxylase activity (calcitriol production rate)",
          lambda p: p["B_0"] * p["T69"], {}, "A"),
    State("calcitriol", "pmol", "calcitriol in the extracellular fluid", from_parameter("B_0"), {}, "B"),
)
OUTPUTS = ("hydroxylase_production", "hydroxylase_decay", "calcitriol_production", "calcitriol_elimination",
           "phosphate_effect_on_hydroxylase")
PROCESSES = (
    Process("hydroxylase_production", "hydroxylase_production", {"hydroxylase": 1.0}, "SE, pmol/h^2"),
    Process("hydroxylase_decay", "hydroxylase_decay", {"hydroxylase": -1.0}, "T64*A"),
    Process("calcitriol_production", "calcitriol_production", {"calcitriol": 1.0}, "A, pmol/h"),
    Process("calcitriol_elimination", "calcitriol_elimination", {"calcitriol": -1.0}, "T69*B, pmol/h"),
)


def derive_reference(p):
    """T66 normalises the PTH stimulation to 1 at baseline PTH; PhosEffMax makes the phosphate effect 1 at the
    baseline phosphate (BIOMD0000000613 PhosEffTop / PhosEffBot)."""
    g, pth0 = p["AlphOHgam"], p["pth_baseline_pM"]
    gp, po0 = p["PhosEffGam"], p["phosphate_baseline_mM"]
    top = (p["PhosEff0"] - 1.0) * (po0**gp + p["PhosEff50"] ** gp)
    bot = p["PhosEff0"] * po0**gp
    return {"T66": (p["T67"] ** g + pth0**g) / pth0**g, "PhosEffMax": top / bot, "PhosEff50_corrected": math.nan}


def derive_default(p):
    """Emax fixed at 1 (complete inhibition); EC50 from PhosEff(1.2 mM) = 1: EC50^g = 1.2^g / (PhosEff0 - 1)."""
    out = derive_reference(p)
    gp, po0 = p["PhosEffGam"], p["phosphate_baseline_mM"]
    out["PhosEffMax"] = 1.0
    out["PhosEff50_corrected"] = po0 * (1.0 / (p["PhosEff0"] - 1.0)) ** (1.0 / gp)
    return out


@numba.njit(cache=True, inline="always", error_model="numpy")
def _rates(pth_pM, phosphate_mM, hydroxylase, calcitriol, phosphate_effect,
           T64, T65, T66, T67, T69, AlphOHgam, PO4inhPTHgam, phosphate_baseline_mM):
    PO4inhPTH = ppow(phosphate_mM / phosphate_baseline_mM, PO4inhPTHgam)
    pth_g = ppow(pth_pM, AlphOHgam)
    T68 = T66 * pth_g / (T67**AlphOHgam * PO4inhPTH + pth_g)
    SE = T65 * T68 * phosphate_effect
    return SE, T64 * hydroxylase, hydroxylase, T69 * calcitriol, phosphate_effect


@numba.njit(cache=True, error_model="numpy")
def calcitriol_synthesis_reference(pth_pM, phosphate_mM, hydroxylase, calcitriol, T64, T65, T66, T67, T69, AlphOHgam,
                          PO4inhPTHgam, phosphate_baseline_mM, PhosEff0, PhosEff50, PhosEffGam, PhosEffMax):
    effect = 1.0
    if phosphate_mM > phosphate_baseline_mM:
        effect = PhosEff0 - PhosEffMax * PhosEff0 * hill(phosphate_mM, PhosEff50, PhosEffGam)
    return _rates(pth_pM, phosphate_mM, hydroxylase, calcitriol, effect,
                  T64, T65, T66, T67, T69, AlphOHgam, PO4inhPTHgam, phosphate_baseline_mM)


@numba.njit(cache=True, error_model="numpy")
def calcitriol_synthesis(pth_pM, phosphate_mM, hydroxylase, calcitriol, T64, T65, T66, T67, T69, AlphOHgam,
                         PO4inhPTHgam, phosphate_baseline_mM, PhosEff0, PhosEff50_corrected, PhosEffGam,
                         pth_hydroxylase_floor_pM):
    effect = 1.0
    if phosphate_mM > phosphate_baseline_mM:
        effect = PhosEff0 * (1.0 - hill(phosphate_mM, PhosEff50_corrected, PhosEffGam))
    return _rates(smooth_floor(pth_pM, pth_hydroxylase_floor_pM), phosphate_mM, hydroxylase, calcitriol, effect,
                  T64, T65, T66, T67, T69, AlphOHgam, PO4inhPTHgam, phosphate_baseline_mM)


@numba.njit(cache=True, error_model="numpy")
def calcitriol_synthesis_with_fgf23(pth_pM, phosphate_mM, hydroxylase, calcitriol, T64, T65, T66, T67, T69,
                                    AlphOHgam, PO4inhPTHgam, phosphate_baseline_mM, PhosEff0, PhosEff50_corrected,
                                    PhosEffGam, pth_hydroxylase_floor_pM, fgf23_effect, fgf23_hydroxylase_gamma,
                                    vitamin_d_25_nmol_L, gfr, calcitriol_reference_gfr, vitamin_d_25_reference_nmol_L,
                                    hydroxylase_substrate_km_nmol_L, hydroxylase_extrarenal_fraction,
                                    calcitriol_clearance_uraemic_ratio):
    """Corrected synthesis in kidney failure (default configuration):
    - FGF23 suppresses the hydroxylase, production x (FGF23 / FGF23_0)^-0.3;
    - production is limited by its substrate 25(OH)D, Michaelis-Menten normalised to 1 at the reference 25(OH)D
      (Km 84 nmol/L: cholecalciferol doubled 1,25(OH)2D3 in haemodialysis patients, PMC8558908);
    - production scales with functioning renal mass, x (f_extrarenal + (1 - f_extrarenal) x GFR / GFR_ref)
      (extrarenal and remnant-kidney hydroxylase keep a share when GFR is 0);
    - clearance falls with kidney function, T69 x (r + (1 - r) x GFR / GFR_ref), r = 10.1 / 23.5 mL/min (Brandi
      2002; T69 = 0.1 /h with V1 = 14 L is the healthy 23.3 mL/min).
    At the healthy reference (GFR_ref, 25(OH)D_ref) every factor is 1, so PR's baseline stays an exact steady state.
    Calcitriol, alfacalcidol and paricalcitol taken as drugs enter from ``vitamin_d``."""
    production, decay, synthesis, elimination, effect = calcitriol_synthesis(
        pth_pM, phosphate_mM, hydroxylase, calcitriol, T64, T65, T66, T67, T69, AlphOHgam, PO4inhPTHgam,
        phosphate_baseline_mM, PhosEff0, PhosEff50_corrected, PhosEffGam, pth_hydroxylase_floor_pM)
    suppression = max(fgf23_effect, 1e-3) ** -fgf23_hydroxylase_gamma  # FGF23 never reaches 0; round-off might
    km = hydroxylase_substrate_km_nmol_L
    substrate = (vitamin_d_25_nmol_L / (vitamin_d_25_nmol_L + km)) / (
        vitamin_d_25_reference_nmol_L / (vitamin_d_25_reference_nmol_L + km))
    kidney = min(max(gfr, 0.0) / calcitriol_reference_gfr, 1.0)
    renal_mass = hydroxylase_extrarenal_fraction + (1.0 - hydroxylase_extrarenal_fraction) * kidney
    clearance = calcitriol_clearance_uraemic_ratio + (1.0 - calcitriol_clearance_uraemic_ratio) * kidney
    return (production * suppression * substrate * renal_mass, decay, synthesis, elimination * clearance,
            effect * suppression)


_DERIVED = ("T66", "PhosEffMax", "PhosEff50_corrected")
PHOSPHATE_CONDITIONS = (
    above("PhosEff50_corrected", "the phosphate EC50 of 1-alpha-hydroxylase inhibition (baseline phosphate lowers "
          "the effect from PhosEff0 to 1)", ("PhosEff0",), parameter("PhosEff0"), 1.0),
)

REFERENCE = Submodel("calcitriol", __doc__, calcitriol_synthesis_reference, OUTPUTS, STATES, PROCESSES,
                     ("PetersonRiggs2010",), derive_reference, _DERIVED)
CORRECTED = Submodel("calcitriol", __doc__, calcitriol_synthesis, OUTPUTS, STATES, PROCESSES,
                     ("PetersonRiggs2010",), derive_default, _DERIVED, PHOSPHATE_CONDITIONS)
DEFAULT = Submodel("calcitriol", __doc__, calcitriol_synthesis_with_fgf23, OUTPUTS, STATES, PROCESSES,
                   ("PetersonRiggs2010", "ACOP2020FGF23", "PMC8558908HD", "Brandi2002"), derive_default, _DERIVED,
                   PHOSPHATE_CONDITIONS)
