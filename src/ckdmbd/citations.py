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
    "Bergmann1983": (
        "Bergmann P, Paternot T, Schoutens A. Calcium accretion rate and exchangeable pool in 7 body areas by "
        "whole-body counting after 47Ca (accretion 336 +- 115 mg/24 h, exchangeable pool 5668 +- 1221 mg). Calcif "
        "Tissue Int 1983;35:21-28. doi:10.1007/BF02405001"
    ),
    "Agerbaek1991": (
        "A reconstruction of the remodelling cycle in normal human cortical iliac bone (resorptive period 27 days, "
        "mineralisation lag 8 days, formative period 89 days). Bone and Mineral 1991 Feb;(2):101-112. "
        "https://publichealth.ku.dk (Aarhus/Copenhagen group record 4ec61cd9-d3bc-47fb-9f49-46f450a20b77)"
    ),
    "PTXCalciumNeeds2008": (
        "Quantification of calcium needs after successful subtotal parathyroidectomy in 42 CKD 5D patients: median "
        "elemental calcium 3.2 g/day in week 1 (80 mmol), 2.4 g/day in week 6. S. Karger AG 2008 (PMID 18758187)"
    ),
    "Ho2017HungryBone": (
        "Ho LY, Wong PN, Sin HK et al. Risk factors and clinical course of hungry bone syndrome after total "
        "parathyroidectomy in dialysis patients with secondary hyperparathyroidism. BMC Nephrol 2017;18:12. "
        "doi:10.1186/s12882-016-0421-5 (calcium falls for ~2 weeks to its trough while ALP peaks)"
    ),
}


def format_citations(keys: list[str] | tuple[str, ...] | set[str]) -> list[str]:
    """Full references for ``keys`` in a stable order; unknown keys are an error (a typo must not pass)."""
    unknown = [k for k in keys if k not in CITATIONS and k != "assumed"]
    if unknown:
        raise KeyError(f"unknown citation keys: {', '.join(unknown)}")
    return [f"[{k}] {CITATIONS[k]}" for k in sorted(keys) if k != "assumed"]
