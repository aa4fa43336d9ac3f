"""Helpers of tests/test_serve.py: a real MJPEG camera, HTTP reads, a DevTools client.

* :class:`MjpegCamera` serves ``multipart/x-mixed-replace`` JPEG frames on
  127.0.0.1 (an ephemeral port) from a test thread: a bright square moving
  over a textured background, or the frames of a clip, at a fixed rate.
* :func:`read_parts` reads JPEG parts from a running ``/stream.mjpg``.
* :class:`Chromium` starts Debian's chromium headless with the DevTools
  protocol on an ephemeral port and talks to one page over a websocket
  written here with the standard library (RFC 6455 client side: masked
  frames, fragmentation, ping/pong), so no package is needed.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import socket
import struct
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import cv2
import numpy as np

WIDTH, HEIGHT = 160, 120
SQUARE = 28


def _bounce(position: int, span: int) -> int:
    position %= 2 * span
    return position if position < span else 2 * span - position


def moving_square(number: int, width: int = WIDTH, height: int = HEIGHT) -> np.ndarray:
    """Frame ``number``: a striped square bouncing around over a fixed texture.

    It crosses the frame diagonally (5 pixels a frame across, 3 down), so a
    pixel lies under it a few percent of the time: too rarely to become
    background. The stripes (dark and bright, 4 pixels) move with it.
    """
    ys, xs = np.mgrid[0:height, 0:width]
    frame = np.empty((height, width, 3), np.uint8)
    frame[:, :, 0] = 60 + (xs * 40 // width)
    frame[:, :, 1] = 70 + (ys * 40 // height)
    frame[:, :, 2] = 80 + ((xs // 16 + ys // 16) % 2) * 30
    x = _bounce(number * 5, width - SQUARE)
    y = _bounce(number * 3, height - SQUARE)
    stripes = np.where((np.arange(SQUARE) // 4) % 2 == 0, 250, 15).astype(np.uint8)
    frame[y:y + SQUARE, x:x + SQUARE] = stripes[None, :, None]
    return frame


PERIOD = 2 * (WIDTH - SQUARE) * 2 * (HEIGHT - SQUARE)
"""The motion repeats after this many frames (or a divisor of it)."""


class MjpegCamera:
    """An MJPEG-over-HTTP camera on 127.0.0.1: every connection gets the next
    frames of one global sequence at ``fps``.

    ``frames`` (an array of frames, looped) replaces the moving square.
    """

    boundary = "camboundary"

    def __init__(self, fps: float = 25.0, frames: np.ndarray | None = None) -> None:
        self.fps = fps
        self.frames = frames
        self.number = 0
        self.lock = threading.Lock()
        self.closed = False
        self.httpd: ThreadingHTTPServer | None = None
        self.thread: threading.Thread | None = None
        self._cache: dict[int, bytes] = {}

    def jpeg(self, number: int) -> bytes:
        if self.frames is not None:
            key = number % len(self.frames)
            frame = self.frames[key]
        else:
            key = number % PERIOD
            frame = moving_square(key)
        if key not in self._cache:
            ok, buffer = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, 92])
            assert ok
            self._cache[key] = buffer.tobytes()
        return self._cache[key]

    def start(self) -> MjpegCamera:
        camera = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802
                self.send_response(200)
                self.send_header("Content-Type",
                                 f"multipart/x-mixed-replace; boundary={camera.boundary}")
                self.send_header("Cache-Control", "no-cache")
                self.end_headers()
                period = 1.0 / camera.fps
                next_time = time.monotonic()
                try:
                    while not camera.closed:
                        with camera.lock:
                            number = camera.number
                            camera.number += 1
                        data = camera.jpeg(number)
                        self.wfile.write(f"--{camera.boundary}\r\nContent-Type: image/jpeg\r\n"
                                         f"Content-Length: {len(data)}\r\n\r\n".encode()
                                         + data + b"\r\n")
                        self.wfile.flush()
                        next_time += period
                        delay = next_time - time.monotonic()
                        if delay > 0:
                            time.sleep(delay)
                        else:
                            next_time = time.monotonic()
                except OSError:
                    pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, name="test-camera",
                                       daemon=True)
        self.thread.start()
        return self

    @property
    def url(self) -> str:
        assert self.httpd is not None
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/video.mjpg"

    def close(self) -> None:
        self.closed = True
        if self.httpd is not None:
            self.httpd.shutdown()
            self.httpd.server_close()

    def __enter__(self) -> MjpegCamera:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()


# --------------------------------------------------------------------------- HTTP
def http(method: str, url: str, body: Any = None, *, headers: dict[str, str] | None = None,
         raw: bytes | None = None, timeout: float = 10.0) -> tuple[int, dict[str, str], bytes]:
    """``(status, headers, body)`` of one request; JSON ``body`` is encoded."""
    data = raw
    headers = dict(headers or {})
    if body is not None:
        data = json.dumps(body).encode()
        headers.setdefault("Content-Type", "application/json")
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as reply:
            return reply.status, dict(reply.headers), reply.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def get_json(url: str, **kwargs: Any) -> Any:
    status, _, body = http("GET", url, **kwargs)
    assert status == 200, (status, body[:300])
    return json.loads(body)


def raw_request(host: str, port: int, request: bytes, timeout: float = 5.0) -> bytes:
    """Send bytes as they are (no URL normalisation) and read the whole reply."""
    with socket.create_connection((host, port), timeout=timeout) as conn:
        conn.sendall(request)
        chunks = []
        while True:
            try:
                chunk = conn.recv(65536)
            except TimeoutError:
                break
            if not chunk:
                break
            chunks.append(chunk)
    return b"".join(chunks)


class StreamReader:
    """Reads the parts of a ``multipart/x-mixed-replace`` JPEG stream."""

    def __init__(self, url: str, timeout: float = 10.0) -> None:
        self.reply = urllib.request.urlopen(url, timeout=timeout)
        content_type = self.reply.headers["Content-Type"]
        match = re.search(r"boundary=([^;]+)", content_type)
        assert content_type.startswith("multipart/x-mixed-replace") and match, content_type
        self.boundary = match.group(1).encode()

    def part(self) -> bytes:
        """The next JPEG (its bytes)."""
        line = self.reply.readline()
        while line in (b"\r\n", b"\n"):
            line = self.reply.readline()
        assert line.strip() == b"--" + self.boundary, line
        length = None
        while True:
            header = self.reply.readline()
            if header in (b"\r\n", b"\n", b""):
                break
            name, _, value = header.decode().partition(":")
            if name.strip().lower() == "content-length":
                length = int(value)
        assert length is not None
        data = self.reply.read(length)
        assert len(data) == length
        return data

    def image(self) -> np.ndarray:
        picture = cv2.imdecode(np.frombuffer(self.part(), np.uint8), cv2.IMREAD_UNCHANGED)
        assert picture is not None
        return picture

    def close(self) -> None:
        self.reply.close()

    def __enter__(self) -> StreamReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def wait_for(condition: Any, timeout: float, what: str, interval: float = 0.05) -> Any:
    """Poll ``condition()`` until it is truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


