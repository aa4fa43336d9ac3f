"""SIGINT and SIGTERM as an exception that lets a run finalise its outputs.

Inside :func:`handle_signals` SIGINT and SIGTERM raise
:class:`~bgmix.errors.StopRequested` once in the main thread (later ones,
while outputs are being closed, are only recorded), so a run stops between
two Python operations and finalises; the exit status is ``128 + signal``
(130, 143). Inside :func:`critical` (writing one frame's outputs, closing
them) a signal is only recorded; :func:`check` raises it afterwards, so
every output holds the same frames and none is closed half-way.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from typing import Any

from bgmix.errors import StopRequested

__all__ = ["StopRequested", "check", "critical", "handle_signals"]


class _SignalState:
    """What the handlers of :func:`handle_signals` have seen."""

    def __init__(self) -> None:
        self.signum: int | None = None
        self.raised = False
        self._defer = 0

    def handler(self, signum: int, frame: Any) -> None:
        if self.signum is None:
            self.signum = signum
        if self._defer or self.raised:
            return
        self.raised = True
        raise StopRequested(signum)

    @contextlib.contextmanager
    def critical(self) -> Iterator[None]:
        self._defer += 1
        try:
            yield
        finally:
            self._defer -= 1

    def check(self) -> None:
        """Raise a signal recorded during a critical section (once)."""
        if self.signum is not None and not self.raised and not self._defer:
            self.raised = True
            raise StopRequested(self.signum)


_ACTIVE: list[_SignalState] = []


def critical() -> contextlib.AbstractContextManager[None]:
    """A block in which a signal is only recorded (raised by :func:`check` afterwards)."""
    return _ACTIVE[-1].critical() if _ACTIVE else contextlib.nullcontext()


def check() -> None:
    """Raise :class:`~bgmix.errors.StopRequested` for a signal recorded in a critical block."""
    if _ACTIVE:
        _ACTIVE[-1].check()


@contextlib.contextmanager
def handle_signals(*, ignore_after_stop: bool = False) -> Iterator[_SignalState]:
    """SIGINT and SIGTERM raise :class:`~bgmix.errors.StopRequested` (once) inside the block.

    Only the main thread can install handlers; elsewhere this does nothing.
    The previous handlers are restored on exit, unless a signal came and
    ``ignore_after_stop``: then both are ignored from then on (a program
    that is shutting down after a Ctrl-C).

    Examples
    --------
    >>> import os, time
    >>> with handle_signals():
    ...     try:
    ...         os.kill(os.getpid(), signal.SIGTERM)
    ...         time.sleep(1)
    ...     except StopRequested as stop:
    ...         print(stop.exit_code)
    143
    """
    state = _SignalState()
    if threading.current_thread() is not threading.main_thread():
        yield state
        return
    previous = {s: signal.signal(s, state.handler) for s in (signal.SIGINT, signal.SIGTERM)}
    _ACTIVE.append(state)
    try:
        yield state
    finally:
        _ACTIVE.remove(state)
        stopping = ignore_after_stop and state.signum is not None
        for s, handler in previous.items():
            signal.signal(s, signal.SIG_IGN if stopping else handler)
