"""Virtual populations (issue 12): specs, sampling, the same numbers on any number of workers, failures listed."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import ckdmbd
from ckdmbd import units
from ckdmbd.cli import app
from ckdmbd.population import PopulationError, load_population, parse_population, per_patient_predialysis, summary

BASE = """
[scenario]
name = "base"
duration = "7 days"
output_interval = "1 day"

[patient]
diet_phosphorus = "1000 mg/day"

[[events]]
type = "set_gfr"
time = "0 h"
gfr = "0 mL/min"

[[events]]
type = "hemodialysis"
time = "0 h"

[[events]]
type = "phosphate_binder"
time = "0 h"
dose = "2.4 g/day"
"""

DISTRIBUTIONS = """
[distributions.dietary_phosphorus]
type = "normal"
mean = "982 mg/day"
sd = "192 mg/day"
low = "500 mg/day"
high = "1600 mg/day"

[distributions.phosphate_mobilisation_clearance]
type = "lognormal"
median = "99 mL/min"
sigma = 0.45
high = "208 mL/min"

[distributions.binder_adherence]
type = "uniform"
low = 0
high = 1

[distributions.dialyzer_phosphate_clearance]
type = "categorical"
values = ["140 mL/min", "180 mL/min"]
weights = [0.7, 0.3]
"""


def spec_text(size: int, seed: int = 7, scenario: str = "base.toml", extra: str = "") -> str:
    return f'[population]\nscenario = "{scenario}"\nsize = {size}\nseed = {seed}\n{extra}\n{DISTRIBUTIONS}'


@pytest.fixture
def folder(tmp_path) -> Path:
    (tmp_path / "base.toml").write_text(BASE, encoding="utf-8")
    return tmp_path


def write_spec(folder: Path, text: str) -> Path:
    path = folder / "spec.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_sampling_follows_the_distributions_and_the_seed(folder):
    pop = ckdmbd.Population(write_spec(folder, spec_text(4000)))
    draws = pd.DataFrame(pop.samples())
    diet = draws["OralPhos"] * units.PHOSPHORUS_G_PER_MOL * 24  # mg/day
    assert diet.between(500, 1600).all() and abs(diet.mean() - 982) < 15 and abs(diet.std() - 192) < 15
    k_m = units.l_h_to_ml_min(draws["phosphate_mobilisation_clearance"])
    assert k_m.max() <= 208 and abs(np.median(k_m) - 99) < 5
    assert draws["binder_adherence"].between(0, 1).all() and abs(draws["binder_adherence"].mean() - 0.5) < 0.03
    fast = np.isclose(units.l_h_to_ml_min(draws["dialyzer_phosphate_clearance"]), 180)
    assert set(np.round(units.l_h_to_ml_min(draws["dialyzer_phosphate_clearance"]))) == {140, 180}
    assert abs(fast.mean() - 0.3) < 0.03
    again = pd.DataFrame(ckdmbd.Population(write_spec(folder, spec_text(4000))).samples())
    other = pd.DataFrame(ckdmbd.Population(write_spec(folder, spec_text(4000, seed=8))).samples())
    assert draws.equals(again) and not draws.equals(other)


def test_same_numbers_on_one_and_two_workers(folder):
    pop = ckdmbd.Population(write_spec(folder, spec_text(3)))
    serial, pooled = pop.run(workers=1), pop.run(workers=2)
    assert serial.patients.equals(pooled.patients) and serial.sessions.equals(pooled.sessions)
    assert list(serial.patients["status"]) == ["ok"] * 3 and list(serial.patients["sessions"]) == [3, 3, 3]
    assert serial.patients.attrs["units"]["dietary_phosphorus"] == "mg/day"
    assert set(serial.sessions["patient"]) == {0, 1, 2}
    pre = serial.sessions["pre_phosphate_mmol_L"]
    assert pre.between(0.5, 3.0).all() and pre.nunique() == len(pre)  # each patient and session its own value
    table = summary(serial)
    assert table.set_index("quantity").loc["pre_phosphate_mmol_L", "patients"] == 3


def test_failures_are_listed_per_patient_not_dropped(folder):
    text = ('[population]\nscenario = "base.toml"\nsize = 3\nseed = 1\n'
            '[distributions.exchangeable_phosphate_volume]\ntype = "categorical"\nvalues = ["80 L", "0 L"]\n'
            'weights = [0.5, 0.5]\n')
    result = ckdmbd.Population(write_spec(folder, text)).run()
    assert len(result.patients) == 3
    failed = result.failures
    assert len(failed) >= 1 and (failed["exchangeable_phosphate_volume"] == 0).all()
    assert failed["message"].str.contains("non-finite").all() and (failed["sessions"] == 0).all()
    assert not result.sessions["patient"].isin(failed["patient"]).any()


@pytest.mark.parametrize(("change", "message"), [
    (("size = 3", "size = 0"), "population.size: 0 must be a whole number from 1"),
    (("seed = 7", "seed = -1"), "population.seed: -1 must be a whole number >= 0"),
    (('scenario = "base.toml"', 'scenario = "nope"'), "population.scenario: no built-in scenario or file named"),
    (('type = "normal"', 'type = "gaussian"'), "distributions.dietary_phosphorus.type: 'gaussian' is not one of"),
    (('sd = "192 mg/day"', 'sd = "192 mg"'), "distributions.dietary_phosphorus.sd: '192 mg' is not convertible"),
    (('sd = "192 mg/day"', 'sd = "0 mg/day"'), "distributions.dietary_phosphorus.sd: '0 mg/day' must be positive"),
    (('high = "1600 mg/day"', 'high = "400 mg/day"'), "distributions.dietary_phosphorus.high: '400 mg/day' must be "
                                                      "above low"),
    (("sigma = 0.45", 'sigma = "x"'), "sigma: 'x' must be a positive number"),
    (("weights = [0.7, 0.3]", "weights = [0.7]"), "weights: [0.7] must be 2 non-negative numbers"),
    (("[distributions.binder_adherence]", "[distributions.binder_adherance]"),
     "distributions.binder_adherance: unknown parameter 'binder_adherance'"),
    (("mean = ", "average = "), "distributions.dietary_phosphorus.mean: missing"),
])
def test_malformed_specs_are_one_line(folder, change, message):
    text = spec_text(3)
    assert change[0] in text
    with pytest.raises(PopulationError) as info:
        parse_population(text.replace(change[0], change[1], 1), str(write_spec(folder, "")))
    assert message in str(info.value) and "\n" not in str(info.value)


def test_cli_writes_tables_and_refuses_bad_specs(folder):
    out = folder / "out"
    path = write_spec(folder, spec_text(2))
    result = CliRunner().invoke(app, ["population", str(path), "--out", str(out), "--workers", "2"],
                                prog_name="ckdmbd")
    assert result.exit_code == 0, result.output
    ext = "parquet" if any(p.suffix == ".parquet" for p in out.iterdir()) else "csv"
    patients = pd.read_parquet(out / "patients.parquet") if ext == "parquet" else pd.read_csv(out / "patients.csv")
    assert list(patients["patient"]) == [0, 1] and "0 of 2 patients failed" in result.output
    assert (out / "summary.json").is_file() and (out / f"sessions.{ext}").is_file()
    page = (out / "report.html").read_text(encoding="utf-8")
    assert page.count("* plotly.js v") == 1  # plotly.js embedded once
    assert 'id="attainment"' in page and "all three" in page and "No patient failed." in page
    bad = write_spec(folder, spec_text(2).replace("size = 2", "size = 2.5"))
    result = CliRunner().invoke(app, ["population", str(bad), "--out", str(folder / "out2")], prog_name="ckdmbd")
    assert result.exit_code == 2 and len(result.output.strip().splitlines()) == 1
    assert "population.size: 2.5" in result.output and not (folder / "out2").exists()


def test_sampled_parameters_are_pinned_against_events(folder):
    """The base scenario's phosphate_binder event sets adherence 1; a sampled adherence holds instead."""
    def pre_phosphate(adherence: float) -> float:
        text = ('[population]\nscenario = "base.toml"\nsize = 1\nseed = 1\n[distributions.binder_adherence]\n'
                f'type = "categorical"\nvalues = [{adherence}]\n')
        return float(ckdmbd.Population(write_spec(folder, text)).run().sessions["pre_phosphate_mmol_L"].iloc[-1])

    assert pre_phosphate(0.0) > pre_phosphate(1.0) + 0.01


