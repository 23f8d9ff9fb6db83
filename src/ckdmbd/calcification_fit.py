"""Fit of a calcification site to a case at presentation, and its robustness table (the seed case, issue 10).

The site's nidus appears at its onset (the seed case: the parathyroidectomy, t = 0), so the simulated history
before it does not depend on the site's parameters: it is run once, and every evaluation of the fit starts from
the state and parameters at the onset and runs only to presentation (1.5 years instead of 11: about 0.5 s). At an
onset at t = 0 that state is the scenario's history's end, kept in the process (``ckdmbd run`` has simulated it
already), and the robustness table's runs are one batch across the cores (:meth:`SiteProblem.present_many`).

Fitted: the site's growth rate constant (``growth_rate``, deposit_growth_rate) and the mineral volume fraction of
the mass (``mineral_fraction``), to three numbers at presentation: the mean pre-dialysis calcium (2.12 mmol/L,
sd 0.03) and phosphate (2.13 mmol/L, sd 0.10) of the sessions within two weeks, and the diameter (15 cm). The
growth rate sets how much mineral the deposit has taken from the blood (so calcium and phosphate), by weighted
least squares on its logarithm (scipy); the mineral fraction then turns that mineral into the reported diameter
exactly (a sphere of HAP at 3.16 g/cm^3 filling that fraction). PTH (3.7 pmol/L, 1.5-6.1) is not fitted: the
graft sets it. The threshold (apparent solubility product), nidus, dissolution rate, growth order, milieu time
and transition width are assumptions (calcification.toml and the scenario).

Re-run after changing the physiology (kidney, gland, bone, phosphate pools)::

    python -m ckdmbd.calcification_fit            # fits seed-case, prints the values and the +-20 % table
    python -m ckdmbd.calcification_fit --write    # also writes the fitted values into the three seed-case files
"""

from __future__ import annotations

import argparse
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from importlib import resources

import numpy as np

from ckdmbd import units
from ckdmbd.model.configurations import model as build_model
from ckdmbd.model.configurations import parameters as builtin_parameters
from ckdmbd.physiology.calcification import HAP_DENSITY_G_CM3
from ckdmbd.protocol import CalcificationSiteOnset, ScaleParameter, SetParameter
from ckdmbd.scenario import Scenario, load_scenario
from ckdmbd.sessions import sessions
from ckdmbd.simulation import SolverOptions, expand_events, simulate

MONTH_H = units.HOURS_PER_YEAR / 12
PRESENTATION_H = 18 * MONTH_H
FITTED = ("deposit_growth_rate", "deposit_mineral_fraction")
ROBUSTNESS = ("deposit_growth_rate", "deposit_mineral_fraction", "deposit_ksp_mM2", "deposit_growth_order",
              "deposit_nucleus_mmol", "deposit_transition_width", "deposit_fetuin_inhibition_g_L")
"""Parameters of the +-20 % table: the two fitted, then the assumed site values that act before presentation (the
milieu time, 3 days, is short against the 18 months of growth; dissolution acts after presentation)."""
DIAMETER_CM = 15.0  # reported "approximately 15 cm"
TARGETS = {  # serum value at presentation -> (reported value, scale of the residual)
    "pre_calcium_mmol_L": (2.12, 0.03),
    "pre_phosphate_mmol_L": (2.13, 0.10),
}
SCENARIO_FIELDS = {"deposit_growth_rate": ("growth_rate", "mmol^(1/3)/h", "{:.4g}"),
                   "deposit_mineral_fraction": ("mineral_fraction", None, "{:.4g}")}


@dataclass
class Presentation:
    diameter_cm: float
    mass_g: float
    pre_calcium_mmol_L: float
    pre_phosphate_mmol_L: float
    pre_pth_pmol_L: float


