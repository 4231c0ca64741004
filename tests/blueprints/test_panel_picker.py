"""The panel's campaign picker (services.campaign_picker): rendered once per change of the team's
campaigns and kept per web process, so every test here opens the card again after a change and
expects to see that change at once."""
from __future__ import annotations

import re

from sqlalchemy import update

from core import db
from models import Campaign
from services.campaigns import delete_campaign, set_archived

from tests.blueprints.test_panel import ADA, auth, world  # noqa: F401 (the fixture)


def _picker(app, world) -> list[str]:
    r = app.test_client().post("/panel/profile", data=ADA, headers=auth(world, **{"HX-Request": "true"}))
    assert r.status_code == 200
    select_html = r.get_data(as_text=True).split('id="campaign-picker"', 1)[1].split("</select>", 1)[0]
    return re.findall(r'<option value="\d+">([^<]*)</option>', select_html)


def test_the_picker_follows_every_change_to_the_teams_campaigns(app, world):
    user, first = world["user"], world["campaign"]
    assert _picker(app, world) == ["Data engineers Q3"]
    assert _picker(app, world) == ["Data engineers Q3"]          # served from the cache

    second = Campaign(team_id=user.team_id, owner_id=user.id, name="Backend <leads> & co")
    db.session.add(second)
    db.session.commit()
    assert _picker(app, world) == ["Backend &lt;leads&gt; &amp; co", "Data engineers Q3"]   # new, escaped, by name

    # A rename to a name of the same length, written by a bulk UPDATE (no ORM event, no timestamp).
    db.session.execute(update(Campaign).where(Campaign.id == first.id).values(name="Data engineers Q4"))
    db.session.commit()
    assert _picker(app, world) == ["Backend &lt;leads&gt; &amp; co", "Data engineers Q4"]

    set_archived(second, True)
    db.session.commit()
    assert _picker(app, world) == ["Data engineers Q4"]
    set_archived(second, False)
    db.session.commit()
    assert _picker(app, world) == ["Backend &lt;leads&gt; &amp; co", "Data engineers Q4"]

    assert delete_campaign(second)
    db.session.commit()
    assert _picker(app, world) == ["Data engineers Q4"]


def test_names_cannot_be_arranged_to_look_unchanged(app, world):
    """The key is the list itself, length-prefixed: moving text between two names (same ids, same
    total text) is still a change."""
    user, first = world["user"], world["campaign"]
    db.session.execute(update(Campaign).where(Campaign.id == first.id).values(name="ab"))
    other = Campaign(team_id=user.team_id, owner_id=user.id, name="c")
    db.session.add(other)
    db.session.commit()
    assert _picker(app, world) == ["ab", "c"]
    db.session.execute(update(Campaign).where(Campaign.id == first.id).values(name="a"))
    db.session.execute(update(Campaign).where(Campaign.id == other.id).values(name="bc"))
    db.session.commit()
    assert _picker(app, world) == ["a", "bc"]


def test_another_teams_campaigns_never_appear_and_theirs_have_their_own_entry(app, world):
    theirs = world["theirs"]
    assert _picker(app, world) == ["Data engineers Q3"]
    db.session.execute(update(Campaign).where(Campaign.id == theirs.id).values(name="Renamed secret"))
    db.session.commit()
    assert _picker(app, world) == ["Data engineers Q3"]


def test_with_no_live_campaign_the_card_says_so(app, world):
    set_archived(world["campaign"], True)
    db.session.commit()
    r = app.test_client().post("/panel/profile", data=ADA, headers=auth(world, **{"HX-Request": "true"}))
    assert r.status_code == 200 and "no campaigns yet" in r.get_data(as_text=True)
