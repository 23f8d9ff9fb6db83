"""``ckdmbd citations --bibtex`` (issue 14): the structured records as valid BibTeX, one entry per citation key.

No BibTeX library is installed, so the test parses the file itself: entries ``@type{key, name = {value}, ...}``
with balanced braces, nothing outside the entries, the required fields of each entry type.
"""

import re

import pytest
from typer.testing import CliRunner

from ckdmbd.citations import CITATIONS, REFERENCES, Reference, bibtex, bibtex_entry, bibtex_escape
from ckdmbd.cli import app

REQUIRED = {"article": {"title", "journal", "year"}, "book": {"title", "publisher"}, "manual": {"title"},
            "misc": {"title"}}


def _braced(text: str, start: int) -> int:
    """Index just after the brace group that opens at ``text[start] == "{"`` (escaped braces do not count)."""
    assert text[start] == "{"
    depth, i = 0, start
    while i < len(text):
        c = text[i]
        if c == "\\":
            i += 2
            continue
        depth += (c == "{") - (c == "}")
        i += 1
        if depth == 0:
            return i
    raise AssertionError(f"unbalanced braces from position {start}: {text[start:start + 80]!r}")


def parse(text: str) -> dict[str, tuple[str, dict[str, str]]]:
    """key -> (entry type, fields); fails on anything that is not a well-formed entry."""
    entries: dict[str, tuple[str, dict[str, str]]] = {}
    pos = 0
    head = re.compile(r"\s*@(\w+)\{([A-Za-z0-9_:-]+),\n")
    field = re.compile(r"\s*([a-z]+) = (?=\{)")
    while text[pos:].strip():
        m = head.match(text, pos)
        assert m, f"not an entry at {text[pos:pos + 80]!r}"
        kind, key = m.group(1), m.group(2)
        assert key not in entries, f"two entries for {key}"
        fields: dict[str, str] = {}
        pos = m.end()
        while True:
            f = field.match(text, pos)
            assert f, f"{key}: not a field at {text[pos:pos + 80]!r}"
            end = _braced(text, f.end())
            assert f.group(1) not in fields, f"{key}: {f.group(1)} twice"
            fields[f.group(1)] = text[f.end() + 1:end - 1]
            pos = end
            if text.startswith(",\n", pos):
                pos += 2
                continue
            assert text.startswith("\n}", pos), f"{key}: no closing brace at {text[pos:pos + 40]!r}"
            pos += 2
            break
        entries[key] = (kind, fields)
    return entries


def test_every_key_has_a_record_and_every_entry_is_valid_bibtex():
    missing = sorted(set(CITATIONS) - set(REFERENCES))
    assert not missing, f"add a Reference for these CITATIONS keys to ckdmbd.citations.REFERENCES: {missing}"
    assert not set(REFERENCES) - set(CITATIONS)
    entries = parse(bibtex(set(CITATIONS)))
    assert set(entries) == set(CITATIONS)
    for key, (kind, fields) in entries.items():
        ref = REFERENCES[key]
        assert REQUIRED[kind] <= fields.keys(), (key, kind, fields.keys())
        assert ("author" in fields) == bool(ref.authors), key
        if ref.doi:
            assert fields["doi"] == ref.doi and re.fullmatch(r"10\.\d{4,9}/\S+", ref.doi), key
        if ref.pmid:
            assert fields["eprint"] == ref.pmid and ref.pmid.isdigit() and f"PMID {ref.pmid}" in fields["note"]
        if "year" in fields:
            assert re.fullmatch(r"(19|20)\d\d", fields["year"]), key
        if "pages" in fields:
            assert "-" not in fields["pages"].replace("--", ""), key  # a range is written with --
        for name, value in fields.items():
            if name not in ("doi", "url"):  # raw: they must stay as they are
                assert not re.search(r"(?<!\\)[&%#_$]", value.replace("$\\pm$", "").replace("$\\mu$", "")), \
                    (key, name, value)


def test_special_characters_are_escaped():
    ref = Reference(("Müller-Lüdenscheidt KÅ", "O'Brien J", "others"), "Ca & P: 50 % of {x}_1 #2 ~ ^ \\ ± µ",
                    "J Ünusual", 2020, "3", pages="1-9", doi="10.1000/a_b%c", pmid="123")
    kind, fields = parse(bibtex_entry("Key2020", ref) + "\n")["Key2020"]
    assert kind == "article"
    assert fields["author"] == 'M{\\"u}ller-L{\\"u}denscheidt, K. {\\r{A}}. and O\'Brien, J. and others'
    assert fields["title"] == ("{Ca \\& P: 50 \\% of \\{x\\}\\_1 \\#2 \\textasciitilde{} \\textasciicircum{} "
                               "\\textbackslash{} $\\pm$ $\\mu$}")
    assert fields["journal"] == 'J {\\"U}nusual'
    assert fields["pages"] == "1--9" and fields["doi"] == "10.1000/a_b%c"
    assert fields["note"] == "PMID 123"
    assert bibtex_escape("naïve café") == 'na{\\"i}ve caf{\\\'e}'


def test_unknown_key_is_an_error():
    with pytest.raises(KeyError, match="NoSuchKey"):
        bibtex({"PetersonRiggs2010", "NoSuchKey"})


def test_cli_bibtex_has_the_keys_of_the_listing():
    runner = CliRunner()
    listing = runner.invoke(app, ["citations", "seed-case"], prog_name="ckdmbd")
    assert listing.exit_code == 0, listing.output
    keys = {k.strip() for line in listing.stdout.splitlines() for k in line[1:line.index("]")].split(",")}
    result = runner.invoke(app, ["citations", "seed-case", "--bibtex"], prog_name="ckdmbd")
    assert result.exit_code == 0, result.output
    entries = parse(result.stdout)
    assert set(entries) == keys and len(keys) > 20
    assert entries["PetersonRiggs2010"][1]["doi"] == "10.1016/j.bone.2009.08.053"
    bad = runner.invoke(app, ["citations", "no-such-scenario", "--bibtex"], prog_name="ckdmbd")
    assert bad.exit_code == 2 and not bad.stdout


def test_every_reference_has_an_identifier_or_says_why_not():
    """A DOI, a PMID or a URL, or a kind that explains its absence (a book, an abstract, a label, an older article
    whose identifier could not be verified...); the display text carries the same identifiers."""
    from ckdmbd.citations import KINDS

    for key, ref in REFERENCES.items():
        assert ref.kind in KINDS, (key, ref.kind)
        assert ref.doi or ref.pmid or ref.url or ref.kind != "article", \
            f"{key}: an article needs a DOI, PMID or URL, or kind='unlinked' (or another kind) saying why not"
        text = CITATIONS[key]
        if ref.doi:
            assert f"doi:{ref.doi}" in text, key  # the form the SBML exporter reads
        if ref.pmid:
            assert f"PMID {ref.pmid}" in text, key
        if ref.url:
            assert ref.url in text, key
        if ref.kind in ("unlinked", "secondary", "case", "invariant", "web", "label", "book", "abstract"):
            assert not ref.doi, key  # a record with a DOI is an article
