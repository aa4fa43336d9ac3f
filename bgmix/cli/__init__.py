"""The ``bgmix`` command: one module per command.

``bgmix run`` (:mod:`.run`) writes foreground masks and detections,
``bgmix batch`` (:mod:`.batch`) many videos in parallel, ``bgmix eval``
(:mod:`.eval`) scores masks on CDnet-layout sequences (against OpenCV's
subtractors with ``--compare``), ``bgmix info`` (:mod:`.info`) describes the
installation. The options they share are in :mod:`.options` (the model
options are generated from the constructor), ``--config`` files in
:mod:`.config`, and the translation of parsed options into library settings
in :mod:`.settings`.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
from collections.abc import Sequence

import bgmix
from bgmix.cli import batch as batch_command
from bgmix.cli import eval as eval_command
from bgmix.cli import info as info_command
from bgmix.cli import run as run_command
from bgmix.cli.config import apply_config, read_config, subparser
from bgmix.cli.options import DEFAULT_OUTPUT_NAMES, model_options  # noqa: F401 (as in cli.py)
from bgmix.cli.run import default_source, display_available
from bgmix.errors import (  # noqa: F401 (EXIT_OK: as in cli.py)
    EXIT_FAILURE,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    StopRequested,
    exit_code_for,
    one_line,
)
from bgmix.signals import handle_signals

__all__ = ["main", "build_parser", "default_source", "display_available", "model_options",
           "read_config"]


_EXAMPLES = """\
Examples:
  bgmix run                                   # bundled sample clip -> bgmix-out/sample/masks.mkv
  bgmix run traffic.mp4 -o out/ --history 200 --var-threshold 25
  bgmix run traffic.mp4 --mot --jsonl --overlay        # out: det.txt, blobs.jsonl, overlay.mkv
  bgmix run traffic.mp4 --masks m.mkv --overlay view.mp4 --median 5 --min-area 30
  bgmix run cdnet/baseline/highway/input --format png   # -> bgmix-out/highway/masks/bin000001.png ...
  bgmix run "frames/*.jpg" --max-frames 100 --no-detect-shadows
  bgmix run http://camera.local/stream.mjpg --jsonl live.jsonl --preview
  bgmix run clip.mp4 --config settings.toml --history 300   # flags override the file
  bgmix batch "videos/*.mp4" --out results/ --jobs 2 --mot  # one folder per video
  bgmix eval cdnet/baseline/highway --compare mog2,knn+median   # CDnet F-measure, side by side
  bgmix info                                  # versions, threading layer, Numba cache

Exit status: 0 done; 1 a runtime failure (an output cannot be written: disk full, no
permission; a batch video failed); 2 bad arguments or input (missing file, not a video,
parameter out of range); 130 stopped by Ctrl-C (SIGINT), 143 by SIGTERM: outputs are closed
and keep every frame written so far.
"""


def build_parser() -> argparse.ArgumentParser:
    """The ``bgmix`` argument parser (``run``, ``batch``, ``eval`` and ``info`` subcommands).

    Examples
    --------
    >>> args = build_parser().parse_args(["run", "clip.mp4", "--history", "200"])
    >>> args.source, vars(args)["param:history"]
    ('clip.mp4', 200)
    """
    formatter = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(
        prog="bgmix", formatter_class=formatter,
        description="Background subtraction with a per-pixel online Gaussian mixture (Numba).",
        epilog=_EXAMPLES)
    parser.add_argument("--version", action="version", version=f"bgmix {bgmix.__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    for module in (run_command, batch_command, eval_command, info_command):
        module.add_parser(commands, formatter)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``bgmix`` command line; return the exit status.

    0 success; 1 a runtime failure (an output that cannot be written: disk
    full, no permission; a missing encoder; a batch with a failed video);
    2 bad arguments or input (a one-line ``bgmix: error: ...`` on stderr, no
    traceback); 130 / 143 stopped by SIGINT (Ctrl-C) / SIGTERM, after
    closing every output with the frames written so far. ``--debug`` shows
    the traceback of an unexpected error (exit 1 without it).

    Examples
    --------
    >>> main(["run", "no/such/clip.mkv", "--quiet"])  # the message goes to stderr
    2
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, usage errors
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else EXIT_USAGE)
    debug = bool(getattr(args, "debug", False))

    # FFmpeg and OpenCV log to stderr on their own (e.g. when a file is not a
    # video); our errors say it in one line. FFmpeg reads this when first used.
    os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")
    import cv2

    log_level = cv2.utils.logging.getLogLevel()
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)
    guarded = args.command in ("run", "batch")
    # On the real command line, once stopping, a repeated Ctrl-C must not kill
    # the process between closing the outputs and exiting.
    signals = (handle_signals(ignore_after_stop=argv is None) if guarded
               else contextlib.nullcontext())
    try:
        with signals:
            if guarded:
                apply_config(args, subparser(parser, args.command))
            return int(args.func(args))
    except StopRequested as stop:
        print(f"bgmix: interrupted by {signal.Signals(stop.signum).name}", file=sys.stderr)
        return stop.exit_code
    except KeyboardInterrupt:
        print("bgmix: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except (RuntimeError, ValueError, TypeError, OSError) as exc:  # input, output, runtime
        print(f"bgmix: error: {one_line(exc)}", file=sys.stderr)
        return exit_code_for(exc)
    except Exception as exc:
        if debug:
            raise
        print(f"bgmix: error: unexpected {type(exc).__name__}: {one_line(exc)} (run with "
              "--debug for the traceback)", file=sys.stderr)
        return EXIT_FAILURE
    finally:
        cv2.utils.logging.setLogLevel(log_level)
