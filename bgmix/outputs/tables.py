"""Detection exports for trackers: MOT Challenge det.txt, JSON lines and CSV.

Every writer follows the same crash-safe protocol (:mod:`bgmix.outputs.atomic`):

* it writes to the partial file of the final ``NAME``, the hidden
  ``.NAME.part.SUFFIX`` in the same folder (created, or emptied, when the
  writer is made; :func:`partial_path` says where);
* :meth:`~_FrameWriter.write` formats all lines of one frame, writes them with
  a single ``write`` call and flushes, so after it returns the whole frame is
  in the operating system's hands (``fsync=True`` also forces it to disk);
* :meth:`~_FrameWriter.close` renames the partial file to ``NAME``
  (replacing an older ``NAME``); :meth:`~_FrameWriter.abort` deletes it.

So ``NAME`` exists only for a finished run, and a run that is killed, or
leaves a ``with`` block through an exception, leaves the partial file
holding every frame written so far, each complete (lines are written whole;
a frame interrupted half-way through its write is the only possible partial
tail, and only on an operating-system crash or power loss without ``fsync``).

Formats
-------
MOT Challenge (:class:`MotWriter`, ``det.txt``)
    ``frame,-1,left,top,width,height,conf,-1,-1,-1`` per blob. Frames and
    pixel coordinates are 1-based, as in MOT Challenge ground truth (the
    devkit is MATLAB: the top-left pixel of an image is (1, 1)): ``left =
    x1 + 1``, ``top = y1 + 1`` for the box ``x1, y1, x2, y2`` (0-based,
    exclusive) of :class:`~bgmix.blobs.Blobs`; ``width = x2 - x1``,
    ``height = y2 - y1``. :func:`mot_boxes` turns rows back into 0-based
    ``x1, y1, x2, y2``.
JSON lines (:class:`JsonlWriter`)
    one object per frame, also for frames without blobs:
    ``{"frame": n, "boxes": [[x1, y1, x2, y2], ...], "areas": [...],
    "centroids": [[x, y], ...], "confidences": [...]}`` (``x2``, ``y2``
    exclusive).
CSV (:class:`CsvWriter`)
    a header, then one row per blob:
    ``frame,blob,x1,y1,x2,y2,width,height,area,cx,cy,confidence``.

Zones (:mod:`bgmix.zones`)
    A JSON lines or CSV writer made with ``zones=True`` says which zones
    each blob touches: a ``"zones": [["door"], [], ...]`` list per frame
    (one list of names per blob), a last CSV column ``zones`` with the names
    joined by ``;`` (empty for none). The blobs must then be found with
    zones (:attr:`~bgmix.blobs.Blobs.zones`). MOT rows have fixed columns, so
    a zone gets its own file instead: ``MotWriter(path, zone="door")``
    writes only the blobs that touch ``door`` (``det-door.txt`` next to
    ``det.txt``, :func:`zone_path`).

Frames must be integers >= 1 and strictly increasing within one file.

The readers (:func:`read_mot`, :func:`read_jsonl`, :func:`read_csv`) are
strict: what does not follow the format raises a ValueError naming the file,
the line and the problem.
"""

from __future__ import annotations

import csv
import io
import json
import math
import numbers
import os
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from bgmix.outputs.atomic import PartialFile, partial_path

__all__ = ["CsvWriter", "JsonlWriter", "MOT_ORIGIN", "MotWriter", "mot_boxes", "open_writer",
           "partial_path", "read_csv", "read_jsonl", "read_mot", "zone_path"]

MOT_ORIGIN = 1
"""Coordinate of the top-left pixel in MOT files (MOT Challenge's MATLAB convention)."""
JSONL_KEYS = ("frame", "boxes", "areas", "centroids", "confidences")
CSV_HEADER = ("frame", "blob", "x1", "y1", "x2", "y2", "width", "height", "area",
              "cx", "cy", "confidence")
ZONES_KEY = "zones"
"""The JSON lines key and last CSV column of a writer made with ``zones=True``."""


class _BlobsLike(Protocol):
    boxes: np.ndarray
    areas: np.ndarray
    centroids: np.ndarray
    confidences: np.ndarray


