"""bgmix.errors: one base class, the built-in exceptions each error also is, exit codes."""

from __future__ import annotations

import signal

import pytest

import bgmix
import bgmix.batch
import bgmix.io
from bgmix.errors import (EXIT_FAILURE, EXIT_INTERRUPTED, EXIT_USAGE, BgmixError, BgmixWarning,
                          DecodeWarning, OutputError, StopRequested, StreamLostError,
                          UnavailableMethodError, exit_code_for, one_line)


@pytest.mark.parametrize(("error", "builtin"), [
    (StreamLostError("lost"), ConnectionError),
    (OutputError("masks", "m.mkv", OSError(28, "No space left on device")), RuntimeError),
    (UnavailableMethodError("no cv2.bgsegm"), RuntimeError)])
def test_every_error_is_a_bgmix_error_and_its_builtin(error, builtin):
    assert isinstance(error, BgmixError) and isinstance(error, builtin)


def test_stop_requested_is_not_an_exception():
    stop = StopRequested(signal.SIGTERM)
    assert not isinstance(stop, Exception) and not isinstance(stop, BgmixError)
    assert (stop.signum, stop.exit_code, str(stop)) == (15, 143, "stopped by SIGTERM")


def test_warnings():
    assert issubclass(DecodeWarning, BgmixWarning) and issubclass(BgmixWarning, UserWarning)


def test_output_error_names_the_output_and_the_reason():
    error = OutputError("mot", "out/det.txt", OSError(28, "No space left on device"))
    assert str(error) == "cannot write the mot output out/det.txt: No space left on device"
    assert (error.name, error.path) == ("mot", "out/det.txt")


@pytest.mark.parametrize(("error", "code"), [
    (OutputError("masks", "m.mkv", OSError(13, "Permission denied")), EXIT_FAILURE),
    (RuntimeError("no encoder"), EXIT_FAILURE),
    (StreamLostError("lost camera 0"), EXIT_FAILURE),  # a ConnectionError, itself an OSError
    (ConnectionError("unreachable"), EXIT_FAILURE),
    (ValueError("bad parameter"), EXIT_USAGE),
    (TypeError("bad type"), EXIT_USAGE),
    (FileNotFoundError("missing"), EXIT_USAGE),
    (KeyboardInterrupt(), EXIT_INTERRUPTED),
    (StopRequested(signal.SIGINT), 130),
    (StopRequested(signal.SIGTERM), 143),
    (ZeroDivisionError("a bug"), EXIT_FAILURE)])
def test_exit_code_for(error, code):
    assert exit_code_for(error) == code


def test_one_line():
    assert one_line(FileNotFoundError(2, "No such file or directory", "a.mkv")) == \
        "No such file or directory: a.mkv"
    assert one_line(ValueError("first\n   second")) == "first second"
    assert one_line(KeyError()) == "KeyError"


def test_old_import_paths_still_work():
    assert bgmix.StreamLostError is bgmix.io.StreamLostError is StreamLostError
    assert bgmix.DecodeWarning is bgmix.io.DecodeWarning is DecodeWarning
    assert bgmix.batch.OutputError is OutputError and bgmix.batch.StopRequested is StopRequested
