"""Key-map pieces shared by the FOMM-family importers (FOMM, MRAA, TPSMM): names of the
official modules that differ from ours, written once.

Facts (the official modules, read at the commits cited in each importer):
- `Generator.bottleneck` is an `nn.Sequential` filled with `add_module('r' + str(i), ...)`
  (first-order-model and articulated-animation modules/generator.py): keys `bottleneck.r{i}.*`;
  ours is a plain `nn.Sequential`: `bottleneck.{i}.*`.
- `AntiAliasInterpolation2d` registers its Gaussian kernel with `register_buffer('weight', ...)`
  (modules/util.py of all three): a persistent `down.weight` in every file. Ours computes the
  same kernel (non-persistent buffer), so the file's copy is checked, not loaded.
- `AVDNetwork` holds `id_encoder`, `pose_encoder`, `decoder` directly; ours wraps them in
  `network` (`talkingub.zoo.keypoint_common.avd`).
- torchvision's `resnet18` (TPSMM's keypoint detector and background predictor) names its
  stages `layer1`..`layer4`; ours `layers.0`..`layers.3`.
- `torch.nn.utils.spectral_norm` (torch 1.0, FOMM's discriminator) stores `weight_orig`,
  `weight_u`, `weight_v`; the parametrization API we use stores `parametrizations.weight.
  original`, `parametrizations.weight.0._u`, `parametrizations.weight.0._v` (the same values).
"""

from __future__ import annotations

from talkingub.bench.official.keymap import Rule, same
from talkingub.bench.official.layout import Entry

# MRAA's and TPSMM's AVD stage (train_avd.py) adds `avd_network` to the file of the main stage
AVD_ENTRY = Entry(
    "avd_network",
    "avd_network",
    required=False,
    when_missing="the file predates the AVD stage: our AVD network keeps its initial values "
    "and 'avd' animation is meaningless",
)


def bottleneck(official: str, ours: str) -> Rule:
    """`<official>.r{n}.*` -> `<ours>.{n}.*`."""
    return Rule(f"{official}.r{{n}}.{{rest}}", f"{ours}.{{n}}.{{rest}}")


def anti_alias(official: str, ours: str | None = None) -> Rule:
    """The `<module>.down.weight` Gaussian kernel: checked against ours, not loaded."""
    return Rule(f"{official}.down.weight", f"{ours or official}.down.weight", "fixed")


def avd(official: str = "avd_network", ours: str = "avd_network") -> list[Rule]:
    return [same(f"{official}.{part}", f"{ours}.network.{part}") for part in _AVD_PARTS]


_AVD_PARTS = ("id_encoder", "pose_encoder", "decoder")


def resnet18(official: str, ours: str) -> list[Rule]:
    """torchvision resnet18 names onto `talkingub.zoo.tpsmm.resnet.ResNet18`."""
    rules = [same(f"{official}.{part}", f"{ours}.{part}") for part in ("conv1", "bn1", "fc")]
    rules += [same(f"{official}.layer{k + 1}", f"{ours}.layers.{k}") for k in range(4)]
    return rules


def conv(official: str, ours: str, spectral: bool) -> list[Rule]:
    """One conv, plain or spectrally normalised (old `spectral_norm` -> parametrization)."""
    if not spectral:
        return [Rule(f"{official}.{name}", f"{ours}.{name}") for name in ("weight", "bias")]
    norm = f"{ours}.parametrizations.weight"
    return [
        Rule(f"{official}.bias", f"{ours}.bias"),
        Rule(f"{official}.weight_orig", f"{norm}.original"),
        Rule(f"{official}.weight_u", f"{norm}.0._u"),
        Rule(f"{official}.weight_v", f"{norm}.0._v"),
    ]
