"""Every model parameter by a readable name, with a clinical unit where one is usual (issue 12).

The parameter files key Peterson & Riggs' parameters by the paper's symbols (``T49``, ``OralPhos``) in model units
(h, L, mmol, pmol); the extensions mostly use readable names already. This module gives each parameter of a
configuration one readable snake_case name (:data:`ALIASES` for the symbols, the key itself where it is readable)
and a display unit (mL/min for a clearance in L/h, mg/day for the diet in mmol/h, mmol/L for mM ...), and converts
text such as ``"99 mL/min"`` to the model's unit with the project's pint registry. Both the readable name and the
symbol are accepted wherever a parameter is named (scenario ``[parameters]``, population specs).

Why a table here and not a field in the TOML files: the Peterson-Riggs file must stay the SBML's parameter list;
the aliases are a view of it, and a test checks that every alias names an existing parameter and every parameter
has a unique readable name.
"""

from __future__ import annotations

import difflib
import math
import re
from dataclasses import dataclass
from functools import cache
from typing import Any

from ckdmbd import units

ALIASES: dict[str, str] = {
    # Peterson & Riggs 2010 (peterson_riggs_2010.toml): symbol -> readable name, from each entry's description.
    # extracellular fluid and baselines
    "V1": "extracellular_volume",
    "P_0": "initial_ecf_calcium",
    "ECCPhos_0": "initial_ecf_phosphate",
    # parathyroid gland and PTH
    "PTH_0": "initial_pth_amount",
    "S_0": "initial_pth_secretory_pool",
    "PTmax_0": "initial_gland_capacity",
    "T57": "pth_clearance",
    "T58": "pth_secretion_max",
    "T59": "pth_secretion_calcium_hill",
    "T61": "pth_secretion_min",
    "T70": "pth_pool_turnover_rate",
    "T71": "pth_pool_calcitriol_steepness",
    "T72_base": "pth_pool_calcitriol_threshold",
    "ScaEffGam": "pth_pool_threshold_calcium_effect",
    "CtriolMax": "gland_capacity_calcitriol_max",
    "CtriolMin": "gland_capacity_calcitriol_min",
    "CtriolPTgam": "gland_capacity_calcitriol_hill",
    "PTout": "gland_capacity_turnover_rate",
    # exogenous PTH
    "TERISC_0": "initial_teriparatide_depot",
    "SC_0": "initial_sc_pth_depot",
    "TERICL": "teriparatide_clearance",
    "TERIVC": "teriparatide_central_volume",
    "IPTHint": "sc_pth_depot_input",
    "IPTHinf": "pth_infusion_rate",
    # 1-alpha-hydroxylase and calcitriol
    "B_0": "initial_calcitriol_amount",
    "T64": "hydroxylase_decay_rate",
    "T65": "hydroxylase_production_baseline",
    "T67": "hydroxylase_pth_ec50",
    "AlphOHgam": "hydroxylase_pth_hill",
    "T69": "calcitriol_elimination_rate",
    "PO4inhPTHgam": "hydroxylase_phosphate_pth_inhibition",
    "PhosEff0": "hydroxylase_phosphate_effect_at_zero",
    "PhosEff50": "hydroxylase_phosphate_ec50",
    "PhosEffGam": "hydroxylase_phosphate_hill",
    # gut
    "T_0": "initial_gut_calcium",
    "R_0": "initial_calcium_absorption_capacity",
    "PhosGut_0": "initial_gut_phosphate",
    "OralCa": "dietary_calcium",
    "OralPhos": "dietary_phosphorus",
    "F12": "dietary_phosphate_absorbable_fraction",
    "T28": "calcium_absorption_active_max",
    "T0": "gut_calcium_baseline_pool",
    "T29_ratio": "calcium_absorption_baseline_ratio",
    "T33": "absorption_capacity_rate_min",
    "T34": "absorption_capacity_rate_max",
    "T35": "absorption_capacity_calcitriol_ec50",
    "CaPOgam": "absorption_capacity_calcitriol_hill",
    "T52": "gut_phosphate_absorption_rate",
    "T77": "calcium_absorbable_fraction_max",
    "T80": "calcium_absorbable_fraction_hill",
    "T81": "gut_calcium_half_saturation",
    "T87": "calcium_absorption_passive_rate",
    # kidney
    "GFR_0": "glomerular_filtration_rate",
    "kGFR": "gfr_decline_rate",
    "ca_filtration_factor": "calcium_filterable_fraction",
    "reabs_offset": "calcium_reabsorption_offset",
    "Reabs50": "calcium_reabsorption_ec50",
    "T16": "calcium_reabsorption_pth_max",
    "T7": "calcium_excretion_calcitriol_max",
    "T9": "calcium_excretion_calcitriol_ec50",
    "T46": "renal_phosphate_threshold",
    # intracellular phosphate
    "IntraPO_0": "initial_intracellular_phosphate",
    "T49": "cell_phosphate_uptake_clearance",
    "T55": "cell_phosphate_release_rate",
    # bone mineral
    "Q_0": "initial_exchangeable_bone_calcium",
    "Qbone_0": "initial_bone_calcium",
    "HAp_0": "initial_hydroxyapatite_capacity",
    "CaDay": "bone_calcium_daily_flux",
    "FracJ14": "bone_resorption_osteoclast_fraction",
    "J14OCmax": "bone_resorption_osteoclast_max",
    "J14OCgam": "bone_resorption_osteoclast_hill",
    "FracJ15": "bone_formation_hydroxyapatite_fraction",
    "MOCratioGam": "bone_resorption_rank_rankl_exponent",
    "k14a": "bone_mineral_release_rate",
    "HApMRT": "hydroxyapatite_mean_residence_time",
    # bone cells and TGF-beta
    "OB_0": "active_osteoblasts_baseline",
    "OC_0": "osteoclasts_baseline",
    "ROB1_0": "responding_osteoblasts_baseline",
    "Pic0": "active_tgf_beta_baseline",
    "FracOBfast": "fast_osteoblast_fraction",
    "kb": "osteoblast_elimination_rate",
    "Da": "osteoclast_turnover_rate",
    "Frackb": "slow_osteoblast_elimination_share",
    "EmaxPicROB": "rob_differentiation_tgf_beta_emax",
    "PicROBgam": "rob_differentiation_tgf_beta_hill",
    "FracPicROB": "rob_differentiation_tgf_beta_e0_fraction",
    "EmaxPicOB": "osteoblast_tgf_beta_emax",
    "PicOBgam": "osteoblast_tgf_beta_hill",
    "FracPicOB": "osteoblast_tgf_beta_e0_fraction",
    "E0Meff": "osteoclast_production_rank_rankl_e0",
    "EmaxMeffOC": "osteoclast_production_rank_rankl_emax",
    "kinOCgam": "osteoclast_production_rank_rankl_hill",
    "EmaxPicOC": "osteoclast_apoptosis_tgf_beta_emax",
    "FracPicOC": "osteoclast_apoptosis_tgf_beta_e0_fraction",
    "PicOCgam": "osteoclast_apoptosis_tgf_beta_hill",
    "E0RANKL": "osteoclast_survival_rankl_e0",
    "EmaxL": "osteoclast_survival_rankl_emax",
    "LsurvOCgam": "osteoclast_survival_rankl_hill",
    "koutTGF0": "latent_tgf_beta_activation_rate",
    "OBtgfGAM": "tgf_beta_deposition_osteoblast_exponent",
    "OCtgfGAM": "tgf_beta_activation_osteoclast_exponent",
    "PicOBgamkb": "osteoblast_elimination_tgf_beta_hill",
    "MultPicOBkb": "osteoblast_elimination_tgf_beta_e0_multiple",
    "FracPic0kb": "osteoblast_elimination_tgf_beta_emax_fraction",
    "E0RUNX2kbEffFACT": "osteoblast_elimination_runx2_e0_factor",
    "RUNkbGAM": "osteoblast_elimination_runx2_hill",
    "RUNkbMaxFact": "osteoblast_elimination_runx2_emax_factor",
    "RUNX20": "runx2_baseline",
    # RANK / RANKL / OPG
    "L_0": "rankl_baseline",
    "RNK_0": "rank_baseline",
    "O_0": "opg_baseline",
    "k1": "opg_rankl_association_rate",
    "k2": "opg_rankl_dissociation_rate",
    "k3": "rank_rankl_association_rate",
    "k4": "rank_rankl_dissociation_rate",
    "kO": "opg_elimination_rate",
    "koutL": "rankl_elimination_rate",
    "koutRNK": "rank_elimination_rate",
    "kinRNKgam": "rank_production_tgf_beta_exponent",
    "OsteoEffectGam": "rankl_production_osteoblast_exponent",
    "EmaxLpth": "rankl_production_pth_emax",
    "TESTPOWER": "rankl_pth_ec50_osteoblast_exponent",
    "opgPTH50": "opg_pth_suppression_constant",
    "IO": "opg_input_rate",
    # osteoblast signalling
    "RX2_0": "initial_runx2",
    "CREB_0": "initial_creb",
    "BCL2_0": "initial_bcl2",
    "RX2Kout0": "runx2_elimination_rate",
    "E0rx2Kout": "runx2_elimination_rate_without_pth",
    "EmaxPTHRX2x": "runx2_elimination_pth_emax",
    "E0crebKin": "creb_production_without_pth",
    "EmaxPTHcreb": "creb_production_pth_emax",
    "crebKout": "creb_elimination_rate",
    "bcl2Kout": "bcl2_elimination_rate",
    # extensions whose keys are symbols too
    "FGF23_0": "fgf23_baseline",
    "kFGF": "fgf23_elimination_rate",
    "albumin_calcium_K": "albumin_calcium_association_constant",
    "cinacalcet_k21": "cinacalcet_peripheral_return_rate",
}

