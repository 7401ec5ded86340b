"""FOMM's official checkpoints (AliaksandrSiarohin/first-order-model): `vox-cpk.pth.tar`,
`taichi-cpk.pth.tar`.

Layout (logger.py @2df3de2 `Logger.save_cpk`, train.py @40fddaf `log_epoch`): a `torch.save`
dict with one state dict per module, `generator`, `discriminator`, `kp_detector`, the three
optimisers `optimizer_generator`, `optimizer_discriminator`, `optimizer_kp_detector`, and
`epoch`. demo.py @1273c84 `load_checkpoints` reads `generator` and `kp_detector`.
Module names: modules/keypoint_detector.py, dense_motion.py, discriminator.py, util.py
@69c8901, modules/generator.py @1ac1bd4 (see `blocks` for the names that differ from ours).

The discriminator: train.py steps it only when `loss_weights.generator_gan != 0`, and
config/vox-256.yaml @8b16d29 and config/taichi-256.yaml @f220729 set 0, so the published
`discriminator` is its untrained initialisation; our FOMM builds none for generator_gan 0
(`talkingub.zoo.fomm.model`), and the entry is then not imported. A config that builds one
(e.g. `tiny`) gets the file's discriminator mapped.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from talkingub.bench.official.blocks import anti_alias, bottleneck, conv
from talkingub.bench.official.keymap import Rule, same
from talkingub.bench.official.layout import (
    Entry,
    OfficialLayout,
    Sampling,
    Variant,
    register_layout,
)
from talkingub.models.base import SynthesisModel

REPO = "AliaksandrSiarohin/first-order-model"


class FOMMLayout(OfficialLayout):
    method = "fomm"
    repository = REPO
    commit = "69c890159ca9db25bf055bb3a8a82d8fbcf4b27d"
    layout = (
        "torch.save dict: generator, kp_detector, discriminator (state dicts), "
        "optimizer_generator, optimizer_discriminator, optimizer_kp_detector, epoch"
    )
    entries = (
        Entry("kp_detector", "kp_detector"),
        Entry("generator", "generator"),
        Entry(
            "discriminator",
            "discriminator",
            required=False,
            when_unused="never trained by the official run (train.py steps it only when "
            "generator_gan != 0; the config sets 0); our config builds no discriminator",
            when_missing="our discriminator keeps its initial values (unused at inference)",
        ),
    )
    variants: ClassVar[Mapping[str, Variant]] = {
        "vox": Variant(
            name="vox",
            files=("vox-cpk.pth.tar",),
            config=f"{REPO}@config/vox-256.yaml (8b16d29)",
            image_size=256,
            animation="relative keypoints and Jacobians, no movement scale "
            "(animate_params.normalization_params)",
            sources={"default": "configs/paper.yaml is config/vox-256.yaml"},
        ),
        "taichi": Variant(
            name="taichi",
            files=("taichi-cpk.pth.tar",),
            config=f"{REPO}@config/taichi-256.yaml (f220729)",
            image_size=256,
            animation="relative keypoints and Jacobians, no movement scale "
            "(animate_params.normalization_params)",
            overrides={
                "discriminator.sn": False,
                "optim.num_repeats": 150,
                "optim.batch_size": 30,
            },
            sources={
                "discriminator.sn": "discriminator_params has no sn: Discriminator(sn=False)",
                "optim.num_repeats": "train_params.num_repeats",
                "optim.batch_size": "train_params.batch_size",
            },
        ),
    }
    sampling = Sampling(
        align_corners=True,
        evidence=f"{REPO}@requirements.txt (69c8901): torch==1.0.0, and README: 'use "
        "pytorch==1.0.0 for training'; grid_sample before torch 1.3 sampled as "
        "align_corners=True (pytorch/pytorch#24929)",
    )

    def rules(self, model: SynthesisModel) -> list[Rule]:
        dense = "generator.dense_motion_network"
        rules = [
            same("kp_detector.predictor"),
            same("kp_detector.kp"),
            same("kp_detector.jacobian"),
            anti_alias("kp_detector"),
            same(f"{dense}.hourglass"),
            same(f"{dense}.mask"),
            same(f"{dense}.occlusion"),
            anti_alias(dense),
            same("generator.first"),
            same("generator.down_blocks"),
            same("generator.up_blocks"),
            bottleneck("generator.bottleneck", "generator.bottleneck"),
            same("generator.final"),
        ]
        if getattr(model, "discriminator", None) is not None:
            rules += discriminator_rules(model.config.discriminator)
        return rules


def discriminator_rules(cfg: Any) -> list[Rule]:
    """`MultiScaleDiscriminator.discs` is an `nn.ModuleDict` keyed `str(scale).replace('.',
    '-')` (modules/discriminator.py): `discs.1` for the configs' `scales: [1]`; ours is a list
    in the order of `scales`. Each `Discriminator` has `down_blocks.{i}` (conv, InstanceNorm
    `norm` from the second block) and a final 1x1 `conv`."""
    rules: list[Rule] = []
    for index, scale in enumerate(cfg.scales):
        for name in _scale_names(scale):
            official, ours = f"discriminator.discs.{name}", f"discriminator.discs.{index}"
            block, our_block = f"{official}.down_blocks.{{n}}", f"{ours}.blocks.{{n}}"
            rules += conv(f"{block}.conv", f"{our_block}.conv", cfg.sn)
            rules.append(same(f"{block}.norm", f"{our_block}.norm"))
            rules += conv(f"{official}.conv", f"{ours}.conv", cfg.sn)
    return rules


def _scale_names(scale: float) -> list[str]:
    """The ModuleDict key of a scale as the YAML wrote it: `1` (an int) or `1.0`, `0.5`."""
    names = [str(float(scale)).replace(".", "-")]
    if float(scale).is_integer():
        names.insert(0, str(int(scale)))
    return names


register_layout(FOMMLayout())
