"""Tell a waiting user that the kernels are being compiled.

The first ``apply`` on a machine compiles the model's kernels (several
seconds); afterwards Numba loads them from its disk cache in well under a
second. A command-line run that shows nothing meanwhile looks hung, so the
CLI says "compiling kernels (first run only)" while it happens.

The signal is Numba's own ``numba:compile`` event, which Numba fires only
when it compiles, never when it loads a cached kernel: the notice never shows
on a warm machine, and a slow first frame for another reason (a network
stream, an EM bootstrap) is not mistaken for compilation.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from numba.core import event

COMPILING_MESSAGE = "compiling kernels (first run only)"


class _FirstCompile(event.Listener):
    def __init__(self, on_start: Callable[[], None]) -> None:
        self._on_start = on_start
        self._lock = threading.Lock()
        self.started_at: float | None = None

    def on_start(self, _event: event.Event) -> None:
        with self._lock:
            if self.started_at is not None:
                return
            self.started_at = time.monotonic()
        self._on_start()

    def on_end(self, _event: event.Event) -> None:
        pass


@contextmanager
def notify_first_compile(on_start: Callable[[], None]) -> Iterator[_FirstCompile]:
    """Call ``on_start()`` once, when Numba starts compiling inside the block.

    Parameters
    ----------
    on_start : callable
        Called with no arguments from the compiling thread, at most once.

    Yields
    ------
    listener
        Its ``started_at`` is the ``time.monotonic()`` of the first
        compilation, or ``None`` if nothing was compiled.

    Examples
    --------
    >>> import numba
    >>> seen = []
    >>> with notify_first_compile(lambda: seen.append(True)) as compiling:
    ...     _ = numba.njit(lambda x: x + 1)(1)
    >>> seen, compiling.started_at is not None
    ([True], True)
    """
    listener = _FirstCompile(on_start)
    with event.install_listener("numba:compile", listener):
        yield listener