def zone_path(path: str | os.PathLike[str], zone: str) -> Path:
    """Where a zone's file goes next to the whole view's: ``det.txt`` -> ``det-door.txt``
    (the MOT exports; :func:`bgmix.events.zone_csv_path` for the event lists).

    Examples
    --------
    >>> zone_path("out/det.txt", "door").as_posix()
    'out/det-door.txt'
    """
    path = Path(path)
    return path.with_name(f"{path.stem}-{zone}{path.suffix}")


def _blob_zones(blobs: Any, n: int) -> tuple[tuple[str, ...], ...]:
    zones = getattr(blobs, "zones", None)
    if zones is None:
        raise ValueError("this writer says which zones each blob touches: find the blobs with "
                         "zones (find_blobs(..., zones=...), process(..., zones=...))")
    if len(zones) != n:
        raise ValueError(f"blobs.zones has {len(zones)} entries for {n} blobs")
    return zones


def _fmt(value: float) -> str:
    """Shortest round-tripping text of a float (``repr``), integers without ``.0``."""
    value = float(value)
    return str(int(value)) if value.is_integer() else repr(value)


def _conf(value: Any) -> float:
    """A float32 confidence as the shortest float that reads back to it (0.7, not 0.69999...)."""
    return float(str(np.float32(value)))


class _FrameWriter:
    """Base of the writers: the partial-file protocol, frame checks."""

    suffixes: tuple[str, ...] = ()

    def __init__(self, path: str | os.PathLike[str], *, fsync: bool = False,
                 zones: bool = False) -> None:
        self.zones = bool(zones)
        self.path = Path(path)
        self._partial = PartialFile(self.path)
        self.partial = self._partial.path
        self.fsync = bool(fsync)
        self.frames_written = 0
        self._last_frame = 0
        self._aborted = False
        self._file: io.TextIOWrapper | None = self._partial.open(  # type: ignore[assignment]
            "w", encoding="utf-8", newline="")
        header = self._header()
        if header:
            self._emit(header)

    # -- to be provided by subclasses ------------------------------------------------------
    def _header(self) -> str:
        return ""

    def _lines(self, frame: int, blobs: _BlobsLike) -> str:
        raise NotImplementedError

    # -- protocol ---------------------------------------------------------------------------
    @property
    def closed(self) -> bool:
        """True after :meth:`close` or :meth:`abort`."""
        return self._file is None

    def _emit(self, text: str) -> None:
        assert self._file is not None
        self._file.write(text)
        self._file.flush()
        if self.fsync:
            os.fsync(self._file.fileno())

    def write(self, frame: int, blobs: _BlobsLike) -> None:
        """Append the blobs of one frame and flush them.

        Parameters
        ----------
        frame : int
            1-based frame number, greater than the previous one written.
        blobs : Blobs
            Anything with ``boxes`` (N, 4) ``x1, y1, x2, y2`` (exclusive),
            ``areas`` (N,), ``centroids`` (N, 2) and ``confidences`` (N,),
            such as :class:`bgmix.blobs.Blobs`.

        Raises
        ------
        ValueError
            For a closed writer, a frame < 1 or not after the last one, or
            blobs with inconsistent arrays.
        """
        if self._file is None:
            raise ValueError(f"writer for {self.path} is closed")
        if isinstance(frame, bool) or not isinstance(frame, numbers.Integral) or frame < 1:
            raise ValueError(f"frame must be an integer >= 1 (1-based), got {frame!r}")
        frame = int(frame)
        if frame <= self._last_frame:
            raise ValueError(f"frame must increase: got {frame} after {self._last_frame}")
        n = len(blobs.boxes)
        if (np.shape(blobs.boxes) != (n, 4) or np.shape(blobs.areas) != (n,)
                or np.shape(blobs.centroids) != (n, 2) or np.shape(blobs.confidences) != (n,)):
            raise ValueError("blobs must have boxes (N, 4), areas (N,), centroids (N, 2) and "
                             "confidences (N,)")
        text = self._lines(frame, blobs)
        if text:
            self._emit(text)
        self._last_frame = frame
        self.frames_written += 1

    def close(self) -> Path:
        """Finish: rename the partial file to ``NAME`` and return ``NAME``.

        Closing twice is harmless; closing after :meth:`abort` raises.
        """
        if self._file is None:
            if self._aborted:
                raise ValueError(f"writer for {self.path} was aborted")
            if self.partial.exists():
                raise ValueError(f"writer for {self.path} was interrupted; its frames are "
                                 f"in {self.partial}")
            return self.path
        self._file.flush()
        if self.fsync:
            os.fsync(self._file.fileno())
        self._file.close()
        self._file = None
        return self._partial.commit()

    def abort(self) -> None:
        """Stop and delete the partial file; ``NAME`` is left as it was."""
        self._aborted = True
        if self._file is not None:
            self._file.close()
            self._file = None
        self._partial.discard()

    def __enter__(self) -> "_FrameWriter":
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is None:
            self.close()
        elif self._file is not None:
            # Like a killed run: keep the partial file with the complete frames.
            self._file.close()
            self._file = None

    def __repr__(self) -> str:
        state = "closed" if self.closed else f"{self.frames_written} frames"
        return f"{type(self).__name__}({str(self.path)!r}, {state})"


