"""Upper-body keypoints (UBKP) and facial landmarks from the build's recorded pose, and their
condition images.

Input: BlazePose's 33 points per frame as the build records them (`frames.parquet` `pose`:
x, y, visibility), mapped by the bench to the clip's crop (x, y in [0, 1] of the 256 px
frame; `talkingub.bench.pose_track`), shape [..., 33, 3].

UBKP (paper Sec. 3: an OpenPose [5] upper-body stick figure, with hand keypoints [13]): the
OpenPose BODY_25 upper-body joints, each taken from the BlazePose point of the same name;
OpenPose's neck and mid-hip, which BlazePose lacks, are the midpoints of the shoulders and of
the hips (visibility: the smaller of the two). The "five sparse keypoints" of the face are
the nose, eyes and ears. BlazePose has three points per hand (pinky, index and thumb
knuckles) where OpenPose's hand model [13] has 21: those three stand in for the hands.

Facial landmarks (the paper's 2-D landmarks from OpenFace [3]): the build records no face
mesh points, only BlazePose's eleven face points (nose, inner / centre / outer of both eyes,
both ears, both mouth corners) and the face box of its face track; those eleven points, in
the face box's coordinates, are the landmark set here. Denser landmarks would need a build
that records them (stated in the README).

Rendering: every limb is a soft line (Gaussian profile across it, `width` as its standard
deviation, a share of the image side) in its own colour, joints are lines of length zero; the
UBKP image is the per-pixel maximum over limbs (3 channels, like the colour-coded OpenPose
figures pix2pixHD-based body transfer [6] feeds its generator). The landmark image is one
channel. A limb or joint whose points are less visible than `min_visibility` is not drawn.
"""

from __future__ import annotations

import colorsys

import torch

# BlazePose GHUM landmark indices (MediaPipe Pose, 33 points).
NOSE = 0
LEFT_EYE_INNER, LEFT_EYE, LEFT_EYE_OUTER = 1, 2, 3
RIGHT_EYE_INNER, RIGHT_EYE, RIGHT_EYE_OUTER = 4, 5, 6
LEFT_EAR, RIGHT_EAR = 7, 8
MOUTH_LEFT, MOUTH_RIGHT = 9, 10
LEFT_SHOULDER, RIGHT_SHOULDER = 11, 12
LEFT_ELBOW, RIGHT_ELBOW = 13, 14
LEFT_WRIST, RIGHT_WRIST = 15, 16
LEFT_PINKY, RIGHT_PINKY = 17, 18
LEFT_INDEX, RIGHT_INDEX = 19, 20
LEFT_THUMB, RIGHT_THUMB = 21, 22
LEFT_HIP, RIGHT_HIP = 23, 24
NUM_BLAZEPOSE = 33

#: The upper-body set (OpenPose BODY_25 order where it has the joint), as BlazePose indices;
#: "neck" and "mid_hip" are midpoints of the pairs given.
UBKP: tuple[tuple[str, tuple[int, ...]], ...] = (
    ("nose", (NOSE,)),
    ("neck", (LEFT_SHOULDER, RIGHT_SHOULDER)),
    ("right_shoulder", (RIGHT_SHOULDER,)),
    ("right_elbow", (RIGHT_ELBOW,)),
    ("right_wrist", (RIGHT_WRIST,)),
    ("left_shoulder", (LEFT_SHOULDER,)),
    ("left_elbow", (LEFT_ELBOW,)),
    ("left_wrist", (LEFT_WRIST,)),
    ("mid_hip", (LEFT_HIP, RIGHT_HIP)),
    ("right_hip", (RIGHT_HIP,)),
    ("left_hip", (LEFT_HIP,)),
    ("right_eye", (RIGHT_EYE,)),
    ("left_eye", (LEFT_EYE,)),
    ("right_ear", (RIGHT_EAR,)),
    ("left_ear", (LEFT_EAR,)),
    ("right_pinky", (RIGHT_PINKY,)),
    ("right_index", (RIGHT_INDEX,)),
    ("right_thumb", (RIGHT_THUMB,)),
    ("left_pinky", (LEFT_PINKY,)),
    ("left_index", (LEFT_INDEX,)),
    ("left_thumb", (LEFT_THUMB,)),
)
UBKP_NAMES = tuple(name for name, _ in UBKP)
_U = {name: i for i, name in enumerate(UBKP_NAMES)}

