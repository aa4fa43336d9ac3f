"""A live view of a run in the browser: MJPEG streams, statistics, tunable parameters.

:class:`LiveServer` runs an HTTP server on its own threads next to the
pipeline. The pipeline thread calls :meth:`LiveServer.publish` after each
frame and :meth:`LiveServer.apply_pending` between frames (both at once:
:meth:`LiveServer.on_frame`, the ``on_frame`` callback of
:func:`bgmix.run.run_video`); nothing else touches the model.

Endpoints (``?token=`` or the ``X-Bgmix-Token`` header when a token is set)
--------------------------------------------------------------------------
``GET /``
    The page: the live overlay, the mask and the background, the numbers,
    the parameters, zones drawn on the picture.
``GET /stream.mjpg?view=overlay|mask|background|probability[&fps=N]``
    ``multipart/x-mixed-replace`` JPEG stream of one view, at most ``N``
    (default and at most ``max_fps``) pictures a second.
``GET /snapshot.jpg?view=...``
    One JPEG of the view (the newest).
``GET /api/stats``
    JSON: fps (recent and whole-run), frames processed/dropped, latency,
    foreground fraction (per zone too), viewers.
``GET /api/params``, ``POST /api/params``
    JSON settings under the ``bgmix run --config`` names
    (:mod:`bgmix.serve.params`); a POST of some of them is checked by the
    model's own code and applied before the next frame, or refused with
    400 and the model's message (nothing changes).
``GET /api/zones``, ``POST /api/zones``
    Named polygons drawn on the overlay, with their foreground fraction in
    the statistics.
``GET /api/config.toml``
    The current settings as a file ``bgmix run --config`` reads.

Nothing else is served: there is no file system behind the routes (the page
is package data), and any other path is a 404.

Costs and back-pressure
-----------------------
:meth:`LiveServer.publish` costs a few microseconds when nobody watches.
With viewers, it hands the newest frame to one encoder thread at most
``max_fps`` times a second; the encoder renders and JPEG-encodes each view
that has a viewer, once per handed frame, and every viewer of that view
gets the same bytes. Viewers always get the newest picture (frames a slow
viewer missed are skipped, never queued), so a browser that reads slowly or
not at all holds only its own connection's thread, which gives up after
``write_timeout`` seconds without progress. The background image costs a
model pass, so it is taken on the pipeline thread at most
``background_fps`` times a second, and only while someone watches it.

One module over 600 lines: the HTTP handler, the per-view encoders, the
stream threads and the queue of parameter changes share one lock-protected
state, which is the server's correctness (latest-frame semantics, a change
applied only between frames); splitting it would spread that lock's rules.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from typing import Any
from urllib.parse import parse_qs, urlsplit

import cv2
import numpy as np

from bgmix.model import BackgroundMixture
from bgmix.postprocess import Postprocess
from bgmix.serve.params import config_toml, settings_from, split_settings, validate_changes

__all__ = ["DEFAULT_HOST", "VIEWS", "LiveServer", "is_loopback", "non_loopback_warning",
           "parse_serve_address"]

DEFAULT_HOST = "127.0.0.1"
"""Where ``--serve PORT`` binds when no host is given."""

VIEWS = ("overlay", "mask", "background", "probability")
"""The pictures a viewer can stream (``?view=``)."""

BOUNDARY = "bgmixframe"
MAX_BODY = 64 * 1024
SEND_BUFFER = 256 * 1024
"""Kernel send buffer of a stream connection (bytes)."""
STALE_S = 2.0
"""A new viewer is not sent a picture older than this (seconds); it waits for the next."""
_LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}
ZONE_COLOUR = (0, 255, 255)  # BGR yellow


# --------------------------------------------------------------------------- addresses
def parse_serve_address(text: str | int) -> tuple[str, int]:
    """``(host, port)`` of ``--serve [HOST:]PORT``; the host defaults to 127.0.0.1.

    Port 0 asks for a free port. An IPv6 host goes in brackets.

    Examples
    --------
    >>> parse_serve_address("8080"), parse_serve_address("0.0.0.0:8080")
    (('127.0.0.1', 8080), ('0.0.0.0', 8080))
    >>> parse_serve_address("[::1]:8080")
    ('::1', 8080)
    >>> parse_serve_address("camera:80800")
    Traceback (most recent call last):
    ...
    ValueError: --serve camera:80800: the port must be an integer in [0, 65535]
    """
    text = str(text).strip()
    host, port_text = DEFAULT_HOST, text
    if text.startswith("["):
        end = text.find("]")
        if end < 0 or text[end + 1:end + 2] != ":":
            raise ValueError(f"--serve {text}: write an IPv6 host as [HOST]:PORT")
        host, port_text = text[1:end], text[end + 2:]
    elif ":" in text:
        host, port_text = text.rsplit(":", 1)
        if ":" in host:
            raise ValueError(f"--serve {text}: write an IPv6 host as [HOST]:PORT")
    if not host:
        raise ValueError(f"--serve {text}: the host is empty (give PORT, or HOST:PORT)")
    try:
        port = int(port_text)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        raise ValueError(f"--serve {text}: the port must be an integer in [0, 65535]")
    return host, port


def is_loopback(host: str) -> bool:
    """True for a host only this machine can reach (127.0.0.0/8, ::1, localhost).

    Examples
    --------
    >>> is_loopback("127.0.0.1"), is_loopback("::1"), is_loopback("0.0.0.0"), is_loopback("cam")
    (True, True, False, False)
    """
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def non_loopback_warning(host: str, port: int, token: str | None) -> str | None:
    """The warning to print when the server is reachable from other machines (None if not)."""
    if is_loopback(host):
        return None
    where = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    if token:
        return (f"--serve {where} is reachable from other machines; every request needs the "
                "--serve-token (traffic is not encrypted)")
    return (f"--serve {where} is reachable from other machines: anyone who can connect can "
            "watch the picture and change the model's parameters; add --serve-token TOKEN")


# --------------------------------------------------------------------------- state
@dataclass
class _View:
    """The newest JPEG of one view and who waits for it."""

    name: str
    cond: threading.Condition = field(default_factory=threading.Condition)
    seq: int = -1          # frame index of ``jpeg``
    jpeg: bytes = b""
    stamp: float = 0.0     # time.monotonic() when ``jpeg`` was made
    viewers: int = 0       # open streams
    rates: list[float] = field(default_factory=list)  # pictures/s each open stream asked for
    next_encode: float = 0.0  # time.monotonic() before which this view is not encoded again
    wanted_until: float = 0.0  # a snapshot asked for it recently
    encoded: int = 0       # JPEGs made
    sent: int = 0          # parts written to viewers


@dataclass
class _Handed:
    """What the pipeline thread hands the encoder: references to one frame's outputs."""

    seq: int
    frame: np.ndarray
    mask: np.ndarray
    blobs: Any
    probability: np.ndarray | None  # uint8 copy, or None when the run computes none
    background: np.ndarray | None   # a new one, or None (keep the last)
    views: frozenset[str]


