"""Enrolment.sync_override: the person's advanced "Sync Override" (when to add) from the panel

Revision ID: panel01a
Revises: outreach_a_01
Create Date: 2026-12-03 06:45:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'panel01a'
down_revision = 'outreach_a_01'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('enrolment') as batch_op:
        batch_op.add_column(sa.Column('sync_override', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('enrolment') as batch_op:
        batch_op.drop_column('sync_override')