#: The stick figure's limbs (OpenPose's pairs on these joints), then the hands.
LIMBS: tuple[tuple[int, int], ...] = tuple(
    (_U[a], _U[b])
    for a, b in (
        ("neck", "right_shoulder"),
        ("right_shoulder", "right_elbow"),
        ("right_elbow", "right_wrist"),
        ("neck", "left_shoulder"),
        ("left_shoulder", "left_elbow"),
        ("left_elbow", "left_wrist"),
        ("neck", "mid_hip"),
        ("mid_hip", "right_hip"),
        ("mid_hip", "left_hip"),
        ("neck", "nose"),
        ("nose", "right_eye"),
        ("right_eye", "right_ear"),
        ("nose", "left_eye"),
        ("left_eye", "left_ear"),
        ("right_wrist", "right_pinky"),
        ("right_wrist", "right_index"),
        ("right_wrist", "right_thumb"),
        ("left_wrist", "left_pinky"),
        ("left_wrist", "left_index"),
        ("left_wrist", "left_thumb"),
    )
)
#: Joints drawn as dots (length-zero limbs): every UBKP point.
JOINTS: tuple[tuple[int, int], ...] = tuple((i, i) for i in range(len(UBKP)))

#: The facial landmark set: BlazePose's face points 0-10, in the face box's coordinates.
FACE_POINTS: tuple[int, ...] = tuple(range(11))
#: Lines of the landmark drawing (indices into FACE_POINTS): the eyes, the nose bridge,
#: the mouth, and dots for the nose and the ears.
FACE_LINES: tuple[tuple[int, int], ...] = (
    (LEFT_EYE_INNER, LEFT_EYE),
    (LEFT_EYE, LEFT_EYE_OUTER),
    (RIGHT_EYE_INNER, RIGHT_EYE),
    (RIGHT_EYE, RIGHT_EYE_OUTER),
    (NOSE, LEFT_EYE_INNER),
    (NOSE, RIGHT_EYE_INNER),
    (MOUTH_LEFT, MOUTH_RIGHT),
    (NOSE, NOSE),
    (LEFT_EAR, LEFT_EAR),
    (RIGHT_EAR, RIGHT_EAR),
)

# A frontal upper body in crop coordinates (x, y, visibility): for tests and smoke runs.
_TEMPLATE = {
    NOSE: (0.50, 0.30),
    LEFT_EYE_INNER: (0.53, 0.26),
    LEFT_EYE: (0.55, 0.26),
    LEFT_EYE_OUTER: (0.57, 0.26),
    RIGHT_EYE_INNER: (0.47, 0.26),
    RIGHT_EYE: (0.45, 0.26),
    RIGHT_EYE_OUTER: (0.43, 0.26),
    LEFT_EAR: (0.60, 0.28),
    RIGHT_EAR: (0.40, 0.28),
    MOUTH_LEFT: (0.535, 0.35),
    MOUTH_RIGHT: (0.465, 0.35),
    LEFT_SHOULDER: (0.70, 0.55),
    RIGHT_SHOULDER: (0.30, 0.55),
    LEFT_ELBOW: (0.78, 0.80),
    RIGHT_ELBOW: (0.22, 0.80),
    LEFT_WRIST: (0.70, 0.95),
    RIGHT_WRIST: (0.30, 0.95),
    LEFT_HIP: (0.62, 1.05),
    RIGHT_HIP: (0.38, 1.05),
}


def template_pose() -> torch.Tensor:
    """[33, 3]: a frontal upper body (hands at the wrists, legs invisible)."""
    pose = torch.zeros(NUM_BLAZEPOSE, 3)
    for index, (x, y) in _TEMPLATE.items():
        pose[index] = torch.tensor([x, y, 1.0])
    for hand, wrist in (((17, 19, 21), 15), ((18, 20, 22), 16)):
        for k, index in enumerate(hand):
            pose[index] = pose[wrist] + torch.tensor([0.01 * (k - 1), 0.03, 0.0])
    for index in range(25, NUM_BLAZEPOSE):  # knees, ankles, feet: below the crop
        pose[index] = torch.tensor([0.5, 1.5, 0.0])
    return pose


def template_face_box() -> torch.Tensor:
    """[4]: the face box (x0, y0, x1, y1) of `template_pose`."""
    return torch.tensor([0.36, 0.14, 0.64, 0.42])


def ubkp_points(pose: torch.Tensor) -> torch.Tensor:
    """[..., 33, 3] BlazePose -> [..., J, 3] upper-body keypoints (x, y, visibility)."""
    points = []
    for _, sources in UBKP:
        part = pose[..., list(sources), :]
        xy = part[..., :2].mean(dim=-2)
        vis = part[..., 2].amin(dim=-1, keepdim=True)
        points.append(torch.cat([xy, vis], dim=-1))
    return torch.stack(points, dim=-2)


