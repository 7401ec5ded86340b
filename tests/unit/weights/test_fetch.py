"""`talkingub weights fetch` against a loopback HTTP server: resume, hash check, archives."""

from __future__ import annotations

import hashlib
import http.server
import io
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from talkingub.cli import main
from talkingub.errors import WeightsMissingError
from talkingub.weights import registry
from talkingub.weights.fetch import WeightsHashError, fetch
from talkingub.weights.registry import WeightsSpec, resolve, verify

PAYLOAD = bytes(range(256)) * 4096  # 1 MiB


class Server(http.server.ThreadingHTTPServer):
    files: dict[str, bytes]
    cut_first: bool
    ranges: list[str | None]


class Handler(http.server.BaseHTTPRequestHandler):
    server: Server

    def do_GET(self) -> None:
        data = self.server.files.get(self.path)
        if data is None:
            self.send_error(404)
            return
        wanted = self.headers.get("Range")
        self.server.ranges.append(wanted)
        start = int(wanted.split("=")[1].rstrip("-")) if wanted else 0
        self.send_response(206 if wanted else 200)
        self.send_header("Content-Length", str(len(data) - start))
        self.end_headers()
        body = data[start:]
        if self.server.cut_first:
            self.server.cut_first = False
            body = body[: len(body) // 3]  # drop the connection part-way
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[Server]:
    srv = Server(("127.0.0.1", 0), Handler)
    srv.files, srv.cut_first, srv.ranges = {}, False, []
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("TALKINGUB_WEIGHTS", str(tmp_path / "weights"))
    return tmp_path / "weights"


def add_spec(
    monkeypatch: pytest.MonkeyPatch, server: Server, sha: str, member: str = ""
) -> WeightsSpec:
    registry._load_catalogue()
    url = f"http://127.0.0.1:{server.server_address[1]}/file.bin"
    spec = WeightsSpec(
        name="test-file", filename="file.bin", url=url, sha256=sha, archive_member=member
    )
    monkeypatch.setitem(registry.WEIGHTS, spec.name, spec)
    return spec


def test_fetch_downloads_verifies_and_resolves(server: Server, cache: Path, monkeypatch) -> None:
    server.files["/file.bin"] = PAYLOAD
    add_spec(monkeypatch, server, hashlib.sha256(PAYLOAD).hexdigest())
    path = fetch("test-file")
    assert path.read_bytes() == PAYLOAD
    assert verify("test-file") and resolve("test-file") == path
    assert not list(cache.glob("*.part"))


def test_interrupted_download_resumes_with_range(server: Server, cache: Path, monkeypatch) -> None:
    server.files["/file.bin"] = PAYLOAD
    server.cut_first = True
    add_spec(monkeypatch, server, hashlib.sha256(PAYLOAD).hexdigest()[:8])  # prefix pin
    with pytest.raises(WeightsMissingError, match="resume"):
        fetch("test-file")
    part = cache / "file.bin.part"
    kept = part.stat().st_size
    assert 0 < kept < len(PAYLOAD)
    assert fetch("test-file").read_bytes() == PAYLOAD
    assert server.ranges == [None, f"bytes={kept}-"]


def test_wrong_hash_is_rejected_and_deleted(server: Server, cache: Path, monkeypatch) -> None:
    server.files["/file.bin"] = PAYLOAD
    add_spec(monkeypatch, server, "0" * 64)
    with pytest.raises(WeightsHashError, match="does not match"):
        fetch("test-file")
    assert not any(cache.iterdir())
    with pytest.raises(WeightsMissingError, match="talkingub weights fetch test-file"):
        resolve("test-file")


def test_unpinned_entry_records_digest(server: Server, cache: Path, monkeypatch) -> None:
    server.files["/file.bin"] = PAYLOAD
    add_spec(monkeypatch, server, "")
    path = fetch("test-file")
    record = (cache / "file.bin.sha256").read_text().strip()
    assert record == hashlib.sha256(PAYLOAD).hexdigest()
    assert resolve("test-file") == path
    path.write_bytes(b"tampered")
    assert not verify("test-file")


def test_archive_member_is_extracted(server: Server, cache: Path, monkeypatch) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("model-dir/end2end.onnx", PAYLOAD)
        zf.writestr("model-dir/readme.txt", b"x")
    server.files["/file.bin"] = buffer.getvalue()
    add_spec(monkeypatch, server, hashlib.sha256(PAYLOAD).hexdigest(), member="end2end.onnx")
    assert fetch("test-file").read_bytes() == PAYLOAD


def test_cli_fetch_verify_path_list(server: Server, cache: Path, monkeypatch) -> None:
    server.files["/file.bin"] = PAYLOAD
    add_spec(monkeypatch, server, hashlib.sha256(PAYLOAD).hexdigest())
    runner = CliRunner()
    assert "missing" in runner.invoke(main, ["weights", "verify", "test-file"]).output
    fetched = runner.invoke(main, ["weights", "fetch", "test-file"])
    assert fetched.exit_code == 0, fetched.output
    assert "ok       test-file" in runner.invoke(main, ["weights", "verify", "test-file"]).output
    path = runner.invoke(main, ["weights", "path", "test-file"]).output.strip()
    assert Path(path) == cache / "file.bin"
    listing = runner.invoke(main, ["weights", "list"]).output
    assert "inception-fid" in listing and "unpinned" in listing
    (cache / "file.bin").write_bytes(b"bad")
    bad = runner.invoke(main, ["weights", "verify", "test-file"])
    assert bad.exit_code == 3 and "MISMATCH" in bad.output


def test_catalogue_entries_are_well_formed() -> None:
    registry._load_catalogue()
    for name in ("inception-fid", "i3d-fvd", "arcface-w600k-r50", "fan-2dfan4", "rtmpose-m-body7"):
        spec = registry.spec(name)
        assert spec.url.startswith("https://")
        assert spec.sha256 == "" or (len(spec.sha256) >= 8 and int(spec.sha256, 16) >= 0)
        if len(spec.sha256) < 64 and spec.sha256:
            assert spec.sha256 in spec.filename  # torch.hub-style prefix in the name