class MotWriter(_FrameWriter):
    """MOT Challenge ``det.txt``: ``frame,-1,left,top,width,height,conf,-1,-1,-1``.

    Examples
    --------
    >>> import tempfile
    >>> from bgmix.blobs import find_blobs
    >>> mask = np.zeros((4, 6), np.uint8); mask[1:3, 2:5] = 255
    >>> folder = Path(tempfile.mkdtemp())
    >>> with MotWriter(folder / "det.txt") as writer:
    ...     writer.write(1, find_blobs(mask))
    ...     writer.partial.exists(), writer.path.exists()
    (True, False)
    >>> print((folder / "det.txt").read_text(), end="")  # left, top 1-based
    1,-1,3,2,3,2,1,-1,-1,-1
    >>> partial_path(folder / "det.txt").exists()
    False
    """

    suffixes = (".txt",)

    def __init__(self, path: str | os.PathLike[str], *, fsync: bool = False,
                 zone: str | None = None) -> None:
        self.zone = zone
        super().__init__(path, fsync=fsync)

    def _lines(self, frame: int, blobs: _BlobsLike) -> str:
        boxes = np.asarray(blobs.boxes)
        confidences = np.asarray(blobs.confidences)
        if self.zone is not None:  # only the blobs that touch this writer's zone
            keep = np.array([self.zone in names for names in _blob_zones(blobs, len(boxes))],
                            bool).reshape(-1)
            boxes, confidences = boxes[keep], confidences[keep]
        out = []
        for (x1, y1, x2, y2), conf in zip(boxes.tolist(), confidences.tolist()):
            out.append(f"{frame},-1,{_fmt(x1 + MOT_ORIGIN)},{_fmt(y1 + MOT_ORIGIN)},"
                       f"{_fmt(x2 - x1)},{_fmt(y2 - y1)},"
                       f"{_fmt(_conf(conf))},-1,-1,-1\n")
        return "".join(out)


