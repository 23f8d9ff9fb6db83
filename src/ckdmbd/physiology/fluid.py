"""Extracellular fluid volume: body size, water intake, urine water and ultrafiltration (default configuration).

Peterson & Riggs hold every solute in one constant volume V1 = 14 L. Here the extracellular volume is a state
(``ecf_volume``, L, holding 1 L of water per L, so that water is booked in the mass balance), and the calcium and
phosphate concentrations are amount / volume: they dilute while a patient gains fluid between sessions and
concentrate while ultrafiltration removes it.

Body size. The patient's normal (dry) extracellular volume is V1 scaled by the Watson total body water:
V_dry = V1 x TBW(patient) / TBW(reference patient), with TBW (L) from Watson 1980 (men 2.447 - 0.09516 age +
0.1074 height + 0.3362 weight; women -2.097 + 0.1069 height + 0.2466 weight; years, cm, kg: the age coefficient is
0.09516 in the original abstract, 0.09156 in some copies). The reference patient (man, 70 kg, 175 cm, 40 years)
has TBW 40.97 L, so PR's 14 L is 34 % of TBW, close to the textbook third (Guyton: 15 of 40 L), and the default
patient keeps V1 = 14 L exactly.

Water balance (L/h):
- net intake (drink and food water minus insensible and faecal losses), constant, taken as isotonic, so it stays
  extracellular. It is 0 unless a scenario declares it (``[patient] interdialytic_weight_gain``: the mean gain per
  thrice-weekly interval, 2.8 +- 1.2 kg in 309 patients, Sherman 1995, i.e. 0.05 L/h): with the published gain the
  larger pre-dialysis volume slows the intradialytic phosphate fall below Elias 2018's band and the ultrafiltrate's
  calcium lowers Pirklbauer's calcium gain below its band; the phosphate kinetics and the calcium dialysance were
  calibrated without fluid (see the README). It tapers to 0 between 5 and 10 L of
  excess, only so that untreated anuria stays computable;
- urine water: the intake plus 0.5 L/h per L of excess, at most 15 % of the GFR (assumed): healthy and residual
  kidneys hold the volume at V_dry, an anuric patient gains the whole intake;
- ultrafiltration during sessions: ``ultrafiltration_auto`` = 1 removes the excess over V_dry at a constant rate
  by the session's end (rate = excess / time left, time left at least 15 min), the usual prescription "back to
  dry weight"; otherwise a prescribed rate. The ultrafiltrate carries the diffusible calcium (``0.6`` of total,
  Gotch's diffusible fraction, as the dialyzer uses) and the ultrafilterable phosphate (0.9 of plasma phosphate):
  convective losses booked at the boundary "ultrafiltrate".

Hormones do not dilute: PTH and calcitriol are read as amount / V1 (a fixed distribution volume). Their levels are
set by secretion and clearance (t1/2 about 6 min and 7 h) rather than by the water they are dissolved in, and
their elimination in the model is first order in the amount, so a changing water volume would otherwise shift
their steady levels by its own ratio, which clearance-limited hormones do not show. FGF23 is a concentration state
and does not dilute either. Albumin does: it is mostly retained in the extracellular space, so its concentration is
the patient's albumin x V_dry / V, and ionised calcium follows from total calcium, albumin and pH
(``calcium_speciation``).

Not modelled: intracellular water shifts, plasma refilling during ultrafiltration (the whole extracellular space
is one pool), sodium, blood pressure. Bone formation in ``bone_mineral`` is first order in the ECF calcium
*amount* (PR's J15), so it does not see dilution, and a patient whose V_dry differs from 14 L starts slightly off
the steady state there.
"""

import numba

from ckdmbd.model.framework import Process, State, Submodel

REFERENCE_BODY = {"weight_kg": 70.0, "height_cm": 175.0, "age_years": 40.0, "male": 1.0}
"""The patient whose extracellular volume is Peterson-Riggs' V1 (convention; matches the default parameters)."""

WATER = {"water": 1.0}  # L of water per L of extracellular volume


