"""bgmix run / batch with motion events, clips, the report, a watched region and zones."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from bgmix.cli import main
from bgmix.events import read_events_csv
from tests.events_helpers import load_generator

INTERVALS = [(3.0, 6.0), (10.0, 12.5)]


@pytest.fixture(scope="module")
def street(tmp_path_factory) -> Path:
    """Two cars crossing a noisy scene with a swaying tree (truth: INTERVALS), 16 s at 25 fps."""
    generator = load_generator()
    clip = generator.make_events_clip(intervals=INTERVALS, seconds=16.0)
    return generator.write_clip(tmp_path_factory.mktemp("street") / "street.mkv", clip)


def decode(path: Path) -> list[np.ndarray]:
    capture = cv2.VideoCapture(str(path))
    frames = []
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        frames.append(frame[:, :, 0] if frame.ndim == 3 else frame)
    capture.release()
    return frames


def test_run_writes_events_clips_and_report(street: Path, tmp_path: Path, capsys):
    out = tmp_path / "out"
    assert main(["run", str(street), "-o", str(out), "--events", "--report", "--clips",
                 "--clips-overlay"]) == 0
    printed = capsys.readouterr().out
    assert "events      2" in printed
    events = read_events_csv(out / "events.csv")
    assert len(events) == 2
    for event, (start, end) in zip(events, INTERVALS):
        assert abs(event.start_s - start) <= 0.5 and abs(event.end_s - end) <= 0.5
    clips = sorted((out / "clips").iterdir())
    assert [c.name for c in clips] == [f"event-00h00m{e.start_s:06.3f}s.mkv" for e in events]
    for clip, event in zip(clips, events):
        assert len(decode(clip)) == event.clip_end_frame - event.clip_start_frame + 1
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "<svg" in page and "data:image/jpeg;base64," in page
    assert "http://" not in page and "https://" not in page  # self-contained
    assert not list(out.glob(".*"))                            # no temporary file left


def test_roi_and_zones(street: Path, tmp_path: Path):
    height, width = decode(street)[0].shape[:2]
    roi = np.zeros((height, width), np.uint8)
    roi[:, :width // 2] = 255                                  # watch the left half only
    roi_path = tmp_path / "roi.png"
    cv2.imwrite(str(roi_path), roi)
    out = tmp_path / "out"
    assert main(["run", str(street), "-o", str(out), "-q", "--events", "--roi", str(roi_path),
                 "--zone", f"left=0,0,{width // 4},0,{width // 4},{height - 1},0,{height - 1}"]) == 0
    masks = decode(out / "masks.mkv")
    assert all((mask[:, width // 2:] == 0).all() for mask in masks)
    assert any((mask[:, :width // 2] == 255).any() for mask in masks)
    events = read_events_csv(out / "events.csv")
    assert events and all(event.zones == ("left",) for event in events)
    assert len(read_events_csv(out / "events-left.csv")) == len(events)


def test_batch_writes_reports_and_an_index(street: Path, tmp_path: Path):
    videos = tmp_path / "videos"
    videos.mkdir()
    for name in ("a", "b"):
        (videos / f"{name}.mkv").write_bytes(street.read_bytes())
    out = tmp_path / "batch"
    assert main(["batch", str(videos), "--out", str(out), "-q", "--events", "--report",
                 "--jobs", "2", "--mot", "--zone", "corner=0,0,40,0,40,40"]) == 0
    for name in ("a", "b"):
        record = json.loads((out / name / "done.json").read_text())
        assert record["events"] == 2
        assert record["outputs"]["events"] == "events.csv"
        assert record["outputs"]["mot-corner"] == "det-corner.txt"
        assert (out / name / "det-corner.txt").is_file()
        assert (out / name / "report.html").is_file()
    index = (out / "index.html").read_text(encoding="utf-8")
    assert 'href="a/report.html"' in index and 'href="b/report.html"' in index


@pytest.mark.parametrize("flags, message", [
    (["--events", "events.txt"], "--events events.txt: the name must end in .csv"),
    (["--report", "r.txt"], "--report r.txt: the name must end in .html"),
    (["--clips-overlay"], "--clips-overlay needs --clips"),
    (["--roi", "missing.png"], "--roi missing.png: no such file"),
    (["--zone", "door=1,2"], "door"),
])
def test_bad_event_flags_exit_2_with_one_line(street: Path, tmp_path: Path, capsys, flags,
                                              message, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["run", str(street), "-o", str(tmp_path / "out"), *flags]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
    assert "Traceback" not in err
    assert not (tmp_path / "out").exists()  # refused before anything was written


def test_zones_in_the_blob_exports_from_flags_and_from_a_config(street: Path, tmp_path: Path):
    from bgmix.outputs.tables import mot_boxes, read_csv, read_jsonl, read_mot

    height, width = decode(street)[0].shape[:2]
    edge = width // 4  # the zone: every row, columns 0..edge (a blob touches it iff x1 <= edge)
    zone = [0, 0, edge, 0, edge, height - 1, 0, height - 1]
    out = tmp_path / "flags"
    assert main(["run", str(street), "-o", str(out), "-q", "--mot", "--jsonl", "--csv",
                 "--zone", "left=" + ",".join(map(str, zone))]) == 0
    records = read_jsonl(out / "blobs.jsonl")
    pairs = [(box, tuple(names)) for r in records for box, names in zip(r["boxes"], r["zones"])]
    assert any(names for _, names in pairs) and any(not names for _, names in pairs)
    assert all(names == (("left",) if box[0] <= edge else ()) for box, names in pairs)
    rows, csv_zones = read_csv(out / "blobs.csv", zones=True)
    assert csv_zones == [names for _, names in pairs]
    everything = read_mot(out / "det.txt")
    in_zone = everything[mot_boxes(everything)[:, 0] <= edge]
    np.testing.assert_array_equal(read_mot(out / "det-left.txt"), in_zone)

    config = tmp_path / "cam.toml"
    config.write_text("mot = true\njsonl = true\ncsv = true\n[zones]\nleft = "
                      + str(zone) + "\n")
    again = tmp_path / "config"
    assert main(["run", str(street), "-o", str(again), "-q", "--config", str(config)]) == 0
    for name in ("blobs.jsonl", "blobs.csv", "det.txt", "det-left.txt"):
        assert (again / name).read_bytes() == (out / name).read_bytes(), name
