"""The rapidly miscible calcium pool (bone surface and connective tissue) that buffers plasma calcium.

During dialysis more than 500 mg of calcium can cross the dialyzer, yet plasma calcium barely moves: on average
76 % of the dialyzer's calcium flux comes from or goes to a rapidly miscible pool (Gotch et al., Kidney Int
2010;78:343; Gotch et al., Blood Purif 2007). Peterson-Riggs' bone fluxes respond to calcium over ~9 h, far too
slowly for a 4-h session, so the default configuration adds this pool: it exchanges with the diffusible plasma
calcium at clearance K_mix towards equilibrium content V_mix x diffusible Ca (zero flux at baseline). K_mix and
V_mix are assumed values chosen to reproduce Gotch's 76 % (tested).

The pool is bone surface, so its exchange clearance scales with bone turnover (``bone_turnover_index``: mean
osteoclast and osteoblast activity relative to baseline): low-turnover (adynamic) bone, typical when PTH is low
after parathyroidectomy, buffers calcium and phosphate swings less and leaves more of them to soft tissue.

``DEFAULT`` (the default configuration) exchanges with ``bone_exchangeable_calcium`` instead of a pool of its own:
the rapidly miscible pool is the exchangeable bone calcium, sized from radiocalcium kinetics (Bergmann 1983: 141 mmol
exchangeable calcium including the ECF, so 108 mmol outside it, equilibrium volume 77 L); ``SUBMODEL`` keeps the
separate 60-L pool.
"""

import numba

from ckdmbd.model.framework import Process, State, Submodel

STATES = (
    State("miscible_calcium", "mmol", "rapidly miscible calcium (bone surface, connective tissue)",
          lambda p: p["miscible_calcium_volume"] * p["plasma_diffusible_calcium_fraction"] * p["P_0"] / p["V1"],
          {"calcium": 1.0}, ""),
)
OUTPUTS = ("calcium_to_miscible_pool", "bone_turnover_index")
PROCESSES = (
    Process("calcium_to_miscible_pool", "calcium_to_miscible_pool", {"ecf_calcium": -1.0, "miscible_calcium": 1.0},
            "K_mix * (f_diffusible*[Ca] - M/V_mix), mmol/h"),
)


@numba.njit(cache=True, error_model="numpy")
def miscible_exchange(ca_mM, miscible_calcium, osteoclasts, osteoblasts_total, OC_0, OB_0,
                      miscible_calcium_clearance, miscible_calcium_volume, plasma_diffusible_calcium_fraction):
    """The exchange clearance scales with bone turnover (mean of osteoclast and osteoblast activity relative to
    baseline): adynamic bone, as after parathyroidectomy, buffers calcium less."""
    turnover = 0.5 * (osteoclasts / OC_0 + osteoblasts_total / OB_0)
    driving = plasma_diffusible_calcium_fraction * ca_mM - miscible_calcium / miscible_calcium_volume
    return miscible_calcium_clearance * turnover * driving, turnover


SUBMODEL = Submodel("calcium_buffer", __doc__, miscible_exchange, OUTPUTS, STATES, PROCESSES, ("Gotch2010",))


@numba.njit(cache=True, error_model="numpy")
def bone_surface_exchange(ca_mM, bone_exchangeable_calcium, osteoclasts, osteoblasts_total, OC_0, OB_0,
                          miscible_calcium_clearance, exchangeable_bone_calcium_volume,
                          plasma_diffusible_calcium_fraction):
    """As ``miscible_exchange``, with the exchangeable bone calcium of ``bone_mineral.DEFAULT`` as the pool (one
    pool, not two: Gotch's rapidly miscible pool is Bergmann's exchangeable bone calcium). Linear in both contents,
    so neither side can be emptied below zero by it."""
    return miscible_exchange(ca_mM, bone_exchangeable_calcium, osteoclasts, osteoblasts_total, OC_0, OB_0,
                             miscible_calcium_clearance, exchangeable_bone_calcium_volume,
                             plasma_diffusible_calcium_fraction)


def derive_default(p):
    """Equilibrium volume of the exchangeable bone calcium: its baseline content (Bergmann 1983's exchangeable
    calcium less the ECF calcium) over the baseline diffusible calcium, so there is no net exchange at baseline."""
    content0 = p["exchangeable_calcium_total"] - p["P_0"]
    return {"exchangeable_bone_calcium_volume":
            content0 / (p["plasma_diffusible_calcium_fraction"] * p["P_0"] / p["V1"])}


DEFAULT = Submodel(
    "calcium_buffer", __doc__, bone_surface_exchange, OUTPUTS, (),
    (Process("calcium_to_miscible_pool", "calcium_to_miscible_pool",
             {"ecf_calcium": -1.0, "bone_exchangeable_calcium": 1.0},
             "K_mix * turnover * (f_diffusible*[Ca] - Q/V_Q), mmol/h, into the exchangeable bone calcium"),),
    ("Gotch2010", "Bergmann1983"), derive_default, ("exchangeable_bone_calcium_volume",))
