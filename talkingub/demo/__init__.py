"""The embedded demo: sample videos made from real photographs bundled in installed packages."""

from talkingub.demo.sample import SAMPLE_CLIPS, write_sample

__all__ = ["SAMPLE_CLIPS", "write_sample"]
