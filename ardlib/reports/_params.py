"""Report parameters: one ``params.yaml`` section, overridden from the command line.

``load_params`` reads a section of the pipeline's parameter file and applies ``-p KEY VALUE``
overrides whose values are parsed as YAML, so ``-p budget 30`` is an int, ``-p quick true``
a bool and ``-p planners "[random, gpbo]"`` a list.  Dotted keys (``-p study.budget 30``)
address nested mappings.  YAML is read as PyYAML's safe YAML 1.1 plus YAML 1.2 floats
without a dot (``1e-3``), which is how DVC (ruamel, YAML 1.2) reads the same file.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable, Mapping
from functools import cache
from pathlib import Path
from typing import Any

__all__ = ["load_params", "parse_value"]

# Exponent floats without a dot (``1e-3``, ``2E5``): floats in YAML 1.2, strings in 1.1.
_EXP_FLOAT = re.compile(r"^[-+]?[0-9][0-9_]*(?:\.[0-9_]*)?[eE][-+]?[0-9]+$")


@cache
def _loader() -> Any:
    from .._io import safe_yaml_loader

    class Loader(safe_yaml_loader()):  # type: ignore[misc]
        """Safe loader (the C one when built) that also reads ``1e-3`` as a float."""

    Loader.add_implicit_resolver("tag:yaml.org,2002:float", _EXP_FLOAT, list("-+0123456789"))
    return Loader


def parse_value(text: str) -> Any:
    """Parse one ``-p KEY VALUE`` value as YAML (``"30"`` -> 30, ``"[a, b]"`` -> list).

    An empty string stays the empty string (YAML would read it as null; write ``null``).
    """
    if not text.strip():
        return text
    import yaml

    try:
        return yaml.load(text, Loader=_loader())  # a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise ValueError(f"Cannot parse parameter value {text!r} as YAML: {exc}") from None


def _read(path: Path) -> dict[str, Any]:
    import yaml

    if not path.is_file():
        raise FileNotFoundError(f"Parameter file {str(path)!r} does not exist.")
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_loader())
    except yaml.YAMLError as exc:
        raise ValueError(f"Cannot parse parameter file {str(path)!r}: {exc}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ValueError(
            f"Parameter file {str(path)!r} must hold a mapping. Got {type(data).__name__}."
        )
    return data


def _unknown(key: str, valid: Iterable[str], where: str) -> ValueError:
    names = ", ".join(sorted(valid)) or "(none)"
    return ValueError(f"Unknown parameter {key!r} {where}. Valid parameters: {names}.")


def _apply(params: dict[str, Any], key: str, value: Any, valid: set[str] | None) -> None:
    parts = key.split(".")
    if not all(parts):
        raise ValueError(f"Malformed parameter name {key!r}: empty component between dots.")
    if valid is not None and parts[0] not in valid:
        raise _unknown(parts[0], valid, f"(given as -p {key})")
    target = params
    for depth, part in enumerate(parts[:-1]):
        inner = target.get(part)
        if not isinstance(inner, dict):
            prefix = ".".join(parts[: depth + 1])
            state = "is not set" if inner is None else f"is {inner!r}, not a mapping,"
            raise ValueError(
                f"Cannot set -p {key}: {prefix!r} {state} in the parameter file, so it has no "
                f"key {parts[depth + 1]!r}; give the whole value instead, e.g. "
                f"-p {prefix} '{{{parts[depth + 1]}: ...}}'."
            )
        target = inner
    if len(parts) > 1 and parts[-1] not in target:
        raise _unknown(key, (f"{'.'.join(parts[:-1])}.{k}" for k in target), "(given with -p)")
    target[parts[-1]] = value


def load_params(
    path: str | Path | None = "params.yaml",
    section: str | None = None,
    overrides: Iterable[tuple[str, str]] = (),
    *,
    valid: Iterable[str] | None = None,
) -> dict[str, Any]:
    """Parameters of one report: a section of the parameter file, then overrides.

    Parameters
    ----------
    path : str or Path or None, default "params.yaml"
        The pipeline's parameter file (a YAML mapping, one section per stage); None starts
        from no parameters (only the overrides).
    section : str, optional
        Top-level key to read; a missing section gives ``{}``.  None reads the whole file.
    overrides : iterable of (key, value_string)
        ``-p KEY VALUE`` pairs, applied in order.  Values are parsed as YAML; a dotted key
        sets a key of a nested mapping, which must already exist there.
    valid : iterable of str, optional
        Allowed top-level names (a notebook's ``parameters`` cell).  A name outside it,
        from the file or an override, raises ValueError naming it and listing the valid ones.

    Returns
    -------
    dict
        A fresh dictionary; the file is not modified.
    """
    data = _read(Path(path)) if path is not None else {}
    if section is None:
        params = data
    else:
        params = data.get(section, {})
        if params is None:
            params = {}
        if not isinstance(params, Mapping):
            raise ValueError(
                f"Section {section!r} of {str(path)!r} must be a mapping of parameter names "
                f"to values. Got {type(params).__name__}."
            )
    params = copy.deepcopy(dict(params))
    allowed = None if valid is None else set(valid)
    if allowed is not None:
        where = f"in section {section!r} of {str(path)!r}" if section else f"in {str(path)!r}"
        for key in params:
            if key not in allowed:
                raise _unknown(key, allowed, where)
    for key, text in overrides:
        _apply(params, key, parse_value(text), allowed)
    return params