class JsonlWriter(_FrameWriter):
    """JSON lines: one object per frame (also for frames without blobs).

    Examples
    --------
    >>> import tempfile
    >>> from bgmix.blobs import find_blobs
    >>> path = Path(tempfile.mkdtemp()) / "blobs.jsonl"
    >>> mask = np.zeros((4, 6), np.uint8); mask[1:3, 2:5] = 255
    >>> with JsonlWriter(path) as writer:
    ...     writer.write(1, find_blobs(mask))
    ...     writer.write(2, find_blobs(mask * 0))
    >>> print(path.read_text(), end="")
    {"frame": 1, "boxes": [[2, 1, 5, 3]], "areas": [6], "centroids": [[3.0, 1.5]], "confidences": [1.0]}
    {"frame": 2, "boxes": [], "areas": [], "centroids": [], "confidences": []}

    With ``zones=True``, which zones each blob touches:

    >>> from bgmix.zones import ZoneSet
    >>> zones = ZoneSet(["door=0,0,2,0,2,3,0,3", "hall=3,0,5,0,5,3"], frame_size=(6, 4))
    >>> with JsonlWriter(path, zones=True) as writer:
    ...     writer.write(1, find_blobs(mask, zones=zones))
    >>> print(path.read_text(), end="")
    {"frame": 1, "boxes": [[2, 1, 5, 3]], "areas": [6], "centroids": [[3.0, 1.5]], "confidences": [1.0], "zones": [["door", "hall"]]}
    """

    suffixes = (".jsonl", ".ndjson")

    def _lines(self, frame: int, blobs: _BlobsLike) -> str:
        record = {
            "frame": frame,
            "boxes": np.asarray(blobs.boxes).astype(np.int64).tolist(),
            "areas": np.asarray(blobs.areas).astype(np.int64).tolist(),
            "centroids": np.asarray(blobs.centroids, dtype=np.float64).tolist(),
            "confidences": [_conf(c) for c in np.asarray(blobs.confidences)],
        }
        if self.zones:
            record[ZONES_KEY] = [list(names) for names in _blob_zones(blobs, len(blobs.boxes))]
        return json.dumps(record, allow_nan=False) + "\n"


class CsvWriter(_FrameWriter):
    """CSV, one row per blob after a header line.

    Columns: ``frame,blob,x1,y1,x2,y2,width,height,area,cx,cy,confidence``
    (``blob`` counts from 0 within a frame, ``x2``/``y2`` exclusive).

    Examples
    --------
    >>> import tempfile
    >>> from bgmix.blobs import find_blobs
    >>> mask = np.zeros((4, 6), np.uint8); mask[1:3, 2:5] = 255
    >>> path = Path(tempfile.mkdtemp()) / "blobs.csv"
    >>> with CsvWriter(path) as writer:
    ...     writer.write(1, find_blobs(mask))
    >>> print(path.read_text(), end="")
    frame,blob,x1,y1,x2,y2,width,height,area,cx,cy,confidence
    1,0,2,1,5,3,3,2,6,3,1.5,1

    With ``zones=True`` a last column ``zones`` (names joined by ``;``):

    >>> from bgmix.zones import ZoneSet
    >>> zones = ZoneSet(["door=0,0,2,0,2,3,0,3", "hall=3,0,5,0,5,3"], frame_size=(6, 4))
    >>> with CsvWriter(path, zones=True) as writer:
    ...     writer.write(1, find_blobs(mask, zones=zones))
    >>> print(path.read_text(), end="")
    frame,blob,x1,y1,x2,y2,width,height,area,cx,cy,confidence,zones
    1,0,2,1,5,3,3,2,6,3,1.5,1,door;hall
    """

    suffixes = (".csv",)

    def _header(self) -> str:
        return ",".join(CSV_HEADER + ((ZONES_KEY,) if self.zones else ())) + "\n"

    def _lines(self, frame: int, blobs: _BlobsLike) -> str:
        out = []
        rows = zip(np.asarray(blobs.boxes).tolist(), np.asarray(blobs.areas).tolist(),
                   np.asarray(blobs.centroids).tolist(), np.asarray(blobs.confidences).tolist())
        zones = (_blob_zones(blobs, len(blobs.boxes)) if self.zones
                 else ((),) * len(blobs.boxes))
        for i, ((x1, y1, x2, y2), area, (cx, cy), conf) in enumerate(rows):
            fields = (frame, i, x1, y1, x2, y2, x2 - x1, y2 - y1, area, cx, cy, _conf(conf))
            line = ",".join(_fmt(v) for v in fields)
            if self.zones:  # zone names hold no comma, quote or ';' (bgmix.zones.ZONE_NAME)
                line += "," + ";".join(zones[i])
            out.append(line + "\n")
        return "".join(out)


_WRITERS: dict[str, type[_FrameWriter]] = {"mot": MotWriter, "jsonl": JsonlWriter,
                                           "csv": CsvWriter}


