"""Haemodialysis: the dialyzer's phosphate clearance and calcium exchange with the dialysate.

During a session (``dialysis_on`` = 1, switched by protocol events at the session's start and end, so the solver
restarts exactly there):
- phosphate leaves the extracellular pool at the dialyzer clearance K_D x [phosphate] (plasma-water clearance of
  about 130-160 mL/min; field notes Sect. 1, counter-current formula; HD 160 +- 14 mL/min in Blood Purif 2013).
  The pool is refilled from the finite rapidly exchangeable phosphate pool at the mobilisation clearance
  (``phosphate_pools``), which makes the steep fall, the plateau and the rebound emerge (Agar 2011).
- calcium diffuses between dialysate and the diffusible plasma calcium (ionised + complexed, about 60 % of total;
  Gotch 2007): J = D_Ca x (Ca_dialysate - 0.6 x Ca_total); positive = gain. D_Ca (12 L/h) is calibrated so that a
  1.75 mmol/L bath gives the 12 mmol (488 mg) gain per session that Pirklbauer 2021 measured, with the rapidly
  miscible pool (``calcium_buffer``) taking up about 3/4 of it.
Both fluxes cross the body boundary ("dialysate") and are booked in the mass ledger. In ``SUBMODEL``
ultrafiltration and the convective calcium loss with it are not modelled; HD removes negligible PTH (5-10 ug
per session), so PTH is not dialysed.

With the extracellular volume of ``fluid`` (default configuration, ``WITH_ULTRAFILTRATION``), ultrafiltration
carries calcium and phosphate by convection; the phosphate clearance K_D is then read as the total clearance.
"""

import numba

from ckdmbd.model.framework import Process, Submodel

OUTPUTS = ("dialysis_phosphate_removal", "dialysis_calcium_gain", "on_dialysis")
PROCESSES = (
    Process("dialysate_phosphate", "dialysis_phosphate_removal", {"ecf_phosphate": -1.0},
            "K_D * [P] during sessions, mmol/h", "dialysate"),
    Process("dialysate_calcium", "dialysis_calcium_gain", {"ecf_calcium": 1.0},
            "D_Ca * (Ca_dialysate - f_diffusible * Ca), mmol/h (negative = loss)", "dialysate"),
)


@numba.njit(cache=True, error_model="numpy")
def dialyzer(phosphate_mM, ca_mM, dialysis_on, dialyzer_phosphate_clearance, dialyzer_calcium_dialysance,
             dialysate_calcium_mM, plasma_diffusible_calcium_fraction):
    removal = dialysis_on * dialyzer_phosphate_clearance * phosphate_mM
    gain = dialysis_on * dialyzer_calcium_dialysance * (dialysate_calcium_mM
                                                        - plasma_diffusible_calcium_fraction * ca_mM)
    return removal, gain, dialysis_on


SUBMODEL = Submodel("dialysis", __doc__, dialyzer, OUTPUTS, (), PROCESSES, ("Agar2011", "Gotch2007", "Pirklbauer2021"))


@numba.njit(cache=True, error_model="numpy")
def dialyzer_with_ultrafiltration(phosphate_mM, ca_mM, dialysis_on, dialyzer_phosphate_clearance,
                                  dialyzer_calcium_dialysance, dialysate_calcium_mM, plasma_diffusible_calcium_fraction,
                                  ultrafiltration_rate, phosphate_ultrafilterable_fraction):
    """With ultrafiltration (``fluid``): measured dialyzer phosphate clearances (130-160 mL/min) are total
    clearances, convection included, so the diffusive part here is K_D - f_u x Q_UF and ``fluid`` books the
    convective part f_u x Q_UF x [P]: total phosphate removal is unchanged by the split. Calcium diffuses as
    before; the ultrafiltrate's calcium is an extra loss (booked by ``fluid``), as in Gotch's calcium model."""
    diffusive = dialyzer_phosphate_clearance - phosphate_ultrafilterable_fraction * ultrafiltration_rate
    return dialyzer(phosphate_mM, ca_mM, dialysis_on, diffusive if diffusive > 0.0 else 0.0,
                    dialyzer_calcium_dialysance, dialysate_calcium_mM, plasma_diffusible_calcium_fraction)


WITH_ULTRAFILTRATION = Submodel("dialysis", __doc__, dialyzer_with_ultrafiltration, OUTPUTS, (), PROCESSES,
                                ("Agar2011", "Gotch2007", "Pirklbauer2021"))
"""Default configuration: the dialyzer beside the ultrafiltration of ``fluid``."""
