"""Verify an envelope: the signature, the statement's shape, every subject, and materials.

The checks run in order and a failed signature stops them (an unsigned payload says nothing
about the files).  Each failure is one line naming what failed: ``signature: ...``,
``subject 'figures/x.png' changed: ...``, ``subject 'x.whl' missing: ...``,
``material 'params.yaml' changed: ...``.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._io import sha256_file
from ._envelope import ENVELOPE_SUFFIX, PAYLOAD_TYPE, envelope_path, read_envelope
from ._keys import load_public_keys, require_crypto, verification_keys
from ._statement import PREDICATE_TYPE, STATEMENT_TYPE, file_materials

__all__ = ["Verification", "locate_envelope", "verify_envelope"]

PathLike = str | os.PathLike[str]


@dataclass(frozen=True)
class Verification:
    """The outcome of :func:`verify_envelope`.

    Attributes
    ----------
    envelope : Path
        The envelope checked.
    failures : tuple of str
        One line per failed check; empty when everything verified.
    subjects : tuple of str
        The subject names the signed statement lists (empty if the signature failed).
    keyid : str or None
        The key id whose signature verified.
    key_source : str or None
        Where that public key came from (a file, or ``$ARDLIB_PROVENANCE_KEY``).
    materials_checked : bool
        Whether the file materials were recomputed and compared.
    statement : dict or None
        The verified statement.
    """

    envelope: Path
    failures: tuple[str, ...]
    subjects: tuple[str, ...] = ()
    keyid: str | None = None
    key_source: str | None = None
    materials_checked: bool = False
    statement: dict[str, Any] | None = field(default=None, repr=False, compare=False)

    @property
    def passed(self) -> bool:
        """True when every check passed."""
        return not self.failures

    def format(self) -> str:
        """What was verified, or which checks failed, one line each.

        Returns
        -------
        str
            ``"<envelope>: verified ..."`` or ``"<envelope>: FAILED"`` and the failures.
        """
        if self.failures:
            return "\n".join([f"{self.envelope}: FAILED", *(f"  {f}" for f in self.failures)])
        n = len(self.subjects)
        extra = " and the materials" if self.materials_checked else ""
        return (
            f"{self.envelope}: verified: signature (key {self.key_source}, id "
            f"{str(self.keyid)[:12]}), {n} subject{'' if n == 1 else 's'}{extra}"
        )


def locate_envelope(path: PathLike) -> Path:
    """The envelope for ``path``: ``path`` itself when it ends ``.intoto.jsonl``, else
    ``<path>.intoto.jsonl``; FileNotFoundError saying which is missing."""
    p = Path(path)
    env = p if p.name.endswith(ENVELOPE_SUFFIX) else envelope_path(p)
    if env.is_file():
        return env
    if env is p:
        raise FileNotFoundError(f"No provenance envelope {str(env)!r}.")
    if not p.exists():
        raise FileNotFoundError(f"No file {str(p)!r} (and no envelope {str(env)!r}).")
    raise FileNotFoundError(
        f"No provenance envelope {str(env)!r} beside {str(p)!r}: pass the envelope's path if "
        f"it is elsewhere, or sign the file ('ardlib provenance sign {p}')."
    )


def _keys(env: Path, public_key: PathLike | None, repo: PathLike | None) -> list[tuple[Any, str]]:
    if public_key is not None:
        return [(k, str(public_key)) for k in load_public_keys(public_key)]
    keys = verification_keys(env.parent, root=repo)
    if not keys:
        raise ValueError(
            f"No public key to verify {str(env)!r} with: pass --pub KEY (public_key=), set "
            "$ARDLIB_PROVENANCE_KEY, or keep provenance.pub beside the envelope."
        )
    return keys


def _signature(envelope: Any, keys: list[tuple[Any, str]]) -> tuple[str | None, str | None, str]:
    """(keyid, source, failure) of the signature check; failure is "" when it verified."""
    from securesystemslib.exceptions import VerificationError

    try:
        accepted = envelope.verify([k for k, _ in keys], 1)
    except (VerificationError, ValueError):
        signed_by = (sorted(envelope.signatures) or ["(none)"])[0][:12]
        known = [src for k, src in keys if k.keyid in envelope.signatures]
        if known:
            why = (
                f"does not verify with its key ({known[0]}, id {signed_by}): "
                "the payload or the signature was altered"
            )
        else:
            tried = ", ".join(dict.fromkeys(src for _, src in keys))
            why = f"made by key id {signed_by}, not by the key(s) tried ({tried})"
        return None, None, f"signature: {why}"
    keyid = next(iter(accepted))
    return keyid, next(src for k, src in keys if k.keyid == keyid), ""


def _statement(envelope: Any) -> tuple[dict[str, Any] | None, list[str]]:
    if envelope.payload_type != PAYLOAD_TYPE:
        return None, [f"envelope: payloadType {envelope.payload_type!r}, expected {PAYLOAD_TYPE!r}"]
    try:
        statement = json.loads(envelope.payload)
    except (ValueError, UnicodeDecodeError) as exc:
        return None, [f"statement: the payload is not JSON ({exc})"]
    problems = []
    if not isinstance(statement, dict):
        return None, ["statement: the payload is not a JSON object"]
    if statement.get("_type") != STATEMENT_TYPE:
        problems.append(f"statement: _type {statement.get('_type')!r}, expected {STATEMENT_TYPE!r}")
    if statement.get("predicateType") != PREDICATE_TYPE:
        problems.append(
            f"statement: predicateType {statement.get('predicateType')!r}, "
            f"expected {PREDICATE_TYPE!r}"
        )
    subjects = statement.get("subject")
    if (
        not isinstance(subjects, list)
        or not subjects
        or not all(
            isinstance(s, dict)
            and isinstance(s.get("name"), str)
            and isinstance(s.get("digest"), dict)
            and isinstance(s["digest"].get("sha256"), str)
            for s in subjects
        )
    ):
        problems.append("statement: subject is not a list of {name, digest: {sha256}} entries")
    return statement, problems


def _subjects(statement: dict[str, Any], base: Path) -> list[str]:
    failures = []
    for entry in statement["subject"]:
        name, recorded = entry["name"], entry["digest"]["sha256"]
        path = base / name
        if not path.is_file():
            failures.append(f"subject {name!r} missing: no file {str(path)!r}")
            continue
        now = sha256_file(path)
        if now != recorded:
            failures.append(
                f"subject {name!r} changed: sha256 {now[:16]}... on disk, {recorded[:16]}... signed"
            )
    return failures


def _materials(statement: dict[str, Any], repo: PathLike | None) -> list[str]:
    deps = statement.get("predicate", {}).get("buildDefinition", {}).get("resolvedDependencies", [])
    recorded = {
        d["name"]: d["digest"]["sha256"]
        for d in deps
        if isinstance(d, dict) and isinstance(d.get("digest"), dict) and "sha256" in d["digest"]
    }
    now = file_materials(repo)
    where = str(Path(repo or "."))
    failures = []
    for name, digest in recorded.items():
        if name not in now:
            failures.append(f"material {name!r} missing: no file {name!r} in {where!r}")
        elif now[name] != digest:
            failures.append(
                f"material {name!r} changed: sha256 {now[name][:16]}... now, "
                f"{digest[:16]}... signed"
            )
    failures += [
        f"material {n!r} added: not in the signed materials" for n in now if n not in recorded
    ]
    return failures


def verify_envelope(
    path: PathLike,
    *,
    public_key: PathLike | None = None,
    materials: bool = False,
    repo: PathLike | None = None,
) -> Verification:
    """Check an envelope's signature and that its subjects (and materials) are unchanged.

    Parameters
    ----------
    path : str or path-like
        The envelope (``*.intoto.jsonl``) or an artifact with its envelope beside it.
    public_key : str or path-like, optional
        A PEM public-key file (may hold several keys); default: the public half of
        ``$ARDLIB_PROVENANCE_KEY``, ``<repo>/.ardlib/keys/provenance.pub`` and
        ``provenance.pub`` beside the envelope, those that exist.
    materials : bool, default False
        Also recompute the file materials (lock files, ``params.yaml``, datasets) in
        ``repo`` and report any that changed, disappeared or appeared.
    repo : str or path-like, optional
        Repository root for the default key and the materials (default: working directory).

    Returns
    -------
    Verification
        ``passed`` and one line per failed check.

    Raises
    ------
    FileNotFoundError
        When the envelope (or the artifact) does not exist.
    ValueError, OSError
        When a key cannot be read, or no public key is found.
    """
    require_crypto()
    from securesystemslib.dsse import Envelope
    from securesystemslib.exceptions import Error as SslibError

    env = locate_envelope(path)
    keys = _keys(env, public_key, repo)
    try:
        raw = read_envelope(env)
    except (ValueError, UnicodeDecodeError) as exc:
        return Verification(env, (f"envelope: {str(env)!r} {exc}",))
    try:
        envelope = Envelope.from_dict(raw)
    except (ValueError, KeyError, TypeError, AttributeError, SslibError) as exc:
        # binascii.Error (bad base64) is a ValueError; FormatError a securesystemslib Error
        text = " ".join(str(exc).split())
        return Verification(
            env, (f"envelope: {str(env)!r} is malformed ({type(exc).__name__}: {text})",)
        )
    keyid, source, failure = _signature(envelope, keys)
    if failure:
        return Verification(env, (failure,))
    statement, problems = _statement(envelope)
    if statement is None or problems:
        return Verification(env, tuple(problems), keyid=keyid, key_source=source)
    failures = _subjects(statement, env.parent)
    if materials:
        failures += _materials(statement, repo)
    return Verification(
        env,
        tuple(failures),
        tuple(s["name"] for s in statement["subject"]),
        keyid,
        source,
        materials,
        statement,
    )
