"""One naming scheme for the clinical variables of a run (issue 14).

The time-series column names (``timeseries.csv``, ``Result.to_frame()``) are the keys everywhere: summary.json
keys its variables by them, the CLI tables print them beside the display label, the HTML report and the PNG
title their panels with the same label. The column names and units of existing columns never change (users'
scripts read them); what this module adds is one display label per column, the conventional unit a US
laboratory reports (mg/dL, pg/mL) with its factor, and the precision a clinic writes a value with.

    >>> label("pth_pmol_L")
    'Intact PTH (pmol/L)'
    >>> clinic("pth_pmol_L", 2.779e-15)
    '< 0.1'
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ckdmbd import units


@dataclass(frozen=True)
class Variable:
    """A clinical column: its display name, unit, decimals a clinic writes, and the conventional unit (with
    ``factor`` = conventional value per SI value) where laboratories differ."""

    column: str
    name: str
    unit: str
    decimals: int
    conventional_unit: str | None = None
    factor: float = 1.0
    floor: float | None = None  # below it a laboratory reports "< floor" (its lower limit of quantitation)
    conventional_decimals: int = 1

    @property
    def label(self) -> str:
        return f"{self.name} ({self.unit})"


_CA = units.calcium_mg_dl(1.0)
_P = units.phosphate_mg_dl(1.0)

VARIABLES: dict[str, Variable] = {v.column: v for v in (
    Variable("calcium_mmol_L", "Total calcium", "mmol/L", 2, "mg/dL", _CA),
    Variable("ionized_calcium_mmol_L", "Ionised calcium", "mmol/L", 2, "mg/dL", _CA),
    Variable("phosphate_mmol_L", "Phosphate", "mmol/L", 2, "mg/dL", _P),
    # intact PTH assays report down to about 0.1 pmol/L (1 pg/mL); below, a value is "< 0.1"
    Variable("pth_pmol_L", "Intact PTH", "pmol/L", 1, "pg/mL", units.pth_pg_ml(1.0), floor=0.1,
             conventional_decimals=0),
    Variable("calcitriol_pmol_L", "Calcitriol", "pmol/L", 0, "pg/mL", units.calcitriol_pg_ml(1.0),
             conventional_decimals=0),
    Variable("fgf23_pg_mL", "FGF23", "pg/mL", 0),
    Variable("gfr_mL_min", "GFR", "mL/min", 1),
    Variable("tmp_gfr_mmol_L", "TmP/GFR", "mmol/L", 2, "mg/dL", _P),
    Variable("phosphate_fe_percent", "Fractional phosphate excretion", "%", 0),
    Variable("ca_x_p_mmol2_L2", "Calcium × phosphate product", "mmol²/L²", 2, "mg²/dL²", _CA * _P,
             conventional_decimals=0),
    Variable("deposit_diameter_cm", "Calcified deposit diameter", "cm", 1),
    Variable("deposit_mass_g", "Calcified deposit mineral", "g", 0),
    Variable("calcification_propensity_t50_min", "Calcification propensity (T50-like)", "min", 0),
    Variable("vitamin_d_25_nmol_L", "25-hydroxyvitamin D", "nmol/L", 0, "ng/mL", 1 / 2.496,
             conventional_decimals=0),
    Variable("albumin_g_L", "Albumin", "g/L", 0),
)}
"""Display name, unit, clinic precision and conventional unit of each clinical time-series column."""


def variable(column: str) -> Variable | None:
    """The :class:`Variable` of a column; a ``pre_``/``post_`` prefix (the sessions table) names the same one."""
    return VARIABLES.get(_base(column))


def _base(column: str) -> str:
    for prefix in ("pre_", "post_"):
        if column.startswith(prefix):
            return column[len(prefix):]
    return column


def label(column: str) -> str:
    """The display label, "Intact PTH (pmol/L)"; pre-/post-dialysis columns say so; unknown columns as they are."""
    v = VARIABLES.get(_base(column))
    if v is None:
        return column
    if column.startswith("pre_"):
        return f"Pre-dialysis {v.name[0].lower() + v.name[1:]} ({v.unit})"
    if column.startswith("post_"):
        return f"Post-dialysis {v.name[0].lower() + v.name[1:]} ({v.unit})"
    return v.label


def clinic(column: str, value: float, with_unit: bool = False, conventional: bool = False) -> str:
    """A value (in the column's SI unit) as a clinic writes it: the variable's decimals, "< 0.1" below an assay's
    floor, never "1.381e-15" nor "-0.0"; with ``conventional`` in mg/dL or pg/mL ("< 1" pg/mL for PTH); a column
    without a :class:`Variable` gets 3 significant digits."""
    v = variable(column)
    if value is None or not math.isfinite(value):
        return "–"
    if v is None:
        return f"{value:.3g}"
    conventional = conventional and v.conventional_unit is not None
    factor, decimals = (v.factor, v.conventional_decimals) if conventional else (1.0, v.decimals)
    unit = v.conventional_unit if conventional else v.unit
    if v.floor is not None and value < v.floor:
        text = f"< {round(v.floor * factor, decimals):g}"
    else:
        text = f"{value * factor:.{decimals}f}"
        if float(text) == 0.0:
            text = f"{0.0:.{decimals}f}"  # "-0.0" is no value a laboratory reports
    return f"{text} {unit}" if with_unit else text
