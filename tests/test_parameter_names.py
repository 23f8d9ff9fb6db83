"""Parameters by readable name (issue 12): every parameter has one, units convert, the CLI lists them."""

from __future__ import annotations

import csv
import io

import pytest
from typer.testing import CliRunner

from ckdmbd import units
from ckdmbd.cli import app
from ckdmbd.model.configurations import CONFIGURATIONS, parameters
from ckdmbd.parameter_names import ALIASES, READABLE, ParameterNameError, lookup, registry, to_model_values


def invoke(*args: str):
    return CliRunner().invoke(app, list(args), prog_name="ckdmbd")


@pytest.mark.parametrize("configuration", CONFIGURATIONS)
def test_every_parameter_has_one_readable_name(configuration):
    table = registry(configuration)
    pset = parameters(configuration)
    assert sorted(p.symbol for p in table.values()) == sorted(pset)  # each parameter once
    for name, p in table.items():
        assert READABLE.fullmatch(name), name
        assert lookup(p.symbol, configuration) is p  # the symbol is still understood
    symbols = set(pset)
    clashes = [n for n, p in table.items() if n in symbols and n != p.symbol]
    assert not clashes, f"readable names that are another parameter's symbol: {clashes}"


def test_aliases_name_existing_parameters():
    every = set().union(*(parameters(c) for c in CONFIGURATIONS))
    assert not set(ALIASES) - every, "aliases of parameters that no longer exist"
    assert len(set(ALIASES.values())) == len(ALIASES)


@pytest.mark.parametrize("configuration", CONFIGURATIONS)
def test_defaults_round_trip_through_their_display_unit(configuration):
    for p in registry(configuration).values():
        assert p.to_model(p.default, p.name) == pytest.approx(p.default_model, rel=1e-12, abs=0.0)
        text = f"{p.default!r} {p.unit}" if p.unit != "1" else repr(p.default)
        assert p.to_model(text, p.name) == pytest.approx(p.default_model, rel=1e-12, abs=0.0), text


def test_clinical_units_convert_to_model_units():
    k_m = lookup("phosphate_mobilisation_clearance")
    assert k_m.unit == "mL/min" and k_m.model_unit == "L/h"
    assert k_m.default == pytest.approx(99.0)
    assert k_m.to_model("99 mL/min", "x") == pytest.approx(units.ml_min_to_l_h(99.0))
    assert k_m.to_model(99, "x") == pytest.approx(units.ml_min_to_l_h(99.0))  # bare number: the display unit
    assert k_m.to_model("6 L/h", "x") == pytest.approx(6.0)
    diet = lookup("dietary_phosphorus")
    assert diet.symbol == "OralPhos" and diet.unit == "mg/day"
    per_h = 1000.0 / units.PHOSPHORUS_G_PER_MOL / 24.0
    assert diet.to_model("1000 mg/day", "x") == pytest.approx(per_h)  # through the molar mass of phosphorus
    assert diet.to_model("1 g/day", "x") == pytest.approx(per_h)
    assert diet.to_model("24 mmol/day", "x") == pytest.approx(1.0)
    assert lookup("T49").name == "cell_phosphate_uptake_clearance"
    assert lookup("deposit_ksp_mM2").to_model("3.6 mmol^2/L^2", "x") == pytest.approx(3.6)
    assert lookup("vitamin_d_25_half_saturation_iu_per_day").to_model("4000 IU/day", "x") == 4000.0
    assert lookup("glomerular_filtration_rate").to_model("10 mL/min", "x") == pytest.approx(0.6)


@pytest.mark.parametrize(("name", "value", "message"), [
    ("phosphate_mobilisation_clearance", "99 mL", "'99 mL' is not convertible to mL/min"),
    ("phosphate_mobilisation_clearance", "99 blorbs/min", "unknown unit"),
    ("phosphate_mobilisation_clearance", "10**10**10 L/h", "unreadable unit"),
    ("phosphate_mobilisation_clearance", "-3 mL/min", "must not be negative"),
    ("phosphate_mobilisation_clearance", "1e400 mL/min", "not a finite number"),
    ("phosphate_mobilisation_clearance", True, "must be a number in mL/min"),
    ("vitamin_d_25_half_saturation_iu_per_day", "4000 ug/day", "must be given in IU/day"),
])
def test_bad_values_name_the_parameter_and_the_value(name, value, message):
    with pytest.raises(ParameterNameError, match="^parameters.k: .*" + message.replace("*", r"\*")):
        lookup(name).to_model(value, "parameters.k")


def test_unknown_names_suggest_the_closest():
    with pytest.raises(ParameterNameError, match="did you mean phosphate_mobilisation_clearance"):
        to_model_values({"phosphate_mobilization_clearance": "99 mL/min"})
    with pytest.raises(ParameterNameError, match="given twice"):
        to_model_values({"T49": "1 L/h", "cell_phosphate_uptake_clearance": "1 L/h"})
    with pytest.raises(ParameterNameError, match="in the 'reference' configuration"):
        to_model_values({"phosphate_mobilisation_clearance": "99 mL/min"}, "reference")


def test_cli_lists_parameters_as_table_and_csv():
    result = invoke("parameters", "--search", "mobilisation")
    assert result.exit_code == 0, result.output
    assert "phosphate_mobilisation_clearance" in result.output and "mL/min" in result.output
    assert "dietary_phosphorus" not in result.output
    result = invoke("parameters", "--configuration", "reference", "--format", "csv")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.output)))
    assert len(rows) == len(parameters("reference"))
    oral = next(r for r in rows if r["symbol"] == "OralPhos")
    assert oral["name"] == "dietary_phosphorus" and oral["unit"] == "mg/day" and oral["model_unit"] == "mmol/h"
    assert float(oral["default"]) == pytest.approx(0.4375 * 24 * units.PHOSPHORUS_G_PER_MOL)
    for args, message in ((("--configuration", "nope"), "--configuration: 'nope'"),
                          (("--format", "xml"), "--format: 'xml'"),
                          (("--search", "no-such-parameter-text"), "no parameter")):
        result = invoke("parameters", *args)
        assert result.exit_code == 2 and message in result.output and len(result.output.strip().splitlines()) == 1
