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
    # --- calcification (issue 10) ---
    "Hermans2007": (
        "Hermans MMH, Brandenburg V, Ketteler M et al. Association of serum fetuin-A levels with mortality in "
        "dialysis patients (NECOSAD). Kidney Int 2007;72(2):202-207 (fetuin-A HD 0.60 vs PD 0.72 g/L)"
    ),
    "Pasch2012": (
        "Pasch A, Farese S, Graber S et al. Nanoparticle-based test measures overall propensity for calcification "
        "in serum. J Am Soc Nephrol 2012;23:1744-1752. doi:10.1681/ASN.2012030240"
    ),
    "BMCNephrol2023T50": (
        "Assessment of a serum calcification propensity test for the prediction of all-cause mortality among "
        "hemodialysis patients (n 776; T50 269.6 vs 287.7 min). BMC Nephrol 2023. doi:10.1186/s12882-023-03069-6"
    ),
    "Dekker2016": (
        "Dekker M, Pasch A, van der Sande F et al. High-flux hemodialysis and high-volume hemodiafiltration improve "
        "serum calcification propensity (T50 pre 244 -> post 301 min). PLoS One 2016;11(4):e0151508. "
        "doi:10.1371/journal.pone.0151508"
    ),
    "Bundy2019": (
        "Bundy JD, Cai X, Mehta RC et al. Serum calcification propensity and clinical events in CKD (CRIC, mean T50 "
        "313 min). Clin J Am Soc Nephrol 2019;14:1562-1571. doi:10.2215/CJN.04710419"
    ),
}


def format_citations(keys: list[str] | tuple[str, ...] | set[str]) -> list[str]:
    """Full references for ``keys`` in a stable order; unknown keys are an error (a typo must not pass)."""
    unknown = [k for k in keys if k not in CITATIONS and k != "assumed"]
    if unknown:
        raise KeyError(f"unknown citation keys: {', '.join(unknown)}")
    return [f"[{k}] {CITATIONS[k]}" for k in sorted(keys) if k != "assumed"]
