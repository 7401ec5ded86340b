"""The key names and shapes of the released LivePortrait module files, written from the release's
source (KwaiVGI/LivePortrait@1986663be3b6902605d32200c01f4bfd36cda83d: src/config/models.yaml
and src/modules/*.py), independently of our modules: a fixture for the import tests.

`Release` holds models.yaml's `model_params` (the released values by default; smaller ones give
a release of the same structure for fast tests). What the source fixes is fixed here too: 7x7x7
mask and 7x7 occlusion convs (dense_motion.py), SPADE's 128 hidden channels (util.py), six
`G_middle` blocks and a PixelShuffle x2 output conv (spade_generator.py, upscale 2).
`write_release` writes the folder as the download lays it out (`liveportrait/base_models/*.pth`,
`liveportrait/retargeting_models/stitching_retargeting_module.pth`, the MLPs with DDP's
`module.` prefix) with random values.
"""

from __future__ import annotations

import dataclasses
from itertools import pairwise
from pathlib import Path
from typing import Any

import torch

Shapes = dict[str, tuple[int, ...]]
RELEASED_FILES = {
    "appearance_feature_extractor": "base_models/appearance_feature_extractor.pth",
    "motion_extractor": "base_models/motion_extractor.pth",
    "warping_module": "base_models/warping_module.pth",
    "spade_generator": "base_models/spade_generator.pth",
    "stitching_retargeting_module": "retargeting_models/stitching_retargeting_module.pth",
}


@dataclasses.dataclass(frozen=True)
class Release:
    """src/config/models.yaml model_params (convnextv2_tiny: convnextv2.py)."""

    num_kp: int = 21
    # appearance_feature_extractor_params
    app_expansion: int = 64
    app_down_blocks: int = 2
    app_max_features: int = 512
    reshape_channel: int = 32
    reshape_depth: int = 16
    num_resblocks: int = 6
    # motion_extractor_params (backbone convnextv2_tiny)
    dims: tuple[int, ...] = (96, 192, 384, 768)
    depths: tuple[int, ...] = (3, 3, 9, 3)
    num_bins: int = 66
    # warping_module_params (+ dense_motion_params)
    warp_expansion: int = 64
    warp_max_features: int = 512
    warp_down_blocks: int = 2
    dense_expansion: int = 32
    dense_max_features: int = 1024
    dense_blocks: int = 5
    compress: int = 4
    # spade_generator_params (out_channels: SPADEDecoder's default)
    spade_expansion: int = 64
    spade_max_features: int = 512
    spade_down_blocks: int = 2
    spade_out_channels: int = 64
    # stitching_retargeting_module_params
    stitching_hidden: tuple[int, ...] = (128, 128, 64)
    lip_hidden: tuple[int, ...] = (128, 128, 64)
    eye_hidden: tuple[int, ...] = (256, 256, 128, 128, 64)


def _bn(prefix: str, n: int) -> Shapes:
    out: Shapes = {f"{prefix}.{k}": (n,) for k in ("weight", "bias", "running_mean", "running_var")}
    out[f"{prefix}.num_batches_tracked"] = ()
    return out


def _conv(prefix: str, cout: int, cin: int, *kernel: int, bias: bool = True) -> Shapes:
    out: Shapes = {f"{prefix}.weight": (cout, cin, *kernel)}
    if bias:
        out[f"{prefix}.bias"] = (cout,)
    return out


def appearance(r: Release) -> Shapes:
    s: Shapes = {
        **_conv("first.conv", r.app_expansion, 3, 3, 3),
        **_bn("first.norm", r.app_expansion),
    }
    out = r.app_expansion
    for i in range(r.app_down_blocks):
        a = min(r.app_max_features, r.app_expansion * 2**i)
        out = min(r.app_max_features, r.app_expansion * 2 ** (i + 1))
        s |= _conv(f"down_blocks.{i}.conv", out, a, 3, 3) | _bn(f"down_blocks.{i}.norm", out)
    s |= _conv("second", r.app_max_features, out, 1, 1)
    c = r.reshape_channel
    for i in range(r.num_resblocks):
        p = f"resblocks_3d.3dr{i}"
        s |= _conv(f"{p}.conv1", c, c, 3, 3, 3) | _conv(f"{p}.conv2", c, c, 3, 3, 3)
        s |= _bn(f"{p}.norm1", c) | _bn(f"{p}.norm2", c)
    return s


