"""TPSMM's official checkpoints (yoyo-nb/Thin-Plate-Spline-Motion-Model): `vox.pth.tar`,
`taichi.pth.tar`, `ted.pth.tar`.

Layout (train.py, train_avd.py, logger.py @0ec14f6 `Logger.save_cpk`): a `torch.save` dict
with `inpainting_network`, `dense_motion_network`, `kp_detector`, `optimizer`, `epoch`, and
from epoch `bg_start` on `bg_predictor` and `optimizer_bg_predictor`; the AVD stage
(train_avd.py) writes `avd_network` and `optimizer_avd` beside them. demo.py @246d42e reads
`inpainting_network`, `kp_detector`, `dense_motion_network` and, `if 'avd_network' in
checkpoint`, `avd_network`; reconstruction.py also `bg_predictor`.
Module names: modules/keypoint_detector.py, dense_motion.py, inpainting_network.py, util.py
@0ec14f6, bg_motion_predictor.py, avd_network.py @195207c; the keypoint detector and the
background predictor are torchvision `resnet18`s (`fg_encoder`, `bg_encoder`; `blocks` lists
the names that differ from ours). File names: predict.py @220233a `checkpoints/{d}.pth.tar`
for vox, taichi, ted (ted at 384 px); README @5ff52e3 `checkpoints/vox.pth.tar`. The training
settings of each variant are those of the configs the checkpoints were released with
(config/vox-256.yaml, ted-384.yaml @246d42e, taichi-256.yaml @5ff52e3: AVD bottlenecks 128).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from talkingub.bench.official.blocks import AVD_ENTRY, anti_alias, avd, resnet18
from talkingub.bench.official.keymap import Rule, same
from talkingub.bench.official.layout import (
    Entry,
    OfficialLayout,
    Sampling,
    Variant,
    register_layout,
)
from talkingub.models.base import SynthesisModel

REPO = "yoyo-nb/Thin-Plate-Spline-Motion-Model"
_ANIMATION = "relative with adaptive movement scale (demo.py default --mode relative)"
_TRAIN = {
    "dropout.max_p": "train_params.dropout_maxp",
    "dropout.start_p": "train_params.dropout_startp",
    "bg_start": "train_params.bg_start",
    "optim.num_repeats": "train_params.num_repeats",
    "optim.batch_size": "train_params.batch_size",
    "avd.epochs": "train_avd_params.num_epochs",
    "avd.milestones": "train_avd_params.epoch_milestones",
    "avd.num_repeats": "train_avd_params.num_repeats",
}


class TPSMMLayout(OfficialLayout):
    method = "tpsmm"
    repository = REPO
    commit = "0ec14f6c06f5beeef159340142ec5182a1be9bc7"
    layout = (
        "torch.save dict: inpainting_network, dense_motion_network, kp_detector, bg_predictor "
        "(state dicts), optimizer, optimizer_bg_predictor, epoch; after the AVD stage also "
        "avd_network, optimizer_avd"
    )
    entries = (
        Entry("kp_detector", "kp_detector"),
        Entry(
            "bg_predictor",
            "bg_predictor",
            when_unused="our config has bg: false (no background predictor)",
        ),
        Entry("dense_motion_network", "dense_motion_network"),
        Entry("inpainting_network", "inpainting_network"),
        AVD_ENTRY,
    )
    variants: ClassVar[Mapping[str, Variant]] = {
        "vox": Variant(
            name="vox",
            files=("vox.pth.tar",),
            config=f"{REPO}@config/vox-256.yaml (246d42e)",
            image_size=256,
            animation=_ANIMATION,
            overrides={
                "image_size": 256,
                "dropout.max_p": 0.3,
                "dropout.start_p": 0.1,
                "bg_start": 10,
                "optim.num_repeats": 75,
                "optim.batch_size": 28,
                "avd.epochs": 200,
                "avd.milestones": [140, 180],
                "avd.num_repeats": 300,
            },
            sources=_TRAIN,
        ),
        "taichi": Variant(
            name="taichi",
            files=("taichi.pth.tar",),
            config=f"{REPO}@config/taichi-256.yaml (5ff52e3)",
            image_size=256,
            animation=_ANIMATION,
            overrides={
                "image_size": 256,
                "dropout.max_p": 0.7,
                "optim.batch_size": 28,
                "avd.epochs": 100,
                "avd.milestones": [70, 90],
                "avd.num_repeats": 150,
            },
            sources=_TRAIN,
        ),
        "ted": Variant(
            name="ted",
            files=("ted.pth.tar",),
            config=f"{REPO}@config/ted-384.yaml (246d42e)",
            image_size=384,
            animation=_ANIMATION,
            overrides={"image_size": 384},
            sources={
                "default": "configs/paper.yaml is config/ted-384.yaml",
                "image_size": "predict.py: pixel = 384 if dataset_name == 'ted'",
            },
        ),
    }
    sampling = Sampling(
        align_corners=True,
        evidence=f"{REPO}@modules/dense_motion.py, inpainting_network.py, model.py (0ec14f6): "
        "align_corners=True passed to every grid_sample and bilinear interpolate",
    )

    def rules(self, model: SynthesisModel) -> list[Rule]:
        dense = "dense_motion_network"
        return [
            *resnet18("kp_detector.fg_encoder", "kp_detector.fg_encoder"),
            *resnet18("bg_predictor.bg_encoder", "bg_predictor.bg_encoder"),
            anti_alias(dense),
            same(f"{dense}.hourglass"),
            same(f"{dense}.maps"),
            same(f"{dense}.up"),
            same(f"{dense}.occlusion"),
            same("inpainting_network.first"),
            same("inpainting_network.down_blocks"),
            same("inpainting_network.up_blocks"),
            same("inpainting_network.resblock"),
            same("inpainting_network.final"),
            *avd(),
        ]


register_layout(TPSMMLayout())
