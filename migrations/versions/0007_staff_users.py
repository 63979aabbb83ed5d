"""Console users (dispatchers and admins) with scrypt password hashes and lock-out

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')
BIGINT_PK = sa.BigInteger().with_variant(sa.INTEGER(), 'sqlite')
UTC = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table('staff_users',
    sa.Column('id', BIGINT_PK, autoincrement=True, nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('role', sa.String(length=32), nullable=False),
    sa.Column('post_office_codes', JSON, nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('client_id', sa.BigInteger(), nullable=False),
    sa.Column('failed_logins', sa.Integer(), nullable=False),
    sa.Column('locked_until', UTC, nullable=True),
    sa.Column('last_login_at', UTC, nullable=True),
    sa.Column('created_at', UTC, nullable=False),
    sa.Column('disabled_at', UTC, nullable=True),
    sa.ForeignKeyConstraint(['client_id'], ['api_clients.id'],
                            name=op.f('fk_staff_users_client_id_api_clients')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_users')),
    sa.UniqueConstraint('client_id', name=op.f('uq_staff_users_client_id')),
    sa.UniqueConstraint('username', name=op.f('uq_staff_users_username'))
    )


def downgrade() -> None:
    op.drop_table('staff_users')