def open_writer(path: str | os.PathLike[str], format: str | None = None, *,
                fsync: bool = False, zones: bool = False,
                zone: str | None = None) -> _FrameWriter:
    """A writer for ``path``, its format given or taken from the suffix.

    Parameters
    ----------
    path : str or os.PathLike
        The final file name.
    format : {"mot", "jsonl", "csv"}, optional
        Default from the suffix: ``.txt`` MOT, ``.jsonl``/``.ndjson`` JSON
        lines, ``.csv`` CSV.
    fsync : bool, default False
        Force every frame to disk (slower; survives power loss, not only a
        killed process).
    zones : bool, default False
        JSON lines and CSV: say which zones each blob touches.
    zone : str, optional
        MOT: write only the blobs that touch this zone.

    Examples
    --------
    >>> import tempfile
    >>> writer = open_writer(Path(tempfile.mkdtemp()) / "det.txt")
    >>> type(writer).__name__
    'MotWriter'
    >>> writer.abort()
    """
    if format is None:
        suffix = Path(path).suffix.lower()
        for name, cls in _WRITERS.items():
            if suffix in cls.suffixes:
                format = name
                break
        else:
            raise ValueError(f"format cannot be told from the suffix {suffix!r} of {path}; "
                             "give format='mot', 'jsonl' or 'csv'")
    if format not in _WRITERS:
        raise ValueError(f"format must be 'mot', 'jsonl' or 'csv', got {format!r}")
    if format == "mot":
        if zones:
            raise ValueError("MOT rows have fixed columns: give zone=NAME for a file of the "
                             "blobs touching one zone")
        return MotWriter(path, fsync=fsync, zone=zone)
    if zone is not None:
        raise ValueError(f"zone=NAME is for MOT files; a {format} writer says which zones "
                         "each blob touches with zones=True")
    return _WRITERS[format](path, fsync=fsync, zones=zones)


# -- strict readers -----------------------------------------------------------------------------

def _whole_lines(path: str | os.PathLike[str]) -> list[tuple[str, str]]:
    """``("FILE:LINE", text)`` for every line; a last line without its newline is refused."""
    with open(path, encoding="utf-8", newline="") as file:
        text = file.read()
    if text and not text.endswith("\n"):
        raise ValueError(f"{path}: the last line is not terminated (a cut-off write?)")
    return [(f"{path}:{number}", line) for number, line in enumerate(text.splitlines(), start=1)]


