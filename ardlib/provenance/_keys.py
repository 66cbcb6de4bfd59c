"""Signing keys: make an ed25519 key pair, load it, find the key to sign or verify with.

Private keys are PKCS#8 PEM files (mode 0600), public keys SubjectPublicKeyInfo PEM files;
a public-key file may hold several keys (the ``provenance.pub`` keyring of ephemeral keys).
securesystemslib's :class:`~securesystemslib.signer.CryptoSigner` signs and
:class:`~securesystemslib.signer.SSlibKey` verifies; pyca/cryptography only reads and writes
the PEM files.  Both are imported when a function needs them (the ``provenance`` extra).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from securesystemslib.signer import CryptoSigner, SSlibKey

__all__ = [
    "DEFAULT_KEY_DIR",
    "KEY_ENV",
    "KeyPair",
    "add_to_keyring",
    "generate_key",
    "key_file_keyids",
    "load_public_keys",
    "load_signer",
    "require_crypto",
    "signer_for",
    "verification_keys",
]

DEFAULT_KEY_DIR = ".ardlib/keys"
KEY_ENV = "ARDLIB_PROVENANCE_KEY"
PRIVATE_NAME = "provenance.key"
PUBLIC_NAME = "provenance.pub"
_PEM_PUBLIC = re.compile(
    rb"-----BEGIN PUBLIC KEY-----\r?\n.+?-----END PUBLIC KEY-----\r?\n?", re.DOTALL
)
_INSTALL = "pip install 'ardlib[provenance]'"


def require_crypto() -> None:
    """Raise ModuleNotFoundError (``name == "securesystemslib"``), saying how to install it,
    when securesystemslib or pyca/cryptography is missing."""
    try:
        import cryptography  # noqa: F401
        import securesystemslib.dsse
        import securesystemslib.signer  # noqa: F401
    except ImportError as exc:
        raise ModuleNotFoundError(
            f"provenance needs securesystemslib with pyca/cryptography ({exc}): {_INSTALL}",
            name="securesystemslib",
        ) from exc


@dataclass(frozen=True)
class KeyPair:
    """Where :func:`generate_key` wrote a key pair.

    Attributes
    ----------
    private : Path
        The private key, PKCS#8 PEM, mode 0600.
    public : Path
        The public key, SubjectPublicKeyInfo PEM.
    keyid : str
        securesystemslib's key id (SHA-256 of the public key's canonical form); the
        signature in every envelope names it.
    """

    private: Path
    public: Path
    keyid: str


def _public_pem(signer: CryptoSigner) -> bytes:
    from cryptography.hazmat.primitives.serialization import (
        Encoding,
        PublicFormat,
        load_pem_private_key,
    )

    private = load_pem_private_key(signer.private_bytes, None)
    return private.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)


def generate_key(
    out_dir: str | os.PathLike[str] = DEFAULT_KEY_DIR, *, force: bool = False
) -> KeyPair:
    """Make an ed25519 key pair: ``<out_dir>/provenance.key`` (0600) and ``provenance.pub``.

    Parameters
    ----------
    out_dir : str or path-like, default ".ardlib/keys"
        Folder for the two files, created with mode 0700 when missing.  The default is
        ignored by git; keep the private key out of version control.
    force : bool, default False
        Replace an existing key pair; without it an existing ``provenance.key`` is an error.

    Returns
    -------
    KeyPair
        The two paths and the key id.

    Raises
    ------
    FileExistsError
        When ``out_dir`` already holds a private key and ``force`` is false.
    OSError
        When ``out_dir`` cannot be created or written.
    """
    require_crypto()
    from securesystemslib.signer import CryptoSigner

    folder = Path(out_dir)
    private, public = folder / PRIVATE_NAME, folder / PUBLIC_NAME
    if private.exists() and not force:
        raise FileExistsError(
            f"The 'out' folder {str(folder)!r} already holds a private key {str(private)!r}; "
            "pass --force (force=True) to replace it."
        )
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    signer = CryptoSigner.generate_ed25519()
    private.unlink(missing_ok=True)
    fd = os.open(private, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        os.fchmod(fh.fileno(), 0o600)
        fh.write(signer.private_bytes)
    public.write_bytes(_public_pem(signer))
    return KeyPair(private, public, signer.public_key.keyid)


def load_signer(path: str | os.PathLike[str], *, what: str = "key") -> CryptoSigner:
    """The signer of the ed25519 private key in the PEM file ``path``.

    Parameters
    ----------
    path : str or path-like
        A PKCS#8 PEM private key, as :func:`generate_key` writes.
    what : str, default "key"
        How error messages name the argument (``"key"``, ``"$ARDLIB_PROVENANCE_KEY"``).

    Returns
    -------
    securesystemslib.signer.CryptoSigner
        Signs with the key; ``.public_key`` is its :class:`~securesystemslib.signer.SSlibKey`.

    Raises
    ------
    FileNotFoundError, OSError
        When the file is missing or unreadable.
    ValueError
        When it is not an unencrypted PEM private key, or not an ed25519 one.
    """
    require_crypto()
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import load_pem_private_key
    from securesystemslib.signer import CryptoSigner

    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"The {what} {str(p)!r} does not exist (or is not a file).")
    data = p.read_bytes()
    try:
        private = load_pem_private_key(data, None)
    except (ValueError, TypeError) as exc:
        reason = " ".join(str(exc).split()) or type(exc).__name__
        raise ValueError(
            f"The {what} {str(p)!r} is not an unencrypted PEM private key ({reason})."
        ) from None
    if not isinstance(private, Ed25519PrivateKey):
        raise ValueError(
            f"The {what} {str(p)!r} is a {type(private).__name__}; expected an ed25519 key "
            "('ardlib provenance keygen' makes one)."
        )
    return CryptoSigner(private)


def load_public_keys(path: str | os.PathLike[str], *, what: str = "pub") -> list[SSlibKey]:
    """The ed25519 public keys in the PEM file ``path`` (one or more ``PUBLIC KEY`` blocks).

    Parameters
    ----------
    path : str or path-like
        A public-key file: ``provenance.pub`` from :func:`generate_key` or the keyring of
        ephemeral keys a signing run writes beside its envelopes.
    what : str, default "pub"
        How error messages name the argument.

    Returns
    -------
    list of securesystemslib.signer.SSlibKey
        In file order.

    Raises
    ------
    FileNotFoundError, OSError
        When the file is missing or unreadable.
    ValueError
        When it holds a private key, no public key, or a key that is not ed25519.
    """
    require_crypto()
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    from cryptography.hazmat.primitives.serialization import load_pem_public_key
    from securesystemslib.signer import SSlibKey

    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"The {what} key {str(p)!r} does not exist (or is not a file).")
    data = p.read_bytes()
    if b"PRIVATE KEY-----" in data:
        raise ValueError(
            f"The {what} key {str(p)!r} holds a private key; pass its public half (the .pub file)."
        )
    blocks = _PEM_PUBLIC.findall(data)
    if not blocks:
        raise ValueError(f"The {what} key {str(p)!r} holds no PEM public key.")
    keys = []
    for block in blocks:
        try:
            public = load_pem_public_key(block)
        except ValueError as exc:
            reason = " ".join(str(exc).split())
            raise ValueError(
                f"The {what} key {str(p)!r} is not a valid PEM key ({reason})."
            ) from None
        if not isinstance(public, Ed25519PublicKey):
            raise ValueError(
                f"The {what} key {str(p)!r} holds a {type(public).__name__}; expected ed25519."
            )
        keys.append(SSlibKey.from_crypto(public))
    return keys


def key_file_keyids(path: Path) -> list[str]:
    """Key ids in a public-key file; [] when it is missing or unreadable."""
    try:
        return [k.keyid for k in load_public_keys(path)]
    except (OSError, ValueError):
        return []


def signer_for(
    key: str | os.PathLike[str] | None = None, *, root: str | os.PathLike[str] | None = None
) -> tuple[CryptoSigner, str]:
    """The signer to use and where its key came from.

    The first of: ``key``; the file named by ``$ARDLIB_PROVENANCE_KEY``;
    ``<root>/.ardlib/keys/provenance.key``; a new ephemeral key (``source == "ephemeral"``:
    the caller keeps its public half beside the envelopes, see :func:`add_to_keyring`).

    Parameters
    ----------
    key : str or path-like, optional
        A private key file.
    root : str or path-like, optional
        Where ``.ardlib/keys`` is looked for (default: the working directory).

    Returns
    -------
    (CryptoSigner, str)
        The signer and its source: the key file's path, or ``"ephemeral"``.
    """
    require_crypto()
    from securesystemslib.signer import CryptoSigner

    if key is not None:
        return load_signer(key), str(key)
    env = os.environ.get(KEY_ENV)
    if env:
        return load_signer(env, what=f"key ${KEY_ENV} ="), env
    default = Path(root or ".") / DEFAULT_KEY_DIR / PRIVATE_NAME
    if default.is_file():
        return load_signer(default), str(default)
    return CryptoSigner.generate_ed25519(), "ephemeral"


def verification_keys(
    envelope_dir: Path, *, root: str | os.PathLike[str] | None = None
) -> list[tuple[SSlibKey, str]]:
    """Public keys to try on an envelope with no key given, each with where it came from.

    The public half of ``$ARDLIB_PROVENANCE_KEY``, ``<root>/.ardlib/keys/provenance.pub``
    and ``provenance.pub`` beside the envelope, those that exist.  A signature names its
    key id, so only the key that made it is tried.
    """
    found: list[tuple[SSlibKey, str]] = []
    env = os.environ.get(KEY_ENV)
    if env:
        found.append((load_signer(env, what=f"key ${KEY_ENV} =").public_key, f"${KEY_ENV}"))
    for path in (Path(root or ".") / DEFAULT_KEY_DIR / PUBLIC_NAME, envelope_dir / PUBLIC_NAME):
        if path.is_file():
            found += [(k, str(path)) for k in load_public_keys(path)]
    return found


def add_to_keyring(path: Path, signer: CryptoSigner, keep: set[str]) -> Path:
    """Add ``signer``'s public key to the keyring file ``path``, dropping keys not in ``keep``.

    ``keep`` holds the key ids still named by an envelope in the folder; the new key is
    always kept.  The file is replaced atomically.
    """
    from .._io import write_atomic

    blocks: list[bytes] = []
    if path.is_file():
        old = path.read_bytes()
        ids = key_file_keyids(path)
        pems = _PEM_PUBLIC.findall(old)
        if len(ids) == len(pems):
            blocks = [pem for kid, pem in zip(ids, pems, strict=True) if kid in keep]
    new = _public_pem(signer)
    if not any(b.strip() == new.strip() for b in blocks):
        blocks.append(new)
    return write_atomic(path, b"".join(b if b.endswith(b"\n") else b + b"\n" for b in blocks))
