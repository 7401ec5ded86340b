from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from talkingub.errors import ManifestError
from talkingub.manifest.reader import EmptyManifestError, derive_video_id, read_source_manifest


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


@pytest.mark.parametrize(
    "content",
    [b"video_id,url\na,https://e.org/a.mp4\n", b"", b"PAR1 but not really PAR1"],
    ids=["csv-text", "empty", "bad-footer"],
)
def test_a_parquet_name_on_something_else_is_one_line_naming_the_file(
    tmp_path: Path, content: bytes
) -> None:
    path = tmp_path / "m.parquet"
    path.write_bytes(content)
    with pytest.raises(ManifestError) as err:
        read_source_manifest(path, strict=False)  # not a row problem: refused in any mode
    message = str(err.value)
    assert message.startswith("manifest: cannot read m.parquet as Parquet: ")
    assert "\n" not in message
    assert err.value.row is None and err.value.column is None


def parquet(tmp_path: Path, columns: dict[str, pa.Array]) -> Path:
    path = tmp_path / "typed.parquet"
    pq.write_table(pa.table(columns), path)
    return path


URLS = pa.array(["https://e.org/a.mp4", "https://e.org/b.mp4"])


@pytest.mark.parametrize(
    ("columns", "column", "found", "expected"),
    [
        ({"url": pa.array([1, 2])}, "url", "int64", "string"),
        (
            {"url": URLS, "identity": pa.array([["a"], ["b", "c"]])},
            "identity",
            "list<element: string>",
            "string",
        ),
        ({"url": URLS, "video_id": pa.array([1.5, 2.5])}, "video_id", "double", "string"),
        (
            {"url": URLS, "notes": pa.array([{"k": 1}, {"k": 2}])},
            "notes",
            "struct<k: int64>",
            "string",
        ),
        ({"url": URLS, "start": pa.array(["1", "2"])}, "start", "string", "float64"),
        ({"url": URLS, "end": pa.array([True, False])}, "end", "bool", "float64"),
    ],
)
def test_a_parquet_column_of_the_wrong_type_is_refused_naming_column_and_types(
    tmp_path: Path, columns: dict[str, pa.Array], column: str, found: str, expected: str
) -> None:
    with pytest.raises(ManifestError) as err:
        read_source_manifest(parquet(tmp_path, columns), strict=False)
    assert err.value.column == column and err.value.row is None
    assert str(err.value) == (
        f"manifest column '{column}': Arrow type {found} found, expected {expected}"
        + (" (or any integer or floating-point type)" if expected == "float64" else "")
    )


def test_parquet_numbers_of_any_width_and_strings_with_nulls_are_accepted(tmp_path: Path) -> None:
    columns = {
        "video_id": pa.array(["a", "b"], pa.large_string()),
        "url": URLS,
        "start": pa.array([1, None], pa.int32()),
        "end": pa.array([2.5, None], pa.float32()),
        "identity": pa.array(["p", None]).dictionary_encode(),  # a pandas categorical
        "notes": pa.array([None, "hi"]),
        "license": pa.array([None, None], pa.null()),  # an all-null column
    }
    rows, problems = read_source_manifest(parquet(tmp_path, columns))
    assert problems == []
    assert [(r.video_id, r.start, r.end, r.identity, r.notes) for r in rows] == [
        ("a", 1.0, 2.5, "p", None),
        ("b", None, None, "b", "hi"),
    ]


def test_csv_numbers_stay_checked_per_row_not_per_column(tmp_path: Path) -> None:
    """The Parquet type check leaves CSV alone: a word in `end` is a row error there."""
    path = write_csv(
        tmp_path, "video_id,url,end\na,https://e.org/a.mp4,3\nb,https://e.org/b.mp4,soon\n"
    )
    rows, problems = read_source_manifest(path, strict=False)
    assert [r.video_id for r in rows] == ["a"]
    assert [(p.row, p.column) for p in problems] == [(2, "end")]


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        (b"video_id,url\na,https://e.org/a.mp4\n", "cannot read m.parquet as Parquet"),
        (None, "column 'url': Arrow type int64 found, expected string"),
    ],
    ids=["not-parquet", "wrong-type"],
)
def test_cli_reports_a_bad_parquet_manifest_in_one_line_with_exit_code_2(
    tmp_path: Path, content: bytes | None, needle: str
) -> None:
    from click.testing import CliRunner

    from talkingub.cli import main

    path = tmp_path / "m.parquet"
    if content is None:
        pq.write_table(pa.table({"url": pa.array([7])}), path)
    else:
        path.write_bytes(content)
    result = CliRunner().invoke(main, ["fetch", str(path), "-o", str(tmp_path / "out")])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and not isinstance(result.exception, ManifestError)
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: manifest") and needle in lines[0]


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("m.csv", "video_id,url,identity\n"),
        ("m.tsv", "video_id\turl\n"),
        ("urls.txt", ""),
        ("urls.txt", "# only a comment\n\n   \n"),
    ],
    ids=["csv-header-only", "tsv-header-only", "empty-list", "comments-only-list"],
)
@pytest.mark.parametrize("strict", [True, False])
def test_a_manifest_without_rows_is_refused_in_any_mode(
    tmp_path: Path, name: str, content: str, strict: bool
) -> None:
    path = write_csv(tmp_path, content, name)
    with pytest.raises(ManifestError) as err:
        read_source_manifest(path, strict=strict)
    assert isinstance(err.value, EmptyManifestError)
    assert str(err.value) == f"manifest {path} has no rows"
    assert err.value.row is None and err.value.column is None


def test_a_parquet_manifest_without_rows_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "m.parquet"
    pq.write_table(pa.table({"url": pa.array([], pa.string())}), path)
    with pytest.raises(EmptyManifestError, match="has no rows"):
        read_source_manifest(path)
