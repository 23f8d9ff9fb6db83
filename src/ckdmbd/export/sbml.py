"""SBML Level 3 Version 2 (and Antimony) export of a scenario: the composed model from its symbolic form, the
patient's parameters and the scenario's events, so that another simulator reproduces the run.

What the file holds (``ckdmbd export sbml NAME_OR_FILE -o model.xml``):

- every state (and every ledger of a mineral flux) as a ``<parameter constant="false">`` with a ``rateRule``: the
  sum of its processes times their stoichiometry, each process an assignment-rule parameter named as in the code
  (the ledger stays readable);
- every submodel output and every local variable of the submodels' code (``function_variable``) as an assignment
  rule, from :mod:`ckdmbd.model.symbolic` -- the observables ``ca_mM``, ``phosphate_mM``, ``pth_pM``,
  ``calcitriol_pM`` ... among them;
- the parameters the submodels read, with their value for this patient, their units (unit definitions; none where
  the unit is prose or has no SBML base, e.g. IU) and, in their notes, description, kind and source. Parameters
  *derived* by a submodel's ``derive()`` (EC50s that keep the baseline a steady state, ...) are exported as their
  numbers (the notes say so), because the derivations are Python code with checks rather than formulas; an event
  that changes a parameter a derivation reads also sets the re-derived values, exactly as ckdmbd does;
- the scenario's events (doses, every dialysis session, surgery ...) as their primitive actions, one SBML event per
  action time (trigger ``time >= t``, persistent, values from the trigger time), the actions of one time composed in
  their order;
- a history before t = 0 (``history = "5 years"``) is not re-simulated by the file: ckdmbd runs it and the file
  starts from the state and parameters at t = 0 (the notes say so);
- the citations of the submodels and of the parameter values in the model's notes, and DOIs/PMIDs as
  ``bqmodel:isDescribedBy`` annotations.

Time is in hours (the model's unit). ``tests/test_sbml_export.py`` simulates the files in libRoadRunner against
ckdmbd's own runs.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import sympy

from ckdmbd.export.units import sbml_units, unit_id
from ckdmbd.model.composer import CompiledModel
from ckdmbd.model.symbolic import SymbolicModel, symbolic_form
from ckdmbd.protocol import Action, AddToState, ScaleParameter, ScaleState, SetParameter, SetState

SBML_LEVEL, SBML_VERSION = 3, 2


class ExportError(ValueError):
    """The scenario cannot be written as SBML (one line naming why)."""


@dataclass(frozen=True)
class ExportEvent:
    """The actions at one time: new state values (expressions of the values before) and parameter values."""

    time_h: float
    states: Mapping[str, sympy.Expr]
    parameters: Mapping[str, float]
    description: str


@dataclass(frozen=True)
class ExportProblem:
    """Everything the file needs: the model, the values at t = 0 and the events after it."""

    name: str
    description: str
    configuration: str
    model: CompiledModel
    symbolic: SymbolicModel
    records: Mapping[str, object]
    """The parameter records (:class:`ckdmbd.parameters.Parameter`) of the patient's set, by name."""
    parameters: Mapping[str, float]
    """Every parameter the model reads at t = 0 (derived ones included)."""
    initial_state: np.ndarray
    events: tuple[ExportEvent, ...]
    duration_h: float
    history_h: float = 0.0
    derived: Mapping[str, str] = field(default_factory=dict)
    """Derived parameter -> the submodel whose derive() computes it."""


def _action_text(a: Action) -> str:
    if isinstance(a, SetParameter):
        return f"{a.name} = {a.value:g}"
    if isinstance(a, ScaleParameter):
        return f"{a.name} x {a.factor:g}"
    if isinstance(a, SetState):
        return f"{a.state} = {a.value:g}"
    if isinstance(a, AddToState):
        return f"{a.state} += {a.amount:g}"
    return f"{a.state} x {a.factor:g}"


