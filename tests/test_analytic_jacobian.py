"""The analytic Jacobian generated from the symbolic form (``ckdmbd.model.analytic_jacobian``) is the model's.

On every configuration, at states along real runs and the same states scaled by random factors: its entries equal
central differences of the compiled right-hand side (or, at a kink where a piecewise rate switches exactly at the
state, a one-sided difference or a value between the two one-sided ones), its df/dt equals a central difference
in t, it writes nothing outside the composer's sparsity pattern, and it equals the pure-Python chain rule of the
symbolic form to rounding. Runs with the analytic and with the coloured finite-difference Jacobian give the same
results, and a model the symbolic pass cannot read is solved with finite differences.
"""

from __future__ import annotations

import numba
import numpy as np
import pytest

from ckdmbd.model.analytic_jacobian import jacobian_source
from ckdmbd.model.composer import compose
from ckdmbd.model.configurations import model as build_model
from ckdmbd.model.configurations import parameters
from ckdmbd.model.framework import Process, State, Submodel, from_parameter
from ckdmbd.model.symbolic import symbolic_model
from ckdmbd.protocol import Hemodialysis, PhosphateBinder, TeriparatideDoses
from ckdmbd.simulation import SolverOptions, simulate

CONFIGURATIONS = ("reference", "corrected", "default")
OBSERVED = ("ca_mM", "phosphate_mM", "pth_pM", "calcitriol_pM")


def _run(configuration: str, solver: SolverOptions | None = None, days: float = 14.0):
    if configuration == "default":
        events = [Hemodialysis(0.0, days * 24.0), PhosphateBinder(0.0, 2.4, 1.0)]
        extra = np.arange(8.0, 12.0, 0.5)  # inside the first session
    else:
        events = [TeriparatideDoses(12.0, 20.0, 24.0, 3)]
        extra = np.arange(12.0, 16.0, 0.5)  # right after the first dose
    return simulate(configuration, days * 24.0, events, output_interval_h=24.0, extra_output_times_h=extra,
                    solver=solver)


def _states(result) -> list[tuple[float, np.ndarray, np.ndarray]]:
    """(t, y, p) at a few times along the run, and the same states scaled by random factors in [0.7, 1.3]."""
    rng = np.random.default_rng(5)
    seg = np.searchsorted(result.segment_starts_h, result.t_h, side="right") - 1
    out = []
    for i in (0, 4, 9, len(result.t_h) - 1):
        p = result.segment_parameters[seg[i]]
        y = result.y[i].copy()
        out.append((float(result.t_h[i]), y, p))
        out.append((float(result.t_h[i]), y * rng.uniform(0.7, 1.3, y.shape), p))
    return out


def _analytic(m, t, y, p):
    jac = np.zeros((m.n_states, len(m.states)))
    fx = np.full(m.n_states, np.nan)
    ok = m.generated.analytic_jacobian(t, y, p, jac, fx)
    return bool(ok), jac, fx


def _differences(m, t, y, p):
    """Central, right- and left-sided differences in each dynamic state (step 1e-6 relative) and in t."""
    n, ni = m.n_states, len(m.states)
    rhs = m.generated.rhs
    f0, fp, fm = np.empty(n), np.empty(n), np.empty(n)
    rhs(t, y, p, f0)
    central, right, left = (np.full((n, ni + 1), np.nan) for _ in range(3))
    for j in range(ni + 1):
        yp, ym = y.copy(), y.copy()
        if j < ni:
            h = 1e-6 * max(abs(y[j]), 1e-3)
            yp[j] += h
            ym[j] -= h
            hp, hm = yp[j] - y[j], y[j] - ym[j]
            rhs(t, yp, p, fp)
            rhs(t, ym, p, fm)
        else:
            h = 1e-6 * max(abs(t), 1.0)
            hp = hm = h
            rhs(t + h, y, p, fp)
            rhs(t - h, y, p, fm)
        central[:, j] = (fp - fm) / (hp + hm)
        right[:, j] = (fp - f0) / hp
        left[:, j] = (f0 - fm) / hm
    return central, right, left


