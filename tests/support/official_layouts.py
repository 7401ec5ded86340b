"""The state-dict layouts of the official FOMM, MRAA, TPSMM and LIA checkpoints (key names and
shapes), written from the reference code, to build test files in the official format.

Names and shapes follow the modules as the reference code builds them (constructor order, the
channel formulas of each `__init__`), at the sizes a config asks for; nothing here looks at our
implementation. Sources (commits as in talkingub/bench/official/*.py):
- FOMM: AliaksandrSiarohin/first-order-model modules/util.py (Hourglass, Encoder, Decoder,
  Up/Down/SameBlock2d, ResBlock2d with SynchronizedBatchNorm2d, AntiAliasInterpolation2d),
  keypoint_detector.py (KPDetector), dense_motion.py, generator.py (OcclusionAwareGenerator,
  bottleneck 'r{i}'), discriminator.py (MultiScaleDiscriminator, spectral_norm).
- MRAA: snap-research/articulated-animation modules/region_predictor.py, generator.py,
  pixelwise_flow_predictor.py, bg_motion_predictor.py, avd_network.py, util.py.
- TPSMM: yoyo-nb/Thin-Plate-Spline-Motion-Model modules/keypoint_detector.py and
  bg_motion_predictor.py (torchvision resnet18), dense_motion.py, inpainting_network.py,
  avd_network.py, util.py (InstanceNorm2d blocks).
- LIA: wyhsirius/LIA networks/encoder.py, styledecoder.py, generator.py; the discriminator
  of its fork brunotech/LIA networks/discriminator.py.
"""

from __future__ import annotations

import math
from collections import OrderedDict

import torch

Shapes = dict[str, tuple[int, ...]]
Layout = dict[str, Shapes]  # entry (top-level key) -> key -> shape


def join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def level(be: int, mf: int, i: int) -> int:
    return min(mf, be * 2**i)


def norm(out: Shapes, prefix: str, c: int, running: bool) -> None:
    out[f"{prefix}.weight"] = (c,)
    out[f"{prefix}.bias"] = (c,)
    if running:
        out[f"{prefix}.running_mean"] = (c,)
        out[f"{prefix}.running_var"] = (c,)
        out[f"{prefix}.num_batches_tracked"] = ()


def conv(out: Shapes, prefix: str, cout: int, cin: int, k: int, bias: bool = True) -> None:
    out[f"{prefix}.weight"] = (cout, cin, k, k)
    if bias:
        out[f"{prefix}.bias"] = (cout,)


def block(out: Shapes, prefix: str, cin: int, cout: int, k: int = 3, bn: bool = True) -> None:
    """Same/Down/UpBlock2d: conv, norm."""
    conv(out, f"{prefix}.conv", cout, cin, k)
    norm(out, f"{prefix}.norm", cout, bn)


def resblock(out: Shapes, prefix: str, c: int, bn: bool = True) -> None:
    """ResBlock2d: conv1, conv2, norm1, norm2 (constructor order)."""
    conv(out, f"{prefix}.conv1", c, c, 3)
    conv(out, f"{prefix}.conv2", c, c, 3)
    norm(out, f"{prefix}.norm1", c, bn)
    norm(out, f"{prefix}.norm2", c, bn)


def encoder(out: Shapes, prefix: str, be: int, inf: int, nb: int, mf: int, bn: bool) -> None:
    for i in range(nb):
        cin = inf if i == 0 else level(be, mf, i)
        block(out, f"{prefix}.down_blocks.{i}", cin, level(be, mf, i + 1), bn=bn)


def hourglass(out: Shapes, prefix: str, be: int, inf: int, nb: int, mf: int, bn: bool) -> int:
    """Hourglass(block_expansion, in_features, num_blocks, max_features); returns out_filters."""
    encoder(out, f"{prefix}.encoder", be, inf, nb, mf, bn)
    for n, i in enumerate(reversed(range(nb))):
        cin = (1 if i == nb - 1 else 2) * level(be, mf, i + 1)
        block(out, f"{prefix}.decoder.up_blocks.{n}", cin, level(be, mf, i), bn=bn)
    return be + inf


def anti_alias(out: Shapes, prefix: str, channels: int, scale: float) -> None:
    """AntiAliasInterpolation2d's `weight` buffer, registered only when scale != 1."""
    if scale != 1:
        size = 2 * round((1 / scale - 1) / 2 * 4) + 1
        out[join(prefix, "down.weight")] = (channels, 1, size, size)