def prepare(scenario) -> ExportProblem:
    """The export problem of a scenario (:class:`ckdmbd.scenario.Scenario`): values at t = 0 (after any history,
    simulated by ckdmbd) and the events of the run, grouped by time."""
    from ckdmbd.model.configurations import model as build_model
    from ckdmbd.model.configurations import parameters as builtin_parameters
    from ckdmbd.simulation import expand_events, simulate

    model = build_model(scenario.configuration)
    pset = builtin_parameters(scenario.configuration)
    if scenario.parameter_overrides:
        pset = pset.with_values(**scenario.parameter_overrides)
    base = dict(pset)
    actions = [a for a in expand_events(scenario.events, model.state_names) if a.time_h < scenario.duration_h]
    history = [a for a in actions if a.time_h < 0.0]
    if history or scenario.history_h > 0:  # the state at t = 0 before the actions at t = 0
        run = simulate(scenario.configuration, max(scenario.duration_h, 1.0), history, parameters=pset,
                       start_h=-scenario.history_h, output_times_h=np.array([0.0]))
        y0 = run.y[0].copy()
    else:
        y0 = model.initial_state(base)
    for a in history:
        _apply_parameter(a, base)
    for a in actions:  # the actions at t = 0 act on the initial values, in their order (as ckdmbd applies them)
        if a.time_h == 0.0:
            if isinstance(a, SetState | AddToState | ScaleState):
                i = model.state_index(a.state)
                y0[i] = a.value if isinstance(a, SetState) else (
                    y0[i] + a.amount if isinstance(a, AddToState) else y0[i] * a.factor)
            else:
                _apply_parameter(a, base)
    full = model.full_parameters(base)
    sm = symbolic_form(model)
    used = set(sm.parameter_names)
    values = {n: full[n] for n in sm.parameter_names}
    events = []
    later = [a for a in actions if a.time_h > 0.0]
    k = 0
    while k < len(later):
        t = later[k].time_h
        group = []
        while k < len(later) and later[k].time_h == t:
            group.append(later[k])
            k += 1
        states: dict[str, sympy.Expr] = {}
        changed_base = False
        for a in group:
            if isinstance(a, SetState | AddToState | ScaleState):
                model.state_index(a.state)  # a KeyError names the state
                current = states.get(a.state, sympy.Symbol(a.state, real=True))
                if isinstance(a, SetState):
                    states[a.state] = sympy.Float(a.value)
                elif isinstance(a, AddToState):
                    states[a.state] = current + sympy.Float(a.amount)
                else:
                    states[a.state] = current * sympy.Float(a.factor)
            else:
                _apply_parameter(a, base)
                changed_base = True
        params: dict[str, float] = {}
        if changed_base:
            new_full = model.full_parameters(base)
            for n in sm.parameter_names:
                if new_full[n] != full[n] and not (math.isnan(new_full[n]) and math.isnan(full[n])):
                    params[n] = new_full[n]
            full = new_full
        events.append(ExportEvent(t, states, params, "; ".join(_action_text(a) for a in group)))
    derived = {d: sm_.name for sm_ in model.submodels for d in sm_.derived if d in used}
    records = {n: pset.record(n) for n in pset}
    return ExportProblem(scenario.name, scenario.description, scenario.configuration, model, sm, records, values,
                         y0, tuple(events), scenario.duration_h, scenario.history_h, derived)


def _apply_parameter(a: Action, base: dict[str, float]) -> None:
    if isinstance(a, SetParameter):
        base[a.name] = a.value
    elif isinstance(a, ScaleParameter):
        base[a.name] = base[a.name] * a.factor


# --- MathML from sympy ---------------------------------------------------------------------------------------------

_FUNCTIONS = {sympy.exp: "exp", sympy.log: "ln", sympy.tanh: "tanh", sympy.sinh: "sinh", sympy.cosh: "cosh",
              sympy.Abs: "abs", sympy.Max: "max", sympy.Min: "min"}
_RELATIONS = {sympy.StrictGreaterThan: "gt", sympy.GreaterThan: "geq", sympy.StrictLessThan: "lt",
              sympy.LessThan: "leq", sympy.Equality: "eq", sympy.Unequality: "neq"}
