"""`talkingub build`: the Talking-UB curation pipeline (see runner.py for the list of steps)."""

from talkingub.curate.config import BuildConfig
from talkingub.curate.runner import BuildRun, BuildSummary, run

__all__ = ["BuildConfig", "BuildRun", "BuildSummary", "run"]
