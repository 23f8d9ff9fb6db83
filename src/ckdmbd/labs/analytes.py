"""The analytes ckdmbd reads from lab files: LOINC codes, canonical units, molar masses, default reference ranges and
plausibility limits, each with its source.

Canonical units (the unit every value is converted to on import; they match the model's units in
:mod:`ckdmbd.units`): calcium and phosphate mmol/L, intact PTH and calcitriol pmol/L, albumin g/L, alkaline
phosphatase U/L, 25-OH vitamin D nmol/L.

Default reference ranges are used only when a result comes without its own (a CSV row without ``ref_low`` /
``ref_high``, an Observation without ``referenceRange``); ranges are laboratory- and assay-specific, so a reported
range always wins. Plausibility limits are wider than any reference range: a value outside them is more likely a
unit error than a measurement. **All plausibility limits are engineering choices of ckdmbd, not published
limits** (the field notes give lab critical values and an assay's measuring range, which are unconfirmed, and say
hard "impossible value" limits are a choice to document): each limit's source says what it was placed near.

Field notes: ``shared/notes/field-chemistry-binders-labs.md``, section 3 (LOINC codes, UCUM units, conversions).
"""

from __future__ import annotations

from dataclasses import dataclass

from ckdmbd import units

FIELD_NOTES = "field notes, section 3 (shared/notes/field-chemistry-binders-labs.md)"
SEED_LAB = ("the seed case report's laboratory range (shared/seed/case-report-calcified-gluteal-mass.txt); "
            "reference ranges are laboratory-specific")

# LOINC property of a code: the unit of a result must have this dimension (None: not checked, see the note).
MASS = "mass"  # [Mass/volume]: mg/dL, pg/mL, g/L, ...
MOLES = "moles"  # [Moles/volume]: mmol/L, pmol/L, nmol/L, ...
ACTIVITY = "activity"  # [Enzymatic activity/volume]: U/L, ukat/L
KIND_NAMES = {MASS: "mass/volume", MOLES: "moles/volume", ACTIVITY: "enzymatic activity/volume"}


@dataclass(frozen=True)
class Range:
    """An interval in the analyte's canonical unit; ``None`` is an open end."""

    low: float | None
    high: float | None
    source: str

    def contains(self, value: float) -> bool:
        return (self.low is None or value >= self.low) and (self.high is None or value <= self.high)


@dataclass(frozen=True)
class Analyte:
    key: str  # the name in CSV files, JSON output and the series' ``analyte`` column
    name: str
    unit: str  # canonical unit (UCUM spelling, also understood by pint)
    molar_mass: float | None  # g/mol; None: no conversion between mass and amount of substance
    molar_mass_source: str
    loinc: dict[str, str | None]  # code -> property (MASS, MOLES, ACTIVITY; None: property not checked)
    units: tuple[str, ...]  # units labs commonly report it in: the candidates when a value looks like a unit error
    reference: Range  # default reference range (canonical unit)
    plausible: Range  # plausibility limits (canonical unit): an engineering choice, see the module docstring
    aliases: tuple[str, ...] = ()
    note: str = ""


