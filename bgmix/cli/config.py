"""``--config FILE.toml``: options read from a TOML file, command-line flags first."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any


def _config_key(action: argparse.Action) -> str | None:
    longs = [o for o in action.option_strings if o.startswith("--") and not o.startswith("--no-")]
    return longs[0][2:].replace("-", "_") if longs else None


def _config_value(action: argparse.Action, key: str, value: Any, where: str) -> Any:
    def bad(expected: str) -> ValueError:
        return ValueError(f"{where}: {key} must be {expected}, got {value!r}")

    if isinstance(action, argparse._AppendAction):  # a repeatable flag: one value or a list
        items = value if isinstance(value, list) else [value]
        if not all(isinstance(item, str) for item in items):
            raise bad("a string or a list of strings")
        return [_config_value(_single(action), key, item, where) for item in items]
    if isinstance(value, (dict, list)):
        raise bad("a single value")
    if action.nargs == "?" and action.const is True:  # an output
        if value is True or (isinstance(value, str) and value):
            return value
        if value is False:
            return None
        raise bad("a path or true")
    if action.nargs == 0 or isinstance(action, argparse.BooleanOptionalAction):
        if not isinstance(value, bool):
            raise bad("true or false")
        return value
    if isinstance(value, bool):
        raise bad("a number or a string" if action.type is not None else "a string")
    converted: Any = value
    if action.type is not None:
        try:
            converted = action.type(str(value))
        except (argparse.ArgumentTypeError, ValueError) as exc:
            raise ValueError(f"{where}: {key}: {exc}") from None
    if action.choices is not None and converted not in action.choices:
        raise bad("one of " + ", ".join(map(str, action.choices)))
    return converted


def _single(action: argparse.Action) -> argparse.Action:
    return argparse.Action(action.option_strings, action.dest, type=action.type,
                           choices=action.choices)


def read_config(path: str | os.PathLike[str], parser: argparse.ArgumentParser) -> dict[str, Any]:
    """Options from a TOML file, as ``{argparse dest: value}`` for ``parser``.

    Keys are the long options of ``parser`` with ``_`` for ``-``
    (``var_threshold``, ``max_frames``, ``mot``, ``fill_holes``); booleans
    are ``true``/``false``; an output is a path or ``true`` for its default
    name; a repeatable flag (``zone``) takes a string or a list of them.
    Zones may also be a ``[zones]`` table of ``name = [x1, y1, x2, y2, ...]``
    (:func:`bgmix.zones.zones_from_config`). An unknown key or a bad value
    raises a ValueError naming the key and the file.

    Examples
    --------
    >>> import tempfile
    >>> from bgmix.cli import build_parser
    >>> config = Path(tempfile.mkdtemp()) / "settings.toml"
    >>> _ = config.write_text("history = 300\\nmot = true\\ndetect_shadows = false\\n")
    >>> run = subparser(build_parser(), "run")
    >>> sorted(read_config(config, run).items())
    [('mot', True), ('param:detect_shadows', False), ('param:history', 300)]
    >>> _ = config.write_text("histroy = 300\\n")
    >>> read_config(config, run)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: ...settings.toml: unknown key 'histroy' (known keys: ...)
    >>> _ = config.write_text("zone = 'door=0,0,9,0,9,9'\\n[zones]\\nlane = [0, 20, 30, 20, 30, 29]\\n")
    >>> read_config(config, run)
    {'zone': ['door=0,0,9,0,9,9', 'lane=0,20,30,20,30,29']}
    """
    import tomllib

    path = Path(path)
    try:
        with open(path, "rb") as file:
            document = tomllib.load(file)
    except FileNotFoundError:
        raise FileNotFoundError(f"config file not found: {path}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{path}: not valid TOML: {exc}") from None
    actions = {}
    for action in parser._actions:
        key = _config_key(action)
        if key is not None and key not in {"help", "config", "version"}:
            actions[key] = action
    values: dict[str, Any] = {}
    for key, value in document.items():
        if key == "zones" and "zone" in actions:
            from bgmix.zones import zones_from_config

            values.setdefault("zone", []).extend(
                zone.to_text() for zone in zones_from_config(value, where=str(path)))
            continue
        action = actions.get(key)
        if action is None:
            raise ValueError(f"{path}: unknown key {key!r} (known keys: "
                             f"{', '.join(sorted(actions))})")
        converted = _config_value(action, key, value, str(path))
        if isinstance(action, argparse._AppendAction):
            values[action.dest] = converted + values.get(action.dest, [])
        else:
            values[action.dest] = converted
    return values


def subparser(parser: argparse.ArgumentParser, name: str) -> argparse.ArgumentParser:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return action.choices[name]
    raise KeyError(name)  # pragma: no cover


def apply_config(args: argparse.Namespace, parser: argparse.ArgumentParser) -> None:
    """Fill options not given on the command line from ``--config``."""
    if getattr(args, "config", None) is None:
        return
    for dest, value in read_config(args.config, parser).items():
        if getattr(args, dest, None) is None:
            setattr(args, dest, value)