READABLE = re.compile(r"[a-z][a-z0-9]*(?:_[a-zA-Z0-9]+)+")
"""A readable name: lowercase words joined by underscores (a unit suffix such as ``_mM`` or ``_nmol_L`` may keep its
capitals)."""

# Units of the parameter files that pint reads differently or not at all: "pH" would be picohenry, "mM2" is no unit.
_PINT_SPELLING = {"1/pH": "1", "mM2": "mM^2", "1/h per g/day": "day/(h*g)"}
# A clearer spelling of the same unit for display (the number does not change).
_SAME_UNIT = {"mM": "mmol/L", "pM": "pmol/L", "mM^2": "mmol^2/L^2", "mM2": "mmol^2/L^2", "1/pM": "L/pmol",
              "pM/h": "pmol/L/h", "1/(pM*h)": "L/(pmol*h)", "yr": "year"}
# Parameters shown in a clinical unit other than the model's: (unit, molar mass g/mol for mass <-> amount or None).
_CLINICAL = {"OralCa": ("mg/day", units.CALCIUM_G_PER_MOL), "OralPhos": ("mg/day", units.PHOSPHORUS_G_PER_MOL)}
# Text that names a unit: letters (and µ), exponents, products, quotients and brackets, nothing pint would evaluate
# as an expression ("10**10**10", "1/0").
_UNIT_TEXT = re.compile(r"(?:1[ \t]*/[ \t]*)?[A-Za-zµμ°%(][A-Za-zµμ°%0-9^*/·() \t]{0,40}")
_EXPONENT = re.compile(r"\^(?:-?\d{1,2}|\(-?\d{1,2}/\d{1,2}\))")  # "^2", "^-1", "^(1/3)": nothing larger
_NUMBER_UNIT = re.compile(r"\s*(?P<number>[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?)\s*(?P<unit>.*?)\s*")


