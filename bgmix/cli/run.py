"""``bgmix run``: one video, stream, folder or glob into its outputs."""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from pathlib import Path
from typing import Any

import bgmix
from bgmix.cli.options import add_common_options, add_event_options, add_output_options, count, \
    positive_float, positive_int
from bgmix.cli.settings import check_not_source, event_settings, live_options, output_paths, \
    run_options


_RUN_EXAMPLES = """\
Examples:
  bgmix run                                   # bundled sample clip -> bgmix-out/sample/masks.mkv
  bgmix run traffic.mp4 -o out/               # out/masks.mkv (FFV1, lossless)
  bgmix run traffic.mp4 -o out/ --mot --jsonl --csv --overlay --background
                      # out/det.txt blobs.jsonl blobs.csv overlay.mkv background.mkv (no masks)
  bgmix run traffic.mp4 --masks masks/ --overlay view.avi   # PNG masks bin000001.png ...
  bgmix run traffic.mp4 --preset mog2 --median 5 --open 3 --min-area 40 --shadows fold --mot
  bgmix run traffic.mp4 --config settings.toml --var-threshold 30
  bgmix run rtsp://10.0.0.5/stream --jsonl live.jsonl --preview   # live stats, a window
  bgmix run 0 --overlay --reconnect-attempts 100                 # the first camera
  bgmix run traffic.mp4 --bootstrap 60 --bootstrap-components bic --covariance-type full
                      # fit by EM on the first 60 frames, then learn online

Put SOURCE before output flags: an output flag without a value takes the default name in
OUTDIR, and a value right after it is taken as its path.

settings.toml (keys: model parameter names and the long options, with _ for -):
  history = 300
  var_threshold = 25.0
  detect_shadows = false
  median = 5
  mot = "out/det.txt"      # or true for OUTDIR/det.txt
Flags given on the command line override the file; the file overrides --preset.

Exit status: 0 done; 1 an output cannot be written (disk full, permission) or a stream
was lost for good; 2 bad arguments or input; 130 Ctrl-C (SIGINT), 143 SIGTERM, with every
output closed and keeping the frames written so far.
"""


def default_source() -> Path:
    """The bundled sample clip, ``videos/sample.mkv`` at the repository root.

    Raises
    ------
    FileNotFoundError
        If the clip has not been generated.

    Examples
    --------
    >>> default_source().name  # doctest: +SKIP
    'sample.mkv'
    """
    path = Path(bgmix.__file__).resolve().parents[1] / "videos" / "sample.mkv"
    if not path.is_file():
        raise FileNotFoundError(
            f"no SOURCE given and the sample clip {path} is missing; create it with "
            "`python scripts/make_videos.py` or pass a video, folder or glob pattern")
    return path


def _safe_name(name: str) -> str:
    return re.sub(r"[^\w.-]+", "_", name).strip("._") or "source"


def display_available() -> tuple[bool, str]:
    """Whether ``cv2.imshow`` can open a window here, and why not.

    Linux without ``$DISPLAY`` or ``$WAYLAND_DISPLAY`` has no display; an
    OpenCV built without a GUI (``opencv-python-headless``) cannot show one
    either (its ``namedWindow`` raises ``cv2.error``).

    Examples
    --------
    >>> ok, reason = display_available()
    >>> isinstance(ok, bool) and isinstance(reason, str)
    True
    """
    import cv2

    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY")
                                                 or os.environ.get("WAYLAND_DISPLAY")):
        return False, "no display ($DISPLAY and $WAYLAND_DISPLAY are unset)"
    try:
        cv2.namedWindow("bgmix", cv2.WINDOW_NORMAL)
    except cv2.error as exc:
        first = str(exc).strip().splitlines()[-1] if str(exc).strip() else "cv2.error"
        return False, f"this OpenCV cannot open a window ({first})"
    return True, ""