# --------------------------------------------------------------------------- DevTools
class WebSocket:
    """A minimal RFC 6455 client: text messages, masked, ping answered."""

    def __init__(self, url: str, timeout: float = 20.0) -> None:
        match = re.match(r"ws://([^/:]+):(\d+)(/.*)", url)
        assert match, url
        host, port, path = match.group(1), int(match.group(2)), match.group(3)
        self.sock = socket.create_connection((host, port), timeout=timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall((f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
                           f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                           "Sec-WebSocket-Version: 13\r\n\r\n").encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise ConnectionError("the websocket handshake was cut")
            head += chunk
        head, self.buffer = head.split(b"\r\n\r\n", 1)
        status = head.split(b"\r\n", 1)[0]
        if b" 101 " not in status + b" ":
            raise ConnectionError(f"websocket handshake refused: {head.decode(errors='replace')}")

    def _read(self, n: int) -> bytes:
        while len(self.buffer) < n:
            chunk = self.sock.recv(max(65536, n - len(self.buffer)))
            if not chunk:
                raise ConnectionError("the websocket closed")
            self.buffer += chunk
        data, self.buffer = self.buffer[:n], self.buffer[n:]
        return data

    def _send_frame(self, opcode: int, payload: bytes) -> None:
        header = bytearray([0x80 | opcode])
        length = len(payload)
        if length < 126:
            header.append(0x80 | length)
        elif length < 65536:
            header.append(0x80 | 126)
            header += struct.pack(">H", length)
        else:
            header.append(0x80 | 127)
            header += struct.pack(">Q", length)
        mask = os.urandom(4)
        header += mask
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload)) if length < 4096 else \
            (np.frombuffer(payload, np.uint8) ^ np.resize(np.frombuffer(mask, np.uint8), length)).tobytes()
        self.sock.sendall(bytes(header) + masked)

    def send(self, text: str) -> None:
        self._send_frame(0x1, text.encode())

    def receive(self) -> str:
        message = b""
        while True:
            first, second = self._read(2)
            opcode, length = first & 0x0F, second & 0x7F
            if length == 126:
                length = struct.unpack(">H", self._read(2))[0]
            elif length == 127:
                length = struct.unpack(">Q", self._read(8))[0]
            if second & 0x80:
                mask = self._read(4)
                payload = bytes(b ^ mask[i % 4] for i, b in enumerate(self._read(length)))
            else:
                payload = self._read(length)
            if opcode == 0x9:       # ping
                self._send_frame(0xA, payload)
                continue
            if opcode == 0x8:
                raise ConnectionError("the websocket was closed by the browser")
            if opcode in (0x1, 0x2, 0x0):
                message += payload
                if first & 0x80:
                    return message.decode()

    def close(self) -> None:
        try:
            self._send_frame(0x8, b"")
        except OSError:
            pass
        self.sock.close()


