"""report.html and index.html (bgmix.report), rendered by a real headless browser."""

from __future__ import annotations

import doctest
import json
import re
import subprocess
from pathlib import Path

import cv2
import numpy as np
import pytest

from bgmix import report as report_module
from bgmix.clips import write_clips
from bgmix.events import EventRecorder, detect_events
from bgmix.report import (
    AREA_COLOUR,
    EVENT_COLOUR,
    EVENT_OPACITY,
    PLOT_BACKGROUND,
    IndexEntry,
    event_thumbnails,
    render_report,
    write_index,
    write_report,
)
from tests.events_helpers import chromium, events_clip  # noqa: F401  (fixture)


def test_doctests() -> None:
    assert doctest.testmod(report_module, optionflags=doctest.ELLIPSIS).failed == 0


def _recorded(clip, zones=("left=0,0,159,0,159,239,0,239",)) -> EventRecorder:
    recorder = EventRecorder(zones=list(zones))
    for i, (mask, ts) in enumerate(zip(clip.masks, clip.timestamps)):
        recorder.update(i, mask, timestamp=ts)
    recorder.finish()
    return recorder


@pytest.fixture(scope="module")
def built_report(events_clip, tmp_path_factory) -> tuple[Path, EventRecorder]:
    out = tmp_path_factory.mktemp("report")
    recorder = _recorded(events_clip)
    clips = write_clips(events_clip.path, recorder.events, out / "clips")
    timeline = recorder.timeline
    path = write_report(out / "report.html", title="street.mkv <cam 1>",
                        timestamps=timeline["timestamp"], area=timeline["area"],
                        events=recorder.events, zone_events=recorder.zone_events,
                        thumbnails=event_thumbnails(events_clip.path, recorder.events),
                        clips={c.event.number: c.path for c in clips}, params=recorder.params,
                        info={"source": str(events_clip.path)})
    return path, recorder


def test_report_is_self_contained(built_report) -> None:
    path, recorder = built_report
    text = path.read_text(encoding="utf-8")
    assert not re.search(r"https?://", text)
    assert "<link" not in text and not re.search(r"<script[^>]+src=", text)
    assert "@import" not in text and "url(" not in text
    sources = re.findall(r'src="([^"]*)"', text)
    assert len(sources) == len(recorder.events) == 2
    assert all(s.startswith("data:image/jpeg;base64,") for s in sources)
    for source in sources:                      # real JPEGs
        import base64
        data = base64.b64decode(source.split(",", 1)[1])
        image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
        assert image.shape == (240, 320, 3)


def test_report_contents(built_report) -> None:
    path, recorder = built_report
    text = path.read_text(encoding="utf-8")
    assert "<title>street.mkv &lt;cam 1&gt;</title>" in text          # escaped
    assert len(re.findall(r'<rect class="event"', text)) == 2
    assert len(re.findall(r'<rect class="zone-event" data-zone="left"', text)) == 2
    assert len(re.findall(r'<tr id="event-\d+">', text)) == 2
    assert len(re.findall(r'<tr id="zone-left-event-\d+">', text)) == 2
    ids = re.findall(r' id="([^"]+)"', text)
    assert len(ids) == len(set(ids))
    # clips are linked relative to the report
    assert 'href="clips/event-00h00m03.' in text and 'href="clips/event-00h00m10.' in text
    data = json.loads(re.search(r'<script type="application/json" id="bgmix-events">(.*?)</script>',
                                text).group(1))
    assert [row["start_frame"] for row in data["events"]] == [e.start_frame for e in recorder.events]
    assert list(data["zone_events"]) == ["left"]
    assert "2 events" in text and "400 frames" in text


def test_report_without_events_says_so(tmp_path) -> None:
    t = np.arange(100) / 25
    text = render_report(title="quiet", timestamps=t, area=np.zeros(100), events=[])
    assert "No events." in text and "0 events" in text
    assert '<rect class="event"' not in text


def test_long_timelines_keep_short_events_visible() -> None:
    n = 10 * 3600 * 25                           # 10 hours at 25 fps
    area = np.zeros(n, np.float32)
    area[500_000:500_020] = 0.05                 # 0.8 s of motion
    t = np.arange(n) / 25.0
    events = detect_events(area, timestamps=t, warmup=0)
    text = render_report(title="night", timestamps=t, area=area, events=events)
    polygon = re.search(r'<polygon class="area" points="([^"]*)"', text).group(1)
    points = np.array([p.split(",") for p in polygon.split()], float)
    assert len(points) <= 1002                    # downsampled
    assert points[:, 1].min() < 100               # the peak survived (a max per bin)
    assert len(text) < 200_000


