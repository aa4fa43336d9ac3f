"""bgmix.outputs.frame_outputs: every output of a run behind one Output protocol."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from bgmix import BackgroundMixture, process
from bgmix.errors import OutputError
from bgmix.outputs import Output
from bgmix.outputs.frame_outputs import DEFAULT_NAMES, OUTPUT_NAMES, finish_outputs, open_outputs
from bgmix.outputs.tables import read_csv, read_jsonl, read_mot
from tests.media import count_frames, read_grey
from tests.mixtures import plain_mixture


@pytest.fixture
def frames() -> np.ndarray:
    frames = np.full((6, 24, 32, 3), 90, np.uint8)
    frames[3:, 8:16, 10:20] = 220
    return frames


def test_every_output_is_an_output(frames, tmp_path: Path):
    paths = {name: str(tmp_path / DEFAULT_NAMES[name]) for name in OUTPUT_NAMES}
    model = BackgroundMixture()
    outputs = open_outputs(paths, fps=25, model=model, outlier_threshold=-20.0)
    assert [o.name for o in outputs] == list(OUTPUT_NAMES)
    for result in process(frames, model, probability=True, log_likelihood=True):
        for output in outputs:
            assert isinstance(output, Output)
            output.write(result)
    assert finish_outputs(outputs, keep=True) == []
    assert all(o.frames_written == 6 for o in outputs)
    assert sorted(os.listdir(tmp_path)) == sorted(DEFAULT_NAMES.values())
    assert [len(read_grey(tmp_path / n)) for n in ("masks.mkv", "probability.mkv",
                                                    "outliers.mkv")] == [6, 6, 6]
    assert count_frames(tmp_path / "background.mkv") == 6  # the model's, without a proxy
    assert [r["frame"] for r in read_jsonl(tmp_path / "blobs.jsonl")] == [1, 2, 3, 4, 5, 6]


def test_a_failed_open_discards_the_outputs_opened_before(tmp_path: Path):
    (tmp_path / "blocked").write_text("a file where a folder is needed")
    paths = {"masks": str(tmp_path / "masks.mkv"), "mot": str(tmp_path / "blocked" / "det.txt")}
    with pytest.raises(OutputError, match=r"cannot write the mot output .*blocked/det\.txt"):
        open_outputs(paths, fps=25)
    assert sorted(os.listdir(tmp_path)) == ["blocked"]


def test_a_grey_output_must_be_mkv_or_a_folder(tmp_path: Path):
    with pytest.raises(ValueError, match=r"--probability .*p\.avi: a grey video must be \.mkv"):
        open_outputs({"probability": str(tmp_path / "p.avi")}, fps=25)


def test_finish_without_keep_discards(frames, tmp_path: Path):
    outputs = open_outputs({"masks": str(tmp_path / "masks.mkv"),
                            "jsonl": str(tmp_path / "b.jsonl")}, fps=25)
    for result in process(frames):
        for output in outputs:
            output.write(result)
    assert finish_outputs(outputs, keep=False) == []
    assert os.listdir(tmp_path) == []


def test_zones_reach_every_detection_output(tmp_path: Path):
    frames = np.full((30, 24, 32, 3), 90, np.uint8)
    frames[-3:, 8:16, 10:20] = 220
    # The object (rows 8-15, columns 10-19) touches "left" (columns 0-12), never "far".
    zones = ["left=0,0,12,0,12,23,0,23", "far=28,0,31,0,31,3"]
    paths = {name: str(tmp_path / DEFAULT_NAMES[name]) for name in ("mot", "jsonl", "csv")}
    outputs = open_outputs(paths, fps=25, zones=["left", "far"])
    assert [o.name for o in outputs] == ["mot", "mot-left", "mot-far", "jsonl", "csv"]
    for result in process(frames, plain_mixture(), zones=zones):
        for output in outputs:
            output.write(result)
    assert finish_outputs(outputs, keep=True) == []
    records = read_jsonl(tmp_path / "blobs.jsonl")
    assert [r["zones"] for r in records[-4:]] == [[], [["left"]], [["left"]], [["left"]]]
    assert read_csv(tmp_path / "blobs.csv", zones=True)[1] == [("left",)] * 3
    np.testing.assert_array_equal(read_mot(tmp_path / "det-left.txt"),
                                  read_mot(tmp_path / "det.txt"))
    assert read_mot(tmp_path / "det-far.txt").shape == (0, 10)
