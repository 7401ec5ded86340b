"""`talkingub weights import liveportrait DIR`: the released folder (key names and shapes written
from the release's source, `tests/support/liveportrait_release.py`) read with the safe loader,
every tensor mapped by the framework's key map (`talkingub/bench/official/liveportrait.py`),
written as a bench checkpoint that `load_model_weights` reads and that animates."""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path
from typing import Any

import pytest
import torch
import yaml
from click.testing import CliRunner

from talkingub import create_model
from talkingub.bench.checkpoint import load_model_weights
from talkingub.bench.official import BUILTIN, OfficialImportError, import_official
from talkingub.bench.official.importer import flatten, layout_for
from talkingub.bench.official.keymap import apply_rules
from talkingub.bench.official.layout import ReadResult
from talkingub.bench.official.liveportrait import stitching_entries
from talkingub.cli import main
from talkingub.config import load_yaml, set_dotted
from talkingub.models.registry import load_model_config, model_spec
from tests.support.liveportrait_release import (
    RELEASED_FILES,
    Release,
    flat_release,
    released_state_dicts,
    write_release,
)
from tests.unit.models.test_zoo import make_batch

# Our tiny config inside the released formulas: the release fixes the 7x7x7 mask and 7x7
# occlusion kernels and SPADE's 128 hidden channels.
TINY_OVERRIDES = {
    "warping.dense.mask_kernel": 7,
    "warping.dense.occlusion_kernel": 7,
    "decoder.spade_hidden": 128,
}
RULE_COUNT = 101  # the map at the released sizes (one rule per name pattern)


def tiny_config() -> dict[str, Any]:
    data = load_yaml(model_spec("liveportrait").config_path("tiny"))
    for key, value in TINY_OVERRIDES.items():
        set_dotted(data, key, value)
    return data


def release_of(config: Any) -> Release:
    """models.yaml's model_params for our config (the release's sizes for `paper`)."""
    app, warp, dec, st = config.appearance, config.warping, config.decoder, config.stitching
    return Release(
        num_kp=config.num_kp,
        app_expansion=app.block_expansion,
        app_down_blocks=app.num_down_blocks,
        app_max_features=app.max_features,
        reshape_channel=app.reshape_channel,
        reshape_depth=app.reshape_depth,
        num_resblocks=app.num_resblocks,
        dims=tuple(config.motion.dims),
        depths=tuple(config.motion.depths),
        num_bins=config.motion.num_bins,
        warp_expansion=warp.block_expansion,
        warp_max_features=app.max_features,
        warp_down_blocks=warp.num_down_blocks,
        dense_expansion=warp.dense.block_expansion,
        dense_max_features=warp.dense.max_features,
        dense_blocks=warp.dense.num_blocks,
        compress=warp.dense.compress,
        spade_expansion=dec.block_expansion,
        spade_max_features=dec.max_features,
        spade_down_blocks=dec.num_down_blocks,
        spade_out_channels=dec.out_channels,
        stitching_hidden=tuple(st.stitching_hidden),
        lip_hidden=tuple(st.lip_hidden),
        eye_hidden=tuple(st.eyes_hidden),
    )


@pytest.fixture
def tiny_release(tmp_path: Path) -> tuple[Path, dict[str, Any], dict[str, dict[str, Any]]]:
    """(the `pretrained_weights/` folder holding `liveportrait/`, our config, the contents)."""
    data = tiny_config()
    release = release_of(load_model_config("liveportrait", data))
    folder = tmp_path / "pretrained_weights"
    return folder, data, write_release(folder / "liveportrait", release)


def animate(model: Any, frames: int = 2) -> torch.Tensor:
    batch = make_batch(model.config, batch=1)
    driving = batch["driving"][:, None].repeat(1, frames, 1, 1, 1)
    boxes = {
        "source_face_box": batch["source_face_box"],
        "driving_face_box": batch["driving_face_box"][:, None].repeat(1, frames, 1),
    }
    with torch.no_grad():
        return model.animate(batch["source"], driving, **boxes)


def test_liveportrait_is_a_builtin_layout() -> None:
    assert "liveportrait" in BUILTIN
    layout = layout_for("liveportrait")
    assert list(layout.variants) == ["human"]
    assert layout.variants["human"].files == tuple(RELEASED_FILES.values())
    assert layout.sampling.align_corners is False and layout.sampling_applied(None)


def test_the_paper_config_is_the_released_one() -> None:
    assert release_of(load_model_config("liveportrait", "paper")) == Release()


