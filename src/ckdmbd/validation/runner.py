"""Run validation cases: simulate each arm once, compute each check's metric, compare with its band.

A case whose arm cannot be built or simulated (an event type this version does not know, a solver failure) gives
verdict ``error`` with a one-line message for each of its checks; the suite goes on with the next case.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from ckdmbd.validation.casefile import ArmRun, Case, Check, arm_scenario, load_cases
from ckdmbd.validation.metrics import MetricValue, evaluate

WITHIN, OUTSIDE, ERROR = "within", "outside", "error"


@dataclass(frozen=True)
class CheckResult:
    case: Case
    check: Check
    verdict: str
    value: float | None = None
    metric: MetricValue | None = None
    message: str = ""
    seconds: float = 0.0
    """Wall time of the case (all its arms and checks)."""

    @property
    def label(self) -> str:
        return f"{self.case.name}: {self.check.name}"

    def as_dict(self) -> dict:
        band = self.check.band
        pub = self.check.published
        return {
            "case": self.case.name, "title": self.case.title, "check": self.check.name,
            "source": {"citation": self.case.source.citation, "authors": self.case.source.authors,
                       "year": self.case.source.year, "journal": self.case.source.journal,
                       "id": self.case.source.identifier},
            "metric": self.check.metric, "unit": self.check.unit,
            "published": {"text": pub.text, "value": pub.value, "sd": pub.sd, "low": pub.low, "high": pub.high},
            "band": {"low": band.low, "high": band.high, "exclusive": band.exclusive, "text": band.text()},
            "model": self.value if self.value is not None and math.isfinite(self.value) else None,
            "verdict": self.verdict, "message": self.message,
            "detail": self.metric.detail if self.metric is not None else "", "fast": self.case.fast,
            "seconds": round(self.seconds, 3),
        }


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or exc.__class__.__name__
    return f"{exc.__class__.__name__}: {text}" if not isinstance(exc, ValueError | RuntimeError) else text


def run_case(case: Case, progress: Callable[[str], None] | None = None) -> list[CheckResult]:
    """All checks of ``case``; never raises for a failing model (the failure is the result)."""
    from ckdmbd.scenario import run_scenario

    begin = time.perf_counter()
    runs: dict[str, ArmRun] = {}
    try:
        for arm in case.arms:
            if progress is not None:
                progress(f"{case.name} [{arm}]")
            sc = arm_scenario(case, arm)
            runs[arm] = ArmRun(sc, run_scenario(sc).to_frame())
    except Exception as exc:  # a case that cannot run is reported, the suite goes on
        elapsed = time.perf_counter() - begin
        message = f"arm {arm!r}: {_one_line(exc)}"
        return [CheckResult(case, check, ERROR, message=message, seconds=elapsed) for check in case.checks]
    results = []
    for check in case.checks:
        try:
            value = evaluate({"metric": check.metric, **check.args}, runs)
        except Exception as exc:
            results.append(CheckResult(case, check, ERROR, message=_one_line(exc)))
            continue
        verdict = WITHIN if check.band.contains(value.value) else OUTSIDE
        results.append(CheckResult(case, check, verdict, value.value, value))
    elapsed = time.perf_counter() - begin
    return [CheckResult(r.case, r.check, r.verdict, r.value, r.metric, r.message, elapsed) for r in results]


def run_cases(names: list[str] | None = None, progress: Callable[[int, int, str], None] | None = None,
              fast_only: bool = False) -> list[CheckResult]:
    """Run the named cases (default: all shipped cases; ``fast_only``: those marked fast) and return one result per
    check. ``progress(done, total, label)`` is called before each arm is simulated and once at the end."""
    cases = load_cases(names)
    if fast_only:
        cases = [c for c in cases if c.fast]
    total = sum(len(c.arms) for c in cases)
    done = 0
    results: list[CheckResult] = []
    for case in cases:
        def tick(label: str) -> None:
            nonlocal done
            if progress is not None:
                progress(done, total, label)
            done += 1

        results += run_case(case, tick)
    if progress is not None:
        progress(total, total, "done")
    return results


def summary(results: list[CheckResult]) -> dict[str, int]:
    counts = {WITHIN: 0, OUTSIDE: 0, ERROR: 0}
    for r in results:
        counts[r.verdict] += 1
    return counts
