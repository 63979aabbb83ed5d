"""Printable documents (PDF): pure renderers of plain data; no database, no web framework."""