def test_builtin_population_and_size_override():
    spec = load_population("hemodialysis", size=5)
    assert spec.size == 5 and spec.scenario.name == "hemodialysis-adherent"
    names = [d.parameter.name for d in spec.distributions]
    assert names == ["phosphate_mobilisation_clearance", "dialyzer_phosphate_clearance", "dietary_phosphorus",
                     "dietary_calcium", "binder_adherence"]
    with pytest.raises(PopulationError, match="--size: 0 must be"):
        load_population("hemodialysis", size=0)


def test_dask_local_cluster_equals_the_serial_run(folder):  # ~3 s forked (~35 s where workers must spawn)
    """The same spec and seed give identical numbers on a 2-worker Dask LocalCluster and in this process."""
    pytest.importorskip("dask.distributed")
    pop = ckdmbd.Population(write_spec(folder, spec_text(5)))
    serial = pop.run(workers=1)
    done: list[int] = []
    on_dask = pop.run(workers=2, scheduler="local", progress=lambda k, total: done.append(k))
    assert serial.patients.equals(on_dask.patients) and serial.sessions.equals(on_dask.sessions)
    assert done[-1] == 5 and list(serial.patients["status"]) == ["ok"] * 5


def test_unreachable_or_malformed_scheduler_is_one_line(folder, monkeypatch):
    from ckdmbd import population_backends
    from ckdmbd.population_backends import BackendError

    monkeypatch.setattr(population_backends, "CONNECT_TIMEOUT", "1s")
    pytest.importorskip("dask.distributed")
    pop = ckdmbd.Population(write_spec(folder, spec_text(1)))
    with pytest.raises(BackendError, match="--scheduler: 'my-cluster' must be 'local' or a scheduler address"):
        pop.run(scheduler="my-cluster")
    with pytest.raises(BackendError, match=r"cannot reach the Dask scheduler at 'tcp://127.0.0.1:1'"):
        pop.run(scheduler="tcp://127.0.0.1:1")