class SiteProblem:
    """A scenario with one site cut at the site's onset: the state there, and fast runs to presentation."""

    def __init__(self, scenario: Scenario, presentation_h: float = PRESENTATION_H):
        onsets = [e for e in scenario.events if isinstance(e, CalcificationSiteOnset)]
        if len(onsets) != 1:
            raise ValueError(f"{scenario.name}: the fit needs one calcification site with an onset time")
        self.scenario, self.presentation_h = scenario, presentation_h
        self.onset_h = onsets[0].time_h
        mdl = build_model(scenario.configuration)
        actions = expand_events(scenario.events, mdl.state_names)
        before = [a for a in actions if a.time_h < self.onset_h]
        self.after = [a for a in actions if self.onset_h <= a.time_h < presentation_h + 15 * units.HOURS_PER_DAY]
        base = dict(builtin_parameters(scenario.configuration)) | dict(scenario.parameter_overrides)
        for a in before:  # parameters in force at the onset
            if isinstance(a, SetParameter):
                base[a.name] = a.value
            elif isinstance(a, ScaleParameter):
                base[a.name] *= a.factor
        builtin = builtin_parameters(scenario.configuration)
        self.base = {k: v for k, v in base.items() if k in builtin}
        if self.onset_h < 0:
            raise ValueError(f"{scenario.name}: the fit starts at the site's onset, which must be at or after t = 0")
        self.before = before
        self.y0 = self._onset_state(before)
        window = [b for b, _e in sessions(scenario.events) if abs(b - presentation_h) <= 14 * units.HOURS_PER_DAY]
        if not window:
            raise ValueError(f"{scenario.name}: no dialysis session within two weeks of presentation")
        self.session_starts = np.array(window)

    def _onset_state(self, before: list) -> np.ndarray:
        """The state just before the actions at the onset. At t = 0 (the seed case) that is the end of the
        scenario's history, which ``ckdmbd run`` has already simulated and kept (:func:`ckdmbd.app_history.
        history_end`, the same numbers bit for bit as the full run's state there): taken from there, not simulated
        again (~3 s). Later onsets (or a history that failed: the run then says why) simulate up to the onset."""
        kept = self.kept_onset_state() if self.onset_h == 0.0 else None
        return kept if kept is not None else self.simulated_onset_state(before)

    def kept_onset_state(self) -> np.ndarray | None:
        """The kept history's end at t = 0 (simulated once per process), or None where it failed or its parameters
        in force differ from :attr:`base`."""
        from ckdmbd.app_history import history_end

        end = history_end(self.scenario, SolverOptions())
        if isinstance(end, str) or any(end.parameters.get(k) != v for k, v in self.base.items()):
            return None
        return np.array(end.state)

    def simulated_onset_state(self, before: list) -> np.ndarray:
        """The state at the onset from a run of the history with the actions ``before`` it (to 1e-6 h past an onset
        at t = 0, without the onset's actions): within the solver tolerance of :meth:`kept_onset_state`."""
        end_h = max(self.onset_h, 1e-6)
        history = simulate(self.scenario.configuration, end_h, before, parameters=self.base,
                           start_h=-self.scenario.history_h, output_times_h=np.array([end_h]))
        return history.y[-1].copy()

    def _protocol(self) -> tuple[np.ndarray, float, list]:
        """Output times (the sessions in the window and the presentation), duration and actions of a run from the
        onset (times from the onset)."""
        times = np.unique(np.concatenate([self.session_starts, [self.presentation_h]])) - self.onset_h
        shifted = [replace(a, time_h=a.time_h - self.onset_h) for a in self.after]
        return times, float(times[-1]) + 1.0, shifted

    def present(self, solver: SolverOptions | None = None, **values: float) -> Presentation:
        """The model at presentation with some site parameters changed (model units)."""
        times, duration, shifted = self._protocol()
        result = simulate(self.scenario.configuration, duration, shifted, parameters=self.base | values,
                          initial_state=self.y0, output_times_h=times, solver=solver)
        frame = result.to_frame(include_states=False)
        at = int(np.argmin(np.abs(times - (self.presentation_h - self.onset_h))))
        pre = np.isin(times, self.session_starts - self.onset_h)
        return Presentation(float(frame["deposit_diameter_cm"].iloc[at]), float(frame["deposit_mass_g"].iloc[at]),
                            float(frame["calcium_mmol_L"][pre].mean()), float(frame["phosphate_mmol_L"][pre].mean()),
                            float(frame["pth_pmol_L"][pre].mean()))

    def present_many(self, variants: Sequence[dict[str, float]], solver: SolverOptions | None = None
                     ) -> list[Presentation]:
        """:meth:`present` for each of ``variants`` in one batch (:func:`ckdmbd.solvers.batch.simulate_many`: the
        same protocol and onset state, one parameter set each, across the cores). Each equals
        ``present(solver=SolverOptions(specialised=True), **variant)`` bit for bit (the solver compiled for the model,
        with its analytic Jacobian; ``solver`` as in :meth:`present`), and today's separate :meth:`present` runs
        within the solver tolerance: ~1e-8 relative on the seed case's table. A variant the batch refuses or
        fails raises, as :meth:`present` would."""
        from ckdmbd.simulation import SimulationError
        from ckdmbd.solvers.batch import batchable, simulate_many

        opts = solver or SolverOptions(specialised=True)
        if not batchable(opts) or build_model(self.scenario.configuration).jacobian is None:
            return [self.present(solver=opts, **v) for v in variants]
        _times, duration, shifted = self._protocol()
        presentation = self.presentation_h - self.onset_h
        starts = self.session_starts - self.onset_h
        batch = simulate_many(self.scenario.configuration, duration, shifted,
                              parameters=[self.base | dict(v) for v in variants],
                              initial_states=[self.y0] * len(variants), solver=opts,
                              outputs=("deposit_diameter_cm", "deposit_mass_g", "ca_mM", "phosphate_mM", "pth_pM"),
                              output_interval_h=presentation,  # the grid: the onset and the presentation
                              sessions_h=[(float(t), float(t)) for t in starts])  # only their starts are kept
        at = int(np.flatnonzero(batch.t_h == presentation)[0])
        pre = batch.session_start_rows
        if len(pre) != len(starts):
            raise ValueError("the batch did not keep every session of the window")
        out = []
        for j in range(len(variants)):
            if batch.status[j] != 0:
                raise SimulationError(f"the site at presentation with {dict(variants[j])}: {batch.messages[j]}")
            v = batch.values[j]
            out.append(Presentation(float(v[at, 0]), float(v[at, 1]), float(v[pre, 2].mean()),
                                    float(v[pre, 3].mean()), float(v[pre, 4].mean())))
        return out

    def residuals(self, values: dict[str, float]) -> np.ndarray:
        """Scaled differences from the reported serum values (TARGETS)."""
        p = self.present(**values)
        return np.array([(getattr(p, k) - target) / scale for k, (target, scale) in TARGETS.items()])


