"""Test files in the official checkpoint formats: the layouts of `official_layouts` at the sizes
a config of ours asks for, with random values, wrapped in each repository's top-level dict
(module state dicts, optimisers, epochs; LIA's argparse `args`) and written with torch.save."""

from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import Any

import torch

from tests.support.official_layouts import (
    Layout,
    Shapes,
    anti_alias,
    avd,
    block,
    conv,
    encoder,
    hourglass,
    johnson,
    level,
    lia_discriminator,
    lia_generator,
    materialise,
    norm,
    resblock,
    resnet18,
)


def fomm_layout(c: Any) -> Layout:
    kp: Shapes = {}
    k = c.keypoint_detector
    out = hourglass(
        kp, "predictor", k.block_expansion, c.num_channels, k.num_blocks, k.max_features, True
    )
    conv(kp, "kp", c.num_kp, out, 7)
    if k.estimate_jacobian:
        conv(kp, "jacobian", 4 * c.num_kp, out, 7)
    anti_alias(kp, "", c.num_channels, k.scale_factor)
    gen: Shapes = {}
    d, g = c.dense_motion, c.generator
    dense_in = (c.num_kp + 1) * (c.num_channels + 1)
    out = hourglass(
        gen,
        "dense_motion_network.hourglass",
        d.block_expansion,
        dense_in,
        d.num_blocks,
        d.max_features,
        True,
    )
    conv(gen, "dense_motion_network.mask", c.num_kp + 1, out, 7)
    if g.estimate_occlusion_map:
        conv(gen, "dense_motion_network.occlusion", 1, out, 7)
    anti_alias(gen, "dense_motion_network", c.num_channels, d.scale_factor)
    johnson(
        gen,
        c.num_channels,
        g.block_expansion,
        g.max_features,
        g.num_down_blocks,
        g.num_bottleneck_blocks,
    )
    return {"kp_detector": kp, "generator": gen, "discriminator": fomm_discriminator(c)}


def fomm_discriminator(c: Any) -> Shapes:
    """MultiScaleDiscriminator: discs[str(scale).replace('.', '-')] ('1' for the YAMLs' [1])."""
    disc: Shapes = {}
    cfg = c.discriminator
    for scale in cfg.scales:
        name = str(int(scale)) if float(scale).is_integer() else str(scale).replace(".", "-")
        prefix = f"discs.{name}"
        cin = c.num_channels
        for i in range(cfg.num_blocks):
            cin = c.num_channels if i == 0 else level(cfg.block_expansion, cfg.max_features, i)
            cout = level(cfg.block_expansion, cfg.max_features, i + 1)
            _disc_conv(disc, f"{prefix}.down_blocks.{i}.conv", cout, cin, 4, cfg.sn)
            if i != 0:
                norm(disc, f"{prefix}.down_blocks.{i}.norm", cout, False)
        _disc_conv(disc, f"{prefix}.conv", 1, cout, 1, cfg.sn)
    return disc


def _disc_conv(out: Shapes, prefix: str, cout: int, cin: int, k: int, sn: bool) -> None:
    """nn.utils.spectral_norm (torch 1.0): bias, weight_orig, weight_u, weight_v."""
    if not sn:
        conv(out, prefix, cout, cin, k)
        return
    out[f"{prefix}.bias"] = (cout,)
    out[f"{prefix}.weight_orig"] = (cout, cin, k, k)
    out[f"{prefix}.weight_u"] = (cout,)
    out[f"{prefix}.weight_v"] = (cin * k * k,)


def mraa_layout(c: Any) -> Layout:
    nc, regions = c.num_channels, c.num_regions
    rp, bg, pf, g = c.region_predictor, c.bg_predictor, c.pixelwise_flow, c.generator
    region: Shapes = {}
    out = hourglass(
        region, "predictor", rp.block_expansion, nc, rp.num_blocks, rp.max_features, True
    )
    conv(region, "regions", regions, out, 7)
    anti_alias(region, "", nc, rp.scale_factor)
    background: Shapes = {}
    encoder(background, "encoder", bg.block_expansion, 2 * nc, bg.num_blocks, bg.max_features, True)
    fc_out = {"affine": 6, "perspective": 8, "shift": 2}[bg.bg_type]
    background["fc.weight"] = (fc_out, level(bg.block_expansion, bg.max_features, bg.num_blocks))
    background["fc.bias"] = (fc_out,)
    gen: Shapes = {}
    flow_in = (regions + 1) * (nc * int(pf.use_deformed_source) + 1)
    out = hourglass(
        gen,
        "pixelwise_flow_predictor.hourglass",
        pf.block_expansion,
        flow_in,
        pf.num_blocks,
        pf.max_features,
        True,
    )
    conv(gen, "pixelwise_flow_predictor.mask", regions + 1, out, 7)
    if pf.estimate_occlusion_map:
        conv(gen, "pixelwise_flow_predictor.occlusion", 1, out, 7)
    anti_alias(gen, "pixelwise_flow_predictor", nc, pf.scale_factor)
    johnson(gen, nc, g.block_expansion, g.max_features, g.num_down_blocks, g.num_bottleneck_blocks)
    avd_net: Shapes = {}
    avd(avd_net, "", 6 * regions, c.avd.id_bottle_size, c.avd.pose_bottle_size)
    return {
        "generator": gen,
        "region_predictor": region,
        "bg_predictor": background,
        "avd_network": avd_net,
    }


