"""Reading a `talkingub build` output for the bench: the Parquet manifests say which clips
were kept (and in which shard), the WebDataset tars hold each clip's mp4 + json.

`BuildIndex` locates every kept clip's members inside its tar (byte offsets; nothing is
extracted), `ClipStore` decodes frames on demand with a bounded cache, and `PairDataset`
yields training pairs (source, driving) of one clip with the protocol's augmentations and
the face crops + boxes PTUS needs (and, for a few-shot model, N subject frames of the same
clip: `talkingub.bench.few_shot`). Pair `i` depends only on (seed, i): a resumed or
multi-process run sees exactly the pairs an uninterrupted single-process run would.
"""

from __future__ import annotations

import dataclasses
import io
import tarfile
from collections import OrderedDict
from pathlib import Path
from typing import Any

import numpy as np
import torch

from talkingub.bench.few_shot import training_subject_frames
from talkingub.bench.holdout import Holdout
from talkingub.bench.protocol import AugmentConfig
from talkingub.errors import ConfigError
from talkingub.manifest.schema import ShardSample, check_build, check_table, output_version


@dataclasses.dataclass(frozen=True)
class ClipRecord:
    clip_id: str
    video_id: str
    identity: str
    split: str
    shard: Path
    mp4: tuple[int, int]  # (offset, size) of the member in the tar
    meta: dict[str, Any]

    @property
    def sampled(self) -> list[int]:
        return ShardSample(self.clip_id, self.meta).sampled_frames


class BuildIndex:
    """Kept clips of a build, by split, from `clips.parquet` and the shards. A build of a
    schema version this talkingub cannot read is refused (`SchemaVersionError`)."""

    def __init__(self, build_dir: str | Path) -> None:
        import pandas as pd

        self.root = Path(build_dir)
        path = self.root / "clips.parquet"
        if not path.is_file():
            raise ConfigError(f"{path} not found: is {self.root} a `talkingub build` output?")
        check_build(self.root)
        check_table(path, output_version("clips"))
        clips = pd.read_parquet(path)
        kept = clips[(clips["status"] == "kept") & clips["shard"].notna()]
        self.clips: dict[str, ClipRecord] = {}
        for shard in sorted(set(kept["shard"])):
            self.clips.update(_index_shard(self.root / "shards" / str(shard)))
        missing = sorted(set(kept["clip_id"]) - set(self.clips))
        if missing:
            raise ConfigError(f"clips listed in clips.parquet but not in any shard: {missing[:3]}")

    def split(self, name: str) -> list[ClipRecord]:
        return [c for _, c in sorted(self.clips.items()) if c.split == name and c.sampled]

    def fingerprint(self) -> str:
        sums = self.root / "SHA256SUMS"
        return sums.read_text() if sums.is_file() else ""


def _index_shard(path: Path) -> dict[str, ClipRecord]:
    """The samples of one shard (`ShardSample` members), their mp4 located in the tar."""
    members: dict[str, dict[str, tarfile.TarInfo]] = {}
    with tarfile.open(path) as tar:
        for info in tar.getmembers():
            parsed = ShardSample.parse_member(info.name)
            if parsed is not None:
                members.setdefault(parsed[0], {})[parsed[1]] = info
        samples = {key: _sample(tar, path, key, m[ShardSample.JSON]) for key, m in members.items()}
    return {
        key: ClipRecord(
            clip_id=key,
            video_id=sample.video_id,
            identity=sample.identity,
            split=sample.split,
            shard=path,
            mp4=(members[key][ShardSample.MP4].offset_data, members[key][ShardSample.MP4].size),
            meta=sample.meta,
        )
        for key, sample in samples.items()
    }


def _sample(tar: tarfile.TarFile, path: Path, key: str, info: tarfile.TarInfo) -> ShardSample:
    handle = tar.extractfile(info)
    if handle is None:
        raise ConfigError(f"{path}: {info.name} is not a file")
    return ShardSample.decoded(key, handle.read())


