"""Billing: tariff versions, promotions, VAT rates, quotes, the billing audit trail and revision

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')
BIGINT_PK = sa.BigInteger().with_variant(sa.INTEGER(), 'sqlite')


def upgrade() -> None:
    op.create_table('tariff_versions',
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('effective_from', sa.DateTime(timezone=True), nullable=False),
    sa.Column('document', JSON, nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by_client_id', sa.BigInteger(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_client_id'], ['api_clients.id'],
                            name=op.f('fk_tariff_versions_created_by_client_id_api_clients')),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_tariff_versions')),
    sa.UniqueConstraint('effective_from', name=op.f('uq_tariff_versions_effective_from'))
    )
    op.create_table('promotions',
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('value', JSON, nullable=False),
    sa.Column('valid_from', sa.DateTime(timezone=True), nullable=False),
    sa.Column('valid_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('eligibility', JSON, nullable=False),
    sa.Column('stackable', sa.Boolean(), nullable=False),
    sa.Column('priority', sa.Integer(), nullable=False),
    sa.Column('description', sa.String(length=500), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_promotions'))
    )
    op.create_table('tax_rates',
    sa.Column('id', BIGINT_PK, autoincrement=True, nullable=False),
    sa.Column('category', sa.String(length=32), nullable=False),
    sa.Column('rate', sa.String(length=16), nullable=True),
    sa.Column('valid_from', sa.Date(), nullable=False),
    sa.Column('valid_until', sa.Date(), nullable=True),
    sa.Column('legal_basis', sa.String(length=300), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tax_rates')),
    sa.UniqueConstraint('category', 'valid_from', name=op.f('uq_tax_rates_category_valid_from'))
    )
    op.create_table('quotes',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('client_id', sa.BigInteger(), nullable=False),
    sa.Column('facts', JSON, nullable=False),
    sa.Column('registered_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('price', JSON, nullable=False),
    sa.Column('total_vnd', sa.BigInteger(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('order_public_id', sa.String(length=32), nullable=True),
    sa.Column('redeemed_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['client_id'], ['api_clients.id'],
                            name=op.f('fk_quotes_client_id_api_clients')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quotes')),
    sa.UniqueConstraint('order_public_id', name=op.f('uq_quotes_order_public_id'))
    )
    op.create_index(op.f('ix_quotes_client_id'), 'quotes', ['client_id'], unique=False)
    op.create_table('billing_audit',
    sa.Column('id', BIGINT_PK, autoincrement=True, nullable=False),
    sa.Column('entity', sa.String(length=32), nullable=False),
    sa.Column('entity_key', sa.String(length=64), nullable=False),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('actor_client_id', sa.BigInteger(), nullable=True),
    sa.Column('actor', sa.String(length=200), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('before', JSON, nullable=True),
    sa.Column('after', JSON, nullable=True),
    sa.ForeignKeyConstraint(['actor_client_id'], ['api_clients.id'],
                            name=op.f('fk_billing_audit_actor_client_id_api_clients')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_billing_audit'))
    )
    op.create_index('ix_billing_audit_entity_entity_key', 'billing_audit',
                    ['entity', 'entity_key'], unique=False)
    revision_table = op.create_table('billing_revision',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('revision', sa.BigInteger(), nullable=False),
    sa.Column('token', sa.String(length=32), nullable=False),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_billing_revision'))
    )
    # The one row every billing change updates (and so locks: admin changes queue on it).
    op.bulk_insert(revision_table, [{'id': 1, 'revision': 0, 'token': 'initial',
                                     'changed_at': None}])


def downgrade() -> None:
    op.drop_table('billing_revision')
    op.drop_index('ix_billing_audit_entity_entity_key', table_name='billing_audit')
    op.drop_table('billing_audit')
    op.drop_index(op.f('ix_quotes_client_id'), table_name='quotes')
    op.drop_table('quotes')
    op.drop_table('tax_rates')
    op.drop_table('promotions')
    op.drop_table('tariff_versions')