_TIME = '<csymbol encoding="text" definitionURL="http://www.sbml.org/sbml/symbols/time"> time </csymbol>'


def _number(x: float) -> str:
    if math.isnan(x):
        return "<notanumber/>"
    if math.isinf(x):
        return "<infinity/>" if x > 0 else "<apply><minus/><infinity/></apply>"
    text = repr(float(x))
    if "e" in text:
        mantissa, exponent = text.split("e")
        return f'<cn type="e-notation"> {mantissa} <sep/> {int(exponent)} </cn>'
    if text.startswith("-"):
        return f"<apply><minus/><cn> {text[1:]} </cn></apply>"
    return f"<cn> {text} </cn>"


class _MathML:
    def __init__(self, time: sympy.Symbol, rename: Mapping[str, str]):
        self.time = time
        self.rename = rename

    def __call__(self, e) -> str:
        if e is sympy.true or e is True:
            return "<true/>"
        if e is sympy.false or e is False:
            return "<false/>"
        if isinstance(e, int | float):
            return _number(float(e))
        if e.is_Symbol:
            if e == self.time:
                return _TIME
            return f"<ci> {self.rename.get(e.name, e.name)} </ci>"
        if e is sympy.pi:
            return "<pi/>"
        if e is sympy.E:
            return "<exponentiale/>"
        if e.is_Number:
            if e is sympy.zoo or e is sympy.oo:
                return "<infinity/>"
            if e is sympy.nan:
                return "<notanumber/>"
            return _number(float(e))
        if e.is_Add:
            return "<apply><plus/>" + "".join(self(a) for a in e.args) + "</apply>"
        if e.is_Mul:
            return self._mul(e)
        if e.is_Pow:
            base, exp = e.args
            if exp.is_Number and float(exp) < 0:
                denominator = self(base) if float(exp) == -1 else self._power(base, -exp)
                return f"<apply><divide/><cn> 1 </cn>{denominator}</apply>"
            return self._power(base, exp)
        if isinstance(e, sympy.Piecewise):
            pieces = []
            other = None
            for value, cond in e.args:
                if cond is sympy.true:
                    other = value
                    break
                pieces.append(f"<piece>{self(value)}{self(cond)}</piece>")
            tail = f"<otherwise>{self(other)}</otherwise>" if other is not None else ""
            return f"<piecewise>{''.join(pieces)}{tail}</piecewise>"
        for cls, tag in _RELATIONS.items():
            if isinstance(e, cls):
                return f"<apply><{tag}/>{self(e.args[0])}{self(e.args[1])}</apply>"
        if isinstance(e, sympy.And | sympy.Or):
            tag = "and" if isinstance(e, sympy.And) else "or"
            return f"<apply><{tag}/>" + "".join(self(a) for a in e.args) + "</apply>"
        if isinstance(e, sympy.ITE):  # a condition that is itself piecewise: (a and b) or (not a and c)
            a, b, c = (self(x) for x in e.args)
            return f"<apply><or/><apply><and/>{a}{b}</apply><apply><and/><apply><not/>{a}</apply>{c}</apply></apply>"
        if isinstance(e, sympy.Not):
            return f"<apply><not/>{self(e.args[0])}</apply>"
        for cls, tag in _FUNCTIONS.items():
            if isinstance(e, cls):
                return f"<apply><{tag}/>" + "".join(self(a) for a in e.args) + "</apply>"
        raise ExportError(f"cannot write {type(e).__name__} ({str(e)[:80]}) as MathML")

    def _power(self, base, exp) -> str:
        return f"<apply><power/>{self(base)}{self(exp)}</apply>"

    def _mul(self, e) -> str:
        num, den = [], []
        sign = 1.0
        for f in e.args:
            if f.is_Number and float(f) < 0:
                sign = -1.0
                if float(f) != -1.0:
                    num.append(-f)
            elif f.is_Pow and f.args[1].is_Number and float(f.args[1]) < 0:
                den.append(f.args[0] if float(f.args[1]) == -1 else sympy.Pow(f.args[0], -f.args[1],
                                                                                 evaluate=False))
            else:
                num.append(f)
        top = (self(num[0]) if len(num) == 1 else "<apply><times/>" + "".join(self(a) for a in num) + "</apply>"
               ) if num else "<cn> 1 </cn>"
        out = top
        if den:
            bottom = self(den[0]) if len(den) == 1 else "<apply><times/>" + "".join(self(a) for a in den) + "</apply>"
            out = f"<apply><divide/>{top}{bottom}</apply>"
        return f"<apply><minus/>{out}</apply>" if sign < 0 else out


