"""The file storage interface (services.storage) on both backends: a directory under instance/
(the default) and an S3-compatible bucket through boto3, here moto's S3 server on a loopback
socket (a simulator, like the CRM sandboxes: real HTTP, real boto3 signing and parsing). The CV
path is the same whichever backend the config selects."""
from __future__ import annotations

import pytest

from services.storage import LocalStorage, S3Storage, get_storage

boto3 = pytest.importorskip("boto3")
moto_server = pytest.importorskip("moto.server")


@pytest.fixture(scope="module")
def s3_endpoint():
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def bucket(s3_endpoint, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1")
    client.create_bucket(Bucket="shoal-cvs")
    return client


def roundtrip(store) -> None:
    store.put("team1/cv-abc.pdf", b"%PDF-1.4 one", "application/pdf")
    assert store.get("team1/cv-abc.pdf") == b"%PDF-1.4 one"
    store.put("team1/cv-abc.pdf", b"%PDF-1.4 two")            # replace
    assert store.get("team1/cv-abc.pdf") == b"%PDF-1.4 two"
    store.delete("team1/cv-abc.pdf")
    with pytest.raises(KeyError):
        store.get("team1/cv-abc.pdf")
    for bad in ("../etc/passwd", "team1/../../x", "/abs", "team1//x", ""):
        with pytest.raises(ValueError):
            store.put(bad, b"x")


def test_local_directory(tmp_path):
    roundtrip(LocalStorage(tmp_path))
    assert [p.name for p in tmp_path.rglob("*") if p.is_file()] == []


def test_s3_compatible_bucket(bucket, s3_endpoint):
    store = S3Storage("shoal-cvs", prefix="prod", endpoint_url=s3_endpoint, region="us-east-1")
    roundtrip(store)
    store.put("team2/cv-x.pdf", b"%PDF-1.4", "application/pdf")
    head = bucket.head_object(Bucket="shoal-cvs", Key="prod/team2/cv-x.pdf")
    assert head["ContentType"] == "application/pdf"


def test_config_selects_the_backend(app, bucket, s3_endpoint, tmp_path):
    saved = {k: app.config.get(k) for k in ("FILE_STORAGE", "FILE_STORAGE_S3_BUCKET", "FILE_STORAGE_S3_ENDPOINT_URL",
                                            "FILE_STORAGE_S3_REGION", "FILE_STORAGE_DIR")}
    try:
        app.config.update(FILE_STORAGE="local", FILE_STORAGE_DIR=str(tmp_path))
        assert isinstance(get_storage(), LocalStorage) and get_storage().root == tmp_path
        app.config.update(FILE_STORAGE="s3", FILE_STORAGE_S3_BUCKET="shoal-cvs",
                          FILE_STORAGE_S3_ENDPOINT_URL=s3_endpoint, FILE_STORAGE_S3_REGION="us-east-1")
        store = get_storage()
        assert isinstance(store, S3Storage)
        store.put("team3/cv.pdf", b"%PDF")
        assert bucket.get_object(Bucket="shoal-cvs", Key="team3/cv.pdf")["Body"].read() == b"%PDF"
        app.config.update(FILE_STORAGE="s3", FILE_STORAGE_S3_BUCKET=None)
        with pytest.raises(RuntimeError, match="FILE_STORAGE_S3_BUCKET"):
            get_storage()
    finally:
        app.config.update(saved)