def _page() -> bytes:
    return resources.files("bgmix.serve").joinpath("page.html").read_bytes()


# --------------------------------------------------------------------------- server
class LiveServer:
    """An HTTP live view of a running pipeline (see the module docstring).

    Parameters
    ----------
    host : str, default "127.0.0.1"
        Where to listen; anything but loopback is reachable from other
        machines (see :func:`non_loopback_warning`).
    port : int, default 0
        0 picks a free port (read it back from :attr:`address`).
    token : str, optional
        When set, every request must carry it (``?token=`` or the
        ``X-Bgmix-Token`` header, or ``Authorization: Bearer``).
    model : BackgroundMixture or mapping, optional
        The model (or its parameters) the run starts with, for the settings
        shown before the first frame; :meth:`attach` (or the first
        :meth:`publish`) takes them from the running model anyway.
    postprocess : Postprocess, optional
        The clean-up the run starts with.
    source_name : str, optional
        Shown on the page and written in the config file's header.
    max_fps : float, default 15
        Most pictures per second handed to the encoder (and so sent to viewers).
    background_fps : float, default 2
        Most background images per second (each is a model pass on the
        pipeline thread, taken only while someone watches it).
    jpeg_quality : int, default 80
    write_timeout : float, default 10
        Seconds a viewer's connection may block a write before it is dropped.
    max_streams : int, default 32
        Most streams open at once (each holds a thread); more get a 503.
    config_writer : callable, optional
        ``config_writer(settings, zones) -> str``, the body of
        ``/api/config.toml`` (default :func:`bgmix.serve.params.config_toml`).
    zones_in_config : bool, default False
        Whether ``bgmix run --config`` reads a ``zones`` key (otherwise zones
        are written as a comment in the config file).

    Examples
    --------
    >>> import json, urllib.request
    >>> with LiveServer(port=0) as server:
    ...     url = server.url
    ...     params = json.load(urllib.request.urlopen(url + "api/params"))
    >>> params["var_threshold"], params["shadows"]
    (12.0, 'keep')
    """

    def __init__(self, host: str = DEFAULT_HOST, port: int = 0, *, token: str | None = None,
                 model: BackgroundMixture | Mapping[str, Any] | None = None,
                 postprocess: Postprocess | None = None, source_name: str = "",
                 max_fps: float = 15.0, background_fps: float = 2.0, jpeg_quality: int = 80,
                 write_timeout: float = 10.0, max_streams: int = 32,
                 config_writer: Callable[[Mapping[str, Any], list[Any]], str] | None = None,
                 zones_in_config: bool = False) -> None:
        if token is not None and (not isinstance(token, str) or not token):
            raise ValueError("token must be a non-empty string or None")
        if not (isinstance(port, int) and 0 <= port <= 65535) or isinstance(port, bool):
            raise ValueError(f"port must be an integer in [0, 65535], got {port!r}")
        for name, value in (("max_fps", max_fps), ("background_fps", background_fps),
                            ("write_timeout", write_timeout)):
            if not (isinstance(value, (int, float)) and value > 0):
                raise ValueError(f"{name} must be a number > 0, got {value!r}")
        if not (isinstance(max_streams, int) and max_streams >= 1) or isinstance(max_streams, bool):
            raise ValueError(f"max_streams must be an integer >= 1, got {max_streams!r}")
        if not (isinstance(jpeg_quality, int) and 1 <= jpeg_quality <= 100):
            raise ValueError(f"jpeg_quality must be an integer in [1, 100], got {jpeg_quality!r}")
        self.host = host
        self.port = port
        self.token = token
        self.source_name = source_name
        self.max_fps = float(max_fps)
        self.background_fps = float(background_fps)
        self.jpeg_quality = jpeg_quality
        self.write_timeout = float(write_timeout)
        self.max_streams = max_streams
        self._streams = 0
        self._config_writer = config_writer
        self._zones_in_config = zones_in_config

        self._lock = threading.Lock()
        self._settings = settings_from(model, postprocess)  # accepted, as the next frame runs
        self._pending: dict[str, Any] = {}
        self._version = 0            # of the accepted settings
        self._applied_version = 0    # of those the model runs
        self._attached = False
        self._zones: list[Any] = []
        self._zone_set: Any = None   # ZoneSet for the frame size, built on a request thread
        self._zones_version = 0

        self._views = {name: _View(name) for name in VIEWS}
        self._handed_cond = threading.Condition()
        self._handed: _Handed | None = None
        self._next_hand = 0.0
        self._next_background = 0.0
        self._frame_size: tuple[int, int] | None = None
        self._probability_missing = False

        self._frames = 0
        self._times: deque[float] = deque(maxlen=128)
        self._next_stats = 0.0
        self._stats: dict[str, Any] = {"running": False, "frames_processed": 0}
        self._encode_times: deque[float] = deque(maxlen=64)
        self._encoder_cpu = 0.0   # CPU seconds of the encoder thread
        self._stream_cpu = 0.0    # CPU seconds of the stream threads that have ended
        self._placeholders: dict[str, bytes] = {}

        self._httpd: ThreadingHTTPServer | None = None
        self._threads: list[threading.Thread] = []
        self._connections: set[socket.socket] = set()
        self._closed = threading.Event()
        self.errors: deque[str] = deque(maxlen=20)  # encoder failures, for the stats

    # ----------------------------------------------------------------- lifetime
    def start(self) -> LiveServer:
        """Bind and start serving (idempotent); returns self."""
        if self._httpd is not None:
            return self
        if self._closed.is_set():
            raise RuntimeError("this LiveServer was closed; make a new one")
        handler = _make_handler(self)
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET

        class _Server(ThreadingHTTPServer):
            address_family = family
            daemon_threads = True
            block_on_close = False
            allow_reuse_address = True

        try:
            self._httpd = _Server((self.host, self.port), handler)
        except OSError as exc:
            raise OSError(exc.errno, f"cannot serve on {self.host}:{self.port}: "
                                     f"{exc.strerror or exc}") from None
        self.port = int(self._httpd.server_address[1])
        for target, name in ((self._httpd.serve_forever, "bgmix-serve-http"),
                             (self._encode_loop, "bgmix-serve-encoder")):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def close(self) -> None:
        """Stop serving: end every stream, close every connection (idempotent)."""
        if self._closed.is_set():
            return
        self._closed.set()
        for view in self._views.values():
            with view.cond:
                view.cond.notify_all()
        with self._handed_cond:
            self._handed_cond.notify_all()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        with self._lock:
            connections = list(self._connections)
        for conn in connections:  # unblock viewers stuck in a write
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        for thread in self._threads:
            thread.join(timeout=5)

    @property
    def closed(self) -> bool:
        return self._closed.is_set()

    def __enter__(self) -> LiveServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def address(self) -> tuple[str, int]:
        """``(host, port)`` it listens on (the real port once started)."""
        return self.host, self.port

    @property
    def url(self) -> str:
        """``http://host:port/`` (a wildcard host is shown as 127.0.0.1)."""
        host = self.host
        if host in ("0.0.0.0", ""):
            host = "127.0.0.1"
        elif host == "::":
            host = "::1"
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}/"

    # --------------------------------------------------------- pipeline thread
    def attach(self, processing: Any) -> None:
        """Take the running model's settings (a Processing, or a model).

        Called by :meth:`on_start`, or by the first :meth:`publish` or
        :meth:`apply_pending`. Changes accepted before are kept and applied
        at the next :meth:`apply_pending`.
        """
        model = getattr(processing, "model", processing)
        postprocess = _postprocess_of(processing)
        current = settings_from(model, postprocess)
        with self._lock:
            self._settings = {**current, **self._pending}
            self._attached = True
            source = getattr(processing, "source", None)
            if source is not None and not self.source_name:
                self.source_name = str(getattr(source, "name", "") or "")

    def on_start(self, processing: Any) -> None:
        """``on_start`` callback of :func:`bgmix.run.run_video`: :meth:`attach`."""
        self.attach(processing)

    def on_frame(self, result: Any, processing: Any) -> bool:
        """``on_frame`` callback of :func:`bgmix.run.run_video`.

        Publishes the frame, then applies the changes queued since the last
        frame (they take effect from the next frame). Returns False (never
        stops the run).
        """
        self.publish(result, processing)
        self.apply_pending(processing)
        return False

    def apply_pending(self, target: Any) -> dict[str, Any]:
        """Apply the changes accepted since the last call; call between frames.

        ``target`` is a :class:`bgmix.pipeline.Processing` (the model and its
        clean-up are changed) or a :class:`BackgroundMixture` (the model
        only). Returns the changes applied (empty when there were none).
        """
        if not self._attached:
            self.attach(target)
        with self._lock:
            if not self._pending:
                return {}
            changes, self._pending = self._pending, {}
            settings = dict(self._settings)
            version = self._version
        model = getattr(target, "model", target)
        model_params, postprocess = split_settings(settings)
        changed_model = {k: v for k, v in changes.items() if k in model_params}
        if changed_model:
            model.set_params(**changed_model)
        if model is not target:
            _set_postprocess(target, postprocess)
        with self._lock:
            self._applied_version = version
        return changes

    def publish(self, result: Any, processing: Any = None, *, stats: Any = None,
                model: BackgroundMixture | None = None) -> None:
        """Hand one frame's result to the viewers; call on the pipeline thread.

        Parameters
        ----------
        result : FrameResult
            Its frame, mask, blobs and probability are kept by reference
            (the probability buffer, reused by the pipeline, is copied).
        processing : Processing, optional
            Gives ``stats`` and ``model`` when they are not given.
        stats : ProcessStats, optional
        model : BackgroundMixture, optional
            For the background view.
        """
        if self._closed.is_set():
            return
        now = time.monotonic()
        if processing is not None:
            if not self._attached:
                self.attach(processing)
            model = model if model is not None else getattr(processing, "model", None)
        self._frames += 1
        self._times.append(now)
        mask = result.mask
        if self._frame_size is None:
            self._frame_size = (int(mask.shape[1]), int(mask.shape[0]))
        if now >= self._next_stats:
            self._next_stats = now + 0.25
            if stats is None and processing is not None:
                stats = processing.stats
            self._update_stats(result, stats, now)
        if now < self._next_hand:
            return
        views = self._wanted(now)
        if not views:
            return
        self._next_hand = now + 1.0 / self.max_fps
        probability = None
        if "probability" in views:
            if result.probability is not None:
                probability = cv2.convertScaleAbs(result.probability, alpha=255.0)
                self._probability_missing = False
            else:
                self._probability_missing = True
        background = None
        if "background" in views and model is not None and now >= self._next_background:
            self._next_background = now + 1.0 / self.background_fps
            try:
                background = model.background_image()
            except (RuntimeError, ValueError):
                background = None
        handed = _Handed(seq=int(getattr(result, "index", self._frames - 1)), frame=result.frame,
                         mask=mask, blobs=getattr(result, "blobs", None), probability=probability,
                         background=background, views=frozenset(views))
        with self._handed_cond:
            self._handed = handed
            self._handed_cond.notify()

    def _wanted(self, now: float) -> list[str]:
        return [v.name for v in self._views.values() if v.viewers > 0 or v.wanted_until > now]

    def _update_stats(self, result: Any, stats: Any, now: float) -> None:
        mask = result.mask
        foreground = mask == 255
        fraction = float(np.count_nonzero(foreground)) / mask.size if mask.size else 0.0
        zones: dict[str, float] = {}
        zone_set = self._zone_set
        if zone_set is not None and zone_set.frame_size == self._frame_size:
            counts = zone_set.pixel_counts(foreground)
            for name, count in counts.items():
                area = int(zone_set.masks[name].sum())
                zones[name] = count / area if area else 0.0
        times = list(self._times)
        recent = [t for t in times if t >= now - 2.0]
        if len(recent) >= 2 and recent[-1] > recent[0]:
            fps = (len(recent) - 1) / (recent[-1] - recent[0])
        else:
            fps = 0.0
        snapshot: dict[str, Any] = {
            "running": True,
            "source": self.source_name,
            "frame_index": int(getattr(result, "index", self._frames - 1)),
            "frames_published": self._frames,
            "frame_size": list(self._frame_size) if self._frame_size else None,
            "fps": fps,
            "foreground_fraction": fraction,
            "zones": zones,
            "latency_ms": float(getattr(result, "latency_s", 0.0)) * 1000.0,
        }
        if stats is not None:
            snapshot.update({
                "frames_read": int(stats.frames_read),
                "frames_processed": int(stats.frames_processed),
                "frames_dropped": int(stats.frames_dropped),
                "reconnects": int(getattr(stats, "reconnects", 0)),
                "fps_mean": float(stats.fps),
                "elapsed_s": float(stats.elapsed_s),
                "latency_median_ms": float(getattr(stats, "median_latency_s", 0.0)) * 1000.0,
                "latency_p95_ms": float(getattr(stats, "p95_latency_s", 0.0)) * 1000.0,
                "latency_mean_ms": float(stats.mean_latency_s) * 1000.0,
                "latency_max_ms": float(stats.max_latency_s) * 1000.0,
            })
        else:
            snapshot["frames_processed"] = self._frames
        self._stats = snapshot  # one reference swap: readers see a whole snapshot

    # ------------------------------------------------------------ encoder thread
    def _encode_loop(self) -> None:
        done = -1
        background_jpeg_seq = -1
        while not self._closed.is_set():
            with self._handed_cond:
                while not self._closed.is_set() and (self._handed is None
                                                     or self._handed.seq == done):
                    self._handed_cond.wait(0.5)
                if self._closed.is_set():
                    return
                handed = self._handed
            assert handed is not None
            done = handed.seq
            started = time.monotonic()
            cpu = time.thread_time()
            for name in handed.views:
                view = self._views[name]
                if started < view.next_encode:
                    continue  # every viewer of this view asked for fewer pictures a second
                rate = max(view.rates, default=self.max_fps)
                if view.wanted_until > started:  # a snapshot: as fast as allowed
                    rate = self.max_fps
                try:
                    jpeg = self._encode(name, handed)
                except Exception as exc:  # a bad frame must not end the live view
                    self.errors.append(f"{name}: {type(exc).__name__}: {exc}")
                    continue
                if jpeg is None:
                    continue
                # half a hand-over of slack, so that jitter does not halve the rate
                view.next_encode = started + 1.0 / rate - 0.5 / self.max_fps
                if name == "background":
                    background_jpeg_seq = handed.seq
                with view.cond:
                    view.seq = handed.seq if name != "background" else background_jpeg_seq
                    view.jpeg = jpeg
                    view.stamp = time.monotonic()
                    view.encoded += 1
                    view.cond.notify_all()
            self._encode_times.append(time.monotonic() - started)
            self._encoder_cpu += time.thread_time() - cpu

    def _encode(self, name: str, handed: _Handed) -> bytes | None:
        if name == "overlay":
            from bgmix.outputs.videos import render_overlay

            picture = render_overlay(handed.frame, handed.mask, handed.blobs)
            self._draw_zones(picture)
        elif name == "mask":
            picture = handed.mask
        elif name == "background":
            if handed.background is None:
                return None
            from bgmix.outputs.videos import to_display

            picture = to_display(handed.background)
        else:  # probability
            if handed.probability is None:
                return self._placeholder("probability", "no probability in this run",
                                         "(it comes with --jsonl, --mot, --csv or --probability)")
            picture = handed.probability
        ok, buffer = cv2.imencode(".jpg", picture, [cv2.IMWRITE_JPEG_QUALITY, self.jpeg_quality])
        if not ok:  # pragma: no cover - imencode fails only on bad input
            raise RuntimeError("JPEG encoding failed")
        return buffer.tobytes()

    def _draw_zones(self, picture: np.ndarray) -> None:
        zone_set = self._zone_set
        if zone_set is None or zone_set.frame_size != (picture.shape[1], picture.shape[0]):
            return
        for zone in zone_set.zones:
            points = np.array(zone.points, np.int32).reshape(-1, 1, 2)
            cv2.polylines(picture, [points], True, ZONE_COLOUR, 1)
            x, y = zone.points[0]
            cv2.putText(picture, zone.name, (x + 2, max(y - 3, 8)), cv2.FONT_HERSHEY_SIMPLEX,
                        0.35, ZONE_COLOUR, 1, cv2.LINE_AA)

    def _placeholder(self, name: str, *lines: str) -> bytes:
        if name not in self._placeholders:
            width, height = self._frame_size or (320, 240)
            picture = np.full((height, width, 3), 40, np.uint8)
            scale = max(0.3, min(1.0, width / 640))
            for i, line in enumerate(lines):
                cv2.putText(picture, line, (8, 20 + int(i * 40 * scale)),
                            cv2.FONT_HERSHEY_SIMPLEX, scale, (220, 220, 220), 1, cv2.LINE_AA)
            ok, buffer = cv2.imencode(".jpg", picture)
            self._placeholders[name] = buffer.tobytes()
        return self._placeholders[name]

    # --------------------------------------------------------- request threads
    def _want_view(self, name: str, seconds: float = 3.0) -> None:
        view = self._views[name]
        view.wanted_until = max(view.wanted_until, time.monotonic() + seconds)

    def params(self) -> dict[str, Any]:
        """The settings the next frame runs with (accepted changes included)."""
        with self._lock:
            return dict(self._settings)

    def change_params(self, changes: Any) -> dict[str, Any]:
        """Check ``changes`` and queue them for :meth:`apply_pending`.

        Returns the new settings; raises the model's ValueError (nothing
        queued) for an unknown key or a bad value.
        """
        with self._lock:
            updated = validate_changes(self._settings, changes)
            self._settings = updated
            self._pending.update(changes)
            self._version += 1
            return dict(updated)

    def set_zones(self, value: Any) -> list[Any]:
        """Replace the zones (``["name=x1,y1,..."]`` or ``{name: [[x, y], ...]}``)."""
        from bgmix.zones import ZoneSet, zones_from_config

        zones = zones_from_config(value, where="zones") if value else []
        zone_set = None
        if zones and self._frame_size is not None:
            zone_set = ZoneSet(zones, self._frame_size)  # checks every vertex is inside
        with self._lock:
            self._zones = zones
            self._zone_set = zone_set
            self._zones_version += 1
        return zones

    def zones(self) -> list[dict[str, Any]]:
        with self._lock:
            zones = list(self._zones)
        if zones and self._zone_set is None and self._frame_size is not None:
            self.set_zones([z.to_text() for z in zones])  # the frame size is known now
        return [{"name": z.name, "points": [list(p) for p in z.points]} for z in zones]

    def stats(self) -> dict[str, Any]:
        """The newest statistics snapshot (JSON-ready)."""
        snapshot = dict(self._stats)
        with self._lock:
            snapshot["params_version"] = self._version
            snapshot["params_applied_version"] = self._applied_version
        snapshot["viewers"] = {name: view.viewers for name, view in self._views.items()}
        snapshot["encoded"] = {name: view.encoded for name, view in self._views.items()}
        times = list(self._encode_times)
        snapshot["encode_ms"] = float(np.median(times)) * 1000.0 if times else 0.0
        snapshot["max_fps"] = self.max_fps
        snapshot["encoder_cpu_s"] = self._encoder_cpu
        snapshot["stream_cpu_s"] = self._stream_cpu
        snapshot["probability_available"] = not self._probability_missing
        snapshot["errors"] = list(self.errors)
        return snapshot

    def config_text(self) -> str:
        with self._lock:
            settings = dict(self._settings)
            zones = list(self._zones)
        if self._config_writer is not None:
            return self._config_writer(settings, zones)
        header = ("bgmix settings from the live view"
                  + (f" of {self.source_name}" if self.source_name else "")
                  + f", {time.strftime('%Y-%m-%d %H:%M:%S')}\n"
                  "use: bgmix run SOURCE --config this.toml (command-line flags win)")
        return config_toml(settings, zones=zones, zones_key=self._zones_in_config, header=header)

    def _track(self, conn: socket.socket, add: bool) -> None:
        with self._lock:
            if add:
                self._connections.add(conn)
            else:
                self._connections.discard(conn)

    def _check_token(self, given: str | None) -> bool:
        if self.token is None:
            return True
        return given is not None and hmac.compare_digest(given.encode(), self.token.encode())


