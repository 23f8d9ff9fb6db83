"""Intracellular osteoblast signals: RUNX2, CREB and BCL2 (Peterson & Riggs 2010).

PTH raises CREB production and RUNX2 degradation; BCL2 is produced in proportion to RUNX2 x CREB. Above a BCL2
of 105 the RUNX2 signal that reduces osteoblast apoptosis rises as BCL2 - 90 (a step in BIOMD0000000613, kept),
which is how intermittent PTH (teriparatide) is anabolic in this model.
"""

import numba

from ckdmbd.model.derivation import constant, parameter, strictly_between
from ckdmbd.model.framework import Process, State, Submodel, from_parameter

STATES = (
    State("runx2_state", "1", "RUNX2 (relative units, 10 at baseline)", from_parameter("RX2_0"), {}, "RX2"),
    State("creb", "1", "CREB (relative units, 10 at baseline)", from_parameter("CREB_0"), {}, "CREB"),
    State("bcl2", "1", "BCL2 (relative units, 100 at baseline)", from_parameter("BCL2_0"), {}, "BCL2"),
)
OUTPUTS = ("runx2", "runx2_production", "runx2_degradation", "creb_production", "creb_degradation",
           "bcl2_production", "bcl2_degradation")
PROCESSES = (
    Process("runx2_production", "runx2_production", {"runx2_state": 1.0}, "RX2Kin"),
    Process("runx2_degradation", "runx2_degradation", {"runx2_state": -1.0}, "RX2Kout*RX2"),
    Process("creb_production", "creb_production", {"creb": 1.0}, "crebKin"),
    Process("creb_degradation", "creb_degradation", {"creb": -1.0}, "crebKout*CREB"),
    Process("bcl2_production", "bcl2_production", {"bcl2": 1.0}, "RX2*CREB*0.693"),
    Process("bcl2_degradation", "bcl2_degradation", {"bcl2": -1.0}, "bcl2Kout*BCL2"),
)


def derive(p):
    pth0 = p["pth_baseline_pM"]
    return {
        "RX2Kin": p["RX2Kout0"] * p["RX2_0"],
        "EC50PTHRX2x": p["EmaxPTHRX2x"] * pth0 / (p["RX2Kout0"] - p["E0rx2Kout"]) - pth0,
        "EC50PTHcreb": p["EmaxPTHcreb"] * pth0 / (1.0 - p["E0crebKin"]) - pth0,
        "crebKin0": p["crebKout"] * p["CREB_0"],
    }


@numba.njit(cache=True, error_model="numpy")
def signalling(runx2_state, creb, bcl2, pth_pM, RX2Kin, E0rx2Kout, EmaxPTHRX2x, EC50PTHRX2x, crebKin0, E0crebKin,
               EmaxPTHcreb, EC50PTHcreb, crebKout, bcl2Kout):
    runx2 = bcl2 - 90.0 if bcl2 > 105.0 else 10.0  # RUNX2 = piecewise(BCL2 - 90, BCL2 > 105, 10)
    rx2_kout = E0rx2Kout + EmaxPTHRX2x * pth_pM / (pth_pM + EC50PTHRX2x)
    creb_kin = crebKin0 * (E0crebKin + EmaxPTHcreb * pth_pM / (pth_pM + EC50PTHcreb))
    return (runx2, RX2Kin, rx2_kout * runx2_state, creb_kin, crebKout * creb, runx2_state * creb * 0.693,
            bcl2Kout * bcl2)


@numba.njit(cache=True, error_model="numpy")
def signalling_uremic(runx2_state, creb, bcl2, bone_pth_pM, RX2Kin, E0rx2Kout, EmaxPTHRX2x, EC50PTHRX2x, crebKin0,
                      E0crebKin, EmaxPTHcreb, EC50PTHcreb, crebKout, bcl2Kout):
    """Signals driven by the PTH that bone perceives (skeletal resistance, ``uremia``)."""
    return signalling(runx2_state, creb, bcl2, bone_pth_pM, RX2Kin, E0rx2Kout, EmaxPTHRX2x, EC50PTHRX2x, crebKin0,
                      E0crebKin, EmaxPTHcreb, EC50PTHcreb, crebKout, bcl2Kout)


CONDITIONS = (
    strictly_between("EC50PTHRX2x", "the PTH EC50 of RUNX2 degradation", ("RX2Kout0", "E0rx2Kout", "EmaxPTHRX2x"),
                     parameter("RX2Kout0"), parameter("E0rx2Kout"),
                     ("E0rx2Kout + EmaxPTHRX2x", lambda p: p["E0rx2Kout"] + p["EmaxPTHRX2x"])),
    strictly_between("EC50PTHcreb", "the PTH EC50 of CREB production", ("E0crebKin", "EmaxPTHcreb"),
                     constant("its baseline value", 1.0), parameter("E0crebKin"),
                     ("E0crebKin + EmaxPTHcreb", lambda p: p["E0crebKin"] + p["EmaxPTHcreb"])),
)

SUBMODEL = Submodel("osteoblast_signalling", __doc__, signalling, OUTPUTS, STATES, PROCESSES, ("PetersonRiggs2010",),
                    derive, ("RX2Kin", "EC50PTHRX2x", "EC50PTHcreb", "crebKin0"),
                    CONDITIONS)
DEFAULT = Submodel("osteoblast_signalling", __doc__, signalling_uremic, OUTPUTS, STATES, PROCESSES,
                   ("PetersonRiggs2010",), derive, ("RX2Kin", "EC50PTHRX2x", "EC50PTHcreb", "crebKin0"),
                    CONDITIONS)
