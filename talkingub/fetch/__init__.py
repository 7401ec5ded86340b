"""The fetch stage: manifest rows -> raw video files + fetch.parquet (one row per input row)."""

from talkingub.fetch.config import FetchConfig
from talkingub.fetch.reasons import REASONS
from talkingub.fetch.runner import FetchSummary, run

__all__ = ["REASONS", "FetchConfig", "FetchSummary", "run"]
