"""scripts/track_demo.py: bgmix blobs -> ByteTrack -> MOT tracks and an overlay video.

The clip is generated here: two rectangles of known size move in straight lines
over a static textured background with per-frame sensor noise, so every
frame's true box of each object is known exactly. The demo runs in-process
(its ``main(argv)``) on the real decoder, model, clean-up, blobs and tracker.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from collections import Counter, defaultdict
from pathlib import Path

import cv2
import numpy as np
import pytest

pytestmark = pytest.mark.slow  # runs scripts/track_demo.py over a clip

pytest.importorskip("supervision")
pytest.importorskip("trackers", reason="the ByteTrack tracker of the track extra")

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "track_demo.py"

HEIGHT, WIDTH, N_FRAMES, FPS = 120, 160, 100, 25.0
# Frames before this one are background only. The model's learning rate is 1 / (2 n) early
# on, so an object must not dwell on a pixel for more than about 10% of the frames seen or
# it becomes background (MOG2's behaviour too): a long warm-up and brisk objects.
FIRST_MOVING = 40
# (height, width, x at FIRST_MOVING, y at FIRST_MOVING, vx, vy, BGR colour); the two paths
# never meet, and both objects stay wholly inside the frame.
OBJECTS = [
    (14, 18, 4.0, 18.0, 2.2, 0.25, (40, 60, 220)),
    (18, 16, 140.0, 84.0, -2.0, -0.3, (210, 170, 30)),
]
LONG_TRACK = 20              # frames; the objects are visible for 60
SETTLE = 6                   # frames an object needs before its track is confirmed (min_frames 3)


def _truth(t: int) -> list[tuple[int, int, int, int] | None]:
    """Exact x1, y1, x2, y2 (exclusive) of each object in frame t (0-based), None before it moves in."""
    boxes = []
    for h, w, x0, y0, vx, vy, _ in OBJECTS:
        if t < FIRST_MOVING:
            boxes.append(None)
            continue
        x = int(round(x0 + vx * (t - FIRST_MOVING)))
        y = int(round(y0 + vy * (t - FIRST_MOVING)))
        assert 0 <= x and x + w <= WIDTH and 0 <= y and y + h <= HEIGHT
        boxes.append((x, y, x + w, y + h))
    return boxes


@pytest.fixture(scope="module")
def demo():
    spec = importlib.util.spec_from_file_location("track_demo", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules["track_demo"] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    rng = np.random.default_rng(7)
    # a smooth, textured background: low-resolution noise blown up, plus fine grain
    coarse = rng.uniform(60, 190, size=(HEIGHT // 8, WIDTH // 8, 3)).astype(np.float32)
    background = cv2.resize(coarse, (WIDTH, HEIGHT), interpolation=cv2.INTER_CUBIC)
    background += rng.normal(0, 6, size=background.shape).astype(np.float32)
    path = tmp_path_factory.mktemp("clip") / "two_objects.mkv"
    writer = cv2.VideoWriter(str(path), cv2.CAP_FFMPEG, cv2.VideoWriter_fourcc(*"FFV1"), FPS,
                             (WIDTH, HEIGHT), True)
    assert writer.isOpened()
    for t in range(N_FRAMES):
        frame = background + rng.normal(0, 2.0, size=background.shape).astype(np.float32)
        for (h, w, *_rest, colour), box in zip(OBJECTS, _truth(t)):
            if box is not None:
                x1, y1, x2, y2 = box
                texture = rng.normal(0, 8, size=(h, w, 1)).astype(np.float32)
                frame[y1:y2, x1:x2] = np.asarray(colour, np.float32) + texture
        writer.write(np.clip(np.rint(frame), 0, 255).astype(np.uint8))
    writer.release()
    return path


@pytest.fixture(scope="module")
def run_output(demo, clip, tmp_path_factory):
    out = tmp_path_factory.mktemp("track-out")
    status = demo.main([str(clip), "--out", str(out), "--min-area", "40", "--long-track",
                        str(LONG_TRACK)])
    return status, out


_INT = r"-?\d+"
_NUMBER = r"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?"
_LINE = re.compile(rf"^({_INT}),({_INT}),({_INT}),({_INT}),({_INT}),({_INT}),({_NUMBER}),-1,-1,-1$")


def _read_tracks_strictly(path: Path) -> list[tuple[int, int, tuple[int, int, int, int], float]]:
    """Parse MOT tracks: every line frame,id,left,top,width,height,conf,-1,-1,-1 with integer
    frame >= 1 (non-decreasing), id >= 1, 1-based left/top inside the frame, positive width
    and height, conf in [0, 1]; one box per id per frame. Returns (frame, id, x1y1x2y2, conf)
    with 0-based exclusive boxes."""
    text = path.read_text()
    assert text == "" or text.endswith("\n"), "the last line must be terminated"
    rows = []
    last_frame = 0
    seen = set()
    for number, line in enumerate(text.splitlines(), start=1):
        match = _LINE.match(line)
        assert match, f"line {number} is not a MOT track line: {line!r}"
        frame, track_id, left, top, width, height = (int(v) for v in match.groups()[:6])
        conf = float(match.group(7))
        assert 1 <= frame <= N_FRAMES and frame >= last_frame, line
        assert track_id >= 1, line
        assert 1 <= left and left - 1 + width <= WIDTH and width > 0, line
        assert 1 <= top and top - 1 + height <= HEIGHT and height > 0, line
        assert 0.0 <= conf <= 1.0, line
        assert (frame, track_id) not in seen, f"id {track_id} twice in frame {frame}"
        seen.add((frame, track_id))
        last_frame = frame
        rows.append((frame, track_id, (left - 1, top - 1, left - 1 + width, top - 1 + height),
                     conf))
    return rows


def _iou(a, b) -> float:
    ix = max(0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union else 0.0


def test_tracks_follow_the_objects(run_output):
    status, out = run_output
    assert status == 0
    assert not list(out.glob("*.partial")) and not list(out.glob(".*.part.*"))
    rows = _read_tracks_strictly(out / "tracks.txt")
    assert rows, "no tracked boxes"

    lengths = Counter(track_id for _, track_id, _, _ in rows)
    long_ids = sorted(i for i, n in lengths.items() if n >= LONG_TRACK)
    # One id per object for its whole path. Tolerance: at most one extra short-lived id
    # (a few frames, e.g. a fragment while the model settles); no id switches on long tracks.
    assert len(long_ids) == len(OBJECTS), f"track lengths {dict(lengths)}"
    assert len(lengths) <= len(OBJECTS) + 1, f"track lengths {dict(lengths)}"
    assert all(frame > FIRST_MOVING for frame, *_ in rows), "a track before anything moved"

    boxes_by_frame = defaultdict(dict)
    for frame, track_id, box, _ in rows:
        boxes_by_frame[frame - 1][track_id] = box
    used_ids = set()
    for k in range(len(OBJECTS)):
        frames = range(FIRST_MOVING + SETTLE, N_FRAMES)
        # the long track that overlaps this object most
        best = max(long_ids, key=lambda i: sum(
            _iou(boxes_by_frame[t].get(i, (0, 0, 0, 0)), _truth(t)[k]) for t in frames))
        used_ids.add(best)
        ious = [_iou(boxes_by_frame[t].get(best, (0, 0, 0, 0)), _truth(t)[k]) for t in frames]
        good = np.mean(np.asarray(ious) > 0.5)
        assert good >= 0.9, (f"object {k}: track {best} has IoU > 0.5 on only {good:.0%} of "
                             f"frames; IoUs {np.round(ious, 2).tolist()}")
    assert len(used_ids) == len(OBJECTS), "two objects followed by the same track"


def test_overlay_has_every_frame(run_output):
    status, out = run_output
    assert status == 0
    capture = cv2.VideoCapture(str(out / "tracks_overlay.mkv"))
    assert capture.isOpened()
    shapes = []
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        shapes.append(frame.shape)
    capture.release()
    assert len(shapes) == N_FRAMES
    assert set(shapes) == {(HEIGHT, WIDTH, 3)}


def test_overlay_draws_ids_on_tracked_boxes(demo, clip, run_output):
    """Every tracked box is outlined in the overlay video, where the source frame has no line."""
    _, out = run_output
    rows = _read_tracks_strictly(out / "tracks.txt")
    overlay = cv2.VideoCapture(str(out / "tracks_overlay.mkv"))
    source = cv2.VideoCapture(str(clip))
    checked = 0
    for t in range(N_FRAMES):
        ok_overlay, drawn = overlay.read()
        ok_source, frame = source.read()
        assert ok_overlay and ok_source
        for frame_no, _, (x1, y1, x2, y2), _ in rows:
            if frame_no != t + 1 or x1 == 0:
                continue
            # The left edge column, against the source: Motion JPEG smears a 1-pixel line's
            # colour, but the line is still there.
            column = np.s_[y1:y2, x1]
            change = np.abs(drawn[column].astype(int) - frame[column].astype(int)).max(axis=1)
            assert np.median(change) > 60, (t, x1, y1, x2, y2)
            checked += 1
    overlay.release()
    source.release()
    assert checked >= len(rows) - 2


def test_draw_tracks_colours_each_id(demo):
    frame = np.full((60, 80, 3), 100, np.uint8)
    mask = np.zeros((60, 80), np.uint8)
    mask[30:40, 10:30] = 255
    picture = demo.draw_tracks(frame, mask, np.array([[10, 30, 30, 40], [50, 5, 70, 20]]),
                               np.array([3, 4]))
    colours = {3: demo._id_colour(3), 4: demo._id_colour(4)}
    assert colours[3] != colours[4]
    assert picture[35, 10].tolist() == list(colours[3])       # left edges, exact
    assert picture[12, 50].tolist() == list(colours[4])
    assert picture[35, 20].tolist() == [50, 50, 178]           # tinted foreground inside box 3
    assert picture[55, 75].tolist() == [100, 100, 100]         # untouched background
    # the id labels: filled in the id's colour above box 3, and below box 4 (no room above)
    assert (picture[20:30, 10:30] == colours[3]).all(axis=2).sum() > 20
    assert (picture[20:30, 50:70] == colours[4]).all(axis=2).sum() > 20


def test_max_frames_and_summary(demo, clip, tmp_path, capsys):
    status = demo.main([str(clip), "--out", str(tmp_path), "--max-frames", "60"])
    assert status == 0
    printed = capsys.readouterr().out
    assert re.search(r"^frames\s+60$", printed, re.M)
    assert re.search(r"^tracks\s+\d+ ids", printed, re.M)
    assert re.search(r"^fps\s+\d", printed, re.M)
    rows = _read_tracks_strictly(tmp_path / "tracks.txt")
    assert rows and max(frame for frame, *_ in rows) <= 60
    assert int(cv2.VideoCapture(str(tmp_path / "tracks_overlay.mkv")).get(
        cv2.CAP_PROP_FRAME_COUNT)) == 60


@pytest.mark.parametrize("argv, words", [
    (["{missing}", "--out", "{out}"], "missing.mkv"),
    (["{clip}", "--out", "{out}", "--activation", "1.5"], "--activation"),
    (["{clip}", "--out", "{out}", "--median", "4"], "median"),
])
def test_bad_input_is_one_line(demo, clip, tmp_path, capsys, argv, words):
    out = tmp_path / "out"
    argv = [a.format(missing=tmp_path / "missing.mkv", out=out, clip=clip) for a in argv]
    assert demo.main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("track_demo: error:")
    assert words in err and "Traceback" not in err
    assert not (out / "tracks.txt").exists()