def johnson(
    out: Shapes, nc: int, be: int, mf: int, down: int, bottleneck: int, bn: bool = True
) -> None:
    """first / down_blocks / up_blocks / bottleneck.r{i} / final of FOMM's and MRAA's
    generators (constructor order)."""
    block(out, "first", nc, be, 7, bn)
    for i in range(down):
        block(out, f"down_blocks.{i}", level(be, mf, i), level(be, mf, i + 1), bn=bn)
    for i in range(down):
        block(out, f"up_blocks.{i}", level(be, mf, down - i), level(be, mf, down - i - 1), bn=bn)
    for i in range(bottleneck):
        resblock(out, f"bottleneck.r{i}", level(be, mf, down), bn)
    conv(out, "final", nc, be, 7)


def avd(out: Shapes, prefix: str, input_size: int, id_size: int, pose_size: int) -> None:
    """AVDNetwork: Linear / BatchNorm1d / ReLU stacks at Sequential indices 0,1,3,4,6,7,9."""
    for part, widths in (
        ("id_encoder", (input_size, 256, 512, 1024, id_size)),
        ("pose_encoder", (input_size, 256, 512, 1024, pose_size)),
        ("decoder", (pose_size + id_size, 1024, 512, 256, input_size)),
    ):
        for n in range(4):
            out[join(prefix, f"{part}.{3 * n}.weight")] = (widths[n + 1], widths[n])
            out[join(prefix, f"{part}.{3 * n}.bias")] = (widths[n + 1],)
            if n < 3:
                norm(out, join(prefix, f"{part}.{3 * n + 1}"), widths[n + 1], True)


def resnet18(out: Shapes, prefix: str, inputs: int, outputs: int, width: int = 64) -> None:
    """torchvision resnet18 (conv1 without bias, bn1, layer1..4 of BasicBlocks, fc)."""
    conv(out, f"{prefix}.conv1", width, inputs, 7, bias=False)
    norm(out, f"{prefix}.bn1", width, True)
    cin = width
    for stage in range(4):
        cout = width * 2**stage
        for b in range(2):
            name = f"{prefix}.layer{stage + 1}.{b}"
            first_in = cin if b == 0 else cout
            conv(out, f"{name}.conv1", cout, first_in, 3, bias=False)
            norm(out, f"{name}.bn1", cout, True)
            conv(out, f"{name}.conv2", cout, cout, 3, bias=False)
            norm(out, f"{name}.bn2", cout, True)
            if b == 0 and stage > 0:
                conv(out, f"{name}.downsample.0", cout, cin, 1, bias=False)
                norm(out, f"{name}.downsample.1", cout, True)
        cin = cout
    out[f"{prefix}.fc.weight"] = (outputs, cin)
    out[f"{prefix}.fc.bias"] = (outputs,)


def prefixed(prefix: str, shapes: Shapes) -> Shapes:
    return {f"{prefix}.{k}": v for k, v in shapes.items()}


# --- LIA -----------------------------------------------------------------------------------


def conv_layer(
    out: Shapes, prefix: str, cin: int, cout: int, k: int, down: bool, act: bool = True
) -> None:
    """ConvLayer: [Blur kernel] EqualConv2d (bias only without activation) [FusedLeakyReLU]."""
    index = 0
    if down:
        out[f"{prefix}.0.kernel"] = (4, 4)
        index = 1
    out[f"{prefix}.{index}.weight"] = (cout, cin, k, k)
    if act:
        out[f"{prefix}.{index + 1}.bias"] = (1, cout, 1, 1)


def lia_resblock(out: Shapes, prefix: str, cin: int, cout: int) -> None:
    conv_layer(out, f"{prefix}.conv1", cin, cin, 3, False)
    conv_layer(out, f"{prefix}.conv2", cin, cout, 3, True)
    conv_layer(out, f"{prefix}.skip", cin, cout, 1, True, act=False)


def styled_conv(out: Shapes, prefix: str, cin: int, cout: int, style: int, up: bool) -> None:
    out[f"{prefix}.conv.weight"] = (1, cout, cin, 3, 3)
    if up:
        out[f"{prefix}.conv.blur.kernel"] = (4, 4)
    out[f"{prefix}.conv.modulation.weight"] = (cin, style)
    out[f"{prefix}.conv.modulation.bias"] = (cin,)
    out[f"{prefix}.noise.weight"] = (1,)
    out[f"{prefix}.activate.bias"] = (1, cout, 1, 1)


