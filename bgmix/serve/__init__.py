"""A live view in the browser: watch a run's masks and tune its parameters.

:class:`LiveServer` serves a page, MJPEG streams of the overlay, the mask,
the background and the probability, the statistics and the parameters
(JSON), and the current settings as a ``bgmix run --config`` file, while
the pipeline runs; :func:`serve_run` is ``bgmix run --serve`` as a function.

Examples
--------
>>> from bgmix.serve import parse_serve_address
>>> parse_serve_address("8080")
('127.0.0.1', 8080)
"""

from bgmix.serve.params import config_toml, settings_from, validate_changes
from bgmix.serve.run import serve_run
from bgmix.serve.server import (DEFAULT_HOST, VIEWS, LiveServer, is_loopback,
                                non_loopback_warning, parse_serve_address)

__all__ = ["DEFAULT_HOST", "VIEWS", "LiveServer", "config_toml", "is_loopback",
           "non_loopback_warning", "parse_serve_address", "serve_run", "settings_from",
           "validate_changes"]