class ParameterNameError(ValueError):
    """An unknown parameter name, or a value that cannot be read in the parameter's unit."""


class _UnknownUnitError(ParameterNameError):
    """pint does not know the unit."""


@dataclass(frozen=True)
class NamedParameter:
    """One parameter of a configuration, by readable name and symbol, with its display (clinical) unit."""

    name: str
    symbol: str
    model_unit: str
    unit: str
    default_model: float
    kind: str
    source: str
    description: str
    molar_mass: float | None = None

    @property
    def default(self) -> float:
        """The default value in the display unit."""
        return self.from_model(self.default_model)

    def from_model(self, value: float) -> float:
        return value * self._factor()

    def to_model(self, value: Any, where: str) -> float:
        """A value as written in a file: text with a unit (``"99 mL/min"``) or a bare number in :attr:`unit`.
        Errors name ``where`` and the value; a negative value is refused where the default is not negative."""
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise ParameterNameError(f"{where}: {value!r} must be a number in {self.unit} or a quantity such as "
                                     f"\"{_example(self)}\"")
        model = self._parse_text(value, where) if isinstance(value, str) else float(value) / self._factor()
        if not math.isfinite(model):
            raise ParameterNameError(f"{where}: {value!r} is not a finite number")
        if model < 0 <= self.default_model:
            raise ParameterNameError(f"{where}: {value!r} must not be negative")
        return model

    def _factor(self) -> float:
        """Display units per model unit (1 when they are the same unit)."""
        return _conversion_factor(self.model_unit, self.unit, self.molar_mass)

    def _parse_text(self, text: str, where: str) -> float:
        match = _NUMBER_UNIT.fullmatch(text)
        if match is None:
            raise ParameterNameError(f"{where}: cannot read {text!r} as a number and a unit, e.g. \"{_example(self)}\"")
        number, unit_text = float(match["number"]), match["unit"]
        if not unit_text:
            return number / self._factor()  # "99" as text: the display unit, like a bare number
        if _opaque(self.model_unit):  # IU: pint has no such unit; only the parameter's own spelling is understood
            if unit_text.replace(" ", "") == self.model_unit.replace(" ", ""):
                return number
            raise ParameterNameError(f"{where}: {text!r} must be given in {self.model_unit}")
        if (_UNIT_TEXT.fullmatch(unit_text) is None or "**" in unit_text
                or "^" in _EXPONENT.sub("", unit_text) or re.search(r"\d{3}", unit_text)):
            raise ParameterNameError(f"{where}: {text!r} has an unreadable unit {unit_text!r}")
        try:
            return number * _conversion_factor(unit_text, _pint_unit(self.model_unit), self.molar_mass)
        except _UnknownUnitError:
            raise ParameterNameError(f"{where}: {text!r} has an unknown unit {unit_text!r}") from None
        except ParameterNameError:
            raise ParameterNameError(f"{where}: {text!r} is not convertible to {self.unit} (the parameter's unit"
                                     + (f"; model unit {self.model_unit})" if self.unit != self.model_unit else ")")
                                     ) from None


