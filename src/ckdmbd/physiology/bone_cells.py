"""Bone cells: responding osteoblasts, active osteoblasts (fast and slow), osteoclasts and TGF-beta.

Peterson & Riggs 2010 (after Lemaire 2004 and Bellido 2003): responding osteoblasts (ROB1) differentiate into
active osteoblasts at a TGF-beta-modulated rate; active osteoblasts die at rates (kbfast, kbslow) that RUNX2
and TGF-beta modulate; osteoclasts are produced in proportion to RANK-RANKL (MeffOC) and their survival falls
with TGF-beta and rises with RANK-RANKL. Latent TGF-beta is laid into bone by osteoblasts and released
(activated) by resorbing osteoclasts. EC50s are derived so that baseline values are a steady state.
"""

import math

import numba

from ckdmbd.model.derivation import above, constant, parameter, strictly_between
from ckdmbd.model.framework import Process, State, Submodel, from_parameter
from ckdmbd.physiology._math import hill, ppow

STATES = (
    State("responding_osteoblasts", "pM", "responding (pre-)osteoblasts", from_parameter("ROB1_0"), {}, "ROB1"),
    State("osteoblasts_fast", "pM", "active osteoblasts, fast-turnover fraction",
          lambda p: p["OB_0"] * p["FracOBfast"], {}, "OBfast"),
    State("osteoblasts_slow", "pM", "active osteoblasts, slow-turnover fraction",
          lambda p: p["OB_0"] * (1.0 - p["FracOBfast"]), {}, "OBslow"),
    State("osteoclasts", "pM", "active osteoclasts", from_parameter("OC_0"), {}, "OC"),
    State("tgfb_latent", "pM", "latent TGF-beta stored in bone matrix", lambda p: p["Pic0"] * 1000.0, {}, "TGFB"),
    State("tgfb_active", "pM", "active TGF-beta", from_parameter("Pic0"), {}, "TGFBact"),
)
OUTPUTS = ("osteoblasts_total", "rob_in", "rob_out", "obfast_in", "obfast_out", "obslow_in", "obslow_out",
           "oc_in", "oc_out", "tgfb_in", "tgfb_activation", "tgfb_out")
PROCESSES = (
    Process("rob_differentiation_in", "rob_in", {"responding_osteoblasts": 1.0}, "ROBin = Dr*PicROB"),
    Process("rob_differentiation_out", "rob_out", {"responding_osteoblasts": -1.0}, "KPT*ROB1"),
    Process("obfast_in", "obfast_in", {"osteoblasts_fast": 1.0}, "(bigDb/PicOB)*D*FracOBfast*Frackb2"),
    Process("obfast_apoptosis", "obfast_out", {"osteoblasts_fast": -1.0}, "kbfast*OBfast"),
    Process("obslow_in", "obslow_in", {"osteoblasts_slow": 1.0}, "(bigDb/PicOB)*D*(1-FracOBfast)*Frackb"),
    Process("obslow_apoptosis", "obslow_out", {"osteoblasts_slow": -1.0}, "kbslow*OBslow"),
    Process("osteoclast_production", "oc_in", {"osteoclasts": 1.0}, "kinOC2"),
    Process("osteoclast_apoptosis", "oc_out", {"osteoclasts": -1.0}, "KLSoc*OC"),
    Process("tgfb_deposition", "tgfb_in", {"tgfb_latent": 1.0}, "kinTGF*(Osteoblast/OB0)^OBtgfGAM"),
    Process("tgfb_activation", "tgfb_activation", {"tgfb_latent": -1.0, "tgfb_active": 1.0}, "koutTGFeqn"),
    Process("tgfb_degradation", "tgfb_out", {"tgfb_active": -1.0}, "koutTGFact*TGFBact"),
)


def _ec50_rising(emax: float, e0: float, base: float, x0: float, gamma: float) -> float:
    """EC50 that makes E0 + Emax x^g/(x^g + EC50^g) equal ``base`` at x0 (the steady-state construction)."""
    return math.exp(math.log(emax * x0**gamma / (base - e0) - x0**gamma) / gamma)


