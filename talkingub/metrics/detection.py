"""Shared plumbing of the detector-based metrics: a backend chosen by name (or given; the
class's `default_backend` otherwise), images turned into detections once, and precomputed
detections accepted as inputs."""

from __future__ import annotations

from typing import Any, ClassVar

from talkingub.metrics.images import as_uint8_hwc
from talkingub.vision.base import Backend, Embeddings, Keypoints, create_backend


class DetectorMixin:
    """Holds the backend; `detect(x)` passes detections through and runs images."""

    _backend: Backend | None
    backend_name: str
    default_backend: ClassVar[str]

    def _set_backend(self, backend: str | Backend | None, options: dict[str, Any] | None) -> None:
        if isinstance(backend, Backend):
            self._backend, self.backend_name = backend, backend.name
        else:
            self._backend, self.backend_name = None, backend or self.default_backend
        self._backend_options = dict(options or {})
        self._seen_version = ""

    @property
    def backend(self) -> Backend:
        if self._backend is None:
            self._backend = create_backend(self.backend_name, **self._backend_options)
        return self._backend

    def detect(self, images: Any) -> Keypoints | Embeddings:
        if isinstance(images, Keypoints | Embeddings):
            found = images
        else:
            found = self.backend(as_uint8_hwc(images))
        self.backend_name, self._seen_version = found.backend, found.backend_version
        return found

    def backend_info(self) -> tuple[str, str]:
        version = self._seen_version or (self._backend.version if self._backend else "")
        return self.backend_name, version
