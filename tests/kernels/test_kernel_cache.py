"""Numba's on-disk cache of the kernels is keyed on the whole kernels package.

Numba invalidates a cached function when its own file changes, not when a
helper it calls from another file does; bgmix adds a digest of every file
of ``bgmix/kernels`` to each kernel's key (``bgmix.kernels._config``).
"""

from __future__ import annotations

import importlib
import pkgutil
import shutil

import numpy as np
from numba.core.dispatcher import Dispatcher

import bgmix.kernels
from bgmix.kernels import _config


def kernel_dispatchers():
    for info in pkgutil.iter_modules(bgmix.kernels.__path__):
        module = importlib.import_module(f"bgmix.kernels.{info.name}")
        for name, value in vars(module).items():
            if isinstance(value, Dispatcher) and value.__module__ == module.__name__:
                yield f"{module.__name__}.{name}", value


def test_every_module_kernel_is_keyed_on_the_package():
    found = dict(kernel_dispatchers())
    assert len(found) > 30
    plain = [name for name, d in found.items() if not isinstance(d._cache, _config._KernelCache)]
    assert not plain, f"compiled with plain numba.njit (cache keyed on its own file only): {plain}"


def test_digest_follows_every_file_of_the_package(tmp_path):
    copy = tmp_path / "kernels"
    shutil.copytree(_config.KERNELS_DIR, copy, ignore=shutil.ignore_patterns("__pycache__"))
    assert _config.kernels_digest(copy) == _config.kernels_digest()
    helper = copy / "_common.py"
    helper.write_bytes(helper.read_bytes() + b"\n# a helper changed\n")
    assert _config.kernels_digest(copy) != _config.kernels_digest()


def test_cache_key_of_a_kernel_and_of_a_closure_holds_the_digest():
    from bgmix import BackgroundMixture
    from bgmix.kernels.cleanup import majority_filter

    mask = np.zeros((4, 5), np.uint8)
    majority_filter(mask, 3, np.zeros(5, np.int32), np.empty_like(mask))
    model = BackgroundMixture.from_preset("mog2", n_threads=1)
    model.apply(np.zeros((4, 5, 3), np.uint8))
    update = model.__dict__["_steady"].kernel          # the factory-built update kernel
    for dispatcher in (majority_filter, update):
        signature = dispatcher.signatures[0]
        key = dispatcher._cache._index_key(signature, dispatcher.targetctx.codegen())
        assert _config.kernels_digest() in key[-1]
