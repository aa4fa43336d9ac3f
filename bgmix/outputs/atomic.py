"""Every output is written under a temporary name and renamed when complete.

This module is the one place that knows how: the models bgmix saves
(:meth:`~bgmix.BackgroundMixture.save`), the mask, overlay and background
videos, the PNG masks, the detection tables and the JSON records of a
batch are all written to :func:`partial_path` of their final name and moved
onto it by :meth:`PartialFile.commit` (``os.replace``: atomic on one file
system), so a final name is either absent, the previous complete file, or
the new complete file.

The partial file of ``NAME`` is the hidden ``.NAME.part.SUFFIX`` in the same
folder. It keeps the final suffix because OpenCV picks a video's container
from it; it is one fixed name per output, so a run that is killed outright
leaves at most one partial file per output (holding what was written so far:
see :mod:`bgmix.outputs.tables` and :mod:`bgmix.outputs.videos`), and the
next run of the same output replaces it. One writer per final name at a
time: two writers of the same name would share its partial file.

Partial files get the permissions of an ordinary new file (0666 less the
umask), which they keep when renamed.

Examples
--------
>>> import tempfile
>>> from pathlib import Path
>>> folder = Path(tempfile.mkdtemp())
>>> partial_path(folder / "masks.mkv").name
'.masks.mkv.part.mkv'
>>> _ = write_atomic(folder / "notes.txt", "done\\n")
>>> [p.name for p in folder.iterdir()], (folder / "notes.txt").read_text()
(['notes.txt'], 'done\\n')
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

__all__ = ["PARTIAL_MARK", "PartialFile", "atomic_open", "partial_path", "write_atomic",
           "write_json_atomic"]

PARTIAL_MARK = ".part"
"""What marks a partial file: ``.NAME.part.SUFFIX``."""

_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_BINARY", 0)


def partial_path(path: str | os.PathLike[str], suffix: str | None = None) -> Path:
    """Where the output ``path`` is written until it is complete: ``.NAME.part.SUFFIX``.

    ``suffix`` replaces the final name's suffix at the end (a video named
    without one still needs a container's).

    Examples
    --------
    >>> partial_path("out/det.txt").as_posix()
    'out/.det.txt.part.txt'
    >>> partial_path("out/masks").name   # a name without a suffix
    '.masks.part'
    """
    path = Path(path)
    return path.with_name(f".{path.name}{PARTIAL_MARK}{path.suffix if suffix is None else suffix}")


class PartialFile:
    """The partial file of one output: created, then committed to the final name or discarded.

    Parameters
    ----------
    final : str or PathLike
        The output's final name.
    parents : bool, default True
        Create the final name's folder if it is missing.
    suffix : str, optional
        Suffix of the partial file (:func:`partial_path`).

    Attributes
    ----------
    final : Path
        The final name.
    path : Path
        The partial file, :func:`partial_path` of ``final``.

    Examples
    --------
    >>> import tempfile
    >>> final = Path(tempfile.mkdtemp()) / "a" / "log.txt"
    >>> partial = PartialFile(final)
    >>> with partial.open("w") as file:
    ...     _ = file.write("line\\n")
    >>> final.exists(), partial.path.exists()
    (False, True)
    >>> partial.commit() == final, partial.path.exists(), final.read_text()
    (True, False, 'line\\n')
    """

    def __init__(self, final: str | os.PathLike[str], *, parents: bool = True,
                 suffix: str | None = None) -> None:
        self.final = Path(final)
        self.path = partial_path(self.final, suffix)
        if parents:
            self.final.parent.mkdir(parents=True, exist_ok=True)

    def create(self) -> int:
        """Create (or empty, if a killed run left it) the partial file; an fd open for writing."""
        return os.open(self.path, _FLAGS, 0o666)

    def open(self, mode: str = "wb", **kwargs: Any) -> IO[Any]:
        """:meth:`create` the partial file and open it with :func:`open`'s ``mode`` and keywords."""
        fd = self.create()
        try:
            return os.fdopen(fd, mode, **kwargs)
        except BaseException:
            os.close(fd)
            raise

    def commit(self) -> Path:
        """Rename the partial file to the final name (replacing it); return the final name."""
        os.replace(self.path, self.final)
        return self.final

    def discard(self) -> None:
        """Remove the partial file, if there is one; the final name is left as it was."""
        self.path.unlink(missing_ok=True)

    def __repr__(self) -> str:
        return f"PartialFile({str(self.final)!r})"


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike[str], mode: str = "wb", *, fsync: bool = False,
                parents: bool = True, **kwargs: Any) -> Iterator[IO[Any]]:
    """A file for ``path`` that takes the final name only if the block completes.

    Leaving the block normally flushes (and with ``fsync`` forces to disk)
    and renames; an exception removes the partial file and leaves ``path``
    as it was.

    Examples
    --------
    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "x.bin"
    >>> with atomic_open(path) as file:
    ...     _ = file.write(b"123")
    >>> path.read_bytes()
    b'123'
    >>> try:
    ...     with atomic_open(path) as file:
    ...         _ = file.write(b"half")
    ...         raise RuntimeError("interrupted")
    ... except RuntimeError:
    ...     pass
    >>> path.read_bytes(), sorted(p.name for p in path.parent.iterdir())
    (b'123', ['x.bin'])
    """
    partial = PartialFile(path, parents=parents)
    try:
        with partial.open(mode, **kwargs) as file:
            yield file
            file.flush()
            if fsync:
                os.fsync(file.fileno())
        partial.commit()
    except BaseException:
        partial.discard()
        raise


def write_atomic(path: str | os.PathLike[str], data: bytes | str, *,
                 fsync: bool = False) -> Path:
    """Write ``data`` (bytes, or text as UTF-8) to ``path`` through its partial file.

    Examples
    --------
    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "x.txt"
    >>> write_atomic(path, b"abc") == path, path.read_text()
    (True, 'abc')
    """
    if isinstance(data, str):
        data = data.encode("utf-8")
    with atomic_open(path, "wb", fsync=fsync) as file:
        file.write(data)
    return Path(path)


def write_json_atomic(path: os.PathLike[str] | str, document: Any) -> Path:
    """Write ``document`` as strict, indented JSON to ``path``, forced to disk, then rename.

    Examples
    --------
    >>> import tempfile
    >>> target = Path(tempfile.mkdtemp()) / "x.json"
    >>> _ = write_json_atomic(target, {"a": 1})
    >>> json.loads(target.read_text())
    {'a': 1}
    """
    text = json.dumps(document, indent=2, allow_nan=False) + "\n"
    return write_atomic(path, text, fsync=True)