def _opaque(unit: str) -> bool:
    return re.search(r"\bIU\b", unit) is not None


def _pint_unit(unit: str) -> str:
    return _PINT_SPELLING.get(unit, unit)


@cache
def _conversion_factor(from_unit: str, to_unit: str, molar_mass: float | None) -> float:
    """Multiply a number in ``from_unit`` by this to get ``to_unit``; through ``molar_mass`` (g/mol) when one is a
    mass and the other an amount of substance. ParameterNameError when the dimensions differ."""
    if from_unit == to_unit or _opaque(from_unit) or _opaque(to_unit):
        return 1.0
    from ckdmbd.scenario import _registry

    ureg = _registry()
    try:
        source = ureg.Quantity(1.0, ureg.parse_units(_pint_unit(from_unit)))
        target = ureg.parse_units(_pint_unit(to_unit))
    except Exception as exc:  # pint raises many kinds (UndefinedUnitError, AttributeError, ...)
        raise _UnknownUnitError(f"unknown unit {from_unit!r} ({exc.__class__.__name__})") from None
    try:
        return float(source.to(target).magnitude)
    except Exception:  # DimensionalityError
        if molar_mass is None:
            raise ParameterNameError(f"{from_unit} is not convertible to {to_unit}") from None
    molar = ureg.Quantity(molar_mass, "g/mol")
    for candidate in (source / molar, source * molar):
        try:
            return float(candidate.to(target).magnitude)
        except Exception:  # two tries at most
            continue
    raise ParameterNameError(f"{from_unit} is not convertible to {to_unit}")


