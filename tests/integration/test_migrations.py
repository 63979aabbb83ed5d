"""The Alembic migrations and the SQLAlchemy models describe the same schema."""
from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect

import postal_svc.models  # noqa: F401
from postal_svc.db import Base
from postal_svc.migrate import head_revision


def test_migrated_database_matches_the_models(engine: Engine) -> None:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    assert differences == []


def test_database_is_at_the_head_revision(engine: Engine) -> None:
    with engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_revision()
    assert current == head_revision()


def test_every_model_table_exists_after_migrating(engine: Engine) -> None:
    tables = set(inspect(engine).get_table_names())
    assert set(Base.metadata.tables) <= tables