def motion(r: Release) -> Shapes:
    dims = r.dims
    s: Shapes = _conv("detector.downsample_layers.0.0", dims[0], 3, 4, 4)
    s |= {
        "detector.downsample_layers.0.1.weight": (dims[0],),
        "detector.downsample_layers.0.1.bias": (dims[0],),
    }
    for i in range(1, len(dims)):
        p = f"detector.downsample_layers.{i}"
        s |= {f"{p}.0.weight": (dims[i - 1],), f"{p}.0.bias": (dims[i - 1],)}
        s |= _conv(f"{p}.1", dims[i], dims[i - 1], 2, 2)
    for stage, (d, n) in enumerate(zip(dims, r.depths, strict=True)):
        for j in range(n):
            p = f"detector.stages.{stage}.{j}"
            s |= _conv(f"{p}.dwconv", d, 1, 7, 7)
            s |= {f"{p}.norm.weight": (d,), f"{p}.norm.bias": (d,)}
            s |= {f"{p}.pwconv1.weight": (4 * d, d), f"{p}.pwconv1.bias": (4 * d,)}
            s |= {f"{p}.grn.gamma": (1, 1, 1, 4 * d), f"{p}.grn.beta": (1, 1, 1, 4 * d)}
            s |= {f"{p}.pwconv2.weight": (d, 4 * d), f"{p}.pwconv2.bias": (d,)}
    last = dims[-1]
    s |= {"detector.norm.weight": (last,), "detector.norm.bias": (last,)}
    k, bins = r.num_kp, r.num_bins
    heads = {
        "kp": 3 * k,
        "scale": 1,
        "pitch": bins,
        "yaw": bins,
        "roll": bins,
        "t": 3,
        "exp": 3 * k,
    }
    for name, n in heads.items():
        s |= {f"detector.fc_{name}.weight": (n, last), f"detector.fc_{name}.bias": (n,)}
    return s


def warping(r: Release) -> Shapes:
    cin = (r.num_kp + 1) * (r.compress + 1)
    blocks = r.dense_blocks

    def width(i: int) -> int:
        return min(r.dense_max_features, r.dense_expansion * 2**i)

    p = "dense_motion_network.hourglass"
    s: Shapes = {}
    for i in range(blocks):
        a = cin if i == 0 else width(i)
        s |= _conv(f"{p}.encoder.down_blocks.{i}.conv", width(i + 1), a, 3, 3, 3)
        s |= _bn(f"{p}.encoder.down_blocks.{i}.norm", width(i + 1))
    for j, i in enumerate(reversed(range(blocks))):
        a = (1 if i == blocks - 1 else 2) * width(i + 1)
        s |= _conv(f"{p}.decoder.up_blocks.{j}.conv", width(i), a, 3, 3, 3)
        s |= _bn(f"{p}.decoder.up_blocks.{j}.norm", width(i))
    out = r.dense_expansion + cin
    s |= _conv(f"{p}.decoder.conv", out, out, 3, 3, 3) | _bn(f"{p}.decoder.norm", out)
    s |= _conv("dense_motion_network.mask", r.num_kp + 1, out, 7, 7, 7)
    s |= _conv("dense_motion_network.compress", r.compress, r.reshape_channel, 1, 1, 1)
    s |= _bn("dense_motion_network.norm", r.compress)
    s |= _conv("dense_motion_network.occlusion", 1, out * r.reshape_depth, 7, 7)
    features = r.warp_expansion * 2**r.warp_down_blocks
    s |= _conv("third.conv", features, r.warp_max_features, 3, 3) | _bn("third.norm", features)
    return s | _conv("fourth", features, features, 1, 1)


def _spade(prefix: str, norm_nc: int, label_nc: int) -> Shapes:
    s = _conv(f"{prefix}.mlp_shared.0", 128, label_nc, 3, 3)
    s |= _conv(f"{prefix}.mlp_gamma", norm_nc, 128, 3, 3)
    return s | _conv(f"{prefix}.mlp_beta", norm_nc, 128, 3, 3)


def _sn_conv(prefix: str, cout: int, cin: int, k: int, bias: bool = True) -> Shapes:
    s: Shapes = {f"{prefix}.weight_orig": (cout, cin, k, k)}
    s |= {f"{prefix}.weight_u": (cout,), f"{prefix}.weight_v": (cin * k * k,)}
    if bias:
        s[f"{prefix}.bias"] = (cout,)
    return s


