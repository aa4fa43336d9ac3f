"""The settings a live view tunes: one flat namespace, checked by the model's own code.

The keys are those of ``bgmix run --config FILE.toml``: every
:class:`~bgmix.model.BackgroundMixture` parameter under its own name
(``var_threshold``, ``history``, ``detect_shadows``, ...) and the clean-up
options under their long option names (``median``, ``open``, ``close``,
``fill_holes``, ``min_area``, ``shadows = "keep" | "fold"``). So what
``GET /api/params`` returns can be posted back, and what
:func:`config_toml` writes is read back by ``bgmix run --config``.

A change is checked by building what it would run (a new model with the
changed parameters, validated by :meth:`BackgroundMixture._validated`, and
a new :class:`~bgmix.postprocess.Postprocess`) before anything is queued:
a bad value raises the model's own ``ValueError`` and changes nothing.
"""

from __future__ import annotations

import json
import math
import numbers
from collections.abc import Mapping
from typing import Any

from bgmix.model import BackgroundMixture
from bgmix.postprocess import Postprocess

__all__ = ["CLEANUP_KEYS", "MODEL_KEYS", "cleanup_settings", "config_toml", "postprocess_from",
           "settings_from", "split_settings", "validate_changes"]

MODEL_KEYS: tuple[str, ...] = tuple(BackgroundMixture._param_names())
"""Every BackgroundMixture constructor parameter, in the constructor's order."""

# config key -> Postprocess field (the CLI's --open/--close are Postprocess.opening/closing)
_CLEANUP_FIELDS = {"median": "median", "open": "opening", "close": "closing",
                   "fill_holes": "fill_holes", "min_area": "min_area", "shadows": "shadows"}
CLEANUP_KEYS: tuple[str, ...] = tuple(_CLEANUP_FIELDS)
"""The clean-up settings, under the names ``bgmix run`` and its config file use."""

_CLEANUP_DEFAULTS = {"median": 0, "open": 0, "close": 0, "fill_holes": False, "min_area": 0,
                     "shadows": "keep"}
# Postprocess's shadows values under the CLI's names (--shadows keep|fold)
_SHADOWS_TO_CLI = {"keep": "keep", "background": "fold"}
_SHADOWS_FROM_CLI = {"keep": "keep", "fold": "background"}


def cleanup_settings(postprocess: Postprocess | None) -> dict[str, Any]:
    """The clean-up keys of ``postprocess`` (the defaults for None).

    Examples
    --------
    >>> cleanup_settings(Postprocess(median=5, opening=3, shadows="background"))
    {'median': 5, 'open': 3, 'close': 0, 'fill_holes': False, 'min_area': 0, 'shadows': 'fold'}
    """
    if postprocess is None:
        return dict(_CLEANUP_DEFAULTS)
    if not isinstance(postprocess, Postprocess):
        raise ValueError(f"postprocess must be a Postprocess or None, got "
                         f"{type(postprocess).__name__}")
    values = {key: getattr(postprocess, name) for key, name in _CLEANUP_FIELDS.items()}
    values["shadows"] = _SHADOWS_TO_CLI[values["shadows"]]
    return values


def settings_from(model: BackgroundMixture | Mapping[str, Any] | None = None,
                  postprocess: Postprocess | None = None) -> dict[str, Any]:
    """The flat settings of a model (or its parameters) and a clean-up.

    Examples
    --------
    >>> settings = settings_from(BackgroundMixture(history=200), Postprocess(min_area=20))
    >>> settings["history"], settings["min_area"], settings["shadows"]
    (200, 20, 'keep')
    """
    if model is None:
        params = BackgroundMixture().get_params()
    elif isinstance(model, BackgroundMixture):
        params = model.get_params()
    else:
        params = BackgroundMixture(**dict(model)).get_params()
    return {**params, **cleanup_settings(postprocess)}


def postprocess_from(settings: Mapping[str, Any]) -> Postprocess | None:
    """The Postprocess of the clean-up keys, None when it changes nothing.

    Raises Postprocess's ValueError for a bad value.

    Examples
    --------
    >>> postprocess_from({"median": 5, "shadows": "fold"})
    Postprocess(median=5, opening=0, closing=0, fill_holes=False, min_area=0, shadows='background', connectivity=8)
    >>> postprocess_from({"median": 0}) is None
    True
    """
    values = {**_CLEANUP_DEFAULTS, **{k: v for k, v in settings.items() if k in _CLEANUP_FIELDS}}
    shadows = values["shadows"]
    if not isinstance(shadows, str) or shadows not in _SHADOWS_FROM_CLI:
        raise ValueError(f"shadows must be 'keep' or 'fold', got {shadows!r}")
    kwargs = {_CLEANUP_FIELDS[k]: v for k, v in values.items()}
    kwargs["shadows"] = _SHADOWS_FROM_CLI[shadows]
    postprocess = Postprocess(**kwargs)
    return None if postprocess.is_identity else postprocess


