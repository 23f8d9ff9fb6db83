"""Citations: every parameter source and every submodel names one of these keys.

``ckdmbd citations`` (and ``Result.citations``) lists the references a run relied on.
"""

CITATIONS: dict[str, str] = {
    "PetersonRiggs2010": (
        "Peterson MC, Riggs MM. A physiologically based mathematical model of integrated calcium homeostasis "
        "and bone remodeling. Bone 2010;46(1):49-63. doi:10.1016/j.bone.2009.08.053"
    ),
    "BIOMD0000000613": (
        "BioModels BIOMD0000000613: Peterson2010 - Integrated calcium homeostasis and bone remodelling "
        "(SBML L3V1 encoding of PetersonRiggs2010; CC0)"
    ),
    "OpenBoneMin": (
        "Riggs MM, Baron KT et al. OpenBoneMin: R package of the Peterson-Riggs model, Metrum Research Group, "
        "https://github.com/metrumresearchgroup/OpenBoneMin (calcitriol/PTmax EC50 fix 2015; GFR decline)"
    ),
    "Lemaire2004": (
        "Lemaire V, Tobin FL, Greller LD, Cho CR, Suva LJ. Modeling the interactions between osteoblast and "
        "osteoclast activities in bone remodeling. J Theor Biol 2004;229:293-309"
    ),
    "ACOP2020FGF23": (
        "Riggs MM, Ball K, Komatsu K, Yamada Y. FGF23/phosphate extension of OpenBoneMin (ACOP 2020 poster), "
        "OpenBoneMin inst/community/fgf-phos"
    ),
    "Armas2013": (
        "Armas LAG, Zena M, Lund R, Heaney RP. Calcium absorption response to calcitriol in black and white adults "
        "with stage 3-4 CKD / haemodialysis. Clin J Am Soc Nephrol 2013;8:1003-1008 (PMID 23411428)"
    ),
    "Daugirdas2011PBE": (
        "Daugirdas JT, Finn WF, Emmett M, Chertow GM. The phosphate binder equivalent dose. Semin Dial "
        "2011;24:41-49"
    ),
    "Agar2011": (
        "Agar BU, Akonur A, Lo YC, Cheung AK, Leypoldt JK. Kinetic model of phosphorus mobilization during and after "
        "short and conventional hemodialysis. Clin J Am Soc Nephrol 2011;6:2854-2860"
    ),
    "Gotch2007": (
        "Gotch FA, Kotanko P, Thijssen S, Levin NW. The KDOQI guideline for dialysate calcium will result in an "
        "increased incidence of calcium accumulation in hemodialysis patients. Kidney Int 2010;78:343-350; "
        "and Gotch F et al., Blood Purif 2007 (calcium mass balance model)"
    ),
    "Gotch2010": (
        "Gotch FA, Kotanko P, Thijssen S, Levin NW. Kidney Int 2010;78:343-350 (76 % of dialyzer calcium flux "
        "from/to the rapidly miscible pool)"
    ),
    "Pirklbauer2021": (
        "Pirklbauer M, Bushinsky DA, Kotanko P, Schappacher-Tilp G. Personalized prediction of short- and long-term "
        "PTH changes in maintenance hemodialysis patients. Front Med 2021;8:704970"
    ),
    "SchappacherTilp2019": (
        "Schappacher-Tilp G, Cherif A, Fuertinger DH, Bushinsky D, Kotanko P. A mathematical model of parathyroid "
        "gland biology. Physiol Rep 2019;7:e14045"
    ),
    "BloodPurif2013HDF": (
        "Phosphate kinetics in hemodiafiltration vs hemodialysis: dialyzer phosphate clearance HD 160 +- 14 mL/min. "
        "Blood Purif 2013;35 Suppl 1:59 (PMID 23466381)"
    ),
    "KDIGO2017": (
        "KDIGO 2017 Clinical Practice Guideline Update for the Diagnosis, Evaluation, Prevention, and Treatment of "
        "CKD-MBD. Kidney Int Suppl 2017;7:1-59"
    ),
    "Madsen1996": (
        "Madsen S, Rasmussen K, Ladefoged J, Schwarz P et al.: PTH-calcium set point in chronic renal failure "
        "(calcium clamps during haemodialysis), set point 1.16 mmol/L ionised calcium (as cited in the field notes)"
    ),
    "JApplBiomater2006": (
        "Calcium phosphate supersaturation of dialysis patients' serum: brushite only above Pi ~1.9 mmol/L or "
        "Ca x P ~4.5 mmol2/L2. J Appl Biomater Biomech 2006;4:80-86 (PMID 20799206)"
    ),
    "Christoffersen1980": (
        "Christoffersen J, Christoffersen MR. Kinetics of dissolution of calcium hydroxyapatite. J Cryst Growth "
        "1980;49:29-44"
    ),
    "Steinbach1995": (
        "Steinbach LS et al. Tumoral calcinosis: radiologic-pathologic correlation. Skeletal Radiol 1995;24:573-578"
    ),
    "Elias2018": (
        "Elias RM et al. Intradialytic phosphate kinetics: -47 +- 14 % at 1 h, -45 +- 11 % at 4 h (as cited in the "
        "ckdmbd field notes; read the original before relying on the numbers)"
    ),
}


