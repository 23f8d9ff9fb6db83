"""Compose submodels into one compiled model.

The composer checks the wiring (every input is a state, a parameter, another submodel's output or ``t``; no
name is defined twice; no cycle between submodels; every process conserves calcium and phosphate unless it
crosses the body boundary), orders the submodels, and generates one flat right-hand side
``rhs(t, y, p, dydt)`` that numba compiles into a single machine-code function. Generating the flat function is
what makes the composed model as fast as a hand-written one: numba inlines the small submodel functions.

The generated source is written to a private, checked cache folder (:mod:`ckdmbd.model.code_cache`:
``$CKDMBD_CACHE_DIR``, else ``~/.cache/ckdmbd``) and run from there, so numba's on-disk cache works and a second
process starts without recompiling. Its file name is a hash of the generated source and of the source of every
submodel module it calls, so editing a submodel can never run stale machine code.
"""

from __future__ import annotations

import hashlib
import inspect
import keyword
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

import numpy as np

import ckdmbd.solvers.rosenbrock  # noqa: F401  (the generated solver is copied from it; its source is hashed)
from ckdmbd.model.derivation import derive_checked
from ckdmbd.model.framework import Process, State, Submodel
from ckdmbd.model.solver_codegen import specialised_solver_source
from ckdmbd.model.sparsity import JacobianStructure, jacobian_structure
from ckdmbd.solvers.rosenbrock import _PIVOT_THRESHOLD
from ckdmbd.solvers.sparse_lu import SparseLU, straight_line_source

ELEMENTS = ("calcium", "phosphate", "water")
"""Quantities whose mass balance is checked: calcium and phosphate (mmol) and water (L; the extracellular volume
of the default configuration holds 1 L of water per L). A model books only those some state contains
(``CompiledModel.elements``)."""

ELEMENT_UNITS = {"calcium": "mmol", "phosphate": "mmol", "water": "L"}

_CONSERVATION_TOL = 1e-12