def _display_unit(symbol: str, model_unit: str) -> tuple[str, float | None]:
    if symbol in _CLINICAL:
        return _CLINICAL[symbol]
    if model_unit == "L/h" and not symbol.endswith("_L_per_h"):
        return "mL/min", None  # clearances and GFR as the clinic gives them
    return _SAME_UNIT.get(model_unit, model_unit), None


def _example(p: NamedParameter) -> str:
    return f"{p.default:.4g} {p.unit}" if p.unit != "1" else f"{p.default:.4g}"


def readable_name(symbol: str) -> str:
    """The readable name of a parameter key (itself when it is readable already)."""
    return ALIASES.get(symbol, symbol)


@cache
def registry(configuration: str = "default") -> dict[str, NamedParameter]:
    """Every parameter of ``configuration`` by readable name, in the order of the parameter files."""
    from ckdmbd.model.configurations import parameters

    pset = parameters(configuration)
    out: dict[str, NamedParameter] = {}
    for symbol in pset:
        record = pset.record(symbol)
        unit, molar_mass = _display_unit(symbol, record.unit)
        name = readable_name(symbol)
        out[name] = NamedParameter(name, symbol, record.unit, unit, record.value, record.kind, record.source,
                                   record.description, molar_mass)
    return out


@cache
def _by_symbol(configuration: str) -> dict[str, NamedParameter]:
    return {p.symbol: p for p in registry(configuration).values()}


def lookup(name: str, configuration: str = "default", where: str | None = None) -> NamedParameter:
    """A parameter by readable name or symbol; an unknown name is an error suggesting the closest names."""
    table = registry(configuration)
    found = table.get(name) or _by_symbol(configuration).get(name)
    if found is not None:
        return found
    close = difflib.get_close_matches(name, list(dict.fromkeys([*table, *_by_symbol(configuration)])), n=3,
                                      cutoff=0.6)
    hint = f"; did you mean {', '.join(close)}?" if close else " (see `ckdmbd parameters --search TEXT`)"
    raise ParameterNameError(f"{where or name}: unknown parameter {name!r} in the {configuration!r} "
                             f"configuration{hint}")


def to_model_values(values: dict[str, Any], configuration: str = "default",
                    where: str = "parameters") -> dict[str, float]:
    """Readable names (or symbols) with values as written -> {symbol: value in model units}. Naming one parameter
    twice (by name and by symbol) is an error."""
    if not isinstance(values, dict):
        raise ParameterNameError(f"{where}: expected a table of parameter = value")
    out: dict[str, float] = {}
    given: dict[str, str] = {}
    for key, value in values.items():
        p = lookup(key, configuration, f"{where}.{key}")
        if p.symbol in given:
            raise ParameterNameError(f"{where}.{key}: the same parameter as {given[p.symbol]!r}, given twice")
        given[p.symbol] = key
        out[p.symbol] = p.to_model(value, f"{where}.{key}")
    return out


def search(text: str | None, configuration: str = "default") -> list[NamedParameter]:
    """Parameters whose name, symbol, unit, source or description contains ``text`` (case-insensitive)."""
    rows = list(registry(configuration).values())
    if not text:
        return rows
    needle = text.lower()
    return [p for p in rows
            if any(needle in field.lower() for field in (p.name, p.symbol, p.unit, p.source, p.description))]
