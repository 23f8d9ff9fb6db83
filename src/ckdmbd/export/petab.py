"""PEtab (version 1) problem of a calibration: the SBML model, and the condition, measurement, observable and
parameter tables of ``ckdmbd fit`` (``ckdmbd fit LABS --scenario S --petab-out DIR``), for pyPESTO, AMICI, COPASI...

What the folder holds (``problem.yaml`` names the files):

- ``model.xml``: the scenario as SBML (:mod:`ckdmbd.export.sbml`), its history run by ckdmbd, with the calibration's
  parameters at t = 0 in their model units: ``OralPhos`` and ``OralCa`` (dietary phosphorus and calcium reaching the
  gut, mmol/h: the fit's mg/day / molar mass / 24 h) and ``native_tissue_ref`` (the parathyroid tissue, x normal),
  with an initial assignment ``parathyroid_tissue_native = native_tissue_ref`` (the fit scales the tissue at t = 0);
- ``observables.tsv``: calcium ``ca_mM``, phosphate ``phosphate_mM`` and PTH ``max(pth_pM, limit)`` (an assay reads
  a value below its limit as the limit, as in :mod:`ckdmbd.calibration`), each log-normal (``observableTransformation
  = log``, ``noiseDistribution = normal``) with the fit's CV as the noise on the log scale;
- ``measurements.tsv``: every fitted lab value at the model time the fit compares it with (hours; a pre-dialysis
  sample at the start of that day's session), ``datasetId`` ``pre_dialysis`` or ``other`` (post-dialysis or
  unspecified: its clock time). PEtab 1 has no censored measurements: values at or below the assay's limit, which
  the fit censors, are left out and listed in ``README.txt``;
- ``conditions.tsv``: one condition, ``patient`` (the scenario as it is);
- ``parameters.tsv``: the three parameters on a log10 scale within the fit's bounds, nominal values the fit's
  estimate (or the bounds' geometric middle), a uniform prior on the log10 scale over the bounds (the fit's own
  assumption: no prior information beyond the bounds). A parameter that a scenario's own action at t = 0 overrides
  (a total parathyroidectomy at t = 0 removes the tissue the fit would scale) is written with ``estimate = 0``.

The scenario's events after t = 0 (dialysis sessions, doses, surgery, a later diet) are SBML events of the model,
so a later diet event overrides the estimated intake from its time on, exactly as in ckdmbd.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from ckdmbd.export.sbml import ExportError, build_document, consistency, prepare
from ckdmbd.protocol import Diet, SetParameter, SetParathyroidTissue

OBSERVABLES = {  # fitted column -> (observable id, SBML variable)
    "calcium_mmol_L": ("calcium", "ca_mM"),
    "phosphate_mmol_L": ("phosphate", "phosphate_mM"),
    "pth_pmol_L": ("pth", "pth_pM"),
}
CONDITION = "patient"


def _model_values(name: str, value: float) -> dict[str, float]:
    """The model parameters a fit parameter sets, in model units (from the events the fit itself uses)."""
    if name == "diet_phosphorus":
        return {a.name: a.value for a in Diet(0.0, None, value).actions() if isinstance(a, SetParameter)}
    if name == "diet_calcium":
        return {a.name: a.value for a in Diet(0.0, value, None).actions() if isinstance(a, SetParameter)}
    if name == "parathyroid_tissue":
        return {"native_tissue_ref": value}
    raise ExportError(f"PEtab: no model parameter for fit parameter {name!r}")


def _overridden_at_start(scenario, state_names: tuple[str, ...]) -> set[str]:
    """Model parameters and states that the scenario's own actions at t = 0 set or scale."""
    from ckdmbd.simulation import expand_events

    touched = set()
    for a in expand_events(scenario.events, state_names):
        if a.time_h == 0.0:
            touched.add(getattr(a, "name", None) or getattr(a, "state", None))
    return touched


