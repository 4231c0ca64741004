"""connection.unreachable_since/_reason (a CRM outage shown on the connection); the app's OAuth
client stripped from SmartRecruiters connections' stored credentials (issue #10)

Revision ID: ssrf0a1b2c3d
Revises: outreach_b_api
Create Date: 2026-12-03 07:20:00

"""
import logging

import sqlalchemy as sa
from alembic import op

revision = 'ssrf0a1b2c3d'
down_revision = 'outreach_b_api'
branch_labels = None
depends_on = None

log = logging.getLogger('alembic.runtime.migration')


def upgrade():
    with op.batch_alter_table('connection') as batch_op:
        batch_op.add_column(sa.Column('unreachable_since', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('unreachable_reason', sa.String(length=300), nullable=True))
    # Data: decrypted with the app's CREDENTIALS_KEY (`flask db upgrade` runs in the app). Without
    # it the rows stay as they are (the adapter ignores those keys anyway) and the operator runs
    # `flask --app app strip-oauth-clients` once the key is set.
    from crypto import CredentialsKeyMissing
    from services.oauth_cleanup import strip_oauth_clients

    try:
        stripped, unreadable = strip_oauth_clients(op.get_bind())
    except CredentialsKeyMissing:
        log.warning("CREDENTIALS_KEY is not set: SmartRecruiters connections keep the app's OAuth client in "
                    "their stored credentials (unused); run `flask --app app strip-oauth-clients` with the key set")
        return
    log.info("stripped the app's OAuth client from %s connection(s); %s unreadable", stripped, unreadable)


def downgrade():
    # The stripped keys are not restored: they were the app's config, which the code reads again.
    with op.batch_alter_table('connection') as batch_op:
        batch_op.drop_column('unreachable_reason')
        batch_op.drop_column('unreachable_since')
