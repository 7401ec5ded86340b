"""Recipes the tests build with, beside the default Talking-UB one."""

from __future__ import annotations

import dataclasses

from talkingub.curate import BuildConfig

# For tests of the pipeline's *mechanics* (splits, sampling, shards, refilter, backends) that
# need several kept identities from real clips. With the default `min_torso` (0.4 face heights)
# only one peer clip is both upper-body and still (the chest-up presenter); the
# head-and-shoulders clips (Swalwell 0.19-0.22, AOC 0.21-0.25 face heights of torso below the
# shoulders) pass at 0.15. Selection itself is tested with the default recipe
# (test_upper_body_calibration.py, test_build_selection.py).
MECHANICS = dataclasses.replace(
    BuildConfig(), filters=dataclasses.replace(BuildConfig().filters, min_torso=0.15)
)
