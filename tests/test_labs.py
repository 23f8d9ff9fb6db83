"""Lab series: CSV and FHIR R4 import, unit conversion, checks, and ``ckdmbd labs`` (mounted on a small app here)."""

from __future__ import annotations

import copy
import json
from importlib import resources

import pytest
import typer
from typer.testing import CliRunner

from ckdmbd import units
from ckdmbd.cli import _OneLineErrors
from ckdmbd.cli_labs import labs_app
from ckdmbd.labs import ANALYTES, LabError, check_labs, convert, load_labs, parse_csv, parse_fhir

EXAMPLES = resources.files("ckdmbd.examples")
SEED_CSV = EXAMPLES / "seed-case-labs.csv"
SEED_FHIR = EXAMPLES / "seed-case-labs.fhir.json"
HEADER = "time,analyte,value,unit,ref_low,ref_high,sample,note\n"
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"


def csv_series(*rows: str, header: str = HEADER, **kwargs):
    return parse_csv(header + "".join(r + "\n" for r in rows), "t.csv", **kwargs)


def flags(result, analyte: str | None = None) -> set[str]:
    return {f.code for s in result.samples if analyte in (None, s.analyte) for f in s.flags}


def derived(result, quantity: str):
    found = [d for d in result.derived if d.quantity == quantity]
    assert len(found) == 1, found
    return found[0]


# --- conversions ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("analyte", "value", "unit", "target", "expected", "rel"), [
    ("calcium", 1.0, "mmol/L", "mg/dL", 4.008, 1e-3),
    ("phosphate", 1.0, "mmol/L", "mg/dL", 3.097, 1e-3),
    ("pth", 1.0, "pmol/L", "pg/mL", 9.43, 1e-3),
    ("pth", 1.0, "ng/L", "pg/mL", 1.0, 1e-12),
    ("calcitriol", 1.0, "pmol/L", "pg/mL", 0.4166, 1e-3),
    ("vitamin_d_25oh", 1.0, "nmol/L", "ng/mL", 0.4006, 1e-3),
    ("albumin", 4.0, "g/dL", "g/L", 40.0, 1e-12),
    ("alp", 1.0, "ukat/L", "U/L", 60.0, 1e-12),
    ("phosphate", 6.6, "mg/dL", "mmol/L", 2.13, 2e-3),
    ("calcium", 2.5, "mmol/l", "mg/dL", units.calcium_mg_dl(2.5), 1e-12),  # UCUM allows l for litre
])
def test_conversions(analyte, value, unit, target, expected, rel):
    assert convert(ANALYTES[analyte], value, unit, target) == pytest.approx(expected, rel=rel)


def test_mass_units_are_converted_to_the_canonical_unit_on_import():
    series = csv_series("2001-01-01,calcium,9.2,mg/dL,8.5,10.5,,", "2001-01-01,pth,300,pg/mL,,,,",
                        "2001-01-01,albumin,3.5,g/dL,,,,")
    ca = series[series.analyte == "calcium"].iloc[0]
    assert ca.value == pytest.approx(9.2 / 4.0078) and ca.unit == "mmol/L"
    assert (ca.reported_value, ca.reported_unit, ca.ref_source) == (9.2, "mg/dL", "reported")
    assert ca.ref_low == pytest.approx(8.5 / 4.0078) and ca.ref_high == pytest.approx(10.5 / 4.0078)
    assert series[series.analyte == "pth"].value.iloc[0] == pytest.approx(300 / 9.425)
    assert series[series.analyte == "albumin"].value.iloc[0] == pytest.approx(35.0)


# --- the seed case: CSV and FHIR --------------------------------------------------------------------------------


def test_seed_csv_and_fhir_give_identical_series_and_checks():
    a, b = load_labs(SEED_CSV), load_labs(SEED_FHIR)
    assert len(a) == 20
    assert a.drop(columns="where").equals(b.drop(columns="where"))
    ra, rb = check_labs(a).to_dict(), check_labs(b).to_dict()
    assert ra.pop("source") != rb.pop("source")
    assert ra == rb