def derive(p):
    """Steady-state constants of BIOMD0000000613 (names as in the SBML)."""
    pic0, tgf0 = p["Pic0"], p["Pic0"]  # TGFBact0 = Pic0
    ob0, rob0 = p["OB_0"], p["ROB1_0"]
    M0 = p["k3"] * p["RNK_0"] * p["L_0"] / p["k4"]
    PiL0 = p["k3"] / p["k4"] * p["L_0"]
    g = p["LsurvOCgam"]
    e0kb, emaxkb, gkb = p["MultPicOBkb"] * pic0, p["FracPic0kb"] * pic0, p["PicOBgamkb"]
    e0run = p["E0RUNX2kbEffFACT"] * p["kb"]
    runmax = e0run * p["RUNkbMaxFact"]
    grun = p["RUNkbGAM"]
    return {
        "bigDb": p["kb"] * ob0 * pic0 / rob0,
        "Dr": p["kb"] * ob0 / pic0,
        "E0PicROB": p["FracPicROB"] * pic0,
        "EC50PicROB": _ec50_rising(p["EmaxPicROB"], p["FracPicROB"] * pic0, pic0, tgf0, p["PicROBgam"]),
        "E0PicOB": p["FracPicOB"] * pic0,
        "EC50PicOB": _ec50_rising(p["EmaxPicOB"], p["FracPicOB"] * pic0, pic0, tgf0, p["PicOBgam"]),
        "EC50MeffOC": _ec50_rising(p["EmaxMeffOC"], p["E0Meff"], 1.0, M0, p["kinOCgam"]),
        "E0PicOC": p["FracPicOC"] * pic0,
        "EC50PicOC": _ec50_rising(p["EmaxPicOC"], p["FracPicOC"] * pic0, pic0, tgf0, p["PicOCgam"]),
        "EC50surv": math.exp(math.log((p["E0RANKL"] - p["EmaxL"]) * (PiL0**g / (p["E0RANKL"] - 1.0)) - PiL0**g) / g),
        "kinTGF": p["koutTGF0"] * pic0 * 1000.0,
        "koutTGFact": p["koutTGF0"] * 1000.0,
        "E0PicOBkb": e0kb,
        "EmaxPicOBkb": emaxkb,
        "EC50PicOBkb": math.exp(math.log((e0kb - emaxkb) * tgf0**gkb / (e0kb - pic0) - tgf0**gkb) / gkb),
        "E0RUNX2kbEff": e0run,
        "RUNkbMax": runmax,
        "RUNkb50": math.exp(math.log(runmax * p["RUNX20"] ** grun / (e0run - p["kb"]) - p["RUNX20"] ** grun) / grun),
        "OBfast0": ob0 * p["FracOBfast"],
    }


@numba.njit(cache=True, error_model="numpy")
def cell_kinetics(responding_osteoblasts, osteoblasts_fast, osteoblasts_slow, osteoclasts, tgfb_latent, tgfb_active,
                  rank_rankl, runx2, Pic0, OB_0, OC_0, ROB1_0, kb, Da, FracOBfast, Frackb, bigDb, Dr,
                  E0PicROB, EmaxPicROB, EC50PicROB, PicROBgam, E0PicOB, EmaxPicOB, EC50PicOB, PicOBgam,
                  E0Meff, EmaxMeffOC, EC50MeffOC, kinOCgam, E0PicOC, EmaxPicOC, EC50PicOC, PicOCgam,
                  E0RANKL, EmaxL, EC50surv, LsurvOCgam, kinTGF, koutTGF0, koutTGFact, OBtgfGAM, OCtgfGAM,
                  E0PicOBkb, EmaxPicOBkb, EC50PicOBkb, PicOBgamkb, E0RUNX2kbEff, RUNkbMax, RUNkb50, RUNkbGAM,
                  OBfast0):
    tgf = tgfb_active
    osteoblasts = osteoblasts_fast + osteoblasts_slow
    # responding osteoblasts
    PicROB = E0PicROB + EmaxPicROB * hill(tgf, EC50PicROB, PicROBgam)
    PicOB = E0PicOB + EmaxPicOB * hill(tgf, EC50PicOB, PicOBgam)
    KPT = bigDb / PicOB
    # active osteoblast apoptosis, modulated by TGF-beta and RUNX2
    PicOBkb = E0PicOBkb - (E0PicOBkb - EmaxPicOBkb) * hill(tgf, EC50PicOBkb, PicOBgamkb)
    kbprime = E0RUNX2kbEff * PicOBkb / Pic0 - RUNkbMax * hill(runx2, RUNkb50, RUNkbGAM)
    kbslow = kbprime * Frackb
    kbfast = (kb * OB_0 + kbslow * OBfast0 - kbslow * OB_0) / OBfast0
    Frackb2 = kbfast / kbprime
    differentiation = KPT * responding_osteoblasts  # (bigDb/PicOB) * D
    # osteoclasts
    MeffOC = E0Meff + EmaxMeffOC * hill(rank_rankl, EC50MeffOC, kinOCgam)
    PicOC = E0PicOC + EmaxPicOC * hill(tgf, EC50PicOC, PicOCgam)
    LsurvOC = E0RANKL - (E0RANKL - EmaxL) * hill(rank_rankl / 10.0, EC50surv, LsurvOCgam)  # PiL = M / 10
    # TGF-beta
    deposition = kinTGF * ppow(osteoblasts / OB_0, OBtgfGAM)
    activation = koutTGF0 * tgfb_latent * ppow(osteoclasts / OC_0, OCtgfGAM)
    return (osteoblasts, Dr * PicROB, KPT * responding_osteoblasts,
            differentiation * FracOBfast * Frackb2, kbfast * osteoblasts_fast,
            differentiation * (1.0 - FracOBfast) * Frackb, kbslow * osteoblasts_slow,
            Da * Pic0 * MeffOC * OC_0, Da * PicOC * LsurvOC * osteoclasts,
            deposition, activation, koutTGFact * tgf)


