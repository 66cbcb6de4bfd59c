"""Declared types and ranges of a report's parameters, checked before its kernel starts.

A notebook may have a schema beside it, ``<name>.schema.yaml``: one entry per name of its
``parameters`` cell, e.g. ``sentinel_budget: {type: int, min: 2}``.  :func:`check_parameters`
checks every value -- the cell's defaults, then what the caller gives -- and every input
path, and raises :class:`ParameterError` with one line naming the parameter, what it
expected and what it got, and for a missing input which command makes it.  A wrong value
then costs a second, not a kernel start-up and the cells before the one that fails.

Entry keys:

- ``type``: ``int``, ``float`` (an int is accepted), ``bool``, ``str``, ``path`` (written,
  or read only when present: not checked), ``file`` / ``dir`` (must exist), ``study``
  (a study name: ``<dir>/<name>.parquet`` must exist, ``dir`` naming the parameter that
  holds the folder) or ``list`` (``items`` is the entry of every item, ``min_len``);
- ``min``, ``max``: inclusive bounds, exclusive with ``exclusive: true``; ``choices``;
- ``nullable: true`` allows ``None``; ``made_by``: the command that makes a missing input.

Written by hand rather than with a schema library: the checks are few and the messages,
which name the stage that makes a missing input, are the point.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

__all__ = ["ParameterError", "check_parameters", "load_schema"]

_TYPES = {"int", "float", "bool", "str", "path", "file", "dir", "study", "list"}
_KEYS = {"type", "min", "max", "exclusive", "choices", "nullable", "made_by", "dir", "items"}
_KEYS_LIST = {"min_len"}


class ParameterError(ValueError):
    """A report parameter has the wrong type or range, or names a missing input.

    The message is one line: the parameter, what it expected, what it got, and for a
    missing input the command that makes it.
    """


def _schema_path(notebook: Path) -> Path:
    return notebook.with_suffix(".schema.yaml")


def load_schema(notebook: str | Path) -> dict[str, dict[str, Any]] | None:
    """The schema beside ``notebook`` (``<name>.schema.yaml``), checked; None without one.

    Parameters
    ----------
    notebook : str or Path
        The ``.ipynb`` file.

    Returns
    -------
    dict or None
        Parameter name -> entry (see the module docstring).

    Raises
    ------
    ValueError
        If the schema is not a mapping of entries with known keys and types.
    """
    from .._io import load_yaml

    path = _schema_path(Path(notebook))
    if not path.is_file():
        return None
    data = load_yaml(path.read_text(encoding="utf-8")) or {}
    if not isinstance(data, dict):
        raise ValueError(f"Schema {str(path)!r} must be a mapping of parameter names to entries.")
    for name, entry in data.items():
        _check_entry(path, str(name), entry)
    return data


def _check_entry(path: Path, name: str, entry: Any) -> None:
    allowed = _KEYS | (
        _KEYS_LIST if isinstance(entry, dict) and entry.get("type") == "list" else set()
    )
    if not isinstance(entry, dict) or entry.get("type") not in _TYPES or set(entry) - allowed:
        raise ValueError(
            f"Schema {str(path)!r}, entry {name!r}: must be a mapping with 'type' one of "
            f"{sorted(_TYPES)} and keys from {sorted(allowed)}. Got {entry!r}."
        )
    if entry["type"] == "list":
        _check_entry(path, f"{name}[]", entry.get("items", {"type": "str"}))


def _expected(entry: Mapping[str, Any]) -> str:
    """What an entry accepts, in words: ``an integer >= 2``."""
    kind = entry["type"]
    words = {
        "int": "an integer",
        "float": "a number",
        "bool": "true or false",
        "str": "a string",
        "path": "a path",
        "file": "the path of an existing file",
        "dir": "the path of an existing folder",
        "study": "the name of a study",
    }
    if kind == "list":
        items = _expected(entry.get("items", {"type": "str"}))
        text = f"a list of {entry.get('min_len', 0)} or more items, each {items}"
    else:
        text = words[kind]
    low, high, strict = entry.get("min"), entry.get("max"), entry.get("exclusive", False)
    if low is not None and high is not None:
        text += f" in {'(' if strict else '['}{low}, {high}{')' if strict else ']'}"
    elif low is not None:
        text += f" {'>' if strict else '>='} {low}"
    elif high is not None:
        text += f" {'<' if strict else '<='} {high}"
    if "choices" in entry:
        text += f" (one of {', '.join(map(str, entry['choices']))})"
    return text + (", or null" if entry.get("nullable") else "")


def _type_ok(kind: str, value: Any) -> bool:
    if kind == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "float":
        return (
            isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
        )
    if kind == "bool":
        return isinstance(value, bool)
    if kind == "list":
        return isinstance(value, list)
    return isinstance(value, str)  # str, path, file, dir, study


def _in_range(entry: Mapping[str, Any], value: Any) -> bool:
    if "choices" in entry and value not in entry["choices"]:
        return False
    if entry["type"] not in ("int", "float"):
        return True
    strict = entry.get("exclusive", False)
    low, high = entry.get("min"), entry.get("max")
    below = low is not None and (value <= low if strict else value < low)
    above = high is not None and (value >= high if strict else value > high)
    return not (below or above)


def _value_error(entry: Mapping[str, Any], value: Any, label: str) -> str | None:
    """The message when ``value`` has the wrong type or range, else None."""
    if value is None and entry.get("nullable"):
        return None
    ok = _type_ok(entry["type"], value) and _in_range(entry, value)
    if ok and entry["type"] == "list":
        ok = len(value) >= entry.get("min_len", 0)
        items = entry.get("items", {"type": "str"})
        bad = next((v for v in value if _value_error(items, v, label)), None) if ok else None
        if bad is not None:
            return (
                f"{label} must be {_expected(entry)}; got the item {bad!r} ({type(bad).__name__})."
            )
    if ok:
        return None
    return f"{label} must be {_expected(entry)}; got {value!r} ({type(value).__name__})."


def _made_by(entry: Mapping[str, Any]) -> str:
    return f"; make it with {entry['made_by']} first" if entry.get("made_by") else ""


def _input_error(
    entry: Mapping[str, Any], value: Any, label: str, values: Mapping[str, Any], cwd: Path
) -> str | None:
    """The message when an input named by ``value`` does not exist, else None."""
    kind = entry["type"]
    if kind == "list":
        items = entry.get("items", {"type": "str"})
        return next((e for v in value if (e := _input_error(items, v, label, values, cwd))), None)
    if kind in ("file", "dir"):
        path = cwd / str(value)
        if path.is_file() if kind == "file" else path.is_dir():
            return None
        return f"{label} names {value!r}, which is not an existing {kind}{_made_by(entry)}."
    if kind == "study":
        folder = str(values.get(entry.get("dir", ""), "."))
        if (cwd / folder / f"{value}.parquet").is_file():
            return None
        found = sorted(p.stem for p in (cwd / folder).glob("*.parquet"))
        return (
            f"{label} names study {value!r}, but {folder}/{value}.parquet does not exist "
            f"(studies there: {', '.join(found) or 'none'}); run `ardlib study run --only "
            f"{value}` or `dvc repro studies` first."
        )
    return None


def _defaults(notebook: Path) -> dict[str, Any]:
    """The parameters cell's defaults that are literals (others are left unchecked)."""
    from ._run import notebook_parameters

    out = {}
    for name, text in notebook_parameters(notebook).items():
        try:
            out[name] = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            continue
    return out


