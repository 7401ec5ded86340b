"""A manifest without rows is refused before anything is fetched or built (issue 18)."""

from __future__ import annotations

from pathlib import Path

import pytest

from talkingub.curate import BuildRun
from talkingub.curate import run as run_build
from talkingub.errors import ManifestError
from talkingub.fetch import FetchConfig, run
from talkingub.manifest.reader import EmptyManifestError


@pytest.fixture(params=["header.csv", "empty.txt"])
def empty_manifest(tmp_path: Path, request: pytest.FixtureRequest) -> Path:
    path = tmp_path / str(request.param)
    path.write_text("video_id,url,identity\n" if path.suffix == ".csv" else "# nothing\n")
    return path


@pytest.mark.parametrize("on_invalid_row", ["error", "skip"])
def test_fetch_refuses_a_manifest_without_rows_and_writes_nothing(
    tmp_path: Path, empty_manifest: Path, on_invalid_row: str
) -> None:
    out = tmp_path / "out"
    config = FetchConfig(
        manifest=empty_manifest,
        out_dir=out,
        on_invalid_row=on_invalid_row,  # type: ignore[arg-type]
        progress=False,
    )
    with pytest.raises(EmptyManifestError) as err:
        run(config)
    assert str(err.value) == f"manifest {empty_manifest} has no rows"
    assert err.value.exit_code == 2
    assert not out.exists()


def test_build_refuses_a_manifest_without_rows(tmp_path: Path, empty_manifest: Path) -> None:
    out = tmp_path / "out"
    fetch = FetchConfig(manifest=empty_manifest, out_dir=out, progress=False)
    with pytest.raises(ManifestError, match="has no rows"):
        run_build(BuildRun(out_dir=out, fetch=fetch, executor="serial", progress=False))
    assert not (out / "fetch.parquet").exists() and not (out / "stats.json").exists()