def lia_generator(
    size: int, style: int, motion: int, channels: dict[int, int], mlp_depth: int = 4
) -> Shapes:
    """Generator(size, style_dim, motion_dim): enc (EncoderApp + fc), dec (Synthesis)."""
    out: Shapes = {}
    log_size = int(math.log2(size))
    conv_layer(out, "enc.net_app.convs.0", 3, channels[size], 1, False)
    cin = channels[size]
    for n, i in enumerate(range(log_size, 2, -1)):
        cout = channels[2 ** (i - 1)]
        lia_resblock(out, f"enc.net_app.convs.{n + 1}", cin, cout)
        cin = cout
    out[f"enc.net_app.convs.{log_size - 1}.weight"] = (style, cin, 4, 4)
    for n in range(mlp_depth + 1):
        width = motion if n == mlp_depth else style
        out[f"enc.fc.{n}.weight"] = (width, style)
        out[f"enc.fc.{n}.bias"] = (width,)
    out["dec.direction.weight"] = (style, motion)
    out["dec.input.input"] = (1, channels[4], 4, 4)
    styled_conv(out, "dec.conv1", channels[4], channels[4], style, False)
    out["dec.to_rgb1.conv.0.weight"] = (3, channels[4], 1, 1)
    out["dec.to_rgb1.conv.1.bias"] = (1, 3, 1, 1)
    out["dec.to_rgb1.bias"] = (1, 3, 1, 1)
    cin = channels[4]
    for j, i in enumerate(range(3, log_size + 1)):
        cout = channels[2**i]
        styled_conv(out, f"dec.convs.{2 * j}", cin, cout, style, True)
        styled_conv(out, f"dec.convs.{2 * j + 1}", cout, cout, style, False)
        rgb, flow = f"dec.to_rgbs.{j}", f"dec.to_flows.{j}"
        out[f"{rgb}.upsample.kernel"] = (4, 4)
        out[f"{rgb}.conv.0.weight"] = (3, cout, 1, 1)
        out[f"{rgb}.conv.1.bias"] = (1, 3, 1, 1)
        out[f"{rgb}.bias"] = (1, 3, 1, 1)
        out[f"{flow}.upsample.kernel"] = (4, 4)
        out[f"{flow}.conv.weight"] = (1, 3, cout, 1, 1)
        out[f"{flow}.conv.modulation.weight"] = (cout, style)
        out[f"{flow}.conv.modulation.bias"] = (cout,)
        out[f"{flow}.bias"] = (1, 3, 1, 1)
        cin = cout
    return out


def lia_discriminator(size: int, channels: dict[int, int]) -> Shapes:
    out: Shapes = {}
    conv_layer(out, "convs.0", 3, channels[size], 1, False)
    cin = channels[size]
    for n, i in enumerate(range(int(math.log2(size)), 2, -1)):
        cout = channels[2 ** (i - 1)]
        lia_resblock(out, f"convs.{n + 1}", cin, cout)
        cin = cout
    conv_layer(out, "final_conv", cin + 1, channels[4], 3, False)
    out["final_linear.0.weight"] = (channels[4], channels[4] * 16)
    out["final_linear.0.bias"] = (channels[4],)
    out["final_linear.1.weight"] = (1, channels[4])
    out["final_linear.1.bias"] = (1,)
    return out


# --- values --------------------------------------------------------------------------------


def gaussian_kernel(channels: int, size: int, scale: float) -> torch.Tensor:
    """AntiAliasInterpolation2d's kernel: product of 1-D Gaussians, sigma = (1/scale - 1)/2."""
    sigma = (1 / scale - 1) / 2
    axis = torch.arange(size, dtype=torch.float32)
    one = torch.exp(-((axis - (size - 1) / 2) ** 2) / (2 * sigma**2))
    kernel = one[:, None] * one[None, :]
    return (kernel / kernel.sum()).view(1, 1, size, size).repeat(channels, 1, 1, 1)


def blur_kernel(gain: float) -> torch.Tensor:
    """make_kernel([1, 3, 3, 1]) (outer product, normalised), times gain."""
    taps = torch.tensor([1.0, 3.0, 3.0, 1.0])
    kernel = taps[None, :] * taps[:, None]
    return kernel / kernel.sum() * gain


def materialise(
    shapes: Shapes, generator: torch.Generator, scale: float = 0.25
) -> OrderedDict[str, torch.Tensor]:
    """Random values in `shapes`; BatchNorm statistics valid, constants as the reference
    computes them (anti-alias kernels at `scale`; blur kernels, x4 where they upsample)."""
    state: OrderedDict[str, torch.Tensor] = OrderedDict()
    for key, shape in shapes.items():
        if key.endswith("num_batches_tracked"):
            state[key] = torch.tensor(1000, dtype=torch.long)
        elif key.endswith("running_var"):
            state[key] = torch.rand(shape, generator=generator) + 0.5
        elif key.endswith("down.weight"):
            state[key] = gaussian_kernel(shape[0], shape[-1], scale)
        elif key.endswith("kernel"):
            upsampling = "upsample" in key or ".conv.blur." in key
            state[key] = blur_kernel(4.0 if upsampling else 1.0)
        else:
            state[key] = torch.randn(shape, generator=generator) * 0.05
    return state
