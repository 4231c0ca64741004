"""The worker's periodic tick (jobs/schedule.py: once per period however many workers ask) and
SMTP over STARTTLS and implicit TLS against real TLS servers on loopback (a certificate made for
the test, trusted through SMTP_CA_FILE)."""
from __future__ import annotations

import datetime as dt
import ipaddress
import ssl

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from sqlalchemy import select

from core import db, get_redis
from jobs.schedule import enqueue_due
from models import Mailbox
from outreach_support import started_sequence
from sandbox.smtp import Catcher, SmtpServer
from services.outreach import mailboxes
from services.outreach.mailer import SmtpFailure, check


def test_the_tick_is_enqueued_once_per_period_and_sends(app, make_user, mailbox_for, smtp, run_worker, clock):
    owner = make_user("recruiter")
    mailbox_for(owner)
    started_sequence(owner, {"subject": "Hello {{ first_name }}", "body_text": "Hi"})
    get_redis().delete(*get_redis().keys("shoal:periodic:*") or ["none"])
    assert enqueue_due(app, now=3000.0) == ["outreach_tick"]
    assert enqueue_due(app, now=3010.0) == []            # a second worker, same period: nothing
    run_worker()
    assert [m.summary()["subject"] for m in smtp.catcher.received()] == ["Hello Ada1"]
    assert enqueue_due(app, now=3030.0) == ["outreach_tick"]   # the next period


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    """A self-signed certificate for 127.0.0.1 (key, cert and the CA file that trusts it)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
            .sign(key, hashes.SHA256()))
    folder = tmp_path_factory.mktemp("tls")
    (folder / "key.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                       serialization.NoEncryption()))
    (folder / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return folder / "key.pem", folder / "cert.pem"


def _server_context(certificate) -> ssl.SSLContext:
    key, cert = certificate
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(str(cert), str(key))
    return ctx


@pytest.mark.parametrize("security", ["starttls", "tls"])
def test_starttls_and_tls_against_real_tls_servers(app, make_user, certificate, security):
    catcher = Catcher(username="riley", password="pw")
    server = SmtpServer(catcher, tls_context=_server_context(certificate), implicit_tls=security == "tls").start()
    saved = dict(app.config)
    try:
        app.config.update(SMTP_PRIVATE_HOSTS=("127.0.0.1",), SMTP_CA_FILE=None)
        owner = make_user("recruiter")
        mailboxes.save(owner, {"from_address": "r@agency.test", "host": "127.0.0.1", "port": str(server.port),
                               "security": security, "username": "riley", "password": "pw"})
        box = db.session.scalars(select(Mailbox)).one()
        with pytest.raises(SmtpFailure, match="TLS failed|certificate"):   # an untrusted certificate
            check(mailboxes.smtp_settings(box))
        app.config["SMTP_CA_FILE"] = str(certificate[1])
        check(mailboxes.smtp_settings(box))                # trusted now: TLS, then the login
        assert catcher.logins == 1
    finally:
        server.stop()
        app.config.clear()
        app.config.update(saved)
