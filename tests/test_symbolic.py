"""The symbolic form read from the submodels' code (``ckdmbd.model.symbolic``) is the compiled model.

Its right-hand side, evaluated from the sympy expressions, equals the compiled one to 1e-10 (relative to the size of
each derivative's fluxes) at the initial state and at random states; its Jacobian, differentiated by sympy and
chained through the outputs, equals central differences of the compiled right-hand side on the sparsity pattern
(``ckdmbd.model.sparsity``) and its structural pattern lies inside that pattern.
"""

import math

import numpy as np
import pytest
import sympy

from ckdmbd.model.configurations import model, parameters
from ckdmbd.model.framework import Submodel
from ckdmbd.model.symbolic import SymbolicFormError, execute_symbolically, symbolic_model

CONFIGURATIONS = ("reference", "default")


def _flux_scale(sm, outputs, y):
    """Per derivative, the sum of |stoichiometry x rate| of its processes: the size round-off is relative to."""
    scale = np.zeros(len(sm.states))
    index = {s.name: i for i, s in enumerate(sm.states)}
    for proc in sm.processes:
        for st, coef in proc.stoichiometry.items():
            scale[index[st]] += abs(coef * outputs[proc.rate.name])
    for entry in sm.model.ledger:
        rate = next(p.rate.name for p in sm.processes if p.name == entry.process)
        scale[entry.state_index] += abs(outputs[rate])
    return scale + 1e-300


def _states(m, y0, rng):
    """A random state around ``y0``; states that are 0 at baseline (empty depots, no graft) made positive, so that
    derivatives of fractional powers exist."""
    y = y0.copy()
    n = len(m.states)
    phys = y[:n]
    phys[phys == 0.0] = 0.01
    phys *= rng.uniform(0.8, 1.2, n)
    return y


@pytest.mark.parametrize("configuration", CONFIGURATIONS)
def test_symbolic_rhs_equals_compiled(configuration):
    sm = symbolic_model(configuration)
    m = model(configuration)
    pset = parameters(configuration)
    p, y0 = m.parameter_vector(pset), m.initial_state(pset)
    rhs, outputs = sm.rhs_function(), sm.output_function()
    rng = np.random.default_rng(7)
    points = [(0.0, y0)] + [(float(rng.uniform(0, 1000)), _states(m, y0, rng)) for _ in range(4)]
    for t, y in points:
        expected = np.zeros_like(y)
        m.generated.rhs(t, y, p, expected)
        got = rhs(t, y, p)
        scale = _flux_scale(sm, outputs(t, y, p), y)
        rel = np.abs(got - expected) / np.maximum(np.abs(expected), scale)
        worst = int(np.argmax(rel))
        assert rel[worst] < 1e-10, (f"{configuration}: d{m.state_names[worst]}/dt symbolic {got[worst]!r}, "
                                    f"compiled {expected[worst]!r} at t = {t}")
        observed = np.zeros(len(m.output_names))
        m.generated.observe(t, y, p, observed)
        out = outputs(t, y, p)
        for j, name in enumerate(m.output_names):
            assert math.isclose(out[name], observed[j], rel_tol=1e-10, abs_tol=1e-12 * (abs(observed[j]) + 1e-12)) \
                or (math.isnan(out[name]) and math.isnan(observed[j])), name


@pytest.mark.parametrize("configuration", CONFIGURATIONS)
def test_symbolic_jacobian_equals_central_differences(configuration):
    sm = symbolic_model(configuration)
    m = model(configuration)
    pset = parameters(configuration)
    p, y0 = m.parameter_vector(pset), m.initial_state(pset)
    n = len(m.states)
    analytic = sm.jacobian_pattern()
    pattern = m.jacobian.pattern
    assert not np.any(analytic & ~pattern), "the symbolic pattern must lie inside the sparsity pass's pattern"
    assert analytic.sum() > 0.5 * pattern.sum()  # the over-approximation is not wild
    jac, outputs = sm.jacobian_function(), sm.output_function()
    rng = np.random.default_rng(3)
    t = 30.0

    def f(y):
        dy = np.zeros_like(y)
        m.generated.rhs(t, y, p, dy)
        return dy

    for _ in range(2):
        y = _states(m, y0, rng)
        got = jac(t, y, p)[:, :n]
        fd = np.zeros_like(got)
        steps = 1e-6 * np.maximum(np.abs(y[:n]), 1e-3)
        for j, h in enumerate(steps):
            up, down = y.copy(), y.copy()
            up[j] += h
            down[j] -= h
            fd[:, j] = (f(up) - f(down)) / (2 * h)
        row = np.abs(fd).max(axis=1, keepdims=True)
        noise = 1e3 * np.finfo(float).eps * _flux_scale(sm, outputs(t, y, p), y)[:, None] / steps[None, :]
        tol = 1e-4 * np.abs(fd) + 1e-6 * row + noise
        bad = (np.abs(got - fd) > tol) & pattern
        if bad.any():
            i, j = np.argwhere(bad)[0]
            pytest.fail(f"{configuration}: d f[{m.state_names[i]}] / d {m.state_names[j]}: symbolic {got[i, j]:.6g}, "
                        f"central differences {fd[i, j]:.6g}")
        assert np.all(np.abs(fd[~analytic]) <= (1e-6 * row + noise)[~analytic]), \
            "a nonzero of the finite-difference Jacobian lies outside the symbolic pattern"


def test_branches_become_piecewise():
    import numba

    @numba.njit
    def f(x, a):
        y = 0.0
        if x > a:  # noqa: SIM108 (an if-statement on purpose: the merge of assignments is under test)
            y = x - a
        else:
            y = max(a - x, 0.5)
        if y > 2.0:
            return 2.0, y
        return y if y > 1.0 else 1.0, min(y, 3.0)

    sm = Submodel("toy", "", f, ("u", "v"))
    x, a = sympy.symbols("x a", real=True)
    (u, v), inner = execute_symbolically(sm, {"x": x, "a": a})
    values = dict(inner)
    for xv, av in ((3.0, 0.5), (0.2, 1.0), (1.4, 1.0), (1.0, 2.0)):
        subs = {x: xv, a: av}
        for sym, expr in inner:
            subs[sym] = float(expr.subs(subs))
        assert float(u.subs(subs)) == pytest.approx(f(xv, av)[0])
        assert float(v.subs(subs)) == pytest.approx(f(xv, av)[1])
    assert any(isinstance(e, sympy.Piecewise) for e in values.values())


def test_unsupported_construct_is_named():
    import numba

    @numba.njit
    def looping(x):
        s = 0.0
        for k in range(3):
            s += x * k
        return (s,)

    with pytest.raises(SymbolicFormError, match=r"submodel 'loop'.*For statement"):
        execute_symbolically(Submodel("loop", "", looping, ("s",)), {"x": sympy.Symbol("x")})
