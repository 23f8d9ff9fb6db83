"""Hormone receptors of the renal tubule: klotho (FGF23's co-receptor) and the PTH1 receptor, per nephron.

Both are properties of the kidney tissue, not of the hormone levels: in chronic kidney disease the remaining
nephrons carry less of each, so the diseased kidney is resistant to the phosphaturic hormones it is flooded with,
and a transplanted kidney, healthy tissue, is not. This is why CKD keeps most of its tubular phosphate
reabsorption per litre filtrate despite PTH and FGF23 many times normal (Gosmanova 2022: -15 % from G1 to G5)
while a graft, with lower PTH and FGF23 than CKD stage 5, wastes phosphate in the first months (van Londen 2017;
Evenepoel 2008: FE_phosphate 45 +- 19 % at month 3 vs 35 +- 16 % in eGFR-matched CKD).

- Tissue health x = GFR / GFR_ref, at most 1: GFR_ref is the healthy function of the kidney that filters, the
  patient's normal GFR_0 for native kidneys and, after ``kidney_transplant``, the graft's own GFR
  (``graft_reference_gfr``, set by the event): a well-functioning graft is healthy tissue whatever its GFR, and
  the same graft in delayed function (5 % of its GFR) is injured tissue.
- klotho relative to normal: k_min + (1 - k_min) x (soluble klotho 519 vs 845 pg/mL at eGFR 45 vs controls,
  Rotondi 2015; ``klotho_anuric_fraction``).
- PTH1 receptor relative to normal: r_min + (1 - r_min) x, r_min from Urena 1995 (renal PTH/PTHrP receptor mRNA
  0.28 vs 0.54 of beta-actin, i.e. 0.52 of control, in uraemic rats at 40 % of control creatinine clearance, not
  prevented by parathyroidectomy), linear in GFR as klotho is.

The kidney reads the PTH signal x receptor for its phosphate threshold (``nephron``) and FGF23 x klotho
(``fgf23_effect``, ``fgf23`` module) for the threshold and 1-alpha-hydroxylase.
"""

import numba

from ckdmbd.model.framework import Submodel

OUTPUTS = ("klotho_relative", "renal_pth_receptor_relative")


@numba.njit(cache=True, error_model="numpy")
def tubular_receptors(gfr, GFR_0, graft_reference_gfr, klotho_anuric_fraction, renal_pth_receptor_anuric_fraction):
    reference = graft_reference_gfr if graft_reference_gfr > 0.0 else GFR_0
    health = gfr / reference
    health = min(max(health, 0.0), 1.0)
    klotho = klotho_anuric_fraction + (1.0 - klotho_anuric_fraction) * health
    receptor = renal_pth_receptor_anuric_fraction + (1.0 - renal_pth_receptor_anuric_fraction) * health
    return klotho, receptor


SUBMODEL = Submodel("renal_receptors", __doc__, tubular_receptors, OUTPUTS, (), (),
                    ("Rotondi2015", "Urena1995RenalPTHReceptor"))
