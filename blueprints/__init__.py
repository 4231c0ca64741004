"""Blueprint registration and the error pages shared by every area."""
from __future__ import annotations

from flask import Flask


def register_blueprints(app: Flask) -> None:
    from blueprints import (account, activity, auth, campaigns, cvs, health, hooks, imports, inbound, integrations,
                            panel, people, search, settings, team, trail)
    from blueprints import (outreach_mailbox, outreach_public, outreach_sequences, outreach_settings,
                            outreach_tasks)
    from blueprints import panel_views  # noqa: F401  (adds the panel's fragments to panel.bp)
    from blueprints import panel_activity  # noqa: F401  (the panel's record-activity and CV routes)

    app.register_blueprint(auth.bp)
    app.register_blueprint(account.bp)
    app.register_blueprint(integrations.bp)
    app.register_blueprint(campaigns.bp)
    app.register_blueprint(activity.bp)
    app.register_blueprint(panel.bp)
    app.register_blueprint(people.bp)
    app.register_blueprint(settings.bp)
    from blueprints import probes
    app.register_blueprint(probes.bp)
    app.register_blueprint(team.bp)
    app.register_blueprint(hooks.bp)
    app.register_blueprint(cvs.bp)
    app.register_blueprint(inbound.bp)
    app.register_blueprint(imports.bp)
    for bp in (outreach_sequences.bp, outreach_tasks.bp, outreach_mailbox.bp, outreach_public.bp,
               outreach_settings.bp):
        app.register_blueprint(bp)
    app.register_blueprint(search.bp)
    app.register_blueprint(health.bp)
    app.register_blueprint(trail.bp)

    from blueprints.api import init_api
    init_api(app)


def register_error_pages(app: Flask) -> None:
    from blueprints.errors import register

    register(app)