class _ReadRecorder(dict):
    """A parameter dict that notes which names ``derive()`` reads, so that an event changing only other
    parameters can skip re-deriving (``CompiledModel.parameter_vector_after``). Iterating over it (or copying it)
    counts as reading everything."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.read: set[str] = set()
        self.read_all = False

    def __getitem__(self, key):
        self.read.add(key)
        return super().__getitem__(key)

    def get(self, key, default=None):
        self.read.add(key)
        return super().get(key, default)

    def __contains__(self, key):
        self.read.add(key)
        return super().__contains__(key)

    def _everything(self):
        self.read_all = True

    def __iter__(self):
        self._everything()
        return super().__iter__()

    def keys(self):
        self._everything()
        return super().keys()

    def items(self):
        self._everything()
        return super().items()

    def values(self):
        self._everything()
        return super().values()

    def copy(self):
        self._everything()
        return dict(super().items())


class ModelDefinitionError(ValueError):
    """The submodels do not fit together (missing input, duplicate name, non-conserving process...)."""


@dataclass(frozen=True)
class LedgerEntry:
    """A process that moves calcium or phosphate, integrated as a cumulative ledger state (its unit is the
    process rate's unit times hours, e.g. mmol). Only those with a ``boundary`` enter the body balance."""

    process: str
    boundary: str | None
    state_index: int
    element_per_unit: Mapping[str, float]
    """mmol of each element that enters the body per unit of the process's cumulative amount (negative: leaves)."""


@dataclass
class CompiledModel:
    """A composed model: names, units, generated compiled functions and mass-balance bookkeeping."""

    name: str
    submodels: tuple[Submodel, ...]
    states: tuple[State, ...]
    state_names: tuple[str, ...]
    """Physiological states followed by one cumulative ledger state per boundary process."""
    parameter_names: tuple[str, ...]
    output_names: tuple[str, ...]
    ledger: tuple[LedgerEntry, ...]
    content_weights: Mapping[str, np.ndarray]
    """Per element, mmol of that element per unit of each state (zeros for ledger states)."""
    generated: ModuleType
    _derive_reads: set[str] | None = field(default=None, init=False, repr=False)
    _derive_reads_all: bool = field(default=False, init=False, repr=False)
    _derived_names: frozenset[str] | None = field(default=None, init=False, repr=False)
    _last_full: tuple[dict[str, float], dict[str, float]] | None = field(default=None, init=False, repr=False,
                                                                          compare=False)
    jacobian: JacobianStructure | None = None
    """Sparsity pattern of df/dy read from the submodels' source, and its column colouring (coloured finite
    differences in the solver; see :mod:`ckdmbd.model.sparsity`)."""
    _sparse_lu: SparseLU | None = field(default=None, init=False, repr=False)
    _parameter_position: dict[str, int] | None = field(default=None, init=False, repr=False)

    @property
    def sparse_lu(self) -> SparseLU | None:
        """The solver's fixed-order sparse LU of the iteration matrix on the Jacobian's pattern (implicit block:
        the dynamic states), computed on first use (:mod:`ckdmbd.solvers.sparse_lu`); None without a pattern."""
        if self._sparse_lu is None and self.jacobian is not None:
            from ckdmbd.solvers.sparse_lu import symbolic_lu

            self._sparse_lu = symbolic_lu(self.jacobian.pattern[:len(self.states)])
        return self._sparse_lu

    @property
    def n_states(self) -> int:
        return len(self.state_names)

    @property
    def elements(self) -> tuple[str, ...]:
        """The elements some state of this model contains (the reference has no water)."""
        return tuple(el for el in ELEMENTS if np.any(self.content_weights[el] != 0.0))

    @property
    def citations(self) -> tuple[str, ...]:
        keys: list[str] = []
        for sm in self.submodels:
            keys.extend(k for k in sm.citations if k not in keys)
        return tuple(keys)

    def state_index(self, name: str) -> int:
        try:
            return self.state_names.index(name)
        except ValueError:
            raise KeyError(f"unknown state {name!r}; the model has {', '.join(self.state_names)}") from None

    def parameter_index(self, name: str) -> int:
        try:
            return self.parameter_names.index(name)
        except ValueError:
            raise KeyError(f"unknown parameter {name!r}") from None

    def full_parameters(self, base: Mapping[str, float]) -> dict[str, float]:
        """Base parameters plus every submodel's derived constants, in dependency order.

        The last derivation is kept: a run derives the same base twice (its parameter vector, then its initial
        state), 1.5 ms each for the dialysis model, a few per cent of a population member's cost. The derivations are
        functions of the base values alone, and what they read was recorded the first time."""
        floats = {k: float(v) for k, v in base.items()}
        last = self._last_full  # one read: the pair is replaced whole, never changed in place
        if last is not None and last[0] == floats:
            return dict(last[1])
        values = _ReadRecorder(dict(floats))
        for sm in self.submodels:
            if sm.derive is not None:
                derived = derive_checked(sm, values)
                if set(derived) != set(sm.derived):
                    raise ModelDefinitionError(
                        f"submodel {sm.name!r}: derive() returned {sorted(derived)}, declared {sorted(sm.derived)}"
                    )
                values.update({k: float(v) for k, v in derived.items()})
        self._derive_reads_all |= values.read_all  # sticky: one derivation that iterated is enough
        self._derive_reads = (self._derive_reads or set()) | values.read
        full = dict(values)
        self._last_full = (floats, full)
        return dict(full)

    def parameter_vector_after(self, p: np.ndarray, base: Mapping[str, float], changed: set[str]) -> np.ndarray:
        """The parameter vector after an event changed the base parameters ``changed`` (``p``: the vector before).

        When no ``derive()`` has read any of them (recorded on every full derivation) and none is a derived name,
        only their entries change: an event that sets, say, a session's end time does not re-run every submodel's
        derivation. Otherwise (or before any derivation was recorded) the full :meth:`parameter_vector`."""
        reads = None if self._derive_reads_all else self._derive_reads
        if self._derived_names is None:  # once: this runs at every segment with a parameter action (313 a year)
            self._derived_names = frozenset(d for sm in self.submodels for d in sm.derived)
        derived = self._derived_names
        if reads is None or changed & reads or changed & derived:
            return self.parameter_vector(base)
        if self._parameter_position is None:  # a dict, not tuple.index: ~470 lookups in a dialysis year's tables
            self._parameter_position = {n: i for i, n in enumerate(self.parameter_names)}
        position = self._parameter_position
        out = p.copy()
        for name in changed:
            i = position.get(name)
            if i is not None:
                out[i] = float(base[name])
        return out

    def parameter_vector(self, base: Mapping[str, float]) -> np.ndarray:
        full = self.full_parameters(base)
        missing = [n for n in self.parameter_names if n not in full]
        if missing:
            raise ModelDefinitionError(f"parameter set lacks {', '.join(missing)}")
        return np.array([full[n] for n in self.parameter_names], dtype=np.float64)

    def initial_state(self, base: Mapping[str, float]) -> np.ndarray:
        full = self.full_parameters(base)
        y0 = np.zeros(self.n_states)
        for i, st in enumerate(self.states):
            y0[i] = st.initial(full)
        return y0

    def body_content(self, y: np.ndarray) -> dict[str, np.ndarray]:
        """mmol of each element held in the body for states ``y`` (shape (..., n_states))."""
        return {el: np.asarray(y) @ self.content_weights[el] for el in self.elements}

    def net_boundary_input(self, y: np.ndarray) -> dict[str, np.ndarray]:
        """Cumulative mmol of each element that entered (positive) or left (negative) the body."""
        y = np.asarray(y)
        out = {el: np.zeros(y.shape[:-1]) for el in self.elements}
        for entry in self.ledger:
            if entry.boundary is None:
                continue
            for el, amount in entry.element_per_unit.items():
                if el in out:
                    out[el] = out[el] + amount * y[..., entry.state_index]
        return out


def _identifier(name: str, where: str) -> str:
    if not name.isidentifier() or keyword.iskeyword(name):
        raise ModelDefinitionError(f"{where}: {name!r} is not a valid identifier")
    return name


def _order_submodels(submodels: Sequence[Submodel], producer: Mapping[str, str]) -> list[Submodel]:
    """Topological order by output dependencies; a cycle is a definition error that names the submodels."""
    by_name = {sm.name: sm for sm in submodels}
    deps = {sm.name: {producer[i] for i in sm.inputs if i in producer and producer[i] != sm.name} for sm in submodels}
    ordered: list[Submodel] = []
    done: set[str] = set()
    while len(ordered) < len(submodels):
        ready = [n for n in by_name if n not in done and deps[n] <= done]
        if not ready:
            stuck = sorted(n for n in by_name if n not in done)
            raise ModelDefinitionError(f"cyclic dependency between submodels: {', '.join(stuck)}")
        for n in ready:  # keep the declared order among the ready ones: stable, readable generated code
            ordered.append(by_name[n])
            done.add(n)
    return ordered


def _check_conservation(process: Process, contents: Mapping[str, Mapping[str, float]]) -> dict[str, float]:
    """Element change per unit of the process; internal processes must conserve each element."""
    change = {el: 0.0 for el in ELEMENTS}
    for state, coef in process.stoichiometry.items():
        for el, amount in contents[state].items():
            change[el] += coef * amount
    if process.boundary is None:
        bad = {el: v for el, v in change.items() if abs(v) > _CONSERVATION_TOL}
        if bad:
            raise ModelDefinitionError(
                f"process {process.name!r} creates or destroys {bad} mmol per unit but declares no boundary"
            )
    return {el: v for el, v in change.items() if v != 0.0}


def _cache_dir() -> Path:
    """The user's private, checked code cache (:func:`ckdmbd.model.code_cache.cache_dir`)."""
    from ckdmbd.model.code_cache import cache_dir

    return cache_dir()


def compose(name: str, submodels: Sequence[Submodel], parameter_names: Sequence[str]) -> CompiledModel:
    """Wire ``submodels`` together and compile them; ``parameter_names`` are the base parameters available."""
    states: list[State] = []
    owner: dict[str, str] = {}
    producer: dict[str, str] = {}
    for sm in submodels:
        for st in sm.states:
            _identifier(st.name, f"submodel {sm.name!r} state")
            if st.name in owner:
                raise ModelDefinitionError(f"state {st.name!r} is defined by both {owner[st.name]!r} and {sm.name!r}")
            owner[st.name] = sm.name
            states.append(st)
        for out in sm.outputs:
            _identifier(out, f"submodel {sm.name!r} output")
            if out in producer or out in owner:
                first = producer.get(out, owner.get(out))
                raise ModelDefinitionError(f"name {out!r} is produced by both {first!r} and {sm.name!r}")
            producer[out] = sm.name
    derived_names = [d for sm in submodels for d in sm.derived]
    params = list(dict.fromkeys([*parameter_names, *derived_names]))
    param_set = set(params)
    for sm in submodels:
        for inp in sm.inputs:
            if inp != "t" and inp not in owner and inp not in producer and inp not in param_set:
                raise ModelDefinitionError(
                    f"submodel {sm.name!r} reads {inp!r}, which is no state, output or parameter of the model"
                )
        for proc in sm.processes:
            if proc.rate not in sm.outputs:
                raise ModelDefinitionError(f"process {proc.name!r}: rate {proc.rate!r} is not an output of {sm.name!r}")
            for st in proc.stoichiometry:
                if st not in owner:
                    raise ModelDefinitionError(f"process {proc.name!r} changes unknown state {st!r}")
    ordered = _order_submodels(submodels, producer)

    contents = {st.name: dict(st.contains) for st in states}
    n_phys = len(states)
    ledger: list[LedgerEntry] = []
    processes = [(sm, proc) for sm in ordered for proc in sm.processes]
    for _sm, proc in processes:
        change = _check_conservation(proc, contents)
        moves_mineral = any(contents[st] for st in proc.stoichiometry)
        if proc.boundary is not None or moves_mineral:  # cumulative amount of every mineral flux is booked
            ledger.append(LedgerEntry(proc.name, proc.boundary, n_phys + len(ledger), change))
    state_names = tuple(st.name for st in states) + tuple(f"ledger_{e.process}" for e in ledger)
    weights = {el: np.zeros(len(state_names)) for el in ELEMENTS}
    for i, st in enumerate(states):
        for el, amount in st.contains.items():
            weights[el][i] = amount
    outputs = tuple(o for sm in ordered for o in sm.outputs)

    proc_rate = {proc.name: proc.rate for _sm, proc in processes}
    structure = jacobian_structure(ordered, states, processes,
                                   [(e.state_index, proc_rate[e.process]) for e in ledger], len(state_names))
    source = _generate_source(ordered, states, params, outputs, processes, ledger, structure.submodel_masks)
    lu = _sparse_lu_of(structure, len(states))
    source += "\n\n# the sparse LU of the iteration matrix unrolled on its plan (ckdmbd.solvers.sparse_lu)\n"
    source += straight_line_source(lu, _JIT, _PIVOT_THRESHOLD)
    model = CompiledModel(
        name=name,
        submodels=tuple(ordered),
        states=tuple(states),
        state_names=state_names,
        parameter_names=tuple(params),
        output_names=outputs,
        ledger=tuple(ledger),
        content_weights=weights,
        generated=None,  # type: ignore[arg-type]  (set below: the analytic Jacobian is generated from the model)
        jacobian=structure,
    )
    model._sparse_lu = lu
    source += _analytic_jacobian_source(model, source)
    model.generated = _load_generated(name, source, ordered)
    return model


def _sparse_lu_of(structure: JacobianStructure | None, n_implicit: int) -> SparseLU | None:
    """The solver's sparse LU of the implicit block (:attr:`CompiledModel.sparse_lu`), computed with the source:
    the generated module unrolls its factorisation (:func:`ckdmbd.solvers.sparse_lu.straight_line_source`)."""
    if structure is None:
        return None
    from ckdmbd.solvers.sparse_lu import symbolic_lu

    return symbolic_lu(structure.pattern[:n_implicit])


def _analytic_jacobian_source(model: CompiledModel, rhs_source: str) -> str:
    """The analytic Jacobian (:mod:`ckdmbd.model.analytic_jacobian`, from the code cache when it holds it) and the
    solver's ``_analytic_jacobian`` hook; a hook that always declines when the symbolic pass cannot read the model
    (``ANALYTIC = False``: the solver takes coloured finite differences)."""
    from ckdmbd.model.analytic_jacobian import cached_jacobian_source

    jac = cached_jacobian_source(model, rhs_source)
    if jac:
        hook = ["ANALYTIC = True", "", "", _JIT, "def _analytic_jacobian(t, y, p, jac, fx):",
                "    return analytic_jacobian(t, y, p, jac, fx)", "", "", _JIT,
                "def _analytic_jacobian_f(t, y, p, jac, fx, f):",
                "    return analytic_jacobian_f(t, y, p, jac, fx, f)", ""]
    else:
        hook = ["ANALYTIC = False", "", "", _JIT, "def _analytic_jacobian(t, y, p, jac, fx):", "    return False", "",
                "", _JIT, "def _analytic_jacobian_f(t, y, p, jac, fx, f):", "    return False", ""]
    return "\n\n" + jac + "\n\n" + "\n".join(hook)


def _generate_source(
    ordered: Sequence[Submodel],
    states: Sequence[State],
    params: Sequence[str],
    outputs: Sequence[str],
    processes: Sequence[tuple[Submodel, Process]],
    ledger: Sequence[LedgerEntry],
    masks: np.ndarray,
) -> str:
    state_pos = {st.name: i for i, st in enumerate(states)}
    param_pos = {n: i for i, n in enumerate(params)}
    output_set = set(outputs)

    def ref(n: str) -> str:
        if n == "t":
            return "t"
        if n in state_pos:
            return f"s_{n}"
        if n in output_set:
            return f"o_{n}"
        return f"q_{n}"

    imports = []
    body = []
    partial = []  # rhs_partial: a submodel not marked for colour c reuses its outputs at the base point
    output_pos = {o: j for j, o in enumerate(outputs)}
    for i, n in enumerate(states):
        body.append(f"    s_{n.name} = y[{i}]")
    used_params = {i for sm in ordered for i in sm.inputs if i in param_pos and i not in state_pos}
    for n in params:
        if n in used_params:
            body.append(f"    q_{n} = p[{param_pos[n]}]")
    partial.extend(body)
    use_masks = masks.shape[0] <= 63  # one int64 bit mask per submodel; beyond that evaluate everything
    for k, sm in enumerate(ordered):
        fn = getattr(sm.function, "py_func", sm.function)
        imports.append(f"from {fn.__module__} import {fn.__name__} as _f{k}")
        outs = "".join(f"o_{o}, " for o in sm.outputs)
        call = f"({outs}) = _f{k}({', '.join(ref(i) for i in sm.inputs)})"
        body.append(f"    {call}")
        bits = sum(1 << c for c in range(masks.shape[0]) if masks[c, k]) if use_masks else -1
        if bits == (1 << masks.shape[0]) - 1 or bits == -1:
            partial.append(f"    {call}")
        else:
            partial.append(f"    if ({bits} >> c) & 1:")
            partial.append(f"        {call}")
            partial.append("    else:")
            partial.extend(f"        o_{o} = o[{output_pos[o]}]" for o in sm.outputs)

    deriv: dict[str, list[str]] = {st.name: [] for st in states}
    for _sm, proc in processes:
        for st, coef in proc.stoichiometry.items():
            deriv[st].append(f"{float(coef)!r} * o_{proc.rate}")
    rhs = ["def rhs(t, y, p, dydt):", *body]
    derivatives = []
    for st in states:
        derivatives.append(f"    dydt[{state_pos[st.name]}] = {' + '.join(deriv[st.name]) or '0.0'}")
    proc_rate = {proc.name: proc.rate for _sm, proc in processes}
    for e in ledger:
        derivatives.append(f"    dydt[{e.state_index}] = o_{proc_rate[e.process]}")
    rhs.extend(derivatives)
    rhs_partial = ["def rhs_partial(t, y, p, o, c, dydt):", *partial, *derivatives]
    observe = ["def observe(t, y, p, out):", *body]
    for j, o in enumerate(outputs):
        observe.append(f"    out[{j}] = o_{o}")
    header = [
        "# Generated by ckdmbd.model.composer: do not edit (regenerated whenever a submodel changes).",
        "import numba",
        *imports,
        "",
    ]
    trailer = [
        "",
        _JIT,
        "def observe_many(ts, ys, p, out):",
        "    for i in range(ts.shape[0]):",
        "        observe(ts[i], ys[i], p, out[i])",
        "",
        "",
        _JIT,
        *rhs_partial,
        "",
        "",
        "# hooks of the coloured Jacobian: each colour re-evaluates only the submodels that read its states",
        _JIT,
        "def _n_outputs():",
        f"    return {max(len(outputs), 1)}",
        "",
        "",
        _JIT,
        "def _colour_setup(t, y, p, o):",
        "    observe(t, y, p, o)",
        "",
        "",
        _JIT,
        "def _colour_rhs(c, t, y, p, o, dydt):",
        "    rhs_partial(t, y, p, o, c, dydt)",
        "",
        "",
        "# the solver with this rhs called directly (ckdmbd.model.solver_codegen)",
        specialised_solver_source("@numba.njit(cache=True)"),
        "",
        "@numba.njit(cache=True)",
        "def integrate_coloured(t0, t1, y0, p, t_out, y_out, first_out, rtol, atol, h_init, max_steps, n_implicit,",
        "                       colour_ptr, colour_cols, col_ptr, col_rows, time_dependent, restart_estimate,",
        "                       analytic, lu_plan):",
        "    return _integrate(t0, t1, y0, p, t_out, y_out, first_out, rtol, atol, h_init, max_steps, n_implicit,",
        "                      True, colour_ptr, colour_cols, col_ptr, col_rows, time_dependent, restart_estimate,",
        "                      analytic, lu_plan)",
        "",
    ]
    return "\n".join(
        [*header, _JIT, *rhs, "", "", _JIT, *observe, "", *trailer]
    )


_JIT = '@numba.njit(cache=True, error_model="numpy")'  # division by zero -> inf/NaN, caught by the solver


def _load_generated(name: str, source: str, ordered: Sequence[Submodel]) -> ModuleType:
    digest = hashlib.sha256(source.encode())
    # numba's cache does not notice a change in a callee's module: the solver's source is part of the name
    digest.update(inspect.getsource(sys.modules["ckdmbd.solvers.rosenbrock"]).encode())
    for sm in ordered:
        fn = getattr(sm.function, "py_func", sm.function)
        digest.update(inspect.getsource(sys.modules[fn.__module__]).encode())
    tag = digest.hexdigest()[:16]
    mod_name = f"ckdmbd_generated_{name.replace('-', '_')}_{tag}"
    if mod_name in sys.modules:
        return sys.modules[mod_name]
    from ckdmbd.model.code_cache import load_module

    module = load_module(mod_name, source)  # checked folder, verified file, compiled from source (never a .pyc)
    module.SOURCE = source  # type: ignore[attr-defined]
    return module
