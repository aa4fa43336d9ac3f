"""Every exception and warning bgmix defines, and the exit status each error gives.

bgmix raises the built-in exceptions where they say what happened (a
``ValueError`` for a bad parameter or a frame the model refuses, a
``FileNotFoundError`` for a missing file, ...). Its own errors derive from
:class:`BgmixError` *and* from the built-in exception they refine, so
``except ConnectionError`` still catches a :class:`StreamLostError`:

* :class:`StreamLostError`, a ``ConnectionError``: a live source lost its
  stream and could not re-open it;
* :class:`OutputError`, a ``RuntimeError``: an output cannot be opened,
  written or finished (disk full, no permission);
* :class:`UnavailableMethodError`, a ``RuntimeError``: ``bgmix eval`` is
  asked for a method this OpenCV lacks.

:class:`StopRequested` is the one exception outside :class:`BgmixError`: a
SIGINT or SIGTERM turned into an exception (:mod:`bgmix.signals`), a
``BaseException`` like ``KeyboardInterrupt`` so that ``except Exception``
does not swallow it.

Warnings derive from :class:`BgmixWarning` (a ``UserWarning``).

Exit status
-----------
:func:`exit_code_for` is the one mapping of an error to the status of the
``bgmix`` command and of :func:`bgmix.run.run_video`'s report:
:data:`EXIT_FAILURE` (1) for a failure of the run (an output, the stream, a
missing encoder), :data:`EXIT_USAGE` (2) for bad arguments or input, and
``128 + signal`` for an interruption.

Examples
--------
>>> exit_code_for(StreamLostError("lost camera 0")), exit_code_for(ValueError("bad"))
(1, 2)
>>> one_line(FileNotFoundError(2, "No such file or directory", "a.mkv"))
'No such file or directory: a.mkv'
"""

from __future__ import annotations

import os
import signal

__all__ = [
    "EXIT_FAILURE",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_USAGE",
    "BgmixError",
    "BgmixWarning",
    "DecodeWarning",
    "OutputError",
    "StopRequested",
    "StreamLostError",
    "UnavailableMethodError",
    "exit_code_for",
    "one_line",
]

EXIT_OK = 0
EXIT_FAILURE = 1
"""A runtime failure: an output could not be written, an encoder is missing, a stream was
lost for good, a batch video failed."""
EXIT_USAGE = 2
"""Bad arguments or bad input: a missing file, not a video, a parameter out of range."""
EXIT_INTERRUPTED = 128 + signal.SIGINT
"""Ctrl-C (130); SIGTERM gives 143 (``128 + signum``, :attr:`StopRequested.exit_code`)."""


class BgmixError(Exception):
    """Base class of the exceptions bgmix defines (each also derives from a built-in one)."""


class StreamLostError(BgmixError, ConnectionError):
    """A live source lost its camera or stream and could not re-open it."""


class OutputError(BgmixError, RuntimeError):
    """An output could not be opened, written or finished (disk full, no permission, ...).

    Attributes
    ----------
    name : str
        The output's name (``"masks"``, ``"mot"``, ``"done record"`` ...).
    path : str
        Its final path.
    cause : BaseException
        What the writer raised.
    """

    def __init__(self, name: str, path: os.PathLike[str] | str, cause: BaseException) -> None:
        self.name = name
        self.path = str(path)
        self.cause = cause
        reason = cause.strerror if isinstance(cause, OSError) and cause.strerror else str(cause)
        super().__init__(f"cannot write the {name} output {self.path}: {reason}")


class UnavailableMethodError(BgmixError, RuntimeError):
    """A known method that this installation cannot run (e.g. no ``cv2.bgsegm``)."""


class StopRequested(BaseException):
    """Raised in the main thread by SIGINT/SIGTERM under :func:`bgmix.signals.handle_signals`.

    A ``BaseException`` (like ``KeyboardInterrupt``) so ``except Exception``
    clauses do not swallow it. ``exit_code`` is ``128 + signum``.
    """

    def __init__(self, signum: int = signal.SIGINT) -> None:
        self.signum = int(signum)
        super().__init__(f"stopped by {signal.Signals(self.signum).name}")

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


class BgmixWarning(UserWarning):
    """Base class of the warnings bgmix emits."""


class DecodeWarning(BgmixWarning):
    """A video ended before the frame count its container announces.

    Emitted (by the consumer's thread, from ``next(source)``) when decoding
    stops early: a truncated file, or corrupted bytes the decoder cannot get
    past. The frames decoded before are kept; iteration then ends normally.
    """


def exit_code_for(exc: BaseException) -> int:
    """The exit status an error gives: 1 a failure of the run, 2 bad arguments or input.

    Interruptions give ``128 + signal``. Anything else (a bug) is a failure.

    Examples
    --------
    >>> exit_code_for(OutputError("masks", "m.mkv", OSError(28, "No space left on device")))
    1
    >>> exit_code_for(FileNotFoundError("no such file")), exit_code_for(StopRequested(15))
    (2, 143)
    """
    if isinstance(exc, StopRequested):
        return exc.exit_code
    if isinstance(exc, KeyboardInterrupt):
        return EXIT_INTERRUPTED
    # A stream that cannot be reached or is lost is a failure of the run, not
    # of how bgmix was called (ConnectionError is an OSError: test it first).
    if isinstance(exc, (RuntimeError, ConnectionError)):
        return EXIT_FAILURE
    if isinstance(exc, (ValueError, TypeError, OSError)):
        return EXIT_USAGE
    return EXIT_FAILURE


def one_line(exc: BaseException) -> str:
    """An exception as one line of text (OSError as ``strerror: filename``).

    Examples
    --------
    >>> one_line(ValueError("two\\n  lines"))
    'two lines'
    """
    text = str(exc) or type(exc).__name__
    if isinstance(exc, OSError) and not isinstance(exc, OutputError) and exc.filename \
            and exc.strerror:
        text = f"{exc.strerror}: {exc.filename}"
    return " ".join(text.split())
