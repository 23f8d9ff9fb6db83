"""The literature validation suite, shipped in the package: published cases as data, run by ``ckdmbd validate``.

Each case (``cases/*.toml``) names its source, the study's conditions as scenario arms, and checks: a metric from
:mod:`ckdmbd.validation.metrics`, the published value and spread, and the acceptance band. All cases run on the
same built-in parameter set; a case outside its band says so (nothing is tuned per case).
"""

from ckdmbd.validation.casefile import Case, CaseError, case_names, load_case, load_cases, parse_case
from ckdmbd.validation.runner import ERROR, OUTSIDE, WITHIN, CheckResult, run_case, run_cases, summary

__all__ = ["ERROR", "OUTSIDE", "WITHIN", "Case", "CaseError", "CheckResult", "case_names", "load_case", "load_cases",
           "parse_case", "run_case", "run_cases", "summary"]