def test_every_released_key_maps_at_the_released_sizes() -> None:
    """The release's names and shapes (meta tensors) through the layout's own flattening and
    key map onto the paper-size model: every tensor exactly once, every network tensor of ours
    filled, only the (unreleased) discriminators left."""
    layout = layout_for("liveportrait")
    released = released_state_dicts()
    contents: dict[str, Any] = {k: v for k, v in released.items() if k in RELEASED_FILES}
    stitching = contents.pop("stitching_retargeting_module")
    contents |= stitching_entries(stitching, RELEASED_FILES["stitching_retargeting_module"])
    with torch.device("meta"):
        model = create_model("liveportrait", "paper")
    flat, entries, ignored, may_stay = flatten(layout, ReadResult(contents, ()), model)
    assert not ignored and all(what.startswith("imported") for what in entries.values())
    rules = layout.rules(model)
    assert len(rules) == RULE_COUNT
    ours = model.state_dict()
    mapped = apply_rules(flat, rules, ours, dict(model.named_buffers()), may_stay)
    assert sorted(mapped.key_map) == sorted(flat_release(released))
    assert not mapped.fixed and not mapped.dropped
    networks = {k for k in ours if not k.startswith("discriminators.")}
    assert set(mapped.key_map.values()) == networks
    assert mapped.left and all(k.startswith("discriminators.") for k in mapped.left)


def test_the_release_folder_imports_end_to_end(
    tmp_path: Path, tiny_release: tuple[Path, dict[str, Any], dict[str, dict[str, Any]]]
) -> None:
    folder, data, contents = tiny_release
    stitching_file = folder / "liveportrait" / RELEASED_FILES["stitching_retargeting_module"]
    extra = torch.load(stitching_file, weights_only=True)
    extra["retarget_extra"] = {"module.mlp.0.weight": torch.ones(2)}  # the loader ignores it
    torch.save(extra, stitching_file)

    out = import_official("liveportrait", folder, out=tmp_path / "lp.pt", config=data)
    model, state = load_model_weights(out)
    source = state["source"]

    official = flat_release(contents)
    assert sorted(source["key_map"]) == sorted(official)  # every released tensor, once
    assert not source["fixed"] and not source["dropped"]
    ours = model.state_dict()
    for key, target in source["key_map"].items():
        assert torch.equal(official[key].to(ours[target].dtype), ours[target]), key
    assert all(k.startswith("discriminators.") for k in source["kept_initial"])
    assert source["ignored"] == [f"{RELEASED_FILES['stitching_retargeting_module']}:retarget_extra"]

    release = folder / "liveportrait"
    assert source["file"] == "liveportrait" and source["sha256"] is None  # per file below
    assert [f["name"] for f in source["files"]] == list(RELEASED_FILES.values())
    assert source["size"] == sum(f["size"] for f in source["files"])
    for record in source["files"]:
        data_bytes = (release / record["name"]).read_bytes()
        assert record["sha256"] == hashlib.sha256(data_bytes).hexdigest()
        assert record["size"] == len(data_bytes)
    assert source["variant"] == "human" and source["repository"] == "KwaiVGI/LivePortrait"
    assert source["sampling"]["align_corners"] is False and source["sampling"]["applied"]
    assert "grid_sample" in source["sampling"]["evidence"]
    assert state["method"] == "liveportrait" and state["build"] is None

    frames = animate(model)
    size = model.config.image_size
    assert frames.shape == (1, 2, 3, size, size) and torch.isfinite(frames).all()


def test_a_flat_folder_of_the_five_files_imports(
    tmp_path: Path, tiny_release: tuple[Path, dict[str, Any], dict[str, dict[str, Any]]]
) -> None:
    folder, data, _ = tiny_release
    flat = tmp_path / "flat"
    flat.mkdir()
    for relative in RELEASED_FILES.values():
        (folder / "liveportrait" / relative).rename(flat / Path(relative).name)
    out = import_official("liveportrait", flat, out=tmp_path / "lp.pt", config=data)
    assert load_model_weights(out)[1]["source"]["variant"] == "human"


def test_a_shape_mismatch_names_the_key(
    tmp_path: Path, tiny_release: tuple[Path, dict[str, Any], dict[str, dict[str, Any]]]
) -> None:
    folder, data, contents = tiny_release
    warping = contents["warping_module"]
    expected = tuple(warping["fourth.weight"].shape)
    warping["fourth.weight"] = torch.zeros(3, 3)
    torch.save(warping, folder / "liveportrait" / RELEASED_FILES["warping_module"])
    with pytest.raises(OfficialImportError) as caught:
        import_official("liveportrait", folder, out=tmp_path / "o.pt", config=data)
    message = str(caught.value)
    assert "official key warping_module.fourth.weight" in message and "(3, 3)" in message
    assert f"our warping.post_proj.weight expects {expected}" in message


