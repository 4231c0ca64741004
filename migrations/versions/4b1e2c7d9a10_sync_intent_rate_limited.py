"""sync_intent.rate_limited: the CRM's 429s, counted apart from other failed attempts

Revision ID: 4b1e2c7d9a10
Revises: 873144ed0829
Create Date: 2026-12-02 03:10:00

"""
from alembic import op
import sqlalchemy as sa


revision = '4b1e2c7d9a10'
down_revision = '873144ed0829'
branch_labels = None
depends_on = None


def upgrade():
    # Existing rows start at 0: their earlier 429s were counted only in `attempts`.
    with op.batch_alter_table('sync_intent') as batch_op:
        batch_op.add_column(sa.Column('rate_limited', sa.Integer(), server_default='0', nullable=False))


def downgrade():
    with op.batch_alter_table('sync_intent') as batch_op:
        batch_op.drop_column('rate_limited')
