"""API keys: the constant-time comparison and the FastAPI dependencies that require a key.

``X-API-Key`` guards writes and reasoning when :attr:`Settings.api_key` is set, and the
listings too when :attr:`Settings.protect_reads` is; a :attr:`Settings.read_key` opens the
listings but not writes.  A missing or wrong key is answered 401
``{"error": "Unauthorized", "code": "unauthorized"}``.
"""

from __future__ import annotations

import hmac
from collections.abc import Sequence

from fastapi import Depends, Security
from fastapi.params import Depends as DependsParam
from fastapi.security import APIKeyHeader

from ._errors import ApiError
from ._settings import Settings

__all__ = ["key_guards", "key_matches"]

_SCHEME = APIKeyHeader(
    name="X-API-Key",
    auto_error=False,
    description="Needed for writes and reasoning queries when the service enables auth, "
    "and for the listings when it also protects reads.",
)


def key_matches(given: str | None, accepted: Sequence[bytes]) -> bool:
    """Whether ``given`` equals one of the ``accepted`` keys, compared in constant time.

    Every accepted key is compared (no early exit), so the time taken does not tell which
    key matched nor how much of one.

    Parameters
    ----------
    given : str or None
        The ``X-API-Key`` header as received (None or empty: no key).
    accepted : sequence of bytes
        The keys that grant access, UTF-8 encoded.

    Returns
    -------
    bool
    """
    if not given:
        return False
    # Starlette decodes header bytes as latin-1: encoding back yields the bytes as sent.
    raw = given.encode("latin-1", "replace")
    return any([hmac.compare_digest(raw, key) for key in accepted])


def _api_key_check(*accepted: str) -> DependsParam:
    """A dependency answering 401 unless ``X-API-Key`` is one of ``accepted``."""
    keys = [key.encode() for key in accepted]

    def require_api_key(key: str | None = Security(_SCHEME)) -> None:
        if not key_matches(key, keys):
            raise ApiError(401, "Unauthorized", "unauthorized")

    return Depends(require_api_key)


def key_guards(settings: Settings) -> tuple[list[DependsParam], list[DependsParam]]:
    """The dependencies guarding writes (reasoning included) and reads.

    Parameters
    ----------
    settings : Settings
        ``api_key`` guards writes; with ``protect_reads`` it and ``read_key`` guard reads.

    Returns
    -------
    writes, reads : list of fastapi.params.Depends
        Empty when that kind of request is open.
    """
    if not settings.api_key:
        return [], []
    writes = [_api_key_check(settings.api_key)]
    if not settings.protect_reads:
        return writes, []
    readers = [settings.api_key, *([settings.read_key] if settings.read_key else [])]
    return writes, [_api_key_check(*readers)]