def test_correlated_draws_keep_each_marginal_and_the_rank_correlation(folder):
    """A Gaussian copula: each distribution keeps its shape, the normal scores correlate as asked."""
    from scipy.stats import spearmanr

    plain = pd.DataFrame(ckdmbd.Population(write_spec(folder, spec_text(4000))).samples())
    text = spec_text(4000) + ('\n[correlations]\npairs = [["dietary_phosphorus", "binder_adherence", -0.6], '
                              '["dietary_phosphorus", "phosphate_mobilisation_clearance", 0.5]]\n')
    draws = pd.DataFrame(ckdmbd.Population(write_spec(folder, text)).samples())
    rho = spearmanr(draws["OralPhos"], draws["binder_adherence"]).statistic
    assert abs(rho - 6 / np.pi * np.arcsin(-0.6 / 2)) < 0.03  # -0.58
    assert spearmanr(draws["OralPhos"], draws["phosphate_mobilisation_clearance"]).statistic > 0.4
    assert abs(spearmanr(plain["OralPhos"], plain["binder_adherence"]).statistic) < 0.05
    assert np.allclose(np.sort(draws["OralPhos"]), np.sort(plain["OralPhos"]), rtol=0.05)  # the same marginal
    assert draws["dialyzer_phosphate_clearance"].equals(plain["dialyzer_phosphate_clearance"])  # uncorrelated: same


@pytest.mark.parametrize(("pairs", "message"), [
    ('[["dietary_phosphorus", "dietary_calcium", 0.5]]', "'dietary_calcium' is not one of the spec's distributions"),
    ('[["dietary_phosphorus", "binder_adherence", 1.0]]', "the correlation 1.0 must be a number strictly between"),
    ('[["dietary_phosphorus", "dietary_phosphorus", 0.5]]', "cannot be correlated with itself"),
    ('[["dietary_phosphorus", "binder_adherence", 0.9], ["dietary_phosphorus", "phosphate_mobilisation_clearance", '
     '0.9], ["binder_adherence", "phosphate_mobilisation_clearance", -0.9]]', "not jointly possible"),
])
def test_impossible_correlations_are_one_line(folder, pairs, message):
    with pytest.raises(PopulationError, match=message):
        load_population(write_spec(folder, spec_text(3) + f"\n[correlations]\npairs = {pairs}\n"))


def test_cohort_table_gives_each_patient_its_values(folder):
    (folder / "cohort.csv").write_text("dietary_phosphorus [mg/day],binder_adherence\n800,0.5\n1400,\n",
                                       encoding="utf-8")
    text = '[population]\nscenario = "base.toml"\nseed = 1\n[cohort]\nfile = "cohort.csv"\n'
    spec = load_population(write_spec(folder, text))
    assert spec.size == 2
    samples = ckdmbd.Population(spec).samples()
    assert samples[0]["OralPhos"] * units.PHOSPHORUS_G_PER_MOL * 24 == pytest.approx(800)
    assert samples[0]["binder_adherence"] == 0.5 and "binder_adherence" not in samples[1]  # empty: the scenario's
    result = ckdmbd.Population(spec).run()
    assert list(result.patients["dietary_phosphorus"]) == pytest.approx([800, 1400])
    pre = per_patient_predialysis(result)["pre_phosphate_mmol_L"]
    assert pre[1] > pre[0]  # more phosphorus, less binder: higher pre-dialysis phosphate
    (folder / "bad.csv").write_text("dietary_phosphorus [mg/day]\n-5\n", encoding="utf-8")
    with pytest.raises(PopulationError, match=r"cohort.file row 2, dietary_phosphorus \[mg/day\]: '-5 mg/day' must "
                                              r"not be negative"):
        load_population(write_spec(folder, text.replace("cohort.csv", "bad.csv")))
    (folder / "unknown.csv").write_text("phosphorus_diet\n900\n", encoding="utf-8")
    with pytest.raises(PopulationError, match="phosphorus_diet"):
        load_population(write_spec(folder, text.replace("cohort.csv", "unknown.csv")))