def mineral_fraction_for(mass_g: float, diameter_cm: float = DIAMETER_CM) -> float:
    """The mineral volume fraction that makes ``mass_g`` of HAP a sphere of ``diameter_cm``."""
    return mass_g / HAP_DENSITY_G_CM3 / (math.pi / 6.0 * diameter_cm**3)


def fit(problem: SiteProblem, start: float | None = None, max_nfev: int = 25) -> dict:
    """Weighted least squares on log(growth_rate) to the serum values, then the mineral fraction to the diameter;
    returns the values and the model there."""
    from scipy.optimize import least_squares

    x0 = math.log(start or problem.base["deposit_growth_rate"])

    def f(x):
        return problem.residuals({"deposit_growth_rate": float(math.exp(x[0]))})

    sol = least_squares(f, [x0], method="trf", diff_step=0.05, max_nfev=max_nfev,
                        bounds=([math.log(1e-4)], [math.log(1e4)]))
    rate = float(math.exp(sol.x[0]))
    mass = problem.present(deposit_growth_rate=rate).mass_g
    fraction = mineral_fraction_for(mass)
    if not 0 < fraction <= 1:
        raise ValueError(f"no physical mineral fraction makes {mass:.3g} g of mineral a {DIAMETER_CM:g} cm mass")
    values = {"deposit_growth_rate": rate, "deposit_mineral_fraction": fraction}
    return {"values": values, "presentation": problem.present(**values), "cost": float(sol.cost),
            "evaluations": int(sol.nfev) + 2}