# --- the document ----------------------------------------------------------------------------------------------


def _sid(name: str) -> str:
    out = re.sub(r"[^A-Za-z0-9_]", "_", name)
    return out if out and (out[0].isalpha() or out[0] == "_") else f"m_{out}"


def _notes(*paragraphs: str) -> str:
    body = "".join(f"<p>{html.escape(p, quote=False)}</p>" for p in paragraphs if p)
    return f'<notes><body xmlns="http://www.w3.org/1999/xhtml">{body}</body></notes>'


def _check(code: int, what: str) -> None:
    import libsbml

    if code != libsbml.LIBSBML_OPERATION_SUCCESS:
        raise ExportError(f"libsbml refused {what}: {libsbml.OperationReturnValue_toString(code)}")


def _math(mathml: str, what: str):
    import libsbml

    ast = libsbml.readMathMLFromString(f'<math xmlns="http://www.w3.org/1998/Math/MathML">{mathml}</math>')
    if ast is None:
        raise ExportError(f"invalid MathML for {what}")
    return ast


_IDENTIFIER_URIS = (
    (re.compile(r"doi:\s*(10\.\d{4,9}/[^\s;,)]+)", re.I), "https://identifiers.org/doi:{}"),
    (re.compile(r"PMID:?\s*(\d+)"), "https://identifiers.org/pubmed:{}"),
)


def _citation_uris(text: str) -> list[str]:
    uris = []
    for pattern, template in _IDENTIFIER_URIS:
        uris.extend(template.format(m.rstrip(".")) for m in pattern.findall(text))
    return uris


