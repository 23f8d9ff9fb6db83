"""Citations: every parameter source and every submodel names one of these keys.

``ckdmbd citations`` (and ``Result.citations``) lists the references a run relied on.
"""

CITATIONS: dict[str, str] = {
    "PetersonRiggs2010": (
        "Peterson MC, Riggs MM. A physiologically based mathematical model of integrated calcium homeostasis "
        "and bone remodeling. Bone 2010;46(1):49-63. doi:10.1016/j.bone.2009.08.053"
    ),
    "BIOMD0000000613": (
        "BioModels BIOMD0000000613: Peterson2010 - Integrated calcium homeostasis and bone remodelling "
        "(SBML L3V1 encoding of PetersonRiggs2010; CC0)"
    ),
    "OpenBoneMin": (
        "Riggs MM, Baron KT et al. OpenBoneMin: R package of the Peterson-Riggs model, Metrum Research Group, "
        "https://github.com/metrumresearchgroup/OpenBoneMin (calcitriol/PTmax EC50 fix 2015; GFR decline)"
    ),
    "Lemaire2004": (
        "Lemaire V, Tobin FL, Greller LD, Cho CR, Suva LJ. Modeling the interactions between osteoblast and "
        "osteoclast activities in bone remodeling. J Theor Biol 2004;229:293-309"
    ),
}


def format_citations(keys: list[str] | tuple[str, ...] | set[str]) -> list[str]:
    """Full references for ``keys`` in a stable order; unknown keys are an error (a typo must not pass)."""
    unknown = [k for k in keys if k not in CITATIONS and k != "assumed"]
    if unknown:
        raise KeyError(f"unknown citation keys: {', '.join(unknown)}")
    return [f"[{k}] {CITATIONS[k]}" for k in sorted(keys) if k != "assumed"]