def test_seed_presentation_values_are_the_case_reports():
    s = load_labs(SEED_CSV)
    at = s[s.time == "2001-07-02T08:00:00"].set_index("analyte")
    assert at.loc["calcium", ["value", "ref_low", "ref_high"]].tolist() == [2.12, 2.10, 2.60]
    assert at.loc["phosphate", ["reported_value", "reported_unit", "ref_low", "ref_high"]].tolist() == [
        6.6, "mmol/L", 0.87, 1.45]
    assert at.loc["pth", ["value", "ref_low", "ref_high"]].tolist() == [3.7, 1.5, 6.1]
    assert set(at.ref_source) == {"reported"}
    others = s[s.time != "2001-07-02T08:00:00"]
    assert (others.note == "illustrative, not from the case report").all()


def test_seed_phosphate_is_implausible_in_mmol_and_plausible_in_mg_dl():
    result = check_labs(load_labs(SEED_CSV))
    (p,) = [s for s in result.samples if s.analyte == "phosphate" and s.time == "2001-07-02T08:00:00Z"]
    assert not p.plausible
    assert p.plausible_as["unit"] == "mg/dL"
    assert p.plausible_as["value"] == pytest.approx(2.13, abs=0.005)
    (flag,) = [f for f in p.flags if f.code == "implausible"]
    assert "6.6 mmol/L is implausible" in flag.message and "plausible as 6.6 mg/dL = 2.13 mmol/L" in flag.message
    assert all(s.plausible for s in result.samples if s is not p)


# --- checks -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("pth", "unit", "ref", "expected"), [
    (10, "pmol/L", ",", {"kdigo_pth_low"}),  # default ULN 6.1: 2-9 x ULN = 12.2-54.9 pmol/L
    (30, "pmol/L", ",", set()),
    (60, "pmol/L", ",", {"kdigo_pth_high"}),
    (60, "pmol/L", "1.6,7.0", set()),  # the reported range's ULN: 14-63 pmol/L
    (13, "pmol/L", "1.6,7.0", {"kdigo_pth_low"}),
    (500, "pg/mL", "15,65", set()),  # ULN 65 pg/mL: 130-585 pg/mL
    (600, "pg/mL", "15,65", {"kdigo_pth_high"}),
])
def test_kdigo_pth_within_2_to_9_times_the_upper_normal_limit(pth, unit, ref, expected):
    result = check_labs(csv_series(f"2001-01-01,pth,{pth},{unit},{ref},pre,"))
    assert {c for c in flags(result) if c.startswith("kdigo")} == expected


def test_kdigo_hypercalcaemia_and_phosphate_only_for_pre_dialysis_samples_on_dialysis():
    rows = ("2001-01-01T08:00Z,calcium,2.75,mmol/L,,,pre,", "2001-01-01T08:00Z,phosphate,2.0,mmol/L,,,pre,",
            "2001-01-01T08:00Z,ionized_calcium,1.45,mmol/L,,,pre,", "2001-01-01T12:00Z,calcium,2.75,mmol/L,,,post,")
    result = check_labs(csv_series(*rows))
    pre = [s for s in result.samples if s.sample == "pre-dialysis"]
    assert {f.code for s in pre for f in s.flags} == {"high", "kdigo_hypercalcaemia", "kdigo_phosphate"}
    (post,) = [s for s in result.samples if s.sample == "post-dialysis"]
    assert {f.code for f in post.flags} == {"high", "post_dialysis"}
    off = check_labs(csv_series(*rows), dialysis=False)
    assert not {c for c in flags(off) if c.startswith("kdigo") or c == "post_dialysis"}


