"""Ionised calcium from total calcium, albumin and pH (default configuration; an algebraic speciation, no state).

Plasma calcium is free (ionised), bound to protein, or complexed with small anions (bicarbonate, citrate,
phosphate, lactate): about 50 %, 40 % and 10 % at normal albumin and pH (acutecaretesting.org, "Ionized calcium",
2007). The speciation here, at 37 degC and pH 7.40:

- albumin by mass action with n identical independent sites of association constant K (Pedersen 1971: 12 +- 1
  sites, K = 90-100 L/mol at 37 degC, pH 7.4, ionic strength 0.15-0.16): bound = n [Alb] K f / (1 + K f), with
  [Alb] in mol/L = albumin (g/L) / 66.5 kg/mol;
- globulins: 19 % of protein-bound calcium (81 % on albumin; Moore 1970), taken as sites of the same affinity whose
  number is fixed at 0.19/0.81 of the albumin sites at the reference albumin of 40 g/L (globulins are not a
  patient input);
- complexed calcium in proportion to free calcium, c f, with c = 0.2 (10 % complexed vs 50 % ionised at normal
  values; same source as the fractions above). Complexation with phosphate is not separated out: its association
  constant under plasma conditions was not sourced (fragile at high phosphate, where some complexed calcium is
  CaHPO4).

Total = f + c f + S K f / (1 + K f) with S = n [Alb] + S_globulin is a quadratic in f that is solved exactly:
(1 + c) K f^2 + ((1 + c) + S K - T K) f - T = 0, taking the positive root (written in the cancellation-free form).

pH: albumin binds more calcium in alkalosis (H+ competes for the sites). The conventional log-linear adjustment
iCa(7.4) = iCa(pH) x 10^(-0.178 (7.4 - pH)) (serum; e.g. MedicalAlgorithms "adjusting ionized calcium for pH")
is applied to the free calcium at pH 7.40, so iCa(pH) = iCa(7.40) x 10^(-0.178 (pH - 7.40)): -4 %, about
-0.05 mmol/L per +0.1 pH, as measured in hyperventilation (-0.05 +- 0.02 mmol/L per 0.1 pH; Clin Chem 1978). The
true dependence is an inverse-S cubic (Lancet 2000, PIIS0140-6736(99)04586-9); the log-linear form is adequate
within 7.2-7.6.

At 2.35 mmol/L total, 40 g/L albumin and pH 7.40 this gives 1.199 mmol/L ionised (51 %; serum ionised calcium at
pH 7.40: 1.184 +- 0.054 mmol/L, 2 SD).
"""

import math

import numba

ALBUMIN_G_PER_MOL = 66_500.0  # human serum albumin, ~66.5 kDa (convention; 66,438 Da from sequence)


@numba.njit(cache=True, inline="always", error_model="numpy")
def ionized_calcium(total_mM, albumin_g_L, ph, albumin_sites, albumin_K_per_M, globulin_site_fraction,
                    albumin_reference_g_L, complexed_per_ionized, ph_log_slope):
    """Free (ionised) calcium in mmol/L for total calcium ``total_mM``, albumin ``albumin_g_L`` and ``ph``.

    Exact solution of the mass-action quadratic (no iteration); 0 for total <= 0."""
    total = total_mM if total_mM > 0.0 else 0.0
    albumin = albumin_g_L if albumin_g_L > 0.0 else 0.0
    k = albumin_K_per_M * 1e-3  # L/mol -> L/mmol
    sites_mM = albumin_sites * (albumin + globulin_site_fraction * albumin_reference_g_L) / ALBUMIN_G_PER_MOL * 1e3
    one_c = 1.0 + complexed_per_ionized
    a = one_c * k
    b = one_c + sites_mM * k - total * k
    # positive root of a f^2 + b f - T = 0 without cancellation: f = 2T / (b + sqrt(b^2 + 4 a T))
    free = 2.0 * total / (b + math.sqrt(b * b + 4.0 * a * total)) if total > 0.0 else 0.0
    return free * 10.0 ** (-ph_log_slope * (ph - 7.40))


def baseline_ionized_calcium(p) -> float:
    """Ionised calcium of the healthy baseline (PR's 2.35 mmol/L total, the reference albumin, pH 7.40): the set
    point of the gland's calcium sensing, so that the healthy steady state stays exact."""
    return float(ionized_calcium(p["calcium_baseline_mM"], p["albumin_reference_g_L"], 7.40, p["albumin_calcium_sites"],
                                 p["albumin_calcium_K"], p["globulin_calcium_site_fraction"],
                                 p["albumin_reference_g_L"], p["complexed_calcium_per_ionized"],
                                 p["ionized_calcium_ph_slope"]))
