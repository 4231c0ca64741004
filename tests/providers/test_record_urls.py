"""Links into each CRM's web app (`Provider.record_url`, pure): the page of a record built from the
connection (its web address, subdomain, region, account or API root), None (plain text) when no
address can be built, never anything but http(s); and CATS learning its account at the check."""
from __future__ import annotations

import pytest
from marshmallow import ValidationError

from providers import get_provider
from providers.weblinks import origin, web_root
from sandbox import cats as cats_sandbox
from tests.conftest import SANDBOX_ALLOWLIST

CASES = [
    # key, credentials, base URL, record type, id, expected
    ("cats", {"api_key": "k", "account": "acme"}, "https://api.catsone.com/v3", "candidate", "42",
     "https://acme.catsone.com/index.php?m=candidates&a=show&candidateID=42"),
    ("cats", {"api_key": "k", "account": "acme"}, None, "contact", "7",
     "https://acme.catsone.com/index.php?m=contacts&a=show&contactID=7"),
    ("tracker", {"bearer_token": "t", "region": "us"}, None, "candidate", "42", "https://evous.tracker-rms.com/Resource/42"),
    ("tracker", {"bearer_token": "t"}, None, "contact", "9", "https://evo.tracker-rms.com/Contact/9"),
    ("itris", {"subdomain": "acme"}, "https://acme.itris.cloud/api/v2", "applicant", "42",
     "https://acme.itris.cloud/applicants/42"),
    ("pinpoint", {"subdomain": "acme"}, None, "application", "42", "https://acme.pinpointhq.com/admin/applications/42"),
    ("pinpoint", {"subdomain": "acme"}, None, "application", "js-7", "https://acme.pinpointhq.com/admin/job_seekers/7"),
    ("cats", {"account": "acme"}, None, "company", "3", "https://acme.catsone.com/index.php?m=companies&a=show&companyID=3"),
    ("tracker", {"region": "ca"}, None, "company", "3", "https://evoca.tracker-rms.com/Client/3"),
    ("itris", {}, "https://acme.itris.cloud/api/v2", "company", "3", "https://acme.itris.cloud/companies/3"),
    ("smartrecruiters", {"api_key": "k"}, "https://api.smartrecruiters.com", "candidate", "3f2a-9c",
     "https://www.smartrecruiters.com/app/people/candidates/3f2a-9c"),
]


@pytest.mark.parametrize("key,creds,base_url,record_type,remote_id,expected", CASES)
def test_record_url_from_the_connection(key, creds, base_url, record_type, remote_id, expected):
    assert get_provider(key).record_url(creds, record_type, remote_id, base_url=base_url) == expected


@pytest.mark.parametrize("key,creds,base_url", [
    ("cats", {"api_key": "k"}, "https://api.catsone.com/v3"),          # account not learnt yet
    ("cats", {"api_key": "k", "account": "evil.example#"}, None),     # not one DNS label
    ("itris", {"subdomain": "acme"}, None),                             # no API root to take it from
    ("itris", {"subdomain": "acme"}, "javascript:alert(1)"),
    ("pinpoint", {"subdomain": ""}, None),
])
def test_no_address_means_plain_text(key, creds, base_url):
    rt = get_provider(key).record_types[0].key
    assert get_provider(key).record_url(creds, rt, "42", base_url=base_url) is None


@pytest.mark.parametrize("key", ["cats", "tracker", "itris", "pinpoint", "smartrecruiters"])
def test_the_web_address_wins_and_ids_are_escaped(key):
    provider = get_provider(key)
    rt = provider.record_types[0].key
    creds = {"web_url": "https://crm.agency.example/", "subdomain": "acme", "account": "acme"}
    url = provider.record_url(creds, rt, "12/../x?y", base_url="https://acme.itris.cloud/api/v2")
    assert url.startswith("https://crm.agency.example/") and "12%2F..%2Fx%3Fy" in url and "/../" not in url
    assert provider.record_url(creds, rt, "") is None and provider.record_url(creds, rt, None) is None
    assert provider.record_url(creds, "no_such_type", "42") is None


@pytest.mark.parametrize("bad", ["javascript:alert(1)", "data:text/html,hi", "ftp://crm.example", "//crm.example",
                                 "https://user:pw@crm.example", "https://crm.example/path", "https://crm.example?q=1",
                                 "https://crm.example#x", "https://cr m.example", "https://evil.example#.catsone.com",
                                 "https://crm.example\\@evil", "https://", ""])
def test_a_web_address_is_only_ever_a_clean_http_url(bad):
    assert web_root(bad) is None
    with pytest.raises(ValidationError) as err:
        get_provider("cats").credentials_schema().load({"api_key": "k", "web_url": bad})
    assert "web_url" in err.value.messages
    # A bad stored value never makes a link of its own: the derived address is used instead.
    url = get_provider("pinpoint").record_url({"subdomain": "acme", "web_url": bad}, "application", "1")
    assert url == "https://acme.pinpointhq.com/admin/applications/1"


def test_clean_addresses_normalise():
    assert web_root("HTTPS://CRM.Example.com/") == "https://crm.example.com"
    assert web_root("http://127.0.0.1:5103") == "http://127.0.0.1:5103"
    assert web_root("https://[::1]:8443") == "https://[::1]:8443"
    assert origin("https://acme.itris.cloud/api/v2") == "https://acme.itris.cloud"
    assert origin("not a url") is None


def test_every_crm_offers_the_optional_web_address_field():
    for key in ("cats", "tracker", "itris", "pinpoint", "smartrecruiters"):
        field = get_provider(key).credentials_schema().fields["web_url"]
        assert not field.required and field.metadata["label"].startswith("Web address of your ")


def test_cats_check_remembers_the_account_that_names_its_web_app(sandbox):
    server = sandbox("cats")
    saved = []
    adapter = get_provider("cats")(base_url=server.base + cats_sandbox.API_ROOT,
                                   credentials=dict(cats_sandbox.DEFAULT_CREDENTIALS), allowlist=SANDBOX_ALLOWLIST,
                                   on_credentials_changed=saved.append)
    adapter.check_connection()
    assert saved and saved[-1]["account"] == "shoal-sandbox"
    assert get_provider("cats").record_url(saved[-1], "candidate", "5") == \
        "https://shoal-sandbox.catsone.com/index.php?m=candidates&a=show&candidateID=5"
    adapter.check_connection()          # unchanged: nothing written again
    assert len(saved) == 1
