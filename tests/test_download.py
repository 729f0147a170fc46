"""The weight download cache against a real HTTP server on 127.0.0.1."""
import hashlib
import os
import socket

import pytest

from ppir.utils import download
from ppir.utils.download import DownloadError, download_cached
from apps_fixtures import LocalFileServer
BODY = os.urandom(300_000)  # a few read chunks' worth, so progress and streaming are exercised


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("PPIR_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("PPIR_WEIGHTS_MIRROR", raising=False)
    return tmp_path / "home"


@pytest.fixture
def server():
    with LocalFileServer() as srv:
        yield srv


def cache_listing(home):
    folder = home / "weights"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_complete_download_lands_in_cache(home, server):
    url = server.add("/models/w.bin", BODY)
    path = download_cached(url, backoff=0, progress=False)
    assert path == str(home / "weights" / "w.bin")
    assert open(path, "rb").read() == BODY
    assert cache_listing(home) == ["w.bin"]  # no temporary file left behind


def test_second_call_reuses_cache_without_request(home, server):
    url = server.add("/w.bin", BODY)
    first = download_cached(url, backoff=0, progress=False)
    second = download_cached(url, backoff=0, progress=False)
    assert first == second
    assert server.requests["/w.bin"] == 1


def test_interrupted_transfer_never_enters_cache(home, server):
    url = server.add("/cut.bin", BODY, mode="short")
    with pytest.raises(DownloadError) as err:
        download_cached(url, retries=3, backoff=0, progress=False)
    message = str(err.value)
    assert url in message and "weight_path" in message and "\n" not in message
    assert "after 150000 of 300000 bytes" in message
    assert server.requests["/cut.bin"] == 3  # retried
    assert cache_listing(home) == []


def test_retry_recovers_from_one_interruption(home, server):
    url = server.add("/flaky.bin", BODY, mode="short-once")
    path = download_cached(url, retries=3, backoff=0, progress=False)
    assert open(path, "rb").read() == BODY
    assert server.requests["/flaky.bin"] == 2
    assert cache_listing(home) == ["flaky.bin"]


def test_404_fails_at_once_with_the_url(home, server):
    url = server.base_url + "/nope.pdparams"
    with pytest.raises(DownloadError, match="HTTP 404") as err:
        download_cached(url, retries=3, backoff=0, progress=False)
    assert url in str(err.value)
    assert server.requests["/nope.pdparams"] == 1  # a missing file is not retried
    assert cache_listing(home) == []


def test_sha256_mismatch_is_rejected_and_match_is_kept(home, server):
    url = server.add("/h.bin", BODY)
    with pytest.raises(DownloadError, match="sha256"):
        download_cached(url, sha256="0" * 64, retries=1, backoff=0, progress=False)
    assert cache_listing(home) == []
    good = hashlib.sha256(BODY).hexdigest()
    path = download_cached(url, sha256=good, backoff=0, progress=False)
    assert download.sha256_of(path) == good


def test_cached_file_with_wrong_hash_is_fetched_again(home, server):
    url = server.add("/h.bin", BODY)
    (home / "weights").mkdir(parents=True)
    (home / "weights" / "h.bin").write_bytes(b"stale")
    path = download_cached(url, sha256=hashlib.sha256(BODY).hexdigest(), backoff=0, progress=False)
    assert open(path, "rb").read() == BODY
    assert server.requests["/h.bin"] == 1


def test_offline_gives_one_clear_error(home):
    with socket.socket() as s:  # a port nobody listens on: connection refused, like being offline
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}/MPR_Deraining.pdparams"
    with pytest.raises(DownloadError) as err:
        download_cached(url, retries=2, backoff=0, progress=False)
    message = str(err.value)
    assert message.startswith(f"could not download {url} (cannot reach the server")
    assert "weight_path" in message and "\n" not in message


def test_mirror_env_var_redirects_and_file_urls_work(home, server, tmp_path, monkeypatch):
    server.add("/mirror/MPR_Deraining.pdparams", BODY)
    monkeypatch.setenv("PPIR_WEIGHTS_MIRROR", server.base_url + "/mirror/")
    path = download_cached("https://paddlegan.bj.bcebos.com/models/MPR_Deraining.pdparams", progress=False)
    assert open(path, "rb").read() == BODY
    assert server.requests["/mirror/MPR_Deraining.pdparams"] == 1

    local = tmp_path / "offline_copies"
    local.mkdir()
    (local / "sr_x4.pth").write_bytes(BODY[:1000])
    monkeypatch.setenv("PPIR_WEIGHTS_MIRROR", local.as_uri())
    path = download_cached("https://github.com/swz30/MIRNetv2/releases/download/v1.0.0/sr_x4.pth", progress=False)
    assert open(path, "rb").read() == BODY[:1000]
