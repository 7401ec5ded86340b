"""liu-ubkp (Liu et al., the person-specific track): the upper-body set from BlazePose, the
condition images, the FAUP stand-ins, the global pose normalisation, the temporal generator
and what the model reads at inference (recorded keypoints, never pixels)."""

from __future__ import annotations

import math

import pytest
import torch

from talkingub import create_model
from talkingub.models.base import PERSON_SPECIFIC
from talkingub.models.registry import model_spec
from talkingub.zoo.liu_ubkp import normalise as N
from talkingub.zoo.liu_ubkp.au import FAUP_NAMES, faup, faup_image
from talkingub.zoo.liu_ubkp.config import LiuConfig
from talkingub.zoo.liu_ubkp.frame_net import FrameGenerator
from talkingub.zoo.liu_ubkp.keypoints import (
    LEFT_ELBOW,
    LEFT_SHOULDER,
    MOUTH_LEFT,
    MOUTH_RIGHT,
    RIGHT_SHOULDER,
    UBKP_NAMES,
    paste,
    render_ubkp,
    template_face_box,
    template_pose,
    ubkp_points,
)


def test_the_model_is_in_the_person_specific_track() -> None:
    assert model_spec("liu-ubkp").cls.track == PERSON_SPECIFIC
    assert create_model("liu-ubkp", "tiny").animate_modes == ("relative", "absolute")


def test_upper_body_set_maps_blazepose_with_openpose_neck_and_mid_hip() -> None:
    pose = template_pose()
    pose[LEFT_SHOULDER, 2] = 0.4
    points = ubkp_points(pose)
    assert points.shape == (len(UBKP_NAMES), 3) and len(UBKP_NAMES) == 21
    neck = points[UBKP_NAMES.index("neck")]
    expected = (pose[LEFT_SHOULDER, :2] + pose[RIGHT_SHOULDER, :2]) / 2
    assert torch.allclose(neck[:2], expected) and neck[2] == pytest.approx(0.4)  # the lower
    assert torch.equal(points[UBKP_NAMES.index("left_elbow")], pose[LEFT_ELBOW])


