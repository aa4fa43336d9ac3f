"""``bgmix batch``: many videos, one output folder each, in parallel."""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path
from typing import Any

from bgmix.cli.options import add_common_options, add_event_options, add_output_options, \
    positive_int
from bgmix.cli.settings import event_settings, output_paths, run_options
from bgmix.errors import EXIT_FAILURE, EXIT_OK


_BATCH_EXAMPLES = """\
Examples:
  bgmix batch videos/ --out results/                    # every video in the folder
  bgmix batch "cams/**/*.mp4" extra.avi --out results/ --jobs 2 --mot --jsonl
  bgmix batch "cdnet/*/*/input" --out masks/ --format png   # image folders, CDnet naming
  bgmix batch videos/ --out results/ --force            # redo videos already done
  bgmix batch videos/ --out results/ --scheduler dask --dask-address tcp://10.0.0.2:8786

Each video gets results/<name>/ (the file stem; -2, -3 ... when stems repeat) with its
outputs (names inside that folder; masks.mkv when none is asked for) and done.json, written
last. Videos whose folder holds done.json are skipped, so a batch that was stopped (Ctrl-C,
SIGTERM) or failed part-way does only the rest when started again. A bad file is reported
and the others go on. At the end: a table (video, frames, fps, status) and
results/summary.json. Exit status: 0 all done or skipped, 1 any failed, 2 bad arguments,
130/143 stopped by SIGINT/SIGTERM (finished videos keep their done.json).
"""


def _batch_table(rows: list[dict[str, Any]]) -> str:
    header = ("video", "frames", "fps", "status")
    lines = [header]
    for row in rows:
        status = row["status"]
        if row.get("error"):
            status += f": {row['error']}"
        fps = f"{row['fps']:.1f}" if row.get("fps") else "-"
        lines.append((row["name"], str(row.get("frames", 0)), fps, status))
    widths = [max(len(line[i]) for line in lines) for i in range(3)]
    return "\n".join(f"{a:<{widths[0]}}  {b:>{widths[1]}}  {c:>{widths[2]}}  {d}".rstrip()
                     for a, b, c, d in lines)


def _cmd_batch(args: argparse.Namespace) -> int:
    from bgmix.batch import expand_inputs, run_batch

    if args.out is None:
        raise ValueError("bgmix batch needs --out DIR (the folder for the results)")
    outputs = output_paths(args, None, batch=True)
    options = run_options(args, outputs).replace(**event_settings(args, None, batch=True))
    items = expand_inputs(args.inputs)
    if all(item.error is not None for item in items):
        raise FileNotFoundError("; ".join(item.error for item in items if item.error))
    quiet = bool(args.quiet)
    bar = None
    if not quiet and sys.stderr.isatty():
        from tqdm import tqdm

        bar = tqdm(total=len(items), unit="video", desc="batch", dynamic_ncols=True, leave=False)

    def on_row(row: dict[str, Any]) -> None:
        if bar is not None:
            bar.update()
        if row["status"] == "failed":
            message = f"bgmix: failed {row['name']} ({row['source']}): {row['error']}"
            (bar.write if bar is not None else print)(message, file=sys.stderr)
        elif not quiet and row["status"] != "skipped":
            text = f"bgmix: {row['status']} {row['name']}: {row['frames']} frames"
            if bar is not None:
                bar.write(text, file=sys.stderr)
            else:
                print(text, file=sys.stderr)
        for warning in row.get("warnings") or ():
            print(f"bgmix: warning: {row['name']}: {warning}", file=sys.stderr)

    try:
        rows, signum = run_batch(items, args.out, options, jobs=args.jobs or 1,
                                 force=bool(args.force), scheduler=args.scheduler or "process",
                                 dask_address=args.dask_address, on_row=on_row)
    finally:
        if bar is not None:
            bar.close()
    if options.report is not None:
        from bgmix.activity import write_batch_index

        index = write_batch_index(args.out, rows)
    if not quiet:
        print(_batch_table(rows))
        print(f"summary     {Path(args.out) / 'summary.json'}")
        if options.report is not None:
            print(f"index       {index}")
    if signum is not None:
        done = sum(row["status"] in ("done", "skipped") for row in rows)
        print(f"bgmix: batch interrupted by {signal.Signals(signum).name}; {done} of {len(rows)} "
              "videos done (run the same command again for the rest)", file=sys.stderr)
        return 128 + signum
    return EXIT_FAILURE if any(row["status"] == "failed" for row in rows) else EXIT_OK


def add_parser(commands: Any, formatter: type[argparse.HelpFormatter]) -> argparse.ArgumentParser:
    """Add the ``bgmix batch`` command to the subparsers ``commands``."""
    batch = commands.add_parser(
        "batch", formatter_class=formatter, epilog=_BATCH_EXAMPLES,
        usage="bgmix batch PATHS_OR_GLOBS... --out DIR [--jobs N] [--force] "
              "[--scheduler process|dask] [outputs] [options]",
        help="many videos, one output folder each, in parallel; skips videos already done",
        description=(
            "Run `bgmix run` on every video of PATHS_OR_GLOBS (files, folders of videos, image "
            "folders, quoted\nglob patterns with **), each into DIR/<name>/, in worker "
            "processes."))
    batch.add_argument("inputs", nargs="+", metavar="PATHS_OR_GLOBS",
                       help="video files, folders (their videos, or one image sequence) or "
                            "quoted glob patterns")
    batch.add_argument("--out", type=Path, metavar="DIR", default=None,
                       help="batch folder (required): DIR/<name>/ per video, DIR/summary.json")
    batch.add_argument("-j", "--jobs", type=positive_int, metavar="N",
                       help="videos at a time, each in its own process (default: 1); each "
                            "model gets cpus/N kernel threads unless --n-threads is given")
    batch.add_argument("--force", action="store_true", default=None,
                       help="redo videos that are already done")
    batch.add_argument("--scheduler", choices=("process", "dask"),
                       help="local worker processes (default) or Dask (dask.distributed: a "
                            "local cluster of --jobs worker processes, or --dask-address)")
    batch.add_argument("--dask-address", metavar="ADDR",
                       help="a running Dask scheduler, e.g. tcp://10.0.0.2:8786")
    batch.add_argument("--format", choices=("mkv", "png"),
                       help="the default masks: masks.mkv or masks/bin%%06d.png (default: mkv)")
    add_output_options(batch, batch=True)
    add_event_options(batch, batch=True)
    batch.add_argument("--max-frames", type=positive_int, metavar="N",
                       help="stop each video after N frames")
    batch.add_argument("-q", "--quiet", action="store_true", default=None,
                       help="no progress bar and no table")
    add_common_options(batch)
    batch.set_defaults(func=_cmd_batch)
    return batch