def check_parameters(
    notebook: str | Path, parameters: Mapping[str, Any], *, cwd: str | Path = "."
) -> dict[str, Any]:
    """Check a report's parameters against the schema beside its notebook.

    Parameters
    ----------
    notebook : str or Path
        The ``.ipynb`` file; without ``<name>.schema.yaml`` beside it nothing is checked.
    parameters : mapping
        The values the run injects (names of the parameters cell).
    cwd : str or Path, default "."
        The kernel's working directory: input paths are relative to it.

    Returns
    -------
    dict
        Every value the notebook will see (literal defaults overridden by ``parameters``).

    Raises
    ------
    ParameterError
        Naming the first parameter with a wrong type or range, or a missing input; types
        and ranges of every parameter are checked before any input path.
    """
    nb = Path(notebook)
    values = {**_defaults(nb), **parameters}
    schema = load_schema(nb)
    if schema is None:
        return values
    unknown = sorted(set(values) - set(schema))
    if unknown:  # a parameter the schema forgot: the schema is out of date
        raise ValueError(
            f"Schema {str(_schema_path(nb))!r} lacks the parameter(s) {unknown} of "
            f"{nb.name}; add an entry for each."
        )
    where = Path(cwd)
    given = [
        (n, e, f"Parameter {n!r} of report {nb.stem!r}") for n, e in schema.items() if n in values
    ]
    for name, entry, label in given:  # every type and range before any input path
        if message := _value_error(entry, values[name], label):
            raise ParameterError(message)
    for name, entry, label in given:
        if values[name] is not None and (
            message := _input_error(entry, values[name], label, values, where)
        ):
            raise ParameterError(message)
    return values
