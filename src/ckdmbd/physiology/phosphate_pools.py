"""Intracellular phosphate: the large pool that exchanges with extracellular phosphate (Peterson & Riggs 2010).

ECF -> cells at T49 x [phosphate] (J54), cells -> ECF at T55 x IntraPO (J56). This is the pool that later refills
the central compartment during and after dialysis.
"""

import numba

from ckdmbd.model.framework import Process, State, Submodel, from_parameter

STATES = (
    State("intracellular_phosphate", "mmol", "intracellular phosphate", from_parameter("IntraPO_0"),
          {"phosphate": 1.0}, "IntraPO"),
)
OUTPUTS = ("phosphate_into_cells", "phosphate_out_of_cells")
PROCESSES = (
    Process("phosphate_into_cells", "phosphate_into_cells",
            {"ecf_phosphate": -1.0, "intracellular_phosphate": 1.0}, "J54 = T49*C2, mmol/h"),
    Process("phosphate_out_of_cells", "phosphate_out_of_cells",
            {"intracellular_phosphate": -1.0, "ecf_phosphate": 1.0}, "J56 = T55*IntraPO, mmol/h"),
)


@numba.njit(cache=True, error_model="numpy")
def exchange(phosphate_mM, intracellular_phosphate, T49, T55):
    return T49 * phosphate_mM, T55 * intracellular_phosphate


SUBMODEL = Submodel("phosphate_pools", __doc__, exchange, OUTPUTS, STATES, PROCESSES, ("PetersonRiggs2010",))
