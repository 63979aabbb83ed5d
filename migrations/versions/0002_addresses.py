"""Addresses resolved to wards (orders and agencies), and the geocode cache

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('geocode_cache',
    sa.Column('key', sa.String(length=512), nullable=False),
    sa.Column('address', sa.Text(), nullable=False),
    sa.Column('lat', sa.Double(), nullable=False),
    sa.Column('lon', sa.Double(), nullable=False),
    sa.Column('raw', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_geocode_cache'))
    )
    with op.batch_alter_table('agencies', schema=None) as batch_op:
        batch_op.add_column(sa.Column('ward_code', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('province_code', sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column('old_district_code', sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column('lat', sa.Double(), nullable=True))
        batch_op.add_column(sa.Column('lon', sa.Double(), nullable=True))

    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('address_ambiguous', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('address_candidates', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True))
        batch_op.add_column(sa.Column('old_ward_code', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('old_ward_name', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('old_district_name', sa.String(length=200), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_column('old_district_name')
        batch_op.drop_column('old_ward_name')
        batch_op.drop_column('old_ward_code')
        batch_op.drop_column('address_candidates')
        batch_op.drop_column('address_ambiguous')

    with op.batch_alter_table('agencies', schema=None) as batch_op:
        batch_op.drop_column('lon')
        batch_op.drop_column('lat')
        batch_op.drop_column('old_district_code')
        batch_op.drop_column('province_code')
        batch_op.drop_column('ward_code')

    op.drop_table('geocode_cache')
