"""Couriers as reference data and route plans solved by the planner worker

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')
BIGINT_PK = sa.BigInteger().with_variant(sa.INTEGER(), 'sqlite')
UTC = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table('couriers',
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('post_office_code', sa.String(length=32), nullable=False),
    sa.Column('capacity_items', sa.Integer(), nullable=False),
    sa.Column('capacity_g', sa.Integer(), nullable=False),
    sa.Column('shifts', JSON, nullable=False),
    sa.Column('speed_profile', sa.String(length=32), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('client_id', sa.BigInteger(), nullable=True),
    sa.Column('created_at', UTC, nullable=False),
    sa.Column('updated_at', UTC, nullable=False),
    sa.ForeignKeyConstraint(['client_id'], ['api_clients.id'],
                            name=op.f('fk_couriers_client_id_api_clients')),
    sa.ForeignKeyConstraint(['post_office_code'], ['post_offices.code'],
                            name=op.f('fk_couriers_post_office_code_post_offices')),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_couriers')),
    sa.UniqueConstraint('client_id', name=op.f('uq_couriers_client_id'))
    )
    op.create_index(op.f('ix_couriers_post_office_code'), 'couriers', ['post_office_code'],
                    unique=False)
    op.create_table('route_plans',
    sa.Column('id', BIGINT_PK, autoincrement=True, nullable=False),
    sa.Column('public_id', sa.String(length=32), nullable=False),
    sa.Column('post_office_code', sa.String(length=32), nullable=False),
    sa.Column('plan_date', sa.Date(), nullable=False),
    sa.Column('courier_codes', JSON, nullable=False),
    sa.Column('time_limit_s', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('progress', JSON, nullable=True),
    sa.Column('result', JSON, nullable=True),
    sa.Column('unassigned', JSON, nullable=True),
    sa.Column('totals', JSON, nullable=True),
    sa.Column('locks', JSON, nullable=False),
    sa.Column('error', JSON, nullable=True),
    sa.Column('created_by_client_id', sa.BigInteger(), nullable=True),
    sa.Column('created_at', UTC, nullable=False),
    sa.Column('started_at', UTC, nullable=True),
    sa.Column('finished_at', UTC, nullable=True),
    sa.Column('published_at', UTC, nullable=True),
    sa.ForeignKeyConstraint(['created_by_client_id'], ['api_clients.id'],
                            name=op.f('fk_route_plans_created_by_client_id_api_clients')),
    sa.ForeignKeyConstraint(['post_office_code'], ['post_offices.code'],
                            name=op.f('fk_route_plans_post_office_code_post_offices')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_route_plans')),
    sa.UniqueConstraint('public_id', name=op.f('uq_route_plans_public_id'))
    )
    op.create_index('ix_route_plans_status_created_at', 'route_plans', ['status', 'created_at'],
                    unique=False)
    op.create_index('ix_route_plans_post_office_code_plan_date', 'route_plans',
                    ['post_office_code', 'plan_date'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_route_plans_post_office_code_plan_date', table_name='route_plans')
    op.drop_index('ix_route_plans_status_created_at', table_name='route_plans')
    op.drop_table('route_plans')
    op.drop_index(op.f('ix_couriers_post_office_code'), table_name='couriers')
    op.drop_table('couriers')
