from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from talkingub.errors import ManifestError
from talkingub.manifest.reader import derive_video_id, read_source_manifest


def write_csv(tmp_path: Path, body: str, name: str = "m.csv") -> Path:
    path = tmp_path / name
    path.write_text(body, encoding="utf-8")
    return path


GOOD = "video_id,url,identity,split,start,end\na,https://example.org/a.mp4,p1,train,1,5\n"


def test_reads_good_csv_and_resolves_relative_paths(tmp_path: Path) -> None:
    path = write_csv(tmp_path, GOOD + "b,clips/b.mp4,p2,test,,\n")
    rows, problems = read_source_manifest(path)
    assert problems == []
    assert [r.video_id for r in rows] == ["a", "b"]
    assert rows[0].start == 1.0 and rows[0].end == 5.0 and rows[0].split == "train"
    assert rows[1].url == str(tmp_path / "clips" / "b.mp4")


def test_parquet_and_url_list(tmp_path: Path) -> None:
    table = pa.table({"video_id": ["x"], "url": ["https://e.org/x.mp4"], "identity": ["p"]})
    pq.write_table(table, tmp_path / "m.parquet")
    rows, _ = read_source_manifest(tmp_path / "m.parquet")
    assert rows[0].identity == "p"
    listing = write_csv(
        tmp_path, "# comment\nhttps://www.youtube.com/watch?v=dQw4w9WgXcQ\n\n", "urls.txt"
    )
    rows, _ = read_source_manifest(listing)
    assert rows[0].video_id == "dQw4w9WgXcQ" and rows[0].identity == "dQw4w9WgXcQ"


@pytest.mark.parametrize(
    ("body", "row", "column"),
    [
        ("video_id,identity\na,p\n", None, "url"),
        ("url,colour\nhttps://e.org/a.mp4,red\n", None, "colour"),
        (GOOD + "a,https://e.org/b.mp4,p,,,\n", 2, "video_id"),
        ("video_id,url\n../x,https://e.org/a.mp4\n", 1, "video_id"),
        ("video_id,url\n/etc/passwd,https://e.org/a.mp4\n", 1, "video_id"),
        ("video_id,url\na,ftp://e.org/a.mp4\n", 1, "url"),
        ("video_id,url\na,javascript:alert(1)\n", 1, "url"),
        ("video_id,url\na,https:///a.mp4\n", 1, "url"),
        ("video_id,url\na,\n", 1, "url"),
        ("video_id,url,start,end\na,https://e.org/a.mp4,5,5\n", 1, "start"),
        ("video_id,url,start\na,https://e.org/a.mp4,-1\n", 1, "start"),
        ("video_id,url,end\na,https://e.org/a.mp4,soon\n", 1, "end"),
        ("video_id,url,split\na,https://e.org/a.mp4,val\n", 1, "split"),
    ],
)
def test_each_validation_rule_names_row_and_column(
    tmp_path: Path, body: str, row: int | None, column: str
) -> None:
    with pytest.raises(ManifestError) as err:
        read_source_manifest(write_csv(tmp_path, body))
    assert err.value.column == column
    assert err.value.row == row
    assert f"column '{column}'" in str(err.value)
    if row is not None:
        assert f"row {row}" in str(err.value)


def test_lenient_mode_returns_problems_and_good_rows(tmp_path: Path) -> None:
    body = GOOD + "../evil,https://e.org/e.mp4,p,,,\nc,ftp://e.org/c.mp4,p,,,\n"
    rows, problems = read_source_manifest(write_csv(tmp_path, body), strict=False)
    assert [r.video_id for r in rows] == ["a"]
    assert [(p.row, p.column) for p in problems] == [(2, "video_id"), (3, "url")]


def test_non_utf8_text_is_replaced_not_fatal(tmp_path: Path) -> None:
    path = tmp_path / "latin.csv"
    path.write_bytes(b"video_id,url,notes\na,https://e.org/a.mp4,caf\xe9 \xff\n")
    rows, _ = read_source_manifest(path)
    assert rows[0].notes == "caf\ufffd \ufffd"


def test_derived_ids_are_stable_and_safe() -> None:
    url = "https://cdn.example.org/some dir/My Talk (2020).mp4"
    first, second = derive_video_id(url), derive_video_id(url)
    assert first == second
    assert "/" not in first and " " not in first
    assert derive_video_id("https://youtu.be/dQw4w9WgXcQ") == "dQw4w9WgXcQ"
