"""Third-party noise routing (`talkingub.io.noise`): what native code writes to fd 2, in this
process or in a child process started meanwhile, lands in the log, not on the terminal, while
Python's `sys.stderr` (the progress bars, error lines) still reaches the terminal; `verbose`
leaves the terminal as it was. Each case runs in a fresh interpreter whose stderr is a pipe,
as a terminal would be fd 2."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from talkingub.io.noise import log_path, route_noise, routing
from talkingub.io.outdir import OutputFolderError

SCRIPT = textwrap.dedent(
    """
    import logging, multiprocessing, os, sys, warnings
    from pathlib import Path
    from talkingub.io.noise import route_noise

    def child():
        os.write(2, b"W0000 from the child, straight to fd 2\\n")

    if __name__ == "__main__":
        log = Path(sys.argv[1])
        with route_noise(log, verbose=sys.argv[2] == "verbose", title="test"):
            os.write(2, b"W0000 from this process, straight to fd 2\\n")
            process = multiprocessing.get_context("spawn").Process(target=child)
            process.start()
            process.join()
            warnings.warn("a protobuf-like UserWarning")
            logging.getLogger("thirdparty").warning("a library's log record")
            print("a progress bar line", file=sys.stderr)
        os.write(2, b"after the routing\\n")
    """
)


def run_script(tmp_path: Path, mode: str) -> tuple[str, str]:
    """(what reached the terminal's stderr, the log's text)."""
    script = tmp_path / "noisy.py"
    script.write_text(SCRIPT)
    log = tmp_path / "out" / "logs" / "test.log"
    repo = Path(__file__).resolve().parents[3]
    env = {**os.environ, "PYTHONPATH": str(repo)}
    done = subprocess.run(
        [sys.executable, str(script), str(log), mode],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=True,
    )
    return done.stderr, log.read_text() if log.is_file() else ""


def test_native_noise_of_this_process_and_its_children_goes_to_the_log(tmp_path: Path) -> None:
    terminal, log = run_script(tmp_path, "quiet")
    assert "W0000" not in terminal
    assert "a protobuf-like UserWarning" not in terminal
    assert "a library's log record" not in terminal
    assert "a progress bar line" in terminal  # Python's sys.stderr: the real terminal
    assert "after the routing" in terminal  # fd 2 is restored
    assert "W0000 from this process" in log and "W0000 from the child" in log
    assert "UserWarning: a protobuf-like UserWarning" in log
    assert "WARNING thirdparty: a library's log record" in log
    assert log.startswith("--- talkingub test ") and "a progress bar line" not in log


def test_verbose_shows_the_noise_and_keeps_python_records_in_the_log(tmp_path: Path) -> None:
    terminal, log = run_script(tmp_path, "verbose")
    assert "W0000 from this process" in terminal and "W0000 from the child" in terminal
    assert "a protobuf-like UserWarning" in terminal
    assert "a library's log record" in terminal
    assert "UserWarning: a protobuf-like UserWarning" in log
    assert "a library's log record" in log


def test_logs_are_appended_never_truncated(tmp_path: Path) -> None:
    log = log_path(tmp_path, "build")
    assert log == tmp_path / "logs" / "build.log"
    log.parent.mkdir()
    log.write_text("an earlier run's lines\n")
    with route_noise(log, title="build"):
        assert routing()
        with route_noise(tmp_path / "inner.log"):  # nested: everything stays in the outer log
            pass
    assert not routing() and not (tmp_path / "inner.log").exists()
    text = log.read_text()
    assert text.startswith("an earlier run's lines\n--- talkingub build ")


def test_a_log_is_never_written_through_a_symbolic_link(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere.txt"
    target.write_text("not a log\n")
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "build.log").symlink_to(target)
    with (
        pytest.raises(OutputFolderError, match="symbolic link"),
        route_noise(log_path(tmp_path, "build")),
    ):
        pass
    assert target.read_text() == "not a log\n"


def test_torchrun_ranks_write_their_own_logs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RANK", "3")
    assert log_path(Path("/o"), "eval") == Path("/o/logs/eval-rank3.log")