def test_reported_range_wins_over_the_default_table():
    result = check_labs(csv_series("2001-01-01,phosphate,1.5,mmol/L,0.8,1.6,,", "2001-01-02,phosphate,1.5,mmol/L,,,,"))
    first, second = result.samples
    assert (first.ref_source, first.flags) == ("reported", ())
    assert second.ref_source == "default" and {f.code for f in second.flags} == {"high", "kdigo_phosphate"}


def test_corrected_calcium_payne():
    result = check_labs(csv_series("2001-01-01,calcium,2.0,mmol/L,,,,", "2001-01-01,albumin,3.0,g/dL,,,,",
                                   "2001-01-01,ionized_calcium,1.05,mmol/L,,,,"))
    cc = derived(result, "corrected_calcium")
    assert cc.value == pytest.approx(2.0 + 0.02 * (40 - 30))
    assert "agrees poorly with ionized calcium" in cc.note and "1.05 mmol/L" in cc.note
    assert any("agrees poorly" in n for n in result.notes)
    high = check_labs(csv_series("2001-01-01,calcium,2.55,mmol/L,,,,", "2001-01-01,albumin,25,g/L,,,,"))
    assert {f.code for f in derived(high, "corrected_calcium").flags} == {"high", "kdigo_hypercalcaemia"}


def test_calcium_phosphate_product_in_mg2_dl2():
    result = check_labs(csv_series("2001-01-01,calcium,2.5,mmol/L,,,,", "2001-01-01,phosphate,2.0,mmol/L,,,,",
                                   "2001-01-02,calcium,2.3,mmol/L,,,,", "2001-01-02,phosphate,1.2,mmol/L,,,,"))
    first, second = (d for d in result.derived if d.quantity == "calcium_phosphate_product")
    assert first.unit == "mg2/dL2"
    assert first.value == pytest.approx(units.calcium_mg_dl(2.5) * units.phosphate_mg_dl(2.0), rel=1e-9)
    assert first.value == pytest.approx(62.07, abs=0.01)
    assert {f.code for f in first.flags} == {"caxp_high"} and second.flags == ()


def test_seed_calcium_phosphate_product_uses_the_plausible_reading():
    result = check_labs(load_labs(SEED_CSV))
    (cp,) = [d for d in result.derived if d.quantity == "calcium_phosphate_product" and d.day == 574.0]
    assert cp.value == pytest.approx(units.calcium_mg_dl(2.12) * 6.6)
    assert "read as 6.6 mg/dL" in cp.inputs


@pytest.mark.parametrize(("row", "unit"), [
    ("calcium,9.4,mmol/L", "mg/dL"), ("albumin,4.1,g/L", "g/dL"), ("ionized_calcium,4.8,mmol/L", "mg/dL"),
    ("pth,3000,pmol/L", "pg/mL"), ("alp,2,U/L", "ukat/L"), ("calcium,2.3,mg/dL", "mmol/L"),
])
def test_likely_unit_errors_name_the_plausible_unit(row, unit):
    (s,) = check_labs(csv_series(f"2001-01-01,{row},,,,")).samples
    assert not s.plausible and s.plausible_as["unit"] == unit


def test_day_numbers_and_sorting():
    series = csv_series("-30,phosphate,2.1,mmol/L,", "0,phosphate,2.0,mmol/L,", "0,calcium,2.2,mmol/L,",
                        header="day,analyte,value,unit,sample\n")
    assert series.day.tolist() == [-30.0, 0.0, 0.0] and series.time.isna().all()
    assert series.attrs["time_kind"] == "day"
    late = ("2001-01-05,phosphate,2.1,mmol/L,,,,", "2001-01-01,phosphate,2.0,mmol/L,,,,")
    with pytest.raises(LabError, match="out of order"):
        csv_series(*late)
    assert csv_series(*late, sort=True).reported_value.tolist() == [2.0, 2.1]


# --- FHIR R4 as servers send it ---------------------------------------------------------------------------------


