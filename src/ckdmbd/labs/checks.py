"""Checks of a lab series: reference ranges, plausibility (likely unit errors), KDIGO 2017 targets on dialysis,
albumin-corrected calcium and the calcium-phosphate product.

- Reference range: the one reported with the result, else the analyte table's default (``ref_source``).
- Plausibility: a value outside the analyte's plausibility limits (engineering choices, unconfirmed; see
  :mod:`ckdmbd.labs.analytes`) is flagged, with the common unit in which the same number would be plausible
  (phosphate "6.6 mmol/L" is plausible as 6.6 mg/dL = 2.13 mmol/L).
- KDIGO 2017 (Kidney Int Suppl 2017;7:1-59), CKD G5D, for pre-dialysis samples and samples without a stated context
  (post-dialysis values are not judged against them): phosphate above the upper normal limit (lower it towards
  normal); calcium or ionized calcium above it (avoid hypercalcaemia); intact PTH outside about 2-9 x the assay's
  upper normal limit (the reported range's, else the default table's). KDIGO asks to judge trends, not single values.
- Corrected calcium (Payne 1973, BMJ 4:643): Ca + 0.02 x (40 - albumin g/L) mmol/L, for calcium and albumin sampled
  at the same time. It agrees poorly with ionized calcium in dialysis patients: prefer measured ionized calcium.
- Ca x P in mg^2/dL^2, for calcium and phosphate sampled at the same time, flagged above 55 mg^2/dL^2 (KDOQI 2003;
  KDIGO 2017 no longer uses the product).

Derived values use a value flagged as implausible in the unit where it is plausible, and say so; with no such unit
they are not computed.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import pandas as pd

from ckdmbd.labs.analytes import ANALYTES, Analyte
from ckdmbd.labs.conversion import UnitError, from_canonical, to_canonical
from ckdmbd.labs.series import POST

PAYNE_REFERENCE_ALBUMIN_G_L = 40.0  # Payne 1973
PAYNE_SLOPE_MMOL_PER_G = 0.02  # mmol/L calcium per g/L albumin below 40 g/L
KDIGO_PTH_ULN_MULTIPLES = (2.0, 9.0)  # KDIGO 2017, CKD G5D: intact PTH about 2-9 x the assay's upper normal limit
CAXP_LIMIT_MG2_DL2 = 55.0  # KDOQI 2003

LABELS = {
    "implausible": "IMPLAUSIBLE", "low": "low", "high": "high", "kdigo_phosphate": "KDIGO: P high",
    "kdigo_hypercalcaemia": "KDIGO: Ca high", "kdigo_pth_low": "KDIGO: PTH < 2xULN",
    "kdigo_pth_high": "KDIGO: PTH > 9xULN", "caxp_high": "> 55 (KDOQI)", "post_dialysis": "post-dialysis",
}


@dataclass(frozen=True)
class Flag:
    code: str  # a key of LABELS
    message: str

    @property
    def label(self) -> str:
        return LABELS[self.code]


@dataclass(frozen=True)
class SampleResult:
    time: str | None  # ISO 8601, UTC ("Z"), or None for a series in days
    day: float
    analyte: str
    name: str
    value: float
    unit: str
    reported_value: float
    reported_unit: str
    ref_low: float | None
    ref_high: float | None
    ref_source: str
    sample: str | None
    note: str
    plausible: bool
    plausible_as: dict | None  # {"unit", "value" (canonical unit)}: where an implausible value would be plausible
    flags: tuple[Flag, ...]


@dataclass(frozen=True)
class DerivedResult:
    time: str | None
    day: float
    quantity: str  # "corrected_calcium", "calcium_phosphate_product"
    name: str
    value: float | None  # None: not computed (see note)
    unit: str
    inputs: str
    note: str
    flags: tuple[Flag, ...]


@dataclass(frozen=True)
class LabCheck:
    source: str
    dialysis: bool
    samples: tuple[SampleResult, ...]
    derived: tuple[DerivedResult, ...]
    notes: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict:
        """Plain JSON-ready data (NaN as None)."""
        return _clean(asdict(self))


def _clean(obj):
    if isinstance(obj, dict):
        return {k: _clean(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_clean(v) for v in obj]
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def fmt(value: float | None) -> str:
    """A number as the tables show it: 3 significant digits, whole numbers from 100."""
    if value is None or not math.isfinite(value):
        return "-"
    return f"{value:.0f}" if abs(value) >= 100 else f"{value:.3g}"


def _opt(value) -> float | None:
    return None if value is None or pd.isna(value) else float(value)


def plausible_reading(analyte: Analyte, value: float, unit: str) -> tuple[str, float] | None:
    """The first of the analyte's common units in which ``value`` (reported in ``unit``) is plausible, and the
    value it then has in the canonical unit; None if there is none."""
    try:
        as_reported = to_canonical(analyte, value, unit)
    except UnitError:
        as_reported = math.nan
    for candidate in analyte.units:
        canonical = to_canonical(analyte, value, candidate)
        if math.isclose(canonical, as_reported, rel_tol=1e-9):
            continue
        if analyte.plausible.contains(canonical):
            return candidate, canonical
    return None


def _range_text(low: float | None, high: float | None, unit: str) -> str:
    if low is None:
        return f"<= {fmt(high)} {unit}"
    if high is None:
        return f">= {fmt(low)} {unit}"
    return f"{fmt(low)}-{fmt(high)} {unit}"


def _plausibility(analyte: Analyte, row) -> tuple[bool, tuple[str, float] | None, list[Flag]]:
    value = float(row.value)
    if analyte.plausible.contains(value):
        return True, None, []
    limits = _range_text(analyte.plausible.low, analyte.plausible.high, analyte.unit)
    reading = plausible_reading(analyte, float(row.reported_value), row.reported_unit)
    said = f"{row.reported_value:g} {row.reported_unit}"
    if reading is None:
        tail = "and the number is not plausible in any common unit either"
    else:
        unit, canonical = reading
        tail = (f"plausible as {row.reported_value:g} {unit} = {fmt(canonical)} {analyte.unit}: likely a unit error"
                if unit != analyte.unit else f"plausible as {fmt(canonical)} {unit}: likely a unit error")
    message = (f"{said} is implausible for {analyte.name} (plausibility limits {limits}, an engineering choice); "
               f"{tail}")
    return False, reading, [Flag("implausible", message)]


def _range_flags(analyte: Analyte, value: float, low: float | None, high: float | None, source: str,
                 name: str | None = None) -> list[Flag]:
    where = "reported with the result" if source == "reported" else "default table"
    rng = f"{_range_text(low, high, analyte.unit)}, {where}"
    said = f"{name or analyte.name} {fmt(value)} {analyte.unit}"
    if low is not None and value < low:
        return [Flag("low", f"{said} is below the reference range ({rng})")]
    if high is not None and value > high:
        return [Flag("high", f"{said} is above the reference range ({rng})")]
    return []


def _kdigo_flags(analyte: Analyte, value: float, high: float | None, source: str) -> list[Flag]:
    if analyte.key == "phosphate" and high is not None and value > high:
        return [Flag("kdigo_phosphate", f"phosphate {fmt(value)} mmol/L is above the upper normal limit "
                                        f"{fmt(high)} mmol/L: KDIGO 2017 (CKD G5D) suggests lowering it towards "
                                        "the normal range")]
    if analyte.key in ("calcium", "ionized_calcium") and high is not None and value > high:
        return [Flag("kdigo_hypercalcaemia", f"{analyte.name} {fmt(value)} mmol/L is above the upper normal limit "
                                             f"{fmt(high)} mmol/L: KDIGO 2017 (CKD G5D) suggests avoiding "
                                             "hypercalcaemia")]
    if analyte.key == "pth":
        uln = high if high is not None else analyte.reference.high
        whose = "the reported range's" if high is not None and source == "reported" else "the default table's"
        low_t, high_t = (m * uln for m in KDIGO_PTH_ULN_MULTIPLES)
        target = (f"the KDIGO 2017 (CKD G5D) range of about 2-9 x the upper normal limit ({fmt(low_t)}-{fmt(high_t)} "
                  f"pmol/L, with {whose} upper limit {fmt(uln)} pmol/L)")
        if value < low_t:
            return [Flag("kdigo_pth_low", f"intact PTH {fmt(value)} pmol/L is below {target}")]
        if value > high_t:
            return [Flag("kdigo_pth_high", f"intact PTH {fmt(value)} pmol/L is above {target}")]
    return []


KDIGO_ANALYTES = ("phosphate", "calcium", "ionized_calcium", "pth")


def _time(row) -> str | None:
    return None if pd.isna(row.time) else row.time.isoformat() + "Z"


def _sample_result(row, dialysis: bool) -> SampleResult:
    analyte = ANALYTES[row.analyte]
    value = float(row.value)
    low, high = _opt(row.ref_low), _opt(row.ref_high)
    plausible, reading, flags = _plausibility(analyte, row)
    flags += _range_flags(analyte, value, low, high, row.ref_source)
    if dialysis and row.analyte in KDIGO_ANALYTES:
        if not pd.isna(row.sample) and row.sample == POST:
            flags.append(Flag("post_dialysis", f"post-dialysis {analyte.name}: KDIGO targets refer to pre-dialysis "
                                               "values; not judged against them"))
        else:
            flags += _kdigo_flags(analyte, value, high, row.ref_source)
    return SampleResult(
        time=_time(row), day=float(row.day), analyte=analyte.key, name=analyte.name, value=value, unit=analyte.unit,
        reported_value=float(row.reported_value), reported_unit=row.reported_unit, ref_low=low, ref_high=high,
        ref_source=row.ref_source, sample=None if pd.isna(row.sample) else row.sample,
        note="" if pd.isna(row.note) else row.note,
        plausible=plausible, plausible_as=None if reading is None else {"unit": reading[0], "value": reading[1]},
        flags=tuple(flags),
    )


def _usable(result: SampleResult) -> tuple[float | None, str]:
    """The value derived quantities use, and how it was read."""
    said = f"{result.name} {result.reported_value:g} {result.reported_unit}"
    if result.plausible:
        return result.value, said
    if result.plausible_as is not None:
        unit, value = result.plausible_as["unit"], result.plausible_as["value"]
        return value, f"{said} read as {result.reported_value:g} {unit} ({fmt(value)} {result.unit}: as reported " \
                      "it is implausible)"
    return None, f"{said} is implausible in every common unit"


def _corrected_calcium(ca: SampleResult, alb: SampleResult, ion: SampleResult | None,
                       dialysis: bool) -> DerivedResult:
    calcium, ca_text = _usable(ca)
    albumin, alb_text = _usable(alb)
    inputs = f"{ca_text}; {alb_text}"
    caveat = ("Payne 1973: Ca + 0.02 x (40 - albumin g/L) mmol/L; it agrees poorly with ionized calcium in dialysis "
              "patients: prefer measured ionized calcium")
    if ion is not None:
        caveat += f" (measured at this time: {fmt(ion.value)} mmol/L)"
    name = "albumin-corrected calcium"
    if calcium is None or albumin is None:
        return DerivedResult(ca.time, ca.day, "corrected_calcium", name, None, "mmol/L", inputs,
                             "not computed: an input is implausible", ())
    value = calcium + PAYNE_SLOPE_MMOL_PER_G * (PAYNE_REFERENCE_ALBUMIN_G_L - albumin)
    analyte = ANALYTES["calcium"]
    flags = _range_flags(analyte, value, ca.ref_low, ca.ref_high, ca.ref_source, name)
    if dialysis and ca.sample != POST and ca.ref_high is not None and value > ca.ref_high:
        flags.append(Flag("kdigo_hypercalcaemia", f"{name} {fmt(value)} mmol/L is above the upper normal limit "
                                                  f"{fmt(ca.ref_high)} mmol/L: KDIGO 2017 suggests avoiding "
                                                  "hypercalcaemia (check ionized calcium)"))
    return DerivedResult(ca.time, ca.day, "corrected_calcium", name, value, "mmol/L", inputs, caveat, tuple(flags))


def _calcium_phosphate_product(ca: SampleResult, p: SampleResult) -> DerivedResult:
    calcium, ca_text = _usable(ca)
    phosphate, p_text = _usable(p)
    inputs = f"{ca_text}; {p_text}"
    name = "Ca x P product"
    if calcium is None or phosphate is None:
        return DerivedResult(ca.time, ca.day, "calcium_phosphate_product", name, None, "mg2/dL2", inputs,
                             "not computed: an input is implausible", ())
    ca_mg = from_canonical(ANALYTES["calcium"], calcium, "mg/dL")
    p_mg = from_canonical(ANALYTES["phosphate"], phosphate, "mg/dL")
    value = ca_mg * p_mg
    note = (f"{fmt(ca_mg)} mg/dL x {fmt(p_mg)} mg/dL = {fmt(calcium * phosphate)} mmol2/L2; KDIGO 2017 no longer "
            "uses the product: judge calcium and phosphate separately")
    flags = []
    if value > CAXP_LIMIT_MG2_DL2 and POST not in (ca.sample, p.sample):
        flags.append(Flag("caxp_high", f"Ca x P {fmt(value)} mg2/dL2 is above {CAXP_LIMIT_MG2_DL2:g} mg2/dL2 "
                                       "(KDOQI 2003)"))
    return DerivedResult(ca.time, ca.day, "calcium_phosphate_product", name, value, "mg2/dL2", inputs, note,
                         tuple(flags))


def check_labs(series: pd.DataFrame, *, dialysis: bool = True) -> LabCheck:
    """Check a lab series (from :func:`ckdmbd.labs.load_labs`); ``dialysis``: apply the KDIGO 2017 CKD G5D targets."""
    samples = [_sample_result(row, dialysis) for row in series.itertuples(index=False)]
    by_time: dict[float, dict[str, SampleResult]] = {}
    for s in samples:
        by_time.setdefault(s.day, {})[s.analyte] = s
    derived = []
    for found in by_time.values():
        if "calcium" in found and "albumin" in found:
            derived.append(_corrected_calcium(found["calcium"], found["albumin"], found.get("ionized_calcium"),
                                              dialysis))
        if "calcium" in found and "phosphate" in found:
            derived.append(_calcium_phosphate_product(found["calcium"], found["phosphate"]))
    return LabCheck(str(series.attrs.get("source", "")), dialysis, tuple(samples), tuple(derived),
                    _notes(series, samples, derived, dialysis))


def _notes(series: pd.DataFrame, samples: list[SampleResult], derived: list[DerivedResult],
           dialysis: bool) -> tuple[str, ...]:
    notes = ["Reference ranges: the one reported with each result, else the default table (ckdmbd labs analytes)."]
    if dialysis:
        notes.append("KDIGO 2017 (CKD G5D): lower elevated phosphate towards normal, avoid hypercalcaemia, keep "
                     "intact PTH at about 2-9 x the assay's upper normal limit; judge trends, not single values. "
                     "Applied to pre-dialysis samples and samples without a stated context.")
    if any(d.quantity == "corrected_calcium" for d in derived):
        notes.append("Albumin-corrected calcium (Payne 1973) agrees poorly with ionized calcium in dialysis "
                     "patients: prefer a measured ionized calcium.")
    if any(not s.plausible for s in samples):
        notes.append("Plausibility limits are ckdmbd's engineering choices, not published limits (unconfirmed); "
                     "see ckdmbd labs analytes.")
    skipped = series.attrs.get("skipped") or []
    if skipped:
        notes.append(f"Skipped {len(skipped)} result(s) of analytes outside the table: {', '.join(skipped)}.")
    return tuple(notes)
