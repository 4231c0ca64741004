"""bulk_import: "Bulk add from CSV" uploads and their progress

Revision ID: admin_b_02
Revises: outreach_b_inbound_cvs
Create Date: 2026-12-03 06:55:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'admin_b_02'
down_revision = 'outreach_b_inbound_cvs'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'bulk_import',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('campaign_id', sa.Integer(), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=False),
        sa.Column('filename', sa.String(length=255), nullable=False),
        sa.Column('encoding', sa.String(length=20), nullable=False),
        sa.Column('header', sa.JSON(), nullable=False),
        sa.Column('rows', sa.JSON(), nullable=False),
        sa.Column('mapping', sa.JSON(), nullable=False),
        sa.Column('profiles', sa.JSON(), nullable=False),
        sa.Column('problems', sa.JSON(), nullable=False),
        sa.Column('state', sa.String(length=20), nullable=False),
        sa.Column('done', sa.Integer(), nullable=False),
        sa.Column('failed', sa.Integer(), nullable=False),
        sa.Column('skipped', sa.Integer(), nullable=False),
        sa.Column('error', sa.Text(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('started_at', sa.DateTime(), nullable=True),
        sa.Column('finished_at', sa.DateTime(), nullable=True),
        sa.Column('team_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], ),
        sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], ),
        sa.ForeignKeyConstraint(['team_id'], ['team.id'], ),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('bulk_import') as batch_op:
        batch_op.create_index(batch_op.f('ix_bulk_import_campaign_id'), ['campaign_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_bulk_import_team_id'), ['team_id'], unique=False)


def downgrade():
    with op.batch_alter_table('bulk_import') as batch_op:
        batch_op.drop_index(batch_op.f('ix_bulk_import_team_id'))
        batch_op.drop_index(batch_op.f('ix_bulk_import_campaign_id'))
    op.drop_table('bulk_import')
