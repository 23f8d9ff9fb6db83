"""The engine's Jacobian: the sparsity pattern read from the submodels' source misses no dependence, the coloured
finite differences (generic, and the model's generated solver that re-evaluates only the submodels a colour reaches)
equal the column-by-column ones and central differences, and runs with the coloured engine agree with the former
dense engine.

States are taken along real runs (a dialysis fortnight in the default configuration, a teriparatide course in the
reference and corrected ones) and, to leave the neighbourhood of a steady state, the same states scaled by random
factors in [0.7, 1.3] (seeded)."""

from __future__ import annotations

import numpy as np
import pytest

from ckdmbd.model.configurations import model as build_model
from ckdmbd.model.configurations import parameters
from ckdmbd.model.sparsity import colour_columns, output_dependencies
from ckdmbd.protocol import Hemodialysis, PhosphateBinder, TeriparatideDoses
from ckdmbd.simulation import SolverOptions, simulate
from ckdmbd.solvers.rosenbrock import fd_jacobian

CONFIGURATIONS = ("reference", "corrected", "default")
NO_COLOURS = np.zeros(1, dtype=np.int64)


def _run(configuration: str, solver: SolverOptions | None = None):
    if configuration == "default":
        events = [Hemodialysis(0.0, 14 * 24.0), PhosphateBinder(0.0, 2.4, 1.0)]
        extra = np.arange(8.0, 12.0, 0.5)  # inside the first session
    else:
        events = [TeriparatideDoses(12.0, 20.0, 24.0, 3)]
        extra = np.arange(12.0, 16.0, 0.5)  # right after the first dose
    return simulate(configuration, 14 * 24.0, events, output_interval_h=24.0, extra_output_times_h=extra,
                    solver=solver)


