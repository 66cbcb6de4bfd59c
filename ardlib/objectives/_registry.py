"""Problems by name: a registry of factories that build :class:`Objective` instances.

A factory is any callable taking keyword arguments only (usually the class itself), so
analytic functions and data-fitted emulators register the same way::

    register_problem("my_emulator", MyEmulator)
    problem = get_problem("my_emulator", dataset="suzuki")

The analytic benchmarks of :mod:`ardlib.objectives._analytic` are registered on import;
the emulators of the laboratory datasets found from the working directory are registered
as ``"emulator:<dataset>"`` on import and again whenever a name is looked up (built or
loaded on first use; see :mod:`ardlib.objectives._emulator_build`).
"""

from __future__ import annotations

import difflib
import inspect
import re
from collections.abc import Callable
from typing import Any

from . import _analytic, _emulator_build
from ._base import Objective

__all__ = ["get_problem", "list_problems", "register_problem"]

ProblemFactory = Callable[..., Objective]

_REGISTRY: dict[str, ProblemFactory] = {}
_NAME = re.compile(r"[a-z][a-z0-9_]*(:[a-z][a-z0-9_]*)?")


def register_problem(name: str, factory: ProblemFactory, *, replace: bool = False) -> None:
    """Make ``factory`` available as :func:`get_problem(name, **kwargs) <get_problem>`.

    Parameters
    ----------
    name : str
        Lowercase identifier (letters, digits, underscores; starts with a letter),
        optionally namespaced as ``"family:member"`` (e.g. ``"emulator:suzuki"``).
    factory : callable
        Called with the keyword arguments given to :func:`get_problem`; must return an
        :class:`Objective`.  An ``Objective`` subclass is the usual choice.
    replace : bool, default False
        Allow overwriting an existing registration (otherwise that is an error, so two
        modules cannot silently shadow each other).

    Raises
    ------
    ValueError
        If ``name`` is not a lowercase identifier, or is taken and ``replace`` is False.
    TypeError
        If ``factory`` is not callable.
    """
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise ValueError(
            "The 'name' parameter of register_problem must be a lowercase identifier "
            "(letters, digits, underscores, starting with a letter), optionally namespaced "
            f"as 'family:member'. Got {name!r}."
        )
    if not callable(factory):
        raise TypeError(
            "The 'factory' parameter of register_problem must be callable (for example an "
            f"Objective subclass). Got {type(factory).__name__}."
        )
    if name in _REGISTRY and not replace:
        raise ValueError(
            f"A problem named {name!r} is already registered; pass replace=True to overwrite it."
        )
    _REGISTRY[name] = factory


def _discover_emulators() -> None:
    """Register ``emulator:<name>`` for datasets imported or built since the last call."""
    for name, factory in _emulator_build.registry_factories().items():
        _REGISTRY.setdefault(name, factory)


def list_problems() -> list[str]:
    """Names of all registered problems, sorted.

    ``emulator:<name>`` is listed for every dataset found from the working directory: a
    saved emulator in ``data/emulators`` (or ``$ARDLIB_EMULATOR_DIR``), a dataset folder
    under the default data root (``$ARDLIB_DATA_DIR``, ``data/raw``, else the shared
    datasets; see :mod:`ardlib.objectives._datasets`).

    Returns
    -------
    list of str
    """
    _discover_emulators()
    return sorted(_REGISTRY)


def get_problem(name: str, **kwargs: Any) -> Objective:
    """Build the registered problem ``name``.

    Parameters
    ----------
    name : str
        One of :func:`list_problems`.
    **kwargs
        Keyword arguments of the problem's constructor, e.g. ``dim=5`` for ``"ackley"`` or
        ``m=7`` for ``"shekel"``.

    Returns
    -------
    Objective

    Raises
    ------
    ValueError
        If ``name`` is unknown (the message lists the valid names), if a keyword is not a
        parameter of that problem, or if the problem rejects a value (e.g. ``dim=0``).
    """
    factory = _REGISTRY.get(name) if isinstance(name, str) else None
    if factory is None and isinstance(name, str) and name.startswith("emulator:"):
        _discover_emulators()
        factory = _REGISTRY.get(name)
    if factory is None:
        close = difflib.get_close_matches(str(name), _REGISTRY, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        if str(name).startswith("emulator:"):
            hint += (
                " Emulators exist for the datasets under the default data root (data/raw or "
                "$ARDLIB_DATA_DIR) and the saved ones in data/emulators ($ARDLIB_EMULATOR_DIR); "
                "import a dataset with 'ardlib data import'."
            )
        raise ValueError(
            f"Unknown problem {name!r}.{hint} Valid names: {', '.join(list_problems())}."
        )
    _check_kwargs(name, factory, kwargs)
    problem = factory(**kwargs)
    if not isinstance(problem, Objective):
        raise TypeError(
            f"The factory registered as {name!r} returned {type(problem).__name__}, "
            "not an Objective."
        )
    return problem


def _check_kwargs(name: str, factory: ProblemFactory, kwargs: dict[str, Any]) -> None:
    """Raise a ValueError naming the bad keyword before calling ``factory``."""
    try:
        sig = inspect.signature(factory)
    except (TypeError, ValueError):  # builtins and C callables: let the call decide
        return
    params = sig.parameters.values()
    if any(p.kind is p.VAR_KEYWORD for p in params):
        return
    valid = [p.name for p in params if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)]
    unknown = sorted(set(kwargs) - set(valid))
    if unknown:
        accepted = ", ".join(repr(v) for v in valid) if valid else "none"
        raise ValueError(
            f"Invalid parameter(s) {', '.join(repr(u) for u in unknown)} for problem "
            f"{name!r}. Valid parameters: {accepted}."
        )


for _cls_name in _analytic.__all__:  # every analytic class, under its own ``name``
    _cls = getattr(_analytic, _cls_name)
    register_problem(_cls.name, _cls)
del _cls, _cls_name
_discover_emulators()  # none when no data folder is found (an installed package, elsewhere)
