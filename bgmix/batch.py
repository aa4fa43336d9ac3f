"""Many videos, one output folder each: :func:`run_batch`, the job behind ``bgmix batch``.

:func:`expand_inputs` turns paths, folders and glob patterns into
:class:`BatchItem` videos with unique folder names; :func:`run_batch` runs
:func:`batch_job` (which is :func:`bgmix.run.run_video`, the same as
``bgmix run``) for each in worker processes or on a Dask cluster
(:mod:`bgmix.schedulers`). A video is done when its folder holds
``done.json``, written atomically after every output was closed; done videos
are skipped unless ``force``. The batch writes ``summary.json`` (atomically)
at the end, also when interrupted.

The names this module held before the run and the signals had modules of
their own (:class:`~bgmix.run.RunOptions`, :func:`~bgmix.run.run_video`,
:func:`~bgmix.signals.handle_signals`, the exceptions of :mod:`bgmix.errors`,
:func:`~bgmix.outputs.atomic.write_json_atomic`) are still importable from
here.
"""

from __future__ import annotations

import datetime
import glob as _glob
import json
import os
import re
import signal
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bgmix.cdnet import sequence_name
from bgmix.errors import EXIT_FAILURE, EXIT_OK, EXIT_USAGE, OutputError, StopRequested, one_line
from bgmix.outputs.atomic import write_json_atomic
from bgmix.outputs.masks import outlier_image, probability_image  # noqa: F401 (as before)
from bgmix.run import RunOptions, VideoReport, run_video
from bgmix.schedulers import SCHEDULERS, worker_should_stop
from bgmix.signals import handle_signals
from bgmix.sources.paths import VIDEO_SUFFIXES, has_images, is_glob, natural_key

__all__ = ["EXIT_FAILURE", "EXIT_OK", "EXIT_USAGE", "DONE_RECORD", "SUMMARY_NAME",
           "BatchItem", "OutputError", "RunOptions", "StopRequested", "VideoReport",
           "batch_job", "expand_inputs", "handle_signals", "one_line",
           "read_done", "run_batch", "run_video", "write_json_atomic"]

DONE_RECORD = "done.json"
SUMMARY_NAME = "summary.json"


@dataclass
class BatchItem:
    """One video of a batch: its source, its output folder name, or why it cannot run."""

    source: str
    name: str
    error: str | None = None


def expand_inputs(paths_or_globs: Sequence[str]) -> list[BatchItem]:
    """The videos of a batch, in order, each with a unique output folder name.

    A file is one video (whatever its suffix: a bad file fails when run);
    a folder holding video files (by suffix) gives each of them; a folder
    holding only images is one image sequence; a glob pattern (``**``
    allowed) gives its matches. A path that does not exist, or a pattern
    that matches nothing, is an item with an ``error``. The same file named
    twice is taken once. Names are the file stems (the folder name for an
    image sequence, its parent's for a CDnet ``input/``), with ``-2``,
    ``-3`` ... added when two videos share one.

    Examples
    --------
    >>> import tempfile
    >>> root = Path(tempfile.mkdtemp())
    >>> for sub in ("a", "b"):
    ...     (root / sub).mkdir(); _ = (root / sub / "clip.mp4").write_bytes(b"")
    >>> [(i.name, i.error) for i in expand_inputs([str(root / "*" / "clip.mp4"), str(root / "c")])]
    [('clip', None), ('clip-2', None), ('c', 'no such file or folder: ...c')]
    """
    found: list[tuple[str, str | None]] = []
    for arg in paths_or_globs:
        path = Path(arg)
        if path.is_file():
            found.append((str(path), None))
        elif path.is_dir():
            videos = sorted((str(p) for p in path.iterdir()
                             if p.is_file() and p.suffix.lower() in VIDEO_SUFFIXES),
                            key=natural_key)
            if videos:
                found.extend((v, None) for v in videos)
            elif has_images(path):
                found.append((str(path), None))
            else:
                found.append((str(path), f"no videos or images in folder {path}"))
        elif is_glob(arg):
            matches = sorted((m for m in _glob.glob(arg, recursive=True)
                              if os.path.isfile(m) or (os.path.isdir(m) and has_images(Path(m)))),
                             key=natural_key)
            if matches:
                found.extend((m, None) for m in matches)
            else:
                found.append((arg, f"no files match the pattern {arg}"))
        else:
            found.append((arg, f"no such file or folder: {arg}"))
    items: list[BatchItem] = []
    seen_sources: set[str] = set()
    used: set[str] = set()
    for source, error in found:
        key = os.path.realpath(source) if error is None else source
        if key in seen_sources:
            continue
        seen_sources.add(key)
        path = Path(source)
        if error is None and path.is_dir():
            stem = sequence_name(path)
        else:
            stem = path.stem if error is None else (path.stem or path.name)
        stem = re.sub(r"[^\w.-]+", "_", stem).strip("._") or "video"
        name, n = stem, 1
        while name in used:
            n += 1
            name = f"{stem}-{n}"
        used.add(name)
        items.append(BatchItem(source=source, name=name, error=error))
    return items


