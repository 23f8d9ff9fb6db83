"""Cold start (issue 11): ``ckdmbd scenarios`` lists the built-ins without importing the numerical stack, and its
lines are the loaded scenarios' names and descriptions."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from ckdmbd.cli import app
from ckdmbd.scenario import builtin_names, load_scenario

SRC = Path(__file__).resolve().parents[1] / "src"


def test_scenario_listing_equals_the_loaded_scenarios():
    out = CliRunner().invoke(app, ["scenarios"])
    assert out.exit_code == 0
    expected = "".join(f"{name:24s} {load_scenario(name).description}\n" for name in builtin_names())
    assert out.stdout == expected


def test_scenario_listing_imports_neither_numba_nor_pint_nor_pandas():
    code = ("import sys\nfrom ckdmbd.cli import app\ntry:\n    app(['scenarios'])\nexcept SystemExit:\n    pass\n"
            "print('LOADED', sorted(m for m in ('numba', 'pint', 'pandas', 'sympy') if m in sys.modules))")
    env = {**os.environ, "PYTHONPATH": f"{SRC}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert run.stdout.strip().splitlines()[-1] == "LOADED []"
