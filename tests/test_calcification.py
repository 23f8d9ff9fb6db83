"""Calcification as a property of the patient (issue 10): a deposit only at a declared site, growth smooth in the
supersaturation, inhibited by fetuin-A, mass balance closed; the T50-like propensity readout for every patient;
malformed sites refused with one line naming the field."""

import math

import numpy as np
import pytest

from ckdmbd.physiology.calcification import net_deposition, propensity_t50
from ckdmbd.protocol import CalcificationSiteOnset, DepositExcision, Diet, Hemodialysis, SetGFR
from ckdmbd.scenario import ScenarioError, load_scenario, parse_scenario, with_overrides
from ckdmbd.sessions import sessions
from ckdmbd.simulation import simulate
from ckdmbd.units import HOURS_PER_YEAR

SITE = dict(ksp=4.1, growth_rate=20.0, dissolution_rate=0.02, nucleus=0.001, width=0.05, fetuin_g_l=0.6,
            fetuin_inhibition_g_l=0.6, order=1.0)


def _rate(milieu, deposit=10.0, active=1.0, **kw):
    p = SITE | kw
    return net_deposition(milieu, deposit, active, p["ksp"], p["growth_rate"], p["dissolution_rate"], p["nucleus"],
                          p["width"], p["fetuin_g_l"], p["fetuin_inhibition_g_l"], p["order"])


def test_no_site_no_rate_exactly():
    for milieu in (1.0, 4.1, 10.0):
        assert _rate(milieu, active=0.0) == 0.0
    assert _rate(4.1, deposit=0.0, dissolution_rate=5.0) > 0  # a site grows from its nidus ...
    assert _rate(1.0, deposit=0.0, growth_rate=0.0) == 0.0  # ... and an empty one cannot dissolve


def test_growth_is_smooth_through_the_threshold():
    """Rate and slope are continuous at S = 1 (no knife edge): finite differences from both sides agree, and a
    1 % change of the milieu changes the rate by a bounded amount everywhere around the threshold."""
    k = SITE["ksp"]
    h = 1e-6 * k
    left = (_rate(k) - _rate(k - h)) / h
    right = (_rate(k + h) - _rate(k)) / h
    assert left == pytest.approx(right, rel=1e-3)
    grid = k * np.exp(np.linspace(-0.3, 0.3, 601))
    rates = np.array([_rate(m) for m in grid])
    assert np.all(np.diff(rates) > 0)  # monotonic in supersaturation
    assert np.max(np.abs(np.diff(rates))) < 0.02 * (rates.max() - rates.min())  # 1 ppt steps give < 2 % jumps
    assert rates[0] < 0 < rates[-1]  # dissolves below, grows above


def test_fetuin_inhibits_growth():
    low, normal = _rate(5.0, fetuin_g_l=0.3), _rate(5.0, fetuin_g_l=0.75)
    assert low > normal > 0
    assert low / normal == pytest.approx((0.6 + 0.75) / (0.6 + 0.3), rel=1e-3)  # hyperbolic K/(K + F)


def test_propensity_falls_with_phosphate_and_calcium_and_rises_with_fetuin():
    ref = (280.0, 1.75, 1.15, 0.60, 0.26, 0.26, 1.0)
    assert propensity_t50(1.75, 1.15, 0.60, *ref) == pytest.approx(280.0)
    p = [propensity_t50(x, 1.15, 0.60, *ref) for x in (0.8, 1.2, 1.8, 2.4)]
    assert np.all(np.diff(p) < 0)
    assert propensity_t50(1.75, 1.3, 0.60, *ref) < 280.0 < propensity_t50(1.75, 1.15, 0.72, *ref)


def test_propensity_column_lower_on_dialysis_than_in_health():
    healthy = simulate("default", 30 * 24.0).to_frame()
    assert healthy.attrs["units"]["calcification_propensity_t50_min"] == "min"
    t50_healthy = healthy["calcification_propensity_t50_min"].iloc[-1]
    assert 330 < t50_healthy < 480  # assumed healthy: above the CKD 2-4 mean of 313 min (CRIC)
    year = HOURS_PER_YEAR
    events = [SetGFR(0.0, 0.0), Diet(0.0, 900.0, 1400.0), Hemodialysis(0.0, year)]  # anuric, no binders
    starts = np.array([b for b, _e in sessions(events) if 300 * 24.0 < b < year])  # blood drawn before a session
    hd = simulate("default", year, events, output_times_h=starts, parameters={"fetuin_a_g_L": 0.60}).to_frame()
    t50_hd = hd["calcification_propensity_t50_min"].mean()
    assert 220 < t50_hd < 330 and t50_hd < t50_healthy - 50  # HD about 270-290 min (BMC Nephrol 2023)
    assert np.corrcoef(hd["phosphate_mmol_L"], hd["calcification_propensity_t50_min"])[0, 1] < -0.9
    assert np.all(hd["deposit_calcium"].to_numpy() == 0.0)  # no site declared: no deposit, exactly


@pytest.mark.slow
def test_no_site_no_deposit_in_ten_years_untreated_dialysis():
    sc = with_overrides(load_scenario("hemodialysis-nonadherent"), duration="10 years", output_interval="30 days")
    assert sc.calcification_sites == ()
    result = simulate(sc.configuration, sc.duration_h, sc.events, output_interval_h=sc.output_interval_h,
                      parameters=sc.parameter_overrides, start_h=-sc.history_h)
    frame = result.to_frame()
    assert np.all(frame["deposit_calcium"].to_numpy() == 0.0)  # exactly 0 g, not small
    assert np.all(frame["deposit_mass_g"].to_numpy() == 0.0)
    seed_threshold = load_scenario("seed-case").calcification_sites[0].parameters["deposit_ksp_mM2"]
    assert frame["ca_x_p_mmol2_L2"].max() > seed_threshold  # above the seed site's threshold: only the site decides