def write_petab(problem, folder: str | Path, nominal: Mapping[str, float] | None = None) -> list[Path]:
    """Write the PEtab problem of a :class:`ckdmbd.calibration.Problem` into ``folder``; returns the files written.
    ``nominal``: values of the fit parameters (natural units of ``FIT_PARAMETERS``), default the bounds' geometric
    middles."""
    import libsbml

    from ckdmbd.calibration import ASSAY_LIMIT, FIT_PARAMETERS, LAB_CV

    by_name = {p.name: p for p in FIT_PARAMETERS}
    values = {n: math.sqrt(by_name[n].lower * by_name[n].upper) for n in problem.names}
    values |= dict(nominal or {})
    sc = problem.scenario
    from ckdmbd.model.configurations import model as build_model

    compiled = build_model(sc.configuration)
    touched = _overridden_at_start(sc, compiled.state_names)
    # the fit's order: tissue first (it scales the t = 0 state before the scenario's actions), the intakes last
    events = list(sc.events)
    if "parathyroid_tissue" in values:
        events.insert(0, SetParathyroidTissue(0.0, values["parathyroid_tissue"]))
    events.append(Diet(0.0, values.get("diet_calcium"), values.get("diet_phosphorus")))
    export = prepare(replace(sc, events=tuple(events), duration_h=problem.duration_h))
    doc = build_document(export)
    m = doc.getModel()
    rows = []
    for name in problem.names:
        fp = by_name[name]
        model_ids = _model_values(name, values[name])
        lower, upper = _model_values(name, fp.lower), _model_values(name, fp.upper)
        for pid, val in model_ids.items():
            if m.getParameter(pid) is None:
                raise ExportError(f"PEtab: the SBML model has no parameter {pid!r} for {name}")
            estimate = not (pid in touched or (name == "parathyroid_tissue" and "parathyroid_tissue_native" in touched))
            lo10, hi10 = math.log10(lower[pid]), math.log10(upper[pid])
            rows.append({"parameterId": pid, "parameterName": f"{fp.description} ({name}, {fp.lower:g}-{fp.upper:g} "
                                                               f"{fp.unit})",
                         "parameterScale": "log10", "lowerBound": lower[pid], "upperBound": upper[pid],
                         "nominalValue": val, "estimate": int(estimate),
                         "objectivePriorType": "parameterScaleUniform",
                         "objectivePriorParameters": f"{lo10:.12g};{hi10:.12g}"})
    if "parathyroid_tissue" in values and "parathyroid_tissue_native" not in touched:
        ia = m.createInitialAssignment()
        ia.setSymbol("parathyroid_tissue_native")
        ia.setMath(libsbml.parseL3Formula("native_tissue_ref"))
    report = consistency(doc)
    if report.errors:
        raise ExportError(f"PEtab: the SBML model fails libsbml's checks: {report.messages[0]}")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    labs = problem.labs
    used = [c for c in OBSERVABLES if c in set(labs["column"])]
    observables = pd.DataFrame([{
        "observableId": OBSERVABLES[c][0],
        "observableName": c,
        "observableFormula": (f"max({OBSERVABLES[c][1]}, {ASSAY_LIMIT[c][0]:g})" if c in ASSAY_LIMIT
                              else OBSERVABLES[c][1]),
        "observableTransformation": "log",
        "noiseFormula": f"{LAB_CV[c]:g}",
        "noiseDistribution": "normal",
    } for c in used])
    keep = ~np.asarray(problem.censored)
    measurements = pd.DataFrame({
        "observableId": [OBSERVABLES[c][0] for c in labs["column"][keep]],
        "simulationConditionId": CONDITION,
        "measurement": labs["value"].to_numpy(dtype=float)[keep],
        "time": np.asarray(problem.model_times_h, dtype=float)[keep],
        "datasetId": ["pre_dialysis" if pre else "other" for pre in labs["predialysis"][keep]],
    })
    conditions = pd.DataFrame({"conditionId": [CONDITION], "conditionName": [f"{sc.name} as written"]})
    parameters = pd.DataFrame(rows)
    files = {"model.xml": lambda p: p.write_text(libsbml.writeSBMLToString(doc), encoding="utf-8"),
             "observables.tsv": lambda p: observables.to_csv(p, sep="\t", index=False),
             "measurements.tsv": lambda p: measurements.to_csv(p, sep="\t", index=False),
             "conditions.tsv": lambda p: conditions.to_csv(p, sep="\t", index=False),
             "parameters.tsv": lambda p: parameters.to_csv(p, sep="\t", index=False)}
    yaml = ("format_version: 1\n"
            "parameter_file: parameters.tsv\n"
            "problems:\n"
            "- sbml_files: [model.xml]\n"
            "  condition_files: [conditions.tsv]\n"
            "  measurement_files: [measurements.tsv]\n"
            "  observable_files: [observables.tsv]\n")
    censored = [f"{labs['column'].iloc[k]} {labs['value'].iloc[k]:g} on day {labs['time_days'].iloc[k]:g}"
                for k in np.flatnonzero(np.asarray(problem.censored))]
    fixed = [r["parameterId"] for r in rows if not r["estimate"]]
    readme = "\n".join([
        f"PEtab 1 problem written by `ckdmbd fit` for scenario {sc.name!r}: {len(measurements)} measurements.",
        "Time in hours from the scenario's t = 0 (after its simulated history); see ckdmbd.export.petab.",
        "Censored values left out (PEtab 1 has no censoring; ckdmbd fit keeps them as censored terms): "
        + (", ".join(censored) if censored else "none") + ".",
        "Not estimated (a scenario action at t = 0 overrides them): " + (", ".join(fixed) if fixed else "none")
        + ".", ""])
    files["README.txt"] = lambda p: p.write_text(readme, encoding="utf-8")
    files["problem.yaml"] = lambda p: p.write_text(yaml, encoding="utf-8")
    written = []
    for name, write in files.items():
        path = folder / name
        write(path)
        written.append(path)
    return written
