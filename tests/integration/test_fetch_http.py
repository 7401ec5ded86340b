"""yt-dlp (generic extractor) fetching real videos from a loopback HTTP server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from talkingub.fetch import FetchConfig, run
from talkingub.video.probe import probe_video
from tests.support.loopback_http import LoopbackServer, Route, serve


@pytest.fixture(scope="module")
def server(presenter_chest_up_mp4: Path, swalwell_mp4: Path) -> Iterator[LoopbackServer]:
    presenter = presenter_chest_up_mp4.read_bytes()
    routes = {
        "/v/presenter.mp4": Route(body=presenter),
        "/v/swalwell.mp4": Route.file(swalwell_mp4),
        "/v/stall.mp4": Route(body=presenter, stall=4.0),
        "/v/text.mp4": Route(body=b"<html>not a video</html>" * 50, content_type="video/mp4"),
        "/v/empty.mp4": Route(body=b""),
        "/v/truncated.mp4": Route(body=presenter[: len(presenter) // 3]),
        "/v/gone.mp4": Route(status=410),
        # misbehaving bodies (issue 15, defect 4)
        "/v/cut.mp4": Route(body=presenter, truncate_to=len(presenter) // 3),
        "/v/stall-body.mp4": Route(body=presenter, stall_body=3.0),
        "/v/stall-mid.mp4": Route(body=presenter, stall_body=3.0, stall_after=len(presenter) // 3),
        "/v/no-length.mp4": Route(body=presenter, content_length=False),
        "/v/swalwell-no-length.mp4": Route.file(swalwell_mp4, content_length=False),
    }
    with serve(routes) as srv:
        yield srv


def manifest(tmp_path: Path, rows: list[str]) -> Path:
    path = tmp_path / "manifest.csv"
    path.write_text("video_id,url,start,end,identity\n" + "\n".join(rows) + "\n")
    return path


def fetch(tmp_path: Path, path: Path, **kw: object) -> pd.DataFrame:
    settings: dict[str, object] = {"socket_timeout": 1.5, "retries": 0, "backoff_base": 0.05}
    cfg = FetchConfig(
        manifest=path,
        out_dir=tmp_path / "out",
        progress=False,
        **{**settings, **kw},  # type: ignore[arg-type]
    )
    summary = run(cfg)
    return pd.read_parquet(summary.table).set_index("video_id")


def test_full_and_section_downloads_record_probed_stream_facts(
    tmp_path: Path, server: LoopbackServer
) -> None:
    url = server.url("/v/presenter.mp4")
    df = fetch(tmp_path, manifest(tmp_path, [f"full,{url},,,man", f"cut,{url},1.0,3.0,man"]))
    assert (df["status"] == "ok").all(), df[["reason", "error"]]
    for vid in ("full", "cut"):
        row = df.loc[vid]
        probe = probe_video(tmp_path / "out" / row["path"])
        assert (row["width"], row["height"]) == (probe.width, probe.height) == (700, 700)
        assert row["vcodec"] == probe.vcodec == "h264"
        assert row["fps"] == pytest.approx(probe.fps)
        assert row["duration"] == pytest.approx(probe.duration)
        assert row["backend"] == "ytdlp" and row["format_id"]
    assert df.loc["full", "duration"] == pytest.approx(6.1, abs=0.1)
    assert 1.5 < df.loc["cut", "duration"] < 3.5  # keyframe-aligned section of 2 s
    assert df.loc["cut", "section_start"] == 1.0


def test_each_failure_gets_its_reason_and_other_rows_succeed(
    tmp_path: Path, server: LoopbackServer
) -> None:
    rows = [
        f"ok1,{server.url('/v/swalwell.mp4')},,,sw",
        f"missing,{server.url('/v/nothing-here.mp4')},,,x",
        f"gone,{server.url('/v/gone.mp4')},,,x",
        f"stall,{server.url('/v/stall.mp4')},,,x",
        f"text,{server.url('/v/text.mp4')},,,x",
        f"empty,{server.url('/v/empty.mp4')},,,x",
        f"trunc,{server.url('/v/truncated.mp4')},,,x",
    ]
    df = fetch(tmp_path, manifest(tmp_path, rows))
    assert len(df) == len(rows)
    reasons = df["reason"].to_dict()
    assert reasons == {
        "ok1": "fetched",
        "missing": "not_found",
        "gone": "not_found",
        "stall": "timeout",
        "text": "not_a_video",
        "empty": "empty_file",
        "trunc": "corrupt",
    }
    failed = df[df["status"] == "failed"]
    assert failed["error"].str.len().gt(0).all()
    assert not any(
        p.name.startswith(("text", "empty", "trunc")) for p in (tmp_path / "out" / "raw").iterdir()
    )


def test_transient_failures_are_retried_with_backoff(
    tmp_path: Path, server: LoopbackServer
) -> None:
    path = manifest(tmp_path, [f"stall,{server.url('/v/stall.mp4')},,,x"])
    cfg = FetchConfig(
        manifest=path,
        out_dir=tmp_path / "out",
        progress=False,
        socket_timeout=1.0,
        retries=2,
        backoff_base=0.05,
    )
    df = pd.read_parquet(run(cfg).table)
    assert df.loc[0, "attempts"] == 3 and df.loc[0, "reason"] == "timeout"


def test_body_cut_short_is_network_and_retried(tmp_path: Path, server: LoopbackServer) -> None:
    """Content-Length declares the whole file, a third is sent, then the connection closes."""
    path = manifest(tmp_path, [f"cut,{server.url('/v/cut.mp4')},,,x"])
    df = fetch(tmp_path, path, retries=2, socket_timeout=1.0)
    row = df.loc["cut"]
    assert (row["status"], row["reason"], row["attempts"]) == ("failed", "network", 3)
    assert (
        "more expected" in row["error"]
    )  # yt-dlp's IncompleteRead: "N bytes read, M more expected"
    assert "\r" not in row["error"]
    assert not any(p.is_file() for p in (tmp_path / "out" / "raw").glob("cut*"))


@pytest.mark.parametrize("route", ["/v/stall-body.mp4", "/v/stall-mid.mp4"])
def test_body_that_stalls_is_timeout_and_retried(
    tmp_path: Path, server: LoopbackServer, route: str
) -> None:
    """The headers come at once, then the body stalls (from its first byte, or a third in)
    past --socket-timeout."""
    path = manifest(tmp_path, [f"stalled,{server.url(route)},,,x"])
    df = fetch(tmp_path, path, retries=1, socket_timeout=0.5)
    row = df.loc["stalled"]
    assert (row["status"], row["reason"], row["attempts"]) == ("failed", "timeout", 2)
    assert "timed out" in row["error"]
    assert not any(p.is_file() for p in (tmp_path / "out" / "raw").glob("stalled*"))


def test_body_over_max_filesize_is_too_large_with_and_without_content_length(
    tmp_path: Path, server: LoopbackServer, presenter_chest_up_mp4: Path, swalwell_mp4: Path
) -> None:
    big, small = presenter_chest_up_mp4.stat().st_size, swalwell_mp4.stat().st_size
    limit = (big + small) // 2
    rows = [
        f"declared,{server.url('/v/presenter.mp4')},,,x",
        f"undeclared,{server.url('/v/no-length.mp4')},,,x",
        f"small,{server.url('/v/swalwell.mp4')},,,sw",
        f"small_undeclared,{server.url('/v/swalwell-no-length.mp4')},,,sw",
    ]
    df = fetch(tmp_path, manifest(tmp_path, rows), retries=2, max_filesize=limit)
    assert df["reason"].to_dict() == {
        "declared": "too_large",
        "undeclared": "too_large",
        "small": "fetched",
        "small_undeclared": "fetched",
    }, df[["reason", "error"]]
    assert (df["attempts"] == 1).all()  # not transient: never retried
    assert df.loc["declared", "error"] == (
        f"too_large: the server declared {big} bytes > max_filesize {limit}"
    )
    undeclared = df.loc["undeclared", "error"]
    assert undeclared.startswith("too_large: ") and f"> max_filesize {limit}" in undeclared
    assert "no size declared" in undeclared
    assert df.loc["small_undeclared", "file_size"] == small
    raw = tmp_path / "out" / "raw"
    assert sorted(p.name for p in raw.glob("*") if p.is_file()) == [
        "small.mp4",
        "small_undeclared.mp4",
    ]
    # nothing of the refused bodies is kept for a resume either
    assert not any((raw / ".partial").glob("*declared*"))


def test_rerun_reuses_verified_files_without_downloading(
    tmp_path: Path, server: LoopbackServer
) -> None:
    path = manifest(tmp_path, [f"sw,{server.url('/v/swalwell.mp4')},,,sw"])
    first = fetch(tmp_path, path)
    hits = server.hits("/v/swalwell.mp4")
    cfg = FetchConfig(manifest=path, out_dir=tmp_path / "out", progress=False)
    summary = run(cfg)
    assert summary.reused == 1
    assert server.hits("/v/swalwell.mp4") == hits
    second = pd.read_parquet(summary.table).set_index("video_id")
    pd.testing.assert_frame_equal(first, second)
    # a tampered file is not trusted: it is fetched again
    (tmp_path / "out" / first.loc["sw", "path"]).write_bytes(b"tampered")
    assert run(cfg).reused == 0
    assert server.hits("/v/swalwell.mp4") > hits


def test_dry_run_probes_availability_and_downloads_nothing(
    tmp_path: Path, server: LoopbackServer, presenter_chest_up_mp4: Path
) -> None:
    rows = [
        f"remote,{server.url('/v/swalwell.mp4')},,,sw",
        f"gone,{server.url('/v/gone.mp4')},,,x",
        f"local,{presenter_chest_up_mp4},,,man",
    ]
    cfg = FetchConfig(
        manifest=manifest(tmp_path, rows),
        out_dir=tmp_path / "out",
        progress=False,
        socket_timeout=1.5,
        retries=0,
        dry_run=True,
    )
    summary = run(cfg)
    assert summary.table.name == "fetch-dryrun.parquet"
    df = pd.read_parquet(summary.table).set_index("video_id")
    assert df["reason"].to_dict() == {"remote": "dry_run", "gone": "not_found", "local": "dry_run"}
    assert (df.loc["local", "width"], df.loc["local", "height"]) == (700, 700)
    assert not any(p.is_file() for p in (tmp_path / "out" / "raw").rglob("*"))
    assert not (tmp_path / "out" / "fetch.parquet").exists()


def test_proxy_and_cookies_reach_the_server(tmp_path: Path, server: LoopbackServer) -> None:
    """--proxy: the only route to the made-up host is through the loopback proxy;
    --cookies: the Netscape cookie file's cookie is sent with the request."""
    cookies = tmp_path / "cookies.txt"
    cookies.write_text(
        "# Netscape HTTP Cookie File\n"
        "video.invalid\tFALSE\t/\tFALSE\t4102444800\tsession\tsecret-token\n"
    )
    url = "http://video.invalid/v/swalwell.mp4"
    df = fetch(
        tmp_path,
        manifest(tmp_path, [f"proxied,{url},,,eric"]),
        proxy=server.url("").rstrip("/"),
        cookies=cookies,
    )
    assert df.loc["proxied", "status"] == "ok", df[["reason", "error"]]
    assert any(p.startswith("http://video.invalid/v/swalwell.mp4") for p in server.proxied)
    assert any("session=secret-token" in c for c in server.cookies)
