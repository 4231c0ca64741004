"""campaign.archived_at: campaigns can be archived (hidden, no new members, history kept)

Revision ID: admin_a_01
Revises: panel01a
Create Date: 2026-12-03 07:10:00
"""
from alembic import op
import sqlalchemy as sa

revision = 'admin_a_01'
down_revision = 'panel01a'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('campaign', schema=None) as batch_op:
        batch_op.add_column(sa.Column('archived_at', sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table('campaign', schema=None) as batch_op:
        batch_op.drop_column('archived_at')
