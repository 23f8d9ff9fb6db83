"""Checked derivation of a submodel's constant parameters: a parameter set is refused before a run, with one line
naming the parameters, their values and the condition it breaks, instead of a math domain error, a complex number,
a division by zero or a silently negative EC50 inside the run.

Why: most derived constants of Peterson-Riggs' model are EC50s fixed by the requirement that the untreated model
sits at its baseline steady state (E0 + Emax h(x0) = baseline). Such an EC50 exists only where the baseline lies
strictly between the effect's floor and ceiling; a population or a fit that moves E0, Emax or the baseline across
that edge has no model at all, and must be told so in terms of the parameters it moved.

Each submodel states the conditions of its derivation (:class:`Condition`, ``Submodel.conditions``); they are
checked first, so the message says what is wrong. Whatever a derivation still cannot compute (an exception, a
complex, infinite or NaN value, a non-positive half-maximal constant) is refused by a generic check that names the
derived quantity and the parameters the derivation read, so nothing slips through as a number.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import cache

from ckdmbd.parameters import ParameterError


class ParameterConditionError(ParameterError):
    """A parameter set for which a derived constant does not exist (one line: parameters, values, condition)."""


@dataclass(frozen=True)
class Condition:
    """``holds(p)`` must be true for ``derived`` to exist; ``describe(p)`` says the condition with the values."""

    derived: str
    parameters: tuple[str, ...]
    holds: Callable[[Mapping[str, float]], bool]
    describe: Callable[[Mapping[str, float]], str]


Term = tuple[str, Callable[[Mapping[str, float]], float]]


def strictly_between(derived: str, what: str, parameters: tuple[str, ...], value: Term, end_a: Term,
                     end_b: Term) -> Condition:
    """``value`` must lie strictly between ``end_a`` and ``end_b`` (each a label and a function of the parameters).

    This is the existence condition of every steady-state EC50 construction in the model: E0 + Emax x0^g /
    (x0^g + EC50^g) = baseline gives EC50^g = x0^g ((Emax)/(baseline - E0) - 1), positive and finite exactly when
    the baseline lies strictly between the effect's floor E0 and its ceiling E0 + Emax (rising or falling)."""

    def holds(p: Mapping[str, float]) -> bool:
        v, a, b = value[1](p), end_a[1](p), end_b[1](p)
        return min(a, b) < v < max(a, b)

    def describe(p: Mapping[str, float]) -> str:
        return (f"{value[0]} = {value[1](p):.6g} must lie strictly between {end_a[0]} = {end_a[1](p):.6g} and "
                f"{end_b[0]} = {end_b[1](p):.6g} for {what} ({derived}) to exist")

    return Condition(derived, parameters, holds, describe)


def above(derived: str, what: str, parameters: tuple[str, ...], value: Term, bound: float) -> Condition:
    """``value`` must exceed ``bound``."""

    def describe(p: Mapping[str, float]) -> str:
        return f"{value[0]} = {value[1](p):.6g} must exceed {bound:g} for {what} ({derived}) to exist"

    return Condition(derived, parameters, lambda p: value[1](p) > bound, describe)


def parameter(name: str) -> Term:
    """The term for a single parameter."""
    return name, lambda p: p[name]


def constant(label: str, number: float) -> Term:
    return label, lambda p: number


class _ReadView(Mapping):
    """A read-only view of the parameters that remembers what a derivation read, to name those parameters when it
    fails. It delegates every read to the mapping it wraps (which may record reads of its own, as the composer's
    does to skip needless re-derivations), and copies nothing."""

    def __init__(self, values: Mapping[str, float]):
        self._values = values
        self.read: list[str] = []

    def __getitem__(self, key: str) -> float:
        value = self._values[key]
        if key not in self.read:
            self.read.append(key)
        return value

    def __iter__(self):
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)


def _read_text(recorder: _ReadView, limit: int = 8) -> str:
    shown = ", ".join(f"{name} = {recorder._values[name]:.6g}" for name in recorder.read[:limit])
    more = len(recorder.read) - limit
    return shown + (f" and {more} more" if more > 0 else "")


def check_conditions(submodel_name: str, conditions: Iterable[Condition], p: Mapping[str, float]) -> None:
    """Raise :class:`ParameterConditionError` for the first condition that does not hold."""
    for condition in conditions:
        if any(name not in p for name in condition.parameters):
            continue  # a condition on parameters this configuration does not have
        if not condition.holds(p):
            values = ", ".join(f"{name} = {p[name]:.6g}" for name in condition.parameters)
            raise ParameterConditionError(f"parameters refused: {condition.describe(p)} "
                                          f"(submodel {submodel_name!r}; {values})")


@cache
def _reads(function) -> frozenset[str]:
    py_func = getattr(function, "py_func", function)
    return frozenset(inspect.signature(py_func).parameters)


def derive_checked(submodel, values: Mapping[str, float]) -> dict[str, float]:
    """``submodel.derive(values)`` after its conditions, with every derived value checked to be a finite real
    number, and half-maximal constants (names with ``50``) positive. A value the submodel's own function does not
    read may be NaN by design (a constant only another variant of the submodel uses)."""
    check_conditions(submodel.name, getattr(submodel, "conditions", ()), values)
    recorder = _ReadView(values)
    try:
        derived = submodel.derive(recorder)
    except (ArithmeticError, ValueError, TypeError) as exc:  # math domain error, division by zero, complex
        raise ParameterConditionError(
            f"parameters refused: submodel {submodel.name!r} cannot derive its constants from {_read_text(recorder)} "
            f"({type(exc).__name__}: {exc})") from None
    reads = _reads(submodel.function)
    for name, value in derived.items():
        if name not in reads and isinstance(value, float) and math.isnan(value):
            continue
        bad = isinstance(value, complex) or not math.isfinite(value)
        if not bad and "50" in name and float(value) <= 0.0:
            bad = True
        if bad:
            raise ParameterConditionError(
                f"parameters refused: {name} of submodel {submodel.name!r} would be {value!r} for "
                f"{_read_text(recorder)}; a half-maximal constant must be a positive number")
    return derived
