"""API tokens (token scope), Idempotency-Key rows

Revision ID: outreach_b_api
Revises: admin_a_01
Create Date: 2026-12-03 07:01:54.626132

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'outreach_b_api'
down_revision = 'admin_a_01'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('api_idempotency_key',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['outreach_event.id'], ),
    sa.ForeignKeyConstraint(['team_id'], ['team.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('team_id', 'key')
    )
    with op.batch_alter_table('api_idempotency_key', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_idempotency_key_team_id'), ['team_id'], unique=False)

    with op.batch_alter_table('extension_token', schema=None) as batch_op:
        # Every existing token was made for the extension.
        batch_op.add_column(sa.Column('scope', sa.String(length=20), server_default='extension', nullable=False))



def downgrade():
    with op.batch_alter_table('extension_token', schema=None) as batch_op:
        batch_op.drop_column('scope')

    with op.batch_alter_table('api_idempotency_key', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_idempotency_key_team_id'))

    op.drop_table('api_idempotency_key')
