"""RANK, RANKL, OPG and their complexes (Peterson & Riggs 2010, after Lemaire 2004).

RANKL is made by osteoblasts, stimulated by PTH; OPG is made by responding osteoblasts and suppressed by PTH;
RANK is expressed under TGF-beta. RANKL binds RANK (RANK-RANKL drives osteoclasts) or OPG (decoy). In
BIOMD0000000613 the OPG-RANKL complex forms without consuming OPG or RANKL; that is kept in both configurations
(OpenBoneMin consumes both; with k1 = 6.24e-6 /pM/h the difference is small).

Defect of BIOMD0000000613 (``cytokines_reference``): OPG production contains (PTH + K D/ROB0) / (2 PTH), which is
infinite at PTH = 0 (total parathyroidectomy). Correction (``cytokines``): (PTH + K D/ROB0 + eps) / (2 PTH + eps)
with eps = ``opg_pth_epsilon_pM``: identical at baseline (so the steady state is unchanged), within 5 % of the
reference for PTH >= 1.5 pM, and bounded (11x baseline production) at PTH = 0.
"""

import numba

from ckdmbd.model.framework import Process, State, Submodel, from_parameter
from ckdmbd.physiology._math import ppow

STATES = (
    State("rankl", "pM", "free RANKL", from_parameter("L_0"), {}, "L"),
    State("rank", "pM", "free RANK", from_parameter("RNK_0"), {}, "RNK"),
    State("opg", "pM", "free osteoprotegerin", from_parameter("O_0"), {}, "O"),
    State("rank_rankl", "pM", "RANK-RANKL complex", lambda p: p["k3"] * p["RNK_0"] * p["L_0"] / p["k4"], {}, "M"),
    State("opg_rankl", "pM", "OPG-RANKL complex", lambda p: p["k1"] * p["O_0"] * p["L_0"] / p["k2"], {}, "N"),
)
OUTPUTS = ("rankl_production", "rankl_degradation", "rank_production", "rank_degradation", "opg_production",
           "opg_degradation", "rank_rankl_binding", "rank_rankl_unbinding", "opg_rankl_binding",
           "opg_rankl_unbinding")
PROCESSES = (
    Process("rankl_production", "rankl_production", {"rankl": 1.0}, "kinL"),
    Process("rankl_degradation", "rankl_degradation", {"rankl": -1.0}, "koutL*L"),
    Process("rank_production", "rank_production", {"rank": 1.0}, "kinRNK*TGFBact^kinRNKgam"),
    Process("rank_degradation", "rank_degradation", {"rank": -1.0}, "koutRNK*RNK"),
    Process("opg_production", "opg_production", {"opg": 1.0}, "pO"),
    Process("opg_degradation", "opg_degradation", {"opg": -1.0}, "kO*O"),
    Process("rank_rankl_binding", "rank_rankl_binding", {"rankl": -1.0, "rank": -1.0, "rank_rankl": 1.0}, "k3*RNK*L"),
    Process("rank_rankl_unbinding", "rank_rankl_unbinding", {"rank_rankl": -1.0, "rankl": 1.0, "rank": 1.0}, "k4*M"),
    Process("opg_rankl_binding", "opg_rankl_binding", {"opg_rankl": 1.0}, "k1*O*L (consumes neither, as in the SBML)"),
    Process("opg_rankl_unbinding", "opg_rankl_unbinding", {"opg_rankl": -1.0}, "k2*N"),
)


def derive(p):
    """Production rates and EC50s fixed by the baseline steady state (BIOMD0000000613)."""
    M0 = p["k3"] * p["RNK_0"] * p["L_0"] / p["k4"]
    pth0 = p["pth_baseline_pM"]
    return {
        "kinRNK": (p["koutRNK"] * p["RNK_0"] + p["k3"] * p["RNK_0"] * p["L_0"] - p["k4"] * M0)
        / p["Pic0"] ** p["kinRNKgam"],
        "kinLbase": p["koutL"] * p["L_0"],
        "PTH50": p["EmaxLpth"] * pth0 - pth0,
        "pObase": p["kO"] * p["O_0"],
    }