def decode_frames(data: bytes, wanted: list[int]) -> dict[int, np.ndarray]:
    """uint8 RGB [H, W, 3] of the wanted frame indices (one sequential decode)."""
    import av

    want, last = set(wanted), max(wanted)
    out: dict[int, np.ndarray] = {}
    with av.open(io.BytesIO(data), mode="r") as container:
        for index, frame in enumerate(container.decode(video=0)):
            if index in want:
                out[index] = frame.to_ndarray(format="rgb24")
            if index >= last:
                break
    if len(out) != len(want):
        raise ConfigError(f"clip has only {index + 1} frames, wanted up to {last}")
    return out


class ClipStore:
    """Decoded frames of clips (their sampled frames), least-recently-used first out."""

    def __init__(self, index: BuildIndex, max_frames: int = 4000) -> None:
        self.index = index
        self.max_frames = max_frames
        self._cache: OrderedDict[str, dict[int, np.ndarray]] = OrderedDict()

    def __getstate__(self) -> dict[str, Any]:
        """Pickled for DataLoader workers without the decoded frames (each worker decodes
        what it needs): a warm cache would otherwise be copied to every worker."""
        return {**self.__dict__, "_cache": OrderedDict()}

    def frames(self, clip_id: str, indices: list[int]) -> np.ndarray:
        """[T, H, W, 3] uint8 of clip frames `indices` (clip frame numbers)."""
        cached = self._cache.get(clip_id, {})
        todo = sorted(set(indices) - set(cached))
        if todo:
            cached = {**cached, **decode_frames(self._read(clip_id), todo)}
            self._cache[clip_id] = cached
            self._evict()
        self._cache.move_to_end(clip_id)
        return np.stack([cached[i] for i in indices])

    def face_boxes(self, clip_id: str, indices: list[int]) -> np.ndarray:
        record = self.index.clips[clip_id]
        boxes = ShardSample(clip_id, record.meta).face_boxes
        return np.asarray([boxes[i] for i in indices], dtype=np.float32).reshape(-1, 4)

    def _read(self, clip_id: str) -> bytes:
        record = self.index.clips[clip_id]
        offset, size = record.mp4
        with open(record.shard, "rb") as handle:
            handle.seek(offset)
            return handle.read(size)

    def _evict(self) -> None:
        while len(self._cache) > 1 and sum(len(v) for v in self._cache.values()) > self.max_frames:
            self._cache.popitem(last=False)


def to_tensor(frames: np.ndarray, size: int | None = None) -> torch.Tensor:
    """uint8 [T, H, W, 3] -> float [T, 3, size, size] in [0, 1] (antialiased resize)."""
    images = torch.from_numpy(np.ascontiguousarray(frames)).permute(0, 3, 1, 2).float() / 255.0
    if size is not None and images.shape[-1] != size:
        images = torch.nn.functional.interpolate(
            images, size=(size, size), mode="bilinear", antialias=True, align_corners=False
        ).clamp(0, 1)
    return images


def crop_faces(images: torch.Tensor, boxes: torch.Tensor, size: int) -> torch.Tensor:
    """Square crops [N, 3, size, size] of `boxes` ([N, 4] normalised x0, y0, x1, y1)."""
    from torchvision.ops import roi_align

    height, width = images.shape[-2:]
    scale = boxes.new_tensor([width, height, width, height])
    rois = torch.cat([torch.arange(len(boxes), dtype=boxes.dtype)[:, None], boxes * scale], 1)
    return roi_align(images, rois, (size, size), spatial_scale=1.0, sampling_ratio=2, aligned=True)


def flip_boxes(boxes: torch.Tensor) -> torch.Tensor:
    return torch.stack([1 - boxes[:, 2], boxes[:, 1], 1 - boxes[:, 0], boxes[:, 3]], dim=1)


def jitter(images: torch.Tensor, factors: tuple[float, float, float, float]) -> torch.Tensor:
    """Colour jitter with fixed factors (brightness, contrast, saturation, hue shift)."""
    from torchvision.transforms import functional as tvf

    brightness, contrast, saturation, hue = factors
    out = tvf.adjust_brightness(images, brightness)
    out = tvf.adjust_contrast(out, contrast)
    out = tvf.adjust_saturation(out, saturation)
    return tvf.adjust_hue(out, hue) if hue else out