def test_a_site_keeps_the_mass_balance_closed():
    """Deposit growth, dissolution and surgical removal move calcium and phosphate without creating any."""
    duration = HOURS_PER_YEAR
    events = [SetGFR(0.0, 0.0), Hemodialysis(0.0, duration), CalcificationSiteOnset(0.0, "test"),
              DepositExcision(duration / 2, 0.5)]
    result = simulate("default", duration, events, output_interval_h=24.0 * 7,
                      parameters={"deposit_ksp_mM2": 2.5, "OralPhos": 1.6})
    frame = result.to_frame()
    assert frame["deposit_mass_g"].max() > 10.0
    for el in ("calcium", "phosphate"):
        assert np.max(np.abs(frame[f"{el}_imbalance_mmol"])) / frame[f"{el}_body_mmol"].iloc[0] < 1e-6


HEAD = """
[scenario]
name = "site"
duration = "10 days"
"""


def _site(text: str):
    return parse_scenario(HEAD + "[[calcification_sites]]\n" + text)


def test_site_fields_and_units():
    sc = _site('name = "thigh"\nonset = "2 days"\nthreshold = "50 mg^2/dL^2"\ngrowth_rate = "24 mmol^(1/3)/day"\n'
               'nidus = "1 mg"\nmineral_fraction = 0.1\nmilieu_time = "2 days"\ntransition_width = 0.1\n')
    p = sc.parameter_overrides
    assert p["deposit_ksp_mM2"] == pytest.approx(50 / 12.41, rel=1e-3)
    assert p["deposit_growth_rate"] == pytest.approx(1.0)
    assert p["deposit_nucleus_mmol"] == pytest.approx(1 / 100.46)
    assert p["deposit_milieu_time_h"] == 48.0 and p["deposit_mineral_fraction"] == 0.1
    assert "deposit_site_active" not in p  # switched on by the onset event
    assert [type(e).__name__ for e in sc.events] == ["CalcificationSiteOnset"] and sc.events[0].time_h == 48.0
    assert _site('name = "thigh"\n').parameter_overrides == {"deposit_site_active": 1.0}  # no onset: from the start


@pytest.mark.parametrize(("text", "message"), [
    ('threshold = "3 mmol^2/L^2"\n', "calcification_sites[0].name: missing"),
    ('name = ""\n', "calcification_sites[0].name: '' must be a non-empty text"),
    ('name = "a"\ncolour = "red"\n', "calcification_sites[0].colour: unknown field"),
    ('name = "a"\nthreshold = "-3 mmol^2/L^2"\n', "calcification_sites[0].threshold: '-3 mmol^2/L^2' must be positive"),
    ('name = "a"\nthreshold = "3 mmol/L"\n', "calcification_sites[0].threshold: cannot read '3 mmol/L'"),
    ('name = "a"\nthreshold = 3\n', "calcification_sites[0].threshold: expected a quantity"),
    ('name = "a"\ngrowth_rate = "0 mmol^(1/3)/h"\n', "calcification_sites[0].growth_rate: '0 mmol^(1/3)/h' must be"),
    ('name = "a"\ndissolution_rate = "-1 mmol^(1/3)/h"\n', "calcification_sites[0].dissolution_rate: '-1 mmol"),
    ('name = "a"\nnidus = "0 mg"\n', "calcification_sites[0].nidus: '0 mg' must be positive"),
    ('name = "a"\nmineral_fraction = 1.5\n', "calcification_sites[0].mineral_fraction: 1.5 must be in (0, 1]"),
    ('name = "a"\nmineral_fraction = "5 %"\n', "calcification_sites[0].mineral_fraction: '5 %' must be a number"),
    ('name = "a"\nonset = "20 days"\n', "calcification_sites[0].onset: '20 days' is at or after the end"),
    ('name = "a"\n[[calcification_sites]]\nname = "b"\n', "calcification_sites: 2 sites declared"),
])
def test_bad_sites_name_the_field_and_value(text, message):
    with pytest.raises(ScenarioError) as err:
        _site(text)
    assert message in str(err.value)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("value", ['"-0.6 g/L"', '"0 g/L"', '"9 g/L"', '"0.6 mmol/L"'])
def test_bad_fetuin_is_refused(value):
    with pytest.raises(ScenarioError, match=r"patient\.fetuin_a"):
        parse_scenario(HEAD + f"[patient]\nfetuin_a = {value}\n")


def test_sites_need_the_default_configuration():
    with pytest.raises(ScenarioError, match="calcification sites"):
        parse_scenario(HEAD.replace('"10 days"', '"10 days"\nconfiguration = "reference"')
                       + '[[calcification_sites]]\nname = "a"\n')


def test_builtin_scenarios_without_a_site_declare_none():
    from ckdmbd.scenario import builtin_names

    with_site = {n for n in builtin_names() if load_scenario(n).calcification_sites}
    assert with_site == {n for n in builtin_names() if n.startswith("seed-case")}
    assert math.isclose(load_scenario("seed-case").parameter_overrides["fetuin_a_g_L"], 0.60)