def chromium_binary() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


class Chromium:
    """Headless chromium driven over the DevTools protocol (one page)."""

    def __init__(self, width: int = 1280, height: int = 860) -> None:
        binary = chromium_binary()
        if binary is None:
            raise FileNotFoundError("no chromium on PATH")
        self.profile = tempfile.mkdtemp(prefix="bgmix-chromium-")
        self.log = open(os.path.join(self.profile, "chromium.log"), "wb")
        self.process = subprocess.Popen(
            [binary, "--headless=new", "--no-sandbox", "--disable-gpu",
             "--disable-dev-shm-usage", "--no-first-run", "--no-default-browser-check",
             "--disable-extensions", "--disable-background-networking", "--mute-audio",
             "--remote-debugging-port=0", "--remote-debugging-address=127.0.0.1",
             f"--user-data-dir={self.profile}", f"--window-size={width},{height}",
             "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=self.log)
        self.next_id = 0
        self.events: list[dict[str, Any]] = []
        port_file = os.path.join(self.profile, "DevToolsActivePort")
        try:
            wait_for(lambda: os.path.exists(port_file) and open(port_file).read().count("\n") >= 1,
                     30, "chromium's DevToolsActivePort")
            port = int(open(port_file).read().split("\n")[0])
            targets = wait_for(lambda: [t for t in self._targets(port) if t.get("type") == "page"],
                               20, "a chromium page target")
            self.ws = WebSocket(targets[0]["webSocketDebuggerUrl"])
        except BaseException:
            self.close()
            raise

    @staticmethod
    def _targets(port: int) -> list[dict[str, Any]]:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=5) as reply:
                return json.load(reply)
        except OSError:
            return []

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        self.next_id += 1
        ident = self.next_id
        self.ws.send(json.dumps({"id": ident, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.receive())
            if message.get("id") == ident:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})
            if "method" in message:
                self.events.append(message)

    def evaluate(self, expression: str) -> Any:
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True,
                           awaitPromise=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression[:80]}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def screenshot(self, clip: dict[str, float] | None = None) -> bytes:
        params: dict[str, Any] = {"format": "png"}
        if clip is not None:
            params["clip"] = {**clip, "scale": 1}
        return base64.b64decode(self.call("Page.captureScreenshot", **params)["data"])

    def click(self, x: float, y: float) -> None:
        for kind in ("mousePressed", "mouseReleased"):
            self.call("Input.dispatchMouseEvent", type=kind, x=x, y=y, button="left", clickCount=1)

    def close(self) -> None:
        ws = getattr(self, "ws", None)
        if ws is not None:
            ws.close()
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self.log.close()
        shutil.rmtree(self.profile, ignore_errors=True)

    def __enter__(self) -> Chromium:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def png_to_array(data: bytes) -> np.ndarray:
    picture = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    assert picture is not None
    return picture
