"""Built-in weights entries. Add an entry with `register_weights(WeightsSpec(...))`.

Entries are added by the components that need them (metric backends, perceptual losses);
each entry cites where the file comes from.
"""

from __future__ import annotations

from talkingub.weights.specs import WeightsSpec, register_weights

# FID: the TF-Inception graph of 2015-12-05 ported to PyTorch by torch-fidelity; torch.hub-style
# name with the sha256 prefix (toshas/torch-fidelity@torch_fidelity/feature_extractor_
# inceptionv3.py, URL_INCEPTION_V3). Same weights as pytorch-fid's pt_inception-2015-12-05.
register_weights(
    WeightsSpec(
        name="inception-fid",
        filename="weights-inception-2015-12-05-6726825d.pth",
        url="https://github.com/toshas/torch-fidelity/releases/download/v0.2.0/"
        "weights-inception-2015-12-05-6726825d.pth",
        sha256="6726825d",
        description="Inception-v3 pt_inception-2015-12-05 (FID pool3, 2048-d)",
        used_by=("fid",),
        license="Apache-2.0 (TensorFlow models)",
    )
)

# FVD: StyleGAN-V's TorchScript port of the Kinetics-400 I3D used by the original TF FVD
# (universome/stylegan-v@src/metrics/frechet_video_distance.py). No hash is published.
register_weights(
    WeightsSpec(
        name="i3d-fvd",
        filename="i3d_torchscript.pt",
        url="https://www.dropbox.com/s/ge9e5ujwgetktms/i3d_torchscript.pt?dl=1",
        sha256="",
        description="I3D Kinetics-400 TorchScript (FVD, 400-d logits features)",
        used_by=("fvd",),
        license="Apache-2.0 (DeepMind kinetics-i3d)",
    )
)

# ArcFace R50 (WebFace600K) from insightface's buffalo_l pack; the sha256 is that of the file
# inside deepinsight/insightface v0.7 buffalo_l.zip, identical on the HF mirror used here.
register_weights(
    WeightsSpec(
        name="arcface-w600k-r50",
        filename="w600k_r50.onnx",
        url="https://huggingface.co/public-data/insightface/resolve/main/models/buffalo_l/"
        "w600k_r50.onnx",
        sha256="4c06341c33c2ca1f86781dab0e829f88ad5b64be9fba56e56bc9ebdefc619e43",
        description="insightface ArcFace R50 recognition model, 512-d (AED/CSIM)",
        used_by=("aed", "csim"),
        license="non-commercial research (insightface model zoo)",
    )
)

# FAN 2D-4 stacks, face-alignment's TorchScript archive (1adrianb/face-alignment@
# face_alignment/api.py default_model_urls); torch.jit.load reads the zip as is.
register_weights(
    WeightsSpec(
        name="fan-2dfan4",
        filename="2DFAN4-cd938726ad.zip",
        url="https://www.adrianbulat.com/downloads/python-fan/2DFAN4-cd938726ad.zip",
        sha256="cd938726adb1f15f361263cce2db9cb820c42585fa8796ec72ce19107f369a46",
        description="FAN 68-point face landmarks (FLD, paper-faithful)",
        used_by=("fld",),
        license="BSD-3-Clause (face-alignment)",
    )
)

# RTMPose-m body7 256x192 (COCO-17), the ONNX export rtmlib's `Body` uses; the zip holds
# `end2end.onnx`. The hash in the name (e48f03d0) is that of the .pth, not of this file.
register_weights(
    WeightsSpec(
        name="rtmpose-m-body7",
        filename="rtmpose-m_simcc-body7_256x192.onnx",
        url="https://download.openmmlab.com/mmpose/v1/projects/rtmposev1/onnx_sdk/"
        "rtmpose-m_simcc-body7_pt-body7_420e-256x192-e48f03d0_20230504.zip",
        sha256="",
        archive_member="end2end.onnx",
        description="RTMPose-m body keypoints, OpenPose-family COCO-17 (AKD, paper-faithful)",
        used_by=("akd", "mkr"),
        license="Apache-2.0 (mmpose)",
    )
)

# LPIPS backbone: torchvision AlexNet (the LPIPS linear heads ship inside torchmetrics).
register_weights(
    WeightsSpec(
        name="alexnet-lpips",
        filename="alexnet-owt-7be5be79.pth",
        url="https://download.pytorch.org/models/alexnet-owt-7be5be79.pth",
        sha256="7be5be79",
        description="torchvision AlexNet ImageNet (LPIPS 'alex' backbone)",
        used_by=("lpips",),
        license="BSD-3-Clause (torchvision)",
    )
)
