"""Failed console sign-ins counted per username, not per account

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-28

A lock-out kept on the account row answered "locked" only for names that exist, which told a
guesser which staff usernames are real. Failures are now counted per normalised username (its
SHA-256) whether or not an account has it, in one table shared by every process, and the
account's own counters go. Counts in progress are not carried over: a lock running at upgrade
time is lifted (at worst five more guesses per name).
"""
from alembic import op
import sqlalchemy as sa

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

UTC = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table('login_failures',
    sa.Column('username_digest', sa.String(length=64), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('locked_until', UTC, nullable=True),
    sa.Column('last_failure_at', UTC, nullable=False),
    sa.PrimaryKeyConstraint('username_digest', name=op.f('pk_login_failures'))
    )
    op.create_index(op.f('ix_login_failures_last_failure_at'), 'login_failures',
                    ['last_failure_at'], unique=False)
    with op.batch_alter_table('staff_users', schema=None) as batch_op:
        batch_op.drop_column('locked_until')
        batch_op.drop_column('failed_logins')


def downgrade() -> None:
    with op.batch_alter_table('staff_users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('failed_logins', sa.Integer(), nullable=False,
                                      server_default='0'))
        batch_op.add_column(sa.Column('locked_until', UTC, nullable=True))
    with op.batch_alter_table('staff_users', schema=None) as batch_op:
        batch_op.alter_column('failed_logins', server_default=None)
    op.drop_index(op.f('ix_login_failures_last_failure_at'), table_name='login_failures')
    op.drop_table('login_failures')
