"""Live sources (bgmix.sources.live.LiveSource) against a real MJPEG-over-HTTP stream.

A test thread serves ``multipart/x-mixed-replace`` JPEG frames on 127.0.0.1
(an ephemeral port), read through OpenCV's FFmpeg backend exactly as an IP
camera would be. Each frame carries its sequence number as 16 black or white
8x8 blocks, which survive JPEG, so the tests know which frame they got and
when the server sent it. Every wait has a timeout: a broken test fails, it
does not hang.
"""

from __future__ import annotations

import concurrent.futures
import gc
import socket
import threading
import time
import tracemalloc
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import cv2
import numpy as np
import pytest

from bgmix.errors import StreamLostError
from bgmix.model import BackgroundMixture
from bgmix.pipeline import process
from bgmix.sources import LiveSource, VideoFileSource, open_source
from tests.media import bgmix_threads, count_frames, wait_for
from tests.mixtures import plain_mixture

pytestmark = pytest.mark.slow  # each test streams MJPEG over HTTP for seconds

WIDTH, HEIGHT = 64, 48
BLOCK = 8
BITS = 16


def numbered_frame(number: int) -> np.ndarray:
    """A 64x48 BGR frame showing ``number`` as 16 black/white 8x8 blocks."""
    frame = np.full((HEIGHT, WIDTH, 3), 60, np.uint8)
    for bit in range(BITS):
        row, col = divmod(bit, WIDTH // BLOCK)
        value = 255 if (number >> bit) & 1 else 0
        frame[row * BLOCK:(row + 1) * BLOCK, col * BLOCK:(col + 1) * BLOCK] = value
    return frame


def frame_number(frame: np.ndarray) -> int:
    """Read back the number :func:`numbered_frame` drew (block centres, after JPEG)."""
    number = 0
    for bit in range(BITS):
        row, col = divmod(bit, WIDTH // BLOCK)
        if frame[row * BLOCK + BLOCK // 2, col * BLOCK + BLOCK // 2].mean() > 127:
            number |= 1 << bit
    return number


class MjpegServer:
    """An MJPEG-over-HTTP camera on 127.0.0.1, served by a test thread.

    Every connection gets the next frames of one global sequence at ``fps``.
    :meth:`drop` closes every open connection and, with ``refuse=True``,
    the listening socket too (connections are refused) until :meth:`resume`
    listens again on the same port. :meth:`freeze` keeps the connections open
    but silent, as a camera that hangs. ``sent_at[n]`` is the
    ``time.monotonic()`` at which frame ``n`` was written.
    """

    boundary = "bgmixframe"

    def __init__(self, fps: float = 50.0) -> None:
        self.fps = fps
        self.lock = threading.Lock()
        self.next_number = 0
        self.sent_at: dict[int, float] = {}
        self.generation = 0      # given to each new connection
        self.dropped_upto = -1   # connections of a generation <= this end
        self.frozen_upto = -1    # connections of a generation <= this stay open, silent
        self.connections = 0
        self.closed = False
        self.port = 0
        self.httpd: ThreadingHTTPServer | None = None
        self.thread: threading.Thread | None = None
        self.resume()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/stream.mjpg"

    def resume(self) -> None:
        """Listen (again, on the same port once it has one)."""
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                owner.stream_to(self)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02},
                                       name="mjpeg-server", daemon=True)
        self.thread.start()

    def stream_to(self, handler: BaseHTTPRequestHandler) -> None:
        with self.lock:
            generation = self.generation
            self.connections += 1
        handler.send_response(200)
        handler.send_header("Content-Type", f"multipart/x-mixed-replace; boundary={self.boundary}")
        handler.send_header("Cache-Control", "no-cache")
        handler.end_headers()
        period = 1.0 / self.fps
        deadline = time.monotonic()
        try:
            while not self.closed and generation > self.dropped_upto:
                if generation <= self.frozen_upto:
                    time.sleep(0.01)
                    continue
                with self.lock:
                    number = self.next_number
                    self.next_number += 1
                ok, jpeg = cv2.imencode(".jpg", numbered_frame(number), [cv2.IMWRITE_JPEG_QUALITY, 90])
                assert ok
                data = jpeg.tobytes()
                self.sent_at[number] = time.monotonic()  # before the client can have it
                handler.wfile.write(
                    f"--{self.boundary}\r\nContent-Type: image/jpeg\r\n"
                    f"Content-Length: {len(data)}\r\n\r\n".encode() + data + b"\r\n")
                handler.wfile.flush()
                deadline += period
                time.sleep(max(0.0, deadline - time.monotonic()))
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client went away

    def drop(self, *, refuse: bool) -> None:
        """Close every open connection; stop listening too when ``refuse``."""
        with self.lock:
            self.dropped_upto = self.generation
            self.generation += 1
        if refuse and self.httpd is not None:
            self.httpd.shutdown()
            self.httpd.server_close()
            self.httpd = None

    def freeze(self) -> None:
        """Keep the open connections, but send nothing more on them."""
        with self.lock:
            self.frozen_upto = self.generation
            self.generation += 1

    def stop(self) -> None:
        self.closed = True
        self.drop(refuse=True)


@pytest.fixture
def server():
    srv = MjpegServer(fps=50.0)
    yield srv
    srv.stop()


def call_within(seconds: float, function, *args: Any) -> Any:
    """Run ``function(*args)`` on a worker thread; fail the test if it takes too long."""
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=1)
    try:
        return pool.submit(function, *args).result(timeout=seconds)
    except concurrent.futures.TimeoutError:
        pytest.fail(f"{getattr(function, '__name__', function)} took more than {seconds} s")
    finally:
        pool.shutdown(wait=False)