@pytest.mark.parametrize("configuration", CONFIGURATIONS)
def test_analytic_jacobian_equals_central_differences(configuration):
    m = build_model(configuration)
    assert m.generated.ANALYTIC, "the symbolic pass must read every built-in configuration"
    ni = len(m.states)
    pattern = m.jacobian.pattern
    for t, y, p in _states(_run(configuration)):
        ok, jac, fx = _analytic(m, t, y, p)
        assert ok, f"{configuration} t={t}: an analytic entry is not finite"
        assert np.all(jac[~pattern] == 0.0), "the analytic Jacobian writes outside the sparsity pattern"
        got = np.hstack([jac, fx[:, None]])
        central, right, left = _differences(m, t, y, p)
        scale = np.append(np.maximum(np.abs(y[:ni]), 1e-3), max(abs(t), 1.0))  # d f / d log-ish of each input
        ok_fd = np.isfinite(central)
        row = np.max(np.where(ok_fd, np.abs(central) * scale, 0.0), axis=1, keepdims=True)
        err = np.minimum.reduce([np.abs(got - d) for d in (central, right, left)]) * scale
        bound = 1e-4 * np.abs(central) * scale + 1e-6 * row + 1e-12
        # a state sitting exactly on a kink (dialysis holds the fluid excess at zero, where ultrafiltration and the
        # urine clip switch): the derivative of the branch the code takes lies between the one-sided slopes
        lo, hi = np.minimum(left, right), np.maximum(left, right)
        at_kink = (np.abs(right - left) * scale > bound) & (got >= lo - bound / scale) & (got <= hi + bound / scale)
        bad = ok_fd & ~(err <= bound) & ~at_kink
        if bad.any():
            i, j = np.argwhere(bad)[0]
            name = m.state_names[j] if j < ni else "t"
            pytest.fail(f"{configuration} t={t}: d {m.state_names[i]} / d {name}: analytic {got[i, j]:.8g}, "
                        f"central {central[i, j]:.8g}, right {right[i, j]:.8g}, left {left[i, j]:.8g}")


@pytest.mark.parametrize("configuration", ("reference", "default"))
def test_compiled_jacobian_equals_the_symbolic_chain_rule(configuration):
    """The generated code (common subexpressions, the chain rule on the pattern, the power rule) is the symbolic
    form's own Jacobian: equal to the pure-Python forward chain of ``SymbolicModel.jacobian_function`` to rounding,
    at states away from zero (where sympy's b**e * e / b is defined)."""
    m = build_model(configuration)
    sm = symbolic_model(configuration)
    chain = sm.jacobian_function()
    pset = parameters(configuration)
    p, y0 = m.parameter_vector(pset), m.initial_state(pset)
    rng = np.random.default_rng(9)
    ni = len(m.states)
    for t in (30.0, 500.0):
        y = y0.copy()
        y[:ni][y[:ni] == 0.0] = 0.01
        y[:ni] *= rng.uniform(0.8, 1.2, ni)
        ok, jac, _fx = _analytic(m, t, y, p)
        assert ok
        expected = chain(t, y, p)[:, :ni]
        row = np.max(np.abs(expected), axis=1, keepdims=True)
        np.testing.assert_allclose(jac, expected, rtol=1e-9, atol=0.0 + 1e-12 * float(row.max()))


@pytest.mark.parametrize("configuration", ("corrected", "default"))
def test_runs_with_analytic_and_coloured_jacobian_agree(configuration):
    analytic = _run(configuration, SolverOptions(specialised=True))
    coloured = _run(configuration, SolverOptions(jacobian="coloured", specialised=True))
    assert analytic.ok and coloured.ok
    for name in OBSERVED:
        a, b = analytic.outputs()[name].to_numpy(), coloured.outputs()[name].to_numpy()
        np.testing.assert_allclose(a, b, rtol=1e-5, err_msg=name)
    assert analytic.n_rhs < 0.6 * coloured.n_rhs  # one evaluation per Jacobian instead of one per colour


@numba.njit
def _looping_rate(x, k):
    s = 0.0
    for _ in range(2):
        s += 0.5 * k * x
    return (s,)


def test_a_model_the_symbolic_pass_cannot_read_uses_finite_differences():
    pool = Submodel("pool", "", _looping_rate, ("loss",),
                    (State("x", "mmol", "a pool", from_parameter("x_0"), {"calcium": 1.0}),),
                    (Process("loss", "loss", {"x": -1.0}, "first-order loss", "urine"),))
    m = compose("loop_model", [pool], ["x_0", "k"])
    assert jacobian_source(m) is None
    assert not m.generated.ANALYTIC
    base = {"x_0": 10.0, "k": 0.5}
    p, y0 = m.parameter_vector(base), m.initial_state(base)
    jac, fx = np.zeros((m.n_states, len(m.states))), np.zeros(m.n_states)
    assert not m.generated._analytic_jacobian(0.0, y0, p, jac, fx)  # the solver's hook declines: coloured FD


def test_the_cached_source_is_the_generated_one_and_a_foreign_file_is_regenerated(tmp_path, monkeypatch):
    """``ckdmbd run`` reads the generated Jacobian from the code cache (no symbolic build): that text is what the
    generator writes, and a cache file that is not the generator's (truncated, planted) is not used."""
    from ckdmbd.model import analytic_jacobian, code_cache

    m = build_model("reference")
    rhs_source = m.generated.SOURCE.split("\n\n# analytic Jacobian of")[0]
    fresh = jacobian_source(m)
    monkeypatch.setattr(code_cache, "cache_dir", lambda: tmp_path)
    assert analytic_jacobian.cached_jacobian_source(m, rhs_source) == fresh  # generated and stored
    (stored,) = tmp_path.glob("jacobian_reference_*.txt")
    assert stored.read_text() == fresh
    assert analytic_jacobian.cached_jacobian_source(m, rhs_source) == fresh  # read back
    stored.write_text("import os  # not the generator's\n")
    assert analytic_jacobian.cached_jacobian_source(m, rhs_source) == fresh
    assert stored.read_text() == fresh
