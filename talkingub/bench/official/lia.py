"""LIA's official checkpoints (wyhsirius/LIA): `vox.pt`, `taichi.pt`, `ted.pt`.

Layout (trainer.py @2a5bbfa `Trainer.save`): a `torch.save` dict with `gen` and `dis` (state
dicts), `g_optim`, `d_optim` and `args` (the training `argparse.Namespace`); run_demo.py
@dad4a73 reads `torch.load(model_path)['gen']` from `checkpoints/{vox,taichi,ted}.pt`, all
with `Generator(size=256, 512, 20, channel_multiplier=1)`. `args` is the one non-tensor object:
the safe loader is allowed to build `argparse.Namespace` (a plain attribute container; its
values still have to be plain data) and nothing else.

Module names: networks/generator.py, encoder.py, styledecoder.py @2a5bbfa (the generator);
the repository has no networks/discriminator.py, so `dis` follows its fork
brunotech/LIA@networks/discriminator.py (8d254f4), as our discriminator does. What differs
from ours:
- `FusedLeakyReLU.bias` is `[1, C, 1, 1]` and `ModulatedConv2d.weight` `[1, O, I, k, k]`;
  ours store `[C]` and `[O, I, k, k]` (reshaped, same values).
- `Blur` / `Upsample` register their FIR kernels as buffers: checked against ours.
- `StyledConv.noise` (`NoiseInjection.weight`) and `Synthesis.to_rgb1`: built but unused by
  the forward pass (`Synthesis.forward` passes no noise and never calls `to_rgb1`); dropped.
- Encoder `net_app.convs` = [ConvLayer stem, ResBlocks..., EqualConv2d head]; ours `stem`,
  `blocks`, `head`; decoder `convs[2j]`, `convs[2j+1]`, `to_flows[j]`, `to_rgbs[j]` are our
  `octaves[j].up`, `.conv`, `.to_flow`, `.to_rgb`; `direction` is our `dictionary`, `input.
  input` our `synthesis.const`.
- ToFlow samples with `F.grid_sample(feat, flow)`, torch's default align_corners=False
  (README: PyTorch 1.5+); ours defaults to True (documented), so the import sets False.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Mapping
from typing import ClassVar

from talkingub.bench.official.keymap import Rule
from talkingub.bench.official.layout import (
    Entry,
    OfficialLayout,
    Sampling,
    Variant,
    register_layout,
)
from talkingub.models.base import SynthesisModel

REPO = "wyhsirius/LIA"
_NOISE = "NoiseInjection: Synthesis.forward passes no noise, so it returns its input as is"
_TO_RGB1 = "Synthesis.to_rgb1 is built but never called by Synthesis.forward"


def _variant(name: str, animation: str) -> Variant:
    return Variant(
        name=name,
        files=(f"{name}.pt",),
        config=f"{REPO}@run_demo.py (dad4a73): Generator(256, 512, 20, 1), checkpoints/{name}.pt",
        image_size=256,
        animation=animation,
        sources={"default": "configs/paper.yaml (train.py defaults; run_demo.py --size 256)"},
    )


_RELATIVE = "relative: h_start = the first driving frame's motion (run_demo.py)"


class LIALayout(OfficialLayout):
    method = "lia"
    repository = REPO
    commit = "2a5bbfa2167b13b1f933a43506eaf62cb47a9a38"
    layout = "torch.save dict: gen, dis (state dicts), g_optim, d_optim, args (argparse)"
    entries = (
        Entry("gen", "generator"),
        Entry(
            "dis",
            "discriminator",
            required=False,
            when_missing="our discriminator keeps its initial values (unused at inference)",
        ),
    )
    variants: ClassVar[Mapping[str, Variant]] = {
        "vox": _variant("vox", _RELATIVE),
        "taichi": _variant("taichi", _RELATIVE),
        "ted": _variant("ted", "absolute: h_start = None for the ted model (run_demo.py)"),
    }
    sampling = Sampling(
        align_corners=False,
        evidence=f"{REPO}@networks/styledecoder.py (2a5bbfa) ToFlow: F.grid_sample(feat, flow) "
        "without the argument, under PyTorch 1.5+ (README): False (pytorch/pytorch#24929)",
    )
    safe_globals = (argparse.Namespace,)

    def rules(self, model: SynthesisModel) -> list[Rule]:
        config = model.config
        levels = int(math.log2(config.image_size)) - 2  # ResBlocks of E and octaves of G
        rules = encoder_rules(levels) + decoder_rules(levels)
        if getattr(model, "discriminator", None) is not None:
            rules += discriminator_rules(levels)
        return rules


def conv_layer(official: str, ours: str, downsample: bool, activate: bool = True) -> list[Rule]:
    """`ConvLayer` (an nn.Sequential): [Blur if downsample] EqualConv2d [FusedLeakyReLU]."""
    rules, index = [], 0
    if downsample:
        rules.append(Rule(f"{official}.0.kernel", f"{ours}.0.kernel", "fixed"))
        index = 1
    rules.append(Rule(f"{official}.{index}.weight", f"{ours}.{index}.weight"))
    if activate:
        rules.append(Rule(f"{official}.{index + 1}.bias", f"{ours}.{index + 1}.bias", "reshape"))
    return rules


def res_block(official: str, ours: str) -> list[Rule]:
    """`ResBlock`: conv1 (3x3), conv2 (3x3, down), skip (1x1, down, no activation)."""
    return [
        *conv_layer(f"{official}.conv1", f"{ours}.conv1", downsample=False),
        *conv_layer(f"{official}.conv2", f"{ours}.conv2", downsample=True),
        *conv_layer(f"{official}.skip", f"{ours}.skip", downsample=True, activate=False),
    ]


def styled_conv(official: str, ours: str, upsample: bool) -> list[Rule]:
    """`StyledConv`: ModulatedConv2d `conv` (+ its Blur when upsampling), `noise`, `activate`."""
    rules = [
        Rule(f"{official}.conv.weight", f"{ours}.conv.weight", "reshape"),
        Rule(f"{official}.conv.modulation.{{rest}}", f"{ours}.conv.modulation.{{rest}}"),
        Rule(f"{official}.noise.weight", action="drop", reason=_NOISE),
        Rule(f"{official}.activate.bias", f"{ours}.activate.bias", "reshape"),
    ]
    if upsample:
        rules.append(Rule(f"{official}.conv.blur.kernel", f"{ours}.conv.blur.kernel", "fixed"))
    return rules


def encoder_rules(levels: int) -> list[Rule]:
    app, ours = "gen.enc.net_app.convs", "generator.encoder.appearance"
    rules = conv_layer(f"{app}.0", f"{ours}.stem", downsample=False)
    for k in range(levels):
        rules += res_block(f"{app}.{k + 1}", f"{ours}.blocks.{k}")
    rules.append(Rule(f"{app}.{levels + 1}.weight", f"{ours}.head.weight"))
    rules.append(Rule("gen.enc.fc.{n}.{rest}", "generator.encoder.motion.layers.{n}.{rest}"))
    return rules


def decoder_rules(levels: int) -> list[Rule]:
    dec, ours = "gen.dec", "generator.synthesis"
    rules = [
        Rule(f"{dec}.direction.weight", "generator.dictionary.weight"),
        Rule(f"{dec}.input.input", f"{ours}.const"),
        *styled_conv(f"{dec}.conv1", f"{ours}.conv1", upsample=False),
        Rule(f"{dec}.to_rgb1.{{rest}}", action="drop", reason=_TO_RGB1),
    ]
    for j in range(levels):
        octave = f"{ours}.octaves.{j}"
        rules += styled_conv(f"{dec}.convs.{2 * j}", f"{octave}.up", upsample=True)
        rules += styled_conv(f"{dec}.convs.{2 * j + 1}", f"{octave}.conv", upsample=False)
        flow, rgb = f"{dec}.to_flows.{j}", f"{dec}.to_rgbs.{j}"
        rules += [
            Rule(f"{flow}.upsample.kernel", f"{octave}.to_flow.upsample.kernel", "fixed"),
            Rule(f"{flow}.conv.weight", f"{octave}.to_flow.conv.weight", "reshape"),
            Rule(f"{flow}.conv.modulation.{{rest}}", f"{octave}.to_flow.conv.modulation.{{rest}}"),
            Rule(f"{flow}.bias", f"{octave}.to_flow.bias"),
            Rule(f"{rgb}.upsample.kernel", f"{octave}.to_rgb.upsample.kernel", "fixed"),
            *conv_layer(f"{rgb}.conv", f"{octave}.to_rgb.conv", downsample=False),
            Rule(f"{rgb}.bias", f"{octave}.to_rgb.bias"),
        ]
    return rules


def discriminator_rules(levels: int) -> list[Rule]:
    """brunotech/LIA@networks/discriminator.py: `convs` = [ConvLayer stem, ResBlocks...]
    (an nn.Sequential), `final_conv` (ConvLayer), `final_linear` (two EqualLinear)."""
    rules = conv_layer("dis.convs.0", "discriminator.stem", downsample=False)
    for k in range(levels):
        rules += res_block(f"dis.convs.{k + 1}", f"discriminator.blocks.{k}")
    rules += conv_layer("dis.final_conv", "discriminator.final_conv", downsample=False)
    rules.append(Rule("dis.final_linear.{n}.{rest}", "discriminator.final_linear.{n}.{rest}"))
    return rules


register_layout(LIALayout())
