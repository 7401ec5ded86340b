"""MRAA's official checkpoints (snap-research/articulated-animation): `vox256.pth`,
`ted384.pth`.

Layout (train.py @2419830, train_avd.py @66979be, logger.py @6adbc1f `Logger.save_cpk`): a
`torch.save` dict with `generator`, `region_predictor`, `bg_predictor`,
`optimizer_reconstruction` and `epoch_reconstruction`; the AVD stage (train_avd.py) adds
`avd_network`, `optimizer_avd` and `epoch_avd` to the same dict. demo.py reads `generator`,
`region_predictor` and, `if 'avd_network' in checkpoint`, `avd_network`.
Module names: modules/region_predictor.py, generator.py @2419830, pixelwise_flow_predictor.py,
util.py @6b20297, bg_motion_predictor.py, avd_network.py @66979be (`blocks` lists the names
that differ from ours). Only the PCA region predictor (`pca_based: True`, both published
configs) exists in our MRAA: a regression `region_predictor.jacobian` has no rule.

The two configs differ in architecture only by the region predictor's padding:
config/ted384.yaml sets `pad: 0`, config/vox256.yaml leaves `RegionPredictor`'s default
`pad=3` (same weight shapes, different heatmap size).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from talkingub.bench.official.blocks import AVD_ENTRY, anti_alias, avd, bottleneck
from talkingub.bench.official.keymap import Rule, same
from talkingub.bench.official.layout import (
    Entry,
    OfficialLayout,
    Sampling,
    Variant,
    register_layout,
)
from talkingub.models.base import SynthesisModel

REPO = "snap-research/articulated-animation"
_LFS = f"{REPO}@checkpoints/*.pth (451f7da): the Git LFS pointer's oid is the file's sha256"


class MRAALayout(OfficialLayout):
    method = "mraa"
    repository = REPO
    commit = "6b2029788185e5034c1f5365b444fa27ba075095"
    layout = (
        "torch.save dict: generator, region_predictor, bg_predictor (state dicts), "
        "optimizer_reconstruction, epoch_reconstruction; after the AVD stage also "
        "avd_network, optimizer_avd, epoch_avd"
    )
    entries = (
        Entry("region_predictor", "region_predictor"),
        Entry(
            "bg_predictor",
            "bg_predictor",
            when_unused="our config's bg_type 'zero' has no background network",
        ),
        Entry("generator", "generator"),
        AVD_ENTRY,
    )
    variants: ClassVar[Mapping[str, Variant]] = {
        "vox": Variant(
            name="vox",
            files=("vox256.pth",),
            config=f"{REPO}@config/vox256.yaml (66979be)",
            image_size=256,
            animation="avd (animate_params.mode)",
            overrides={
                "image_size": 256,
                "region_predictor.pad": 3,
                "optim.num_repeats": 75,
                "optim.batch_size": 14,
                "avd.num_repeats": 2000,
            },
            sources={
                "region_predictor.pad": "region_predictor_params has no pad: RegionPredictor "
                "default pad=3 (modules/region_predictor.py)",
                "optim.num_repeats": "train_params.num_repeats",
                "optim.batch_size": "train_params.batch_size",
                "avd.num_repeats": "train_avd_params.num_repeats",
            },
            published_from=_LFS,
            published_sha256={
                "vox256.pth": "a8c59e0b38f96195eac6414265dcf8e4b15e0675cea2622489b735edc61b3b66"
            },
        ),
        "ted": Variant(
            name="ted",
            files=("ted384.pth",),
            config=f"{REPO}@config/ted384.yaml (6b20297)",
            image_size=384,
            animation="avd (animate_params.mode; demo.py default --mode avd)",
            overrides={"image_size": 384},
            sources={
                "default": "configs/paper.yaml is config/ted384.yaml",
                "image_size": "TED384-v2 frames (README: load_videos.py --image_shape 384,384; "
                "demo.py --img_shape 384,384)",
            },
            published_from=_LFS,
            published_sha256={
                "ted384.pth": "5c88fb60718a64a8fd87043b0e95781b50e500457d03bf3b4fd26cca6b70c3f7"
            },
        ),
    }
    sampling = Sampling(
        align_corners=False,
        evidence=f"{REPO}@requirements.txt (6b20297): torch==1.4.0, and no align_corners "
        "argument in modules/*.py: grid_sample / interpolate defaults, False since torch 1.3 "
        "(pytorch/pytorch#24929)",
    )

    def rules(self, model: SynthesisModel) -> list[Rule]:
        flow = "generator.pixelwise_flow_predictor"
        return [
            same("region_predictor.predictor"),
            same("region_predictor.regions"),
            anti_alias("region_predictor"),
            same("bg_predictor.encoder"),
            same("bg_predictor.fc"),
            same(f"{flow}.hourglass"),
            same(f"{flow}.mask"),
            same(f"{flow}.occlusion"),
            anti_alias(flow),
            same("generator.first"),
            same("generator.down_blocks"),
            same("generator.up_blocks"),
            bottleneck("generator.bottleneck", "generator.bottleneck"),
            same("generator.final"),
            *avd(),
        ]


register_layout(MRAALayout())
