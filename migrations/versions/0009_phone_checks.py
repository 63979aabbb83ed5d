"""Wrong phone_last4 answers per tracking number and hour, for the public tracking limit

Revision ID: 0009
Revises: 0008_reports
Create Date: 2026-11-28

The public view shows the phone as `*******456`, so one digit is unknown: without a limit shared
by every process, ten tries unlock the delivery window and the pay link.
"""
from alembic import op
import sqlalchemy as sa

revision = '0009'
down_revision = '0008_reports'
branch_labels = None
depends_on = None

UTC = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table('phone_checks',
    sa.Column('tracking_number', sa.String(length=13), nullable=False),
    sa.Column('bucket_start', UTC, nullable=False),
    sa.Column('wrong_count', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('tracking_number', 'bucket_start', name=op.f('pk_phone_checks'))
    )
    op.create_index(op.f('ix_phone_checks_bucket_start'), 'phone_checks', ['bucket_start'],
                    unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_phone_checks_bucket_start'), table_name='phone_checks')
    op.drop_table('phone_checks')
