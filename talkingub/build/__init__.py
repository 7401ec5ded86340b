"""`talkingub build`: the Talking-UB curation pipeline (see runner.py for the list of steps)."""

from talkingub.build.config import BuildConfig
from talkingub.build.runner import BuildRun, BuildSummary, run

__all__ = ["BuildConfig", "BuildRun", "BuildSummary", "run"]
