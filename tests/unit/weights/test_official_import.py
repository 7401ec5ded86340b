"""`talkingub weights import METHOD FILE`: official FOMM, MRAA, TPSMM and LIA checkpoints (files
built here in the official layouts, `tests/support/official_layouts.py`) mapped key by key onto
our models, written as bench checkpoints that `load_model_weights` reads and that run.
LivePortrait's release folder: test_liveportrait_import.py (every layout's variants resolve
here)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
import torch
from click.testing import CliRunner

from talkingub.bench.checkpoint import load_model_weights
from talkingub.bench.official import (
    LAYOUTS,
    OfficialImportError,
    Rule,
    default_output,
    import_official,
)
from talkingub.bench.official.importer import layout_for, resolve_config
from talkingub.bench.official.keymap import apply_rules
from talkingub.cli import main
from talkingub.config import load_yaml, set_dotted
from talkingub.models.registry import model_spec
from tests.support.official_files import write_official

ALIGN_CORNERS = {"fomm": True, "mraa": False, "tpsmm": True, "lia": False, "liveportrait": False}
# Our tiny configs, with the few changes that keep them inside the official formulas
# (TPSMM's inpainting up blocks are max_features / 2, / 4, / 8: block_expansion = max / 8).
TINY = [
    ("fomm", "vox", {}),
    ("fomm", "taichi", {"discriminator.sn": False}),
    ("mraa", "vox", {"region_predictor.pad": 3}),
    ("mraa", "ted", {}),
    ("tpsmm", "vox", {"inpainting.block_expansion": 8}),
    ("tpsmm", "ted", {"inpainting.block_expansion": 8}),
    ("lia", "vox", {}),
    ("lia", "ted", {}),
]


def tiny_config(method: str, overrides: dict[str, Any]) -> dict[str, Any]:
    data = load_yaml(model_spec(method).config_path("tiny"))
    data.pop("sources", None)
    for key, value in overrides.items():
        set_dotted(data, key, value)
    return data


def official_file(tmp_path: Path, method: str, data: dict[str, Any], name: str) -> Path:
    from talkingub.models.registry import load_model_config

    path = tmp_path / name
    write_official(path, method, load_model_config(method, data))
    return path


def flat_official(path: Path) -> dict[str, torch.Tensor]:
    contents = torch.load(path, weights_only=False)
    return {
        f"{entry}.{key}": value
        for entry, module in contents.items()
        if isinstance(module, dict) and "param_groups" not in module
        for key, value in module.items()
    }


@pytest.mark.parametrize(("method", "variant", "overrides"), TINY)
def test_every_official_key_maps_and_the_import_runs(
    tmp_path: Path, method: str, variant: str, overrides: dict[str, Any]
) -> None:
    data = tiny_config(method, overrides)
    file = official_file(tmp_path, method, data, f"{variant}-official.pth")
    out = import_official(method, file, variant=variant, out=tmp_path / "out.pt", config=data)
    model, state = load_model_weights(out)
    source = state["source"]

    official = flat_official(file)
    accounted = [*source["key_map"], *source["fixed"], *source["dropped"]]
    assert sorted(accounted) == sorted(official)  # every tensor of the file, exactly once
    assert source["kept_initial"] == []
    ours = model.state_dict()
    for key, target in source["key_map"].items():
        assert torch.equal(official[key].reshape(ours[target].shape), ours[target]), key
    assert set(ours) <= set(source["key_map"].values()) | set(source["fixed"].values())

    assert source["file"] == file.name
    assert source["sha256"] == hashlib.sha256(file.read_bytes()).hexdigest()
    assert source["variant"] == variant and source["repository"] == LAYOUTS.get(method).repository
    assert source["sampling"] == {**source["sampling"], "align_corners": ALIGN_CORNERS[method]}
    assert source["sampling"]["applied"] and model.config.align_corners is ALIGN_CORNERS[method]
    assert state["method"] == method and state["build"] is None

    size = model.config.image_size
    source_image = torch.rand(1, 3, size, size)
    driving = torch.rand(1, 2, 3, size, size)
    with torch.no_grad():
        outputs = [model.reconstruct(source_image, driving)]
        outputs += [model.animate(source_image, driving, mode=m) for m in model.animate_modes]
    for output in outputs:
        assert output.shape == driving.shape and torch.isfinite(output).all()


PAPER = [("fomm", "vox", 128), ("mraa", "ted", 128), ("tpsmm", "vox", 128), ("lia", "vox", 256)]
# Parameters of the official modules at the published sizes (issue 21: FOMM 59.79M, MRAA
# 66.00M, TPSMM 85.10M; LIA's generator 45.1M and discriminator 24.0M in the README).
OFFICIAL_PARAMETERS = {
    "fomm": {"kp_detector": 14_215_368, "generator": 45_575_391},
    "mraa": {"region_predictor": 14_146_728, "bg_predictor": 6_282_438, "generator": 45_575_391},
    "tpsmm": {
        "kp_detector": 11_227_812,
        "bg_predictor": 11_188_998,
        "dense_motion_network": 37_941_397,
        "inpainting_network": 24_737_283,
    },
    "lia": {"gen": 45_116_317, "dis": 24_001_089},
}
BUFFERS = ("running_mean", "running_var", "num_batches_tracked", "down.weight", "kernel")


@pytest.mark.slow
@pytest.mark.parametrize(("method", "variant", "size"), PAPER)
def test_published_sizes_map_exactly(tmp_path: Path, method: str, variant: str, size: int) -> None:
    """At the published sizes: the file has the official parameter counts, every tensor maps,
    and the imported model runs."""
    from talkingub.models.registry import load_model_config

    file = tmp_path / f"{variant}.official"
    config = load_model_config(method, "paper", perceptual="off")
    contents = write_official(file, method, config)
    for entry, count in OFFICIAL_PARAMETERS[method].items():
        module = contents[entry]
        spectral = ("weight_u", "weight_v")
        kept = [v for k, v in module.items() if not k.endswith(BUFFERS + spectral)]
        assert sum(v.numel() for v in kept) == count, entry

    out = import_official(method, file, variant=variant, out=tmp_path / "out.pt")
    model, state = load_model_weights(out)
    source = state["source"]
    assert source["kept_initial"] == []
    assert model.config.perceptual == "off"
    assert source["config_changes"]["perceptual"] == ["pretrained", "off"]
    assert model.config.image_size == LAYOUTS.get(method).variants[variant].image_size
    frames = torch.rand(1, 1, 3, size, size)
    with torch.no_grad():
        assert model.reconstruct(frames[:, 0], frames).shape == frames.shape


def test_every_variant_resolves_to_a_valid_config() -> None:
    for method in LAYOUTS.names():
        layout = layout_for(method)
        for variant in layout.variants.values():
            config, _, base = resolve_config(layout, variant, None)
            assert base == "paper" and config.image_size == variant.image_size
            assert layout.sampling.align_corners is ALIGN_CORNERS[method]
            assert layout.sampling_applied(config)
            # LivePortrait's config has no such field: our modules sample with False
            assert getattr(config, "align_corners", False) is ALIGN_CORNERS[method]
            for key, value in variant.overrides.items():
                node: Any = config
                for part in key.split("."):
                    node = getattr(node, part)
                assert node == (tuple(value) if isinstance(value, list) else value), key


def test_variant_specific_settings() -> None:
    fomm, mraa = layout_for("fomm"), layout_for("mraa")
    taichi, _, _ = resolve_config(fomm, fomm.variants["taichi"], None)
    assert taichi.discriminator.sn is False  # config/taichi-256.yaml has no `sn`
    vox, _, _ = resolve_config(mraa, mraa.variants["vox"], None)
    ted, _, _ = resolve_config(mraa, mraa.variants["ted"], None)
    assert (vox.region_predictor.pad, ted.region_predictor.pad) == (3, 0)
    assert (vox.image_size, ted.image_size) == (256, 384)


@pytest.fixture
def fomm_file(tmp_path: Path) -> tuple[Path, dict[str, Any]]:
    data = tiny_config("fomm", {})
    return official_file(tmp_path, "fomm", data, "vox-cpk.pth.tar"), data


def rewrite(path: Path, change: Any) -> Path:
    contents = torch.load(path, weights_only=False)
    change(contents)
    torch.save(contents, path)
    return path


def test_a_shape_mismatch_names_the_key_and_both_shapes(
    tmp_path: Path, fomm_file: tuple[Path, dict[str, Any]]
) -> None:
    file, data = fomm_file
    expected = tuple(torch.load(file, weights_only=True)["generator"]["final.weight"].shape)

    def widen(contents: dict[str, Any]) -> None:
        contents["generator"]["final.weight"] = torch.zeros(3, 17, 7, 7)

    rewrite(file, widen)
    with pytest.raises(OfficialImportError) as caught:
        import_official("fomm", file, out=tmp_path / "o.pt", config=data)
    message = str(caught.value)
    assert "generator.final.weight" in message and "(3, 17, 7, 7)" in message
    assert str(expected) in message and "generator.final.weight expects" in message


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            lambda c: c["generator"].update(extra=torch.ones(2)),
            r"generator.extra \(2,\) has no rule",
        ),
        (lambda c: c.pop("kp_detector"), "it has no kp_detector"),
        (lambda c: c["kp_detector"]["down.weight"].mul_(2), r"differs from our kp_detector\.down"),
        (lambda c: c["generator"].pop("final.bias"), "our key generator.final.bias"),
        (lambda c: c.update(generator=[1, 2]), "holds a list, not a state dict"),
    ],
)
def test_what_does_not_map_is_named(
    tmp_path: Path, fomm_file: tuple[Path, dict[str, Any]], change: Any, expected: str
) -> None:
    file, data = fomm_file
    rewrite(file, change)
    with pytest.raises(OfficialImportError, match=expected):
        import_official("fomm", file, out=tmp_path / "o.pt", config=data)


class Payload:
    ran = False

    def __reduce__(self) -> tuple[Any, ...]:
        return (_run, ())


def _run() -> None:
    Payload.ran = True


def test_a_file_with_other_objects_is_refused_unread(
    tmp_path: Path, fomm_file: tuple[Path, dict[str, Any]]
) -> None:
    file, data = fomm_file
    rewrite(file, lambda c: c.update(extra=Payload()))
    with pytest.raises(OfficialImportError, match=r"refused .* nothing in it was run"):
        import_official("fomm", file, out=tmp_path / "o.pt", config=data)
    assert not Payload.ran


def test_an_optional_entry_may_be_absent(tmp_path: Path) -> None:
    """An MRAA file written before the AVD stage: the AVD keeps its initial values."""
    data = tiny_config("mraa", {})
    file = official_file(tmp_path, "mraa", data, "ted384.pth")
    rewrite(file, lambda c: c.pop("avd_network"))
    out = import_official("mraa", file, out=tmp_path / "o.pt", config=data)
    _, state = load_model_weights(out)
    source = state["source"]
    assert source["entries"]["avd_network"].startswith("not in the file")
    assert source["kept_initial"] and all(
        k.startswith("avd_network.") for k in source["kept_initial"]
    )


def test_the_variant_comes_from_the_file_name(
    tmp_path: Path, fomm_file: tuple[Path, dict[str, Any]]
) -> None:
    file, data = fomm_file
    assert layout_for("fomm").variant_for(None, file).name == "vox"
    out = import_official("fomm", file, config=data)
    assert out == default_output("fomm", "vox") and out.is_file()
    renamed = file.rename(tmp_path / "weights.pt")
    with pytest.raises(OfficialImportError, match="pass --variant"):
        import_official("fomm", renamed, config=data)
    with pytest.raises(OfficialImportError, match="no published variant 'ted'"):
        import_official("fomm", renamed, variant="ted", config=data)


def test_lia_imports_with_the_official_sampling(tmp_path: Path) -> None:
    """Our LIA warps with align_corners=True (documented deviation); the import reproduces the
    official ToFlow, `grid_sample` with torch's default (False)."""
    data = tiny_config("lia", {})
    file = official_file(tmp_path, "lia", data, "ted.pt")
    out = import_official("lia", file, out=tmp_path / "o.pt", config=data)
    model, state = load_model_weights(out)
    flows = [o.to_flow for o in model.generator.synthesis.octaves]
    assert flows and all(flow.align_corners is False for flow in flows)
    assert state["source"]["config_changes"]["align_corners"] == [True, False]
    assert "args" in state["source"]["ignored"]  # the argparse Namespace, read safely
    assert state["source"]["animation"].startswith("absolute")