def r4_observation(oid: str, code: str, when: str, quantity: dict, **extra) -> dict:
    """An Observation shaped like the SMART/Logica R4 sandbox's search results."""
    return {
        "fullUrl": f"https://fhir.example.org/r4/Observation/{oid}",
        "resource": {
            "resourceType": "Observation", "id": oid,
            "meta": {"versionId": "1", "lastUpdated": "2020-07-15T02:58:02.000+00:00"},
            "text": {"status": "generated", "div": f"<div xmlns=\"http://www.w3.org/1999/xhtml\">{oid}</div>"},
            "identifier": [{"use": "official", "system": "http://example.org/obs", "value": oid}],
            "status": "final",
            "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category",
                                      "code": "laboratory", "display": "Laboratory"}], "text": "Laboratory"}],
            "code": {"coding": [{"system": LOINC, "code": code}], "text": code},
            "subject": {"reference": "Patient/p1"},
            "effectiveDateTime": when,
            "issued": "2007-08-01T10:00:00.000+02:00",
            "performer": [{"reference": "Practitioner/SMART-1234"}],
            "valueQuantity": quantity,
            **extra,
        },
        "search": {"mode": "match"},
    }


def q(value, unit, code=True) -> dict:
    return {"value": value, "unit": unit, "system": UCUM, **({"code": unit} if code else {})}


R4_BUNDLE = {
    "resourceType": "Bundle", "id": "search-1", "meta": {"lastUpdated": "2020-07-15T03:00:00Z"},
    "type": "searchset", "total": 6,
    "link": [{"relation": "self", "url": "https://fhir.example.org/r4/Observation?patient=p1"}],
    "entry": [
        {"fullUrl": "https://fhir.example.org/r4/Patient/p1",
         "resource": {"resourceType": "Patient", "id": "p1", "name": [{"family": "Doe", "given": ["J"]}],
                      "birthDate": "1962-01-01"}, "search": {"mode": "include"}},
        r4_observation("ca-1", "17861-6", "2007-08-01", q(9.1, "mg/dL"),
                       referenceRange=[{"low": q(8.5, "mg/dL"), "high": q(10.5, "mg/dL"),
                                        "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/"
                                                                       "referencerange-meaning", "code": "normal",
                                                             "display": "Normal Range"}], "text": "Normal Range"}}]),
        r4_observation("p-1", "2777-1", "2007-08-01", q(6.2, "mg/dL", code=False),
                       interpretation=[{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/"
                                                              "v3-ObservationInterpretation", "code": "H"}]}]),
        r4_observation("pth-1", "2731-8", "2007-08-01T09:30:00-04:00", q(410, "pg/mL"),
                       specimen={"display": "Pre-dialysis"}, note=[{"text": "mid-week"}]),
        r4_observation("alb-1", "1751-7", "2007-08-01", q(3.6, "g/dL"), specimen={"display": "Serum"}),
        r4_observation("old", "17861-6", "2007-08-01", q(12.0, "mg/dL"), status="entered-in-error"),
        r4_observation("ca-0", "17861-6", "2007-07-01", q(9.3, "mg/dL")),
    ],
}


def test_real_r4_shaped_bundle():
    series = parse_fhir(json.dumps(R4_BUNDLE), "r4.json", sort=True)  # a searchset has no time order
    assert series.analyte.tolist() == ["calcium", "calcium", "phosphate", "albumin", "pth"]
    ca = series[(series.analyte == "calcium") & (series.day > 0)].iloc[0]
    assert ca.value == pytest.approx(9.1 / 4.0078) and ca.ref_source == "reported"
    pth = series[series.analyte == "pth"].iloc[0]
    assert str(pth.time) == "2007-08-01 13:30:00"  # UTC
    assert pth["sample"] == "pre-dialysis" and pth.note == "mid-week"
    assert series.loc[series.analyte == "albumin", "sample"].isna().all()  # "Serum": the specimen, not the timing
    result = check_labs(series)
    assert derived(result, "corrected_calcium").value == pytest.approx(9.1 / 4.0078 + 0.02 * 4)
    assert derived(result, "calcium_phosphate_product").value == pytest.approx(9.1 * 6.2, rel=1e-9)