def _drop_file(folder: Path, contents: dict[str, Any]) -> None:
    (folder / RELEASED_FILES["spade_generator"]).unlink()


def _unknown_key(folder: Path, contents: dict[str, Any]) -> None:
    state = contents["motion_extractor"] | {"detector.head.weight": torch.ones(2)}
    torch.save(state, folder / RELEASED_FILES["motion_extractor"])


def _no_eye_mlp(folder: Path, contents: dict[str, Any]) -> None:
    state = dict(contents["stitching_retargeting_module"])
    del state["retarget_eye"]
    torch.save(state, folder / RELEASED_FILES["stitching_retargeting_module"])


def _missing_tensor(folder: Path, contents: dict[str, Any]) -> None:
    state = dict(contents["appearance_feature_extractor"])
    del state["second.bias"]
    torch.save(state, folder / RELEASED_FILES["appearance_feature_extractor"])


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (_drop_file, r"lacks base_models/spade_generator\.pth"),
        (_unknown_key, r"motion_extractor\.detector\.head\.weight \(2,\) has no rule"),
        (_no_eye_mlp, r"stitching_retargeting_module\.pth: no retarget_eye state dict"),
        (_missing_tensor, r"our key appearance\.project\.bias .* gets no tensor"),
    ],
)
def test_what_does_not_map_is_named(
    tmp_path: Path,
    tiny_release: tuple[Path, dict[str, Any], dict[str, dict[str, Any]]],
    change: Any,
    expected: str,
) -> None:
    folder, data, contents = tiny_release
    change(folder / "liveportrait", contents)
    with pytest.raises(OfficialImportError, match=expected):
        import_official("liveportrait", folder, out=tmp_path / "o.pt", config=data)


def test_a_file_instead_of_the_folder_is_refused(tmp_path: Path) -> None:
    file = tmp_path / "spade_generator.pth"
    torch.save({}, file)
    with pytest.raises(OfficialImportError, match="the release is a folder"):
        import_official("liveportrait", file, out=tmp_path / "o.pt", config=tiny_config())


def test_cli_import(
    tmp_path: Path, tiny_release: tuple[Path, dict[str, Any], dict[str, dict[str, Any]]]
) -> None:
    folder, data, _ = tiny_release
    config = tmp_path / "tiny-release.yaml"
    config.write_text(yaml.safe_dump(data))
    out = tmp_path / "lp.pt"
    args = ["weights", "import", "liveportrait", str(folder), "-o", str(out), "--config"]
    result = CliRunner().invoke(main, [*args, str(config)])
    assert result.exit_code == 0, result.output
    assert "liveportrait human:" in result.output and str(out) in result.output
    for relative in RELEASED_FILES.values():
        assert f"  {relative} sha256 " in result.output
    assert "retarget_eye: imported into stitching.eyes" in result.output
    assert "align_corners=False" in result.output
    help_text = CliRunner().invoke(main, ["weights", "import", "--help"]).output
    assert "liveportrait" in help_text


@pytest.mark.slow  # the released sizes: ~520 MB of files written, read, mapped and run
def test_the_released_sizes_import_and_run(tmp_path: Path) -> None:
    """The five files at the released sizes in the released layout, imported onto a paper-width
    model (128 px face crops so that the CPU forward is quick)."""
    folder = tmp_path / "liveportrait"
    write_release(folder)
    config = load_model_config("liveportrait", "paper", image_size=128, face_size=128)
    out = import_official("liveportrait", folder, out=tmp_path / "lp.pt", config=config)
    model, state = load_model_weights(out)
    assert model.config.perceptual == "off" and model.config.face_size == 128
    source = state["source"]
    assert len(source["key_map"]) == len(flat_release(released_state_dicts()))
    frames = animate(model, frames=1)
    assert frames.shape == (1, 1, 3, 128, 128) and torch.isfinite(frames).all()


def test_stage2_starts_from_an_imported_release(
    tmp_path: Path, tiny_release: tuple[Path, dict[str, Any], dict[str, dict[str, Any]]]
) -> None:
    """`liveportrait-stitch` reads F, M, W, G from the imported checkpoint."""
    folder, data, contents = tiny_release
    out = import_official("liveportrait", folder, out=tmp_path / "lp.pt", config=data)
    config = load_model_config("liveportrait", data)
    stage2 = dataclasses.replace(config.stage2, stage1_checkpoint=str(out))
    model = create_model("liveportrait-stitch", dataclasses.replace(config, stage2=stage2))
    weight = contents["warping_module"]["fourth.weight"]
    assert torch.equal(model.state_dict()["warping.post_proj.weight"], weight)
