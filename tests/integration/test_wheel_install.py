"""The package as a user installs it: a wheel built from the source tree, installed into a fresh
virtual environment outside the checkout, runs `talkingub build` on real peer videos and
`talkingub bench run --protocol tiny-cpu` on that build from a folder that is not the
checkout. The presets (recipe, protocols, paper numbers) and the zoo's model configs must come
from the installed package, not from the source tree beside it.

The fresh environment gets the third-party dependencies by a path entry pointing at the test
environment's site-packages (installing torch and MediaPipe again would take minutes and need
the registry); talkingub itself comes only from the wheel: the source tree's editable-install
hook is not active there, and the commands run in a temporary folder.
"""

from __future__ import annotations

import os
import shutil
import site
import subprocess
import sys
import venv
from pathlib import Path

import pytest
import yaml

from talkingub.config import to_dict
from tests.support.recipes import MECHANICS

REPO = Path(__file__).resolve().parents[2]
SOURCE_FILES = ("pyproject.toml", "README.md")

pytestmark = [pytest.mark.slow, pytest.mark.peers]


def _copy_source(target: Path) -> Path:
    """pyproject, README and the package, without caches or build leftovers."""
    target.mkdir()
    for name in SOURCE_FILES:
        shutil.copy2(REPO / name, target / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    shutil.copytree(REPO / "talkingub", target / "talkingub", ignore=ignore)
    return target


def _build_wheel(source: Path, dist: Path) -> Path:
    cmd = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation"]
    cmd += ["--disable-pip-version-check", "-q", "-w", str(dist), str(source)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    (wheel,) = dist.glob("talkingub-*.whl")
    return wheel


def _fresh_env(folder: Path, wheel: Path) -> Path:
    """A new venv holding only the wheel; dependencies reachable through a .pth path entry."""
    venv.EnvBuilder(with_pip=True).create(folder)
    python = folder / "bin" / "python"
    cmd = [str(python), "-m", "pip", "install", "--no-deps", "--no-index", "-q", str(wheel)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    probe = [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]
    purelib = Path(subprocess.check_output(probe, text=True).strip())
    (purelib / "zz_test_dependencies.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    return folder / "bin"


def _run(bin_dir: Path, args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    return subprocess.run(
        [str(bin_dir / args[0]), *args[1:]],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )


@pytest.fixture(scope="module")
def wheel_env(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("wheel")
    wheel = _build_wheel(_copy_source(root / "src"), root / "dist")
    return _fresh_env(root / "venv", wheel)


def test_wheel_holds_the_presets_and_imports_from_itself(wheel_env: Path, tmp_path: Path) -> None:
    code = (
        "import talkingub, talkingub.zoo; from talkingub.presets import preset_names; "
        "print(talkingub.__file__); print(talkingub.zoo.__file__); "
        "print(*[preset_names(k) for k in ('recipes', 'protocols', 'paper')], sep=';')"
    )
    done = _run(wheel_env, ["python", "-c", code], tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    package, zoo, presets = done.stdout.strip().splitlines()
    venv_root = wheel_env.parent.resolve()
    assert Path(package).resolve().is_relative_to(venv_root), package
    assert Path(zoo).resolve().is_relative_to(venv_root), zoo
    shipped = [
        sorted(f.stem for f in (REPO / "talkingub" / "presets" / kind).glob("*.yaml"))
        for kind in ("recipes", "protocols", "paper")
    ]
    assert presets == ";".join(map(str, shipped))
    assert "tiny-cpu" in shipped[1] and shipped[0] == ["talking-ub"]


def test_wheel_cli_builds_and_benches(
    wheel_env: Path,
    tmp_path: Path,
    presenter_chest_up_mp4: Path,
    swalwell_mp4: Path,
    aoc_wide_mp4: Path,
) -> None:
    rows = ["video_id,url,identity,split"]
    for vid, path, split in (
        ("presenter", presenter_chest_up_mp4, "train"),
        ("swalwell", swalwell_mp4, "test"),
        ("aoc-wide", aoc_wide_mp4, "test"),
    ):
        rows.append(f"{vid},{path},{vid},{split}")
    (tmp_path / "manifest.csv").write_text("\n".join(rows) + "\n")
    (tmp_path / "recipe.yaml").write_text(yaml.safe_dump(to_dict(MECHANICS)))
    build = ["talkingub", "build", "manifest.csv", "-o", "tub", "--recipe", "recipe.yaml"]
    done = _run(wheel_env, [*build, "--no-progress"], tmp_path)
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    assert (tmp_path / "tub" / "clips.parquet").is_file()

    bench = ["talkingub", "bench", "run", "tub", "-o", "bench", "--protocol", "tiny-cpu"]
    bench += ["--methods", "fomm", "--steps", "2", "--device", "cpu", "--no-progress"]
    done = _run(wheel_env, bench, tmp_path)
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    assert (tmp_path / "bench" / "fomm" / "seed-0" / "final.pt").is_file()
    assert list((tmp_path / "bench" / "tables").glob("*.md")), done.stdout[-2000:]
