"""Sign artifacts: one statement per envelope, every envelope signed by one key.

``sign_files(["dist/a.whl", "dist/a.tar.gz"])`` writes ``dist/a.whl.intoto.jsonl`` and
``dist/a.tar.gz.intoto.jsonl``; ``out_dir`` puts them in another folder, and ``envelope``
writes a single envelope covering every file (a report's page, metrics and figures).
Subjects are named relative to the envelope's folder, so a folder copied with its
envelopes still verifies.  With no key configured an ephemeral key signs, and its public
half is added to ``provenance.pub`` beside the envelopes.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from ._envelope import ENVELOPE_SUFFIX, envelope_path, folder_keyids, write_envelope
from ._keys import PUBLIC_NAME, add_to_keyring, signer_for
from ._statement import (
    DEFAULT_BUILDER_ID,
    build_statement,
    build_type_uri,
    collect_materials,
    subject_entries,
)

__all__ = ["SignResult", "sign_files"]

PathLike = str | os.PathLike[str]


@dataclass(frozen=True)
class SignResult:
    """What :func:`sign_files` wrote.

    Attributes
    ----------
    envelopes : tuple of Path
        The envelope files, in the order of the artifacts.
    keyid : str
        The signing key's id (named by each envelope's signature).
    key_source : str
        The private key file used, or ``"ephemeral"``.
    keyring : Path or None
        For an ephemeral key, the ``provenance.pub`` its public half was added to (the
        first one, when envelopes went to several folders); None otherwise.
    """

    envelopes: tuple[Path, ...]
    keyid: str
    key_source: str
    keyring: Path | None = None

    @property
    def ephemeral(self) -> bool:
        """True when a throw-away key signed (verify with :attr:`keyring`)."""
        return self.key_source == "ephemeral"


def _groups(
    paths: Sequence[PathLike], envelope: PathLike | None, out_dir: PathLike | None
) -> list[tuple[Path, list[PathLike]]]:
    if isinstance(paths, (str, os.PathLike)):
        raise ValueError(
            "The 'paths' parameter of sign_files must be a list of files, not one path."
        )
    if envelope is not None:
        if out_dir is not None:
            raise ValueError("Give 'envelope' or 'out_dir' to sign_files, not both.")
        if not Path(envelope).name.endswith(ENVELOPE_SUFFIX):
            raise ValueError(
                f"The 'envelope' file name must end in {ENVELOPE_SUFFIX!r}. Got {str(envelope)!r}."
            )
        return [(Path(envelope), list(paths))]
    return [(envelope_path(p, out_dir), [p]) for p in paths]


def sign_files(
    paths: Sequence[PathLike],
    *,
    envelope: PathLike | None = None,
    out_dir: PathLike | None = None,
    key: PathLike | None = None,
    repo: PathLike | None = None,
    build_type: str = "artifact",
    command: str | Sequence[str] = "",
    params: Mapping[str, Any] | None = None,
    started_on: datetime | None = None,
    builder_id: str = DEFAULT_BUILDER_ID,
) -> SignResult:
    """Write a signed in-toto provenance envelope for files.

    Parameters
    ----------
    paths : sequence of str or path-like
        The artifact files.  Every one must exist; nothing is written otherwise.
    envelope : str or path-like, optional
        One envelope (name ending ``.intoto.jsonl``) covering all ``paths``; default one
        envelope per file, ``<file>.intoto.jsonl``.
    out_dir : str or path-like, optional
        Folder for the per-file envelopes (default: beside each file).
    key : str or path-like, optional
        Private key file; default ``$ARDLIB_PROVENANCE_KEY``, then
        ``<repo>/.ardlib/keys/provenance.key``, else an ephemeral key.
    repo : str or path-like, optional
        Repository root whose materials are recorded (default: the working directory).
    build_type : {"artifact", "dist", "image", "report"}, default "artifact"
        Recorded as ``https://ardlib.invalid/build/<build_type>/v1``.
    command : str or sequence of str
        The command that built the artifacts (``externalParameters.command``).
    params : mapping, optional
        Its parameters (``externalParameters.params``).
    started_on : datetime, optional
        When the build started (default: now).
    builder_id : str
        ``runDetails.builder.id``.

    Returns
    -------
    SignResult
        The envelopes written and the key that signed them.

    Raises
    ------
    FileNotFoundError
        Naming an artifact that does not exist (or a key file).
    ValueError
        For an invalid argument or key.
    """
    from .. import __version__

    groups = _groups(paths, envelope, out_dir)
    build_type_uri(build_type)
    for folder in {env.parent for env, _ in groups}:
        if folder.exists() and not folder.is_dir():
            raise NotADirectoryError(f"The envelope folder {str(folder)!r} is not a folder.")
    subjects = [subject_entries(files, env.parent) for env, files in groups]
    signer, source = signer_for(key, root=repo)
    materials = collect_materials(repo)
    internal = {
        "ardlib_version": __version__,
        "signing_key": "ephemeral" if source == "ephemeral" else "key file",
    }
    written = []
    for (env, _), subs in zip(groups, subjects, strict=True):
        statement = build_statement(
            subs,
            build_type=build_type,
            command=command,
            params=params,
            internal=internal,
            materials=materials,
            started_on=started_on,
            builder_id=builder_id,
        )
        written.append(write_envelope(env, statement, signer))
    keyring = None
    if source == "ephemeral":
        for folder in dict.fromkeys(env.parent for env in written):
            ring = add_to_keyring(folder / PUBLIC_NAME, signer, folder_keyids(folder))
            keyring = keyring or ring
    return SignResult(tuple(written), signer.public_key.keyid, source, keyring)