def take(source: LiveSource, n: int, seconds: float = 10.0) -> list[np.ndarray]:
    return call_within(seconds, lambda: [next(source) for _ in range(n)])


@pytest.fixture(autouse=True)
def opencv_reads_mjpeg_over_http(request):
    """Skip (saying why) when this OpenCV has no FFmpeg backend for streams."""
    from cv2 import videoio_registry

    backends = [videoio_registry.getBackendName(b) for b in videoio_registry.getStreamBackends()]
    if "FFMPEG" not in backends:
        pytest.skip(f"this OpenCV has no FFmpeg stream backend (it has {backends}); "
                    "MJPEG over HTTP needs it")


def fast_reconnect(**overrides: Any) -> dict[str, Any]:
    options = dict(reconnect_delay=0.05, reconnect_max_delay=0.2, reconnect_attempts=40,
                   open_timeout=2.0, read_timeout=1.0)
    options.update(overrides)
    return options


# ------------------------------------------------------------------ reading
def test_opencv_itself_reads_the_test_stream(server):
    # The premise of everything below: plain cv2.VideoCapture reads MJPEG over HTTP.
    capture = cv2.VideoCapture(server.url, cv2.CAP_FFMPEG,
                               [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, 2000, cv2.CAP_PROP_READ_TIMEOUT_MSEC, 2000])
    try:
        assert capture.isOpened(), f"OpenCV cannot open {server.url}"
        numbers = []
        for _ in range(5):
            ok, frame = capture.read()
            assert ok and frame.shape == (HEIGHT, WIDTH, 3)
            numbers.append(frame_number(frame))
    finally:
        capture.release()
    assert numbers == list(range(numbers[0], numbers[0] + 5))


def test_live_source_reads_the_stream_in_order(server):
    with LiveSource(server.url, **fast_reconnect()) as source:
        assert source.name == server.url
        assert source.frame_size == (WIDTH, HEIGHT) and source.n_frames is None
        numbers, times = [], []
        for _ in range(15):
            frame = call_within(5.0, next, source)
            assert frame.shape == (HEIGHT, WIDTH, 3) and frame.dtype == np.uint8
            numbers.append(frame_number(frame))
            times.append(source.capture_time)
        assert source.frames_read >= 15 and source.reconnects == 0
    assert numbers == sorted(set(numbers))  # newest first, never a frame twice or backwards
    assert all(b > a for a, b in zip(times, times[1:]))
    assert wait_for(lambda: bgmix_threads("bgmix-live") == [], 5.0)


def test_open_source_opens_urls_and_camera_strings_as_live(server):
    with open_source(server.url, **fast_reconnect()) as source:
        assert isinstance(source, LiveSource)
        assert source.reconnect_attempts == 40
        take(source, 2)
    source = open_source(server.url, live=False)  # an HTTP video read as a file
    try:
        assert isinstance(source, VideoFileSource)
    finally:
        source.close()
    with pytest.raises(TypeError, match="reconnect_delay: options of live sources"):
        open_source(np.zeros((2, 4, 4), np.uint8), reconnect_delay=1.0)


