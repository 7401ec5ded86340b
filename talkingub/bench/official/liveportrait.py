"""LivePortrait's released weights (KwaiVGI/LivePortrait): the `liveportrait/` folder of the
Hugging Face model card KwaiVGI/LivePortrait (`huggingface-cli download KwaiVGI/LivePortrait
--local-dir pretrained_weights`, readme.md @1986663).

Layout (src/config/inference_config.py and src/utils/helper.py `load_model` @1986663): a folder
of `torch.save` files, one state dict per module, `base_models/appearance_feature_extractor.pth`
(F), `motion_extractor.pth` (M), `warping_module.pth` (W), `spade_generator.pth` (G), and
`retargeting_models/stitching_retargeting_module.pth`, a dict whose `retarget_shoulder`,
`retarget_mouth` and `retarget_eye` state dicts (S, R_lip, R_eyes) carry DDP's `module.` prefix,
which `load_model` strips (`remove_ddp_dumplicate_key`). `read` returns the four module state
dicts and the three MLP state dicts, prefix stripped, as the entries; any other entry of the
stitching file is left out, as `load_model` leaves it (recorded as ignored).

Module names: src/modules/*.py @1986663; sizes: src/config/models.yaml (= our `paper` config).
What differs from ours:
- the SPADE convolutions use the old `torch.nn.utils.spectral_norm` (`weight_orig`, `weight_u`,
  `weight_v`), ours the parametrization (`parametrizations.weight.original`, `.0._u`, `.0._v`):
  the same tensors, the same eval-mode forward.
- ConvNeXt-V2's `downsample_layers` (stem conv + LayerNorm, then LayerNorm + conv per stage) are
  our `stem`, `stem_norm`, `down_norms[i - 1]`, `down_convs[i - 1]`; `fc_*` are our `heads.*`.
- `nn.Sequential` MLPs (`mlp.0, 2, 4, ...`, ReLUs between) are our `layers.0, 1, 2, ...`.
- no discriminator is released (inference only): ours keep their initial values.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

from talkingub.bench.official.keymap import OfficialImportError, Rule
from talkingub.bench.official.layout import (
    Entry,
    OfficialLayout,
    ReadResult,
    Sampling,
    SourceFile,
    Variant,
    read_hashed,
    register_layout,
)
from talkingub.models.base import SynthesisModel

REPO = "KwaiVGI/LivePortrait"
COMMIT = "1986663be3b6902605d32200c01f4bfd36cda83d"
SHORT = COMMIT[:7]

#: Released module file (stem) -> its path in the release folder (inference_config.py).
RELEASED_FILES = {
    "appearance_feature_extractor": "base_models/appearance_feature_extractor.pth",
    "motion_extractor": "base_models/motion_extractor.pth",
    "warping_module": "base_models/warping_module.pth",
    "spade_generator": "base_models/spade_generator.pth",
    "stitching_retargeting_module": "retargeting_models/stitching_retargeting_module.pth",
}
STITCHING_FILE = "stitching_retargeting_module"
#: The stitching file's state dicts `load_model` reads -> our MLP.
STITCHING_PARTS = {
    "retarget_shoulder": "stitching.stitch",
    "retarget_mouth": "stitching.lip",
    "retarget_eye": "stitching.eyes",
}
DDP_PREFIX = "module."
RELEASE_FOLDER = "liveportrait"  # inside `pretrained_weights/` after the download


class LivePortraitLayout(OfficialLayout):
    method = "liveportrait"
    repository = REPO
    commit = COMMIT
    layout = (
        "folder: base_models/{appearance_feature_extractor,motion_extractor,warping_module,"
        "spade_generator}.pth (a state dict each), retargeting_models/"
        "stitching_retargeting_module.pth (retarget_shoulder, retarget_mouth, retarget_eye "
        "state dicts, DDP `module.` prefix)"
    )
    entries = (
        Entry("appearance_feature_extractor", "appearance"),
        Entry("motion_extractor", "motion"),
        Entry("warping_module", "warping"),
        Entry("spade_generator", "decoder"),
        *(Entry(part, ours) for part, ours in STITCHING_PARTS.items()),
    )
    variants: ClassVar[Mapping[str, Variant]] = {
        "human": Variant(
            name="human",
            files=tuple(RELEASED_FILES.values()),
            config=f"{REPO}@src/config/models.yaml ({SHORT}): model_params, read by "
            "src/utils/helper.py load_model; the file paths: src/config/inference_config.py",
            image_size=256,
            animation="relative motion, stitching on, no eye / lip retargeting, the animated "
            "crop pasted back into the source frame (src/config/argument_config.py "
            "flag_relative_motion, flag_stitching, flag_eye_retargeting, flag_lip_retargeting, "
            "flag_pasteback); 256 x 256 face crops in (inference_config.py input_shape)",
            sources={"default": "configs/paper.yaml sizes are src/config/models.yaml's"},
        ),
    }
    sampling = Sampling(
        align_corners=False,
        evidence=f"{REPO}@src/modules/dense_motion.py ({SHORT}) create_deformed_feature and "
        "src/modules/warping_network.py deform_input call F.grid_sample(..., "
        "align_corners=False); the other resampling is nearest (util.py UpBlock3d, SPADE; "
        "spade_generator.py nn.Upsample)",
    )

    def read(self, path: Path) -> ReadResult:
        """The release folder (`liveportrait/`, the `pretrained_weights/` folder holding it, or
        a flat folder of the five files): every file read with the safe loader."""
        root = release_root(path)
        found = {stem: _find(root, rel) for stem, rel in RELEASED_FILES.items()}
        missing = [RELEASED_FILES[stem] for stem, file in found.items() if file is None]
        if missing:
            raise OfficialImportError(
                f"{root} is not the LivePortrait release folder: it lacks {', '.join(missing)}"
            )
        files = {stem: file for stem, file in found.items() if file is not None}
        contents: dict[str, Any] = {}
        sources: list[SourceFile] = []
        for stem, file in files.items():
            data, source = read_hashed(file, RELEASED_FILES[stem], self.safe_globals)
            sources.append(source)
            if stem == STITCHING_FILE:
                contents.update(stitching_entries(data, RELEASED_FILES[stem]))
            else:
                contents[stem] = data
        return ReadResult(contents, tuple(sources), name=root.name)

    def may_stay(self, key: str) -> bool:
        """Besides BatchNorm counters: our discriminators, which the release does not ship."""
        return super().may_stay(key) or key.startswith("discriminators.")

    def sampling_applied(self, config: Any) -> bool:
        """Our config has no `align_corners`: our warping.py and pasteback.py always sample with
        align_corners=False, the released convention."""
        return self.sampling.align_corners is False

    def rules(self, model: SynthesisModel) -> list[Rule]:
        config = model.config
        return [
            *appearance_rules(),
            *motion_rules(len(config.motion.dims)),
            *warping_rules(),
            *spade_rules(),
            *stitching_rules(config.stitching),
        ]


def release_root(path: Path) -> Path:
    """`path`, or its `liveportrait/` folder when it is the `pretrained_weights/` download."""
    if not path.is_dir():
        raise OfficialImportError(
            f"liveportrait: the release is a folder (liveportrait/ with base_models/ and "
            f"retargeting_models/), not found: {path}"
        )
    inner = path / RELEASE_FOLDER
    return inner if (inner / RELEASED_FILES["appearance_feature_extractor"]).is_file() else path


def _find(root: Path, relative: str) -> Path | None:
    """The file at its released path under `root`, else directly in `root`."""
    for candidate in (root / relative, root / Path(relative).name):
        if candidate.is_file():
            return candidate
    return None


def stitching_entries(data: Mapping[str, Any], name: str) -> dict[str, Any]:
    """The stitching file's three MLP state dicts with DDP's `module.` prefix stripped (what
    `load_model` reads); each other entry under `<file>:<key>` (reported as ignored)."""
    out: dict[str, Any] = {}
    for part in STITCHING_PARTS:
        state = data.get(part)
        if not isinstance(state, Mapping):
            have = ", ".join(map(str, data)) or "none"
            raise OfficialImportError(f"{name}: no {part} state dict (entries: {have})")
        stripped: dict[str, Any] = {}
        for key, value in state.items():
            bare = str(key).removeprefix(DDP_PREFIX)
            if bare in stripped:
                raise OfficialImportError(
                    f"{name}: {part} holds {bare} with and without DDP's {DDP_PREFIX!r} prefix"
                )
            stripped[bare] = value
        out[part] = stripped
    out.update({f"{name}:{key}": value for key, value in data.items() if key not in out})
    return out


def _under(entry: str, pairs: list[tuple[str, str]]) -> list[Rule]:
    """Copy rules for official keys inside `entry` (released name -> our key)."""
    return [Rule(f"{entry}.{official}", ours) for official, ours in pairs]


def appearance_rules() -> list[Rule]:
    """appearance_feature_extractor.py: `first` (SameBlock2d), `down_blocks` (DownBlock2d),
    `second` (1x1 conv), `resblocks_3d` (nn.Sequential of ResBlock3d named `3dr<i>`)."""
    pairs = [
        ("first.conv.{rest}", "appearance.stem.conv.{rest}"),
        ("first.norm.{rest}", "appearance.stem.norm.{rest}"),
        ("down_blocks.{n}.conv.{rest}", "appearance.down.{n}.conv.{rest}"),
        ("down_blocks.{n}.norm.{rest}", "appearance.down.{n}.norm.{rest}"),
        ("second.{rest}", "appearance.project.{rest}"),
    ]
    for part in ("conv1", "conv2", "norm1", "norm2"):
        pairs.append(
            (f"resblocks_3d.3dr{{n}}.{part}.{{rest}}", f"appearance.res3d.{{n}}.{part}.{{rest}}")
        )
    return _under("appearance_feature_extractor", pairs)


def motion_rules(stages: int) -> list[Rule]:
    """motion_extractor.py `detector` (convnextv2.py ConvNeXtV2): `downsample_layers[0]` =
    (Conv2d, LayerNorm), `downsample_layers[i]` = (LayerNorm, Conv2d) for i >= 1, `stages`,
    `norm`, heads `fc_kp`, `fc_scale`, `fc_pitch`, `fc_yaw`, `fc_roll`, `fc_t`, `fc_exp`."""
    down, ours = "detector.downsample_layers", "motion.backbone"
    pairs = [
        (f"{down}.0.0.{{rest}}", f"{ours}.stem.{{rest}}"),
        (f"{down}.0.1.{{rest}}", f"{ours}.stem_norm.{{rest}}"),
    ]
    for i in range(1, stages):
        pairs.append((f"{down}.{i}.0.{{rest}}", f"{ours}.down_norms.{i - 1}.{{rest}}"))
        pairs.append((f"{down}.{i}.1.{{rest}}", f"{ours}.down_convs.{i - 1}.{{rest}}"))
    for part in ("dwconv", "norm", "pwconv1", "grn", "pwconv2"):
        pairs.append(
            (
                f"detector.stages.{{s}}.{{b}}.{part}.{{rest}}",
                f"{ours}.stages.{{s}}.{{b}}.{part}.{{rest}}",
            )
        )
    pairs.append(("detector.norm.{rest}", f"{ours}.norm.{{rest}}"))
    for head in ("kp", "scale", "pitch", "yaw", "roll", "t", "exp"):
        pairs.append((f"detector.fc_{head}.{{rest}}", f"motion.heads.{head}.{{rest}}"))
    return _under("motion_extractor", pairs)


def warping_rules() -> list[Rule]:
    """warping_network.py: `dense_motion_network` (dense_motion.py: `hourglass` = util.py
    Hourglass with `encoder.down_blocks`, `decoder.up_blocks`, `decoder.conv`, `decoder.norm`;
    `mask`, `compress`, `norm`, `occlusion`), `third` (SameBlock2d), `fourth` (1x1 conv)."""
    hg, ours = "dense_motion_network.hourglass", "warping.dense.hourglass"
    pairs = [
        (f"{hg}.encoder.down_blocks.{{n}}.conv.{{rest}}", f"{ours}.down.{{n}}.conv.{{rest}}"),
        (f"{hg}.encoder.down_blocks.{{n}}.norm.{{rest}}", f"{ours}.down.{{n}}.norm.{{rest}}"),
        (f"{hg}.decoder.up_blocks.{{n}}.conv.{{rest}}", f"{ours}.up.{{n}}.conv.{{rest}}"),
        (f"{hg}.decoder.up_blocks.{{n}}.norm.{{rest}}", f"{ours}.up.{{n}}.norm.{{rest}}"),
        (f"{hg}.decoder.conv.{{rest}}", f"{ours}.out_conv.{{rest}}"),
        (f"{hg}.decoder.norm.{{rest}}", f"{ours}.out_norm.{{rest}}"),
        ("dense_motion_network.mask.{rest}", "warping.dense.mask.{rest}"),
        ("dense_motion_network.compress.{rest}", "warping.dense.compress.{rest}"),
        ("dense_motion_network.norm.{rest}", "warping.dense.compress_norm.{rest}"),
        ("dense_motion_network.occlusion.{rest}", "warping.dense.occlusion.{rest}"),
        ("third.conv.{rest}", "warping.post.conv.{rest}"),
        ("third.norm.{rest}", "warping.post.norm.{rest}"),
        ("fourth.{rest}", "warping.post_proj.{rest}"),
    ]
    return _under("warping_module", pairs)


SPADE_BLOCKS = (("G_middle_{n}", "decoder.middle.{n}"), ("up_{n}", "decoder.up.{n}"))
SPADE_NORMS = (("norm_0", "norm_a"), ("norm_1", "norm_b"), ("norm_s", "norm_skip"))
SPADE_MLPS = (("mlp_shared.0", "shared"), ("mlp_gamma", "gamma"), ("mlp_beta", "beta"))
SPADE_CONVS = (("conv_0", "conv_a"), ("conv_1", "conv_b"), ("conv_s", "skip"))
# old torch.nn.utils.spectral_norm names -> the parametrization's
SPECTRAL = (
    ("weight_orig", "parametrizations.weight.original"),
    ("weight_u", "parametrizations.weight.0._u"),
    ("weight_v", "parametrizations.weight.0._v"),
    ("bias", "bias"),
)


def spade_rules() -> list[Rule]:
    """spade_generator.py SPADEDecoder: `fc`, `G_middle_0..5` and `up_0, up_1`
    (util.py SPADEResnetBlock: spectral-norm `conv_0`, `conv_1`, `conv_s`; SPADE `norm_0`,
    `norm_1`, `norm_s` with `mlp_shared.0`, `mlp_gamma`, `mlp_beta`), `conv_img.0` (the conv
    before the PixelShuffle)."""
    pairs = [
        ("fc.{rest}", "decoder.head.{rest}"),
        ("conv_img.0.{rest}", "decoder.to_rgb.{rest}"),
    ]
    for block, ours in SPADE_BLOCKS:
        for norm, our_norm in SPADE_NORMS:
            for mlp, our_mlp in SPADE_MLPS:
                pairs.append(
                    (f"{block}.{norm}.{mlp}.{{rest}}", f"{ours}.{our_norm}.{our_mlp}.{{rest}}")
                )
        for conv, our_conv in SPADE_CONVS:
            for leaf, our_leaf in SPECTRAL:
                pairs.append((f"{block}.{conv}.{leaf}", f"{ours}.{our_conv}.{our_leaf}"))
    return _under("spade_generator", pairs)


def stitching_rules(config: Any) -> list[Rule]:
    """stitching_retargeting_network.py: `mlp` = nn.Sequential(Linear, ReLU, ..., Linear), so
    Linear j sits at index 2j; S, R_lip and R_eyes have len(hidden) + 1 of them."""
    hidden = {
        "retarget_shoulder": config.stitching_hidden,
        "retarget_mouth": config.lip_hidden,
        "retarget_eye": config.eyes_hidden,
    }
    rules = []
    for part, ours in STITCHING_PARTS.items():
        for j in range(len(hidden[part]) + 1):
            rules.append(Rule(f"{part}.mlp.{2 * j}.{{rest}}", f"{ours}.layers.{j}.{{rest}}"))
    return rules


register_layout(LivePortraitLayout())