@numba.njit(cache=True, inline="always", error_model="numpy")
def _rates(opg_pth_factor, rankl, rank, opg, rank_rankl, opg_rankl, tgfb_active, osteoblasts_total, pth_pM,
           responding_osteoblasts, OB_0, ROB1_0, k1, k2, k3, k4, kO, koutL, koutRNK, kinRNK, kinRNKgam, kinLbase,
           OsteoEffectGam, EmaxLpth, PTH50, TESTPOWER, pObase, IO):
    osteo_effect = ppow(osteoblasts_total / OB_0, OsteoEffectGam)
    pth_effect = EmaxLpth * pth_pM / (PTH50 * ppow(osteo_effect, TESTPOWER) + pth_pM)
    d_rel = responding_osteoblasts / ROB1_0
    pO = pObase * d_rel * opg_pth_factor + IO
    return (kinLbase * osteo_effect * pth_effect, koutL * rankl, kinRNK * ppow(tgfb_active, kinRNKgam), koutRNK * rank,
            pO, kO * opg, k3 * rank * rankl, k4 * rank_rankl, k1 * opg * rankl, k2 * opg_rankl)


@numba.njit(cache=True, error_model="numpy")
def cytokines_reference(rankl, rank, opg, rank_rankl, opg_rankl, tgfb_active, osteoblasts_total, pth_pM,
                        responding_osteoblasts, OB_0, ROB1_0, k1, k2, k3, k4, kO, koutL, koutRNK, kinRNK, kinRNKgam,
                        kinLbase, OsteoEffectGam, EmaxLpth, PTH50, TESTPOWER, pObase, IO, opgPTH50):
    d_rel = responding_osteoblasts / ROB1_0
    factor = (pth_pM + opgPTH50 * d_rel) / (2.0 * pth_pM)
    return _rates(factor, rankl, rank, opg, rank_rankl, opg_rankl, tgfb_active, osteoblasts_total, pth_pM,
                  responding_osteoblasts, OB_0, ROB1_0, k1, k2, k3, k4, kO, koutL, koutRNK, kinRNK, kinRNKgam,
                  kinLbase, OsteoEffectGam, EmaxLpth, PTH50, TESTPOWER, pObase, IO)


@numba.njit(cache=True, error_model="numpy")
def cytokines(rankl, rank, opg, rank_rankl, opg_rankl, tgfb_active, osteoblasts_total, pth_pM,
              responding_osteoblasts, OB_0, ROB1_0, k1, k2, k3, k4, kO, koutL, koutRNK, kinRNK, kinRNKgam,
              kinLbase, OsteoEffectGam, EmaxLpth, PTH50, TESTPOWER, pObase, IO, opgPTH50, opg_pth_epsilon_pM):
    d_rel = responding_osteoblasts / ROB1_0
    factor = (pth_pM + opgPTH50 * d_rel + opg_pth_epsilon_pM) / (2.0 * pth_pM + opg_pth_epsilon_pM)
    return _rates(factor, rankl, rank, opg, rank_rankl, opg_rankl, tgfb_active, osteoblasts_total, pth_pM,
                  responding_osteoblasts, OB_0, ROB1_0, k1, k2, k3, k4, kO, koutL, koutRNK, kinRNK, kinRNKgam,
                  kinLbase, OsteoEffectGam, EmaxLpth, PTH50, TESTPOWER, pObase, IO)


@numba.njit(cache=True, error_model="numpy")
def cytokines_uremic(rankl, rank, opg, rank_rankl, opg_rankl, tgfb_active, osteoblasts_total, bone_pth_pM,
                     responding_osteoblasts, OB_0, ROB1_0, k1, k2, k3, k4, kO, koutL, koutRNK, kinRNK, kinRNKgam,
                     kinLbase, OsteoEffectGam, EmaxLpth, PTH50, TESTPOWER, pObase, IO, opgPTH50, opg_pth_epsilon_pM):
    """Corrected cytokines driven by the PTH that bone perceives (skeletal resistance, ``uremia``)."""
    return cytokines(rankl, rank, opg, rank_rankl, opg_rankl, tgfb_active, osteoblasts_total, bone_pth_pM,
                     responding_osteoblasts, OB_0, ROB1_0, k1, k2, k3, k4, kO, koutL, koutRNK, kinRNK, kinRNKgam,
                     kinLbase, OsteoEffectGam, EmaxLpth, PTH50, TESTPOWER, pObase, IO, opgPTH50, opg_pth_epsilon_pM)


_DERIVED = ("kinRNK", "kinLbase", "PTH50", "pObase")
REFERENCE = Submodel("rankl_opg", __doc__, cytokines_reference, OUTPUTS, STATES, PROCESSES, ("PetersonRiggs2010",),
                     derive, _DERIVED)
CORRECTED = Submodel("rankl_opg", __doc__, cytokines, OUTPUTS, STATES, PROCESSES, ("PetersonRiggs2010",),
                     derive, _DERIVED)
DEFAULT = Submodel("rankl_opg", __doc__, cytokines_uremic, OUTPUTS, STATES, PROCESSES, ("PetersonRiggs2010",),
                   derive, _DERIVED)
