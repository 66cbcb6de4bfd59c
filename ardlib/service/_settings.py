"""Service configuration: one frozen dataclass, read from the environment or built directly.

Environment variables (all optional):

``DATABASE_URL``
    SQLAlchemy URL; default ``sqlite:///ardlib-service.db`` (a file in the working
    directory).  ``postgresql://`` and ``postgres://`` URLs are mapped to the psycopg 3
    driver (``postgresql+psycopg://``).
``ARDLIB_API_KEY``
    When set, writes and reasoning queries need the header ``X-API-Key`` with this value.
``ARDLIB_PROTECT_READS``
    ``1``/``true``/``yes``/``on``: the listings need ``X-API-Key`` too (needs an API key);
    ``0``/``false``/``no``/``off`` or unset: listings are open.
``ARDLIB_READ_KEY``
    A second key that may read (when reads are protected) but not write.
``ARDLIB_CORS_ORIGINS``
    Comma-separated origins allowed by CORS (``*`` for any); default none.
``ARDLIB_RATE_LIMIT``
    Requests per minute per client (API key when valid, else IP); ``0`` disables; default 600.
"""

from __future__ import annotations

import hmac
import os
from collections.abc import Mapping
from dataclasses import dataclass

from .. import __version__

__all__ = ["DEFAULT_DATABASE_URL", "Settings", "normalize_database_url"]

DEFAULT_DATABASE_URL = "sqlite:///ardlib-service.db"
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off", ""})


def normalize_database_url(url: str) -> str:
    """The URL with ``postgres://``/``postgresql://`` mapped to the psycopg 3 driver.

    Raises
    ------
    ValueError
        If ``url`` is empty or not a str.
    """
    if not isinstance(url, str) or not url.strip():
        raise ValueError(f"The 'database_url' parameter must be a non-empty str. Got {url!r}.")
    url = url.strip()
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


@dataclass(frozen=True)
class Settings:
    """Configuration of one service instance.

    Parameters
    ----------
    database_url : str
        SQLAlchemy URL (SQLite file by default; PostgreSQL via ``postgresql+psycopg://``).
    api_key : str or None
        Key required in ``X-API-Key`` for writes and reasoning; None turns auth off.
    protect_reads : bool, default False
        When True the listings need ``X-API-Key`` too (``api_key`` or ``read_key``);
        ``/health`` and the dashboard's static files stay open.  Needs ``api_key``.
    read_key : str or None
        A key that may read (when ``protect_reads``) but not write; needs ``protect_reads``.
    cors_origins : tuple of str
        Origins CORS allows (``"*"`` for any); empty allows none.
    rate_limit_per_minute : int
        Sustained requests per minute per client with bursts of the same size; 0 disables.
        ``/health`` is never limited.
    version : str
        Reported by ``/health`` and in the OpenAPI document.
    max_body_bytes : int
        Larger request bodies are refused with 413.

    Raises
    ------
    ValueError
        If ``database_url`` is not a non-empty str, ``api_key`` or ``read_key`` is neither
        a non-empty str nor None, ``protect_reads`` is set without ``api_key``, ``read_key``
        is set without ``protect_reads`` or equals ``api_key``, ``rate_limit_per_minute``
        is not an int >= 0, or ``max_body_bytes`` is not an int >= 1.
    """

    database_url: str = DEFAULT_DATABASE_URL
    api_key: str | None = None
    cors_origins: tuple[str, ...] = ()
    rate_limit_per_minute: int = 600
    version: str = __version__
    max_body_bytes: int = 1 << 20
    protect_reads: bool = False
    read_key: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "database_url", normalize_database_url(self.database_url))
        object.__setattr__(self, "cors_origins", tuple(self.cors_origins))
        for name in ("api_key", "read_key"):
            key = getattr(self, name)
            if key is not None and (not isinstance(key, str) or not key):
                raise ValueError(
                    f"The '{name}' parameter of Settings must be a non-empty str or None."
                )
        self._check_read_protection()
        limit = self.rate_limit_per_minute
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
            raise ValueError(
                f"The 'rate_limit_per_minute' parameter of Settings must be an int >= 0. "
                f"Got {limit!r}."
            )
        size = self.max_body_bytes
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            raise ValueError(
                f"The 'max_body_bytes' parameter of Settings must be an int >= 1. Got {size!r}."
            )

    def _check_read_protection(self) -> None:
        if not isinstance(self.protect_reads, bool):
            raise ValueError(
                f"The 'protect_reads' parameter of Settings must be a bool. "
                f"Got {self.protect_reads!r}."
            )
        if self.protect_reads and not self.api_key:
            raise ValueError(
                "--protect-reads needs --api-key (or ARDLIB_API_KEY): reads cannot be "
                "protected without a key (Settings: protect_reads=True needs api_key)."
            )
        if self.read_key is not None and not self.protect_reads:
            raise ValueError(
                "--read-key needs --protect-reads (or ARDLIB_PROTECT_READS=1): a read key "
                "guards nothing while reads are open (Settings: read_key needs protect_reads)."
            )
        same = self.read_key is not None and hmac.compare_digest(
            self.read_key.encode(), (self.api_key or "").encode()
        )
        if same:
            raise ValueError("The 'read_key' parameter of Settings must differ from 'api_key'.")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        """Settings from environment variables (see the module docstring), then ``overrides``.

        Overrides whose value is None are ignored, so parsed command-line options can be
        passed through as they are.

        Parameters
        ----------
        environ : mapping, optional
            Variables to read (default ``os.environ``).
        **overrides
            Settings that win over the environment (None values ignored).

        Returns
        -------
        Settings

        Raises
        ------
        ValueError
            If ``ARDLIB_RATE_LIMIT`` is not an int, ``ARDLIB_PROTECT_READS`` is not a
            yes/no word, or a setting is invalid.
        """
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        if env.get("DATABASE_URL"):
            values["database_url"] = env["DATABASE_URL"]
        if env.get("ARDLIB_API_KEY"):
            values["api_key"] = env["ARDLIB_API_KEY"]
        if env.get("ARDLIB_READ_KEY"):
            values["read_key"] = env["ARDLIB_READ_KEY"]
        if "ARDLIB_PROTECT_READS" in env:
            values["protect_reads"] = _flag("ARDLIB_PROTECT_READS", env["ARDLIB_PROTECT_READS"])
        if env.get("ARDLIB_CORS_ORIGINS"):
            values["cors_origins"] = tuple(
                o.strip() for o in env["ARDLIB_CORS_ORIGINS"].split(",") if o.strip()
            )
        if env.get("ARDLIB_RATE_LIMIT"):
            raw = env["ARDLIB_RATE_LIMIT"]
            try:
                values["rate_limit_per_minute"] = int(raw)
            except ValueError:
                raise ValueError(
                    f"ARDLIB_RATE_LIMIT must be an int >= 0 (requests per minute). Got {raw!r}."
                ) from None
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]


def _flag(name: str, raw: str) -> bool:
    """An environment variable's yes/no value."""
    word = raw.strip().lower()
    if word in _TRUE or word in _FALSE:
        return word in _TRUE
    raise ValueError(
        f"{name} must be one of 1/true/yes/on or 0/false/no/off (or empty). Got {raw!r}."
    )