def test_unknown_analytes_can_be_skipped():
    bundle = copy.deepcopy(R4_BUNDLE)
    bundle["entry"].append(r4_observation("glu", "2345-7", "2007-08-02", q(95, "mg/dL")))
    culture = r4_observation("ucx", "630-4", "2007-08-02", None)  # not a quantity: skipped before it is read
    del culture["resource"]["valueQuantity"]
    bundle["entry"].append(culture | {"resource": culture["resource"] | {"valueString": "no growth"}})
    expected = r"entry\[7\] \(Observation/glu\), code.coding\[0\].code '2345-7': unknown LOINC"
    with pytest.raises(LabError, match=expected):
        parse_fhir(json.dumps(bundle), "r4.json", sort=True)
    series = parse_fhir(json.dumps(bundle), "r4.json", sort=True, skip_unknown=True)
    assert series.attrs["skipped"] == ["entry[7] (Observation/glu): 2345-7", "entry[8] (Observation/ucx): 630-4"]
    assert any("Skipped 2" in n for n in check_labs(series).notes)
    rows = ("2001-01-01,sodium,140,mmol/L,,,,", "2001-01-01,calcium,2.2,mmol/L,,,,", "2001-01-02,sodium,x,y,,,,")
    with pytest.raises(LabError, match="line 2, analyte 'sodium': unknown analyte"):
        csv_series(*rows)
    series = csv_series(*rows, skip_unknown=True)
    assert series.analyte.tolist() == ["calcium"] and series.attrs["skipped"] == ["line 2: sodium", "line 4: sodium"]


# --- malformed input: one-line LabError naming the row or entry -------------------------------------------------

