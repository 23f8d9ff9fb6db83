"""Exports of the composed model and a scenario to the field's exchange formats (SBML, Antimony)."""
