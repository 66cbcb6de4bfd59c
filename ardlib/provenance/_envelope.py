"""DSSE envelopes on disk: ``<artifact>.intoto.jsonl``, one JSON envelope on one line.

The payload is the statement as canonical JSON (:func:`ardlib._io.canonical_json`), its
type ``application/vnd.in-toto+json``; securesystemslib's
:class:`~securesystemslib.dsse.Envelope` computes the pre-authentication encoding that the
ed25519 signature covers, so the payload type and payload are signed together.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._io import canonical_json, write_atomic

if TYPE_CHECKING:
    from securesystemslib.signer import CryptoSigner

__all__ = [
    "ENVELOPE_SUFFIX",
    "PAYLOAD_TYPE",
    "envelope_path",
    "folder_keyids",
    "read_envelope",
    "write_envelope",
]

ENVELOPE_SUFFIX = ".intoto.jsonl"
PAYLOAD_TYPE = "application/vnd.in-toto+json"


def envelope_path(
    artifact: str | os.PathLike[str], out_dir: str | os.PathLike[str] | None = None
) -> Path:
    """``<artifact>.intoto.jsonl``, beside the artifact or in ``out_dir``."""
    path = Path(artifact)
    return Path(out_dir or path.parent) / f"{path.name}{ENVELOPE_SUFFIX}"


def write_envelope(path: Path, statement: dict[str, Any], signer: CryptoSigner) -> Path:
    """Sign ``statement`` with ``signer`` and write the envelope to ``path`` atomically."""
    from securesystemslib.dsse import Envelope

    envelope = Envelope(canonical_json(statement).encode("utf-8"), PAYLOAD_TYPE, {})
    envelope.sign(signer)
    return write_atomic(path, json.dumps(envelope.to_dict(), sort_keys=True) + "\n")


def read_envelope(path: Path) -> dict[str, Any]:
    """The one envelope in ``path`` as a dict; ValueError saying what is wrong with it."""
    lines = [ln for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()]
    if len(lines) != 1:
        raise ValueError(f"holds {len(lines)} JSON lines; expected one envelope")
    try:
        data = json.loads(lines[0])
    except json.JSONDecodeError as exc:
        raise ValueError(f"is not JSON ({exc})") from None
    missing = [
        k
        for k in ("payload", "payloadType", "signatures")
        if not isinstance(data, dict) or k not in data
    ]
    if missing:
        raise ValueError(f"is not a DSSE envelope (no {', '.join(missing)})")
    return dict(data)


def folder_keyids(folder: Path) -> set[str]:
    """Key ids named by the signatures of the envelopes in ``folder`` (not verified)."""
    ids: set[str] = set()
    for path in folder.glob(f"*{ENVELOPE_SUFFIX}"):
        try:
            sigs = read_envelope(path)["signatures"]
        except (OSError, ValueError, UnicodeDecodeError):
            continue
        if isinstance(sigs, list):
            ids |= {
                s["keyid"] for s in sigs if isinstance(s, dict) and isinstance(s.get("keyid"), str)
            }
    return ids
