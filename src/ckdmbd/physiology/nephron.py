"""Kidney by nephron segment (default configuration): calcium and phosphate reabsorption along the tubule.

Peterson-Riggs multiply *all* renal calcium reabsorption by one PTH term, so that total parathyroidectomy in a
healthy adult excretes 100 % of the filtered calcium and drives serum calcium to 1.0 mmol/L within two weeks;
real hypoparathyroidism settles near 1.8-2.0 mmol/L because most reabsorption does not need PTH. Here each segment
reabsorbs a fraction of the calcium *delivered* to it (so no segment can reabsorb more than reaches it and the
urine can never exceed the filtered load):

- filtered load: the ultrafilterable (ionised + complexed) share of plasma calcium, 60 % (Gotch 2007), x GFR;
- proximal tubule: a constant 65 % of the filtered load (paracellular, driven by sodium and water reabsorption,
  not by PTH; 65-70 %, Toka 2014 / NBK531440);
- thick ascending limb (TAL): reabsorbs 71 % of what reaches it at baseline (20-25 % of the filtered load); the
  basolateral calcium-sensing receptor lowers it as ionised calcium rises (CaSR -> claudin-14), PTH raises it
  slightly;
- distal convoluted and connecting tubule (DCT/CNT): reabsorbs most of the remainder through TRPV5, calbindin and
  NCX1, which need PTH (weight 0.8) and calcitriol (0.2) (Hanna 2022; the 0.8/0.2 split of the distal PTH and
  calcitriol terms is Granjon et al.'s rat model). Its baseline fraction is derived so that baseline urinary
  calcium equals Peterson-Riggs' (3.6 mmol/day, fractional excretion 1.8 %), keeping the healthy steady state.

Each regulated fraction is a logistic function of log-signals, r = 1 / (1 + exp(-z)),
z = logit(r0) + sum beta_i ln(x_i / x_i0): bounded in (0, 1) by construction, equal to r0 at baseline, with
log-linear sensitivities beta (assumed values, stated in ``kidney_segments.toml``).

Phosphate: Peterson-Riggs' titration form, excretion = 0.88 GFR ([P] - T), with the tubular threshold T (the
TmP/GFR) lowered by PTH and by FGF23, each through a *bounded* effect T = T46 s_PTH s_FGF23,
s_X = (1 - e_X h_X) / (1 - e_X / 2), h_X = x / (x + x_0) (half-maximal at baseline): both hormones together can
lower the threshold to at most (1 - e)/(1 - e/2) of baseline each, instead of the open power law of the first
release (which let the threshold collapse and phosphate *fall* in advanced CKD). The tubule reads each hormone
through its receptor (``renal_receptors``): PTH x PTH1 receptor density, FGF23 x klotho (``fgf23_effect``), both lost
by diseased native kidneys and normal in a graft.

GFR is the state of the Peterson-Riggs kidney (dGFR/dt = -kGFR GFR); a negative kGFR makes it rise (the
recovery of a transplanted kidney with delayed graft function).
"""

import math

import numba

from ckdmbd.model.framework import Submodel
from ckdmbd.physiology import kidney
from ckdmbd.physiology._math import smooth_floor

OUTPUTS = ("calcium_excretion", "phosphate_excretion", "gfr_decline", "calcium_filtered", "calcium_fe",
           "phosphate_threshold_mM")


def derive(p):
    """Baseline fractions: TAL and DCT reabsorption at baseline so that urinary calcium at baseline equals
    Peterson-Riggs' J27 (which is exactly their reabsorption offset, 0.149997 mmol/h, at baseline)."""
    ca0, gfr0 = p["calcium_baseline_mM"], p["GFR_0"]
    t10 = p["T7"] * p["calcitriol_baseline_pM"] / (p["calcitriol_baseline_pM"] + p["T9"])
    urine0 = (2.0 - t10) * p["reabs_offset"]  # PR's J27 at baseline (T16 term = 1 by T17's derivation)
    filtered0 = p["plasma_diffusible_calcium_fraction"] * gfr0 * ca0
    to_dct = (1.0 - p["proximal_calcium_fraction"]) * (1.0 - p["tal_calcium_fraction_0"])
    fe0 = urine0 / filtered0
    if not 0.0 < fe0 < to_dct:
        raise ValueError(f"baseline fractional calcium excretion {fe0:.4f} must lie in (0, {to_dct:.4f}) "
                         f"(delivered to the distal tubule) for the distal fraction to exist")
    r_dct0 = 1.0 - fe0 / to_dct
    return {"dct_calcium_logit_0": math.log(r_dct0 / (1.0 - r_dct0)),
            "tal_calcium_logit_0": math.log(p["tal_calcium_fraction_0"] / (1.0 - p["tal_calcium_fraction_0"]))}