def _states(result) -> list[tuple[float, np.ndarray, np.ndarray]]:
    """(t, y, p) at a few times along the run, and the same states perturbed."""
    rng = np.random.default_rng(11)
    picks = [0, 3, 7, len(result.t_h) // 2, len(result.t_h) - 1]
    seg = np.searchsorted(result.segment_starts_h, result.t_h, side="right") - 1
    out = []
    for i in picks:
        p = result.segment_parameters[seg[i]]
        y = result.y[i].copy()
        out.append((float(result.t_h[i]), y, p))
        out.append((float(result.t_h[i]), y * rng.uniform(0.7, 1.3, y.shape), p))
    return out


def _differences(rhs, t, y, p, ni):
    """Central differences and, for kinks (a piecewise rate switching exactly at a baseline steady state, where
    central differences average the two one-sided slopes), the right-sided difference, both with step 1e-6."""
    n = y.shape[0]
    central, right = np.full((n, ni), np.nan), np.full((n, ni), np.nan)
    f0, fp, fm = np.empty(n), np.empty(n), np.empty(n)
    rhs(t, y, p, f0)
    for j in range(ni):
        h = 1e-6 * max(abs(y[j]), 1e-3)
        yp, ym = y.copy(), y.copy()
        yp[j] += h
        ym[j] -= h
        rhs(t, yp, p, fp)
        rhs(t, ym, p, fm)
        central[:, j] = (fp - fm) / (yp[j] - ym[j])
        right[:, j] = (fp - f0) / (yp[j] - y[j])
    return central, right


@pytest.mark.parametrize("configuration", CONFIGURATIONS)
def test_coloured_jacobian_matches_dense_and_central_differences(configuration):
    m = build_model(configuration)
    js = m.jacobian
    ni = len(m.states)
    assert js is not None and js.n_colours < ni  # the pattern is worth colouring at all
    assert set(js.exact_submodels) == {sm.name for sm in m.submodels}  # every submodel's source was read
    for t, y, p in _states(_run(configuration)):
        # the model's own solver: one perturbation per colour, re-evaluating only the submodels it reaches
        coloured = m.generated.fd_jacobian(t, y, p, ni, js.colour_ptr, js.colour_cols, js.col_ptr, js.col_rows)
        generic = fd_jacobian(m.generated.rhs, t, y, p, ni, js.colour_ptr, js.colour_cols, js.col_ptr, js.col_rows)
        dense = fd_jacobian(m.generated.rhs, t, y, p, ni, NO_COLOURS, NO_COLOURS, NO_COLOURS, NO_COLOURS)
        central, right = _differences(m.generated.rhs, t, y, p, ni)
        # no dependence outside the pattern: perturbing a state leaves those derivatives bit-for-bit unchanged
        assert np.all(dense[~js.pattern] == 0.0)
        assert np.all(central[~js.pattern][np.isfinite(central[~js.pattern])] == 0.0)
        # a derivative reads the same inputs whether its column was perturbed alone or with its colour, and a
        # submodel that reads none of a colour's states gives the same outputs whether re-evaluated or not
        np.testing.assert_array_equal(generic, dense)
        np.testing.assert_array_equal(coloured, dense)
        # and the forward differences are the derivative: scaled by the state, against central differences
        # (or, at a kink, the right-sided slope the solver's forward differences take)
        scale = np.maximum(np.abs(y[:ni]), 1e-3)
        fwd, ctr, rgt = coloured * scale, central * scale, right * scale
        ok = np.isfinite(ctr)
        row_scale = np.max(np.where(ok, np.abs(ctr), 0.0), axis=1, keepdims=True)
        err = np.minimum(np.abs(fwd - ctr), np.abs(fwd - rgt))
        bound = 1e-4 * np.abs(ctr) + 1e-6 * row_scale + 1e-12
        worst = np.unravel_index(np.argmax(np.where(ok, err / bound, 0.0)), err.shape)
        assert np.all(err[ok] <= bound[ok]), (
            f"{configuration} t={t}: d {m.state_names[worst[0]]} / d {m.state_names[worst[1]]}: "
            f"forward {fwd[worst]:.6g}, central {ctr[worst]:.6g}")


@pytest.mark.parametrize("configuration", ["reference", "default"])
def test_coloured_engine_agrees_with_dense_engine(configuration):
    new = _run(configuration)
    old = _run(configuration, SolverOptions(jacobian="dense", restart_estimate=False))
    assert new.ok and old.ok
    for name in ("ca_mM", "phosphate_mM", "pth_pM", "calcitriol_pM"):
        a, b = new.outputs()[name].to_numpy(), old.outputs()[name].to_numpy()
        np.testing.assert_allclose(a, b, rtol=5e-5, err_msg=name)
    assert new.n_rhs < 0.7 * old.n_rhs


@pytest.mark.parametrize("configuration", ["corrected", "default"])
def test_solver_compiled_for_the_model_equals_the_shared_one(configuration):
    """The specialised solver (rhs called directly, partial re-evaluation per colour) is the same arithmetic."""
    shared = _run(configuration, SolverOptions(jacobian="coloured", specialised=False))
    own = _run(configuration, SolverOptions(jacobian="coloured", specialised=True))  # (the shared one has no analytic)
    np.testing.assert_array_equal(own.y, shared.y)
    assert (own.n_steps, own.n_rhs, own.n_rejected) == (shared.n_steps, shared.n_rhs, shared.n_rejected)


def test_parameter_vector_after_an_event_equals_a_full_derivation():
    m = build_model("default")
    base = dict(parameters("default"))
    p = m.parameter_vector(base)
    read = sorted(m._derive_reads)
    not_read = sorted(n for n in base if n not in m._derive_reads and n in m.parameter_names)
    assert read and not_read
    for name in (read[0], read[len(read) // 2], not_read[0], "dialysis_on", "dialysis_session_end_h"):
        changed = dict(base)
        changed[name] = base[name] * 1.1 + 0.5
        np.testing.assert_array_equal(m.parameter_vector_after(p, changed, {name}), m.parameter_vector(changed),
                                      err_msg=name)


def _branchy(a, b, c, d, e):
    x = a * 2.0
    if c > 0.0:
        x = x + b
    y = e
    for _ in range(3):
        y = y * 1.5
    return (x, y, 3.0)


def _early_return(a, b, c):
    if c > 1.0:
        return (a, 0.0)
    return (b, 1.0)


def _fill(out, value):
    out[0] = value


def _through_an_array(a, b, c):
    buf = [0.0]
    _fill(buf, a)
    scratch = max(b, 0.0)
    return (buf[0] * 2.0, scratch)


def _walrus(a, b):
    if (x := a) > 0.0:
        return (x,)
    return (b,)


def test_dataflow_follows_assignments_branches_and_early_returns():
    # a value written into an array by a call is followed; a scalar passed to max() is not thereby changed
    assert output_dependencies(_through_an_array, 2) == [{"a"}, {"b"}]
    assert output_dependencies(_walrus, 1) is None  # a store inside an expression: the caller assumes dense
    assert output_dependencies(_branchy, 3) == [{"a", "b", "c"}, {"e"}, set()]
    # which return is taken depends on c, so every output does
    assert output_dependencies(_early_return, 2) == [{"a", "b", "c"}, {"c"}]
    assert output_dependencies(len, 1) is None  # no Python source: the caller assumes dense


def test_colouring_never_groups_columns_that_share_a_row():
    rng = np.random.default_rng(3)
    pattern = rng.random((40, 30)) < 0.1
    colour = colour_columns(pattern)
    for c in np.unique(colour):
        cols = np.flatnonzero(colour == c)
        assert np.all(pattern[:, cols].sum(axis=1) <= 1)


def test_tolerance_presets():
    assert SolverOptions.preset("report") == SolverOptions()  # the default is the report accuracy
    loose = SolverOptions.preset("population", max_steps_per_segment=10)
    assert loose.rtol > SolverOptions().rtol and loose.max_steps_per_segment == 10
    with pytest.raises(ValueError, match="unknown solver preset 'fast'"):
        SolverOptions.preset("fast")