def build_document(problem: ExportProblem):
    """The libsbml ``SBMLDocument`` of an export problem."""
    import libsbml

    from ckdmbd.citations import CITATIONS, format_citations

    sm = problem.symbolic
    model_def = problem.model
    doc = libsbml.SBMLDocument(SBML_LEVEL, SBML_VERSION)
    m = doc.createModel()
    _check(m.setId(_sid(problem.name)), "the model id")
    m.setName(f"ckdmbd {problem.name} ({problem.configuration} configuration)")
    m.setMetaId(f"meta_{_sid(problem.name)}")
    citation_keys = set(model_def.citations) | {r.source for r in problem.records.values()
                                                if r.name in problem.parameters and r.source != "assumed"}
    citation_keys &= set(CITATIONS)
    history = (f"The file starts at t = 0 after a history of {problem.history_h / 24.0:g} days simulated by ckdmbd "
               "(initial values are ckdmbd's state and parameters at t = 0)." if problem.history_h > 0 else "")
    m.setNotes(_notes(
        f"{problem.description}",
        f"Exported by ckdmbd from the symbolic form of the {problem.configuration} configuration "
        f"(submodels: {', '.join(s.name for s in model_def.submodels)}). Time in hours; states are parameters with "
        "rate rules, processes and submodel outputs are assignment rules named as in ckdmbd's code.",
        history,
        "Derived parameters (computed by the submodels' derive() from the others) are exported as numbers; events "
        "that change a parameter they are derived from also set their re-derived values.",
        "References: " + " | ".join(format_citations(citation_keys)),
    ))
    _check(m.setTimeUnits("hour"), "the time units")
    hour = m.createUnitDefinition()
    hour.setId("hour")
    u = hour.createUnit()
    u.setKind(libsbml.UNIT_KIND_SECOND)
    u.setExponent(1.0)
    u.setScale(0)
    u.setMultiplier(3600.0)
    for uri in sorted({uri for k in citation_keys for uri in _citation_uris(CITATIONS[k])}):
        term = libsbml.CVTerm(libsbml.MODEL_QUALIFIER)
        term.setModelQualifierType(libsbml.BQM_IS_DESCRIBED_BY)
        term.addResource(uri)
        _check(m.addCVTerm(term), f"the citation {uri}")

    units_by_text: dict[str, str | None] = {}

    def units_for(text: str) -> str | None:
        if text in units_by_text:
            return units_by_text[text]
        parsed = sbml_units(text)
        ident = None
        if parsed == ():
            ident = "dimensionless"
        elif parsed is not None:
            ident = unit_id(text)
            ud = m.createUnitDefinition()
            ud.setId(ident)
            ud.setName(text)
            for part in parsed:
                unit = ud.createUnit()
                unit.setKind(libsbml.UnitKind_forName(part.kind))
                unit.setExponent(float(part.exponent))
                unit.setScale(0)
                unit.setMultiplier(float(part.multiplier))
        units_by_text[text] = ident
        return ident

    event_parameters = {n for ev in problem.events for n in ev.parameters}
    taken: set[str] = set()

    def add_parameter(name: str, value: float | None, constant: bool, unit: str | None, notes: Sequence[str]):
        if name in taken:
            raise ExportError(f"the name {name!r} is used twice")
        taken.add(name)
        p = m.createParameter()
        _check(p.setId(name), f"the id {name!r}")
        p.setConstant(constant)
        if value is not None:
            p.setValue(float(value))
        if unit:
            units = units_for(unit)
            if units:
                p.setUnits(units)
        if any(notes):
            p.setNotes(_notes(*notes))
        return p

    for st_name, value in zip(model_def.state_names, problem.initial_state, strict=True):
        if st_name.startswith("ledger_") and st_name not in {s.name for s in model_def.states}:
            entry = next(e for e in model_def.ledger if f"ledger_{e.process}" == st_name)
            unit = "L" if set(entry.element_per_unit) == {"water"} else "mmol"
            notes = [f"cumulative amount of process {entry.process} (ledger"
                     + (f", across the body boundary: {entry.boundary})" if entry.boundary else ", inside the body)")]
        else:
            st = model_def.states[model_def.state_index(st_name)]
            unit = st.unit
            notes = [f"state: {st.description}", f"symbol in the source paper: {st.symbol}" if st.symbol else ""]
        add_parameter(st_name, value, False, unit, notes)
    for name in sm.parameter_names:
        record = problem.records.get(name)
        if record is not None:
            notes = [record.description, f"kind: {record.kind}; source: {record.source}; unit: {record.unit}"]
            unit = record.unit
        else:
            notes = [f"derived: computed by submodel {problem.derived.get(name, '?')}'s derive() from the other "
                     "parameters; exported as its value for this patient"]
            unit = None
        add_parameter(name, problem.parameters[name], name not in event_parameters, unit, notes)

    printer = _MathML(sm.time, {})
    for sym, expr in sm.assignments:
        owner = sm.output_submodel.get(sym.name, "?")
        what = (f"local variable of submodel {owner}'s code" if sym.name in sm.intermediates
                else f"output of submodel {owner}")
        add_parameter(sym.name, None, False, None, [what])
        rule = m.createAssignmentRule()
        rule.setVariable(sym.name)
        _check(rule.setMath(_math(printer(expr), sym.name)), f"the rule of {sym.name}")

    process_id = {}
    for proc in sm.processes:
        ident = proc.name if proc.name not in taken else f"process_{proc.name}"
        if proc.name == proc.rate.name:
            ident = proc.name  # the output is the process's rate already
        else:
            stoich = ", ".join(f"{st} {c:+g}" for st, c in proc.stoichiometry.items())
            boundary = f"; crosses the body boundary ({proc.boundary})" if proc.boundary else ""
            add_parameter(ident, None, False, None, [f"process of submodel {proc.submodel}: {proc.description}",
                                                     f"stoichiometry: {stoich}{boundary}"])
            rule = m.createAssignmentRule()
            rule.setVariable(ident)
            _check(rule.setMath(_math(printer(proc.rate), ident)), f"the rule of {ident}")
        process_id[proc.name] = sympy.Symbol(ident, real=True)
    sidx = {n: i for i, n in enumerate(model_def.state_names)}
    terms: list[list[sympy.Expr]] = [[] for _ in model_def.state_names]
    for proc in sm.processes:
        for st, coef in proc.stoichiometry.items():
            terms[sidx[st]].append(process_id[proc.name] * coef if coef != 1.0 else process_id[proc.name])
    for entry in model_def.ledger:
        terms[entry.state_index].append(process_id[entry.process])
    for st_name, parts in zip(model_def.state_names, terms, strict=True):
        rule = m.createRateRule()
        rule.setVariable(st_name)
        rate = sympy.Add(*parts) if parts else sympy.Float(0.0)
        _check(rule.setMath(_math(printer(rate), f"d{st_name}/dt")), f"the rate rule of {st_name}")

    for k, ev in enumerate(problem.events):
        e = m.createEvent()
        e.setId(f"event_{k + 1}")
        e.setName(f"t = {ev.time_h:g} h: {ev.description}"[:500])
        e.setUseValuesFromTriggerTime(True)
        trigger = e.createTrigger()
        trigger.setInitialValue(True)
        trigger.setPersistent(True)
        trigger.setMath(_math(f"<apply><geq/>{_TIME}{_number(ev.time_h)}</apply>", "an event trigger"))
        for name, value in ev.states.items():
            a = e.createEventAssignment()
            a.setVariable(name)
            _check(a.setMath(_math(printer(value), f"event {k + 1}")), f"event {k + 1}")
        for name, value in ev.parameters.items():
            a = e.createEventAssignment()
            a.setVariable(name)
            _check(a.setMath(_math(_number(value), f"event {k + 1}")), f"event {k + 1}")
    return doc


