"""PTUS objective (eq. 10): OSFV's terms plus the body-pose loss L_B.

Eq. 10: L = l_rec L_rec + l_G L_G + l_P L_P + l_cam L_cam + l_E L_E + l_delta L_delta
+ l_kp L_kp + l_B L_B, "the loss function from OSFV"; "the full loss details are provided in
the supplementary", which is not public. Neither L_B's definition nor its target nor l_B is
stated in the paper; we read L_B as the body counterpart of L_cam, the pose loss of the
second pose estimator ("we adopt two pose estimators ... to estimate the camera poses of the
face and upper-body"), and supervise the body estimator exactly as the face one is:

- L_cam (key `head_pose`): face estimator F_pose^fa on the driving face crop D^fa vs. the
  frozen Hopenet teacher on D^fa: mean |yaw|, |pitch|, |roll| differences in degrees (OSFV's
  L_H; talkingub/zoo/osfv/losses.py `head_pose_loss`), weight l_cam = `loss.head_pose`.
- L_B (key `body_pose`): body estimator F_pose^bo on the driving frame D vs. the same teacher
  on the full driving frame D, same distance, weight l_B = `loss.body_pose` (20 = l_cam).

What stands in for what: the paper's body-pose target (not named; it would need a pretrained
body-orientation estimator we cannot load) is replaced by the Hopenet teacher applied to the
whole upper-body frame, i.e. the head orientation as seen in the upper-body image (the body
set "upper-body (including the head)"). It uses the same weights registry entry (`hopenet`)
and the same switch as L_cam (`head_pose_loss`, the key talkingub/bench/pretrained.py maps to
those weights), so `--without-pretrained-losses` drops L_B together with L_cam and offline
configs (`head_pose_loss: false`) train without both. Without the face-body split
(`ptus-no-fbmd*`) there is only the body estimator, so only L_B is computed.
"""

from __future__ import annotations

import torch

from talkingub.zoo.osfv.head_pose import HeadPose
from talkingub.zoo.osfv.losses import head_pose_loss
from talkingub.zoo.osfv.objective import Objective
from talkingub.zoo.ptus.config import PTUSConfig


def body_pose_loss(pose: HeadPose, target: tuple[torch.Tensor, ...], weight: float) -> torch.Tensor:
    """L_B: mean absolute yaw/pitch/roll difference in degrees to the target's bin logits."""
    return head_pose_loss(pose, target, weight)


class PTUSObjective(Objective):
    config: PTUSConfig

    def __init__(self, config: PTUSConfig) -> None:
        super().__init__(config)

    def body_pose_enabled(self) -> bool:
        return bool(self.config.head_pose_loss and self.config.loss.body_pose)

    def prepare(self) -> None:
        super().prepare()
        if self.body_pose_enabled() and "hopenet" not in self._teachers:
            self._teachers["hopenet"] = self._build("hopenet")

    def body_pose(self, pose: HeadPose, frame: torch.Tensor) -> dict[str, torch.Tensor]:
        """{"body_pose": L_B} for the body estimator's pose on the full driving `frame`."""
        if not self.body_pose_enabled():
            return {}
        with torch.no_grad():
            target = self._teacher("hopenet", frame)(frame)
        return {"body_pose": body_pose_loss(pose, target, self.config.loss.body_pose)}