class _Progress:
    """tqdm on stderr (a TTY only): rate and ETA when the frame count is
    known, live statistics (fps, dropped frames, latency) for streams."""

    def __init__(self, enabled: bool, max_frames: int | None, notices: bool = False) -> None:
        self.enabled = enabled
        self.max_frames = max_frames
        self.notices = notices  # one-line notices on stderr when there is no bar
        self.bar: Any = None
        self.name = ""
        self.compile_shown = False
        self.last_stats = 0.0

    def start(self, processing: Any) -> None:
        if not self.enabled:
            return
        from tqdm import tqdm

        source = processing.source
        total = source.n_frames
        if self.max_frames is not None:
            total = self.max_frames if total is None else min(total, self.max_frames)
        self.live = total is None
        self.name = str(source.name)[:40]
        self.bar = tqdm(total=total, unit="frame", desc=self.name,
                        dynamic_ncols=True, leave=False)

    def compiling(self) -> None:
        """The first frame waits for Numba: say so instead of a bar frozen at 0."""
        from bgmix._compile_notice import COMPILING_MESSAGE

        if self.bar is not None:
            self.bar.set_description(COMPILING_MESSAGE, refresh=True)
            self.compile_shown = True
        elif self.notices:
            print(f"bgmix: {COMPILING_MESSAGE}...", file=sys.stderr, flush=True)

    def frame(self, result: Any, processing: Any) -> None:
        if self.bar is None:
            return
        if self.compile_shown:
            self.compile_shown = False
            self.bar.set_description(self.name, refresh=False)
        self.bar.update()
        now = time.monotonic()
        if self.live and now - self.last_stats >= 0.5:
            self.last_stats = now
            stats = processing.stats
            latency = getattr(stats, "mean_latency_s", 0.0) * 1000
            self.bar.set_postfix_str(
                f"{getattr(stats, 'fps', 0.0):.1f} fps, dropped "
                f"{getattr(stats, 'frames_dropped', 0)}, latency {latency:.0f} ms", refresh=False)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


class _Preview:
    """The overlay in a window; q or Esc stops the run (as the end of the source would)."""

    def __init__(self) -> None:
        import cv2

        self.cv2 = cv2

    def frame(self, result: Any, processing: Any) -> bool:
        from bgmix.outputs.videos import render_overlay

        self.cv2.imshow("bgmix", render_overlay(result.frame, result.mask, result.blobs))
        key = self.cv2.waitKey(1) & 0xFF
        return key in (ord("q"), 27)

    def close(self) -> None:
        try:
            self.cv2.destroyWindow("bgmix")
            self.cv2.waitKey(1)
        except self.cv2.error:
            pass


def _cmd_run(args: argparse.Namespace) -> int:
    from bgmix._compile_notice import notify_first_compile
    from bgmix.run import run_video
    from bgmix.sources import open_source

    quiet = bool(args.quiet)
    source_arg: Any = args.source if args.source is not None else default_source()
    if args.output is not None:
        outputs = output_paths(args, args.output, batch=False)
        events = event_settings(args, args.output, batch=False)
    else:
        outputs = None  # the default folder is named after the source: known once it is open
        output_paths(args, Path("."), batch=False)  # check the flags before opening anything
        event_settings(args, Path("."), batch=False)
    options = run_options(args, {})
    preview = None
    if args.preview:
        available, reason = display_available()
        if available:
            preview = _Preview()
        else:
            print(f"bgmix: {reason}: --preview ignored", file=sys.stderr)

    server = None
    if args.serve_token is not None and args.serve is None:
        raise ValueError("--serve-token needs --serve [HOST:]PORT")
    if args.serve is not None:
        from bgmix.serve.server import LiveServer, non_loopback_warning, parse_serve_address

        host, port = parse_serve_address(args.serve)
        warning = non_loopback_warning(host, port, args.serve_token)
        if warning:
            print(f"bgmix: warning: {warning}", file=sys.stderr)
        server = LiveServer(host, port, token=args.serve_token, model=options.model_params,
                            postprocess=options.postprocess).start()
        print(f"bgmix: live view at {server.url}", file=sys.stderr, flush=True)

    try:
        source = open_source(source_arg, **live_options(args))
    except BaseException:
        if server is not None:
            server.close()
        raise
    if outputs is None:
        folder = Path("bgmix-out") / _safe_name(source.name)
        outputs = output_paths(args, folder, batch=False)
        events = event_settings(args, folder, batch=False)
    check_not_source(outputs, source_arg)
    check_not_source({k: v for k, v in events.items() if k in ("events", "report")}, source_arg)
    options = options.replace(**outputs, **events)
    progress = _Progress(not quiet and sys.stderr.isatty(), args.max_frames, notices=not quiet)

    def on_start(processing: Any) -> None:
        progress.start(processing)
        if server is not None:
            server.on_start(processing)

    def on_frame(result: Any, processing: Any) -> bool:
        progress.frame(result, processing)
        if server is not None:
            # After this frame's outputs: a change from the browser takes effect on the next.
            server.on_frame(result, processing)
        return preview.frame(result, processing) if preview is not None else False

    try:
        with notify_first_compile(progress.compiling):
            report = run_video(source, options, on_frame=on_frame, on_start=on_start)
    finally:
        progress.close()
        if server is not None:
            server.close()
        if preview is not None:
            preview.close()
        source.close()

    for warning in report.warnings:
        print(f"bgmix: warning: {warning}", file=sys.stderr)
    if report.status == "failed":
        print(f"bgmix: error: {report.error}", file=sys.stderr)
        return report.exit_code
    if report.status == "interrupted":
        name = "SIGINT" if report.exit_code == 130 else (
            "SIGTERM" if report.exit_code == 143 else f"signal {report.exit_code - 128}")
        kept = (f"outputs closed, keeping the first {report.frames} frames" if report.frames
                else "no frame was written")
        print(f"bgmix: interrupted by {name}; {kept}", file=sys.stderr)
    if not quiet and report.frames:
        print(f"frames      {report.frames}")
        line = f"fps         {report.fps:.1f} (whole loop: decode, model, outputs)"
        if report.frames > 1 and report.elapsed_s > report.first_frame_s:
            steady = (report.frames - 1) / (report.elapsed_s - report.first_frame_s)
            line += (f"; {steady:.1f} after the first frame, which took "
                     f"{report.first_frame_s:.2f} s (loading the compiled kernel)")
        print(line)
        dropped = report.stats.get("frames_dropped", 0)
        if dropped:
            print(f"dropped     {dropped} (the model was slower than the stream)")
        print(f"foreground  {report.foreground:.4f} (mean fraction of pixels = 255)")
        if report.events is not None:
            print(f"events      {report.events}")
        for name, path in report.outputs.items():
            print(f"{'output' if name == 'masks' else name:<11} {path}")
    return report.exit_code