@numba.njit(cache=True, inline="always", error_model="numpy")
def _logistic(z):
    return 1.0 / (1.0 + math.exp(-z))


@numba.njit(cache=True, inline="always", error_model="numpy")
def _bounded_suppression(x, x0, emax):
    """(1 - e h(x)) / (1 - e h(x0)) with h(x) = x / (x + x0): 1 at baseline, floor (1 - e)/(1 - e/2)."""
    h = x / (x + x0)
    return (1.0 - emax * h) / (1.0 - 0.5 * emax)


@numba.njit(cache=True, error_model="numpy")
def segmental_excretion(gfr, ca_mM, ionized_calcium_mM, pth_pM, calcitriol_pM, phosphate_mM, fgf23_effect,
                        renal_pth_receptor_relative, kGFR,
                        plasma_diffusible_calcium_fraction, proximal_calcium_fraction, tal_calcium_logit_0,
                        dct_calcium_logit_0, tal_casr_beta, tal_pth_beta, dct_pth_beta, dct_calcitriol_beta,
                        pth_setpoint_ionized_mM, pth_baseline_pM, calcitriol_baseline_pM, pth_hydroxylase_floor_pM,
                        T46, phosphate_filterable_fraction, pth_phosphaturia_emax, fgf23_phosphaturia_emax):
    g = gfr if gfr > 0.0 else 0.0
    filtered = plasma_diffusible_calcium_fraction * g * ca_mM
    pth = smooth_floor(pth_pM, pth_hydroxylase_floor_pM)  # ln(PTH) needs PTH > 0 after parathyroidectomy
    ctriol = smooth_floor(calcitriol_pM, 1.0)  # and ln(calcitriol) a floor of 1 pM (assay limit ~ 10 pM)
    ica = smooth_floor(ionized_calcium_mM, 0.05)
    ln_pth = math.log(pth / pth_baseline_pM)
    z_tal = tal_calcium_logit_0 - tal_casr_beta * math.log(ica / pth_setpoint_ionized_mM) + tal_pth_beta * ln_pth
    z_dct = dct_calcium_logit_0 + dct_pth_beta * ln_pth + dct_calcitriol_beta * math.log(
        ctriol / calcitriol_baseline_pM)
    to_tal = filtered * (1.0 - proximal_calcium_fraction)
    to_dct = to_tal * (1.0 - _logistic(z_tal))
    urine_ca = to_dct * (1.0 - _logistic(z_dct))
    threshold = (T46 * _bounded_suppression(pth * renal_pth_receptor_relative, pth_baseline_pM, pth_phosphaturia_emax)
                 * _bounded_suppression(max(fgf23_effect, 0.0), 1.0, fgf23_phosphaturia_emax))
    urine_p = phosphate_filterable_fraction * g * (phosphate_mM - threshold)
    if urine_p < 0.0:
        urine_p = 0.0
    fe = urine_ca / filtered if filtered > 0.0 else 0.0
    return urine_ca, urine_p, kGFR * gfr, filtered, fe, threshold


SUBMODEL = Submodel("kidney", __doc__, segmental_excretion, OUTPUTS, kidney.STATES, kidney.PROCESSES,
                    ("PetersonRiggs2010", "OpenBoneMin", "Hanna2022RenalCalcium", "YuCurry2024", "Gotch2007",
                     "Granjon2017", "Gosmanova2022", "Urena1995RenalPTHReceptor"),
                    derive, ("dct_calcium_logit_0", "tal_calcium_logit_0"))