def _resolve_options(options: RunOptions, folder: Path) -> RunOptions:
    changes = {}
    for name, value in {**options.outputs(), **options.activity_outputs()}.items():
        if Path(value).is_absolute() or ".." in Path(value).parts:
            raise ValueError(f"--{name} {value}: in a batch, outputs are names inside each "
                             "video's folder (no absolute path, no '..')")
        changes[name] = str(folder / value)
    return options.replace(**changes)


def read_done(folder: Path) -> dict[str, Any] | None:
    """The completion record of a video folder, or None when it is not complete.

    Examples
    --------
    >>> import tempfile
    >>> read_done(Path(tempfile.mkdtemp())) is None
    True
    """
    try:
        record = json.loads((folder / DONE_RECORD).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) and record.get("status") == "done" else None


def _row(name: str, source: str, folder: Path, status: str, **changes: Any) -> dict[str, Any]:
    """A row of the summary: one video, how it went."""
    row = {"name": name, "source": source, "folder": str(folder), "status": status, "frames": 0,
           "fps": 0.0, "elapsed_s": 0.0, "error": None, "warnings": []}
    row.update(changes)
    return row


def batch_job(source: str, folder: str, options: RunOptions) -> dict[str, Any]:
    """Run one batch video into ``folder`` and, when it completes, write ``done.json``.

    The function each batch worker runs: :func:`run_video`, the same as
    ``bgmix run``, with the output names of ``options`` taken inside
    ``folder``. Returns the summary row (a dict).

    Examples
    --------
    >>> import tempfile, cv2, numpy as np
    >>> root = Path(tempfile.mkdtemp())
    >>> _ = cv2.imwrite(str(root / "in000001.png"), np.zeros((24, 32, 3), np.uint8))
    >>> row = batch_job(str(root), str(root / "out" / "seq"), RunOptions(jsonl="blobs.jsonl"))
    >>> row["status"], row["frames"], sorted(os.listdir(root / "out" / "seq"))
    ('done', 1, ['blobs.jsonl', 'done.json'])
    """
    import cv2

    import bgmix

    # Our one-line errors say what went wrong; OpenCV's own log lines would
    # repeat it from every worker (the parent's setting is not inherited).
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)
    out = Path(folder)
    row = _row(out.name, source, out, "failed")
    if worker_should_stop():  # queued before the stop, taken after it: never started
        row["status"] = "cancelled"
        return row
    try:
        out.mkdir(parents=True, exist_ok=True)
        (out / DONE_RECORD).unlink(missing_ok=True)
        for stale in out.glob(".*.part*"):  # a killed attempt's temporary files
            stale.unlink(missing_ok=True)
        resolved = _resolve_options(options, out)
        report = run_video(source, resolved, should_stop=worker_should_stop)
    except Exception as exc:  # a bug or an unexpected error: this video fails, the batch goes on
        row["error"] = f"{type(exc).__name__}: {one_line(exc)}"
        return row
    row.update(status=report.status, frames=report.frames, fps=round(report.fps, 3),
               elapsed_s=round(report.elapsed_s, 3), error=report.error,
               warnings=report.warnings)
    if report.status == "done":
        record = {"status": "done", "source": os.path.realpath(source), "name": out.name,
                  "frames": report.frames, "fps": round(report.fps, 3),
                  "elapsed_s": round(report.elapsed_s, 3), "outputs": {
                      k: os.path.relpath(v, out) for k, v in report.outputs.items()},
                  "foreground": report.foreground, "warnings": report.warnings,
                  "events": report.events,
                  "model_params": dict(resolved.model_params),
                  "bgmix_version": bgmix.__version__,
                  "finished_at": datetime.datetime.now(datetime.timezone.utc).isoformat()}
        try:
            write_json_atomic(out / DONE_RECORD, record)
        except OSError as exc:
            row.update(status="failed", error=one_line(OutputError("done record",
                                                                  out / DONE_RECORD, exc)))
    return row


def _usable_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        return os.cpu_count() or 1