def test_index_links_each_report(tmp_path) -> None:
    events = detect_events([0.0] * 50 + [0.01] * 50 + [0.0] * 100, fps=25, warmup=0)
    a = tmp_path / "a" / "report.html"
    entries = [IndexEntry("a", a, events, duration_s=8.0, frames=200,
                          timestamps=np.arange(200) / 25, area=np.zeros(200)),
               IndexEntry("b & c", None, [], status="failed")]
    path = write_index(tmp_path / "index.html", entries, title="night shift")
    text = path.read_text()
    assert 'href="a/report.html"' in text and "b &amp; c" in text
    assert "2 videos, 1 events" in text and not re.search(r"https?://", text)
    assert text.count('<svg class="timeline"') == 1


# --------------------------------------------------------------------------- real browser


def _hex_to_bgr(colour: str) -> np.ndarray:
    r, g, b = (int(colour[i:i + 2], 16) for i in (1, 3, 5))
    return np.array([b, g, r], float)


def _screenshot(html: Path, out: Path, size=(1200, 900)) -> np.ndarray:
    browser = chromium()
    if browser is None:
        pytest.skip("no headless browser: apt-get install chromium")
    command = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
               "--no-first-run", f"--user-data-dir={out.parent / 'chromium-profile'}",
               f"--window-size={size[0]},{size[1]}", f"--screenshot={out}", html.as_uri()]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and out.exists(), result.stderr[-2000:]
    image = cv2.imread(str(out), cv2.IMREAD_COLOR)
    assert image is not None and image.shape[:2] == (size[1], size[0])
    return image


def _near(image: np.ndarray, colour: np.ndarray, tolerance: float = 6) -> np.ndarray:
    return np.abs(image.astype(float) - colour).max(axis=2) <= tolerance


def test_browser_screenshot_shows_the_timeline(built_report, events_clip, tmp_path) -> None:
    path, recorder = built_report
    shot = _screenshot(path, tmp_path / "shot.png")
    background = _hex_to_bgr(PLOT_BACKGROUND)
    band = EVENT_OPACITY * _hex_to_bgr(EVENT_COLOUR) + (1 - EVENT_OPACITY) * background
    area = _hex_to_bgr(AREA_COLOUR)
    plot = _near(shot, background, 3)
    assert plot.sum() > 50_000, "no plot area in the screenshot"
    rows, cols = np.nonzero(plot)
    top, bottom, left, right = rows.min(), rows.max(), cols.min(), cols.max()
    assert bottom < 450, "the timeline is not at the top of the page"
    assert right - left > 800                      # it spans the window's width
    region = shot[top:bottom + 1, left:right + 1]
    in_band = _near(region, band, 8)
    band_cols = np.flatnonzero(in_band.sum(axis=0) > 5)
    assert len(band_cols), "no event band drawn"
    # the bands sit where the events are (the plot spans 0 .. 16 s)
    width = right - left + 1
    span = events_clip.timestamps[-1] + 1 / events_clip.fps
    groups = np.split(band_cols, np.flatnonzero(np.diff(band_cols) > 3) + 1)
    assert len(groups) == len(recorder.events) == 2
    for group, event in zip(groups, recorder.events):
        assert abs(group[0] - event.start_s / span * width) <= 4
        assert abs(group[-1] - event.end_s / span * width) <= 4
    # the foreground-area curve rises inside the events and stays flat between them
    curve = _near(region, area, 10)
    upper = curve[: int(0.8 * curve.shape[0])]
    columns = upper.sum(axis=0)
    for group in groups:
        assert columns[group].max() > 0.5 * upper.shape[0]
    outside = np.ones(width, bool)
    for group in groups:
        outside[max(0, group[0] - 3):group[-1] + 4] = False
    assert columns[outside].max() == 0


def test_browser_renders_the_index(tmp_path) -> None:
    events = detect_events([0.0] * 50 + [0.05] * 100 + [0.0] * 100, fps=25, warmup=0)
    t = np.arange(250) / 25
    area = np.r_[np.zeros(50), np.full(100, 0.05), np.zeros(100)]
    report = write_report(tmp_path / "cam1" / "report.html", title="cam1", timestamps=t,
                          area=area, events=events)
    index = write_index(tmp_path / "index.html",
                        [IndexEntry("cam1", report, events, 10.0, 250, timestamps=t, area=area)])
    shot = _screenshot(index, tmp_path / "index.png", size=(1000, 400))
    assert _near(shot, _hex_to_bgr(AREA_COLOUR), 10).sum() > 100     # the small timeline
