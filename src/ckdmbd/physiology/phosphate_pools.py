"""Phosphate pools outside the extracellular fluid.

Reference and corrected configurations (Peterson & Riggs 2010): one intracellular pool, ECF -> cells at
T49 x [phosphate] (J54), cells -> ECF at T55 x IntraPO (J56).

Default configuration (kidney failure, dialysis): two pools, because one cannot give both the intradialytic
kinetics and the memory of the interdialytic interval.
- A finite, rapidly exchangeable pool (interstitial fluid, cell surfaces and bone surface; the "second
  compartment" of Agar 2011's pseudo-one-compartment model and the distal pool of Daugirdas 2018's two-pool
  phosphate model) exchanges with the ECF at the mobilisation clearance K_M: J = K_M x ([P]_ECF - [P]_pool), with
  [P]_pool = content / V_pool. It refills the plasma during and after a session (steep fall, plateau, rebound),
  but it is finite: a session empties it by about a quarter, and what it gave back returns only with the next
  days' absorption, so phosphate 24 h after a session is still below its pre-dialysis value (Stremke 2022: 94 %
  at 48 h) and the long weekend gap ends higher than the midweek ones (Sigrist 2005, COSMOS).
- The large intracellular pool of Peterson & Riggs (3,226 mmol) exchanges with the ECF slowly (PR's J54/J56 with
  a small clearance T49), so it buffers weeks-to-months changes in phosphate balance but not the weekly cycle.
  (With the Agar clearance on this pool, 100x what a session removes, the plasma had no memory of the gap.)
Both exchanges vanish at the healthy baseline ([P] = 1.2 mM in ECF, rapid pool and cell equilibrium), which
therefore stays an exact steady state.
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


def derive(p):
    """Baseline content of the rapidly exchangeable pool: its volume at the baseline ECF concentration, so that
    the healthy baseline is a steady state."""
    return {"exchangeable_phosphate_0": p["exchangeable_phosphate_volume"] * p["ECCPhos_0"] / p["V1"]}


DEFAULT_STATES = (
    *STATES,
    State("exchangeable_phosphate", "mmol", "rapidly exchangeable phosphate (interstitium, cell and bone surfaces)",
          from_parameter("exchangeable_phosphate_0"), {"phosphate": 1.0}),
)
DEFAULT_OUTPUTS = (*OUTPUTS, "phosphate_into_exchangeable_pool", "phosphate_out_of_exchangeable_pool",
                   "exchangeable_phosphate_mM")
DEFAULT_PROCESSES = (
    *PROCESSES,
    Process("phosphate_into_exchangeable_pool", "phosphate_into_exchangeable_pool",
            {"ecf_phosphate": -1.0, "exchangeable_phosphate": 1.0}, "K_M*[P]_ECF, mmol/h"),
    Process("phosphate_out_of_exchangeable_pool", "phosphate_out_of_exchangeable_pool",
            {"exchangeable_phosphate": -1.0, "ecf_phosphate": 1.0}, "K_M*[P]_pool, mmol/h"),
)


@numba.njit(cache=True, error_model="numpy")
def exchange_two_pools(phosphate_mM, intracellular_phosphate, exchangeable_phosphate, T49, T55,
                       phosphate_mobilisation_clearance, exchangeable_phosphate_volume):
    """Cells as in PR (slow in this configuration) and the rapid pool at the mobilisation clearance; the pool's
    concentration is floored at zero (round-off must not reverse the flux)."""
    pool_mM = max(exchangeable_phosphate, 0.0) / exchangeable_phosphate_volume
    return (T49 * phosphate_mM, T55 * intracellular_phosphate,
            phosphate_mobilisation_clearance * phosphate_mM, phosphate_mobilisation_clearance * pool_mM, pool_mM)


DEFAULT = Submodel("phosphate_pools", __doc__, exchange_two_pools, DEFAULT_OUTPUTS, DEFAULT_STATES,
                   DEFAULT_PROCESSES, ("PetersonRiggs2010", "Agar2011", "Daugirdas2018"), derive,
                   ("exchangeable_phosphate_0",))