def test_stream_that_cannot_be_opened_names_the_url_and_hides_credentials():
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://viewer:s3cret@127.0.0.1:{port}/stream.mjpg"
    start = time.monotonic()
    with pytest.raises(ConnectionError, match=rf"cannot open stream http://viewer:\*\*\*@127\.0\.0\.1:{port}") as info:
        LiveSource(url, open_timeout=2.0)
    assert "s3cret" not in str(info.value)
    assert time.monotonic() - start < 5.0


# ------------------------------------------------------------ reconnection
def test_reconnects_after_the_server_drops_and_refuses_for_a_while(server):
    with LiveSource(server.url, **fast_reconnect()) as source:
        before = [frame_number(f) for f in take(source, 5)]
        server.drop(refuse=True)
        time.sleep(0.6)  # several refused attempts (backoff 0.05, 0.1, 0.2, 0.2 ...)
        server.resume()
        after = [frame_number(f) for f in take(source, 5)]
        assert source.reconnects >= 1
        assert server.connections >= 2
    assert min(after) > max(before)  # the new connection's frames, later in the sequence


def test_reconnects_when_the_stream_goes_silent(server):
    # A camera that hangs: the connection stays open, nothing comes. The
    # read timeout turns it into a loss, and a new connection streams again.
    with LiveSource(server.url, **fast_reconnect(read_timeout=0.5)) as source:
        take(source, 3)
        server.freeze()
        start = time.monotonic()
        take(source, 3, seconds=8.0)
        assert source.reconnects >= 1
        assert time.monotonic() - start < 5.0


def test_gives_up_after_the_configured_attempts_with_a_clear_error(server):
    source = LiveSource(server.url, **fast_reconnect(reconnect_attempts=3))
    take(source, 3)
    server.stop()
    start = time.monotonic()

    def drain() -> int:
        n = 0
        for _ in source:  # frames grabbed before the loss are still returned
            n += 1
        return n

    with pytest.raises(StreamLostError, match=rf"lost stream {server.url} after \d+ frames .*"
                       r"3 attempts over [\d.]+ s failed \(reconnect_attempts=3\)"):
        call_within(10.0, drain)
    # Backoff 0.05 + 0.1 + 0.2 s plus three refused connects.
    assert time.monotonic() - start < 4.0
    assert source.closed
    with pytest.raises(StopIteration):
        next(source)
    assert wait_for(lambda: bgmix_threads("bgmix-live") == [], 5.0)


def test_reconnect_attempts_zero_gives_up_at_once(server):
    with LiveSource(server.url, **fast_reconnect(reconnect_attempts=0)) as source:
        take(source, 2)
        server.stop()
        with pytest.raises(StreamLostError, match="0 attempts"):
            call_within(5.0, lambda: list(source))


# ------------------------------------------------- a producer faster than us
def test_slow_consumer_gets_fresh_frames_and_drops_the_rest():
    fast = MjpegServer(fps=100.0)
    try:
        period = 1.0 / fast.fps
        consumer_time = 0.05
        ages, numbers = [], []
        with LiveSource(fast.url, **fast_reconnect()) as source:
            take(source, 1)
            for _ in range(15):
                time.sleep(consumer_time)  # a model five times slower than the camera
                frame = call_within(5.0, next, source)
                number = frame_number(frame)
                numbers.append(number)
                ages.append(time.monotonic() - fast.sent_at[number])
            read, dropped = source.frames_read, source.frames_dropped
    finally:
        fast.stop()
    # About 4 of every 5 frames are skipped, counted, and never queued.
    assert dropped >= 15 * 2
    assert read - dropped - 16 in (0, 1)  # returned + dropped (+ one waiting in the slot)
    assert all(b - a >= 2 for a, b in zip(numbers, numbers[1:]))
    # Each frame is at most about one frame period old when it is returned
    # (a queue would make the 15th one 15 x 40 ms = 0.6 s old). The slack is
    # for decoding and a scheduler on two busy cores.
    assert np.median(ages) < period + 0.02, ages
    assert max(ages) < period + 0.1, ages


