"""The intake insert stays within what psycopg caches: its hottest statement is parsed once."""
from __future__ import annotations

from psycopg import _queries
from sqlalchemy.dialects import postgresql

from postal_svc.shipments.intake import _build_intake_statements


def test_the_postgresql_intake_statement_fits_psycopgs_parsed_query_cache():
    compiled = _build_intake_statements("postgresql")[0].compile(
        dialect=postgresql.psycopg.dialect())
    # Over either limit psycopg re-parses the statement on every request (~0.3 ms of CPU).
    assert len(compiled.params) <= _queries.MAX_CACHED_STATEMENT_PARAMS
    assert len(str(compiled).encode()) <= _queries.MAX_CACHED_STATEMENT_LENGTH
