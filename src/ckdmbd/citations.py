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
    # --- fluid and ionised calcium (issue 10) ---------------------------------------------------------------
    "Pedersen1971": (
        "Pedersen KO. Binding of calcium to serum albumin: 12 +- 1 identical independent sites, association "
        "constant 90-100 L/mol at 37 degC, pH 7.4, ionic strength 0.15-0.16 (ultrafiltration and "
        "spectrophotometry). Scand J Clin Lab Invest 1971 (abstract: scilit.net/publications/"
        "f8581d3cc9f835c5b0d834938f01f4d5; author and journal as in the field notes)"
    ),
    "Moore1970": (
        "Moore EW. Ionized calcium in normal serum, ultrafiltrates, and whole blood determined by ion-exchange "
        "electrodes. J Clin Invest 1970;49:318-334 (PMID 4983663; about 81 % of protein-bound calcium on albumin, "
        "19 % on globulins)"
    ),
    "CalciumFractions2007": (
        "Higgins C. Ionized calcium. acutecaretesting.org, July 2007: of plasma calcium about 40 % protein-bound, "
        "10 % complexed with anions (bicarbonate, lactate, phosphate...), 50 % free ionised"
    ),
    "IonizedCalciumPH": (
        "Log-linear pH adjustment of serum ionised calcium, iCa(7.4) = iCa(pH) x 10^(-0.178 (7.4 - pH)) "
        "(MedicalAlgorithms, 'Adjusting ionized calcium for pH'); in vivo -0.05 +- 0.02 mmol/L per +0.1 pH in "
        "hyperventilation (Determination of ionized calcium in serum by use of an ion-selective electrode, Clin Chem "
        "1978); serum ionised calcium at pH 7.40 1.184 +- 0.054 mmol/L (2 SD; Clin Chem 1978;24:1545)"
    ),
    "Watson1980": (
        "Watson PE, Watson ID, Batt RD. Total body water volumes for adult males and females estimated from simple "
        "anthropometric measurements. Am J Clin Nutr 1980;33:27-39 (men: 2.447 - 0.09516 age + 0.1074 height + "
        "0.3362 weight; women: -2.097 + 0.1069 height + 0.2466 weight; L, years, cm, kg)"
    ),
    "Sherman1995": (
        "Sherman RA, Cody RP, Rogers ME, Solanchick JC. Relation between interdialytic weight gain, body weight and "
        "nutrition in hemodialysis patients (309 patients: IDWG 2.8 +- 1.2 kg, men 4.2 +- 1.8 %, women 3.9 +- 1.9 % "
        "of dry weight). Am J Nephrol 1995;15:16-21 (authors and journal from memory; abstract read)"
    ),
    "Guyton": (
        "Hall JE. Guyton and Hall Textbook of Medical Physiology (body fluid compartments: of ~40 L total body water "
        "in a 70-kg man about 15 L extracellular, i.e. about 1/3)"
    ),
}


def format_citations(keys: list[str] | tuple[str, ...] | set[str]) -> list[str]:
    """Full references for ``keys`` in a stable order; unknown keys are an error (a typo must not pass)."""
    unknown = [k for k in keys if k not in CITATIONS and k != "assumed"]
    if unknown:
        raise KeyError(f"unknown citation keys: {', '.join(unknown)}")
    return [f"[{k}] {CITATIONS[k]}" for k in sorted(keys) if k != "assumed"]
