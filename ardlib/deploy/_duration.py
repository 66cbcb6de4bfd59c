"""``parse_duration``: "90s", "10m", "1h30m" or a number of seconds, as float seconds."""

from __future__ import annotations

import math
import numbers
import re

__all__ = ["parse_duration"]

_UNITS = {"ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ms|s|m|h)")
_EXPECTED = "a duration such as 90s, 10m, 1h or 1h30m (units ms, s, m, h; a bare number is seconds)"


def parse_duration(value: str | float, name: str = "duration") -> float:
    """Seconds in ``value``: a positive number of seconds, or a string of number-unit parts.

    Parameters
    ----------
    value : str or float
        ``90``, ``"90"``, ``"90s"``, ``"1.5m"``, ``"1h30m"``, ``"250ms"``: parts with units
        ``ms``, ``s``, ``m``, ``h``, largest first, each unit at most once; whitespace around
        the whole is ignored.
    name : str, default "duration"
        The argument's name, for the error message.

    Returns
    -------
    float
        Seconds, finite and > 0.

    Raises
    ------
    ValueError
        ``"The 'duration' parameter must be a duration such as 90s, ...; got '10x'."``

    Examples
    --------
    >>> parse_duration("1h30m"), parse_duration("90s"), parse_duration(2.5)
    (5400.0, 90.0, 2.5)
    """
    seconds = _seconds(value)
    if seconds is None or not math.isfinite(seconds) or seconds <= 0:
        raise ValueError(f"The '{name}' parameter must be {_EXPECTED}, > 0; got {value!r}.")
    return seconds


def _seconds(value: object) -> float | None:
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return float(value)
    if not isinstance(value, str):
        return None
    text = value.strip().lower()
    try:
        return float(text)
    except ValueError:
        pass
    parts = list(_PART.finditer(text))
    if not parts or "".join(p.group(0) for p in parts) != text:
        return None
    units = [p.group(2) for p in parts]
    order = list(_UNITS)[::-1]  # h, m, s, ms
    if len(set(units)) != len(units) or units != sorted(units, key=order.index):
        return None
    return sum(float(p.group(1)) * _UNITS[p.group(2)] for p in parts)
