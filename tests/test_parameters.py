"""Every parameter value carries a unit, a kind and a known source; the loader rejects one that does not."""

import pytest

from ckdmbd.citations import CITATIONS
from ckdmbd.parameters import KINDS, ParameterError, _parse, default_parameters


def test_every_builtin_parameter_has_unit_kind_and_source():
    ps = default_parameters()
    assert len(ps) > 130
    for name in ps:
        rec = ps.record(name)
        assert rec.unit, name
        assert rec.kind in KINDS, name
        assert rec.source == "assumed" or rec.source in CITATIONS, name
        if rec.source == "assumed":
            assert "assumed:" in rec.description, name


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[parameters]\nk = { value = 1.0, unit = "1/h", kind = "fitted", description = "x" }', "missing source"),
        ('[parameters]\nk = { value = 1.0, kind = "fitted", source = "PetersonRiggs2010", description = "x" }',
         "missing unit"),
        ('[parameters]\nk = { value = "a", unit = "1", kind = "fitted", source = "PetersonRiggs2010", '
         'description = "x" }', "not a number"),
        ('[parameters]\nk = { value = 1, unit = "1", kind = "guess", source = "PetersonRiggs2010", '
         'description = "x" }', "kind"),
        ('[parameters]\nk = { value = 1, unit = "1", kind = "fitted", source = "Nobody2020", description = "x" }',
         "citation key"),
        ('[parameters]\nk = { value = 1, unit = "1", kind = "assumed", source = "assumed", description = "x" }',
         "say why"),
        ("not toml [", "not valid TOML"),
    ],
)
def test_loader_rejects_incomplete_entries(text, message):
    with pytest.raises(ParameterError, match=message):
        _parse(text, "test.toml")


def test_override_of_unknown_parameter_is_an_error():
    with pytest.raises(ParameterError, match="unknown parameter 'GFR_O'"):
        default_parameters().with_values(GFR_O=1.0)


def test_run_lists_its_citations():
    from ckdmbd.simulation import simulate

    cites = simulate("default", 24.0).citations
    assert any("Peterson" in c and "Bone 2010" in c for c in cites)
    assert any("OpenBoneMin" in c for c in cites)
