"""talkingub.bench.data: what crosses into DataLoader workers."""

from __future__ import annotations


def test_a_clip_store_pickles_without_its_decoded_frames() -> None:
    import pickle
    from collections import OrderedDict

    import numpy as np

    from talkingub.bench.data import ClipStore

    store = ClipStore.__new__(ClipStore)
    store.index, store.max_frames = None, 10  # type: ignore[assignment]
    store._cache = OrderedDict({"clip": {0: np.zeros((4, 4, 3), np.uint8)}})
    copy = pickle.loads(pickle.dumps(store))
    assert copy._cache == OrderedDict() and copy.max_frames == 10
    assert list(store._cache) == ["clip"]  # the original keeps its frames
