"""Exogenous PTH: subcutaneous teriparatide (PTH 1-34) and the generic injection/infusion path.

Peterson & Riggs 2010 (as encoded in BIOMD0000000613) absorb a subcutaneous teriparatide dose from a depot
``TERISC`` straight into plasma PTH at first-order rate TERICL / TERIVC (0.709 /h); a dose is an event that
adds ``dose_ug * 1e6 / 4117.8`` pmol to the depot (molar mass of teriparatide 4117.8 g/mol). The SBML event
*assigns* the depot instead of adding to it; with doses 24 h apart the depot is then below 1e-7 of a dose, so
adding is the same number and stays right for closer doses.

A second depot ``SC`` with a 1 h half-life (0.693 /h) and a constant infusion ``IPTHinf`` are the model's generic
exogenous-PTH inputs (zero by default).
"""

import numba

from ckdmbd.model.framework import Process, State, Submodel, from_parameter

TERIPARATIDE_MOLAR_MASS_G_PER_MOL = 4117.8  # BIOMD0000000613 dosing event; OpenBoneMin R/cabone.R amt_teri

STATES = (
    State("teriparatide_depot", "pmol", "subcutaneous teriparatide depot", from_parameter("TERISC_0"), {}, "TERISC"),
    State("pth_sc_depot", "pmol", "generic subcutaneous PTH depot", from_parameter("SC_0"), {}, "SC"),
)
OUTPUTS = ("teriparatide_absorption", "sc_pth_absorption", "sc_pth_input", "pth_infusion")
PROCESSES = (
    Process("teriparatide_absorption", "teriparatide_absorption", {"teriparatide_depot": -1.0, "plasma_pth": 1.0},
            "TERIPK = TERISC*TERICL/TERIVC, pmol/h"),
    Process("sc_pth_absorption", "sc_pth_absorption", {"pth_sc_depot": -1.0, "plasma_pth": 1.0},
            "0.693*SC, pmol/h"),
    Process("sc_pth_input", "sc_pth_input", {"pth_sc_depot": 1.0}, "IPTHint, pmol/h"),
    Process("pth_infusion", "pth_infusion", {"plasma_pth": 1.0}, "IPTHinf, pmol/h"),
)


@numba.njit(cache=True, error_model="numpy")
def exogenous_pth(teriparatide_depot, pth_sc_depot, TERICL, TERIVC, IPTHint, IPTHinf):
    return teriparatide_depot * TERICL / TERIVC, 0.693 * pth_sc_depot, IPTHint, IPTHinf


SUBMODEL = Submodel("teriparatide", __doc__, exogenous_pth, OUTPUTS, STATES, PROCESSES, ("PetersonRiggs2010",))


def dose_pmol(dose_ug: float) -> float:
    """Teriparatide dose in pmol for a dose in micrograms."""
    return dose_ug * 1e6 / TERIPARATIDE_MOLAR_MASS_G_PER_MOL
