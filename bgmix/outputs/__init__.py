"""Outputs: what a run writes, each under a temporary name until it is complete.

=========================  ===================================================
module                     holds
=========================  ===================================================
:mod:`.atomic`             the one way every file is written: a partial file
                           renamed when complete (also used by ``save``)
:mod:`.masks`              grey images: FFV1 mask videos, CDnet-named PNGs
:mod:`.videos`             the life of every video file; overlay and background
:mod:`.tables`             MOT ``det.txt``, JSON lines and CSV, and their readers
:mod:`.threaded`           :class:`ThreadedWriter`: a sink's writes on a thread
:mod:`.frame_outputs`      the outputs of a run: one :class:`Output` per name
=========================  ===================================================

The writers of :mod:`.masks`, :mod:`.videos` and :mod:`.tables` (*sinks*)
each take what they store (a mask; a frame, mask and blobs; a frame number
and blobs) and all have ``close()``, ``abort()`` and ``frames_written``. A
run (:func:`bgmix.run.run_video`) sees every one of them through the same
:class:`Output` protocol: ``write(result)`` takes the
:class:`~bgmix.pipeline.FrameResult` of a frame.

OpenCV is imported by :mod:`.masks` and :mod:`.videos` only (they encode
images); :mod:`.atomic` and :mod:`.tables` need nothing but NumPy. The
writers are available here too (``bgmix.outputs.MaskVideoWriter``), loaded
on first use.
"""

from __future__ import annotations

import importlib
from typing import Any, Protocol, runtime_checkable

__all__ = ["Output", "Sink"]

_LAZY = {
    "MaskVideoWriter": "masks", "PngMaskWriter": "masks", "open_mask_sink": "masks",
    "OverlayVideoWriter": "videos", "BackgroundVideoWriter": "videos",
    "render_overlay": "videos",
    "MotWriter": "tables", "JsonlWriter": "tables", "CsvWriter": "tables",
    "open_writer": "tables",
    "ThreadedWriter": "threaded",
    "PartialFile": "atomic", "partial_path": "atomic", "write_atomic": "atomic",
    "write_json_atomic": "atomic",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class Sink:
    """Base of the writers whose ``abort()`` discards what they wrote.

    Leaving a ``with`` block normally closes the writer; leaving it by an
    exception aborts it, and so does garbage collection of a writer left
    open. Subclasses provide ``close()``, ``abort()`` and a ``_closed`` flag.
    """

    _closed: bool

    def close(self) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def abort(self) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def __enter__(self) -> Any:
        return self

    def __exit__(self, exc_type: object, *exc: object) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()

    def __del__(self) -> None:
        try:
            if not self._closed:
                self.abort()
        except Exception:
            pass


@runtime_checkable
class Output(Protocol):
    """One output of a run, fed one frame's result at a time.

    Attributes
    ----------
    name : str
        Its name (``"masks"``, ``"overlay"``, ``"mot"`` ...).
    path : str
        Its final path (a file, or a folder of PNGs).
    frames_written : int
        Results written to it so far.
    """

    name: str
    path: str

    @property
    def frames_written(self) -> int: ...

    def write(self, result: Any) -> None:
        """Write what this output keeps of one frame's :class:`~bgmix.pipeline.FrameResult`."""

    def close(self) -> None:
        """Finish: the output takes its final name with every frame written."""

    def abort(self) -> None:
        """Discard what was written (files already complete, such as PNGs, are kept)."""