def _tgfb_effect_condition(derived: str, floor_fraction: str, emax: str, what: str):
    """TGF-beta effects E0 + Emax h(TGFb) with E0 = floor_fraction x Pic0 must equal Pic0 at the baseline TGF-beta."""
    return strictly_between(
        derived, what, ("Pic0", floor_fraction, emax), parameter("Pic0"),
        (f"{floor_fraction} x Pic0", lambda p: p[floor_fraction] * p["Pic0"]),
        (f"{floor_fraction} x Pic0 + {emax}", lambda p: p[floor_fraction] * p["Pic0"] + p[emax]))


CONDITIONS = (
    _tgfb_effect_condition("EC50PicROB", "FracPicROB", "EmaxPicROB",
                           "the TGF-beta effect on responding-osteoblast differentiation"),
    _tgfb_effect_condition("EC50PicOB", "FracPicOB", "EmaxPicOB", "the TGF-beta effect on osteoblast differentiation"),
    _tgfb_effect_condition("EC50PicOC", "FracPicOC", "EmaxPicOC", "the TGF-beta effect on osteoclast apoptosis"),
    strictly_between("EC50MeffOC", "the RANK-RANKL effect on osteoclast production", ("E0Meff", "EmaxMeffOC"),
                     constant("its baseline value", 1.0), parameter("E0Meff"),
                     ("E0Meff + EmaxMeffOC", lambda p: p["E0Meff"] + p["EmaxMeffOC"])),
    strictly_between("EC50surv", "the RANKL effect on osteoclast survival", ("E0RANKL", "EmaxL"),
                     constant("its baseline value", 1.0), parameter("E0RANKL"), parameter("EmaxL")),
    strictly_between("EC50PicOBkb", "the TGF-beta effect on osteoblast apoptosis", ("MultPicOBkb", "FracPic0kb"),
                     constant("its baseline value (1 x Pic0)", 1.0), ("MultPicOBkb", lambda p: p["MultPicOBkb"]),
                     ("FracPic0kb", lambda p: p["FracPic0kb"])),
    strictly_between("RUNkb50", "the RUNX2 effect on osteoblast apoptosis", ("E0RUNX2kbEffFACT", "RUNkbMaxFact"),
                     constant("its baseline value (1 x kb)", 1.0), parameter("E0RUNX2kbEffFACT"),
                     ("E0RUNX2kbEffFACT x (1 - RUNkbMaxFact)",
                      lambda p: p["E0RUNX2kbEffFACT"] * (1.0 - p["RUNkbMaxFact"]))),
    # osteoblast elimination E0RUNX2kbEff x PicOBkb/Pic0 - RUNkbMax x hill(RUNX2) is lowest, E0RUNX2kbEff x
    # (FracPic0kb - RUNkbMaxFact), at high TGF-beta and RUNX2: negative, osteoblasts would grow without bound
    # (found by the robustness campaign of issue 15: RUNkbMaxFact x1.7 alone ends the run within days)
    above("RUNkbMax", "osteoblast elimination to stay positive at high TGF-beta and RUNX2",
          ("FracPic0kb", "RUNkbMaxFact"),
          ("FracPic0kb - RUNkbMaxFact", lambda p: p["FracPic0kb"] - p["RUNkbMaxFact"]), 0.0),
)

SUBMODEL = Submodel("bone_cells", __doc__, cell_kinetics, OUTPUTS, STATES, PROCESSES, ("PetersonRiggs2010",),
                    derive, (
                        "bigDb", "Dr", "E0PicROB", "EC50PicROB", "E0PicOB", "EC50PicOB", "EC50MeffOC", "E0PicOC",
                        "EC50PicOC", "EC50surv", "kinTGF", "koutTGFact", "E0PicOBkb", "EmaxPicOBkb", "EC50PicOBkb",
                        "E0RUNX2kbEff", "RUNkbMax", "RUNkb50", "OBfast0"), CONDITIONS)