@dataclasses.dataclass(frozen=True)
class PairSpec:
    image_size: int
    face_size: int | None  # None: the model takes no face crops
    augment: AugmentConfig
    seed: int
    # N subject frames per pair for a few-shot model (`source_frames`, talkingub.bench.few_shot)
    ref_frames: int = 0


class PairDataset(torch.utils.data.Dataset[dict[str, torch.Tensor]]):
    """Item i: two sampled frames of one training clip, never its held-back tail (`holdout`;
    None: every sampled frame). Videos are visited in a seeded permutation per epoch (FOMM's
    id_sampling: each video equally often)."""

    def __init__(
        self,
        store: ClipStore,
        spec: PairSpec,
        length: int,
        split: str = "train",
        holdout: Holdout | None = None,
    ):
        self.store, self.spec, self.length = store, spec, length
        # the frames pairs are drawn from: never the held-back ones (talkingub.bench.holdout)
        clips = store.index.split(split)
        self.frames = {c.clip_id: holdout.training(c) if holdout else c.sampled for c in clips}
        if not any(len(f) >= 2 for f in self.frames.values()):
            raise ConfigError(f"no {split} clip with two sampled frames in {store.index.root}")
        self.videos: dict[str, list[str]] = {}
        for clip in clips:
            if len(self.frames[clip.clip_id]) >= 2:
                self.videos.setdefault(clip.video_id, []).append(clip.clip_id)
        self.video_ids = sorted(self.videos)

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        n = len(self.video_ids)
        epoch, slot = divmod(int(index), n)
        order = np.random.default_rng([self.spec.seed, epoch]).permutation(n)
        rng = np.random.default_rng([self.spec.seed, 1_000_003, int(index)])
        clips = self.videos[self.video_ids[order[slot]]]
        clip = clips[int(rng.integers(len(clips)))]
        sampled = self.frames[clip]
        picks = [sampled[int(i)] for i in rng.choice(len(sampled), size=2, replace=False)]
        subject: list[int] = []
        if self.spec.ref_frames:  # their own draw: the pair's draws stay those of every model
            own = np.random.default_rng([self.spec.seed, 2_000_003, int(index)])
            subject = training_subject_frames(sampled, picks, self.spec.ref_frames, own)
        return self._pair(clip, picks, rng, subject)

    def _pair(
        self, clip: str, picks: list[int], rng: np.random.Generator, subject: list[int]
    ) -> dict[str, Any]:
        aug = self.spec.augment
        if aug.time_flip and rng.random() < 0.5:
            picks = picks[::-1]
        full = to_tensor(self.store.frames(clip, picks + subject))
        boxes = torch.from_numpy(self.store.face_boxes(clip, picks + subject))
        if aug.horizontal_flip and rng.random() < 0.5:
            full, boxes = full.flip(-1), flip_boxes(boxes)
        full = jitter(full, _jitter_factors(aug, rng)).clamp(0, 1)
        images = to_tensor_resized(full, self.spec.image_size)
        item = {"source": images[0], "driving": images[1]}
        if subject:
            item["source_frames"] = images[2:]
        if self.spec.face_size:
            faces = crop_faces(full, boxes, self.spec.face_size)
            item.update(source_face=faces[0], driving_face=faces[1])
            item.update(source_face_box=boxes[0], driving_face_box=boxes[1])
            if subject:
                item.update(source_frames_face=faces[2:], source_frames_face_box=boxes[2:])
        return item


def to_tensor_resized(images: torch.Tensor, size: int) -> torch.Tensor:
    if images.shape[-1] == size:
        return images
    out = torch.nn.functional.interpolate(
        images, size=(size, size), mode="bilinear", antialias=True
    )
    return out.clamp(0, 1)


def _jitter_factors(
    aug: AugmentConfig, rng: np.random.Generator
) -> tuple[float, float, float, float]:
    def around_one(amount: float) -> float:
        return float(rng.uniform(1 - amount, 1 + amount)) if amount else 1.0

    hue = float(rng.uniform(-aug.hue, aug.hue)) if aug.hue else 0.0
    return around_one(aug.brightness), around_one(aug.contrast), around_one(aug.saturation), hue


def face_size_of(config: Any) -> int | None:
    """The face-crop side a model config asks for (PTUS: `face_size`), else None."""
    size = getattr(config, "face_size", None)
    return int(size) if size else None
