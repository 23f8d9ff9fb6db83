"""One module per physiological subsystem; each exposes its submodel(s) as module-level constants.

Where to find a mechanism:

=========================  ============================================================
``extracellular``          extracellular fluid: calcium and phosphate pools, concentrations
``parathyroid``            parathyroid gland (secretion, secretory pool, capacity) and plasma PTH
``teriparatide``           exogenous PTH: subcutaneous teriparatide depot and infusion
``calcitriol``             renal 1-alpha-hydroxylase and calcitriol
``gut``                    intestinal calcium and phosphate absorption
``kidney``                 glomerular filtration, renal calcium and phosphate excretion, GFR decline (PR)
``nephron``                kidney by nephron segment (default): proximal, TAL (CaSR), distal (PTH, calcitriol)
``fgf23``                  FGF23: bone expression, plasma kinetics
``renal_receptors``        tubular klotho and PTH1 receptor: lost by diseased native kidneys, normal in a graft
``phosphate_pools``        intracellular phosphate exchange
``bone_mineral``           exchangeable and non-exchangeable bone mineral, bone resorption and formation fluxes
``bone_cells``             osteoblasts, osteoclasts and TGF-beta
``rankl_opg``              RANK, RANKL, OPG and their complexes
``osteoblast_signalling``  intracellular RUNX2, CREB and BCL2 signals
``vitamin_d``              25-hydroxyvitamin D; calcitriol, alfacalcidol and paricalcitol as drugs; VDR activation
``calcimimetics``          cinacalcet and etelcalcetide kinetics and the calcium set-point shift
=========================  ============================================================
"""