def add_parser(commands: Any, formatter: type[argparse.HelpFormatter]) -> argparse.ArgumentParser:
    """Add the ``bgmix run`` command to the subparsers ``commands``."""
    run = commands.add_parser(
        "run", formatter_class=formatter, epilog=_RUN_EXAMPLES,
        help="masks, overlay, background and detections of a video, stream, folder or glob",
        description=(
            "Run the background model over SOURCE and write what is asked for: masks (0 "
            "background, 127 shadow,\n255 foreground) as a lossless FFV1 video or CDnet-named "
            "PNGs, an overlay video, a background\nvideo, MOT det.txt, JSON lines, CSV. With no "
            "output option: OUTDIR/masks.mkv.\nEvery output is written under a temporary name "
            "and renamed when complete; Ctrl-C or SIGTERM stops\nearly and keeps every frame "
            "written so far."))
    run.add_argument("source", nargs="?", metavar="SOURCE",
                     help="video file, stream URL (rtsp://, http://), image folder (e.g. a CDnet "
                          "input/ folder) or quoted glob pattern; default: the bundled sample "
                          "clip videos/sample.mkv")
    run.add_argument("-o", "--output", metavar="OUTDIR", type=Path,
                     help="folder for outputs given without a path (default: "
                          "./bgmix-out/<source name>/)")
    run.add_argument("--format", choices=("mkv", "png"),
                     help="the default masks: OUTDIR/masks.mkv (FFV1, lossless) or "
                          "OUTDIR/masks/bin%%06d.png (default: mkv)")
    add_output_options(run, batch=False)
    add_event_options(run, batch=False)
    run.add_argument("--max-frames", type=positive_int, metavar="N",
                     help="stop after N frames")
    run.add_argument("--preview", action="store_true", default=None,
                     help="show the overlay in a window (q or Esc stops); without a display it "
                          "says so once and goes on")
    run.add_argument("-q", "--quiet", action="store_true", default=None,
                     help="no progress bar and no summary")
    live = run.add_argument_group(
        "live sources", "a camera index or a stream URL (rtsp://, http://): newest frame first, "
        "stale frames dropped, a lost stream reconnected with doubling delays")
    live.add_argument("--reconnect-attempts", type=count, metavar="N",
                      help="give up after N failed reconnections in a row (default: 10)")
    live.add_argument("--reconnect-delay", type=positive_float, metavar="S",
                      help="first wait before reconnecting, doubled up to 8 s (default: 0.5)")
    live.add_argument("--read-timeout", type=positive_float, metavar="S",
                      help="a stream silent this long is lost (default: 5)")
    live.add_argument("--no-live", action="store_true", default=None,
                      help="read a URL as a file: every frame in order, no dropping")
    serve = run.add_argument_group(
        "live view", "watch and tune the run in a browser (bgmix.serve): the overlay, mask, "
        "background and probability, the numbers, and sliders that change the model")
    serve.add_argument("--serve", metavar="[HOST:]PORT",
                       help="serve the live view on PORT (host 127.0.0.1 unless given; another "
                            "host is reachable from other machines and prints a warning)")
    serve.add_argument("--serve-token", metavar="TOKEN",
                       help="require ?token=TOKEN (or an X-Bgmix-Token header) for every request")
    add_common_options(run)
    run.set_defaults(func=_cmd_run)
    return run