GOOD = "2001-01-01,calcium,2.2,mmol/L,,,,"
CSV_CASES = {
    "missing column": ("time,analyte,value\n2001-01-01,calcium,2.2\n", "line 1 (header): missing column 'unit'"),
    "no time column": ("analyte,value,unit\ncalcium,2.2,mmol/L\n", "missing column 'time'"),
    "time and day": ("time,day,analyte,value,unit\n2001-01-01,0,calcium,2.2,mmol/L\n", "not both"),
    "unknown column": ("time,analyte,value,unit,ref_hi\n2001-01-01,calcium,2.2,mmol/L,2.6\n",
                       "column 'ref_hi': unknown column"),
    "non-numeric value": (HEADER + "2001-01-01,calcium,abc,mmol/L,,,,\n", "line 2, value 'abc': not a number"),
    "censored value": (HEADER + "2001-01-01,pth,<0.5,pmol/L,,,,\n", "line 2, value '<0.5': not a number; censored"),
    "nan value": (HEADER + "2001-01-01,pth,nan,pmol/L,,,,\n", "line 2, value 'nan': not a number"),
    "negative value": (HEADER + "2001-01-01,pth,-1,pmol/L,,,,\n", "line 2, value -1.0: a concentration cannot be"),
    "empty value": (HEADER + "2001-01-01,pth,,pmol/L,,,,\n", "line 2, value '': empty"),
    "unknown analyte": (HEADER + "2001-01-01,sodium,140,mmol/L,,,,\n", "line 2, analyte 'sodium': unknown analyte"),
    "unknown loinc": (HEADER + "2001-01-01,2345-7,95,mg/dL,,,,\n", "line 2, analyte '2345-7': unknown LOINC code"),
    "unit of wrong dimension": (HEADER + "2001-01-01,phosphate,2.0,U/L,,,,\n",
                                "line 2, unit 'U/L': a unit of enzymatic activity/volume, which cannot express"),
    "not a concentration": (HEADER + "2001-01-01,phosphate,2.0,mg,,,,\n",
                            "line 2, unit 'mg': not a concentration (use mmol/L or mg/dL for phosphate)"),
    "annotation unit": (HEADER + "2001-01-01,pth,2.0,{RU}/mL,,,,\n", "line 2, unit '{RU}/mL': UCUM annotations"),
    "arbitrary unit": (HEADER + "2001-01-01,alp,80,[IU]/L,,,,\n", "line 2, unit '[IU]/L': UCUM annotations"),
    "unknown unit": (HEADER + "2001-01-01,calcium,4.4,mEq/L,,,,\n", "line 2, unit 'mEq/L': unknown unit"),
    "molar unit for albumin": (HEADER + "2001-01-01,albumin,0.6,mmol/L,,,,\n", "line 2, unit 'mmol/L'"),
    "loinc unit mismatch": (HEADER + "2001-01-01,2000-8,9.0,mg/dL,,,,\n",
                            "line 2, unit 'mg/dL': LOINC 2000-8 is total calcium as moles/volume"),
    "duplicate sample": (HEADER + GOOD + "\n" + GOOD.replace("2.2", "2.3") + "\n",
                         "line 3, time '2001-01-01T00:00:00': duplicate sample: calcium at this time is already "
                         "given in line 2"),
    "out of order": (HEADER + GOOD + "\n" + GOOD.replace("01-01", "00-12") + "\n", "line 3, time '2000-12-01"),
    "bad time": (HEADER + "yesterday,calcium,2.2,mmol/L,,,,\n", "line 2, time 'yesterday': not an ISO 8601"),
    "partial date": (HEADER + "2001-07,calcium,2.2,mmol/L,,,,\n", "line 2, time '2001-07': not an ISO 8601"),
    "bad day": ("day,analyte,value,unit\nthree,calcium,2.2,mmol/L\n", "line 2, day 'three': not a number"),
    "ragged row": (HEADER + "2001-01-01,calcium,2.2,mmol/L\n", "line 2: 4 fields, but the header has 8 columns"),
    "inverted range": (HEADER + "2001-01-01,calcium,2.2,mmol/L,2.6,2.1,,\n", "line 2, ref_low 2.6: the reference"),
    "bad ref": (HEADER + "2001-01-01,calcium,2.2,mmol/L,low,2.6,,\n", "line 2, ref_low 'low': not a number"),
    "bad sample": (HEADER + "2001-01-01,calcium,2.2,mmol/L,,,during,\n", "line 2, sample 'during': unknown sample"),
    "empty file": ("", "empty file"),
    "header only": ("# comment\n" + HEADER, "no data rows after the header (line 2)"),
    "unterminated quote": (HEADER + '2001-01-01,calcium,2.2,mmol/L,,,,"open\n', "not valid CSV"),
}


@pytest.mark.parametrize("case", sorted(CSV_CASES))
def test_malformed_csv(case):
    text, expected = CSV_CASES[case]
    with pytest.raises(LabError) as info:
        parse_csv(text, "bad.csv")
    message = str(info.value)
    assert isinstance(info.value, ValueError)
    assert "\n" not in message and message.startswith("bad.csv: ")
    assert expected in message, message


def _bundle(*observations: dict, **changes) -> str:
    return json.dumps({"resourceType": "Bundle", "type": "collection", "entry": list(observations), **changes})


def _obs(oid="o1", code="2000-8", when="2001-01-01T08:00:00Z", quantity=None, drop=(), **extra) -> dict:
    resource = {"resourceType": "Observation", "id": oid, "status": "final",
                "code": {"coding": [{"system": LOINC, "code": code}]}, "effectiveDateTime": when,
                "valueQuantity": q(2.2, "mmol/L") if quantity is None else quantity, **extra}
    return {"resource": {k: v for k, v in resource.items() if v is not None and k not in drop}}


