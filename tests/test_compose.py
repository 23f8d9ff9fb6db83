"""Scenarios that compose (issue 12): ``extends``, events by name, ``[parameters]`` by readable name with units."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ckdmbd import units
from ckdmbd.cli import app
from ckdmbd.compose import MAX_DEPTH
from ckdmbd.protocol import Adherence, DepositExcision, Diet, GraftExcision, Hemodialysis
from ckdmbd.scenario import ScenarioError, load_scenario, parse_scenario, run_scenario

PARENT = """
[scenario]
name = "parent"
description = "a week of dialysis, binders lapse on day 3"
duration = "7 days"
output_interval = "6 h"

[patient]
diet_phosphorus = "1000 mg/day"
net_fluid_intake = "1 L/day"

[[events]]
name = "anuria"
type = "set_gfr"
time = "0 h"
gfr = "0 mL/min"

[[events]]
name = "dialysis"
type = "hemodialysis"
time = "0 h"

[[events]]
name = "binder"
type = "phosphate_binder"
time = "0 h"
binder = "calcium_acetate"
dose = "4 g/day"
adherence = 0.5

[[events]]
name = "lapse"
type = "adherence"
time = "3 days"
binders = 0.0

[[observations]]
quantity = "phosphate"
time = "6 days"
value = "1.9 mmol/L"
"""

CHILD = """
[scenario]
name = "child"
extends = "../parent.toml"
remove_events = ["lapse"]

[patient]
interdialytic_weight_gain = "2 kg"

[parameters]
phosphate_mobilisation_clearance = "99 mL/min"
T49 = 0.5                                  # a symbol works too; a bare number is in the listed unit (mL/min)

[[events]]
name = "dialysis"
type = "hemodialysis"
time = "0 h"
phosphate_clearance = "180 mL/min"

[[events]]
type = "diet"
time = "2 days"
phosphorus = "1400 mg/day"
"""

FLAT = """
[scenario]
name = "child"
description = "a week of dialysis, binders lapse on day 3"
duration = "7 days"
output_interval = "6 h"

[patient]
diet_phosphorus = "1000 mg/day"
interdialytic_weight_gain = "2 kg"

[parameters]
phosphate_mobilisation_clearance = "99 mL/min"
cell_phosphate_uptake_clearance = "0.5 mL/min"

[[events]]
type = "set_gfr"
time = "0 h"
gfr = "0 mL/min"

[[events]]
type = "hemodialysis"
time = "0 h"
phosphate_clearance = "180 mL/min"

[[events]]
type = "phosphate_binder"
time = "0 h"
binder = "calcium_acetate"
dose = "4 g/day"
adherence = 0.5

[[events]]
type = "diet"
time = "2 days"
phosphorus = "1400 mg/day"

[[observations]]
quantity = "phosphate"
time = "6 days"
value = "1.9 mmol/L"
"""


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def family(tmp_path):
    write(tmp_path, "parent.toml", PARENT)
    return write(tmp_path, "variants/child.toml", CHILD)


def test_child_equals_the_flat_scenario_and_simulates_identically(family):
    child = load_scenario(family)
    flat = parse_scenario(FLAT, "flat.toml")
    assert replace(child, source="") == replace(flat, source="")
    assert child.parameter_overrides["phosphate_mobilisation_clearance"] == pytest.approx(units.ml_min_to_l_h(99))
    assert child.parameter_overrides["T49"] == pytest.approx(units.ml_min_to_l_h(0.5))
    assert "net_fluid_intake_L_per_h" in child.parameter_overrides  # from the child's weight gain, not the parent's
    assert child.parameter_overrides["net_fluid_intake_L_per_h"] == pytest.approx(2.0 / 56.0)
    a, b = run_scenario(child).to_frame(), run_scenario(flat).to_frame()
    assert a.to_csv() == b.to_csv()  # byte-identical results
    without = parse_scenario(FLAT.replace('phosphate_mobilisation_clearance = "99 mL/min"\n', ""))
    c = run_scenario(without).to_frame()
    assert not c["phosphate_mmol_L"].equals(a["phosphate_mmol_L"])  # the [parameters] value takes effect


def test_parameters_override_the_patient_table():
    text = FLAT.replace('[parameters]\n', '[parameters]\ndietary_phosphorus = "1.2 g/day"\n')
    sc = parse_scenario(text)
    assert sc.parameter_overrides["OralPhos"] == pytest.approx(1200 / units.PHOSPHORUS_G_PER_MOL / 24)


def test_children_of_children_and_builtin_parents(tmp_path):
    write(tmp_path, "parent.toml", PARENT)
    write(tmp_path, "child.toml", CHILD.replace("../parent.toml", "parent.toml"))
    grandchild = write(tmp_path, "grandchild.toml", """
[scenario]
name = "grandchild"
extends = "child.toml"
duration = "5 days"
inherit_observations = false

