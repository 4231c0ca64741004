"""campaign.sync_locks: sync option areas an admin locked for recruiters (the panel's grey arrow)

Revision ID: panel02a
Revises: ssrf0a1b2c3d
Create Date: 2026-12-03 10:05:00
"""
from alembic import op
import sqlalchemy as sa

revision = 'panel02a'
down_revision = 'ssrf0a1b2c3d'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('campaign', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sync_locks', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('campaign', schema=None) as batch_op:
        batch_op.drop_column('sync_locks')
