"""FAUP: the facial action units and head pose of the paper (OpenFace [3]), as stand-ins
computed from what the build records.

The paper reads action-unit intensities and the head pose of every source frame with
OpenFace. talkingub does not bundle OpenFace, and a Talking-UB build records, per frame, only
BlazePose's 33 points (eleven of them on the face: nose, inner / centre / outer of each eye,
both ears, both mouth corners) and the face box of its face track (the extent of the face
mesh: forehead to chin, cheek to cheek). The bench runs no detector when it trains (it loads
none of the build's vision libraries), so the FAUP vector is computed from those points and
that box, all distances in inter-ocular distances (IOD, eye centre to eye centre) so that
the vector does not depend on the face's size in the frame:

- `roll` (head pose Rz): the angle of the line from the right to the left eye centre;
- `yaw` (head pose Ry): the nose's offset along that line from the ears' midpoint, in half
  ear distances;
- `pitch` (head pose Rx): the nose's drop below the eye line, in IOD;
- `mouth_width` (AU12 lip corner puller, AU20 lip stretcher): the mouth-corner distance;
- `mouth_drop` (AU25 lips part, AU26 jaw drop: the corners move down): the mouth centre's
  drop below the eye line;
- `face_height` (AU26 / AU27 jaw drop, mouth stretch: the chin moves the box's bottom): the
  face box's height;
- `face_width` (head pose Ry: the far cheek leaves the box): the face box's width;
- `eye_width` (AU6 cheek raiser, AU7 lid tightener: the eye corners narrow): the mean
  inner-to-outer eye-corner distance.

No stand-in exists for the brow AUs (AU1, AU2, AU4), the eyelid closure (AU43/AU45) or the
lip shape AUs (AU10, AU15-AU23 beyond the corners): BlazePose has no brow, lid or lip
contour points. These are geometric proxies, not OpenFace's intensities; they carry the same
kind of information (expression and head pose without the face's position in the frame).
"""

from __future__ import annotations

import torch

from talkingub.zoo.liu_ubkp.keypoints import (
    LEFT_EAR,
    LEFT_EYE,
    LEFT_EYE_INNER,
    LEFT_EYE_OUTER,
    MOUTH_LEFT,
    MOUTH_RIGHT,
    NOSE,
    RIGHT_EAR,
    RIGHT_EYE,
    RIGHT_EYE_INNER,
    RIGHT_EYE_OUTER,
)

FAUP_NAMES = (
    "roll",
    "yaw",
    "pitch",
    "mouth_width",
    "mouth_drop",
    "face_height",
    "face_width",
    "eye_width",
)
NUM_FAUP = len(FAUP_NAMES)
LIMIT = 4.0  # entries are clamped to [-LIMIT, LIMIT] (a face seen edge-on has IOD ~ 0)


def faup(pose: torch.Tensor, box: torch.Tensor) -> torch.Tensor:
    """[..., 33, 3] pose (crop coordinates) and [..., 4] face box -> [..., NUM_FAUP]."""
    p = pose[..., :2].float()
    box = box.float()
    eye_l, eye_r = p[..., LEFT_EYE, :], p[..., RIGHT_EYE, :]
    axis = eye_l - eye_r
    iod = axis.norm(dim=-1).clamp_min(1e-3)
    u = axis / iod[..., None]
    v = torch.stack([-u[..., 1], u[..., 0]], dim=-1)  # perpendicular, pointing down the face
    eye_mid = (eye_l + eye_r) / 2
    ear_mid = (p[..., LEFT_EAR, :] + p[..., RIGHT_EAR, :]) / 2
    half_ears = ((p[..., LEFT_EAR, :] - p[..., RIGHT_EAR, :]).norm(dim=-1) / 2).clamp_min(1e-3)
    nose = p[..., NOSE, :]
    mouth_l, mouth_r = p[..., MOUTH_LEFT, :], p[..., MOUTH_RIGHT, :]
    mouth_mid = (mouth_l + mouth_r) / 2
    eye_width = (
        (p[..., LEFT_EYE_INNER, :] - p[..., LEFT_EYE_OUTER, :]).norm(dim=-1)
        + (p[..., RIGHT_EYE_INNER, :] - p[..., RIGHT_EYE_OUTER, :]).norm(dim=-1)
    ) / 2
    values = [
        torch.atan2(u[..., 1], u[..., 0]),
        ((nose - ear_mid) * u).sum(-1) / half_ears,
        ((nose - eye_mid) * v).sum(-1) / iod,
        (mouth_l - mouth_r).norm(dim=-1) / iod,
        ((mouth_mid - eye_mid) * v).sum(-1) / iod,
        (box[..., 3] - box[..., 1]) / iod,
        (box[..., 2] - box[..., 0]) / iod,
        eye_width / iod,
    ]
    return torch.stack(values, dim=-1).clamp(-LIMIT, LIMIT)


def faup_image(values: torch.Tensor, size: int, cell: int) -> torch.Tensor:
    """[N, F] FAUP vectors -> [N, 1, size, size]: the vector filled into the centre of an
    empty image (paper Sec. 4), one `cell` x `cell` square per entry, in rows of
    ceil(sqrt(F)) squares."""
    n, count = values.shape
    columns = int(torch.ceil(torch.sqrt(torch.tensor(float(count)))).item())
    rows = -(-count // columns)
    if rows * cell > size or columns * cell > size:
        raise ValueError(f"FAUP image: {count} cells of {cell} px do not fit in {size} px")
    padded = values.new_zeros(n, rows * columns)
    padded[:, :count] = values
    block = padded.view(n, 1, rows, columns)
    block = block.repeat_interleave(cell, dim=2).repeat_interleave(cell, dim=3)
    image = values.new_zeros(n, 1, size, size)
    top, left = (size - rows * cell) // 2, (size - columns * cell) // 2
    image[:, :, top : top + rows * cell, left : left + columns * cell] = block
    return image
