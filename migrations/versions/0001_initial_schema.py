"""Initial schema: clients, reference data, idempotency, orders and tracking events.

Revision ID: 0001
Revises: 
Create Date: 2026-11-28
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        # Tracking serials: a sequence, so concurrent intake never queues for a number.
        op.execute(sa.schema.CreateSequence(sa.Sequence("tracking_serial_seq", start=1)))
    op.create_table('api_clients',
    sa.Column('id', sa.BigInteger().with_variant(sa.INTEGER(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('role', sa.String(length=32), nullable=False),
    sa.Column('scope', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('key_prefix', sa.String(length=16), nullable=False),
    sa.Column('key_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_clients')),
    sa.UniqueConstraint('key_hash', name=op.f('uq_api_clients_key_hash'))
    )
    op.create_table('post_offices',
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('address_text', sa.Text(), nullable=True),
    sa.Column('phone', sa.String(length=20), nullable=True),
    sa.Column('lat', sa.Double(), nullable=True),
    sa.Column('lon', sa.Double(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_post_offices'))
    )
    op.create_table('serial_counters',
    sa.Column('name', sa.String(length=32), nullable=False),
    sa.Column('value', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_serial_counters'))
    )
    op.create_table('agencies',
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('address', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('address_text', sa.Text(), nullable=True),
    sa.Column('phone', sa.String(length=20), nullable=True),
    sa.Column('office_hours', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('post_office_code', sa.String(length=32), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['post_office_code'], ['post_offices.code'], name=op.f('fk_agencies_post_office_code_post_offices')),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_agencies'))
    )
    with op.batch_alter_table('agencies', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_agencies_post_office_code'), ['post_office_code'], unique=False)

    op.create_table('idempotency_records',
    sa.Column('id', sa.BigInteger().with_variant(sa.INTEGER(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('client_id', sa.BigInteger(), nullable=False),
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('request_hash', sa.String(length=64), nullable=False),
    sa.Column('response_status', sa.Integer(), nullable=True),
    sa.Column('response_body', sa.Text(), nullable=True),
    sa.Column('locked_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['client_id'], ['api_clients.id'], name=op.f('fk_idempotency_records_client_id_api_clients'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_idempotency_records')),
    sa.UniqueConstraint('client_id', 'key', name=op.f('uq_idempotency_records_client_id_key'))
    )
    with op.batch_alter_table('idempotency_records', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_idempotency_records_expires_at'), ['expires_at'], unique=False)

    op.create_table('served_wards',
    sa.Column('ward_code', sa.String(length=16), nullable=False),
    sa.Column('post_office_code', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['post_office_code'], ['post_offices.code'], name=op.f('fk_served_wards_post_office_code_post_offices'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('ward_code', name=op.f('pk_served_wards'))
    )
    with op.batch_alter_table('served_wards', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_served_wards_post_office_code'), ['post_office_code'], unique=False)

    op.create_table('orders',
    sa.Column('id', sa.BigInteger().with_variant(sa.INTEGER(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('public_id', sa.String(length=32), nullable=False),
    sa.Column('tracking_number', sa.String(length=13), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('agency_code', sa.String(length=64), nullable=False),
    sa.Column('dossier_code', sa.String(length=64), nullable=False),
    sa.Column('procedure_code', sa.String(length=64), nullable=True),
    sa.Column('procedure_name', sa.String(length=500), nullable=True),
    sa.Column('channel', sa.String(length=32), nullable=False),
    sa.Column('registered_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('citizen_name', sa.String(length=200), nullable=False),
    sa.Column('citizen_phone', sa.String(length=16), nullable=False),
    sa.Column('citizen_email', sa.String(length=254), nullable=True),
    sa.Column('address_input', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('address_line', sa.Text(), nullable=True),
    sa.Column('ward_code', sa.String(length=16), nullable=True),
    sa.Column('ward_name', sa.String(length=200), nullable=True),
    sa.Column('province_code', sa.String(length=8), nullable=True),
    sa.Column('province_name', sa.String(length=200), nullable=True),
    sa.Column('lat', sa.Double(), nullable=True),
    sa.Column('lon', sa.Double(), nullable=True),
    sa.Column('address_precision', sa.String(length=16), nullable=False),
    sa.Column('post_office_code', sa.String(length=32), nullable=True),
    sa.Column('weight_g', sa.Integer(), nullable=False),
    sa.Column('pieces', sa.Integer(), nullable=False),
    sa.Column('contents', sa.String(length=500), nullable=True),
    sa.Column('payer', sa.String(length=16), nullable=False),
    sa.Column('payment_method', sa.String(length=32), nullable=False),
    sa.Column('payment_status', sa.String(length=32), nullable=False),
    sa.Column('fee_forwarding_vnd', sa.BigInteger(), nullable=True),
    sa.Column('deliver_after', sa.DateTime(timezone=True), nullable=True),
    sa.Column('deliver_before', sa.DateTime(timezone=True), nullable=True),
    sa.Column('quote_id', sa.String(length=40), nullable=True),
    sa.Column('price', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('total_vnd', sa.BigInteger(), nullable=True),
    sa.Column('attempt_count', sa.Integer(), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by_client_id', sa.BigInteger(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('cancel_reason', sa.String(length=500), nullable=True),
    sa.ForeignKeyConstraint(['agency_code'], ['agencies.code'], name=op.f('fk_orders_agency_code_agencies')),
    sa.ForeignKeyConstraint(['created_by_client_id'], ['api_clients.id'], name=op.f('fk_orders_created_by_client_id_api_clients')),
    sa.ForeignKeyConstraint(['post_office_code'], ['post_offices.code'], name=op.f('fk_orders_post_office_code_post_offices')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_orders')),
    sa.UniqueConstraint('agency_code', 'dossier_code', 'kind', name=op.f('uq_orders_agency_code_dossier_code_kind')),
    sa.UniqueConstraint('public_id', name=op.f('uq_orders_public_id')),
    sa.UniqueConstraint('tracking_number', name=op.f('uq_orders_tracking_number'))
    )
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.create_index('ix_orders_address_precision_id', ['address_precision', 'id'], unique=False)
        batch_op.create_index('ix_orders_agency_code_id', ['agency_code', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_orders_citizen_phone'), ['citizen_phone'], unique=False)
        batch_op.create_index(batch_op.f('ix_orders_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_orders_dossier_code'), ['dossier_code'], unique=False)
        batch_op.create_index('ix_orders_post_office_code_id', ['post_office_code', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_orders_status'), ['status'], unique=False)

    op.create_table('tracking_events',
    sa.Column('id', sa.BigInteger().with_variant(sa.INTEGER(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('order_id', sa.BigInteger(), nullable=False),
    sa.Column('type', sa.String(length=32), nullable=False),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor_client_id', sa.BigInteger(), nullable=True),
    sa.Column('actor_role', sa.String(length=32), nullable=True),
    sa.Column('post_office_code', sa.String(length=32), nullable=True),
    sa.Column('ward_code', sa.String(length=16), nullable=True),
    sa.Column('failure_reason', sa.String(length=64), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('lat', sa.Double(), nullable=True),
    sa.Column('lon', sa.Double(), nullable=True),
    sa.Column('data', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.ForeignKeyConstraint(['actor_client_id'], ['api_clients.id'], name=op.f('fk_tracking_events_actor_client_id_api_clients')),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_tracking_events_order_id_orders'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tracking_events'))
    )
    with op.batch_alter_table('tracking_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tracking_events_order_id'), ['order_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('tracking_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tracking_events_order_id'))

    op.drop_table('tracking_events')
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_orders_status'))
        batch_op.drop_index('ix_orders_post_office_code_id')
        batch_op.drop_index(batch_op.f('ix_orders_dossier_code'))
        batch_op.drop_index(batch_op.f('ix_orders_created_at'))
        batch_op.drop_index(batch_op.f('ix_orders_citizen_phone'))
        batch_op.drop_index('ix_orders_agency_code_id')
        batch_op.drop_index('ix_orders_address_precision_id')

    op.drop_table('orders')
    with op.batch_alter_table('served_wards', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_served_wards_post_office_code'))

    op.drop_table('served_wards')
    with op.batch_alter_table('idempotency_records', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_idempotency_records_expires_at'))

    op.drop_table('idempotency_records')
    with op.batch_alter_table('agencies', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_agencies_post_office_code'))

    op.drop_table('agencies')
    op.drop_table('serial_counters')
    op.drop_table('post_offices')
    op.drop_table('api_clients')
    if op.get_bind().dialect.name == "postgresql":
        op.execute(sa.schema.DropSequence(sa.Sequence("tracking_serial_seq")))
