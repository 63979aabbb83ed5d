"""Payments: Stripe payments of orders, refunds and the Stripe events received

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')
BIGINT_PK = sa.BigInteger().with_variant(sa.INTEGER(), 'sqlite')
UTC = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table('payments',
    sa.Column('id', BIGINT_PK, autoincrement=True, nullable=False),
    sa.Column('public_id', sa.String(length=32), nullable=False),
    sa.Column('order_id', sa.BigInteger(), nullable=False),
    sa.Column('attempt', sa.Integer(), nullable=False),
    sa.Column('provider', sa.String(length=16), nullable=False),
    sa.Column('provider_intent_id', sa.String(length=255), nullable=True),
    sa.Column('client_secret', sa.String(length=255), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('amount_vnd', sa.BigInteger(), nullable=False),
    sa.Column('captured_vnd', sa.BigInteger(), nullable=False),
    sa.Column('refunded_vnd', sa.BigInteger(), nullable=False),
    sa.Column('refund_pending_vnd', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('last_error_code', sa.String(length=100), nullable=True),
    sa.Column('last_error_message', sa.String(length=500), nullable=True),
    sa.Column('dispute_status', sa.String(length=32), nullable=True),
    sa.Column('disputed_vnd', sa.BigInteger(), nullable=True),
    sa.Column('dispute_event_at', UTC, nullable=True),
    sa.Column('created_at', UTC, nullable=False),
    sa.Column('updated_at', UTC, nullable=False),
    sa.Column('checked_at', UTC, nullable=False),
    sa.Column('succeeded_at', UTC, nullable=True),
    sa.CheckConstraint('amount_vnd > 0', name=op.f('ck_payments_amount_positive')),
    sa.CheckConstraint('captured_vnd >= 0 AND captured_vnd <= amount_vnd',
                       name=op.f('ck_payments_captured_within_amount')),
    # Behind the row lock refunds take: never more refunded or reserved than captured.
    sa.CheckConstraint('refunded_vnd + refund_pending_vnd <= captured_vnd',
                       name=op.f('ck_payments_refunds_within_captured')),
    sa.CheckConstraint('refunded_vnd >= 0 AND refund_pending_vnd >= 0',
                       name=op.f('ck_payments_refunds_not_negative')),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_payments_order_id_orders')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payments')),
    sa.UniqueConstraint('order_id', 'attempt', name=op.f('uq_payments_order_id_attempt')),
    sa.UniqueConstraint('provider_intent_id', name=op.f('uq_payments_provider_intent_id')),
    sa.UniqueConstraint('public_id', name=op.f('uq_payments_public_id'))
    )
    op.create_index(op.f('ix_payments_order_id'), 'payments', ['order_id'], unique=False)
    op.create_index('ix_payments_status_checked_at', 'payments', ['status', 'checked_at'],
                    unique=False)
    op.create_table('refunds',
    sa.Column('id', BIGINT_PK, autoincrement=True, nullable=False),
    sa.Column('public_id', sa.String(length=32), nullable=False),
    sa.Column('payment_id', sa.BigInteger(), nullable=False),
    sa.Column('order_id', sa.BigInteger(), nullable=False),
    sa.Column('amount_vnd', sa.BigInteger(), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=True),
    sa.Column('origin', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('idempotency_key', sa.String(length=64), nullable=False),
    sa.Column('provider_refund_id', sa.String(length=255), nullable=True),
    sa.Column('failure_reason', sa.String(length=200), nullable=True),
    sa.Column('requested_by_client_id', sa.BigInteger(), nullable=True),
    sa.Column('created_at', UTC, nullable=False),
    sa.Column('updated_at', UTC, nullable=False),
    sa.Column('settled_at', UTC, nullable=True),
    sa.CheckConstraint('amount_vnd > 0', name=op.f('ck_refunds_amount_positive')),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_refunds_order_id_orders')),
    sa.ForeignKeyConstraint(['payment_id'], ['payments.id'],
                            name=op.f('fk_refunds_payment_id_payments')),
    sa.ForeignKeyConstraint(['requested_by_client_id'], ['api_clients.id'],
                            name=op.f('fk_refunds_requested_by_client_id_api_clients')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_refunds')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_refunds_idempotency_key')),
    sa.UniqueConstraint('provider_refund_id', name=op.f('uq_refunds_provider_refund_id')),
    sa.UniqueConstraint('public_id', name=op.f('uq_refunds_public_id'))
    )
    op.create_index(op.f('ix_refunds_order_id'), 'refunds', ['order_id'], unique=False)
    op.create_index(op.f('ix_refunds_payment_id'), 'refunds', ['payment_id'], unique=False)
    op.create_table('stripe_events',
    sa.Column('id', BIGINT_PK, autoincrement=True, nullable=False),
    sa.Column('event_id', sa.String(length=255), nullable=False),
    sa.Column('type', sa.String(length=100), nullable=False),
    sa.Column('payment_intent_id', sa.String(length=255), nullable=True),
    sa.Column('facts', JSON, nullable=True),
    sa.Column('stripe_created_at', UTC, nullable=False),
    sa.Column('received_at', UTC, nullable=False),
    sa.Column('processed_at', UTC, nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stripe_events')),
    sa.UniqueConstraint('event_id', name=op.f('uq_stripe_events_event_id'))
    )
    op.create_index(op.f('ix_stripe_events_payment_intent_id'), 'stripe_events',
                    ['payment_intent_id'], unique=False)
    op.create_index(op.f('ix_stripe_events_processed_at'), 'stripe_events', ['processed_at'],
                    unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_stripe_events_processed_at'), table_name='stripe_events')
    op.drop_index(op.f('ix_stripe_events_payment_intent_id'), table_name='stripe_events')
    op.drop_table('stripe_events')
    op.drop_index(op.f('ix_refunds_payment_id'), table_name='refunds')
    op.drop_index(op.f('ix_refunds_order_id'), table_name='refunds')
    op.drop_table('refunds')
    op.drop_index('ix_payments_status_checked_at', table_name='payments')
    op.drop_index(op.f('ix_payments_order_id'), table_name='payments')
    op.drop_table('payments')
