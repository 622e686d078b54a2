"""fetch(): mirror, then cache, then an atomic download; served from a loopback HTTP server."""

from __future__ import annotations

import http.server
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from han.data.download import MIRROR_ENV, DatasetUnavailableError, fetch

PAYLOAD = bytes(range(256)) * 1000  # 256 kB: several read chunks


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        if self.path == "/good.bin":
            self.send_response(200)
            self.send_header("Content-Length", str(len(PAYLOAD)))
            self.end_headers()
            self.wfile.write(PAYLOAD)
        elif self.path == "/short.bin":
            # Announce the whole payload, send a tenth, then hang up.
            self.send_response(200)
            self.send_header("Content-Length", str(len(PAYLOAD)))
            self.end_headers()
            self.wfile.write(PAYLOAD[: len(PAYLOAD) // 10])
            self.close_connection = True
        else:
            self.send_error(404, "Not Found")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture()
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Base URL of a throwaway HTTP server on 127.0.0.1."""
    for name in ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


@pytest.fixture(autouse=True)
def _no_env_mirror(monkeypatch: pytest.MonkeyPatch) -> None:
    # conftest points HAN_DATA_MIRROR at the shared copies; these tests choose their own.
    monkeypatch.delenv(MIRROR_ENV, raising=False)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_download_writes_complete_file_and_no_part(server: str, tmp_path: Path) -> None:
    cache = tmp_path / "raw" / "nested"
    path = fetch(f"{server}/good.bin", "good.bin", cache)
    assert path == cache / "good.bin"
    assert path.read_bytes() == PAYLOAD
    assert sorted(p.name for p in cache.iterdir()) == ["good.bin"]


def test_second_fetch_uses_cache_without_network(server: str, tmp_path: Path) -> None:
    fetch(f"{server}/good.bin", "good.bin", tmp_path)
    # The URL now points nowhere: only the cached copy can satisfy the call.
    path = fetch(f"http://127.0.0.1:{_closed_port()}/good.bin", "good.bin", tmp_path)
    assert path.read_bytes() == PAYLOAD


def test_truncated_download_leaves_nothing_and_raises(server: str, tmp_path: Path) -> None:
    url = f"{server}/short.bin"
    with pytest.raises(DatasetUnavailableError) as info:
        fetch(url, "short.bin", tmp_path)
    message = str(info.value)
    assert url in message and "truncated" in message
    assert f"{len(PAYLOAD) // 10} of {len(PAYLOAD)} bytes" in message
    assert list(tmp_path.iterdir()) == []


def test_http_error_is_reported(server: str, tmp_path: Path) -> None:
    with pytest.raises(DatasetUnavailableError, match="HTTP 404"):
        fetch(f"{server}/missing.zip", "missing.zip", tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_unreachable_url_says_what_to_do(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{_closed_port()}/x"
    with pytest.raises(DatasetUnavailableError) as info:
        fetch(url, "bbc-fulltext.zip", tmp_path / "raw")
    message = str(info.value)
    assert isinstance(info.value, RuntimeError)
    assert url in message
    assert f"put bbc-fulltext.zip into {tmp_path / 'raw'} or into a mirror folder" in message
    assert "paths.mirror" in message and MIRROR_ENV in message
    assert list((tmp_path / "raw").iterdir()) == []


def test_mirror_wins_over_cache(tmp_path: Path) -> None:
    mirror, cache = tmp_path / "mirror", tmp_path / "cache"
    mirror.mkdir()
    cache.mkdir()
    (mirror / "data.zip").write_bytes(b"mirror copy")
    (cache / "data.zip").write_bytes(b"cache copy")
    url = f"http://127.0.0.1:{_closed_port()}/data.zip"
    assert fetch(url, "data.zip", cache, mirror=mirror) == mirror / "data.zip"
    assert fetch(url, "data.zip", cache, mirror=str(mirror)) == mirror / "data.zip"
    # Read in place: nothing copied into the cache.
    assert sorted(p.name for p in cache.iterdir()) == ["data.zip"]
    assert (cache / "data.zip").read_bytes() == b"cache copy"


def test_mirror_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    mirror, cache = tmp_path / "mirror", tmp_path / "cache"
    mirror.mkdir()
    (mirror / "data.zip").write_bytes(b"mirror copy")
    url = f"http://127.0.0.1:{_closed_port()}/data.zip"
    monkeypatch.setenv(MIRROR_ENV, str(mirror))
    assert fetch(url, "data.zip", cache) == mirror / "data.zip"
    # A mirror without the file falls through to the cache.
    (cache / "other.zip").parent.mkdir()
    (cache / "other.zip").write_bytes(b"cached")
    assert fetch(url, "other.zip", cache) == cache / "other.zip"


def test_a_download_is_checked_against_its_sha256(server: str, tmp_path: Path) -> None:
    import hashlib

    good = hashlib.sha256(PAYLOAD).hexdigest()
    path = fetch(f"{server}/good.bin", "good.bin", tmp_path / "ok", sha256=good.upper())
    assert path.read_bytes() == PAYLOAD
    wrong = "0" * 64
    with pytest.raises(DatasetUnavailableError, match=f"sha256 mismatch: got {good}, expected {wrong}"):
        fetch(f"{server}/good.bin", "good.bin", tmp_path / "bad", sha256=wrong)
    assert list((tmp_path / "bad").iterdir()) == []  # nothing under the final name, no .part


def test_dataset_configs_carry_upstream_checksums(repo_root: Path) -> None:
    import yaml
    from hydra import compose, initialize_config_dir

    with initialize_config_dir(str(repo_root / "conf"), version_base="1.3"):
        for path in sorted((repo_root / "conf" / "dataset").glob("*.yaml")):
            cfg = compose("train", [f"dataset={path.stem}"]).dataset
            if cfg.get("kind") != "table":  # downloaded: its checksum, or null for unknown
                assert "sha256" in cfg, path
    imdb = yaml.safe_load((repo_root / "conf" / "dataset" / "imdb.yaml").read_text())
    assert imdb["sha256"] == "c40f74a18d3b61f90feba1e17730e0d38e8b97c05fde7008942e91923d1658fe"