# --- vitamin D as prescribed and calcimimetics (issue 9, items 5-6) ---
CITATIONS.update({
    "Jones2014VitD": (
        "Jones KS, Assar S, Harnpanich D, et al. 25(OH)D2 half-life is shorter than 25(OH)D3 half-life and is "
        "influenced by DBP concentration and genotype. J Clin Endocrinol Metab 2014;99:3373-3381 "
        "(25(OH)D3 t1/2 15.1 +- 3.1 d, 25(OH)D2 13.9 +- 2.6 d)"
    ),
    "Ekwaru2014": (
        "Ekwaru JP, Zwicker JD, Holick MF, Giovannucci E, Veugelers PJ. The importance of body weight for the dose "
        "response relationship of oral vitamin D supplementation and serum 25-hydroxyvitamin D in healthy "
        "volunteers. PLoS One 2014;9:e111265. doi:10.1371/journal.pone.0111265"
    ),
    "Tokmak2008": (
        "Tokmak F, Quack I, Schieren G, et al. High-dose cholecalciferol to correct vitamin D deficiency in "
        "haemodialysis patients. Nephrol Dial Transplant 2008;23:4016-4020. doi:10.1093/ndt/gfn367"
    ),
    "PMC8558908HD": (
        "Cholecalciferol supplementation (40,000 IU weekly for 12 weeks, then 20,000 IU fortnightly) in 55 "
        "haemodialysis patients: 25(OH)D 35.1 -> 119.9 nmol/L, 1,25(OH)2D3 48.3 -> 96.2 pmol/L; synthesis is "
        "substrate dependent. PMCID PMC8558908 (authors not checked here)"
    ),
    "Brandi2002": (
        "Brandi L, Egfjord M, Olgaard K. Pharmacokinetics of 1,25(OH)2D3 and 1alpha(OH)D3 in normal and uraemic "
        "men. Nephrol Dial Transplant 2002;17:829-842"
    ),
    "ZemplarLabel": (
        "Zemplar (paricalcitol) capsules and injection, US prescribing information, AbbVie (pharmacokinetics: "
        "F 72 % healthy / 79 % HD, Vd 34 L, t1/2 4-6 h healthy, 14-20 h CKD 3-5, >= 99.8 % bound)"
    ),
    "Lund2010": (
        "Lund RJ, Andress DL, Amdahl M, Williams LA, Heaney RP. Differential effects of paricalcitol and calcitriol "
        "on intestinal calcium absorption in hemodialysis patients. Am J Nephrol 2010;31:165-170"
    ),
    "Sprague2003": (
        "Sprague SM, Llach F, Amdahl M, Taccetta C, Batlle D. Paricalcitol versus calcitriol in the treatment of "
        "secondary hyperparathyroidism. Kidney Int 2003;63:1483-1490"
    ),
    "Padhi2009Cinacalcet": (
        "Padhi D, Harris R. Clinical pharmacokinetic and pharmacodynamic profile of cinacalcet hydrochloride. "
        "Clin Pharmacokinet 2009;48:303-311 (Tmax 2-6 h, F 20-25 %, t1/2 30-40 h, steady state within 7 days)"
    ),
    "SensiparLabel": (
        "Sensipar/Mimpara (cinacalcet) prescribing information / SmPC, Amgen (biphasic decline, initial t1/2 ~6 h, "
        "terminal 30-40 h; Vd ~1000 L)"
    ),
    "ParsabivLabel": (
        "Parsabiv (etelcalcetide) prescribing information / SmPC, Amgen (Vss ~796 L, HD clearance 7.66 L/h, "
        "effective t1/2 3-5 days, 2-3x accumulation by 4 weeks)"
    ),
    "Edson2016": (
        "Edson KZ, Wu BM, Iyer A, et al. Determination of etelcalcetide biotransformation and hemodialysis kinetics "
        "to guide the timing of its dosing. Kidney Int Rep 2016;1:24-33"
    ),
    "Subramanian2017": (
        "Subramanian R, Zhu X, Hock MB, et al. Pharmacokinetics, biotransformation, and excretion of "
        "[14C]etelcalcetide (AMG 416) following a single microtracer intravenous dose in patients with chronic "
        "kidney disease on hemodialysis. Clin Pharmacokinet 2017;56:179-192. doi:10.1007/s40262-016-0433-0"
    ),
    "Chen2016CaSR": (
        "Chen P, Melhem M, Xiao J, Kuchimanchi M, Perez Ruixo JJ. Population pharmacokinetics and "
        "pharmacodynamics of the calcimimetic etelcalcetide in chronic kidney disease and secondary "
        "hyperparathyroidism receiving hemodialysis. CPT Pharmacometrics Syst Pharmacol 2016;5:484-494"
    ),
    "Block2004": (
        "Block GA, Martin KJ, de Francisco ALM, et al. Cinacalcet for secondary hyperparathyroidism in patients "
        "receiving hemodialysis. N Engl J Med 2004;350:1516-1525"
    ),
})


def format_citations(keys: list[str] | tuple[str, ...] | set[str]) -> list[str]:
    """Full references for ``keys`` in a stable order; unknown keys are an error (a typo must not pass)."""
    unknown = [k for k in keys if k not in CITATIONS and k != "assumed"]
    if unknown:
        raise KeyError(f"unknown citation keys: {', '.join(unknown)}")
    return [f"[{k}] {CITATIONS[k]}" for k in sorted(keys) if k != "assumed"]