ANALYTES: dict[str, Analyte] = {a.key: a for a in (
    Analyte(
        "calcium", "total calcium", "mmol/L", units.CALCIUM_G_PER_MOL, "IUPAC standard atomic weight (ckdmbd.units)",
        {"17861-6": MASS, "2000-8": MOLES}, ("mmol/L", "mg/dL"),
        Range(2.10, 2.60, SEED_LAB),
        Range(1.0, 4.0, "engineering choice (4-16 mg/dL), just outside one laboratory's auto-reassay limits "
                        "< 4 or > 15 mg/dL (" + FIELD_NOTES + "; unconfirmed)"),
        aliases=("total_calcium", "ca"),
    ),
    Analyte(
        "ionized_calcium", "ionized calcium", "mmol/L", units.CALCIUM_G_PER_MOL,
        "IUPAC standard atomic weight (ckdmbd.units)",
        {"1995-0": MOLES, "1994-3": MOLES}, ("mmol/L", "mg/dL"),
        Range(1.10, 1.35, "assumed typical adult range (the same as the HTML report's band); unconfirmed"),
        Range(0.5, 2.5, "engineering choice, well outside lab critical values < 0.75-0.9 or > 1.5-1.6 mmol/L ("
                        + FIELD_NOTES + "; unconfirmed)"),
        aliases=("ionised_calcium", "ica", "ca_ion"),
        note="1995-0 is serum/plasma, 1994-3 whole blood; both are read as ionized calcium",
    ),
    Analyte(
        "phosphate", "phosphate", "mmol/L", units.PHOSPHORUS_G_PER_MOL,
        "IUPAC standard atomic weight of phosphorus: serum phosphate is reported as phosphorus (ckdmbd.units)",
        {"2777-1": MASS, "14879-1": MOLES}, ("mmol/L", "mg/dL"),
        Range(0.87, 1.45, SEED_LAB),
        Range(0.1, 5.0, "engineering choice (0.3-15.5 mg/dL), at the top of lab critical values > 10-15 mg/dL ("
                        + FIELD_NOTES + "; unconfirmed)"),
        aliases=("phosphorus", "p", "pi"),
    ),
    Analyte(
        "pth", "intact PTH", "pmol/L", units.INTACT_PTH_G_PER_MOL, "PTH(1-84), 9,425 Da (ckdmbd.units)",
        {"2731-8": MASS, "14866-8": MOLES}, ("pmol/L", "pg/mL", "ng/L"),
        Range(1.5, 6.1, SEED_LAB),
        Range(0.1, 600.0, "engineering choice, near an Elecsys intact PTH assay's measuring range 1.2-5,000 pg/mL "
                          "= 0.13-530 pmol/L (" + FIELD_NOTES + "; unconfirmed)"),
        aliases=("intact_pth", "ipth"),
        note="pg/mL and pmol/L differ by 9.4x and both readings are often plausible: PTH unit errors are rarely caught",
    ),
    Analyte(
        "albumin", "albumin", "g/L", None, "none: albumin is reported by mass only",
        {"1751-7": MASS}, ("g/L", "g/dL"),
        Range(35.0, 50.0, "assumed typical adult range; unconfirmed"),
        Range(10.0, 70.0, "engineering choice (1-7 g/dL); unconfirmed"),
    ),
    Analyte(
        "alp", "alkaline phosphatase", "U/L", None, "none: an enzyme activity (1 ukat/L = 60 U/L)",
        {"6768-6": ACTIVITY}, ("U/L", "ukat/L"),
        Range(40.0, 130.0, "assumed typical adult range (IFCC method, 37 degC); method-specific, unconfirmed"),
        Range(5.0, 5000.0, "engineering choice; unconfirmed"),
        aliases=("alkaline_phosphatase",),
    ),
    Analyte(
        "vitamin_d_25oh", "25-OH vitamin D (D2+D3)", "nmol/L", 400.64,
        "calcifediol (25-OH D3, C27H44O2): 1 nmol/L = 0.4006 ng/mL (" + FIELD_NOTES + "); applied to D2+D3 "
        "totals as well (25-OH D2, C28H44O2, is 412.7 g/mol: 3 % apart)",
        {"62292-8": None}, ("nmol/L", "ng/mL"),
        Range(75.0, 250.0, "30-100 ng/mL, 'sufficiency' in the Endocrine Society guideline (Holick et al., J Clin "
                           "Endocrinol Metab 2011;96:1911); a target rather than a population range, and its 2024 "
                           "update sets no threshold (unconfirmed here)"),
        Range(2.5, 750.0, "engineering choice (1-300 ng/mL); unconfirmed"),
        aliases=("25ohd", "calcidiol", "calcifediol", "vitamin_d"),
        note="62292-8 is D2+D3 (1989-3, D3 only, is not accepted); its LOINC property is not checked",
    ),
    Analyte(
        "calcitriol", "1,25-(OH)2 vitamin D", "pmol/L", units.CALCITRIOL_G_PER_MOL,
        "1,25-(OH)2 D3, C27H44O3 (ckdmbd.units)",
        {"62290-2": None}, ("pmol/L", "pg/mL"),
        Range(48.0, 190.0, "assumed typical adult range (the same as the HTML report's band); unconfirmed"),
        Range(2.0, 1000.0, "engineering choice; unconfirmed"),
        aliases=("vitamin_d_1_25oh2", "1,25(oh)2d"),
        note="LOINC 62290-2: long name unconfirmed (field notes); its property is not checked",
    ),
)}

LOINC: dict[str, tuple[Analyte, str | None]] = {
    code: (a, prop) for a in ANALYTES.values() for code, prop in a.loinc.items()
}
_NAMES: dict[str, Analyte] = {
    name.lower(): a for a in ANALYTES.values() for name in (a.key, *a.aliases)
}

LOINC_SYSTEM = "http://loinc.org"


def lookup(text: str) -> tuple[Analyte, str | None] | None:
    """The analyte named by a key, an alias (case-insensitive) or a LOINC code, and the LOINC property the unit must
    have (None for names); None if unknown."""
    text = text.strip()
    if text in LOINC:
        return LOINC[text]
    analyte = _NAMES.get(text.lower())
    return None if analyte is None else (analyte, None)


def known_names() -> str:
    return ", ".join(ANALYTES)


def known_loinc() -> str:
    return ", ".join(f"{code} ({a.key})" for code, (a, _) in LOINC.items())
