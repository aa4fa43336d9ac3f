"""``python -m bgmix.serve SOURCE --serve [HOST:]PORT``: a run with a live view.

A stand-in for ``bgmix run SOURCE --serve`` until the main command line has
the flag: the model parameters are ``--set name=value`` (the names of
``bgmix run --config``), the outputs a masks video in ``-o OUTDIR``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from bgmix.serve.params import split_settings, settings_from, validate_changes
from bgmix.serve.run import serve_run
from bgmix.serve.server import LiveServer, parse_serve_address


def _setting(text: str) -> tuple[str, Any]:
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    try:
        return name.strip(), json.loads(value)
    except json.JSONDecodeError:
        return name.strip(), value  # a bare string: --set shadows=fold


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bgmix.serve", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("source", help="a video file, a camera index or a stream URL")
    parser.add_argument("--serve", default="8080", metavar="[HOST:]PORT",
                        help="where the live view listens (default 127.0.0.1:8080)")
    parser.add_argument("--serve-token", metavar="TOKEN",
                        help="every request must carry ?token=TOKEN (or X-Bgmix-Token)")
    parser.add_argument("-o", "--output", type=Path, metavar="OUTDIR",
                        help="write OUTDIR/masks.mkv")
    parser.add_argument("--max-frames", type=int, metavar="N")
    parser.add_argument("--preset", metavar="NAME")
    parser.add_argument("--set", type=_setting, action="append", default=[], metavar="NAME=VALUE",
                        help="a model or clean-up setting (var_threshold=25, min_area=20, ...)")
    args = parser.parse_args(argv)

    from bgmix.run import RunOptions
    from bgmix.presets import preset_params

    try:
        host, port = parse_serve_address(args.serve)
        settings = settings_from(preset_params(args.preset) if args.preset else None)
        if args.set:
            settings = validate_changes(settings, dict(args.set))
    except ValueError as exc:
        parser.error(str(exc))
    model_params, postprocess = split_settings(settings)
    outputs = {}
    if args.output is not None:
        args.output.mkdir(parents=True, exist_ok=True)
        outputs["masks"] = str(args.output / "masks.mkv")
    options = RunOptions(model_params=model_params, postprocess=postprocess,
                         max_frames=args.max_frames, **outputs)
    source: Any = int(args.source) if args.source.isdigit() else args.source

    def ready(server: LiveServer) -> None:
        hint = "?token=TOKEN" if args.serve_token else ""
        print(f"bgmix: live view at {server.url}{hint}", file=sys.stderr, flush=True)

    report = serve_run(source, options, host=host, port=port, token=args.serve_token,
                       on_ready=ready)
    if report.status == "failed":
        print(f"bgmix: error: {report.error}", file=sys.stderr)
    elif report.status == "interrupted":
        print(f"bgmix: interrupted; outputs closed, keeping the first {report.frames} frames",
              file=sys.stderr)
    print(f"frames {report.frames}, {report.fps:.1f} fps", file=sys.stderr)
    return report.exit_code


if __name__ == "__main__":
    sys.exit(main())