FHIR_CASES = {
    "not json": ("{not json", "not JSON: Expecting property name"),
    "json array": ("[]", "the file holds a JSON list, expected a Bundle"),
    "not a bundle": (json.dumps(_obs()["resource"]), "resourceType 'Observation': expected a Bundle"),
    "no observations": (_bundle(), "no Observation entries"),
    "entry not a list": (_bundle(entry={"a": 1}), "entry {'a': 1}: expected a list"),
    "no bundle type": (json.dumps({"resourceType": "Bundle", "entry": [_obs()]}), "Bundle, type: Value for the"),
    "no valueQuantity": (_bundle(_obs(drop=("valueQuantity",), valueString="high")),
                         "entry[0] (Observation/o1), valueQuantity None: missing: the result is a valueString"),
    "data absent": (_bundle(_obs(drop=("valueQuantity",), dataAbsentReason={"text": "haemolysed"})),
                    "valueQuantity None: missing (dataAbsentReason 'haemolysed')"),
    "value not a number": (_bundle(_obs(quantity={"value": "abc", "code": "mmol/L"})),
                           "entry[0] (Observation/o1), valueQuantity.value 'abc'"),
    "no status": (_bundle(_obs(drop=("status",))),
                  "entry[0] (Observation/o1), status: Value for the field 'status' is required"),
    "unknown loinc": (_bundle(_obs(code="2345-7")), "entry[0] (Observation/o1), code.coding[0].code '2345-7': "
                                                    "unknown LOINC code"),
    "no loinc coding": (_bundle({"resource": {**_obs()["resource"], "code": {
        "coding": [{"system": "http://snomed.info/sct", "code": "271240001"}], "text": "Calcium"}}}),
        "entry[0] (Observation/o1), code.coding 'Calcium': no LOINC coding"),
    "loinc unit mismatch": (_bundle(_obs(quantity=q(9.0, "mg/dL"))),
                            "entry[0] (Observation/o1), valueQuantity.code 'mg/dL': LOINC 2000-8 is total calcium "
                            "as moles/volume, but the unit is mass/volume (use LOINC 17861-6"),
    "unit of wrong dimension": (_bundle(_obs(code="14879-1", quantity=q(2.0, "U/L"))),
                                "entry[0] (Observation/o1), valueQuantity.code 'U/L'"),
    "annotation unit": (_bundle(_obs(code="6768-6", quantity=q(80, "{RU}/mL"))), "'{RU}/mL': UCUM annotations"),
    "not ucum": (_bundle(_obs(quantity={"value": 2.2, "unit": "mmol/L", "system": "http://example.org/units",
                                        "code": "mmol/L"})), "valueQuantity.system 'http://example.org/units': not "
                                                             "UCUM"),
    "no unit": (_bundle(_obs(quantity={"value": 2.2})), "entry[0] (Observation/o1), valueQuantity.code None: missing"),
    "no effective": (_bundle(_obs(drop=("effectiveDateTime",))),
                     "entry[0] (Observation/o1), effectiveDateTime None: missing"),
    "effective period": (_bundle(_obs(drop=("effectiveDateTime",), effectivePeriod={"start": "2001-01-01T08:00:00Z"})),
                         "effectivePeriod is not supported"),
    "partial date": (_bundle(_obs(when="2001-07")), "effectiveDateTime '2001-07': not a full date"),
    "comparator": (_bundle(_obs(quantity={**q(0.5, "mmol/L"), "comparator": "<"})),
                   "valueQuantity.comparator '<': censored values"),
    "duplicate": (_bundle(_obs("a"), _obs("b")), "entry[1] (Observation/b), effectiveDateTime "
                                                 "'2001-01-01T08:00:00': duplicate sample: calcium at this time is "
                                                 "already given in entry[0] (Observation/a)"),
    "out of order": (_bundle(_obs("a"), _obs("b", when="2000-12-31")), "entry[1] (Observation/b), "
                                                                       "effectiveDateTime '2000-12-31T00:00:00': "
                                                                       "out of order"),
    "entry not an object": (_bundle(_obs(), "x"), "entry[1] 'x': expected an object"),
}


