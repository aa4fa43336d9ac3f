"""Detection tables (bgmix.outputs.tables): round trips through the strict readers, the
partial-file protocol."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from bgmix.blobs import Blobs, find_blobs
from bgmix.outputs.tables import (CsvWriter, JsonlWriter, MotWriter, mot_boxes, open_writer,
                                  partial_path, read_csv, read_jsonl, read_mot, zone_path)
from bgmix.zones import ZoneSet


def frame_blobs(shift: int) -> Blobs:
    mask = np.zeros((24, 32), np.uint8)
    mask[2:6, 3 + shift:10 + shift] = 255
    mask[15:20, 20:30] = 255
    probability = np.where(mask > 0, 0.7, 0.0).astype(np.float32)
    return find_blobs(mask, probability)


FRAMES = {1: frame_blobs(0), 2: find_blobs(np.zeros((24, 32), np.uint8)), 4: frame_blobs(2)}


def write_all(writer):
    for frame, blobs in FRAMES.items():
        writer.write(frame, blobs)


def test_mot_round_trip(tmp_path):
    path = tmp_path / "det.txt"
    with MotWriter(path) as writer:
        write_all(writer)
    rows = read_mot(path)
    assert rows.shape == (4, 10)
    assert rows[:, 0].tolist() == [1, 1, 4, 4]
    assert (rows[:, 1] == -1).all() and (rows[:, 7:] == -1).all()
    expected = np.concatenate([FRAMES[1].xywh, FRAMES[4].xywh])
    # MOT counts pixels from 1: left/top shift by one, width/height do not.
    np.testing.assert_array_equal(rows[:, 2:6], expected + [1, 1, 0, 0])
    assert rows[:, 6].tolist() == [0.7] * 4
    assert path.read_text().splitlines()[0] == "1,-1,4,3,7,4,0.7,-1,-1,-1"


def test_jsonl_round_trip(tmp_path):
    path = tmp_path / "blobs.jsonl"
    with JsonlWriter(path) as writer:
        write_all(writer)
    records = read_jsonl(path)
    assert [r["frame"] for r in records] == [1, 2, 4]
    for record in records:
        blobs = FRAMES[record["frame"]]
        assert record["boxes"] == blobs.boxes.tolist()
        assert record["areas"] == blobs.areas.tolist()
        np.testing.assert_allclose(np.reshape(record["centroids"], (-1, 2)), blobs.centroids)
        assert record["confidences"] == [0.7] * len(blobs)


def test_csv_round_trip(tmp_path):
    path = tmp_path / "blobs.csv"
    with CsvWriter(path) as writer:
        write_all(writer)
    rows = read_csv(path)
    assert rows.shape == (4, 12)
    assert rows[:, 0].tolist() == [1, 1, 4, 4] and rows[:, 1].tolist() == [0, 1, 0, 1]
    np.testing.assert_array_equal(rows[:2, 2:6], FRAMES[1].boxes)
    np.testing.assert_array_equal(rows[:2, 8], FRAMES[1].areas)
    np.testing.assert_allclose(rows[:2, 9:11], FRAMES[1].centroids)


@pytest.mark.parametrize("cls, name, reader", [
    (MotWriter, "det.txt", read_mot), (JsonlWriter, "b.jsonl", read_jsonl),
    (CsvWriter, "b.csv", read_csv)])
def test_partial_then_final(tmp_path, cls, name, reader):
    path = tmp_path / name
    writer = cls(path)
    # one naming scheme for every output (bgmix.outputs.atomic): .NAME.part.SUFFIX
    assert writer.partial == partial_path(path) == tmp_path / f".{name}.part{path.suffix}"
    writer.write(1, FRAMES[1])
    # Before close: only the partial file, and it already holds the complete frame.
    assert writer.partial.exists() and not path.exists()
    assert len(reader(writer.partial)) == (1 if reader is read_jsonl else 2)
    writer.write(2, FRAMES[2])
    writer.close()
    assert path.exists() and not writer.partial.exists()
    assert writer.closed
    assert writer.close() == path         # closing twice is harmless
    with pytest.raises(ValueError, match="closed"):
        writer.write(3, FRAMES[1])


@pytest.mark.parametrize("cls", [MotWriter, JsonlWriter, CsvWriter])
def test_abort_removes_partial_and_keeps_old_final(tmp_path, cls):
    path = tmp_path / "out.dat"
    path.write_text("old\n")
    writer = cls(path)
    writer.write(1, FRAMES[1])
    writer.abort()
    assert not writer.partial.exists()
    assert path.read_text() == "old\n"
    writer.abort()                        # twice is harmless
    with pytest.raises(ValueError, match="aborted"):
        writer.close()


def test_exception_in_with_leaves_partial(tmp_path):
    path = tmp_path / "det.txt"
    with pytest.raises(RuntimeError, match="boom"):
        with MotWriter(path) as writer:
            writer.write(1, FRAMES[1])
            raise RuntimeError("boom")
    assert not path.exists()
    assert read_mot(partial_path(path)).shape == (2, 10)


def test_killed_process_leaves_complete_frames(tmp_path):
    path = tmp_path / "blobs.jsonl"
    script = textwrap.dedent(f"""
        import os, numpy as np
        from bgmix.blobs import find_blobs
        from bgmix.outputs.tables import JsonlWriter
        mask = np.zeros((8, 8), np.uint8); mask[1:3, 1:4] = 255
        writer = JsonlWriter({str(path)!r})
        for frame in (1, 2, 3):
            writer.write(frame, find_blobs(mask))
        os._exit(9)  # no close, no buffers flushed by Python at exit
    """)
    result = subprocess.run([sys.executable, "-c", script], timeout=60)
    assert result.returncode == 9
    assert not path.exists()
    records = read_jsonl(partial_path(path))
    assert [r["frame"] for r in records] == [1, 2, 3]


def test_frame_checks(tmp_path):
    with JsonlWriter(tmp_path / "b.jsonl") as writer:
        with pytest.raises(ValueError, match="1-based"):
            writer.write(0, FRAMES[1])
        with pytest.raises(ValueError, match="integer"):
            writer.write(1.0, FRAMES[1])  # type: ignore[arg-type]
        writer.write(2, FRAMES[1])
        with pytest.raises(ValueError, match="increase"):
            writer.write(2, FRAMES[1])
    assert len(read_jsonl(tmp_path / "b.jsonl")) == 1


def test_open_writer(tmp_path):
    for name, cls in [("a.txt", MotWriter), ("a.jsonl", JsonlWriter), ("a.ndjson", JsonlWriter),
                      ("a.csv", CsvWriter)]:
        writer = open_writer(tmp_path / name)
        assert type(writer) is cls
        writer.abort()
    assert type(w := open_writer(tmp_path / "x.out", "mot")) is MotWriter
    w.abort()
    with pytest.raises(ValueError, match="suffix"):
        open_writer(tmp_path / "x.out")
    with pytest.raises(ValueError, match="format"):
        open_writer(tmp_path / "x.txt", "xml")
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("line, message", [
    ("1,-1,2,1,3,2,0.9,-1,-1", "10 comma-separated"),
    ("0,-1,2,1,3,2,0.9,-1,-1,-1", "frame must be an integer >= 1"),
    ("1.5,-1,2,1,3,2,0.9,-1,-1,-1", "frame must be an integer >= 1"),
    ("1,3,2,1,3,2,0.9,-1,-1,-1", "id must be -1"),
    ("1,-1,2,1,0,2,0.9,-1,-1,-1", "width and height must be positive"),
    ("1,-1,2,1,3,nan,0.9,-1,-1,-1", "not finite"),
    ("1,-1,2,1,3,inf,0.9,-1,-1,-1", "not finite"),
    ("1,-1,x,1,3,2,0.9,-1,-1,-1", "not a number"),
    ("1,-1,2,1,3,2,0.9,-1,-1,0", "last three"),
])
def test_read_mot_rejects(tmp_path, line, message):
    path = tmp_path / "det.txt"
    path.write_text(line + "\n")
    with pytest.raises(ValueError, match=message):
        read_mot(path)


def test_read_mot_rejects_cut_line(tmp_path):
    path = tmp_path / "det.txt"
    path.write_text("1,-1,2,1,3,2,0.9,-1,-1,-1\n2,-1,2,1")
    with pytest.raises(ValueError, match="not terminated"):
        read_mot(path)


GOOD = {"frame": 1, "boxes": [[1, 2, 4, 6]], "areas": [12], "centroids": [[2.5, 4.0]],
        "confidences": [0.5]}


@pytest.mark.parametrize("change, message", [
    ({"frame": 0}, "frame must be an integer >= 1"),
    ({"frame": True}, "frame must be an integer >= 1"),
    ({"extra": 1}, "expected an object with keys"),
    ({"areas": [12, 3]}, "entries"),
    ({"boxes": [[1, 2, 1, 6]]}, "x2 > x1"),
    ({"boxes": [[1, 2, 4.5, 6]]}, "integers"),
    ({"areas": [0]}, "positive"),
    ({"centroids": [[2.5]]}, "a centroid must be"),
    ({"confidences": [1.5]}, r"\[0, 1\]"),
    ({"boxes": "none"}, "must be a list"),
])
def test_read_jsonl_rejects(tmp_path, change, message):
    path = tmp_path / "b.jsonl"
    path.write_text(json.dumps({**GOOD, **change}) + "\n")
    with pytest.raises(ValueError, match=message):
        read_jsonl(path)


def test_read_jsonl_rejects_repeated_frame_and_bad_json(tmp_path):
    path = tmp_path / "b.jsonl"
    path.write_text(json.dumps(GOOD) + "\n" + json.dumps(GOOD) + "\n")
    with pytest.raises(ValueError, match="does not come after"):
        read_jsonl(path)
    path.write_text("{not json}\n")
    with pytest.raises(ValueError, match="not valid JSON"):
        read_jsonl(path)


@pytest.mark.filterwarnings("ignore:Operation with tuple is deprecated")  # inside motmetrics
def test_mot_file_loads_in_py_motmetrics(tmp_path):
    # The MOT Challenge's own reading: motmetrics subtracts 1 from left/top, so what it
    # gets back must be bgmix's 0-based boxes.
    mm = pytest.importorskip("motmetrics")
    path = tmp_path / "det.txt"
    with MotWriter(path) as writer:
        write_all(writer)
    table = mm.io.loadtxt(str(path), fmt="mot15-2D", min_confidence=-1)
    expected = np.concatenate([FRAMES[1].xywh, FRAMES[4].xywh]).astype(float)
    np.testing.assert_array_equal(table[["X", "Y", "Width", "Height"]].to_numpy(), expected)
    assert table.index.get_level_values("FrameId").tolist() == [1, 1, 4, 4]
    assert table["Confidence"].tolist() == pytest.approx([0.7] * 4)


# -- zones -----------------------------------------------------------------------------------

ZONES = ZoneSet(["top=0,0,31,0,31,7,0,7", "right=19,0,31,0,31,23,19,23"], frame_size=(32, 24))


def zone_frames() -> dict[int, Blobs]:
    """Frame 1: a blob in 'top' only and one in 'right' only; frame 3: one blob in both."""
    first = np.zeros((24, 32), np.uint8)
    first[2:6, 3:10] = 255      # top
    first[15:20, 22:30] = 255   # right
    third = np.zeros((24, 32), np.uint8)
    third[4:12, 24:28] = 255    # top and right
    return {n: find_blobs(mask, zones=ZONES) for n, mask in ((1, first), (3, third))}


def test_blobs_know_their_zones():
    frames = zone_frames()
    assert frames[1].zones == (("top",), ("right",))
    assert frames[3].zones == (("top", "right"),)
    assert [b.zones for b in frames[1]] == [("top",), ("right",)]
    assert frames[1].in_zone("right").boxes.tolist() == [[22, 15, 30, 20]]
    assert len(frames[1].in_zone("nowhere")) == 0
    with pytest.raises(ValueError, match="found without zones"):
        FRAMES[1].in_zone("top")
    with pytest.raises(ValueError, match="zones were drawn for 32x24 frames but the mask is 8x8"):
        find_blobs(np.zeros((8, 8), np.uint8), zones=ZONES)


def test_jsonl_and_csv_say_which_zones_each_blob_touches(tmp_path):
    frames = zone_frames()
    with JsonlWriter(tmp_path / "b.jsonl", zones=True) as jsonl, \
            CsvWriter(tmp_path / "b.csv", zones=True) as table:
        for frame, blobs in frames.items():
            jsonl.write(frame, blobs)
            table.write(frame, blobs)
    records = read_jsonl(tmp_path / "b.jsonl")
    assert [r["zones"] for r in records] == [[["top"], ["right"]], [["top", "right"]]]
    rows, names = read_csv(tmp_path / "b.csv", zones=True)
    assert rows[:, 0].tolist() == [1, 1, 3] and names == [("top",), ("right",), ("top", "right")]
    assert read_csv(tmp_path / "b.csv").shape == (3, 12)  # the numeric columns as before
    with pytest.raises(ValueError, match="has no zones column"):
        with CsvWriter(tmp_path / "plain.csv") as plain:
            plain.write(1, FRAMES[1])
        read_csv(tmp_path / "plain.csv", zones=True)


def test_zone_writers_refuse_blobs_without_zones(tmp_path):
    for writer in (JsonlWriter(tmp_path / "b.jsonl", zones=True),
                   CsvWriter(tmp_path / "b.csv", zones=True),
                   MotWriter(tmp_path / "det-top.txt", zone="top")):
        with pytest.raises(ValueError, match="find the blobs with zones"):
            writer.write(1, FRAMES[1])
        writer.abort()


def test_mot_zone_file_holds_only_the_zones_blobs(tmp_path):
    frames = zone_frames()
    assert zone_path(tmp_path / "det.txt", "right") == tmp_path / "det-right.txt"
    with MotWriter(tmp_path / "det-right.txt", zone="right") as writer:
        for frame, blobs in frames.items():
            writer.write(frame, blobs)
    rows = read_mot(tmp_path / "det-right.txt")
    assert rows[:, 0].tolist() == [1, 3]
    np.testing.assert_array_equal(mot_boxes(rows), [[22, 15, 30, 20], [24, 4, 28, 12]])
    with pytest.raises(ValueError, match="fixed columns"):
        open_writer(tmp_path / "det.txt", zones=True)
    with pytest.raises(ValueError, match="zone=NAME is for MOT files"):
        open_writer(tmp_path / "b.csv", zone="top")


@pytest.mark.parametrize("change, message", [
    ({"zones": [["top"], ["right"]]}, "zones has 2 entries"),
    ({"zones": [["bad name"]]}, "one list of zone names per blob"),
    ({"zones": ["top"]}, "one list of zone names per blob"),
])
def test_read_jsonl_rejects_bad_zones(tmp_path, change, message):
    path = tmp_path / "b.jsonl"
    path.write_text(json.dumps({**GOOD, **change}) + "\n")
    with pytest.raises(ValueError, match=message):
        read_jsonl(path)


def test_read_jsonl_wants_zones_on_every_line_or_none(tmp_path):
    path = tmp_path / "b.jsonl"
    second = {**GOOD, "frame": 2}
    path.write_text(json.dumps({**GOOD, "zones": [[]]}) + "\n" + json.dumps(second) + "\n")
    with pytest.raises(ValueError, match=r"b.jsonl:2: expected an object with keys"):
        read_jsonl(path)


def test_read_csv_rejects_bad_zone_names(tmp_path):
    path = tmp_path / "b.csv"
    path.write_text("frame,blob,x1,y1,x2,y2,width,height,area,cx,cy,confidence,zones\n"
                    "1,0,2,1,5,3,3,2,6,3,1.5,1,door;-x\n")
    with pytest.raises(ValueError, match=r"b.csv:2: zones must be zone names"):
        read_csv(path, zones=True)