def robustness(problem: SiteProblem, names: Sequence[str] = ROBUSTNESS, factors: Sequence[float] = (0.8, 1.2)
               ) -> list[dict]:
    """Diameter and mass at presentation with each parameter scaled by each factor (the rest as in the scenario),
    the runs as one batch (:meth:`SiteProblem.present_many`)."""
    runs = [(name, factor) for name in names for factor in factors if name != "deposit_mineral_fraction"]
    presented = problem.present_many([{}] + [{name: problem.base[name] * factor} for name, factor in runs])
    nominal, by_run = presented[0], dict(zip(runs, presented[1:], strict=True))
    rows = [{"parameter": "(as fitted)", "factor": 1.0, "value": None, "diameter_cm": nominal.diameter_cm,
             "mass_g": nominal.mass_g, "pre_calcium_mmol_L": nominal.pre_calcium_mmol_L,
             "pre_phosphate_mmol_L": nominal.pre_phosphate_mmol_L, "pre_pth_pmol_L": nominal.pre_pth_pmol_L}]
    for name in names:
        for factor in factors:
            value = problem.base[name] * factor
            if name == "deposit_mineral_fraction":  # only converts mass to diameter: no run needed
                p = Presentation(nominal.diameter_cm * factor ** (-1.0 / 3.0), nominal.mass_g,
                                 nominal.pre_calcium_mmol_L, nominal.pre_phosphate_mmol_L, nominal.pre_pth_pmol_L)
            else:
                p = by_run[name, factor]
            rows.append({"parameter": name, "factor": factor, "value": value, "diameter_cm": p.diameter_cm,
                         "mass_g": p.mass_g, "pre_calcium_mmol_L": p.pre_calcium_mmol_L,
                         "pre_phosphate_mmol_L": p.pre_phosphate_mmol_L, "pre_pth_pmol_L": p.pre_pth_pmol_L})
    return rows


def format_table(rows: list[dict]) -> str:
    lines = [f"{'parameter':32s} {'x':>4s} {'value':>10s} {'diam cm':>8s} {'mass g':>8s} {'Ca pre':>7s} "
             f"{'P pre':>6s} {'PTH pre':>8s}"]
    for r in rows:
        value = "" if r["value"] is None else f"{r['value']:.4g}"
        lines.append(f"{r['parameter']:32s} {r['factor']:4.1f} {value:>10s} {r['diameter_cm']:8.2f} "
                     f"{r['mass_g']:8.1f} {r['pre_calcium_mmol_L']:7.3f} {r['pre_phosphate_mmol_L']:6.3f} "
                     f"{r['pre_pth_pmol_L']:8.2f}")
    return "\n".join(lines)


SEED_SCENARIOS = ("seed-case",)  # the what-ifs (seed-case-adherent ...) extend it and inherit its site


def write_values(values: dict[str, float], names: Sequence[str] = SEED_SCENARIOS) -> list[str]:
    """Write fitted site values into the built-in scenario files (source tree) in place; returns the paths."""
    written = []
    for name in names:
        path = resources.files("ckdmbd.scenarios").joinpath(f"{name}.toml")
        text = path.read_text(encoding="utf-8")
        for param, (field, unit, fmt) in SCENARIO_FIELDS.items():
            number = fmt.format(values[param])
            new = f'{field} = "{number} {unit}"' if unit else f"{field} = {number}"
            text, n = re.subn(rf"^{field} = .*$", new, text, count=1, flags=re.MULTILINE)
            if n != 1:
                raise ValueError(f"{name}.toml: no {field} line in its [[calcification_sites]]")
        with open(str(path), "w", encoding="utf-8") as fh:
            fh.write(text)
        written.append(str(path))
    return written


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenario", default="seed-case")
    parser.add_argument("--write", action="store_true", help="write the fitted values into the seed-case files")
    args = parser.parse_args(argv)
    problem = SiteProblem(load_scenario(args.scenario))
    out = fit(problem)
    print(f"fitted after {out['evaluations']} runs (cost {out['cost']:.3g}):")
    for k, v in out["values"].items():
        print(f"  {k} = {v:.4g}")
    print(f"  at presentation: {out['presentation']}")
    problem.base.update(out["values"])
    print(format_table(robustness(problem)))
    if args.write:
        for path in write_values(out["values"]):
            print(f"wrote {path}")


if __name__ == "__main__":
    main()