@pytest.mark.parametrize("case", sorted(FHIR_CASES))
def test_malformed_fhir(case):
    text, expected = FHIR_CASES[case]
    with pytest.raises(LabError) as info:
        parse_fhir(text, "bad.json")
    message = str(info.value)
    assert "\n" not in message and message.startswith("bad.json: ")
    assert expected in message, message


def test_entry_index_counts_every_entry_of_the_file():
    text = _bundle({"resource": {"resourceType": "Patient", "id": "p"}}, _obs("a"),
                   _obs("b", quantity={"value": "x1", "code": "mmol/L"}))
    with pytest.raises(LabError, match=r"entry\[2\] \(Observation/b\), valueQuantity.value 'x1'"):
        parse_fhir(text, "bad.json")


def test_unreadable_files(tmp_path):
    with pytest.raises(LabError, match="cannot read"):
        load_labs(tmp_path / "missing.csv")
    binary = tmp_path / "labs.csv"
    binary.write_bytes(b"\xff\xfe\x00time")
    with pytest.raises(LabError, match="not UTF-8"):
        load_labs(binary)
    sniffed = tmp_path / "labs.txt"  # FHIR by content, whatever the name
    sniffed.write_text(_bundle(_obs()))
    assert load_labs(sniffed).analyte.tolist() == ["calcium"]


# --- the command ------------------------------------------------------------------------------------------------

app = typer.Typer(add_completion=False, no_args_is_help=True, cls=_OneLineErrors)
app.add_typer(labs_app, name="labs")


@app.command()
def version() -> None:  # a second command, so that `labs` is a subcommand as in the real app
    typer.echo("0")


def invoke(*args: str):
    return CliRunner().invoke(app, list(args), prog_name="ckdmbd")


def test_cli_check_prints_the_table_with_flags():
    result = invoke("labs", "check", str(SEED_CSV))
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    out = result.stdout
    assert "IMPLAUSIBLE" in out and "KDIGO: PTH < 2xULN" in out and "Ca x P product" in out
    assert "plausible as 6.6 mg/dL = 2.13 mmol/L" in out
    assert "illustrative, not from the case report" in out


def test_cli_check_json_is_the_same_for_csv_and_fhir():
    a, b = invoke("labs", "check", "--json", str(SEED_CSV)), invoke("labs", "check", "--json", str(SEED_FHIR))
    assert a.exit_code == 0 and b.exit_code == 0, a.output + b.output
    ja, jb = json.loads(a.stdout), json.loads(b.stdout)
    assert ja.pop("source").endswith("seed-case-labs.csv")
    jb.pop("source")
    assert ja == jb
    (p,) = [s for s in ja["samples"] if s["analyte"] == "phosphate" and not s["plausible"]]
    assert p["plausible_as"]["unit"] == "mg/dL" and p["plausible_as"]["value"] == pytest.approx(2.131, abs=1e-3)


def check_rejected(result, expected: str) -> None:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("ckdmbd: error: "), result.stderr
    assert expected in lines[0], lines[0]


def test_cli_bad_files(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text(HEADER + "2001-01-01,calcium,abc,mmol/L,,,,\n")
    check_rejected(invoke("labs", "check", str(bad)), "line 2, value 'abc': not a number")
    check_rejected(invoke("labs", "check", str(tmp_path / "missing.csv")), "cannot read")
    notjson = tmp_path / "bad.json"
    notjson.write_text("{")
    check_rejected(invoke("labs", "check", "--json", str(notjson)), "not JSON")
    check_rejected(invoke("labs", "check"), "Missing argument")


def test_cli_analytes_lists_the_table_with_sources():
    result = invoke("labs", "analytes")
    assert result.exit_code == 0, result.output
    for key in ANALYTES:
        assert f"{key}: " in result.stdout
    assert result.stdout.count("engineering choice") >= len(ANALYTES)
