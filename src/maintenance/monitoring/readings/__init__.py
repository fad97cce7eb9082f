"""Readings in: the one ingest every source takes (form, round, file, API) and the file imports."""