def test_memory_stays_at_one_frame_while_nobody_reads():
    fast = MjpegServer(fps=100.0)
    try:
        with LiveSource(fast.url, **fast_reconnect()) as source:
            take(source, 1)
            gc.collect()
            tracemalloc.start()
            try:
                dropped_before = source.frames_dropped
                before, _ = tracemalloc.get_traced_memory()
                time.sleep(1.0)  # ~100 frames arrive, nobody takes them
                after, _ = tracemalloc.get_traced_memory()
            finally:
                tracemalloc.stop()
            assert source.frames_dropped - dropped_before >= 50
            frame_bytes = WIDTH * HEIGHT * 3
            assert after - before < 5 * frame_bytes, (before, after)
            # The frame returned next is the newest, not the oldest waiting.
            number = frame_number(call_within(5.0, next, source))
            assert fast.next_number - number <= 3
    finally:
        fast.stop()


# ------------------------------------------------------------- the pipeline
@pytest.fixture(scope="module")
def warm_model() -> BackgroundMixture:
    model = plain_mixture()
    model.apply(numbered_frame(0))  # compile (or load) the kernel before timing latency
    return model


def test_pipeline_reports_latency_drops_and_reconnects(server, warm_model):
    source = open_source(server.url, **fast_reconnect())
    seen = []
    with process(source, warm_model, max_frames=30) as results:

        def run() -> None:
            for result in results:
                seen.append(result)
                if result.index == 9:
                    server.drop(refuse=False)  # the camera's connection breaks once
                time.sleep(0.04)  # slower than the 50 fps stream

        call_within(20.0, run)
        stats = results.stats
    assert len(seen) == 30 and source.closed
    assert stats.frames_processed == 30
    assert stats.reconnects >= 1
    assert stats.frames_dropped > 0
    assert stats.frames_read >= stats.frames_processed + stats.frames_dropped
    # Latency counts from the grab: each result's is mask time - capture time.
    assert all(r.latency_s > 0 for r in seen)
    assert 0 < stats.median_latency_s <= stats.p95_latency_s <= stats.max_latency_s
    assert stats.p95_latency_s < 0.15, stats


# ------------------------------------------------------------ the bgmix command
def test_cli_runs_on_a_live_stream(server, tmp_path):
    from bgmix.cli import main

    code = call_within(30.0, main, ["run", server.url, "-o", str(tmp_path), "-q", "--jsonl", "--masks",
                                    "--max-frames", "25", "--reconnect-delay", "0.05",
                                    "--read-timeout", "1"])
    assert code == 0
    lines = (tmp_path / "blobs.jsonl").read_text().splitlines()
    assert len(lines) == 25
    assert count_frames(tmp_path / "masks.mkv") == 25


def test_cli_stream_lost_exits_1_and_keeps_the_frames_so_far(server, tmp_path, capsys):
    from bgmix.cli import main

    threading.Timer(1.0, server.stop).start()  # about 50 frames, then the camera is gone
    code = call_within(30.0, main, ["run", server.url, "-o", str(tmp_path), "-q", "--jsonl", "--masks",
                                    "--reconnect-attempts", "1", "--reconnect-delay", "0.05",
                                    "--read-timeout", "0.5"])
    err = capsys.readouterr().err
    assert code == 1, err
    assert f"lost stream {server.url}" in err and "reconnect_attempts=1" in err
    assert err.count("\n") == 1 and "Traceback" not in err
    written = len((tmp_path / "blobs.jsonl").read_text().splitlines())
    assert written > 5 and count_frames(tmp_path / "masks.mkv") == written


def test_cli_live_flags_on_a_file_are_refused(tmp_path, capsys):
    from bgmix.cli import main

    clip = tmp_path / "clip.mkv"
    writer = cv2.VideoWriter(str(clip), cv2.VideoWriter_fourcc(*"FFV1"), 25, (WIDTH, HEIGHT))
    for number in range(3):
        writer.write(numbered_frame(number))
    writer.release()
    assert main(["run", str(clip), "-o", str(tmp_path / "o"), "-q", "--reconnect-attempts",
                 "3"]) == 2
    assert "reconnect_attempts: options of live sources" in capsys.readouterr().err
