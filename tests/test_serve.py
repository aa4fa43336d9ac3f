"""The live view (bgmix.serve): a real server on 127.0.0.1 fed by a real MJPEG stream.

A test thread serves an MJPEG camera (tests/serve_helpers.py: a square
moving over a texture); :func:`bgmix.serve.serve_run` reads it through
OpenCV's FFmpeg backend as ``bgmix run`` would, on another thread, and
serves the live view. The tests talk to that server over HTTP, and drive
Debian's chromium (headless) through its DevTools protocol. Every wait has
a timeout.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import tomllib
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from bgmix.batch import RunOptions
from bgmix.model import BackgroundMixture
from bgmix.pipeline import process
from bgmix.postprocess import Postprocess
from bgmix.serve import (LiveServer, config_toml, is_loopback, non_loopback_warning,
                         parse_serve_address, serve_run, settings_from, validate_changes)
from tests.serve_helpers import (HEIGHT, WIDTH, Chromium, MjpegCamera, StreamReader, chromium_binary,
                           get_json, http, png_to_array, raw_request, wait_for)
from tests.media import read_video

from bgmix.presets import DEFAULTS

DEFAULT_TB = DEFAULTS["var_threshold"]

REPO = Path(__file__).resolve().parents[1]


# --------------------------------------------------------------------------- fixtures
class Live:
    """A served run of the test camera, on a thread of its own."""

    def __init__(self, options: RunOptions | None = None, fps: float = 25.0,
                 frames: np.ndarray | None = None, **server_options: Any) -> None:
        self.camera = MjpegCamera(fps=fps, frames=frames).start()
        self.token = server_options.get("token")
        self.stopping = threading.Event()
        self.server: LiveServer | None = None
        self.processing: Any = None
        self.report: Any = None
        self.error: BaseException | None = None
        ready = threading.Event()

        def on_ready(server: LiveServer) -> None:
            self.server = server
            ready.set()

        def on_start(processing: Any) -> None:
            self.processing = processing

        def run() -> None:
            try:
                self.report = serve_run(self.camera.url, options, on_ready=on_ready,
                                        on_start=on_start,
                                        on_frame=lambda r, p: self.stopping.is_set(),
                                        warn=None, **server_options)
            except BaseException as exc:  # pragma: no cover - reported by the test
                self.error = exc
                ready.set()

        self.thread = threading.Thread(target=run, name="served-run", daemon=True)
        self.thread.start()
        assert ready.wait(30), "the server did not start"
        assert self.error is None, self.error
        self.url = self.server.url
        wait_for(lambda: self.stats().get("frames_processed", 0) >= 5, 90,
                 "the served run to process 5 frames")

    @property
    def model(self) -> BackgroundMixture:
        return self.processing.model

    def stats(self) -> dict[str, Any]:
        headers = {"X-Bgmix-Token": self.token} if self.token else {}
        return get_json(self.url + "api/stats", headers=headers)

    def stop(self) -> Any:
        self.stopping.set()
        self.thread.join(30)
        assert not self.thread.is_alive(), "the served run did not stop"
        self.camera.close()
        assert self.error is None, self.error
        return self.report


@pytest.fixture
def start_live():
    runs: list[Live] = []

    def start(*args: Any, **kwargs: Any) -> Live:
        runs.append(Live(*args, **kwargs))
        return runs[-1]

    yield start
    for run in runs:
        if run.thread.is_alive():
            run.stop()


@pytest.fixture(scope="module")
def shared_live():
    """One served run for the tests that change nothing (bad requests)."""
    run = Live(RunOptions())
    yield run
    run.stop()


@pytest.fixture
def live(start_live, tmp_path):
    # --jsonl makes the run compute the foreground probability (the probability view)
    return start_live(RunOptions(jsonl=str(tmp_path / "blobs.jsonl")))


def _cli_run_parser():
    """The ``bgmix run`` argparse parser (the public build_parser's subcommand)."""
    import argparse

    from bgmix.cli import build_parser

    for action in build_parser()._actions:
        if isinstance(action, argparse._SubParsersAction):
            return action.choices["run"]
    raise AssertionError("no run subcommand")


# --------------------------------------------------------------------------- units
def test_parse_serve_address_and_loopback():
    assert parse_serve_address("8080") == ("127.0.0.1", 8080)
    assert parse_serve_address(8080) == ("127.0.0.1", 8080)
    assert parse_serve_address("0.0.0.0:9000") == ("0.0.0.0", 9000)
    assert parse_serve_address("camera.local:0") == ("camera.local", 0)
    assert parse_serve_address("[::1]:8080") == ("::1", 8080)
    for bad in ("", "http", ":80", "a:-1", "a:65536", "::1:80", "[::1]80"):
        with pytest.raises(ValueError, match="--serve"):
            parse_serve_address(bad)
    assert is_loopback("127.0.0.1") and is_loopback("127.1.2.3") and is_loopback("localhost")
    assert is_loopback("::1")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.5") and not is_loopback("::")
    assert non_loopback_warning("127.0.0.1", 8080, None) is None
    text = non_loopback_warning("0.0.0.0", 8080, None)
    assert "0.0.0.0:8080" in text and "--serve-token" in text and "anyone" in text
    assert "needs the --serve-token" in non_loopback_warning("0.0.0.0", 8080, "s3cret")


def test_validate_changes_uses_the_models_messages():
    current = settings_from()
    assert validate_changes(current, {"var_threshold": 30.5})["var_threshold"] == 30.5
    assert current["var_threshold"] == DEFAULT_TB  # the input is not changed
    for changes in ({"var_threshold": -1}, {"history": 0}, {"history": True},
                    {"background_ratio": 1.5}, {"covariance_type": "round"},
                    {"median_size": 4}):
        with pytest.raises(ValueError) as ours:
            validate_changes(current, changes)
        with pytest.raises(ValueError) as models:
            BackgroundMixture(**changes)._validated()
        assert str(ours.value) == str(models.value)
    for changes, key in (({"median": 4}, "median"), ({"open": -1}, "opening"),
                         ({"fill_holes": 1}, "fill_holes")):
        with pytest.raises(ValueError) as ours:
            validate_changes(current, changes)
        name = {"median": "median", "open": "opening", "fill_holes": "fill_holes"}[next(iter(changes))]
        with pytest.raises(ValueError) as theirs:
            Postprocess(**{name: next(iter(changes.values()))})
        assert str(ours.value) == str(theirs.value), key
    with pytest.raises(ValueError, match=r"unknown parameter 'histroy'.*clean-up"):
        validate_changes(current, {"histroy": 3})
    with pytest.raises(ValueError, match="shadows must be 'keep' or 'fold'"):
        validate_changes(current, {"shadows": "background"})
    with pytest.raises(ValueError, match="JSON object"):
        validate_changes(current, [1, 2])
    with pytest.raises(ValueError, match="no parameter"):
        validate_changes(current, {})


def test_config_toml_is_read_back_by_bgmix_run(tmp_path):
    from bgmix.cli import read_config

    settings = settings_from(BackgroundMixture.from_preset("robust", history=321,
                                                           var_threshold=22.5),
                             Postprocess(median=5, opening=3, min_area=40, shadows="background"))
    path = tmp_path / "live.toml"
    path.write_text(config_toml(settings, header="from a test\nsecond line"))
    values = read_config(path, _cli_run_parser())
    params = {k.split(":", 1)[1]: v for k, v in values.items() if k.startswith("param:")}
    expected = {k: v for k, v in BackgroundMixture.from_preset(
        "robust", history=321, var_threshold=22.5).get_params().items() if v is not None}
    assert params == expected
    assert (values["median"], values["opening"], values["closing"], values["min_area"],
            values["fill_holes"], values["shadows"]) == (5, 3, 0, 40, False, "fold")


def test_no_viewer_means_no_encoding_and_changes_wait_for_the_next_frame():
    """Driven frame by frame: nothing is encoded without a viewer, and a
    change posted between frames reaches the model only at apply_pending."""
    frames = np.stack([np.full((48, 64, 3), 90, np.uint8)] * 30)
    frames[20:, 10:30, 10:30] = 240
    with LiveServer(port=0) as server, process(frames, BackgroundMixture(), blobs=False) as run:
        results = iter(run)
        for _ in range(10):
            server.on_frame(next(results), run)
        assert server.stats()["encoded"] == {"overlay": 0, "mask": 0, "background": 0,
                                            "probability": 0}
        status, _, body = http("POST", server.url + "api/params",
                               {"var_threshold": 40, "min_area": 12})
        assert status == 200, body
        assert json.loads(body)["var_threshold"] == 40
        assert run.model.var_threshold == DEFAULT_TB  # queued, not applied from the HTTP thread
        assert get_json(server.url + "api/params")["var_threshold"] == 40
        stats = server.stats()
        assert stats["params_version"] == 1 and stats["params_applied_version"] == 0
        result = next(results)
        server.publish(result, run)
        assert run.model.var_threshold == DEFAULT_TB
        assert server.apply_pending(run) == {"var_threshold": 40, "min_area": 12}
        assert run.model.var_threshold == 40
        assert run._postprocess == Postprocess(min_area=12)
        assert server.stats()["params_applied_version"] == 1
        assert server.apply_pending(run) == {}
        # the clean-up applies from the next frame: a 20x20 square survives min_area=12
        result = next(results)
        assert result.mask is not result.raw_mask
        # reported to the viewers
        t0 = time.monotonic()
        for _ in range(5):
            server.on_frame(next(results), run)
        assert time.monotonic() - t0 < 1.0


def test_stream_limit_and_bad_server_options():
    import urllib.request

    with LiveServer(port=0, max_streams=1) as server:
        first = urllib.request.urlopen(server.url + "stream.mjpg", timeout=5)  # headers at once
        assert first.status == 200
        status, _, body = http("GET", server.url + "stream.mjpg?view=mask")
        assert status == 503 and b"1 streams are open already" in body
        assert get_json(server.url + "api/stats")["viewers"]["overlay"] == 1
        first.close()
    for bad in ({"max_streams": 0}, {"max_fps": 0}, {"jpeg_quality": 101}, {"token": ""},
                {"port": 70000}, {"write_timeout": -1}):
        with pytest.raises(ValueError):
            LiveServer(**bad)


# --------------------------------------------------------------------------- endpoints
def test_every_endpoint(live, tmp_path):
    url = live.url
    status, headers, body = http("GET", url)
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    page = body.decode()
    assert "<title>bgmix live view</title>" in page
    assert "http://" not in page and "https://" not in page  # no CDN, nothing external
    assert http("GET", url + "index.html")[0] == 200

    for view, channels in (("overlay", 3), ("mask", 1), ("background", 3), ("probability", 1)):
        with StreamReader(url + f"stream.mjpg?view={view}") as stream:
            first, second = stream.image(), stream.image()
            assert first.shape[:2] == (HEIGHT, WIDTH), view
            assert (first.ndim == 2) == (channels == 1), view
            if view in ("overlay", "mask", "probability"):
                third = stream.image()
                assert np.abs(first.astype(int) - third.astype(int)).max() > 40, \
                    f"{view}: the picture does not change"
        status, headers, jpeg = http("GET", url + f"snapshot.jpg?view={view}")
        assert status == 200 and headers["Content-Type"] == "image/jpeg" and jpeg[:2] == b"\xff\xd8"
    with StreamReader(url + "stream.mjpg") as stream:  # overlay by default
        picture = stream.image()
        assert picture.shape == (HEIGHT, WIDTH, 3)
    status, _, body = http("GET", url + "stream.mjpg?view=depth")
    assert status == 400 and b"view must be one of" in body
    for bad in ("0", "-1", "fast", "nan"):
        status, _, body = http("GET", url + f"stream.mjpg?view=mask&fps={bad}")
        assert status == 400 and b"fps must be a number" in body, bad
    with StreamReader(url + "stream.mjpg?view=mask&fps=4") as slow:  # a thumbnail's rate
        slow.part()
        t0 = time.monotonic()
        parts = 0
        while time.monotonic() - t0 < 2.0:
            slow.part()
            parts += 1
        assert 4 <= parts <= 11, parts  # ~4 a second, not the 15 of max_fps

    stats = live.stats()
    for key in ("fps", "frames_processed", "frames_dropped", "latency_median_ms",
                "latency_p95_ms", "foreground_fraction", "frame_size", "viewers",
                "params_version", "params_applied_version"):
        assert key in stats, key
    assert stats["frame_size"] == [WIDTH, HEIGHT]
    assert 10 < stats["fps"] < 60
    assert 0 < stats["foreground_fraction"] < 0.5  # the moving square
    assert stats["probability_available"] is True
    later = wait_for(lambda: (s := live.stats())["frames_processed"] > stats["frames_processed"]
                     and s, 10, "more frames")
    assert later["frames_processed"] > stats["frames_processed"]

    params = get_json(url + "api/params")
    assert params == {**live.model.get_params(), "median": 0, "open": 0, "close": 0,
                      "fill_holes": False, "min_area": 0, "shadows": "keep"}

    status, headers, body = http("GET", url + "api/config.toml")
    assert status == 200 and headers["Content-Type"].startswith("application/toml")
    assert tomllib.loads(body.decode())["var_threshold"] == DEFAULT_TB

    assert get_json(url + "api/zones") == {"zones": []}
    status, _, body = http("POST", url + "api/zones", {"zones": ["door=10,10,60,10,60,100,10,100"]})
    assert status == 200, body
    assert json.loads(body)["zones"] == [{"name": "door", "points": [[10, 10], [60, 10],
                                                                      [60, 100], [10, 100]]}]
    zones = wait_for(lambda: live.stats()["zones"], 5, "the zone's foreground fraction")
    assert set(zones) == {"door"} and 0 <= zones["door"] <= 1
    status, _, body = http("POST", url + "api/zones", {"zones": ["far=10,10,500,10,500,100"]})
    assert status == 400 and b"outside the 160x120 frame" in body
    assert [z["name"] for z in get_json(url + "api/zones")["zones"]] == ["door"]
    toml = http("GET", url + "api/config.toml")[2].decode()
    assert '# zones = ["door=10,10,60,10,60,100,10,100"]' in toml
    assert http("POST", url + "api/zones", {"zones": []})[0] == 200

    report = live.stop()
    assert report.status == "done" and report.frames > 10
    assert (tmp_path / "blobs.jsonl").exists()


def test_post_params_reach_the_running_model(live):
    url = live.url
    status, _, body = http("POST", url + "api/params",
                           {"var_threshold": 31.5, "history": 200, "detect_shadows": False,
                            "median": 5, "min_area": 20, "shadows": "fold"})
    assert status == 200, body
    wait_for(lambda: live.model.var_threshold == 31.5, 10, "the model's new var_threshold")
    assert live.model.history == 200 and live.model.detect_shadows is False
    assert live.processing._postprocess == Postprocess(median=5, min_area=20,
                                                       shadows="background")
    stats = wait_for(lambda: (s := live.stats())["params_applied_version"] == s["params_version"]
                     and s, 5, "the stats to say the change is applied")
    assert stats["params_version"] >= 1
    params = get_json(url + "api/params")
    assert (params["var_threshold"], params["history"], params["median"]) == (31.5, 200, 5)
    config = tomllib.loads(http("GET", url + "api/config.toml")[2].decode())
    assert (config["var_threshold"], config["history"], config["detect_shadows"],
            config["median"], config["shadows"]) == (31.5, 200, False, 5, "fold")
    # a later clean-up change keeps the earlier ones; back to no clean-up at all
    assert http("POST", url + "api/params", {"median": 0, "min_area": 0, "shadows": "keep"})[0] == 200
    wait_for(lambda: live.processing._postprocess is None, 10, "the clean-up to be removed")
    assert live.model.var_threshold == 31.5


@pytest.mark.parametrize("body, message, models_own", [
    ({"histroy": 300}, "unknown parameter 'histroy'", False),
    ({"var_threshold": -5}, "var_threshold must be in (0, inf), got -5.0", True),
    ({"var_threshold": "high"}, "var_threshold must be a number, got 'high' (str)", True),
    ({"history": 2.5}, "history must be an integer, got 2.5 (float)", True),
    ({"detect_shadows": "yes"}, "detect_shadows must be True or False, got 'yes'", True),
    ({"background_ratio": 0}, "background_ratio must be in (0, 1], got 0.0", True),
    ({"var_min": 20, "var_max": 10}, "var_max must be in [20, inf), got 10.0", True),
    ({"var_threshold": 25, "history": -1}, "history must be >= 1, got -1", True),
    ({"median": 4}, "median must be odd (or 0 to turn the step off), got 4", False),
    ({"shadows": "drop"}, "shadows must be 'keep' or 'fold', got 'drop'", False),
    ({"var_threshold": [1, 2]}, "var_threshold must be a single value", False),
    ([["var_threshold", 20]], "the parameters must be a JSON object", False),
    ({}, "no parameter given", False),
])
def test_bad_posts_change_nothing(shared_live, body, message, models_own):
    live = shared_live
    before_model = live.model.get_params()
    before = get_json(live.url + "api/params")
    version = live.stats()["params_version"]
    code, _, reply = http("POST", live.url + "api/params", body)
    assert code == 400
    error = json.loads(reply)["error"]
    assert error.startswith(message), error
    if models_own:  # word for word what the model itself says
        with pytest.raises(ValueError) as model_error:
            BackgroundMixture(**body)._validated()
        assert error == str(model_error.value)
    time.sleep(0.3)  # frames go by: nothing was queued
    assert get_json(live.url + "api/params") == before
    assert live.model.get_params() == before_model
    assert live.stats()["params_version"] == version


def test_malformed_posts(shared_live):
    live = shared_live
    url = live.url + "api/params"
    before = get_json(live.url + "api/params")
    cases = [
        (b'{"var_threshold": 2', {"Content-Type": "application/json"}, 400, "not valid JSON"),
        (b'\xff\xfe', {"Content-Type": "application/json"}, 400, "not valid JSON"),
        (b'{"var_threshold": 20}', {"Content-Type": "text/plain"}, 415, "application/json"),
        (b'{"var_threshold": 20}', {}, 415, "application/json"),
        (b"{" + b" " * 70000 + b"}", {"Content-Type": "application/json"}, 413, "at most"),
        (b'{"var_threshold": 20}', {"Content-Type": "application/json",
                                    "Origin": "http://evil.example"}, 403, "cross-origin"),
    ]
    for raw, headers, status, text in cases:
        code, _, body = http("POST", url, raw=raw, headers=headers)
        assert code == status, (raw[:30], code, body)
        assert text in json.loads(body)["error"]
    assert http("POST", live.url + "api/stats", {"a": 1})[0] == 404
    assert http("PUT", url, {"var_threshold": 20})[0] == 501
    assert get_json(live.url + "api/params") == before
    assert live.model.var_threshold == DEFAULT_TB


def test_no_path_traversal_and_no_foreign_host(shared_live):
    live = shared_live
    host, port = live.server.address
    for path in ("/../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd", "//etc/passwd",
                 "/..%2f..%2fetc%2fpasswd", "/page.html", "/serve/page.html",
                 "/bgmix/serve/server.py", "/api/../../../etc/passwd", "/api/config.toml/../x",
                 "/stream.mjpg/../../etc/passwd"):
        reply = raw_request(host, port, f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                                        "Connection: close\r\n\r\n".encode())
        assert reply.startswith(b"HTTP/1.1 404"), (path, reply[:80])
        assert b"root:" not in reply and b"import " not in reply
    # DNS rebinding: a loopback server answers only to loopback names
    reply = raw_request(host, port, b"GET /api/params HTTP/1.1\r\nHost: evil.example:80\r\n"
                                    b"Connection: close\r\n\r\n")
    assert reply.startswith(b"HTTP/1.1 403")
    for name in (f"localhost:{port}", f"127.0.0.1:{port}", "[::1]"):
        reply = raw_request(host, port, f"GET /api/stats HTTP/1.1\r\nHost: {name}\r\n"
                                        "Connection: close\r\n\r\n".encode())
        assert reply.startswith(b"HTTP/1.1 200"), name


def _outward_address() -> str | None:
    """An address of this machine other machines could reach (None if it has none)."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("192.0.2.1", 9))  # TEST-NET-1: nothing is sent
            address = probe.getsockname()[0]
    except OSError:
        return None
    return None if is_loopback(address) or address == "0.0.0.0" else address


def test_token_off_loopback(start_live):
    token = "tok-3f9a"
    # bound to every interface (not loopback) with a token
    live = start_live(RunOptions(), host="0.0.0.0", token=token)
    assert live.server.address[0] == "0.0.0.0"
    port = live.server.address[1]
    assert non_loopback_warning("0.0.0.0", port, token) is not None
    addresses = ["127.0.0.1"] + [a for a in [_outward_address()] if a]
    for address in addresses:
        base = f"http://{address}:{port}/"
        for path in ("", "api/stats", "api/params", "api/config.toml", "stream.mjpg",
                     "snapshot.jpg"):
            status, _, body = http("GET", base + path)
            assert status == 401, (address, path, status)
            assert b"token" in body
            assert http("GET", base + path + ("&" if "?" in path else "?") + "token=wrong")[0] == 401
        assert http("POST", base + "api/params", {"var_threshold": 20})[0] == 401
        assert http("GET", base + f"api/stats?token={token}")[0] == 200
        assert http("GET", base + "api/params", headers={"X-Bgmix-Token": token})[0] == 200
        assert http("GET", base + "api/params",
                    headers={"Authorization": f"Bearer {token}"})[0] == 200
        status, _, _ = http("POST", base + f"api/params?token={token}", {"var_threshold": 21})
        assert status == 200
        with StreamReader(base + f"stream.mjpg?token={token}") as stream:
            assert stream.image().shape == (HEIGHT, WIDTH, 3)
        page = http("GET", base + f"?token={token}")
        assert page[0] == 200 and b"X-Bgmix-Token" in page[2]  # the page passes it on
    wait_for(lambda: live.model.var_threshold == 21, 10, "the tokened change")
    # serve_run warns when it binds off loopback
    said: list[str] = []
    report = serve_run(np.zeros((3, 8, 8, 3), np.uint8), host="0.0.0.0", port=0, warn=said.append)
    assert report.status == "done" and len(said) == 1 and "--serve-token" in said[0]
    said.clear()
    serve_run(np.zeros((3, 8, 8, 3), np.uint8), host="127.0.0.1", port=0, warn=said.append)
    assert said == []


def test_two_viewers_share_one_encoding(live):
    url = live.url + "stream.mjpg?view=overlay"
    counts = [0, 0]
    errors: list[BaseException] = []

    def viewer(i: int) -> None:
        try:
            with StreamReader(url) as stream:
                deadline = time.monotonic() + 3.0
                while time.monotonic() < deadline:
                    stream.part()
                    counts[i] += 1
        except BaseException as exc:  # pragma: no cover
            errors.append(exc)

    encoded_before = live.stats()["encoded"]["overlay"]
    threads = [threading.Thread(target=viewer, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    seen = wait_for(lambda: live.stats()["viewers"]["overlay"] == 2, 5, "two viewers")
    assert seen
    for thread in threads:
        thread.join(10)
    assert not errors, errors
    encoded = live.stats()["encoded"]["overlay"] - encoded_before
    assert min(counts) >= 15, counts  # ~15 pictures/s each for 3 s (max_fps 15, camera 25)
    assert encoded <= max(counts) + 3, (encoded, counts)  # one JPEG per frame, for both
    assert wait_for(lambda: live.stats()["viewers"]["overlay"] == 0, 5, "the viewers to leave")


def test_a_viewer_that_stops_reading_does_not_slow_the_pipeline(start_live):
    live = start_live(RunOptions(), fps=50.0, write_timeout=1.5)
    host, port = live.server.address

    def rate(seconds: float = 3.0) -> tuple[float, int]:
        first = live.stats()
        time.sleep(seconds)
        last = live.stats()
        return ((last["frames_processed"] - first["frames_processed"]) / seconds,
                last["frames_dropped"] - first["frames_dropped"])

    baseline, _ = rate()
    stalled = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    stalled.connect((host, port))
    stalled.sendall(f"GET /stream.mjpg?view=overlay HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n"
                    .encode())  # and never read
    try:
        wait_for(lambda: live.stats()["viewers"]["overlay"] == 1, 5, "the stalled viewer")
        with StreamReader(live.url + "stream.mjpg?view=mask") as healthy:
            healthy.part()
            during, _ = rate()
            t0 = time.monotonic()
            parts = 0
            while time.monotonic() - t0 < 1.0:
                healthy.part()
                parts += 1
        assert parts >= 5, "a healthy viewer starves while another one stalls"
        assert during >= 0.85 * baseline, (baseline, during)
        # the stalled viewer is dropped once its writes block for write_timeout
        wait_for(lambda: live.stats()["viewers"]["overlay"] == 0, 30,
                 "the stalled viewer to be dropped")
    finally:
        stalled.close()
    after, _ = rate(2.0)
    assert after >= 0.85 * baseline, (baseline, after)


# --------------------------------------------------------------------------- Ctrl-C
def test_ctrl_c_finalises_the_outputs(tmp_path):
    with MjpegCamera(fps=25.0) as camera:
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(
            [str(REPO)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]))
        child = subprocess.Popen([sys.executable, "-m", "bgmix.serve", camera.url,
                                  "--serve", "127.0.0.1:0", "-o", str(tmp_path),
                                  "--set", "var_threshold=20"],
                                 stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path)
        try:
            line = child.stderr.readline()
            match = re.search(r"live view at (http://\S+)", line)
            assert match, line
            url = match.group(1)
            wait_for(lambda: get_json(url + "api/stats").get("frames_processed", 0) >= 20, 90,
                     "20 frames")
            assert get_json(url + "api/params")["var_threshold"] == 20
            with StreamReader(url + "stream.mjpg") as stream:  # a viewer is connected
                stream.part()
                child.send_signal(signal.SIGINT)
                code = child.wait(30)
        finally:
            if child.poll() is None:
                child.kill()
            rest = child.stderr.read()
            child.stderr.close()
    assert code == 130, rest
    assert "interrupted" in rest
    masks = tmp_path / "masks.mkv"
    assert masks.exists() and not list(tmp_path.glob(".*part*"))
    capture = cv2.VideoCapture(str(masks))
    count = 0
    while capture.read()[0]:
        count += 1
    capture.release()
    assert count >= 20


# --------------------------------------------------------------------------- browser
def _need_chromium() -> None:
    if chromium_binary() is None:
        pytest.skip("no chromium on this machine")


def _open_page(browser: Chromium, url: str) -> dict[str, float]:
    browser.call("Page.enable")
    browser.call("Runtime.enable")
    browser.call("Page.navigate", url=url)
    wait_for(lambda: browser.evaluate(
        "document.readyState !== 'loading' && !!document.getElementById('main') && "
        "document.getElementById('main').naturalWidth > 0 && "
        "document.getElementById('s-frames').textContent !== '–' && "
        "document.getElementById('var_threshold').value !== ''"), 30, "the page and its picture")
    return browser.evaluate("(() => { const r = document.getElementById('main')"
                            ".getBoundingClientRect(); return {x: r.x, y: r.y, width: r.width, "
                            "height: r.height}; })()")


def test_browser_sees_the_picture_and_tunes_the_model(live, tmp_path):
    _need_chromium()
    with Chromium() as browser:
        box = _open_page(browser, live.url)
        assert box["width"] > 300 and abs(box["width"] / box["height"] - WIDTH / HEIGHT) < 0.05
        assert browser.evaluate("document.title") == "bgmix live view"
        # the picture changes: two screenshots of the image differ
        first = png_to_array(browser.screenshot(box))
        time.sleep(0.7)
        second = png_to_array(browser.screenshot(box))
        assert first.shape[:2] == (round(box["height"]), round(box["width"]))
        assert first.std() > 5, "the image region is blank"
        changed = np.abs(first.astype(int) - second.astype(int)).max(axis=2) > 60
        assert changed.mean() > 0.01, "the picture does not move"
        # the moving square is tinted as foreground (blended with red: R well above G and B)
        b, g, r = (first[:, :, i].astype(int) for i in range(3))
        assert np.count_nonzero(r - np.maximum(g, b) > 60) > 0.005 * r.size
        # numbers on the page
        fps = float(browser.evaluate("document.getElementById('s-fps').textContent"))
        assert 10 < fps < 60
        assert "%" in browser.evaluate("document.getElementById('s-fg').textContent")

        # move the threshold slider: the running model's parameter changes
        browser.evaluate("(() => { const s = document.getElementById('var_threshold'); "
                         "s.value = '40'; s.dispatchEvent(new Event('input', {bubbles: true})); "
                         "})()")
        wait_for(lambda: live.model.var_threshold == 40, 10, "the model's var_threshold")
        assert get_json(live.url + "api/params")["var_threshold"] == 40
        assert browser.evaluate("document.getElementById('var_threshold-number').value") == "40"
        # a checkbox and a select: detect_shadows off, shadows folded by the clean-up
        browser.evaluate("document.getElementById('detect_shadows').click()")
        browser.evaluate("(() => { const s = document.getElementById('shadows'); s.value = 'fold';"
                         " s.dispatchEvent(new Event('change', {bubbles: true})); })()")
        wait_for(lambda: live.model.detect_shadows is False, 10, "detect_shadows off")
        wait_for(lambda: live.processing._postprocess == Postprocess(shadows="background"), 10,
                 "shadows folded")
        # a value the model refuses: its message on the page, nothing changes
        browser.evaluate("(() => { const n = document.getElementById('var_threshold-number'); "
                         "n.value = '-3'; n.dispatchEvent(new Event('change', {bubbles: true})); "
                         "})()")
        message = wait_for(lambda: browser.evaluate(
            "document.getElementById('message').className === 'bad' && "
            "document.getElementById('message').textContent"), 10, "the error message")
        assert message == "var_threshold must be in (0, inf), got -3.0"
        time.sleep(0.3)
        assert live.model.var_threshold == 40
        wait_for(lambda: browser.evaluate("document.getElementById('var_threshold').value") == "40",
                 5, "the slider to be put back")

        # draw a zone with the mouse on the picture
        browser.evaluate("document.getElementById('zone-draw').click()")
        corners = [(0.1, 0.1), (0.5, 0.1), (0.5, 0.9), (0.1, 0.9)]
        for fx, fy in corners:
            browser.click(box["x"] + fx * box["width"], box["y"] + fy * box["height"])
        browser.evaluate("document.getElementById('zone-name').value = 'left'")
        browser.evaluate("document.getElementById('zone-done').click()")
        zones = wait_for(lambda: get_json(live.url + "api/zones")["zones"], 10, "the drawn zone")
        assert [z["name"] for z in zones] == ["left"]
        expected = [[round(fx * WIDTH), round(fy * HEIGHT)] for fx, fy in corners]
        assert np.abs(np.array(zones[0]["points"]) - np.array(expected)).max() <= 2
        wait_for(lambda: "left" in browser.evaluate(
            "document.getElementById('s-zones').textContent"), 10, "the zone's numbers")

        # the config link carries the settings
        toml = browser.evaluate("fetch(document.getElementById('config').href)"
                                ".then(r => r.text())")
        config = tomllib.loads(toml)
        assert config["var_threshold"] == 40 and config["detect_shadows"] is False
        assert config["shadows"] == "fold"

        shot = browser.screenshot()
        (tmp_path / "serve.png").write_bytes(shot)
        page = png_to_array(shot)
        assert page.shape[0] > 500 and page.std() > 10


def test_two_browsers_and_the_token(start_live):
    _need_chromium()
    live = start_live(RunOptions(), token="pagetoken")
    with Chromium() as one, Chromium(width=900, height=700) as two:
        for browser in (one, two):
            _open_page(browser, live.url + "?token=pagetoken")
        # each page opens four streams (the large one and three thumbnails)
        def streams() -> dict[str, int] | None:
            viewers = live.stats()["viewers"]
            return viewers if sum(viewers.values()) >= 8 else None

        viewers = wait_for(streams, 10, "eight streams")
        assert viewers["overlay"] >= 2 and viewers["mask"] >= 2
        one.evaluate("(() => { const s = document.getElementById('min_area'); s.value = '50'; "
                     "s.dispatchEvent(new Event('input', {bubbles: true})); })()")
        wait_for(lambda: live.processing._postprocess == Postprocess(min_area=50), 10,
                 "min_area from the first browser")
        two.evaluate("document.getElementById('reload').click()")
        wait_for(lambda: two.evaluate("document.getElementById('min_area').value") == "50", 5,
                 "the second browser to see it")
    status, _, _ = http("GET", live.url)
    assert status == 401


@pytest.mark.skipif(not os.environ.get("BGMIX_UPDATE_DOCS"),
                    reason="writes docs/serve.png; set BGMIX_UPDATE_DOCS=1")
def test_docs_screenshot(start_live, tmp_path):
    """docs/serve.png: the page on the bundled sample clip, looped as a camera."""
    _need_chromium()
    frames = [cv2.resize(frame, (320, 240), interpolation=cv2.INTER_LINEAR)
              for frame in read_video(REPO / "videos" / "sample.mkv")]
    live = start_live(RunOptions(jsonl=str(tmp_path / "blobs.jsonl")), frames=np.stack(frames), fps=25.0)
    http("POST", live.url + "api/params", {"median": 3, "min_area": 10})
    http("POST", live.url + "api/zones", {"zones": ["lane=20,150,300,150,300,235,20,235"]})
    with Chromium(width=1280, height=800) as browser:
        _open_page(browser, live.url)
        time.sleep(4)  # the background settles, the numbers fill in
        shot = browser.screenshot()
    (REPO / "docs" / "serve.png").write_bytes(shot)
    assert png_to_array(shot).std() > 10