def face_points(pose: torch.Tensor, box: torch.Tensor) -> torch.Tensor:
    """[..., 33, 3] pose and [..., 4] face box -> [..., 11, 3] face points in the box's
    coordinates (0-1 across the box)."""
    points = pose[..., list(FACE_POINTS), :]
    origin = box[..., None, :2]
    extent = (box[..., None, 2:] - box[..., None, :2]).clamp_min(1e-4)
    return torch.cat([(points[..., :2] - origin) / extent, points[..., 2:]], dim=-1)


def limb_colours(count: int) -> torch.Tensor:
    """[count, 3] distinct saturated colours (hues evenly spaced)."""
    rgb = [colorsys.hsv_to_rgb(i / count, 1.0, 1.0) for i in range(count)]
    return torch.tensor(rgb, dtype=torch.float32)


def segment_maps(
    points: torch.Tensor,
    pairs: tuple[tuple[int, int], ...],
    size: int,
    width: float,
    min_visibility: float,
) -> torch.Tensor:
    """[N, P, 3] points -> [N, len(pairs), size, size] soft line masks in [0, 1] (Gaussian
    across the segment, standard deviation `width` x size pixels); invisible pairs are 0."""
    points = points.float()
    n = points.shape[0]
    a = points[:, [p for p, _ in pairs], :]
    b = points[:, [q for _, q in pairs], :]
    axis = (torch.arange(size, device=points.device, dtype=torch.float32) + 0.5) / size
    grid = torch.stack(torch.meshgrid(axis, axis, indexing="xy"), dim=-1).view(1, 1, -1, 2)
    start, delta = a[..., None, :2], (b[..., :2] - a[..., :2])[..., None, :]
    length2 = (delta * delta).sum(-1).clamp_min(1e-12)
    t = (((grid - start) * delta).sum(-1) / length2).clamp(0.0, 1.0)
    nearest = start + t[..., None] * delta
    dist2 = ((grid - nearest) ** 2).sum(-1)
    masks = torch.exp(-0.5 * dist2 / (width**2))
    shown = (torch.minimum(a[..., 2], b[..., 2]) >= min_visibility).float()
    return (masks * shown[..., None]).view(n, len(pairs), size, size)


def render_ubkp(pose: torch.Tensor, size: int, width: float, min_visibility: float) -> torch.Tensor:
    """[N, 33, 3] pose -> [N, 3, size, size] colour-coded stick figure in [0, 1]."""
    points = ubkp_points(pose)
    pairs = LIMBS + JOINTS
    masks = segment_maps(points, pairs, size, width, min_visibility)
    colours = limb_colours(len(LIMBS)).to(masks.device)
    colours = torch.cat([colours, torch.ones(len(JOINTS), 3, device=masks.device)])
    coloured = masks[:, :, None] * colours[None, :, :, None, None]
    return coloured.amax(dim=1)


def render_landmarks(
    points: torch.Tensor, size: int, width: float, min_visibility: float
) -> torch.Tensor:
    """[N, 11, 3] face points in the face box's coordinates -> [N, 1, size, size] in [0, 1]."""
    masks = segment_maps(points, FACE_LINES, size, width, min_visibility)
    return masks.amax(dim=1, keepdim=True)


def paste(crop: torch.Tensor, box: torch.Tensor, size: int) -> torch.Tensor:
    """[N, C, s, s] crop -> [N, C, size, size] canvas holding it at `box` ([N, 4] x0, y0, x1,
    y1 in 0-1 of the canvas), zero elsewhere (bilinear)."""
    crop = crop.float()
    box = box.float()
    x0, y0, x1, y1 = box.unbind(-1)
    w, h = (x1 - x0).clamp_min(1e-4), (y1 - y0).clamp_min(1e-4)
    zero = torch.zeros_like(w)
    theta = torch.stack(
        [
            torch.stack([1 / w, zero, (1 - 2 * x0) / w - 1], dim=-1),
            torch.stack([zero, 1 / h, (1 - 2 * y0) / h - 1], dim=-1),
        ],
        dim=-2,
    )
    shape = (crop.shape[0], crop.shape[1], size, size)
    grid = torch.nn.functional.affine_grid(theta, list(shape), align_corners=False)
    return torch.nn.functional.grid_sample(
        crop, grid, mode="bilinear", padding_mode="zeros", align_corners=False
    )