def _finite(text: str, where: str, name: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{where}: {name} is not a number: {text!r}") from None
    if not math.isfinite(value):
        raise ValueError(f"{where}: {name} is not finite: {text!r}")
    return value


def read_mot(path: str | os.PathLike[str]) -> np.ndarray:
    """Read a MOT Challenge detection file strictly.

    Every line must have 10 comma-separated fields: an integer frame >= 1,
    id -1, finite left and top, finite positive width and height, a finite
    confidence and -1, -1, -1. Frames must not decrease.

    Returns
    -------
    numpy.ndarray
        (N, 10) float64, one row per line.

    Examples
    --------
    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "det.txt"
    >>> _ = path.write_text("1,-1,2,1,3,2,0.9,-1,-1,-1\\n")
    >>> read_mot(path).tolist()
    [[1.0, -1.0, 2.0, 1.0, 3.0, 2.0, 0.9, -1.0, -1.0, -1.0]]
    >>> _ = path.write_text("0,-1,2,1,3,2,0.9,-1,-1,-1\\n")
    >>> read_mot(path)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: ...det.txt:1: frame must be an integer >= 1, got '0'
    """
    rows = []
    last_frame = 0
    for where, line in _whole_lines(path):
        fields = line.rstrip("\r").split(",")
        if len(fields) != 10:
            raise ValueError(f"{where}: expected 10 comma-separated fields, got {len(fields)}")
        try:
            frame = int(fields[0])
        except ValueError:
            frame = 0
        if frame < 1:
            raise ValueError(f"{where}: frame must be an integer >= 1, got {fields[0]!r}")
        if frame < last_frame:
            raise ValueError(f"{where}: frame {frame} comes after frame {last_frame}")
        last_frame = frame
        values = [_finite(f, where, name) for f, name in
                  zip(fields[1:], ("id", "left", "top", "width", "height", "conf",
                                   "x", "y", "z"))]
        if values[0] != -1:
            raise ValueError(f"{where}: id must be -1 for raw detections, got {fields[1]!r}")
        if values[3] <= 0 or values[4] <= 0:
            raise ValueError(f"{where}: width and height must be positive, got "
                             f"{fields[4]!r}, {fields[5]!r}")
        if values[6:] != [-1.0, -1.0, -1.0]:
            raise ValueError(f"{where}: the last three fields must be -1, got {fields[7:]}")
        rows.append([float(frame)] + values)
    return np.array(rows, dtype=np.float64).reshape(-1, 10)


def mot_boxes(rows: np.ndarray) -> np.ndarray:
    """0-based ``x1, y1, x2, y2`` boxes (exclusive, as :class:`~bgmix.blobs.Blobs`) of MOT rows.

    Parameters
    ----------
    rows : numpy.ndarray
        (N, 10) rows as :func:`read_mot` returns them (1-based ``left``, ``top``).

    Returns
    -------
    numpy.ndarray
        (N, 4) float64.

    Examples
    --------
    >>> mot_boxes(np.array([[1, -1, 3, 2, 3, 2, 1, -1, -1, -1]], float)).tolist()
    [[2.0, 1.0, 5.0, 3.0]]
    """
    rows = np.asarray(rows, dtype=np.float64).reshape(-1, 10)
    x1 = rows[:, 2] - MOT_ORIGIN
    y1 = rows[:, 3] - MOT_ORIGIN
    return np.stack([x1, y1, x1 + rows[:, 4], y1 + rows[:, 5]], axis=1)


def _check_number_list(value: Any, where: str, name: str, length: int | None,
                       integer: bool) -> None:
    if not isinstance(value, list) or (length is not None and len(value) != length):
        shape = "a list" if length is None else f"a list of {length} numbers"
        raise ValueError(f"{where}: {name} must be {shape}, got {value!r}")
    for item in value:
        ok = (isinstance(item, int) if integer else isinstance(item, (int, float)))
        if isinstance(item, bool) or not ok or not math.isfinite(item):
            kind = "integers" if integer else "finite numbers"
            raise ValueError(f"{where}: {name} must hold {kind}, got {item!r}")


def read_jsonl(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """Read a JSON lines blob file strictly.

    Each line must be one object with exactly the keys ``frame``, ``boxes``,
    ``areas``, ``centroids`` and ``confidences`` (and ``zones``, on every line
    or none: a list of zone names per blob); ``frame`` an integer >= 1,
    increasing from line to line; the four lists of one length; boxes four
    integers with ``x2 > x1`` and ``y2 > y1``; areas positive integers;
    centroids two finite numbers; confidences in [0, 1].

    Returns
    -------
    list of dict
        The objects, in file order.

    Examples
    --------
    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "blobs.jsonl"
    >>> _ = path.write_text('{"frame": 1, "boxes": [], "areas": [], "centroids": [], '
    ...                     '"confidences": []}\\n')
    >>> read_jsonl(path)[0]["frame"]
    1
    """
    records = []
    last_frame = 0
    keys: tuple[str, ...] | None = None
    for where, line in _whole_lines(path):
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            raise ValueError(f"{where}: not valid JSON: {error}") from None
        if keys is None and isinstance(record, dict):  # the first line says whether zones are in
            keys = JSONL_KEYS + ((ZONES_KEY,) if ZONES_KEY in record else ())
        if not isinstance(record, dict) or set(record) != set(keys or JSONL_KEYS):
            got = sorted(record) if isinstance(record, dict) else type(record).__name__
            raise ValueError(f"{where}: expected an object with keys {list(keys or JSONL_KEYS)}"
                             f", got {got}")
        frame = record["frame"]
        if isinstance(frame, bool) or not isinstance(frame, int) or frame < 1:
            raise ValueError(f"{where}: frame must be an integer >= 1, got {frame!r}")
        if frame <= last_frame:
            raise ValueError(f"{where}: frame {frame} does not come after frame {last_frame}")
        last_frame = frame
        n = None
        for key in (keys or JSONL_KEYS)[1:]:
            if not isinstance(record[key], list):
                raise ValueError(f"{where}: {key} must be a list, got {record[key]!r}")
            if n is None:
                n = len(record[key])
            elif len(record[key]) != n:
                raise ValueError(f"{where}: {key} has {len(record[key])} entries, boxes {n}")
        for box in record["boxes"]:
            _check_number_list(box, where, "a box", 4, integer=True)
            if box[2] <= box[0] or box[3] <= box[1]:
                raise ValueError(f"{where}: a box must have x2 > x1 and y2 > y1, got {box}")
        _check_number_list(record["areas"], where, "areas", None, integer=True)
        if any(a <= 0 for a in record["areas"]):
            raise ValueError(f"{where}: areas must be positive, got {record['areas']}")
        for centroid in record["centroids"]:
            _check_number_list(centroid, where, "a centroid", 2, integer=False)
        _check_number_list(record["confidences"], where, "confidences", None, integer=False)
        if any(not 0.0 <= c <= 1.0 for c in record["confidences"]):
            raise ValueError(f"{where}: confidences must be in [0, 1], got "
                             f"{record['confidences']}")
        for names in record.get(ZONES_KEY, ()):
            if not isinstance(names, list) or not all(_is_zone_name(z) for z in names):
                raise ValueError(f"{where}: zones must hold one list of zone names per blob, "
                                 f"got {names!r}")
        records.append(record)
    return records


def _is_zone_name(value: Any) -> bool:
    from bgmix.zones import ZONE_NAME

    return isinstance(value, str) and bool(ZONE_NAME.match(value))


def read_csv(path: str | os.PathLike[str], *, zones: bool = False) -> Any:
    """Read a CSV written by :class:`CsvWriter` (header checked).

    Parameters
    ----------
    path : str or PathLike
    zones : bool, default False
        Also return the ``zones`` column (the file must have it).

    Returns
    -------
    numpy.ndarray, or (numpy.ndarray, list of tuple of str)
        (N, 12) float64 in the numeric columns of the header; with
        ``zones``, also each row's zone names.

    Examples
    --------
    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "blobs.csv"
    >>> _ = path.write_text(",".join(CSV_HEADER) + "\\n1,0,2,1,5,3,3,2,6,3,1.5,1\\n")
    >>> read_csv(path)[:, 8].tolist()
    [6.0]
    >>> _ = path.write_text(",".join(CSV_HEADER) + ",zones\\n1,0,2,1,5,3,3,2,6,3,1.5,1,a;b\\n")
    >>> read_csv(path, zones=True)[1]
    [('a', 'b')]
    """
    with open(path, encoding="utf-8", newline="") as file:
        rows = list(csv.reader(file))
    header = tuple(rows[0]) if rows else ()
    if header not in (CSV_HEADER, CSV_HEADER + (ZONES_KEY,)):
        raise ValueError(f"{path}: the first line must be the header {','.join(CSV_HEADER)}"
                         f" (or with a last column {ZONES_KEY})")
    if zones and len(header) == len(CSV_HEADER):
        raise ValueError(f"{path} has no {ZONES_KEY} column (write it with zones)")
    out = []
    names: list[tuple[str, ...]] = []
    for number, row in enumerate(rows[1:], start=2):
        where = f"{path}:{number}"
        if len(row) != len(header):
            raise ValueError(f"{where}: expected {len(header)} fields, got {len(row)}")
        values = [_finite(v, where, name) for v, name in zip(row, CSV_HEADER)]
        if values[0] < 1 or not values[0].is_integer():
            raise ValueError(f"{where}: frame must be an integer >= 1, got {row[0]!r}")
        if len(header) > len(CSV_HEADER):
            touched = tuple(row[-1].split(";")) if row[-1] else ()
            if not all(_is_zone_name(z) for z in touched):
                raise ValueError(f"{where}: zones must be zone names joined by ';', "
                                 f"got {row[-1]!r}")
            names.append(touched)
        out.append(values)
    values_array = np.array(out, dtype=np.float64).reshape(-1, len(CSV_HEADER))
    return (values_array, names) if zones else values_array