def _postprocess_of(processing: Any) -> Postprocess | None:
    return getattr(processing, "postprocess", None)


def _set_postprocess(processing: Any, postprocess: Postprocess | None) -> None:
    """Give a Processing a new clean-up for its next frame (its ``postprocess`` setter)."""
    if not isinstance(getattr(type(processing), "postprocess", None), property):
        raise TypeError(f"cannot change the clean-up of a {type(processing).__name__}")
    processing.postprocess = postprocess


# --------------------------------------------------------------------------- HTTP
def _make_handler(server: LiveServer) -> type[BaseHTTPRequestHandler]:
    class Handler(_Handler):
        live = server
        timeout = server.write_timeout

    return Handler


class _Handler(BaseHTTPRequestHandler):
    live: LiveServer
    server_version = "bgmix-serve"
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet: no access log on stderr
        pass

    def setup(self) -> None:
        super().setup()
        self.live._track(self.connection, True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.live._track(self.connection, False)

    # --------------------------------------------------------------- replies
    def _send(self, status: int, body: bytes, content_type: str, *,
              headers: Mapping[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, status: int, value: Any) -> None:
        self._send(status, json.dumps(value).encode(), "application/json")

    def _error(self, status: int, message: str) -> None:
        self._json(status, {"error": message})

    # --------------------------------------------------------------- checks
    def _query(self) -> dict[str, str]:
        return {k: v[-1] for k, v in parse_qs(urlsplit(self.path).query).items()}

    def _allowed(self) -> bool:
        live = self.live
        # DNS rebinding: a page of another site that resolves its name to
        # 127.0.0.1 sends its own Host; a loopback server answers only its own names.
        if is_loopback(live.host):
            host = (self.headers.get("Host") or "").strip().lower()
            name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
            name = name.strip("[]")
            if host and not is_loopback(name):
                self._error(HTTPStatus.FORBIDDEN, f"Host {host!r} is not this loopback server")
                return False
        if live.token is not None:
            given = self.headers.get("X-Bgmix-Token")
            auth = self.headers.get("Authorization") or ""
            if given is None and auth.lower().startswith("bearer "):
                given = auth[7:].strip()
            if given is None:
                given = self._query().get("token")
            if not live._check_token(given):
                self._error(HTTPStatus.UNAUTHORIZED,
                            "this server needs its token: add ?token=TOKEN to the address, or "
                            "send the X-Bgmix-Token header")
                return False
        return True

    def _view_name(self) -> str | None:
        name = self._query().get("view", "overlay")
        if name not in VIEWS:
            self._error(HTTPStatus.BAD_REQUEST,
                        f"view must be one of {', '.join(VIEWS)}, got {name!r}")
            return None
        return name

    # --------------------------------------------------------------- routes
    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        if not self._allowed():
            return
        path = urlsplit(self.path).path
        live = self.live
        if path in ("/", "/index.html"):
            self._send(HTTPStatus.OK, _page(), "text/html; charset=utf-8",
                       headers={"Content-Security-Policy":
                                "default-src 'self'; img-src 'self' data:; "
                                "style-src 'self' 'unsafe-inline'; "
                                "script-src 'self' 'unsafe-inline'; frame-ancestors 'none'",
                                "X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer"})
        elif path == "/stream.mjpg":
            name = self._view_name()
            if name is not None:
                self._stream(name)
        elif path == "/snapshot.jpg":
            name = self._view_name()
            if name is not None:
                self._snapshot(name)
        elif path == "/api/stats":
            self._json(HTTPStatus.OK, live.stats())
        elif path == "/api/params":
            self._json(HTTPStatus.OK, live.params())
        elif path == "/api/zones":
            self._json(HTTPStatus.OK, {"zones": live.zones()})
        elif path == "/api/config.toml":
            self._send(HTTPStatus.OK, live.config_text().encode(), "application/toml; charset=utf-8",
                       headers={"Content-Disposition": 'attachment; filename="bgmix.toml"'})
        else:
            self._error(HTTPStatus.NOT_FOUND, f"no such page: {path}")

    def do_POST(self) -> None:  # noqa: N802
        if not self._allowed():
            return
        path = urlsplit(self.path).path
        if path not in ("/api/params", "/api/zones"):
            self._error(HTTPStatus.NOT_FOUND, f"no such endpoint: POST {path}")
            return
        # Cross-site requests: a form or a no-cors fetch cannot send JSON, and a
        # browser sends Origin with a cross-origin fetch.
        content_type = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if content_type != "application/json":
            self._error(HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
                        "send the parameters as JSON (Content-Type: application/json)")
            return
        origin = self.headers.get("Origin")
        host = self.headers.get("Host")
        if origin is not None and host is not None and origin.lower() not in (
                f"http://{host}".lower(), f"https://{host}".lower()):
            self._error(HTTPStatus.FORBIDDEN, f"cross-origin request from {origin} refused")
            return
        try:
            length = int(self.headers.get("Content-Length") or "")
        except ValueError:
            self._error(HTTPStatus.LENGTH_REQUIRED, "a Content-Length is needed")
            return
        if not 0 <= length <= MAX_BODY:
            self._error(HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                        f"the body must be at most {MAX_BODY} bytes")
            self.close_connection = True
            return
        raw = self.rfile.read(length)
        try:
            body = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            self._error(HTTPStatus.BAD_REQUEST, f"the body is not valid JSON: {exc}")
            return
        live = self.live
        try:
            if path == "/api/params":
                settings = live.change_params(body)
                self._json(HTTPStatus.OK, settings)
            else:
                if not isinstance(body, dict) or "zones" not in body:
                    raise ValueError('send {"zones": ["name=x1,y1,x2,y2,x3,y3", ...]} or '
                                     '{"zones": {"name": [[x, y], ...]}}')
                live.set_zones(body["zones"])
                self._json(HTTPStatus.OK, {"zones": live.zones()})
        except ValueError as exc:
            self._error(HTTPStatus.BAD_REQUEST, str(exc))

    def _snapshot(self, name: str) -> None:
        live = self.live
        view = live._views[name]
        live._want_view(name)
        deadline = time.monotonic() + 3.0
        with view.cond:
            while not view.jpeg and not live.closed and time.monotonic() < deadline:
                view.cond.wait(0.1)
            jpeg = view.jpeg
        if not jpeg:
            self._error(HTTPStatus.SERVICE_UNAVAILABLE, "no picture yet: is the run going?")
            return
        self._send(HTTPStatus.OK, jpeg, "image/jpeg")

    def _stream(self, name: str) -> None:
        live = self.live
        view = live._views[name]
        text = self._query().get("fps")
        try:
            rate = live.max_fps if text is None else float(text)
        except ValueError:
            rate = -1.0
        if not 0 < rate <= 1000:
            self._error(HTTPStatus.BAD_REQUEST, f"fps must be a number in (0, 1000], got {text!r}")
            return
        rate = min(rate, live.max_fps)
        with live._lock:
            full = live._streams >= live.max_streams
            if not full:
                live._streams += 1
        if full:
            self._error(HTTPStatus.SERVICE_UNAVAILABLE,
                        f"{live.max_streams} streams are open already; close one")
            return
        try:
            self._serve_stream(view, rate)
        finally:
            with live._lock:
                live._streams -= 1

    def _serve_stream(self, view: _View, rate: float) -> None:
        live = self.live
        self.close_connection = True
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", f"multipart/x-mixed-replace; boundary={BOUNDARY}")
        self.send_header("Cache-Control", "no-store")
        self.send_header("Connection", "close")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.end_headers()
        try:  # bounded: a viewer that stops reading holds at most this much in the kernel
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SEND_BUFFER)
        except OSError:  # pragma: no cover - some systems refuse
            pass
        with view.cond:
            view.viewers += 1
            view.rates.append(rate)
            # a picture left from an earlier viewer is stale: wait for a new one
            last = view.seq if time.monotonic() - view.stamp > STALE_S else -2
        next_send = 0.0
        cpu = time.thread_time()
        try:
            while not live.closed:
                with view.cond:
                    if view.seq == last or not view.jpeg:
                        view.cond.wait(1.0)
                    if live.closed:
                        break
                    if view.seq == last or not view.jpeg:
                        continue
                    jpeg, last = view.jpeg, view.seq
                now = time.monotonic()
                if now < next_send:  # this viewer asked for fewer pictures than others
                    continue
                next_send = now + 1.0 / rate - 0.5 / live.max_fps
                self.wfile.write(f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\n"
                                 f"Content-Length: {len(jpeg)}\r\n\r\n".encode() + jpeg + b"\r\n")
                self.wfile.flush()
                view.sent += 1
        except (OSError, ValueError):  # the viewer went away, or stalled past write_timeout
            pass
        finally:
            with view.cond:
                view.viewers -= 1
                view.rates.remove(rate)
            with live._lock:
                live._stream_cpu += time.thread_time() - cpu
