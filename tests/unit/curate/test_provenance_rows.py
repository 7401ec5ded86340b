"""Provenance keys of output rows (talkingub.curate.sources) and the licence summary."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from rich.console import Console

from talkingub.cli.build_cmd import print_build_summary
from talkingub.curate.report import funnel_markdown
from talkingub.curate.runner import BuildSummary
from talkingub.curate.sources import (
    NO_LICENCE,
    SOURCE_COLUMNS,
    add_source_fields,
    licence_summary,
    source_fields,
)
from talkingub.fetch.results import base_record
from talkingub.manifest.schema import FETCH_SCHEMA, SourceRow

FETCH_ROW = {
    "video_id": "v1",
    "url": "https://example.org/v1.mp4",
    "identity": "anna",
    "section_start": 1.5,
    "section_end": 9.0,
    "license": "CC-BY-4.0",
    "channel": "Example Channel",
    "notes": "interview, part 1",
    "status": "ok",
}


def test_source_fields_maps_fetch_columns_to_output_keys() -> None:
    assert source_fields(FETCH_ROW) == {
        "source_url": "https://example.org/v1.mp4",
        "section_start": 1.5,
        "section_end": 9.0,
        "license": "CC-BY-4.0",
        "channel": "Example Channel",
        "notes": "interview, part 1",
    }


@pytest.mark.parametrize(
    "row",
    [
        {},  # a fetch.parquet written before these columns existed
        {"url": None, "section_start": None, "license": None, "channel": None, "notes": None},
        {"section_start": math.nan, "section_end": math.inf, "license": "  ", "notes": math.nan},
        {"section_start": "soon", "section_end": True, "channel": ""},
    ],
)
def test_source_fields_is_null_safe(row: dict[str, object]) -> None:
    fields = source_fields(row)
    assert list(fields) == list(SOURCE_COLUMNS)
    assert set(fields.values()) == {None}


def test_source_fields_keeps_zero_start_and_numeric_strings() -> None:
    fields = source_fields({"section_start": 0, "section_end": "12.5"})
    assert fields["section_start"] == 0.0 and fields["section_end"] == 12.5


def test_provenance_keys_never_overwrite_existing_output_keys() -> None:
    sample_json = {"clip_id": "c", "source_start": 17}  # the clip's first source frame
    add_source_fields(sample_json, source_fields(FETCH_ROW))
    assert sample_json["source_start"] == 17 and sample_json["license"] == "CC-BY-4.0"
    with pytest.raises(ValueError, match="license"):
        add_source_fields({"license": "other"}, source_fields(FETCH_ROW))


def test_licence_summary_counts_kept_clips_with_sampled_frames() -> None:
    clips = [
        {"status": "kept", "n_sampled": 5, "license": "CC-BY-4.0"},
        {"status": "kept", "n_sampled": 3, "license": "CC-BY-4.0"},
        {"status": "kept", "n_sampled": 2, "license": None},
        {"status": "kept", "n_sampled": 2, "license": "CC0-1.0"},
        {"status": "kept", "n_sampled": 2},  # no license key at all
        {"status": "kept", "n_sampled": 0, "license": "CC0-1.0"},  # not in any shard
        {"status": "rejected", "n_sampled": 0, "license": "MIT"},
    ]
    assert licence_summary(clips) == [("(none)", 2), ("CC-BY-4.0", 2), ("CC0-1.0", 1)]
    assert licence_summary([]) == []


def test_fetch_rows_carry_the_manifest_provenance() -> None:
    row = SourceRow("v1", "https://x/v1", "anna", 1.0, 2.0, "train", "CC0-1.0", "chan", "n")
    record = base_record(row)
    assert {k: record[k] for k in ("license", "channel", "notes")} == {
        "license": "CC0-1.0",
        "channel": "chan",
        "notes": "n",
    }
    assert {"license", "channel", "notes", "section_start", "section_end"} <= set(
        FETCH_SCHEMA.names
    )
    assert source_fields(record)["section_start"] == 1.0


def test_build_summary_prints_the_licence_table() -> None:
    summary = BuildSummary(
        Path("/tmp/out"),
        "abc",
        [("input rows", 2)],
        {},
        [("CC-BY-4.0 [b]x[/b]", 3), (NO_LICENCE, 1)],
    )
    console = Console(record=True, width=100)
    print_build_summary(summary, console)
    text = console.export_text()
    assert "kept clips by licence" in text
    assert "CC-BY-4.0 [b]x[/b]" in text  # free text is printed literally, not as markup
    assert any(line.replace("│", " ").split() == ["(none)", "1"] for line in text.splitlines())


def test_build_summary_default_has_no_licences_and_fetch_only_prints_none() -> None:
    summary = BuildSummary(Path("/tmp/out"), "abc", [], {})
    assert summary.licences == []
    console = Console(record=True, width=100)
    print_build_summary(summary, console)
    assert "licence" not in console.export_text()


def test_funnel_markdown_lists_licences() -> None:
    stats = {
        "config_hash": "abc",
        "video_reasons": {},
        "sequence_reasons": {},
        "frame_reasons": {},
        "licences": {"CC|BY\nx": 2, "(none)": 1},
    }
    text = funnel_markdown([("input rows", 1)], stats)
    assert "## Clips kept, by licence" in text
    assert "| CC\\|BY x | 2 |" in text and "| (none) | 1 |" in text