def test_reshape_rules_only_add_or_remove_unit_dimensions() -> None:
    ours = {"bias": torch.zeros(4)}
    ok = apply_rules({"b": torch.ones(1, 4, 1, 1)}, [Rule("b", "bias", "reshape")], ours, {}, bool)
    assert torch.equal(ok.state["bias"], torch.ones(4))
    with pytest.raises(OfficialImportError, match="shape mismatch at official key b"):
        apply_rules({"b": torch.ones(2, 2)}, [Rule("b", "bias", "reshape")], ours, {}, bool)
    with pytest.raises(OfficialImportError, match="shape mismatch"):
        apply_rules({"b": torch.ones(1, 4)}, [Rule("b", "bias")], ours, {}, bool)


def test_cli_import(tmp_path: Path, fomm_file: tuple[Path, dict[str, Any]]) -> None:
    file, _ = fomm_file
    out = tmp_path / "fomm.pt"
    runner = CliRunner()
    args = ["weights", "import", "fomm", str(file), "-o", str(out), "--config", "tiny"]
    result = runner.invoke(main, args)
    assert result.exit_code == 0, result.output
    assert f"fomm vox: {file.name} sha256" in result.output and str(out) in result.output
    assert "align_corners=True" in result.output
    model, _ = load_model_weights(out)
    assert model.config.image_size == 64

    broken = rewrite(file, lambda c: c.pop("generator"))
    result = runner.invoke(main, ["weights", "import", "fomm", str(broken), "--config", "tiny"])
    assert result.exit_code == 2
    assert result.output.startswith("error: ") and "no generator" in result.output
    assert "Traceback" not in result.output