def split_settings(settings: Mapping[str, Any]) -> tuple[dict[str, Any], Postprocess | None]:
    """``(model parameters, Postprocess or None)`` of flat settings."""
    model = {k: v for k, v in settings.items() if k not in _CLEANUP_FIELDS}
    return model, postprocess_from(settings)


def validate_changes(current: Mapping[str, Any], changes: Any) -> dict[str, Any]:
    """The settings ``current`` updated with ``changes``, once both parts check out.

    Parameters
    ----------
    current : mapping
        Flat settings (:func:`settings_from`).
    changes : mapping
        Some of the keys with new values (a decoded JSON object).

    Returns
    -------
    dict
        The whole new settings.

    Raises
    ------
    ValueError
        ``changes`` is not an object; an unknown key (the model's message,
        with the clean-up keys added); a bad value (the message of the
        model's or Postprocess's own check).

    Examples
    --------
    >>> current = settings_from()
    >>> validate_changes(current, {"var_threshold": 25, "min_area": 10})["var_threshold"]
    25
    >>> validate_changes(current, {"var_threshold": -1})
    Traceback (most recent call last):
    ...
    ValueError: var_threshold must be in (0, inf), got -1.0
    """
    if not isinstance(changes, Mapping):
        raise ValueError(f"the parameters must be a JSON object of name: value, got "
                         f"{type(changes).__name__}")
    if not changes:
        raise ValueError("no parameter given: send a JSON object such as {\"var_threshold\": 25}")
    for key, value in changes.items():
        if isinstance(value, float) and not math.isfinite(value):  # pragma: no cover - JSON has none
            raise ValueError(f"{key} must be a finite number, got {value!r}")
        if isinstance(value, (dict, list)):
            raise ValueError(f"{key} must be a single value, got {json.dumps(value)[:80]}")
    model_changes = {k: v for k, v in changes.items() if k not in _CLEANUP_FIELDS}
    model_current = {k: v for k, v in current.items() if k in MODEL_KEYS}
    candidate = BackgroundMixture(**model_current)
    try:
        candidate.set_params(**model_changes)
    except ValueError as exc:
        if str(exc).startswith("unknown parameter"):
            raise ValueError(f"{exc}; clean-up: {sorted(CLEANUP_KEYS)}") from None
        raise
    candidate._validated()  # the model's own checks, on a model that never runs
    updated = {**current, **changes}
    postprocess_from(updated)  # Postprocess's own checks
    return updated


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real):
        text = repr(float(value))
        return text if any(c in text for c in ".en") else text + ".0"
    if isinstance(value, str):
        return json.dumps(value)  # JSON string escapes are TOML basic-string escapes
    raise ValueError(f"cannot write {value!r} ({type(value).__name__}) to TOML")


def config_toml(settings: Mapping[str, Any], *, zones: list[Any] | None = None,
                zones_key: bool = False, header: str | None = None) -> str:
    """The settings as a ``bgmix run --config`` file.

    Every model parameter is written (None, which TOML cannot hold, is left
    out: it is each such parameter's default), then the clean-up keys.
    ``zones`` (:class:`bgmix.zones.Zone` objects) are written as
    ``zones = ["name=x1,y1,..."]`` when ``zones_key`` says ``bgmix run
    --config`` reads that key, and as a comment otherwise.

    Examples
    --------
    >>> text = config_toml(settings_from(BackgroundMixture(history=300)))
    >>> import tomllib
    >>> values = tomllib.loads(text)
    >>> values["history"], values["var_threshold"], values["shadows"]
    (300, 12.0, 'keep')
    """
    lines = []
    if header:
        lines.extend(f"# {line}" if line else "#" for line in header.splitlines())
    lines.append("# model parameters (BackgroundMixture)")
    for key in MODEL_KEYS:
        value = settings.get(key)
        if value is not None:
            lines.append(f"{key} = {_toml_value(value)}")
    lines.append("")
    lines.append("# mask clean-up (--median, --open, --close, --fill-holes, --min-area, --shadows)")
    for key in CLEANUP_KEYS:
        lines.append(f"{key} = {_toml_value(settings.get(key, _CLEANUP_DEFAULTS[key]))}")
    if zones:
        texts = ", ".join(json.dumps(zone.to_text()) for zone in zones)
        lines.append("")
        if zones_key:
            lines.append(f"zones = [{texts}]")
        else:
            lines.append("# zones drawn in the live view (this bgmix run --config does not read "
                         "zones):")
            lines.append(f"# zones = [{texts}]")
    return "\n".join(lines) + "\n"
