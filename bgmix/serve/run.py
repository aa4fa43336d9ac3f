"""Run a source through the pipeline with a live view: :func:`serve_run`.

This is ``bgmix run SOURCE --serve [HOST:]PORT`` as a function: the same
:func:`bgmix.run.run_video` loop (its outputs, its Ctrl-C handling: every
output is finalised), with a :class:`~bgmix.serve.server.LiveServer`
publishing each frame and applying parameter changes between frames.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from bgmix.serve.server import DEFAULT_HOST, LiveServer, non_loopback_warning

__all__ = ["serve_run"]


def _warn(message: str) -> None:
    print(f"bgmix: warning: {message}", file=sys.stderr, flush=True)


def serve_run(source: Any, options: Any = None, *, host: str = DEFAULT_HOST, port: int = 0,
              token: str | None = None,
              on_ready: Callable[[LiveServer], None] | None = None,
              on_frame: Callable[[Any, Any], bool | None] | None = None,
              on_start: Callable[[Any], None] | None = None,
              should_stop: Callable[[], bool] | None = None,
              warn: Callable[[str], None] | None = _warn,
              **server_options: Any) -> Any:
    """Run ``source`` into the outputs of ``options`` while serving a live view.

    Parameters
    ----------
    source : anything :func:`bgmix.run.run_video` takes
        A file, a camera, an MJPEG/RTSP URL, an array, an opened FrameSource.
    options : bgmix.run.RunOptions, optional
        Model parameters, clean-up and outputs (none by default).
    host, port, token :
        Where the :class:`LiveServer` listens (port 0: a free one) and its token.
    on_ready : callable, optional
        ``on_ready(server)`` once it listens, before the source is opened
        (``server.url`` is known).
    on_frame, on_start, should_stop : callable, optional
        As for :func:`~bgmix.run.run_video`; ``on_frame`` runs after the
        server's own per-frame work and may return True to stop the run.
    warn : callable, optional
        Gets the warning for a server reachable from other machines
        (default: printed on stderr; None: silent).
    **server_options
        Keywords of :class:`LiveServer` (``max_fps``, ``background_fps``, ...).

    Returns
    -------
    bgmix.run.VideoReport
        The run's report; the server is closed when this returns.
    """
    from bgmix.run import RunOptions, run_video

    if options is None:
        options = RunOptions()
    server = LiveServer(host, port, token=token, model=dict(options.model_params),
                        postprocess=options.postprocess, **server_options)
    message = non_loopback_warning(host, port, token)
    if message is not None and warn is not None:
        warn(message)
    server.start()
    try:
        if on_ready is not None:
            on_ready(server)

        def started(processing: Any) -> None:
            server.on_start(processing)
            if on_start is not None:
                on_start(processing)

        def frame(result: Any, processing: Any) -> bool:
            server.on_frame(result, processing)
            return bool(on_frame(result, processing)) if on_frame is not None else False

        return run_video(source, options, on_frame=frame, on_start=started,
                         should_stop=should_stop)
    finally:
        server.close()
