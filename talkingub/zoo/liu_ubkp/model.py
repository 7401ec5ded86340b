"""Liu et al., "Video synthesis of human upper body with realistic face" (ISMAR 2019 adjunct),
our implementation behind the model registry as `liu-ubkp`: the person-specific track.

Pipeline (paper Fig. 1): the source's upper-body keypoints (UBKP) and facial action units
and pose (FAUP) per frame (stage 1: from the build's recorded pose and face box,
`keypoints.py`, `au.py`) -> the target's UBKP by global pose normalisation (`normalise.py`)
and its facial landmark image from the FAUP by a pix2pixHD (`landmark_net.py`) (stage 2) ->
the target's frame from UBKP + landmark image by a temporally smoothed pix2pixHD
(`frame_net.py`) (stage 3). One model per target person, trained on that person's own frames
(`talkingub.bench.person_specific`); the appearance lives in the weights, so the source
*image* the bench's interface passes is not used.

Batches: a window of L + 1 consecutive frames of one person, `window` [B, L+1, 3, H, W],
`window_pose` [B, L+1, 33, 3] (BlazePose x, y in 0-1 of the frame, visibility) and
`window_face_box` [B, L+1, 4]; or the contract's pair `source` / `driving` read as a window
of two frames, with `source_pose` / `driving_pose` and the face boxes. Both stages train in
one step on disjoint parameters: stage 1 on the frames' FAUP -> landmark images (adversarial +
lambda L1, Eq. 2), stage 2 on the ground-truth UBKP-FL images -> frames (L_TS + alpha L_FM +
beta L_VGG, Eq. 4). `animate` / `reconstruct` take `driving_pose` [B, T, 33, 3] and
`driving_face_box` [B, T, 4]; "relative" (cross identity) normalises them to the model's
person first, "absolute" (same identity, `reconstruct`) uses them as they are.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from talkingub.errors import ConfigError
from talkingub.models.base import DISCRIMINATOR, GENERATOR, PERSON_SPECIFIC, Batch, SynthesisModel
from talkingub.models.registry import register_model
from talkingub.zoo.keypoint_common.training import LazyPerceptual
from talkingub.zoo.liu_ubkp import normalise as N
from talkingub.zoo.liu_ubkp.au import faup
from talkingub.zoo.liu_ubkp.config import LiuConfig
from talkingub.zoo.liu_ubkp.frame_net import FrameGenerator, temporal_discriminator
from talkingub.zoo.liu_ubkp.keypoints import face_points, paste, render_landmarks, render_ubkp
from talkingub.zoo.liu_ubkp.landmark_net import LandmarkGenerator, landmark_discriminator
from talkingub.zoo.liu_ubkp.losses import feature_matching, gan_loss

CONFIG_DIR = Path(__file__).parent / "configs"
Window = tuple[torch.Tensor, torch.Tensor, torch.Tensor]


@register_model("liu-ubkp", LiuConfig, CONFIG_DIR)
class LiuUBKP(SynthesisModel):
    track: ClassVar[str] = PERSON_SPECIFIC
    animate_modes: ClassVar[tuple[str, ...]] = ("relative", "absolute")
    config: LiuConfig

    def __init__(self, config: LiuConfig) -> None:
        super().__init__(config)
        c = config
        self.landmarks = LandmarkGenerator(c)
        self.frames = FrameGenerator(c)
        self.landmark_d = landmark_discriminator(c)
        self.temporal_d = temporal_discriminator(c)
        self.stats = N.PersonStats()
        self.perceptual = LazyPerceptual(
            c.perceptual, (1.0,), c.perceptual_layer_weights, c.pyramid_downsample
        )
        self._stash: dict[str, torch.Tensor] = {}

    # --- training -------------------------------------------------------------------------
    def parameter_groups(self) -> dict[str, list[nn.Parameter]]:
        return {
            GENERATOR: [*self.landmarks.parameters(), *self.frames.parameters()],
            DISCRIMINATOR: [*self.landmark_d.parameters(), *self.temporal_d.parameters()],
        }

    def window(self, batch: Batch) -> Window:
        """(frames [B, W, 3, H, W] in [0, 1], pose [B, W, 33, 3], face boxes [B, W, 4]) with
        W = L + 1: the batch's window, or its source / driving pair."""
        if "window" in batch:
            frames, pose, box = batch["window"], batch["window_pose"], batch["window_face_box"]
        else:
            needed = ("source_pose", "driving_pose", "source_face_box", "driving_face_box")
            missing = [k for k in needed if k not in batch]
            if missing:
                raise ConfigError(f"liu-ubkp: the batch has no {', '.join(missing)}")
            frames = torch.stack([batch["source"], batch["driving"]], dim=1)
            pose = torch.stack([batch["source_pose"], batch["driving_pose"]], dim=1)
            box = torch.stack([batch["source_face_box"], batch["driving_face_box"]], dim=1)
        need = self.config.temporal_window + 1
        if frames.shape[1] < need:
            raise ConfigError(
                f"liu-ubkp: a training window needs L + 1 = {need} frames, got {frames.shape[1]}"
            )
        return frames[:, -need:], pose[:, -need:].float(), box[:, -need:].float()

    def conditions(
        self, pose: torch.Tensor, box: torch.Tensor, landmark_crop: torch.Tensor
    ) -> torch.Tensor:
        """UBKP-FL images [N, 4, H, W]: the stick figure of `pose` [N, 33, 3] and the landmark
        image `landmark_crop` [N, 1, s, s] (in [0, 1]) pasted at `box` [N, 4]."""
        r, size = self.config.render, self.config.image_size
        ubkp = render_ubkp(pose, size, r.limb_width, r.min_visibility)
        return torch.cat([ubkp, paste(landmark_crop, box, size)], dim=1)

    def landmark_target(self, pose: torch.Tensor, box: torch.Tensor) -> torch.Tensor:
        """The ground-truth landmark image [N, 1, s, s] in [0, 1]."""
        r = self.config.render
        points = face_points(pose, box)
        return render_landmarks(
            points, self.config.landmark_size, r.landmark_width, r.min_visibility
        )

    def generator_losses(self, batch: Batch) -> dict[str, torch.Tensor]:
        frames, pose, box = self.window(batch)
        b, w = pose.shape[:2]
        flat_pose, flat_box = pose.flatten(0, 1), box.flatten(0, 1)
        values = faup(flat_pose, flat_box)
        if self.training:
            self.stats.update(flat_pose, values)
        # stage 1: FAUP image -> landmark image (Eq. 1, Eq. 2)
        x1 = self.landmarks.condition(values)
        y1 = self.landmark_target(flat_pose, flat_box)
        g1 = self.landmarks(x1)
        lm_fake = self.landmark_d(torch.cat([x1, g1], dim=1))
        losses = {
            "landmark_gan": gan_loss(lm_fake, True, self.config.gan_mode),
            "landmark_l1": F.l1_loss(g1.float(), y1 * 2 - 1),
        }
        # stage 2: ground-truth UBKP-FL images -> frames, temporally smoothed (Eq. 3, Eq. 4)
        cond = self.conditions(flat_pose, flat_box, y1).view(b, w, -1, *frames.shape[-2:])
        fake = self.frames(cond)
        real = frames * 2 - 1
        fake_scores = self.temporal_d(_pair(cond, fake))
        with torch.no_grad():
            real_scores = self.temporal_d(_pair(cond, real))
        losses["temporal_gan"] = gan_loss(fake_scores, True, self.config.gan_mode)
        losses["feature_matching"] = feature_matching(fake_scores, real_scores)
        weights = self.config.losses
        total = (
            weights.landmark_adversarial * losses["landmark_gan"]
            + weights.l1 * losses["landmark_l1"]
            + weights.frame_adversarial * losses["temporal_gan"]
            + weights.feature_matching * losses["feature_matching"]
        )
        if self.config.perceptual != "off" and weights.perceptual:
            # sum over the L + 1 frames of the window (Eq. 4): w x the mean over them
            unit = (fake.flatten(0, 1).float() + 1) / 2
            losses["perceptual"] = w * self.perceptual(unit, frames.flatten(0, 1))
            total = total + weights.perceptual * losses["perceptual"]
        self._stash = {
            "x1": x1.detach(),
            "g1": g1.detach(),
            "y1": y1 * 2 - 1,
            "cond": cond.detach(),
            "fake": fake.detach(),
            "real": real.detach(),
        }
        return {**losses, "total": total}

    def discriminator_losses(self, batch: Batch) -> dict[str, torch.Tensor]:
        stash = self._stash or self._regenerate(batch)
        self._stash = {}
        mode = self.config.gan_mode
        x1 = stash["x1"]
        real_lm = self.landmark_d(torch.cat([x1, stash["y1"].to(x1.dtype)], dim=1))
        fake_lm = self.landmark_d(torch.cat([x1, stash["g1"]], dim=1))
        real_seq = self.temporal_d(_pair(stash["cond"], stash["real"]))
        fake_seq = self.temporal_d(_pair(stash["cond"], stash["fake"]))
        losses = {
            "landmark_real": gan_loss(real_lm, True, mode),
            "landmark_fake": gan_loss(fake_lm, False, mode),
            "temporal_real": gan_loss(real_seq, True, mode),
            "temporal_fake": gan_loss(fake_seq, False, mode),
        }
        return {**losses, "total": 0.5 * sum(losses.values(), torch.zeros(()).to(x1))}

    def _regenerate(self, batch: Batch) -> dict[str, torch.Tensor]:
        """The generator's outputs for a discriminator step that follows no generator step."""
        was = self.training
        self.eval()  # no statistics update
        try:
            with torch.no_grad():
                self.generator_losses(batch)
        finally:
            self.train(was)
        return self._stash

    # --- inference ------------------------------------------------------------------------
    def reconstruct(
        self, source: torch.Tensor, driving: torch.Tensor, **extra: Any
    ) -> torch.Tensor:
        """Same identity: the driving frames' own keypoints, not normalised."""
        return self.animate(source, driving, mode="absolute", **extra)

    def animate(
        self, source: torch.Tensor, driving: torch.Tensor, mode: str = "relative", **extra: Any
    ) -> torch.Tensor:
        """Frames [B, T, 3, H, W] in [0, 1] of the model's person moving as `driving_pose`
        [B, T, 33, 3] with `driving_face_box` [B, T, 4] (extra). "relative": normalised to
        the person first (cross identity); "absolute": as given. `source` and the driving
        images are not used: the person is in the weights."""
        if mode not in self.animate_modes:
            raise ConfigError(
                f"liu-ubkp: unknown animate mode {mode!r} (have {self.animate_modes})"
            )
        if "driving_pose" not in extra or "driving_face_box" not in extra:
            raise ConfigError("liu-ubkp: animate needs driving_pose and driving_face_box")
        pose, box = extra["driving_pose"].float(), extra["driving_face_box"].float()
        b, t = pose.shape[:2]
        values = faup(pose, box)
        if mode == "relative":
            source_stats = N.sequence_stats(pose)
            pose, box = N.normalise_pose(pose, box, source_stats, self.stats.target(source_stats))
            mean = values.mean(dim=1)
            values = N.shift_faup(values, mean, self.stats.faup_target(mean))
        crops = (self.landmarks(self.landmarks.condition(values.flatten(0, 1))).float() + 1) / 2
        cond = self.conditions(pose.flatten(0, 1), box.flatten(0, 1), crops.clamp(0, 1))
        size = self.config.image_size
        frames = self.frames(cond.view(b, t, -1, size, size))
        return ((frames.float() + 1) / 2).clamp(0, 1)


def _pair(conditions: torch.Tensor, frames: torch.Tensor) -> torch.Tensor:
    """The temporal discriminator's input: [B, W, C, H, W] conditions and [B, W, 3, H, W]
    frames -> [B, W (C + 3), H, W] (all conditions, then all frames)."""
    return torch.cat([conditions.flatten(1, 2), frames.flatten(1, 2).to(conditions.dtype)], dim=1)