[parameters]
phosphate_mobilisation_clearance = "80 mL/min"
""")
    sc = load_scenario(grandchild)
    assert sc.duration_h == 120.0 and sc.observations == ()
    assert sc.parameter_overrides["phosphate_mobilisation_clearance"] == pytest.approx(units.ml_min_to_l_h(80))
    assert sc.parameter_overrides["T49"] == pytest.approx(units.ml_min_to_l_h(0.5))
    assert max(e.end_h for e in sc.events if isinstance(e, Hemodialysis)) == 120.0  # follows the shorter run
    builtin = parse_scenario('[scenario]\nname = "b"\nextends = "hemodialysis-adherent"\nduration = "1 year"\n')
    parent = load_scenario("hemodialysis-adherent")
    assert builtin.events[0] == parent.events[0] and builtin.duration_h == units.HOURS_PER_YEAR


def test_sites_merge_by_name():
    sc = parse_scenario("""
[scenario]
name = "site-variant"
extends = "seed-case"
inherit_observations = false

[[calcification_sites]]
name = "left gluteal region"
onset = "0 days"
threshold = "4.0 mmol^2/L^2"
""")
    seed = load_scenario("seed-case")
    assert len(sc.calcification_sites) == len(seed.calcification_sites) == 1
    assert sc.calcification_sites[0] != seed.calcification_sites[0]
    assert sc.observations == ()


def test_seed_case_what_ifs_are_short_children_of_the_seed_case():
    seed = load_scenario("seed-case")

    def what_if(name: str, events: list) -> None:
        child = load_scenario(name)
        assert child.source.endswith(f"{name}.toml") or child.source == f"{name}.toml"
        expected = replace(seed, name=child.name, description=child.description, source=child.source,
                           observations=(), events=tuple(events))
        assert child == expected

    lapse = [k for k, e in enumerate(seed.events) if isinstance(e, Adherence) and e.fraction == 0.0]
    diet = [k for k, e in enumerate(seed.events) if isinstance(e, Diet) and e.phosphorus_mg_per_day == 1400]
    excision = [k for k, e in enumerate(seed.events) if isinstance(e, DepositExcision)]
    assert len(lapse) == len(diet) == len(excision) == 1
    adherent = [replace(e, fraction=1.0) if k in lapse else e for k, e in enumerate(seed.events)
                if k not in diet + excision]
    what_if("seed-case-adherent", adherent)
    graft = next(k for k, e in enumerate(seed.events) if isinstance(e, GraftExcision))
    early = [e for k, e in enumerate(seed.events) if k != graft]
    at = next(k for k, e in enumerate(early) if getattr(e, "time_h", -1e9) > 6 * 730.5)
    early.insert(at, GraftExcision(6 * 730.5))
    what_if("seed-case-early-graft-excision", early)
    for name in ("seed-case-adherent", "seed-case-4x-weekly", "seed-case-early-graft-excision"):
        text = (Path(__file__).parents[1] / "src/ckdmbd/scenarios" / f"{name}.toml").read_text(encoding="utf-8")
        assert 'extends = "seed-case"' in text and len(text.splitlines()) < 25


@pytest.mark.parametrize(("files", "top", "message"), [
    ({}, 'extends = "no-such-parent"', "scenario.extends: 'no-such-parent' is neither a built-in scenario nor a file"),
    ({"a.toml": 'extends = "b.toml"', "b.toml": 'extends = "a.toml"'}, 'extends = "a.toml"', "cycle"),
    ({"a.toml": 'extends = "a.toml"'}, 'extends = "a.toml"', "cycle"),
    ({}, 'remove_events = ["x"]', "scenario.remove_events: only a scenario that extends another"),
    ({}, 'extends = "seed-case"\nremove_events = ["no-such-event"]',
     "scenario.remove_events: the parent has no event named 'no-such-event' (named events: anuria, dialysis"),
    ({}, 'extends = "seed-case"\nremove_events = "binder"', "must be a list of event names"),
    ({}, 'extends = "seed-case"\ninherit_observations = "no"', "must be true or false"),
    ({"bad.toml": 'duration = "-3 days"'}, 'extends = "bad.toml"',
     "scenario.extends: the parent 'bad.toml' is not a valid scenario: scenario.duration: '-3 days'"),
    ({}, 'extends = 3', "scenario.extends: 3 must be the name of a built-in scenario or a file path"),
])
def test_bad_extends_is_one_line(tmp_path, files, top, message):
    for name, head in files.items():
        duration = "" if "duration" in head else 'duration = "7 days"\n'
        write(tmp_path, name, f'[scenario]\nname = "{name}"\n{head}\n{duration}')
    path = write(tmp_path, "top.toml", f'[scenario]\nname = "top"\n{top}\nduration = "7 days"\n')
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert message in str(info.value) and "\n" not in str(info.value)


def test_depth_is_limited(tmp_path):
    for k in range(MAX_DEPTH + 2):
        parent = f'extends = "s{k + 1}.toml"\n' if k <= MAX_DEPTH else ""
        write(tmp_path, f"s{k}.toml", f'[scenario]\nname = "s{k}"\n{parent}duration = "7 days"\n')
    with pytest.raises(ScenarioError, match=f"more than {MAX_DEPTH} levels"):
        load_scenario(tmp_path / "s0.toml")
    assert load_scenario(tmp_path / "s1.toml").name == "s1"  # 8 levels above: allowed


@pytest.mark.parametrize(("text", "message"), [
    ('[scenario]\nname = "x"\nduration = "7 days"\n[parameters]\nphosphate_mobilization_clearance = "99 mL/min"\n',
     "parameters.phosphate_mobilization_clearance: unknown parameter 'phosphate_mobilization_clearance' in the "
     "'default' configuration; did you mean phosphate_mobilisation_clearance"),
    ('[scenario]\nname = "x"\nduration = "7 days"\n[parameters]\nphosphate_mobilisation_clearance = "99 mL"\n',
     "parameters.phosphate_mobilisation_clearance: '99 mL' is not convertible to mL/min"),
    ('[scenario]\nname = "x"\nduration = "7 days"\nconfiguration = "reference"\n[parameters]\n'
     'dialyzer_phosphate_clearance = "140 mL/min"\n', "unknown parameter 'dialyzer_phosphate_clearance' in the "
     "'reference' configuration"),
    ('[scenario]\nname = "x"\nduration = "7 days"\nparameters = 3\n', "scenario.parameters: unknown field"),
    ('[scenario]\nname = "x"\nduration = "7 days"\n[[events]]\nname = "a"\ntype = "set_gfr"\ntime = "0 h"\n'
     'gfr = "5 mL/min"\n[[events]]\nname = "a"\ntype = "set_gfr"\ntime = "1 h"\ngfr = "5 mL/min"\n',
     "events[1].name: 'a' is the name of an earlier event"),
    ('[scenario]\nname = "x"\nduration = "7 days"\n[[events]]\nname = ""\ntype = "set_gfr"\ntime = "0 h"\n'
     'gfr = "5 mL/min"\n', "events[0].name: '' must be a non-empty text"),
    ('[scenario]\nextends = "seed-case"\n', "scenario.name: missing; a scenario that extends another needs a name"),
    ('[scenario]\nname = "x"\nextends = "seed-case"\nremove_events = ["binder"]\n[[events]]\nname = "binder"\n'
     'type = "adherence"\ntime = "1 day"\nbinders = 1.0\n', "'binder' is both removed and replaced"),
    ('[scenario]\nname = "x"\nextends = "seed-case"\n[[events]]\ntype = "adherence"\ntime = "1 day"\n'
     'binders = 2.0\n', "events[0].binders: 2.0 must be a number in [0, 1]"),
])
def test_bad_parameters_and_names_are_one_line(text, message):
    with pytest.raises(ScenarioError) as info:
        parse_scenario(text)
    assert message in str(info.value) and "\n" not in str(info.value)


def test_cli_refuses_an_unknown_parameter_with_one_line_and_no_output(tmp_path):
    path = write(tmp_path, "x.toml", '[scenario]\nname = "x"\nextends = "seed-case"\n'
                                     '[parameters]\nno_such_parameter = "1 L/h"\n')
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["run", str(path), "--out", str(out)], prog_name="ckdmbd")
    assert result.exit_code == 2
    assert result.output.strip().startswith("ckdmbd: error: parameters.no_such_parameter: unknown parameter")
    assert len(result.output.strip().splitlines()) == 1 and not out.exists()


def test_calibrated_copy_of_a_child_keeps_its_timeline():
    """`ckdmbd fit` writes the estimates as events at t = 0 into a copy of the scenario file; in a child (whose
    events merge with its parent's in time order) they are appended, and the copy still parses."""
    import numpy as np

    from ckdmbd.calibration import FitResult, calibrated_scenario_text
    from ckdmbd.protocol import Diet
    from ckdmbd.scenario import scenario_text

    sc = load_scenario("seed-case-adherent")
    fit = FitResult(("diet_phosphorus",), np.array([1100.0]), np.array([1000.0]), np.array([1200.0]),
                    np.array([0.05]), np.array([[0.0025]]), 1.0, 2, {"phosphate": 0.1}, True, "ok", 1, 10)
    text = calibrated_scenario_text(scenario_text("seed-case-adherent"), sc, fit, "labs.csv")
    calibrated = parse_scenario(text)
    assert calibrated.name == "seed-case-adherent-calibrated"
    added = [e for e in calibrated.events if isinstance(e, Diet) and e.time_h == 0.0]
    assert len(added) == 1 and added[0].phosphorus_mg_per_day == 1100.0
    assert len(calibrated.events) == len(sc.events) + 1