@dataclass(frozen=True)
class ConsistencyReport:
    errors: int
    warnings: int
    messages: tuple[str, ...]


def consistency(doc) -> ConsistencyReport:
    """libsbml's ``checkConsistency()`` (every category, units included): errors and warnings."""
    import libsbml

    doc.checkConsistency()
    errors, warnings, messages = 0, 0, []
    for i in range(doc.getNumErrors()):
        err = doc.getError(i)
        if err.getSeverity() >= libsbml.LIBSBML_SEV_ERROR:
            errors += 1
            messages.append(f"error {err.getErrorId()}: {err.getShortMessage()}: {err.getMessage().strip()}")
        elif err.getSeverity() == libsbml.LIBSBML_SEV_WARNING:
            warnings += 1
    return ConsistencyReport(errors, warnings, tuple(messages))


def sbml_string(problem: ExportProblem) -> str:
    import libsbml

    return libsbml.writeSBMLToString(build_document(problem))


def antimony_string(sbml: str) -> str:
    """The same model as Antimony text, converted by the ``antimony`` library from the SBML."""
    import antimony

    antimony.clearPreviousLoads()
    if antimony.loadSBMLString(sbml) < 0:
        raise ExportError(f"antimony could not read the SBML: {antimony.getLastError()}")
    text = antimony.getAntimonyString(antimony.getMainModuleName())
    if not text:
        raise ExportError(f"antimony could not write the model: {antimony.getLastError()}")
    return text


def export_scenario(scenario, fmt: str = "sbml") -> str:
    """The scenario as SBML (``fmt="sbml"``) or Antimony (``"antimony"``) text; the SBML must pass libsbml's
    consistency checks without errors."""
    import libsbml

    if fmt not in ("sbml", "antimony"):
        raise ExportError(f"unknown export format {fmt!r}; choose sbml or antimony")
    doc = build_document(prepare(scenario))
    report = consistency(doc)
    if report.errors:
        raise ExportError(f"the SBML fails libsbml's consistency checks ({report.errors} errors): "
                          f"{report.messages[0]}")
    text = libsbml.writeSBMLToString(doc)
    return text if fmt == "sbml" else antimony_string(text)