def tpsmm_layout(c: Any) -> Layout:
    nc, tps, width = c.num_channels, c.num_tps, c.encoder.width
    kp: Shapes = {}
    resnet18(kp, "fg_encoder", nc, tps * 5 * 2, width)
    background: Shapes = {}
    resnet18(background, "bg_encoder", 2 * nc, 6, width)
    dense: Shapes = {}
    d = c.dense_motion
    anti_alias(dense, "", nc, d.scale_factor)  # registered first in DenseMotionNetwork
    dense_in = nc * (tps + 1) + tps * 5 + 1
    hourglass(dense, "hourglass", d.block_expansion, dense_in, d.num_blocks, d.max_features, False)
    outs = [
        (1 if i == d.num_blocks - 1 else 2) * level(d.block_expansion, d.max_features, i + 1)
        for i in reversed(range(d.num_blocks))
    ] + [d.block_expansion + dense_in]  # Decoder.out_channels
    conv(dense, "maps", tps + 1, outs[-1], 7)
    ups = int(math.log2(1 / d.scale_factor))
    channel = [outs[-1] // 2**i for i in range(ups)]
    for i in range(ups):
        block(dense, f"up.{i}", channel[i], channel[i] // 2, bn=False)
    occlusion = [outs[-i - 1] for i in reversed(range(4 - ups))]
    occlusion += [outs[-1] // 2 ** (i + 1) for i in range(ups)]
    for i, ch in enumerate(occlusion):
        conv(dense, f"occlusion.{i}", 1, ch, 7)
    inpaint: Shapes = {}
    p = c.inpainting
    be, mf, down = p.block_expansion, p.max_features, p.num_down_blocks
    block(inpaint, "first", nc, be, 7, bn=False)
    for i in range(down):
        block(inpaint, f"down_blocks.{i}", level(be, mf, i), level(be, mf, i + 1), bn=False)
    ins, outs_up = [mf, mf, mf // 2], [mf // 2, mf // 4, mf // 8]
    for i in range(down):
        block(inpaint, f"up_blocks.{i}", ins[i], outs_up[i], bn=False)
    for i in range(down):
        resblock(inpaint, f"resblock.{2 * i}", ins[i], bn=False)
        resblock(inpaint, f"resblock.{2 * i + 1}", ins[i], bn=False)
    conv(inpaint, "final", nc, be, 7)
    avd_net: Shapes = {}
    avd(avd_net, "", 10 * tps, c.avd.id_bottle_size, c.avd.pose_bottle_size)
    return {
        "inpainting_network": inpaint,
        "dense_motion_network": dense,
        "kp_detector": kp,
        "bg_predictor": background,
        "avd_network": avd_net,
    }


def lia_layout(c: Any) -> Layout:
    size = c.image_size
    channels = {
        2**i: min(c.channel_max, c.channel_base // 2**i) for i in range(2, int(math.log2(size)) + 1)
    }
    gen = lia_generator(size, c.latent_dim, c.motion_dim, channels, c.motion_mlp_depth)
    return {"gen": gen, "dis": lia_discriminator(size, channels)}


LAYOUTS = {"fomm": fomm_layout, "mraa": mraa_layout, "tpsmm": tpsmm_layout, "lia": lia_layout}


def optimizer_state() -> dict[str, Any]:
    """An Adam state dict as torch.optim writes it (plain values and tensors)."""
    return {
        "state": {0: {"step": torch.tensor(3.0), "exp_avg": torch.zeros(2)}},
        "param_groups": [
            {
                "lr": 2e-4,
                "betas": (0.5, 0.999),
                "eps": 1e-8,
                "weight_decay": 0,
                "amsgrad": False,
                "initial_lr": 2e-4,
                "params": [0],
            }
        ],
    }


def official_contents(method: str, layout: Layout, seed: int = 0) -> dict[str, Any]:
    """The top-level dict each repository's training code saves."""
    rng = torch.Generator().manual_seed(seed)
    modules = {entry: materialise(shapes, rng) for entry, shapes in layout.items()}
    extra: dict[str, Any]
    if method == "fomm":
        extra = {
            f"optimizer_{m}": optimizer_state()
            for m in ("generator", "discriminator", "kp_detector")
        }
        extra["epoch"] = 99
    elif method == "mraa":
        extra = {
            "optimizer_reconstruction": optimizer_state(),
            "epoch_reconstruction": 99,
            "optimizer_avd": optimizer_state(),
            "epoch_avd": 29,
        }
    elif method == "tpsmm":
        extra = {
            "optimizer": optimizer_state(),
            "optimizer_bg_predictor": optimizer_state(),
            "optimizer_avd": optimizer_state(),
            "epoch": 99,
        }
    else:
        extra = {
            "g_optim": optimizer_state(),
            "d_optim": optimizer_state(),
            "args": argparse.Namespace(size=256, batch_size=32, lr=0.002, exp_path="./exps/"),
        }
    return {**modules, **extra}


def write_official(path: Path, method: str, config: Any, seed: int = 0) -> dict[str, Any]:
    """Write an official-format file for `method` at the sizes of our `config`; returns it."""
    contents = official_contents(method, LAYOUTS[method](config), seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(contents, path)
    return contents