def watson_total_body_water(weight_kg: float, height_cm: float, age_years: float, male: float) -> float:
    """Total body water (L), Watson et al., Am J Clin Nutr 1980;33:27 (deuterium/tritium dilution, 458 men and
    265 women). ``male`` is 1 for the men's equation, 0 for the women's."""
    men = 2.447 - 0.09516 * age_years + 0.1074 * height_cm + 0.3362 * weight_kg
    women = -2.097 + 0.1069 * height_cm + 0.2466 * weight_kg
    return male * men + (1.0 - male) * women


def derive(p):
    """The patient's dry extracellular volume: V1 scaled by Watson TBW relative to the reference patient."""
    ref = watson_total_body_water(REFERENCE_BODY["weight_kg"], REFERENCE_BODY["height_cm"],
                                  REFERENCE_BODY["age_years"], REFERENCE_BODY["male"])
    tbw = watson_total_body_water(p["body_weight_kg"], p["body_height_cm"], p["body_age_years"], p["body_sex_male"])
    return {"ecf_volume_0": p["V1"] * tbw / ref}


STATES = (
    State("ecf_volume", "L", "extracellular fluid volume (water)", lambda p: p["ecf_volume_0"], WATER, ""),
)
OUTPUTS = ("fluid_intake", "urine_water", "ultrafiltration_rate", "ultrafiltration_calcium",
           "ultrafiltration_phosphate", "fluid_excess_L")
PROCESSES = (
    Process("fluid_intake", "fluid_intake", {"ecf_volume": 1.0}, "net water intake, L/h", "diet"),
    Process("urine_water", "urine_water", {"ecf_volume": -1.0}, "urine flow, L/h", "urine"),
    Process("ultrafiltration_water", "ultrafiltration_rate", {"ecf_volume": -1.0}, "ultrafiltration, L/h",
            "ultrafiltrate"),
    Process("ultrafiltration_calcium", "ultrafiltration_calcium", {"ecf_calcium": -1.0},
            "Q_UF x diffusible calcium, mmol/h", "ultrafiltrate"),
    Process("ultrafiltration_phosphate", "ultrafiltration_phosphate", {"ecf_phosphate": -1.0},
            "Q_UF x ultrafilterable phosphate, mmol/h", "ultrafiltrate"),
)


@numba.njit(cache=True, error_model="numpy")
def water_balance(t, ecf_volume, gfr, ca_mM, phosphate_mM, dialysis_on, ecf_volume_0, net_fluid_intake_L_per_h,
                  fluid_overload_taper_start_L, fluid_overload_taper_end_L, renal_water_regulation_rate,
                  urine_water_max_fraction, ultrafiltration_auto, ultrafiltration_rate_L_per_h,
                  dialysis_session_end_h, ultrafiltration_min_time_h, plasma_diffusible_calcium_fraction,
                  phosphate_ultrafilterable_fraction):
    excess = ecf_volume - ecf_volume_0
    taper = 1.0
    if excess >= fluid_overload_taper_end_L:
        taper = 0.0
    elif excess > fluid_overload_taper_start_L:
        taper = (fluid_overload_taper_end_L - excess) / (fluid_overload_taper_end_L - fluid_overload_taper_start_L)
    intake = net_fluid_intake_L_per_h * taper
    urine = intake + renal_water_regulation_rate * excess
    urine_max = urine_water_max_fraction * (gfr if gfr > 0.0 else 0.0)
    if urine > urine_max:
        urine = urine_max
    if urine < 0.0:
        urine = 0.0
    if ultrafiltration_auto > 0.5:
        left = dialysis_session_end_h - t
        if left < ultrafiltration_min_time_h:
            left = ultrafiltration_min_time_h
        rate = (excess if excess > 0.0 else 0.0) / left
    else:
        rate = ultrafiltration_rate_L_per_h
    rate *= dialysis_on
    ca = ca_mM if ca_mM > 0.0 else 0.0
    po4 = phosphate_mM if phosphate_mM > 0.0 else 0.0
    return (intake, urine, rate, rate * plasma_diffusible_calcium_fraction * ca,
            rate * phosphate_ultrafilterable_fraction * po4, excess)


SUBMODEL = Submodel("fluid", __doc__, water_balance, OUTPUTS, STATES, PROCESSES,
                    ("Watson1980", "Sherman1995", "Guyton", "Gotch2007"), derive, ("ecf_volume_0",))