def spade(r: Release) -> Shapes:
    label = min(r.spade_max_features, r.spade_expansion * 2**r.spade_down_blocks)
    s: Shapes = _conv("fc", 2 * label, label, 3, 3)
    blocks = [(f"G_middle_{i}", 2 * label, 2 * label) for i in range(6)]
    blocks += [("up_0", 2 * label, label), ("up_1", label, r.spade_out_channels)]
    for name, fin, fout in blocks:
        mid = min(fin, fout)
        s |= _sn_conv(f"{name}.conv_0", mid, fin, 3) | _sn_conv(f"{name}.conv_1", fout, mid, 3)
        s |= _spade(f"{name}.norm_0", fin, label) | _spade(f"{name}.norm_1", mid, label)
        if fin != fout:
            s |= _sn_conv(f"{name}.conv_s", fout, fin, 1, bias=False)
            s |= _spade(f"{name}.norm_s", fin, label)
    return s | _conv("conv_img.0", 3 * 2 * 2, r.spade_out_channels, 3, 3)


def stitching(r: Release) -> dict[str, Shapes]:
    def mlp(sizes: list[int]) -> Shapes:
        s: Shapes = {}
        for i, (a, b) in enumerate(pairwise(sizes)):
            s |= {f"module.mlp.{2 * i}.weight": (b, a), f"module.mlp.{2 * i}.bias": (b,)}
        return s

    k3 = 3 * r.num_kp
    return {
        "retarget_shoulder": mlp([2 * k3, *r.stitching_hidden, k3 + 2]),
        "retarget_mouth": mlp([k3 + 2, *r.lip_hidden, k3]),
        "retarget_eye": mlp([k3 + 3, *r.eye_hidden, k3]),
    }


def released_state_dicts(
    release: Release | None = None, materialise: bool = False, seed: int = 0
) -> dict[str, dict[str, Any]]:
    """{file stem: its contents}. `materialise=False`: meta tensors (names and shapes only);
    else random values a forward pass can run with (BatchNorm statistics 0 / 1, spectral-norm
    u and v unit vectors), integer BatchNorm counters as torch writes them."""
    r = release or Release()
    gen = torch.Generator().manual_seed(seed)

    def tensor(key: str, shape: tuple[int, ...]) -> torch.Tensor:
        if key.endswith("num_batches_tracked"):
            return torch.zeros(shape, dtype=torch.long, device="cpu" if materialise else "meta")
        if not materialise:
            return torch.empty(shape, device="meta")
        if key.endswith("running_mean"):
            return torch.zeros(shape)
        if key.endswith("running_var"):
            return torch.ones(shape)
        value = torch.randn(shape, generator=gen)
        if key.endswith(("weight_u", "weight_v")):
            return value / value.norm()
        return 0.02 * value

    def tensors(shapes: Shapes) -> dict[str, Any]:
        return {k: tensor(k, v) for k, v in shapes.items()}

    return {
        "appearance_feature_extractor": tensors(appearance(r)),
        "motion_extractor": tensors(motion(r)),
        "warping_module": tensors(warping(r)),
        "spade_generator": tensors(spade(r)),
        "stitching_retargeting_module": {k: tensors(v) for k, v in stitching(r).items()},
    }


def write_release(
    folder: Path, release: Release | None = None, seed: int = 0
) -> dict[str, dict[str, Any]]:
    """The five files under `folder` at their released paths (random values); returns what
    was written ({file stem: contents})."""
    contents = released_state_dicts(release, materialise=True, seed=seed)
    for stem, relative in RELEASED_FILES.items():
        path = folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        torch.save(contents[stem], path)
    return contents


def flat_release(contents: dict[str, dict[str, Any]]) -> dict[str, torch.Tensor]:
    """Every released tensor under the importer's name: `<file stem>.<key>` for the four module
    files, `<retarget_*>.<key without module.>` for the stitching file's MLPs."""
    out: dict[str, torch.Tensor] = {}
    for stem, state in contents.items():
        if stem != "stitching_retargeting_module":
            out |= {f"{stem}.{key}": value for key, value in state.items()}
            continue
        for part, mlp in state.items():
            out |= {f"{part}.{key.removeprefix('module.')}": v for key, v in mlp.items()}
    return out
