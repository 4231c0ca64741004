"""inbound mail (InboundMessage), the team's webhook secret, CV files (CvFile)

Revision ID: outreach_b_inbound_cvs
Revises: admin_b_01
Create Date: 2026-12-03 06:43:04.512997

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'outreach_b_inbound_cvs'
down_revision = 'admin_b_01'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('inbound_message',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.String(length=500), nullable=False),
    sa.Column('in_reply_to', sa.String(length=500), nullable=True),
    sa.Column('references', sa.JSON(), nullable=False),
    sa.Column('from_addr', sa.String(length=254), nullable=False),
    sa.Column('from_name', sa.String(length=200), nullable=False),
    sa.Column('to_addr', sa.String(length=500), nullable=False),
    sa.Column('subject', sa.String(length=500), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('matched_by', sa.String(length=40), nullable=True),
    sa.Column('enrolment_id', sa.Integer(), nullable=True),
    sa.Column('event_id', sa.Integer(), nullable=True),
    sa.Column('attachments', sa.JSON(), nullable=False),
    sa.Column('received_at', sa.DateTime(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['enrolment_id'], ['enrolment.id'], ),
    sa.ForeignKeyConstraint(['event_id'], ['outreach_event.id'], ),
    sa.ForeignKeyConstraint(['team_id'], ['team.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('team_id', 'message_id')
    )
    with op.batch_alter_table('inbound_message', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inbound_message_enrolment_id'), ['enrolment_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_inbound_message_received_at'), ['received_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_inbound_message_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_inbound_message_team_id'), ['team_id'], unique=False)

    op.create_table('cv_file',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=True),
    sa.Column('inbound_id', sa.Integer(), nullable=True),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('storage_key', sa.String(length=300), nullable=False),
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['inbound_id'], ['inbound_message.id'], ),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], ),
    sa.ForeignKeyConstraint(['team_id'], ['team.id'], ),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['user.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('cv_file', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cv_file_inbound_id'), ['inbound_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_cv_file_person_id'), ['person_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_cv_file_team_id'), ['team_id'], unique=False)

    with op.batch_alter_table('team', schema=None) as batch_op:
        batch_op.add_column(sa.Column('inbound_secret_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('inbound_secret_encrypted', sa.LargeBinary(), nullable=True))
        batch_op.create_unique_constraint('uq_team_inbound_secret_hash', ['inbound_secret_hash'])



def downgrade():
    with op.batch_alter_table('team', schema=None) as batch_op:
        batch_op.drop_constraint('uq_team_inbound_secret_hash', type_='unique')
        batch_op.drop_column('inbound_secret_encrypted')
        batch_op.drop_column('inbound_secret_hash')

    with op.batch_alter_table('cv_file', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cv_file_team_id'))
        batch_op.drop_index(batch_op.f('ix_cv_file_person_id'))
        batch_op.drop_index(batch_op.f('ix_cv_file_inbound_id'))

    op.drop_table('cv_file')
    with op.batch_alter_table('inbound_message', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_inbound_message_team_id'))
        batch_op.drop_index(batch_op.f('ix_inbound_message_status'))
        batch_op.drop_index(batch_op.f('ix_inbound_message_received_at'))
        batch_op.drop_index(batch_op.f('ix_inbound_message_enrolment_id'))

    op.drop_table('inbound_message')
