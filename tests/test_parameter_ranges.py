"""Declared physiological ranges (issue 15): every parameter of every configuration has one, with a source, in its
own unit, containing its nominal value; a value outside warns with one line, a value outside the hard limits is
refused before a run; and the box of declared ranges is one in which the steady-state derivation always exists."""

from __future__ import annotations

import math
import warnings

import pytest

from ckdmbd.citations import CITATIONS
from ckdmbd.model.configurations import model, parameters
from ckdmbd.parameter_ranges import (
    ParameterRangeError,
    ParameterRangeWarning,
    check_parameter_ranges,
    missing_ranges,
    ranges,
)
from ckdmbd.parameters import ParameterError
from ckdmbd.simulation import simulate

CONFIGURATIONS = ("reference", "corrected", "default")


@pytest.mark.parametrize("configuration", CONFIGURATIONS)
def test_every_parameter_has_a_range_in_its_unit_containing_its_value(configuration: str) -> None:
    pset = parameters(configuration)
    assert missing_ranges(pset, configuration) == []
    declared = ranges(configuration)
    for name in pset:
        r = declared[name]
        assert r.unit == pset.record(name).unit, name
        assert r.low <= pset[name] <= r.high, (name, r.low, pset[name], r.high)
        assert (r.source == "assumed" and r.description.startswith("assumed:")) or r.source in CITATIONS, name
    assert check_parameter_ranges(pset, configuration) == []


def test_no_range_names_a_parameter_that_does_not_exist() -> None:
    known = set().union(*(parameters(c) for c in CONFIGURATIONS))
    assert sorted(set(ranges("reference")) - known) == []


def test_a_value_outside_its_range_warns_with_one_line_naming_it() -> None:
    with pytest.warns(ParameterRangeWarning) as caught:
        lines = check_parameter_ranges({"V1": 40.0, "T57": 100.0})
    assert len(lines) == 1 and len(caught) == 1
    message = str(caught[0].message)
    assert "\n" not in message
    assert "V1 = 40 L" in message and "physiological range 10 to 22 L" in message and "Guyton" in message


@pytest.mark.parametrize(("name", "value", "limits"), [
    ("binder_adherence", 1.5, "0 to 1"), ("FracJ14", -0.1, "0 to 1"), ("T57", -5.0, "0 to inf"),
    ("V1", math.nan, "0 to inf"), ("dialysate_calcium_mM", math.inf, "0 to inf"),
])
def test_a_value_outside_its_limits_is_refused_with_one_line(name: str, value: float, limits: str) -> None:
    with pytest.raises(ParameterRangeError) as info:
        check_parameter_ranges({name: value}, warn=False)
    message = str(info.value)
    assert "\n" not in message and name in message and limits in message
    assert isinstance(info.value, ParameterError)


def test_simulate_refuses_a_set_outside_the_limits_before_running() -> None:
    with pytest.raises(ParameterRangeError, match="binder_adherence = 2"):
        simulate("default", duration_h=24.0, parameters={"binder_adherence": 2.0})
    with warnings.catch_warnings():
        warnings.simplefilter("error", ParameterRangeWarning)
        with pytest.raises(ParameterRangeWarning, match="T57 = 400"):
            simulate("reference", duration_h=1.0, parameters={"T57": 400.0})


@pytest.mark.parametrize("configuration", CONFIGURATIONS)
def test_every_set_inside_the_declared_ranges_can_be_derived(configuration: str) -> None:
    """The ranges of coupled constants (an EC50's floor, ceiling and baseline) are narrow enough that the
    steady-state construction exists anywhere in the box: 300 log-uniform draws, none refused (derive_checked refuses
    a set whose derived constants would not be finite positive numbers)."""
    from ckdmbd.robustness import sample_parameters

    m = model(configuration)
    sets = sample_parameters(300, seed=15, configuration=configuration)
    derived = [m.full_parameters({**parameters(configuration), **values}) for values in sets]
    assert len(derived) == 300 and len({d["T60"] for d in derived}) == 300  # each set its own, derived


def test_the_cli_warns_in_one_line_and_refuses_in_one_line(tmp_path) -> None:
    from typer.testing import CliRunner

    from ckdmbd.cli import app

    def run(value: str):
        path = tmp_path / "s.toml"
        path.write_text('[scenario]\nname = "s"\nconfiguration = "default"\nduration = "2 days"\n\n'
                        f"[parameters]\n{value}\n", encoding="utf-8")
        return CliRunner().invoke(app, ["run", str(path), "--out", str(tmp_path / "out"), "-q"], prog_name="ckdmbd")

    warned = run('phosphate_mobilisation_clearance = "400 mL/min"')
    assert warned.exit_code == 0, warned.output
    lines = [line for line in warned.output.splitlines() if "physiological range" in line]
    assert lines == [lines[0]] and lines[0].startswith("ckdmbd: warning: parameter phosphate_mobilisation_clearance")
    refused = run('phosphate_mobilisation_clearance = "-4 mL/min"')
    assert refused.exit_code == 2, refused.output
    assert "phosphate_mobilisation_clearance" in refused.output and len(refused.output.strip().splitlines()) == 1


def test_the_declared_box_keeps_osteoblast_elimination_positive() -> None:
    """Osteoblast elimination kb' = E0RUNX2kbEff (PicOBkb / Pic0 - RUNkbMaxFact h(RUNX2)) has its minimum
    E0RUNX2kbEff (FracPic0kb - RUNkbMaxFact) at high TGF-beta and RUNX2; a set with RUNkbMaxFact above FracPic0kb lets
    it turn negative, the osteoblasts grow without bound and the solver stops within days (every solver failure of
    four of the five failures of a blind x0.5-2 sample, RUNkbMaxFact 1.10-1.25). The declared ranges exclude it."""
    declared = ranges()
    assert declared["FracPic0kb"].low > declared["RUNkbMaxFact"].high


def test_no_built_in_scenario_sets_a_parameter_outside_its_range() -> None:
    from ckdmbd.scenario import builtin_names, load_scenario

    for name in builtin_names():
        sc = load_scenario(name)
        assert check_parameter_ranges(sc.parameter_overrides, sc.configuration, warn=False) == [], name
