"""Which OSErrors stop a run (`EnvironmentStop`) and which stay a row's failure; the stop
survives pickling (it travels from worker processes and Ray tasks to the parent)."""

from __future__ import annotations

import errno
import os
import pickle
from pathlib import Path

import pytest

from talkingub.errors import (
    EnvironmentStop,
    ReasonedError,
    TalkingubError,
    environment_stop,
    stop_on_environment_error,
)

OUT = Path("/data/out")


def oserror(code: int, filename: str | None = None, filename2: str | None = None) -> OSError:
    if filename is None:
        return OSError(code, os.strerror(code))
    return OSError(code, os.strerror(code), filename, None, filename2)  # 4th: winerror


def test_message_names_errno_path_and_the_way_on() -> None:
    stop = EnvironmentStop("/data/out/work/v/clips/.tmp-1-c.mp4", errno.ENOSPC)
    assert isinstance(stop, TalkingubError) and stop.exit_code == 3
    assert str(stop) == (
        "no space left on device (ENOSPC) writing /data/out/work/v/clips/.tmp-1-c.mp4: "
        "the run stopped; free space and run again to resume"
    )
    assert "(EFBIG)" in str(EnvironmentStop("/x", errno.EFBIG))
    assert "ulimit -f" in str(EnvironmentStop("/x", errno.EFBIG))


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EFBIG, errno.EACCES])
def test_pickles_with_its_fields(code: int) -> None:
    stop = EnvironmentStop("/data/out/x", code)
    back = pickle.loads(pickle.dumps(stop))
    assert type(back) is EnvironmentStop
    assert (back.path, back.errno, str(back)) == (stop.path, stop.errno, str(stop))


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS])
def test_write_errors_stop_wherever_they_come_from(code: int) -> None:
    # a failed write() reports no path: named by the fallback (the folder being written)
    stop = environment_stop(oserror(code), OUT, fallback=OUT / "work" / "v")
    assert stop is not None and (stop.path, stop.errno) == ("/data/out/work/v", code)
    elsewhere = environment_stop(oserror(code, "/tmp/lib-scratch"), OUT)
    assert elsewhere is not None and elsewhere.path == "/tmp/lib-scratch"


@pytest.mark.parametrize("code", [errno.EACCES, errno.EPERM])
def test_access_errors_stop_only_inside_out(code: int) -> None:
    source = oserror(code, "/videos/private.mp4")  # an unreadable source: the row's failure
    assert environment_stop(source, OUT) is None
    assert environment_stop(oserror(code), OUT, fallback=OUT) is None  # no path: the row's
    assert environment_stop(oserror(code, "/data/out/work/v/x"), None) is None
    stop = environment_stop(oserror(code, "/data/out/work/v/analysis.json"), OUT)
    assert stop is not None and stop.path == "/data/out/work/v/analysis.json"


def test_copy_errors_are_named_by_their_path_inside_out() -> None:
    # shutil.copyfile reports the source as filename and the destination as filename2
    copy = oserror(errno.EACCES, "/videos/a.mp4", "/data/out/raw/.tmp-1-a.mp4")
    stop = environment_stop(copy, OUT)
    assert stop is not None and stop.path == "/data/out/raw/.tmp-1-a.mp4"
    full = oserror(errno.ENOSPC, "/videos/a.mp4", "/data/out/raw/.tmp-1-a.mp4")
    stop = environment_stop(full, OUT)
    assert stop is not None and stop.path == "/data/out/raw/.tmp-1-a.mp4"


def test_relative_out_and_absolute_path_agree(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    inside = oserror(errno.EACCES, str(tmp_path / "out" / "work" / "f"))
    assert environment_stop(inside, Path("out")) is not None
    assert environment_stop(inside, Path("other")) is None


def test_causes_are_followed_and_other_errors_ignored() -> None:
    try:
        try:
            raise oserror(errno.ENOSPC)
        except OSError as exc:
            raise ReasonedError("corrupt", "could not write") from exc
    except ReasonedError as wrapped:
        stop = environment_stop(wrapped, OUT, fallback=OUT)
    assert stop is not None and stop.errno == errno.ENOSPC

    class DownloadError(Exception):  # yt-dlp keeps the cause in `exc_info`
        def __init__(self, cause: BaseException) -> None:
            super().__init__("unable to write data")
            self.exc_info = (type(cause), cause, None)

    assert environment_stop(DownloadError(oserror(errno.EDQUOT)), OUT) is not None
    assert environment_stop(oserror(errno.ENOENT, "/data/out/x"), OUT) is None
    assert environment_stop(ValueError("bad frame"), OUT) is None


def test_guard_converts_and_lets_others_through(tmp_path: Path) -> None:
    with pytest.raises(EnvironmentStop) as info, stop_on_environment_error(tmp_path):
        raise oserror(errno.EROFS)
    assert info.value.path == str(tmp_path) and info.value.errno == errno.EROFS
    with pytest.raises(PermissionError), stop_on_environment_error(tmp_path):
        raise PermissionError(errno.EACCES, "Permission denied", "/videos/a.mp4")