def run_batch(items: Sequence[BatchItem], out: os.PathLike[str] | str, options: RunOptions, *,
              jobs: int = 1, force: bool = False, scheduler: str = "process",
              dask_address: str | None = None,
              on_row: Callable[[dict[str, Any]], None] | None = None) -> tuple[list[dict[str, Any]], int | None]:
    """Run many videos, one folder each under ``out``; write ``out/summary.json``.

    Parameters
    ----------
    items : sequence of BatchItem
        From :func:`expand_inputs`.
    out : path
        The batch folder: ``out/<name>/`` per video, ``out/summary.json``.
    options : RunOptions
        Outputs are names inside each video's folder.
    jobs : int
        Worker processes (or Dask workers of a local cluster). Each model
        gets ``cpus // jobs`` kernel threads unless ``n_threads`` is given.
    force : bool
        Redo videos whose folder holds ``done.json``.
    scheduler : {"process", "dask"}
    dask_address : str, optional
        A running Dask scheduler to use instead of a local cluster.
    on_row : callable, optional
        Called with each row as soon as it is known.

    Returns
    -------
    rows, signum
        One row per item (status ``done``, ``skipped``, ``failed``,
        ``interrupted`` or ``cancelled``) in item order, and the signal
        that stopped the batch (None when it ran to the end).

    Examples
    --------
    >>> import tempfile, cv2, numpy as np
    >>> root = Path(tempfile.mkdtemp())
    >>> writer = cv2.VideoWriter(str(root / "a.mkv"), cv2.CAP_FFMPEG,
    ...                          cv2.VideoWriter_fourcc(*"FFV1"), 25, (32, 24))
    >>> for _ in range(5):
    ...     _ = writer.write(np.zeros((24, 32, 3), np.uint8))
    >>> writer.release()
    >>> items = expand_inputs([str(root / "a.mkv"), str(root / "missing.mkv")])
    >>> rows, signum = run_batch(items, root / "out", RunOptions(masks="masks.mkv"))  # doctest: +SKIP
    >>> [(r["name"], r["status"]) for r in rows]  # doctest: +SKIP
    [('a', 'done'), ('missing', 'failed')]
    """
    import bgmix

    if scheduler not in SCHEDULERS:
        raise ValueError(f"scheduler must be 'process' or 'dask', got {scheduler!r}")
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise ValueError(f"jobs must be an integer >= 1, got {jobs!r}")
    out = Path(out)
    _resolve_options(options, out)  # refuse output paths outside the video folders first
    out.mkdir(parents=True, exist_ok=True)
    if "n_threads" not in options.model_params or options.model_params["n_threads"] is None:
        params = dict(options.model_params)
        params["n_threads"] = max(1, _usable_cpus() // jobs)
        options = options.replace(model_params=params)
    started = time.time()
    rows: dict[int, dict[str, Any]] = {}
    todo: list[int] = []

    def record(index: int, row: dict[str, Any]) -> None:
        rows[index] = row
        if on_row is not None:
            on_row(row)

    def row(index: int, status: str, **changes: Any) -> dict[str, Any]:
        item = items[index]
        return _row(item.name, item.source, out / item.name, status, **changes)

    def failed(index: int, exc: BaseException) -> dict[str, Any]:
        return row(index, "failed", error=f"worker failed: {type(exc).__name__}: {one_line(exc)}")

    for index, item in enumerate(items):
        if item.error is not None:
            record(index, row(index, "failed", error=item.error))
            continue
        done = read_done(out / item.name)
        if done is not None and not force and done.get("source") == os.path.realpath(item.source):
            record(index, row(index, "skipped", frames=done.get("frames", 0),
                              fps=done.get("fps", 0.0), elapsed_s=done.get("elapsed_s", 0.0)))
            continue
        todo.append(index)

    signum: int | None = None
    if todo:
        tasks = [(i, (items[i].source, str(out / items[i].name), options)) for i in todo]
        signum = SCHEDULERS[scheduler](batch_job, tasks, jobs, record, failed, dask_address)
    for index in range(len(items)):
        if index not in rows:  # never started: stopped before its turn
            rows[index] = row(index, "cancelled")
    ordered = [rows[i] for i in range(len(items))]
    counts: dict[str, int] = {}
    for row in ordered:
        counts[row["status"]] = counts.get(row["status"], 0) + 1
    write_json_atomic(out / SUMMARY_NAME, {
        "bgmix_version": bgmix.__version__, "out": str(out), "scheduler": scheduler,
        "jobs": jobs, "started_at": datetime.datetime.fromtimestamp(
            started, datetime.timezone.utc).isoformat(),
        "elapsed_s": round(time.time() - started, 3),
        "interrupted_by": None if signum is None else signal.Signals(signum).name,
        "counts": counts, "videos": ordered})
    return ordered, signum