def test_stick_figure_draws_visible_limbs_where_they_are() -> None:
    pose = template_pose()[None]
    size = 64
    image = render_ubkp(pose, size, width=0.01, min_visibility=0.5)
    assert image.shape == (1, 3, size, size) and image.min() >= 0 and image.max() <= 1
    row = int(0.55 * size)  # the shoulder line
    assert image[0, :, row, size // 2].max() > 0.5
    assert image[0, :, 2, 2].max() < 1e-6  # far from every limb
    hidden = pose.clone()
    hidden[0, LEFT_ELBOW, 2] = 0.0  # the left upper and lower arm are no longer drawn
    elbow = (int(0.80 * size), int(0.78 * size))
    assert image[0, :, elbow[0], elbow[1]].max() > 0.5
    gone = render_ubkp(hidden, size, width=0.01, min_visibility=0.5)
    assert gone[0, :, elbow[0], elbow[1]].max() < 1e-3


def test_paste_puts_the_crop_in_its_box_only() -> None:
    canvas = paste(torch.ones(1, 1, 8, 8), torch.tensor([[0.25, 0.5, 0.75, 1.0]]), 32)
    assert canvas[0, 0, 20, 16] == pytest.approx(1.0)  # inside
    assert canvas[0, 0, 8, 16] == 0 and canvas[0, 0, 20, 2] == 0  # above, left of the box


def _moved(pose: torch.Tensor, box: torch.Tensor, scale: float, shift: tuple[float, float]):
    offset = torch.tensor(shift)
    moved = pose.clone()
    moved[..., :2] = pose[..., :2] * scale + offset
    return moved, (box.view(2, 2) * scale + offset).flatten()


def test_faup_does_not_depend_on_where_and_how_large_the_face_is() -> None:
    pose, box = template_pose(), template_face_box()
    values = faup(pose, box)
    assert values.shape == (len(FAUP_NAMES),) and torch.isfinite(values).all()
    moved = faup(*_moved(pose, box, 0.6, (0.2, -0.1)))
    assert torch.allclose(values, moved, atol=1e-5)


def test_faup_follows_the_mouth_and_the_head_roll() -> None:
    pose, box = template_pose(), template_face_box()
    base = dict(zip(FAUP_NAMES, faup(pose, box).tolist()))
    wide = pose.clone()
    wide[MOUTH_LEFT, 0] += 0.02
    wide[MOUTH_RIGHT, 0] -= 0.02
    assert dict(zip(FAUP_NAMES, faup(wide, box).tolist()))["mouth_width"] > base["mouth_width"]
    angle = 0.2
    rot = torch.tensor([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
    tilted = pose.clone()
    tilted[:, :2] = (pose[:, :2] - 0.5) @ rot.T + 0.5
    roll = dict(zip(FAUP_NAMES, faup(tilted, box).tolist()))["roll"]
    assert roll - base["roll"] == pytest.approx(angle, abs=1e-4)


def test_faup_image_holds_the_vector_in_its_centre() -> None:
    image = faup_image(torch.arange(1.0, 9.0)[None], size=32, cell=4)
    assert image.shape == (1, 1, 32, 32)
    assert image[0, 0, :8].abs().sum() == 0 and image[0, 0, :, :8].abs().sum() == 0
    assert sorted(image.unique().tolist()) == [0.0, *[float(v) for v in range(1, 9)]]


def test_global_normalisation_maps_the_source_body_onto_the_target() -> None:
    pose = template_pose()[None, None].repeat(1, 3, 1, 1)
    box = template_face_box()[None, None].repeat(1, 3, 1)
    source = N.sequence_stats(pose)
    target = (torch.tensor([0.25]), torch.tensor([[0.6, 0.7]]))
    moved, moved_box = N.normalise_pose(pose, box, source, target)
    assert torch.allclose(N.shoulder_width(moved), torch.tensor(0.25))
    assert torch.allclose(N.neck(moved), torch.tensor([0.6, 0.7]), atol=1e-6)
    assert torch.equal(moved[..., 2], pose[..., 2])  # visibility kept
    scale = 0.25 / float(source[0])
    width = moved_box[..., 2] - moved_box[..., 0]
    assert torch.allclose(width, (box[..., 2] - box[..., 0]) * scale)


def test_person_statistics_are_the_mean_over_the_training_frames() -> None:
    stats = N.PersonStats()
    poses = template_pose()[None].repeat(5, 1, 1)
    poses[:, :, :2] *= torch.linspace(0.8, 1.2, 5)[:, None, None]
    values = torch.randn(5, len(FAUP_NAMES))
    source = (torch.tensor([1.0]), torch.tensor([[0.0, 0.0]]))
    assert stats.target(source) is source  # before training: no normalisation
    stats.update(poses[:2], values[:2])
    stats.update(poses[2:], values[2:])
    assert float(stats.count) == 5
    assert float(stats.width) == pytest.approx(float(N.shoulder_width(poses).mean()), rel=1e-6)
    assert torch.allclose(stats.faup_mean.float(), values.mean(0), atol=1e-6)


def test_frames_are_generated_in_order_from_a_zero_image() -> None:
    torch.manual_seed(0)
    gen = FrameGenerator(create_model("liu-ubkp", "tiny").config).eval()
    cond = torch.rand(1, 3, 4, 64, 64)
    other = cond.clone()
    other[:, 0] = torch.rand(1, 4, 64, 64)  # change only the first condition
    with torch.no_grad():
        a, b = gen(cond), gen(other)
        single = gen(cond[:, :1])
    assert torch.allclose(a[:, 0], single[:, 0])  # frame 0: its condition and zeros only
    assert not torch.allclose(a[:, 1], b[:, 1])  # frame 1 sees frame 0's output


def _drive(frames: int = 3) -> dict[str, torch.Tensor]:
    pose = template_pose()[None, None].repeat(1, frames, 1, 1)
    pose[..., :2] += 0.01 * torch.randn(1, frames, 33, 2)
    return {
        "driving_pose": pose,
        "driving_face_box": template_face_box()[None, None].repeat(1, frames, 1),
    }


def test_animation_reads_the_keypoints_never_the_pixels() -> None:
    torch.manual_seed(0)
    model = create_model("liu-ubkp", "tiny").eval()
    extra = _drive()
    with torch.no_grad():
        a = model.reconstruct(torch.rand(1, 3, 64, 64), torch.rand(1, 3, 3, 64, 64), **extra)
        b = model.reconstruct(torch.zeros(1, 3, 64, 64), torch.zeros(1, 3, 3, 64, 64), **extra)
    assert a.shape == (1, 3, 3, 64, 64) and torch.equal(a, b)
    with pytest.raises(Exception, match="driving_pose"):
        model.animate(torch.rand(1, 3, 64, 64), torch.rand(1, 3, 3, 64, 64))


def test_relative_mode_normalises_to_the_trained_person() -> None:
    torch.manual_seed(0)
    model = create_model("liu-ubkp", "tiny").eval()
    model.stats.update(template_pose()[None], faup(template_pose(), template_face_box())[None])
    model.stats.width.fill_(0.2)  # a narrower person than the driving one
    model.stats.centre.copy_(torch.tensor([0.5, 0.6], dtype=torch.float64))
    seen: list[torch.Tensor] = []
    original = model.conditions

    def spy(pose: torch.Tensor, box: torch.Tensor, crop: torch.Tensor) -> torch.Tensor:
        seen.append(pose)
        return original(pose, box, crop)

    model.conditions = spy  # type: ignore[method-assign]
    extra = _drive()
    blank = torch.zeros(1, 3, 64, 64)
    with torch.no_grad():
        model.animate(blank, blank[:, None].repeat(1, 3, 1, 1, 1), mode="absolute", **extra)
        model.animate(blank, blank[:, None].repeat(1, 3, 1, 1, 1), mode="relative", **extra)
    absolute, relative = seen
    assert torch.allclose(absolute, extra["driving_pose"][0])
    width = N.shoulder_width(relative)
    assert torch.allclose(width.median(), torch.tensor(0.2), atol=1e-4)
    assert torch.allclose(
        N.neck(relative).median(dim=0).values, torch.tensor([0.5, 0.6]), atol=1e-4
    )


def test_training_accumulates_the_person_and_keeps_it_in_the_weights() -> None:
    from talkingub.bench.train import make_step
    from tests.unit.models.test_zoo import make_batch

    torch.manual_seed(0)
    model = create_model("liu-ubkp", "tiny").train()
    make_step(model)(make_batch(model.config))
    state = model.state_dict()
    assert float(state["stats.count"]) == 4  # 2 windows of 2 frames
    assert not any(k.startswith("perceptual") for k in state)  # VGG stays out
    fresh = create_model("liu-ubkp", "tiny")
    fresh.load_state_dict(state)
    assert float(fresh.stats.width) == pytest.approx(float(model.stats.width))


def test_configs_validate_sizes() -> None:
    with pytest.raises(ValueError, match="temporal_window"):
        LiuConfig(temporal_window=0)
    with pytest.raises(ValueError, match="frame_generator"):
        LiuConfig(image_size=48)  # not a multiple of 2^(4 + 1)
