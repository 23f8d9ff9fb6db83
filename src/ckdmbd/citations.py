"""Citations: every parameter source and every submodel names one of these keys.

``ckdmbd citations`` (and ``Result.citations``) lists the references a run relied on; ``ckdmbd citations
--bibtex`` writes them as BibTeX from the field-by-field records in :data:`REFERENCES`.
"""

from dataclasses import dataclass

CITATIONS: dict[str, str] = {
    "PetersonRiggs2010": (
        "Peterson MC, Riggs MM. A physiologically based mathematical model of integrated calcium homeostasis "
        "and bone remodeling. Bone 2010;46(1):49-63. doi:10.1016/j.bone.2009.08.053"
    ),
    "BIOMD0000000613": (
        "BioModels BIOMD0000000613: Peterson2010 - Integrated calcium homeostasis and bone remodelling "
        "(SBML L3V1 encoding of PetersonRiggs2010; CC0; https://identifiers.org/biomodels.db/BIOMD0000000613)"
    ),
    "OpenBoneMin": (
        "Riggs MM, Baron KT et al. OpenBoneMin: R package of the Peterson-Riggs model, Metrum Research Group, "
        "https://github.com/metrumresearchgroup/OpenBoneMin (calcitriol/PTmax EC50 fix 2015; GFR decline)"
    ),
    "Lemaire2004": (
        "Lemaire V, Tobin FL, Greller LD, Cho CR, Suva LJ. Modeling the interactions between osteoblast and "
        "osteoclast activities in bone remodeling. J Theor Biol 2004;229(3):293-309. doi:10.1016/j.jtbi.2004.03.023 "
        "(PMID 15234198)"
    ),
    "ACOP2020FGF23": (
        "Riggs MM, Ball K, Komatsu K, Yamada Y. FGF23/phosphate extension of OpenBoneMin (ACOP 2020 poster), "
        "OpenBoneMin inst/community/fgf-phos"
    ),
    "Armas2013": (
        "Armas LAG, Zena M, Lund R, Heaney RP. Calcium absorption response to cholecalciferol supplementation in "
        "hemodialysis. Clin J Am Soc Nephrol 2013;8(6):1003-1008. doi:10.2215/CJN.08610812 (PMID 23411428; median "
        "fractional calcium absorption 12 %, IQR 7-17 %)"
    ),
    "HeaneyAbrams2004": (
        "Heaney RP, Abrams SA. Improved estimation of the calcium content of total digestive secretions. J Clin "
        "Endocrinol Metab 2004;89(3):1193-1195 (http://jcem.endojournals.org/cgi/content/full/89/3/1193)"
    ),
    "Daugirdas2011PBE": (
        "Daugirdas JT, Finn WF, Emmett M, Chertow GM. The phosphate binder equivalent dose. Semin Dial "
        "2011;24:41-49"
    ),
    "Agar2011": (
        "Agar BU, Akonur A, Lo YC, Cheung AK, Leypoldt JK. Kinetic model of phosphorus mobilization during and after "
        "short and conventional hemodialysis. Clin J Am Soc Nephrol 2011;6:2854-2860 (abstract: "
        "https://www.biocloudy.com/literatureDetail/NDExNzk3Nw==)"
    ),
    "Gotch2007": (
        "Gotch FA, Kotanko P, Thijssen S, Levin NW. The KDIGO guideline for dialysate calcium will result in an "
        "increased incidence of calcium accumulation in hemodialysis patients. Kidney Int 2010;78(4):343-350. "
        "doi:10.1038/ki.2010.157 (PMID 20520595); and Gotch F et al., Blood Purif 2007 (calcium mass balance model)"
    ),
    "Gotch2010": (
        "Gotch FA, Kotanko P, Thijssen S, Levin NW. Kidney Int 2010;78:343-350. doi:10.1038/ki.2010.157 (PMID "
        "20520595; 76 % of dialyzer calcium flux from/to the rapidly miscible pool)"
    ),
    "Pirklbauer2021": (
        "Pirklbauer M, Bushinsky DA, Kotanko P, Schappacher-Tilp G. Personalized prediction of short- and long-term "
        "PTH changes in maintenance hemodialysis patients. Front Med 2021;8:704970. doi:10.3389/fmed.2021.704970"
    ),
    "SchappacherTilp2019": (
        "Schappacher-Tilp G, Cherif A, Fuertinger DH, Bushinsky D, Kotanko P. A mathematical model of parathyroid "
        "gland biology. Physiol Rep 2019;7(7):e14045. doi:10.14814/phy2.14045 (PMID 30927339)"
    ),
    "BloodPurif2013HDF": (
        "Phosphorus kinetics during hemodiafiltration: analysis using a pseudo-one-compartment model (dialyzer "
        "phosphate clearance HD 160 +- 14 mL/min). "
        "Blood Purif 2013;35 Suppl 1:59-63. doi:10.1159/000346356 (PMID 23466381)"
    ),
    "KDIGO2017": (
        "KDIGO 2017 Clinical Practice Guideline Update for the Diagnosis, Evaluation, Prevention, and Treatment of "
        "CKD-MBD. Kidney Int Suppl 2017;7(1):1-59. doi:10.1016/j.kisu.2017.04.001"
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
    "Hanna2022RenalCalcium": (
        "Hanna RM, Ahdoot RS, Kalantar-Zadeh K, Ghobry L, Kurtz I. Calcium transport in the kidney and disease "
        "processes. Front Endocrinol 2022;12:762130. doi:10.3389/fendo.2021.762130 (PMID 35299844)"
    ),
    "YuCurry2024": (
        "Yu ASL, Curry JN. Paracellular transport and renal tubule calcium handling. J Am Soc Nephrol 2024. "
        "doi:10.1681/ASN.0000000506"
    ),
    "Granjon2017": (
        "Granjon D, Bonny O, Edwards A. Coupling between phosphate and calcium homeostasis: a mathematical model. "
        "Am J Physiol Renal Physiol 2017;313:F1181-F1199. doi:10.1152/ajprenal.00271.2017"
    ),
    "Gosmanova2022": (
        "Gosmanova EO et al. Tubular phosphate reabsorption and fractional excretion of phosphate across CKD stages "
        "(387 patients). Kidney Week (ASN) 2022 abstract"
    ),
    "Khosravi2007": (
        "Khosravi A, Cutler CM, Kelly MH et al. Determination of the elimination half-life of fibroblast growth "
        "factor-23. J Clin Endocrinol Metab 2007;92:2374-2377. doi:10.1210/jc.2006-2865"
    ),
    "VanAncum2017FGF23": (
        "van Ancum PMG, Heijboer AC, de Jongh RT et al. Renal extraction of FGF23 in humans. Am J Physiol Renal "
        "Physiol 2017;312:F254-F258 (kidney extracts ~22 % per pass at eGFR 60; no splanchnic removal)"
    ),
    "Rotondi2015": (
        "Rotondi S, Pasquali M, Tartaglione L et al. Soluble alpha-Klotho serum levels in chronic kidney disease. "
        "Int J Endocrinol 2015;2015:872193 (PMID 25873958)"
    ),
    "Urena1995RenalPTHReceptor": (
        "Urena P et al. Parathyroidectomy does not prevent the renal PTH/PTHrP receptor down-regulation in uremic "
        "rats. Kidney Int 1995;47:1797-1805"
    ),
    "EndocrConnect2019TIO": (
        "Tumor-induced osteomalacia: experience from three tertiary care centres in India (30 patients; mean serum "
        "phosphate 0.50 mmol/L, median FGF23 518 RU/mL; corresponding author Bhadada S). Endocr Connect 2019;8(3). "
        "https://ec.bioscientifica.com/view/journals/ec/8/3/EC-18-0552.xml"
    ),
    "Block2017Etelcalcetide": (
        "Block GA, Bushinsky DA, Cunningham J, et al. Effect of etelcalcetide vs placebo on serum parathyroid hormone "
        "in patients receiving hemodialysis with secondary hyperparathyroidism: two randomized clinical trials. "
        "JAMA 2017;317:146-155. doi:10.1001/jama.2016.19456 (PMID 28097355)"
    ),
    "Bhan2006": (
        "Bhan I, Shah A, Holmes J et al. Post-transplant hypophosphatemia: tertiary 'hyper-phosphatoninism'? "
        "Kidney Int 2006;70:1486-1494. doi:10.1038/sj.ki.5001788"
    ),
    "FrontEndocrinol2021FGF23": (
        "Regulation of FGF23 production: phosphate, calcitriol, PTH, iron and inflammation (review). Front "
        "Endocrinol 2021;12:588096"
    ),
    "Silver1986": (
        "Silver J, Naveh-Many T, Mayer H, Schmelzer HJ, Popovtzer MM. Regulation by vitamin D metabolites of "
        "parathyroid hormone gene transcription in vivo in the rat. J Clin Invest 1986;78:1296-1301 "
        "(https://www.jci.org/articles/view/112714)"
    ),
    "Brandi2002": (
        "Brandi L, Egfjord M, Olgaard K. Pharmacokinetics of 1,25(OH)2D3 and 1alpha(OH)D3 in normal and uraemic "
        "men. Nephrol Dial Transplant 2002;17:829-842. doi:10.1093/ndt/17.5.829"
    ),
    "Fukagawa1999": (
        "Fukagawa M. Cell biology of parathyroid hyperplasia in uremia (nodular hyperplasia has a lower density of "
        "calcitriol receptor and calcium-sensing receptor than diffuse hyperplasia). Am J Med Sci 1999;317(6):377-382"
    ),
    "Gogusev1997": (
        "Gogusev J, Duchambon P, Hory B et al. Depressed expression of calcium receptor in parathyroid gland tissue "
        "of patients with hyperparathyroidism. Kidney Int 1997;51(1):328-336. doi:10.1038/ki.1997.41 (PMID 8995751)"
    ),
    "Nefrologia2010": (
        "Parathyroid glands of haemodialysis patients studied in vivo and in vitro: set point and minimal secretion "
        "(~30 % of maximal) of hyperplastic glands. Nefrologia 2010;30:73 (field note, author unconfirmed)"
    ),
    "JIntMedRes2013": (
        "Calcium-sensing receptor labelling index in nodular (12.8 +- 1.5 %), diffuse (23.3 +- 1.8 %) and normal "
        "(26.8 +- 0.8 %) parathyroid tissue. J Int Med Res 2013;41:97"
    ),
    "Goodman1995": (
        "Goodman WG, Belin T, Gales B et al. Calcium-regulated parathyroid hormone release in patients with mild or "
        "advanced secondary hyperparathyroidism. Kidney Int 1995;48:1553-1558 (abstract: "
        "http://www.hdcn.com/5/511kigoo.htm)"
    ),
    "Elias2018": (
        "Elias RM et al. Intradialytic phosphate kinetics: -47 +- 14 % at 1 h, -45 +- 11 % at 4 h (as cited in the "
        "ckdmbd field notes; read the original before relying on the numbers)"
    ),
    # --- literature validation cases (src/ckdmbd/validation/cases/) ---
    "Zehnder2007CRIB": (
        "Zehnder D, Landray MJ, Wheeler DC, Fraser W, Blackwell L, Nuttall S, Hughes SV, Townend J, Ferro C, "
        "Baigent C, Hewison M. Cross-sectional analysis of abnormalities of mineral homeostasis, vitamin D and "
        "parathyroid hormone in a cohort of pre-dialysis patients. The Chronic Renal Impairment in Birmingham (CRIB) "
        "study. Nephron Clin Pract 2007 (https://www.cardioscience.ox.ac.uk/publications/33984)"
    ),
    "KoreanJNephrol1997Calcitriol": (
        "Oral calcitriol therapy in hemodialysis patients with secondary hyperparathyroidism: the effect of dose "
        "adjustment according to therapeutic responses. Korean J Nephrol 1997;16(2):323-330 (KoreaMed 2254847)"
    ),
    "Fine2003": (
        "Fine A, Penner B. Biochemical effects of high dialysate calcium in hemodialysis patients with "
        "hyperparathyroidism: a 10-month study. ASAIO J 2003;49(1). doi:10.1097/00002480-200301000-00011"
    ),
    "Block2004": (
        "Block GA, Martin KJ, de Francisco ALM, et al. Cinacalcet for secondary hyperparathyroidism in patients "
        "receiving hemodialysis. N Engl J Med 2004;350:1516-1525. doi:10.1056/NEJMoa031633"
    ),
    "LorentePoch2015": (
        "Lorente-Poch L, Sancho JJ, Munoz-Nova JL, Sanchez-Velazquez P, Sitges-Serra A. Defining the syndromes of "
        "parathyroid failure after total thyroidectomy. Gland Surg 2015 "
        "(https://gs.amegroups.org/article/view/5619)"
    ),
    "Evenepoel2008": (
        "Evenepoel P, Meijers BKI, de Jonge H, et al. Recovery of hyperphosphatoninism and renal phosphorus wasting "
        "one year after successful renal transplantation. Clin J Am Soc Nephrol 2008;3:1829-1836. "
        "doi:10.2215/CJN.01310308 (PMID 18922992)"
    ),
    "VanLonden2017": (
        "van Londen M, Aarts BM, Deetman PE, et al. Post-transplant hypophosphatemia and the risk of death-censored "
        "graft failure and mortality after kidney transplantation. Clin J Am Soc Nephrol 2017;12:1301-1310. "
        "doi:10.2215/CJN.10270916 (PMID 28546442)"
    ),
    "Elias2018KBPR": (
        "Elias RM, Alvares VRC, Moyses RMA. Phosphate removal during conventional hemodialysis: a decades-old "
        "misconception. Kidney Blood Press Res 2018;43:110-114. doi:10.1159/000487108 (PMID 29414834)"
    ),
    "Wang2012": (
        "Wang M, Li H, Liao H, et al. Phosphate removal model: an observational study of low-flux dialyzers in "
        "conventional hemodialysis therapy. Hemodial Int 2012;16:363-376. doi:10.1111/j.1542-4758.2012.00678.x"
    ),
    "VanCamp2014": (
        "Van Camp YPM, Vrijens B, Abraham I, Van Rompaey B, Elseviers MM. Adherence to phosphate binders in "
        "hemodialysis patients: prevalence and determinants (electronic pill-bottle monitoring, MEMS). J Nephrol "
        "2014;27(6). doi:10.1007/s40620-014-0062-3"
    ),
    "Sigrist2005": (
        "Sigrist MK, Devlin L, Taal MW, Fluck RJ, McIntyre CW. Length of interdialytic interval influences serum "
        "calcium and phosphorus concentrations. Nephrol Dial Transplant 2005;20:1643-1646. doi:10.1093/ndt/gfh874"
    ),
    "Stremke2022": (
        "Stremke ER, Trevino L, Doshi S, Moorthi RN, Hill Gallant KM, Moe SM. Postdialysis serum phosphate "
        "equilibrium in hemodialysis patients on a controlled diet and no binders. Hemodial Int 2022;26:255-263. "
        "doi:10.1111/hdi.12999"
    ),
    "SeedCaseReport": (
        "Case report: calcified gluteal mass in a patient on haemodialysis for 11 years, 18 months after "
        "parathyroidectomy with forearm autotransplantation (the project's seed case, "
        "shared/seed/case-report-calcified-gluteal-mass.txt; the text gives no bibliographic details)"
    ),
    "PhysicalInvariant": (
        "Physical invariant, not a measurement: an amount of mineral in a body compartment cannot be negative; and "
        "soft-tissue calcification of tumoral size affects a small minority of dialysis patients (Steinbach 1995)"
    ),
    "Daugirdas2018": (
        "Daugirdas JT. A two-pool kinetic model predicts phosphate concentrations during and shortly following a "
        "conventional (three times weekly) hemodialysis session. Nephrol Dial Transplant 2018;33:76-84 "
        "(doi:10.1093/ndt/gfw347, PMID 27738228)"
    ),
    "Leypoldt2013": (
        "Leypoldt JK, Agar BU, Akonur A, Hutchcraft AM, Story KO, Culleton BF. Determinants of phosphorus "
        "mobilization during hemodialysis. Kidney Int 2013 (doi:10.1038/ki.2013.205)"
    ),
    "COSMOS2019": (
        "Fernandez-Martin JL et al. Serum phosphate optimal timing and range associated with patients survival in "
        "haemodialysis: the COSMOS study. Nephrol Dial Transplant 2019;34:673-681 (doi:10.1093/ndt/gfy093, "
        "PMID 29741651)"
    ),
    # --- fluid and ionised calcium (issue 10) ---------------------------------------------------------------
    "Pedersen1971": (
        "Pedersen KO. Binding of calcium to serum albumin: 12 +- 1 identical independent sites, association "
        "constant 90-100 L/mol at 37 degC, pH 7.4, ionic strength 0.15-0.16 (ultrafiltration and "
        "spectrophotometry). Scand J Clin Lab Invest 1971 (abstract: https://www.scilit.net/publications/"
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
        "of dry weight). Am J Nephrol 1995;15:16-21 (title and numbers checked against the abstract, "
        "https://www.scilit.net/publications/cdeb7e973961ae42766e7995c947136c; authors and journal as in the field "
        "notes)"
    ),
    "Guyton": (
        "Hall JE. Guyton and Hall Textbook of Medical Physiology (body fluid compartments: of ~40 L total body water "
        "in a 70-kg man about 15 L extracellular, i.e. about 1/3)"
    ),
    # --- calcification (issue 10) ---
    "Hermans2007": (
        "Hermans MMH, Brandenburg V, Ketteler M et al. Association of serum fetuin-A levels with mortality in "
        "dialysis patients (NECOSAD). Kidney Int 2007;72(2):202-207 (fetuin-A HD 0.60 vs PD 0.72 g/L; "
        "https://cris.maastrichtuniversity.nl/en/publications/association-of-serum-fetuin-a-levels-with-mortality-in-"
        "dialysis-p)"
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
    "Parfitt1976": (
        "Parfitt AM. The actions of parathyroid hormone on bone: relation to bone remodeling and turnover, calcium "
        "homeostasis, and metabolic bone disease. Part I: mechanisms of calcium transfer between blood and bone. "
        "Metabolism 1976;25(7):809-844"
    ),
    "TalmageMobley2008": (
        "Talmage RV, Mobley HT. Calcium homeostasis: reassessment of the actions of parathyroid hormone. Gen Comp "
        "Endocrinol 2008;156(1):1-8"
    ),
    "Massry1976": (
        "Massry SG, Stein R, Garty J, et al. Skeletal resistance to the calcemic action of parathyroid hormone in "
        "uremia: role of 1,25(OH)2D3. Kidney Int 1976;9(6):467-474"
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


# --- vitamin D as prescribed and calcimimetics (issue 9, items 5-6) ---
CITATIONS.update({
    "Jones2014VitD": (
        "Jones KS, Assar S, Harnpanich D, et al. 25(OH)D2 half-life is shorter than 25(OH)D3 half-life and is "
        "influenced by DBP concentration and genotype. J Clin Endocrinol Metab 2014;99:3373-3381 "
        "(25(OH)D3 t1/2 15.1 +- 3.1 d, 25(OH)D2 13.9 +- 2.6 d; https://research-portal.uea.ac.uk/en/publications/"
        "25ohd2-half-life-is-shorter-than-25ohd3-half-life-and-is-influenc)"
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
        "substrate dependent. PMCID PMC8558908, https://pmc.ncbi.nlm.nih.gov/articles/PMC8558908 (authors not "
        "checked here)"
    ),
    "ZemplarLabel": (
        "Zemplar (paricalcitol) capsules and injection, US prescribing information, AbbVie (pharmacokinetics: "
        "F 72 % healthy / 79 % HD, Vd 34 L, t1/2 4-6 h healthy, 14-20 h CKD 3-5, >= 99.8 % bound)"
    ),
    "Lund2010": (
        "Lund RJ, Andress DL, Amdahl M, Williams LA, Heaney RP. Differential effects of paricalcitol and calcitriol "
        "on intestinal calcium absorption in hemodialysis patients. Am J Nephrol 2010;31(2):165-170 "
        "(https://creighton.pure.elsevier.com/en/publications/differential-effects-of-paricalcitol-and-calcitriol-on-"
        "intestinal)"
    ),
    "ACTIVE2019CKDMBD": (
        "ACTIVE Dialysis investigators. Effect of extended hours dialysis on markers of chronic kidney disease-"
        "mineral and bone disorder in the ACTIVE Dialysis study. BMC Nephrol 2019;20 (doi:10.1186/s12882-019-1438-3)"
    ),
    "Joy2003Lanthanum": (
        "Joy MS, Finn WF. Randomized, double-blind, placebo-controlled, dose-titration, phase III study assessing the "
        "efficacy and tolerability of lanthanum carbonate: a new phosphate binder for the treatment of "
        "hyperphosphatemia. Am J Kidney Dis 2003;42(1):96-107 (doi:10.1016/s0272-6386(03)00554-7)"
    ),
    "Daugirdas2012FHN": (
        "Daugirdas JT, Chertow GM, Larive B, et al.; Frequent Hemodialysis Network (FHN) Trial Group. Effects of "
        "frequent hemodialysis on measures of CKD mineral and bone disorder. J Am Soc Nephrol 2012;23(4):727-738 "
        "(doi:10.1681/ASN.2011070688)"
    ),
    "Hansen2012FGF23": (
        "Hansen D, Rasmussen K, Pedersen SM, Rasmussen LM, Brandi L. Changes in fibroblast growth factor 23 during "
        "treatment of secondary hyperparathyroidism with alfacalcidol or paricalcitol. Nephrol Dial Transplant "
        "2012;27(6):2263-2269 (doi:10.1093/ndt/gfr668)"
    ),
    "Sprague2003": (
        "Sprague SM, Llach F, Amdahl M, Taccetta C, Batlle D. Paricalcitol versus calcitriol in the treatment of "
        "secondary hyperparathyroidism. Kidney Int 2003;63:1483-1490"
    ),
    "Padhi2009Cinacalcet": (
        "Padhi D, Harris R. Clinical pharmacokinetic and pharmacodynamic profile of cinacalcet hydrochloride. "
        "Clin Pharmacokinet 2009;48:303-311 (Tmax 2-6 h, F 20-25 %, t1/2 30-40 h, steady state within 7 days; "
        "https://www.mendeley.com/research-papers/clinical-pharmacokinetic-pharmacodynamic-profile-cinacalcet-"
        "hydrochloride/)"
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
        "Edson KZ, Wu BM, Iyer A, Goodman W, Skiles GL, Subramanian R. Determination of etelcalcetide "
        "biotransformation and hemodialysis kinetics to guide the timing of its dosing. Kidney Int Rep "
        "2016;1(1):24-33. doi:10.1016/j.ekir.2016.04.002"
    ),
    "Subramanian2017": (
        "Subramanian R, Zhu X, Hock MB, et al. Pharmacokinetics, biotransformation, and excretion of "
        "[14C]etelcalcetide (AMG 416) following a single microtracer intravenous dose in patients with chronic "
        "kidney disease on hemodialysis. Clin Pharmacokinet 2017;56:179-192. doi:10.1007/s40262-016-0433-0"
    ),
    "Chen2016CaSR": (
        "Chen P, Olsson Gisleskog P, Perez-Ruixo JJ, Xiao J, Wilkins J, Narayanan A, Gibbs JP, Melhem M. Population "
        "pharmacokinetics and pharmacodynamics of the calcimimetic etelcalcetide in chronic kidney disease and "
        "secondary hyperparathyroidism receiving hemodialysis. CPT Pharmacometrics Syst Pharmacol 2016;5(9):484-494. "
        "doi:10.1002/psp4.12106 (PMID 27639083)"
    ),
})


SAME_PAPER: dict[str, str] = {
    # key -> the key whose entry already cites the same paper (the parameter files use both keys)
    "Gotch2010": "Gotch2007",  # both entries: Gotch FA et al. Kidney Int 2010;78:343-350
}
"""Keys that cite a paper another key already cites: a list of references shows the paper once."""


def format_citations(keys: list[str] | tuple[str, ...] | set[str]) -> list[str]:
    """Full references for ``keys`` in a stable order, each paper once (:data:`SAME_PAPER`: "[Gotch2007,
    Gotch2010] ..."); unknown keys are an error (a typo must not pass)."""
    unknown = [k for k in keys if k not in CITATIONS and k != "assumed"]
    if unknown:
        raise KeyError(f"unknown citation keys: {', '.join(unknown)}")
    papers: dict[str, list[str]] = {}
    for k in sorted(keys):
        if k != "assumed":
            papers.setdefault(SAME_PAPER.get(k, k), []).append(k)
    return [f"[{', '.join(sorted(aliases))}] {CITATIONS[main]}" for main, aliases in sorted(papers.items())]


def run_citation_keys(result) -> set[str]:
    """The citation keys of what one run used (issue 14: per run, not per configuration).

    A submodel counts when the run used it: it has no processes of its own (an algebraic link such as the
    extracellular concentrations), one of its process rates is non-zero at some output time, or an event of the
    run sets one of its parameters or its own states (a drug, a dialysis schedule, a calcification site). The run's
    submodels are cited, and the sources of the parameters they read (directly, or through their ``derive``
    step, whose reads are recorded); a ``ckd-progression`` run without dialysis cites no dialysis paper.
    ``result`` is a :class:`ckdmbd.simulation.Result`.
    """
    import numpy as np

    model, pset = result.model, result.parameters
    outputs = result.outputs()
    set_parameters: set[str] = set()
    set_states: set[str] = set()
    for event in result.events:
        for action in event.actions(model.state_names):
            if hasattr(action, "state"):
                set_states.add(action.state)
            else:
                set_parameters.add(getattr(action, "name", ""))
    keys: set[str] = set()
    for sm in model.submodels:
        rates = [p.rate for p in sm.processes if p.rate in outputs]
        state_names = {s.name for s in sm.states}
        used = (not sm.processes
                or any(np.any(outputs[r].to_numpy() != 0.0) for r in rates)
                or bool(set_parameters & set(sm.inputs)) or bool(set_states & state_names))
        if not used:
            continue
        keys.update(sm.citations)
        read = {name for name in sm.inputs if name in pset}
        if sm.derive is not None:
            read |= _derive_reads(sm.derive, pset)
        keys.update(pset.record(name).source for name in read)
    keys.discard("assumed")
    return keys


def _derive_reads(derive, pset) -> set[str]:
    """The parameters a submodel's ``derive`` step reads (it is called once with a recording mapping)."""
    from collections.abc import Mapping

    class Recording(Mapping):
        def __init__(self) -> None:
            self.read: set[str] = set()

        def __getitem__(self, name):
            self.read.add(name)
            return pset[name]

        def __iter__(self):
            return iter(pset)

        def __len__(self) -> int:
            return len(pset)

    recording = Recording()
    try:
        derive(recording)
    except Exception:  # a derive step that cannot run on its own: cite every parameter it may read
        return set(pset)
    return recording.read & set(pset)


# --- structured records: BibTeX (``ckdmbd citations --bibtex``, issue 14) ---------------------------------------

KINDS = {
    "article": "a journal article",
    "unlinked": "a journal article whose DOI or PMID could not be verified with the project's search tools (older "
                "papers, no record found): journal, year, volume and pages are given instead",
    "book": "a book or textbook (no DOI of its own)",
    "abstract": "a conference abstract or poster (no DOI)",
    "label": "a drug's prescribing information / SmPC (a regulatory document, no DOI)",
    "web": "a web page (no DOI)",
    "software": "a software package",
    "model": "a curated model in a model repository",
    "secondary": "cited as in the project's field notes: the original was not located, its details are unchecked",
    "case": "the project's seed case report (the text gives no bibliographic details)",
    "invariant": "a physical invariant, not a publication",
}
"""What a record is; every kind but ``article`` says why it may have no DOI or PMID."""


@dataclass(frozen=True)
class Reference:
    """One reference, field by field, for BibTeX. ``authors`` in Vancouver style ("Peterson MC"; "others" for et
    al.; a group name as it is); ``journal``: the journal, or a book's or label's publisher, a web page's site;
    ``kind``: a key of :data:`KINDS`; ``note``: what the project takes from it, or why details are missing."""

    authors: tuple[str, ...]
    title: str
    journal: str = ""
    year: int | None = None
    volume: str = ""
    number: str = ""
    pages: str = ""
    doi: str = ""
    pmid: str = ""
    url: str = ""
    kind: str = "article"
    note: str = ""


def _r(authors: str, title: str, journal: str = "", year: int | None = None, volume: str = "", pages: str = "",
       **kw: str) -> Reference:
    """A record from a comma-separated author list (compact table below)."""
    return Reference(tuple(a.strip() for a in authors.split(",") if a.strip()), title, journal, year, volume,
                     pages=pages, **kw)


REFERENCES: dict[str, Reference] = {
    "PetersonRiggs2010": _r("Peterson MC, Riggs MM", "A physiologically based mathematical model of integrated "
                            "calcium homeostasis and bone remodeling", "Bone", 2010, "46", "49-63", number="1",
                            doi="10.1016/j.bone.2009.08.053"),
    "BIOMD0000000613": _r("BioModels", "Peterson2010 - Integrated calcium homeostasis and bone remodelling",
                          "BioModels Database", kind="model",
                          url="https://identifiers.org/biomodels.db/BIOMD0000000613",
                          note="SBML L3V1 encoding of Peterson and Riggs 2010; CC0"),
    "OpenBoneMin": _r("Riggs MM, Baron KT, others", "OpenBoneMin: R package of the Peterson-Riggs model",
                      "Metrum Research Group", kind="software",
                      url="https://github.com/metrumresearchgroup/OpenBoneMin",
                      note="calcitriol/PTmax EC50 fix (2015); GFR decline"),
    "Lemaire2004": _r("Lemaire V, Tobin FL, Greller LD, Cho CR, Suva LJ", "Modeling the interactions between "
                      "osteoblast and osteoclast activities in bone remodeling", "J Theor Biol", 2004, "229",
                      "293-309", number="3", doi="10.1016/j.jtbi.2004.03.023", pmid="15234198"),
    "ACOP2020FGF23": _r("Riggs MM, Ball K, Komatsu K, Yamada Y", "FGF23/phosphate extension of OpenBoneMin",
                        "American Conference on Pharmacometrics (ACOP) 2020, poster", 2020, kind="abstract",
                        note="model code in OpenBoneMin inst/community/fgf-phos"),
    "Armas2013": _r("Armas LAG, Zena M, Lund R, Heaney RP", "Calcium absorption response to cholecalciferol "
                    "supplementation in hemodialysis", "Clin J Am Soc Nephrol", 2013, "8", "1003-1008", number="6",
                    doi="10.2215/CJN.08610812", pmid="23411428",
                    note="median fractional calcium absorption 12 %, IQR 7-17 %"),
    "HeaneyAbrams2004": _r("Heaney RP, Abrams SA", "Improved estimation of the calcium content of total digestive "
                           "secretions", "J Clin Endocrinol Metab", 2004, "89", "1193-1195", number="3",
                           url="http://jcem.endojournals.org/cgi/content/full/89/3/1193"),
    "Daugirdas2011PBE": _r("Daugirdas JT, Finn WF, Emmett M, Chertow GM", "The phosphate binder equivalent dose",
                           "Semin Dial", 2011, "24", "41-49", kind="unlinked"),
    "Agar2011": _r("Agar BU, Akonur A, Lo YC, Cheung AK, Leypoldt JK", "Kinetic model of phosphorus mobilization "
                   "during and after short and conventional hemodialysis", "Clin J Am Soc Nephrol", 2011, "6",
                   "2854-2860", url="https://www.biocloudy.com/literatureDetail/NDExNzk3Nw==",
                   note="URL: an abstract of the paper (22 patients, short and conventional sessions)"),
    "Gotch2007": _r("Gotch FA, Kotanko P, Thijssen S, Levin NW", "The KDIGO guideline for dialysate calcium will "
                    "result in an increased incidence of calcium accumulation in hemodialysis patients",
                    "Kidney Int", 2010, "78", "343-350", number="4", doi="10.1038/ki.2010.157", pmid="20520595",
                    note="and Gotch F et al., Blood Purif 2007 (calcium mass balance model)"),
    "Gotch2010": _r("Gotch FA, Kotanko P, Thijssen S, Levin NW", "The KDIGO guideline for dialysate calcium will "
                    "result in an increased incidence of calcium accumulation in hemodialysis patients",
                    "Kidney Int", 2010, "78", "343-350", number="4", doi="10.1038/ki.2010.157", pmid="20520595",
                    note="the paper of Gotch2007; 76 % of dialyzer calcium flux from/to the rapidly miscible pool"),
    "Pirklbauer2021": _r("Pirklbauer M, Bushinsky DA, Kotanko P, Schappacher-Tilp G", "Personalized prediction of "
                         "short- and long-term PTH changes in maintenance hemodialysis patients", "Front Med", 2021,
                         "8", "704970", doi="10.3389/fmed.2021.704970"),
    "SchappacherTilp2019": _r("Schappacher-Tilp G, Cherif A, Fuertinger DH, Bushinsky D, Kotanko P", "A "
                              "mathematical model of parathyroid gland biology", "Physiol Rep", 2019, "7", "e14045",
                              number="7", doi="10.14814/phy2.14045", pmid="30927339"),
    "BloodPurif2013HDF": _r("", "Phosphorus kinetics during hemodiafiltration: analysis using a "
                            "pseudo-one-compartment model", "Blood Purif", 2013, "35 Suppl 1", "59-63",
                            doi="10.1159/000346356", pmid="23466381",
                            note="dialyzer phosphate clearance HD 160 +- 14 mL/min"),
    "KDIGO2017": _r("Kidney Disease: Improving Global Outcomes (KDIGO) CKD-MBD Update Work Group", "KDIGO 2017 "
                    "Clinical Practice Guideline Update for the Diagnosis, Evaluation, Prevention, and Treatment of "
                    "Chronic Kidney Disease-Mineral and Bone Disorder (CKD-MBD)", "Kidney Int Suppl", 2017, "7",
                    "1-59", number="1", doi="10.1016/j.kisu.2017.04.001"),
    "Madsen1996": _r("Madsen S, Rasmussen K, Ladefoged J, Schwarz P, others", "PTH-calcium set point in chronic "
                     "renal failure (calcium clamps during haemodialysis)", year=1996, kind="secondary",
                     note="set point 1.16 mmol/L ionised calcium"),
    "JApplBiomater2006": _r("", "Calcium phosphate supersaturation of dialysis patients' serum",
                            "J Appl Biomater Biomech", 2006, "4", "80-86", pmid="20799206",
                            note="brushite only above Pi ~1.9 mmol/L or Ca x P ~4.5 mmol2/L2"),
    "Christoffersen1980": _r("Christoffersen J, Christoffersen MR", "Kinetics of dissolution of calcium "
                             "hydroxyapatite", "J Cryst Growth", 1980, "49", "29-44", kind="unlinked"),
    "Steinbach1995": _r("Steinbach LS, others", "Tumoral calcinosis: radiologic-pathologic correlation",
                        "Skeletal Radiol", 1995, "24", "573-578", kind="unlinked"),
    "Hanna2022RenalCalcium": _r("Hanna RM, Ahdoot RS, Kalantar-Zadeh K, Ghobry L, Kurtz I", "Calcium transport in "
                                "the kidney and disease processes", "Front Endocrinol", 2022, "12", "762130",
                                doi="10.3389/fendo.2021.762130", pmid="35299844"),
    "YuCurry2024": _r("Yu ASL, Curry JN", "Paracellular transport and renal tubule calcium handling",
                      "J Am Soc Nephrol", 2024, doi="10.1681/ASN.0000000506"),
    "Granjon2017": _r("Granjon D, Bonny O, Edwards A", "Coupling between phosphate and calcium homeostasis: a "
                      "mathematical model", "Am J Physiol Renal Physiol", 2017, "313", "F1181-F1199",
                      doi="10.1152/ajprenal.00271.2017"),
    "Gosmanova2022": _r("Gosmanova EO, others", "Tubular phosphate reabsorption and fractional excretion of "
                        "phosphate across CKD stages", "ASN Kidney Week 2022, abstract", 2022, kind="abstract",
                        note="387 patients"),
    "Khosravi2007": _r("Khosravi A, Cutler CM, Kelly MH, others", "Determination of the elimination half-life of "
                       "fibroblast growth factor-23", "J Clin Endocrinol Metab", 2007, "92", "2374-2377",
                       doi="10.1210/jc.2006-2865"),
    "VanAncum2017FGF23": _r("van Ancum PMG, Heijboer AC, de Jongh RT, others", "Renal extraction of FGF23 in "
                            "humans", "Am J Physiol Renal Physiol", 2017, "312", "F254-F258", kind="unlinked",
                            note="kidney extracts ~22 % per pass at eGFR 60; no splanchnic removal"),
    "Rotondi2015": _r("Rotondi S, Pasquali M, Tartaglione L, others", "Soluble alpha-Klotho serum levels in chronic "
                      "kidney disease", "Int J Endocrinol", 2015, "2015", "872193", pmid="25873958"),
    "Bhan2006": _r("Bhan I, Shah A, Holmes J, others", "Post-transplant hypophosphatemia: tertiary "
                   "'hyper-phosphatoninism'?", "Kidney Int", 2006, "70", "1486-1494", doi="10.1038/sj.ki.5001788"),
    "FrontEndocrinol2021FGF23": _r("", "Regulation of FGF23 production: phosphate, calcitriol, PTH, iron and "
                                   "inflammation (review)", "Front Endocrinol", 2021, "12", "588096",
                                   kind="unlinked"),
    "Silver1986": _r("Silver J, Naveh-Many T, Mayer H, Schmelzer HJ, Popovtzer MM", "Regulation by vitamin D "
                     "metabolites of parathyroid hormone gene transcription in vivo in the rat", "J Clin Invest",
                     1986, "78", "1296-1301", url="https://www.jci.org/articles/view/112714"),
    "Brandi2002": _r("Brandi L, Egfjord M, Olgaard K", "Pharmacokinetics of 1,25(OH)2D3 and 1alpha(OH)D3 in normal "
                     "and uraemic men", "Nephrol Dial Transplant", 2002, "17", "829-842", number="5",
                     doi="10.1093/ndt/17.5.829"),
    "Fukagawa1999": _r("Fukagawa M", "Cell biology of parathyroid hyperplasia in uremia", "Am J Med Sci", 1999,
                       "317", "377-382", number="6", kind="unlinked",
                       note="nodular hyperplasia: lower density of calcitriol and calcium-sensing receptors than "
                            "diffuse hyperplasia"),
    "Gogusev1997": _r("Gogusev J, Duchambon P, Hory B, others", "Depressed expression of calcium receptor in "
                      "parathyroid gland tissue of patients with hyperparathyroidism", "Kidney Int", 1997, "51",
                      "328-336", number="1", doi="10.1038/ki.1997.41", pmid="8995751"),
    "Nefrologia2010": _r("", "Parathyroid glands of haemodialysis patients studied in vivo and in vitro: set point "
                         "and minimal secretion of hyperplastic glands", "Nefrologia", 2010, "30", "73",
                         kind="secondary", note="field note, author unconfirmed"),
    "JIntMedRes2013": _r("", "Calcium-sensing receptor labelling index in nodular, diffuse and normal parathyroid "
                         "tissue", "J Int Med Res", 2013, "41", "97", kind="unlinked",
                         note="nodular 12.8 +- 1.5 %, diffuse 23.3 +- 1.8 %, normal 26.8 +- 0.8 %"),
    "Goodman1995": _r("Goodman WG, Belin T, Gales B, others", "Calcium-regulated parathyroid hormone release in "
                      "patients with mild or advanced secondary hyperparathyroidism", "Kidney Int", 1995, "48",
                      "1553-1558", url="http://www.hdcn.com/5/511kigoo.htm", note="URL: an abstract of the paper"),
    "Elias2018": _r("Elias RM, others", "Intradialytic phosphate kinetics", year=2018, kind="secondary",
                    note="-47 +- 14 % at 1 h, -45 +- 11 % at 4 h; read the original before relying on the numbers"),
    "Zehnder2007CRIB": _r("Zehnder D, Landray MJ, Wheeler DC, Fraser W, Blackwell L, Nuttall S, Hughes SV, "
                          "Townend J, Ferro C, Baigent C, Hewison M", "Cross-sectional analysis of abnormalities of "
                          "mineral homeostasis, vitamin D and parathyroid hormone in a cohort of pre-dialysis "
                          "patients. The Chronic Renal Impairment in Birmingham (CRIB) study", "Nephron Clin Pract",
                          2007, url="https://www.cardioscience.ox.ac.uk/publications/33984"),
    "KoreanJNephrol1997Calcitriol": _r("", "Oral calcitriol therapy in hemodialysis patients with secondary "
                                       "hyperparathyroidism: the effect of dose adjustment according to therapeutic "
                                       "responses", "Korean J Nephrol", 1997, "16", "323-330", number="2",
                                       kind="unlinked", note="KoreaMed 2254847"),
    "Fine2003": _r("Fine A, Penner B", "Biochemical effects of high dialysate calcium in hemodialysis patients with "
                   "hyperparathyroidism: a 10-month study", "ASAIO J", 2003, "49", number="1",
                   doi="10.1097/00002480-200301000-00011"),
    "Block2004": _r("Block GA, Martin KJ, de Francisco ALM, others", "Cinacalcet for secondary hyperparathyroidism "
                    "in patients receiving hemodialysis", "N Engl J Med", 2004, "350", "1516-1525",
                    doi="10.1056/NEJMoa031633"),
    "LorentePoch2015": _r("Lorente-Poch L, Sancho JJ, Munoz-Nova JL, Sanchez-Velazquez P, Sitges-Serra A",
                          "Defining the syndromes of parathyroid failure after total thyroidectomy", "Gland Surg",
                          2015, url="https://gs.amegroups.org/article/view/5619"),
    "Evenepoel2008": _r("Evenepoel P, Meijers BKI, de Jonge H, others", "Recovery of hyperphosphatoninism and renal "
                        "phosphorus wasting one year after successful renal transplantation", "Clin J Am Soc Nephrol",
                        2008, "3", "1829-1836", doi="10.2215/CJN.01310308", pmid="18922992"),
    "VanLonden2017": _r("van Londen M, Aarts BM, Deetman PE, others", "Post-transplant hypophosphatemia and the risk "
                        "of death-censored graft failure and mortality after kidney transplantation",
                        "Clin J Am Soc Nephrol", 2017, "12", "1301-1310", doi="10.2215/CJN.10270916",
                        pmid="28546442"),
    "Elias2018KBPR": _r("Elias RM, Alvares VRC, Moyses RMA", "Phosphate removal during conventional hemodialysis: a "
                        "decades-old misconception", "Kidney Blood Press Res", 2018, "43", "110-114",
                        doi="10.1159/000487108", pmid="29414834"),
    "Wang2012": _r("Wang M, Li H, Liao H, others", "Phosphate removal model: an observational study of low-flux "
                   "dialyzers in conventional hemodialysis therapy", "Hemodial Int", 2012, "16", "363-376",
                   doi="10.1111/j.1542-4758.2012.00678.x"),
    "VanCamp2014": _r("Van Camp YPM, Vrijens B, Abraham I, Van Rompaey B, Elseviers MM", "Adherence to phosphate "
                      "binders in hemodialysis patients: prevalence and determinants", "J Nephrol", 2014, "27",
                      number="6", doi="10.1007/s40620-014-0062-3",
                      note="electronic pill-bottle monitoring (MEMS)"),
    "Sigrist2005": _r("Sigrist MK, Devlin L, Taal MW, Fluck RJ, McIntyre CW", "Length of interdialytic interval "
                      "influences serum calcium and phosphorus concentrations", "Nephrol Dial Transplant", 2005, "20",
                      "1643-1646", doi="10.1093/ndt/gfh874"),
    "Stremke2022": _r("Stremke ER, Trevino L, Doshi S, Moorthi RN, Hill Gallant KM, Moe SM", "Postdialysis serum "
                      "phosphate equilibrium in hemodialysis patients on a controlled diet and no binders",
                      "Hemodial Int", 2022, "26", "255-263", doi="10.1111/hdi.12999"),
    "SeedCaseReport": _r("", "Case report: calcified gluteal mass in a patient on haemodialysis for 11 years, 18 "
                         "months after parathyroidectomy with forearm autotransplantation", kind="case",
                         note="the project's seed case; the text gives no bibliographic details"),
    "PhysicalInvariant": _r("", "Physical invariant: an amount of mineral in a body compartment cannot be negative",
                            kind="invariant", note="and soft-tissue calcification of tumoral size affects a small "
                            "minority of dialysis patients (Steinbach 1995)"),
    "Daugirdas2018": _r("Daugirdas JT", "A two-pool kinetic model predicts phosphate concentrations during and "
                        "shortly following a conventional (three times weekly) hemodialysis session",
                        "Nephrol Dial Transplant", 2018, "33", "76-84", doi="10.1093/ndt/gfw347", pmid="27738228"),
    "Leypoldt2013": _r("Leypoldt JK, Agar BU, Akonur A, Hutchcraft AM, Story KO, Culleton BF", "Determinants of "
                       "phosphorus mobilization during hemodialysis", "Kidney Int", 2013, doi="10.1038/ki.2013.205"),
    "COSMOS2019": _r("Fernandez-Martin JL, others", "Serum phosphate optimal timing and range associated with "
                     "patients survival in haemodialysis: the COSMOS study", "Nephrol Dial Transplant", 2019, "34",
                     "673-681", doi="10.1093/ndt/gfy093", pmid="29741651"),
    "Pedersen1971": _r("Pedersen KO", "Binding of calcium to serum albumin", "Scand J Clin Lab Invest", 1971,
                       url="https://www.scilit.net/publications/f8581d3cc9f835c5b0d834938f01f4d5",
                       note="12 +- 1 identical independent sites, association constant 90-100 L/mol at 37 degC; "
                            "author and journal as in the field notes"),
    "Moore1970": _r("Moore EW", "Ionized calcium in normal serum, ultrafiltrates, and whole blood determined by "
                    "ion-exchange electrodes", "J Clin Invest", 1970, "49", "318-334", pmid="4983663"),
    "CalciumFractions2007": _r("Higgins C", "Ionized calcium", "acutecaretesting.org", 2007, kind="web",
                               note="plasma calcium about 40 % protein-bound, 10 % complexed, 50 % free ionised"),
    "IonizedCalciumPH": _r("", "Adjusting ionized calcium for pH", "MedicalAlgorithms", kind="web",
                           note="iCa(7.4) = iCa(pH) x 10^(-0.178 (7.4 - pH)); serum ionised calcium at pH 7.40 "
                                "1.184 +- 0.054 mmol/L (Clin Chem 1978;24:1545)"),
    "Watson1980": _r("Watson PE, Watson ID, Batt RD", "Total body water volumes for adult males and females "
                     "estimated from simple anthropometric measurements", "Am J Clin Nutr", 1980, "33", "27-39",
                     number="1", kind="unlinked"),
    "Sherman1995": _r("Sherman RA, Cody RP, Rogers ME, Solanchick JC", "Relation between interdialytic weight gain, "
                      "body weight and nutrition in hemodialysis patients", "Am J Nephrol", 1995, "15", "16-21",
                      url="https://www.scilit.net/publications/cdeb7e973961ae42766e7995c947136c",
                      note="title and numbers checked against the abstract; authors and journal as in the field "
                           "notes"),
    "Guyton": _r("Hall JE", "Guyton and Hall Textbook of Medical Physiology", "Elsevier", kind="book",
                 note="body fluid compartments"),
    "Hermans2007": _r("Hermans MMH, Brandenburg V, Ketteler M, others", "Association of serum fetuin-A levels with "
                      "mortality in dialysis patients", "Kidney Int", 2007, "72", "202-207", number="2",
                      url="https://cris.maastrichtuniversity.nl/en/publications/association-of-serum-fetuin-a-levels-"
                          "with-mortality-in-dialysis-p"),
    "Pasch2012": _r("Pasch A, Farese S, Graber S, others", "Nanoparticle-based test measures overall propensity for "
                    "calcification in serum", "J Am Soc Nephrol", 2012, "23", "1744-1752",
                    doi="10.1681/ASN.2012030240"),
    "BMCNephrol2023T50": _r("", "Assessment of a serum calcification propensity test for the prediction of "
                            "all-cause mortality among hemodialysis patients", "BMC Nephrol", 2023,
                            doi="10.1186/s12882-023-03069-6"),
    "Dekker2016": _r("Dekker M, Pasch A, van der Sande F, others", "High-flux hemodialysis and high-volume "
                     "hemodiafiltration improve serum calcification propensity", "PLoS One", 2016, "11", "e0151508",
                     number="4", doi="10.1371/journal.pone.0151508"),
    "Bundy2019": _r("Bundy JD, Cai X, Mehta RC, others", "Serum calcification propensity and clinical events in CKD",
                    "Clin J Am Soc Nephrol", 2019, "14", "1562-1571", doi="10.2215/CJN.04710419"),
    "Parfitt1976": _r("Parfitt AM", "The actions of parathyroid hormone on bone: relation to bone remodeling and "
                      "turnover, calcium homeostasis, and metabolic bone disease. Part I: mechanisms of calcium "
                      "transfer between blood and bone", "Metabolism", 1976, "25", "809-844", number="7",
                      kind="unlinked"),
    "TalmageMobley2008": _r("Talmage RV, Mobley HT", "Calcium homeostasis: reassessment of the actions of "
                            "parathyroid hormone", "Gen Comp Endocrinol", 2008, "156", "1-8", number="1",
                            kind="unlinked"),
    "Massry1976": _r("Massry SG, Stein R, Garty J, others", "Skeletal resistance to the calcemic action of "
                     "parathyroid hormone in uremia: role of 1,25(OH)2D3", "Kidney Int", 1976, "9", "467-474",
                     number="6", kind="unlinked"),
    "Bergmann1983": _r("Bergmann P, Paternot T, Schoutens A", "Calcium accretion rate and exchangeable pool in 7 "
                       "body areas by whole-body counting after 47Ca", "Calcif Tissue Int", 1983, "35", "21-28",
                       doi="10.1007/BF02405001"),
    "Agerbaek1991": _r("", "A reconstruction of the remodelling cycle in normal human cortical iliac bone",
                       "Bone and Mineral", 1991, pages="101-112", number="2",
                       url="https://publichealth.ku.dk",
                       note="resorptive period 27 days, mineralisation lag 8 days, formative period 89 days; "
                            "record 4ec61cd9-d3bc-47fb-9f49-46f450a20b77"),
    "PTXCalciumNeeds2008": _r("", "Quantification of calcium needs after successful subtotal parathyroidectomy in "
                              "CKD 5D patients", "S. Karger AG", 2008, pmid="18758187"),
    "Urena1995RenalPTHReceptor": _r("Urena P, others", "Parathyroidectomy does not prevent the renal PTH/PTHrP "
                                    "receptor down-regulation in uremic rats", "Kidney Int", 1995, "47",
                                    "1797-1805", number="6", kind="unlinked"),
    "EndocrConnect2019TIO": _r("", "Tumor-induced osteomalacia: experience from three tertiary care "
                               "centres in India", "Endocr Connect", 2019, "8", number="3",
                               url="https://ec.bioscientifica.com/view/journals/ec/8/3/EC-18-0552.xml",
                               note="mean serum phosphate 0.50 mmol/L, median FGF23 518 RU/mL"),
    "Block2017Etelcalcetide": _r("Block GA, Bushinsky DA, Cunningham J, others", "Effect of etelcalcetide vs "
                                 "placebo on serum parathyroid hormone in patients receiving hemodialysis with "
                                 "secondary hyperparathyroidism: two randomized clinical trials", "JAMA", 2017, "317",
                                 "146-155", number="2", doi="10.1001/jama.2016.19456", pmid="28097355"),
    "Ho2017HungryBone": _r("Ho LY, Wong PN, Sin HK, others", "Risk factors and clinical course of hungry bone "
                           "syndrome after total parathyroidectomy in dialysis patients with secondary "
                           "hyperparathyroidism", "BMC Nephrol", 2017, "18", "12", doi="10.1186/s12882-016-0421-5"),
    "Jones2014VitD": _r("Jones KS, Assar S, Harnpanich D, others", "25(OH)D2 half-life is shorter than 25(OH)D3 "
                        "half-life and is influenced by DBP concentration and genotype", "J Clin Endocrinol Metab",
                        2014, "99", "3373-3381",
                        url="https://research-portal.uea.ac.uk/en/publications/25ohd2-half-life-is-shorter-than-"
                            "25ohd3-half-life-and-is-influenc"),
    "Ekwaru2014": _r("Ekwaru JP, Zwicker JD, Holick MF, Giovannucci E, Veugelers PJ", "The importance of body weight "
                     "for the dose response relationship of oral vitamin D supplementation and serum "
                     "25-hydroxyvitamin D in healthy volunteers", "PLoS One", 2014, "9", "e111265",
                     doi="10.1371/journal.pone.0111265"),
    "Tokmak2008": _r("Tokmak F, Quack I, Schieren G, others", "High-dose cholecalciferol to correct vitamin D "
                     "deficiency in haemodialysis patients", "Nephrol Dial Transplant", 2008, "23", "4016-4020",
                     doi="10.1093/ndt/gfn367"),
    "PMC8558908HD": _r("", "Cholecalciferol supplementation in haemodialysis patients", kind="article",
                       url="https://pmc.ncbi.nlm.nih.gov/articles/PMC8558908",
                       note="40,000 IU weekly for 12 weeks, then 20,000 IU fortnightly, 55 patients; authors, journal "
                            "and year not checked here"),
    "ZemplarLabel": _r("AbbVie", "Zemplar (paricalcitol) capsules and injection, US prescribing information",
                       "AbbVie", kind="label"),
    "ACTIVE2019CKDMBD": _r("ACTIVE Dialysis investigators", "Effect of extended hours dialysis on markers of chronic "
                           "kidney disease-mineral and bone disorder in the ACTIVE Dialysis study", "BMC Nephrol",
                           2019, "20", doi="10.1186/s12882-019-1438-3"),
    "Joy2003Lanthanum": _r("Joy MS, Finn WF", "Randomized, double-blind, placebo-controlled, dose-titration, phase "
                           "III study assessing the efficacy and tolerability of lanthanum carbonate: a new phosphate "
                           "binder for the treatment of hyperphosphatemia", "Am J Kidney Dis", 2003, "42", "96-107",
                           number="1", doi="10.1016/s0272-6386(03)00554-7"),
    "Daugirdas2012FHN": _r("Daugirdas JT, Chertow GM, Larive B, others", "Effects of frequent hemodialysis on "
                           "measures of CKD mineral and bone disorder", "J Am Soc Nephrol", 2012, "23", "727-738",
                           number="4", doi="10.1681/ASN.2011070688"),
    "Hansen2012FGF23": _r("Hansen D, Rasmussen K, Pedersen SM, Rasmussen LM, Brandi L", "Changes in fibroblast "
                          "growth factor 23 during treatment of secondary hyperparathyroidism with alfacalcidol or "
                          "paricalcitol", "Nephrol Dial Transplant", 2012, "27", "2263-2269", number="6",
                          doi="10.1093/ndt/gfr668"),
    "Lund2010": _r("Lund RJ, Andress DL, Amdahl M, Williams LA, Heaney RP", "Differential effects of paricalcitol "
                   "and calcitriol on intestinal calcium absorption in hemodialysis patients", "Am J Nephrol", 2010,
                   "31", "165-170", number="2",
                   url="https://creighton.pure.elsevier.com/en/publications/differential-effects-of-paricalcitol-and-"
                       "calcitriol-on-intestinal"),
    "Sprague2003": _r("Sprague SM, Llach F, Amdahl M, Taccetta C, Batlle D", "Paricalcitol versus calcitriol in the "
                      "treatment of secondary hyperparathyroidism", "Kidney Int", 2003, "63", "1483-1490",
                      kind="unlinked"),
    "Padhi2009Cinacalcet": _r("Padhi D, Harris R", "Clinical pharmacokinetic and pharmacodynamic profile of "
                              "cinacalcet hydrochloride", "Clin Pharmacokinet", 2009, "48", "303-311",
                              url="https://www.mendeley.com/research-papers/clinical-pharmacokinetic-pharmacodynamic-"
                                  "profile-cinacalcet-hydrochloride/"),
    "SensiparLabel": _r("Amgen", "Sensipar/Mimpara (cinacalcet) prescribing information / SmPC", "Amgen",
                        kind="label"),
    "ParsabivLabel": _r("Amgen", "Parsabiv (etelcalcetide) prescribing information / SmPC", "Amgen", kind="label"),
    "Edson2016": _r("Edson KZ, Wu BM, Iyer A, Goodman W, Skiles GL, Subramanian R", "Determination of etelcalcetide "
                    "biotransformation and hemodialysis kinetics to guide the timing of its dosing", "Kidney Int Rep",
                    2016, "1", "24-33", number="1", doi="10.1016/j.ekir.2016.04.002"),
    "Subramanian2017": _r("Subramanian R, Zhu X, Hock MB, others", "Pharmacokinetics, biotransformation, and "
                          "excretion of [14C]etelcalcetide (AMG 416) following a single microtracer intravenous dose "
                          "in patients with chronic kidney disease on hemodialysis", "Clin Pharmacokinet", 2017,
                          "56", "179-192", doi="10.1007/s40262-016-0433-0"),
    "Chen2016CaSR": _r("Chen P, Olsson Gisleskog P, Perez-Ruixo JJ, Xiao J, Wilkins J, Narayanan A, Gibbs JP, "
                       "Melhem M", "Population pharmacokinetics and pharmacodynamics of the calcimimetic etelcalcetide "
                       "in chronic kidney disease and secondary hyperparathyroidism receiving hemodialysis",
                       "CPT Pharmacometrics Syst Pharmacol", 2016, "5", "484-494", number="9",
                       doi="10.1002/psp4.12106", pmid="27639083"),
}
"""Field-by-field records of the :data:`CITATIONS` keys (the same papers; the text entries stay the display form)."""


_ACCENTS = {"\u0301": "'", "\u0300": "`", "\u0308": '"', "\u0303": "~", "\u0302": "^", "\u0327": "c",
            "\u030c": "v", "\u030a": "r", "\u0304": "="}
_SPECIAL = {"\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#",
            "_": r"\_", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}", "\u00b1": r"$\pm$",
            "\u00b5": r"$\mu$", "\u03bc": r"$\mu$", "\u03b1": r"$\alpha$", "\u00b0": r"\textdegree{}",
            "\u00d7": r"$\times$", "\u2013": "--", "\u2014": "---", "\u00df": r"{\ss}", "\u00f8": r"{\o}",
            "\u00d8": r"{\O}", "\u00e6": r"{\ae}"}


def bibtex_escape(text: str) -> str:
    """``text`` as a BibTeX field value: LaTeX's special characters escaped, accented letters as accent commands
    (``{\\'e}``), so the file works with classic BibTeX as well as biber."""
    import unicodedata

    out = []
    for ch in unicodedata.normalize("NFD", text):
        if ch in _ACCENTS and out:
            base = out.pop()
            out.append("{\\" + _ACCENTS[ch] + ("{" + base + "}" if _ACCENTS[ch].isalpha() else base) + "}")
        elif unicodedata.combining(ch):
            continue  # an accent without a LaTeX command: the bare letter
        else:
            out.append(_SPECIAL.get(ch, ch))
    return unicodedata.normalize("NFC", "".join(out))


def _bibtex_author(name: str) -> str:
    """"Peterson MC" -> "Peterson, M. C."; "others" stays; a group name is braced (one unit, not split)."""
    if name == "others":
        return name
    head, _, initials = name.rpartition(" ")
    if head and initials.isalpha() and initials.isupper() and len(initials) <= 4:
        return f"{bibtex_escape(head)}, {' '.join(bibtex_escape(c) + '.' for c in initials)}"
    return "{" + bibtex_escape(name) + "}"


def _raw(value: str) -> str:
    """A DOI, URL or number as it is (no LaTeX escaping, which would break it); braces cannot occur in one."""
    return value.replace("{", "").replace("}", "")


def bibtex_entry(key: str, ref: Reference) -> str:
    """One BibTeX entry: @article for a journal article (also one cited as in the field notes), @book, @manual for
    a prescribing information, @misc otherwise; the DOI in ``doi``, the PMID in ``eprint`` (biblatex, with
    ``eprinttype = {pubmed}``) and in ``note`` (classic BibTeX has no PMID field)."""
    if ref.kind in ("article", "unlinked", "secondary") and ref.journal:
        kind = "article"
    else:
        kind = {"book": "book", "label": "manual"}.get(ref.kind, "misc")
    fields: list[tuple[str, str]] = []
    if ref.authors:
        fields.append(("author", " and ".join(_bibtex_author(a) for a in ref.authors)))
    fields.append(("title", "{" + bibtex_escape(ref.title) + "}"))  # double braces: the title's case is kept
    container = {"article": "journal", "book": "publisher", "manual": "organization"}.get(kind, "howpublished")
    if ref.journal:
        fields.append((container, bibtex_escape(ref.journal)))
    for name, value in (("year", str(ref.year) if ref.year else ""), ("volume", ref.volume),
                        ("number", ref.number), ("pages", ref.pages.replace("-", "--"))):
        if value:
            fields.append((name, bibtex_escape(value)))
    if ref.doi:
        fields.append(("doi", _raw(ref.doi)))
    if ref.pmid:
        fields += [("eprint", _raw(ref.pmid)), ("eprinttype", "pubmed")]
    if ref.url:
        fields.append(("url", _raw(ref.url)))
    notes = [f"PMID {ref.pmid}"] if ref.pmid else []
    if ref.kind not in ("article", "book", "label", "web", "unlinked"):
        notes.append(KINDS[ref.kind])
    if ref.note:
        notes.append(ref.note)
    if notes:
        fields.append(("note", bibtex_escape("; ".join(notes))))
    body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields)
    return f"@{kind}{{{key},\n{body}\n}}"


def _fallback_reference(text: str) -> Reference:
    """A key without a structured record (added elsewhere, not yet in :data:`REFERENCES`): its text as the note,
    and the DOI or PMID found in it."""
    import re

    doi = re.search(r"\b(10\.\d{4,9}/[^\s,;()]+[^\s,;().])", text)
    pmid = re.search(r"PMID:?\s*(\d+)", text)
    return Reference((), text.split(".")[0], kind="secondary", doi=doi.group(1) if doi else "",
                     pmid=pmid.group(1) if pmid else "", note=text)


def bibtex(keys: list[str] | tuple[str, ...] | set[str]) -> str:
    """A BibTeX file with one entry per key (the :data:`CITATIONS` keys; keys of :data:`SAME_PAPER` get their own
    entry, so ``\\cite{}`` works with either), in key order; unknown keys are an error."""
    unknown = [k for k in keys if k not in CITATIONS and k != "assumed"]
    if unknown:
        raise KeyError(f"unknown citation keys: {', '.join(unknown)}")
    entries = [bibtex_entry(k, REFERENCES.get(k) or _fallback_reference(CITATIONS[k]))
               for k in sorted(set(keys) - {"assumed"})]
    return "\n\n".join(entries) + "\n" if entries else ""
