"""SHA256SUMS over every output file (talkingub.curate.shards) and the parts of `verify` that
need no real build: listed paths stay inside the build folder, unreadable files are problems."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from talkingub.curate.output import SCHEMA_VERSION
from talkingub.curate.shards import output_files, write_sha256sums
from talkingub.curate.verify import verify_build
from tests.support.guards import fail_after, record_verify_hashes

OUTPUTS = [
    "build.json",
    "clips.parquet",
    "contact_sheets/v1.png",
    "export/fomm/test/v1-s000-f000000.mp4",
    "export/png/train/v1-s001-f000100/0000000.png",
    "frames.parquet",
    "funnel.md",
    "funnel.png",
    "shards/test-00000.tar",
    "shards/train-00000.tar",
    "splits.parquet",
    "stats.json",
    "videos.parquet",
]
NOT_OUTPUTS = [
    "fetch.parquet",
    "fetch/parts/part-0.parquet",
    "raw/v1.mp4",
    "work/v1/clips/v1-s000-f000000-abc.mp4",
    "shards/.tmp-1234abcd-train-00001.tar",
    "contact_sheets/notes.txt",
    "notes.txt",
]


def fake_build(root: Path) -> Path:
    for name in OUTPUTS + NOT_OUTPUTS:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(name.encode())
    return root


@pytest.fixture()
def no_hang() -> Iterator[None]:
    """Fail (rather than block forever) if anything opens a FIFO for reading."""
    with fail_after(30, "verify opened a file it must not read"):
        yield


@pytest.fixture()
def hashed(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Every path verify hashes."""
    return record_verify_hashes(monkeypatch)


def test_output_files_lists_every_output_and_nothing_else(tmp_path: Path) -> None:
    assert output_files(fake_build(tmp_path)) == sorted(OUTPUTS)


def test_sha256sums_lists_every_output_sorted_with_its_hash(tmp_path: Path) -> None:
    write_sha256sums(fake_build(tmp_path))
    lines = (tmp_path / "SHA256SUMS").read_text().splitlines()
    assert [line.split("  ", 1)[1] for line in lines] == sorted(OUTPUTS)
    for line in lines:
        digest, name = line.split("  ", 1)
        assert digest == hashlib.sha256(name.encode()).hexdigest()


def test_sha256sums_is_the_same_for_the_same_files(tmp_path: Path) -> None:
    a, b = fake_build(tmp_path / "a"), fake_build(tmp_path / "b")
    (b / "work" / "extra.bin").write_bytes(b"caches differ")
    write_sha256sums(a)
    write_sha256sums(b)
    assert (a / "SHA256SUMS").read_bytes() == (b / "SHA256SUMS").read_bytes()


def test_symlinks_are_listed_as_names_never_followed_or_hashed(tmp_path: Path) -> None:
    root = fake_build(tmp_path / "out")
    outside = tmp_path / "outside"
    (outside / "deep").mkdir(parents=True)
    (outside / "deep" / "secret.mp4").write_bytes(b"secret")
    (root / "export" / "linked").symlink_to(outside, target_is_directory=True)
    (root / "shards" / "evil.tar").symlink_to(outside / "deep" / "secret.mp4")
    names = output_files(root)
    assert "export/linked" in names and "shards/evil.tar" in names
    assert not any(n.startswith("export/linked/") for n in names)
    write_sha256sums(root)
    listed = (root / "SHA256SUMS").read_text()
    assert "evil.tar" not in listed and "linked" not in listed
    problems = verify_build(root)
    assert "shards/evil.tar: a symlink not listed in SHA256SUMS" in problems
    assert "export/linked: a symlink not listed in SHA256SUMS" in problems


def test_listed_paths_outside_the_build_are_never_read(
    tmp_path: Path, no_hang: None, hashed: list[Path]
) -> None:
    root = fake_build(tmp_path / "out")
    write_sha256sums(root)
    fifo = tmp_path / "outside.fifo"  # opening it for reading would block
    os.mkfifo(fifo)
    (root / "shards" / "evil.tar").symlink_to(fifo)
    (root / "export" / "up").symlink_to(tmp_path, target_is_directory=True)
    bad = {
        "../outside.fifo": "not a plain relative path",
        "../../../../etc/passwd": "not a plain relative path",
        str(fifo): "not a plain relative path",
        "shards/./evil.tar": "not a plain relative path",
        "shards/evil.tar": "resolves outside the build folder",
        "export/up/outside.fifo": "resolves outside the build folder",
    }
    with open(root / "SHA256SUMS", "a") as handle:
        for name in bad:
            handle.write(f"{'0' * 64}  {name}\n")
    problems = verify_build(root)
    for name, why in bad.items():
        assert any(p.startswith(repr(name)) and why in p for p in problems), (name, problems)
    assert hashed and all(p.resolve().is_relative_to(root.resolve()) for p in hashed)


def test_malformed_and_duplicate_lines(tmp_path: Path) -> None:
    root = fake_build(tmp_path)
    write_sha256sums(root)
    text = (root / "SHA256SUMS").read_text()
    first = text.splitlines()[0]
    (root / "SHA256SUMS").write_text(text + first + "\nnot a sum line\n")
    problems = verify_build(root)
    assert f"{first.split('  ')[1]!r}: listed twice in SHA256SUMS" in problems
    assert any(p.startswith("SHA256SUMS line") and "not '<sha256>  <path>'" in p for p in problems)


def test_listed_file_that_is_not_an_output(tmp_path: Path) -> None:
    root = fake_build(tmp_path)
    write_sha256sums(root)
    digest = hashlib.sha256(b"fetch.parquet").hexdigest()
    with open(root / "SHA256SUMS", "a") as handle:
        handle.write(f"{digest}  fetch.parquet\n")
    assert "fetch.parquet: listed in SHA256SUMS but not a build output" in verify_build(root)


def test_missing_sums_and_files_are_problems_not_errors(tmp_path: Path) -> None:
    root = fake_build(tmp_path)
    (root / "stats.json").unlink()
    problems = verify_build(root)
    assert "SHA256SUMS: missing" in problems and "stats.json: missing" in problems


def test_truncated_parquet_is_a_problem_not_a_traceback(tmp_path: Path) -> None:
    root = fake_build(tmp_path)
    table = pa.table({"video_id": ["v1"]}).replace_schema_metadata(
        {b"talkingub.schema": f"{SCHEMA_VERSION}/frames".encode()}
    )
    pq.write_table(table, root / "frames.parquet")
    data = (root / "frames.parquet").read_bytes()
    (root / "frames.parquet").write_bytes(data[: len(data) // 2])
    problems = verify_build(root)
    assert any(p.startswith("frames.parquet: unreadable Parquet") for p in problems)


def test_a_fifo_where_a_table_should_be_is_not_opened(tmp_path: Path, no_hang: None) -> None:
    root = fake_build(tmp_path)
    (root / "frames.parquet").unlink()
    os.mkfifo(root / "frames.parquet")
    assert "frames.parquet: not a regular file; not read" in verify_build(root)
