"""The building blocks every physiological subsystem is written with.

A subsystem (``ckdmbd.physiology.*``) is a :class:`Submodel`: the states it owns (name, unit, initial value),
one pure numba function that maps what it reads (states, parameters, other submodels' outputs, ``t``) to named
outputs, and the :class:`Process` es (fluxes with stoichiometry) that turn some of those outputs into derivatives.

Writing every derivative as a sum of named processes, each with a stoichiometry over states, is what makes
mass balance checkable: a state declares what one unit of it *contains* (for example one mmol of bone mineral
contains 1 mmol calcium and 0.464 mmol phosphate), so the composer can verify at build time that a process
inside the body neither creates nor destroys calcium or phosphate, and it books every process that crosses the
body's boundary (diet, urine, dialysate, surgery) in a ledger.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

Initial = Callable[[Mapping[str, float]], float]

NONNEGATIVE_UNITS = frozenset({"mol", "mmol", "umol", "nmol", "pmol", "g", "mg", "ug", "ng", "L", "mL"})
"""Units of amounts (substance, mass) and volumes: a state in one of them cannot be negative."""


def from_parameter(name: str) -> Initial:
    """Initial value read from a parameter (the usual case: the baseline value of a state is a parameter)."""

    def initial(params: Mapping[str, float]) -> float:
        return float(params[name])

    initial.__doc__ = f"parameter {name}"
    initial.parameter = name  # type: ignore[attr-defined]
    return initial


@dataclass(frozen=True)
class State:
    """A state variable owned by one submodel.

    ``contains`` maps an element (``"calcium"``, ``"phosphate"``) to the mmol of it held by one unit of the
    state; states that hold no mineral (cells, hormones, signals) leave it empty.
    """

    name: str
    unit: str
    description: str
    initial: Initial
    contains: Mapping[str, float] = field(default_factory=dict)
    symbol: str = ""
    """The symbol of this state in the source paper / SBML encoding, for readers and for verification."""
    nonnegative: bool | None = None
    """Whether a negative value is impossible (the orchestrator stops a run in which it happens). ``None``: decided
    by the unit, since an amount or a volume cannot be negative (:data:`NONNEGATIVE_UNITS`)."""

    @property
    def must_be_nonnegative(self) -> bool:
        return self.unit in NONNEGATIVE_UNITS if self.nonnegative is None else self.nonnegative


@dataclass(frozen=True)
class Process:
    """A flux: ``rate`` (an output of the submodel) times ``stoichiometry`` changes the states.

    ``boundary`` names where the flux leaves or enters the body (``"diet"``, ``"urine"``, ...); ``None`` means it
    stays inside, and then the composer checks that it conserves every element.
    """

    name: str
    rate: str
    stoichiometry: Mapping[str, float]
    description: str
    boundary: str | None = None


@dataclass(frozen=True)
class Submodel:
    """One physiological subsystem with one small interface.

    ``function`` is a numba-compiled pure function; its argument names say what it reads and it returns a tuple
    whose entries are named by ``outputs`` (a single output is returned as a one-tuple).
    ``derive`` computes constant parameters from the others once per run (for example EC50s fixed by the
    requirement that the untreated model sits at its baseline steady state); it returns a dict with exactly the
    keys in ``derived``. ``conditions`` (:class:`ckdmbd.model.derivation.Condition`) state when those constants
    exist; a parameter set that breaks one is refused before the run with a message naming the parameters.
    """

    name: str
    description: str
    function: Callable[..., tuple]
    outputs: tuple[str, ...]
    states: tuple[State, ...] = ()
    processes: tuple[Process, ...] = ()
    citations: tuple[str, ...] = ()
    derive: Callable[[Mapping[str, float]], dict[str, float]] | None = None
    derived: tuple[str, ...] = ()
    conditions: tuple = ()

    @property
    def inputs(self) -> tuple[str, ...]:
        """Names the function reads, from its signature (numba dispatchers keep the Python function)."""
        py_func = getattr(self.function, "py_func", self.function)
        return tuple(inspect.signature(py_func).parameters)
