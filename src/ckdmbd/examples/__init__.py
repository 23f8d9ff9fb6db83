"""Example input files shipped with ckdmbd (lab series of the seed case as CSV and FHIR)."""
