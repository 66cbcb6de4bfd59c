"""``ardlib provenance keygen``, ``sign`` and ``verify``.

- ``ardlib provenance keygen [--out .ardlib/keys] [--force]`` writes ``provenance.key``
  (PEM, mode 0600) and ``provenance.pub``; exit status 0.
- ``ardlib provenance sign PATH... [--key K] [--out DIR | --envelope E] [--repo DIR]
  [--build-type artifact|dist|image|report] [--command TEXT] [--param KEY=VALUE ...]``
  writes ``<PATH>.intoto.jsonl`` for each PATH (in DIR with ``--out``), or one envelope E
  covering every PATH; without a key (``--key``, ``$ARDLIB_PROVENANCE_KEY``,
  ``.ardlib/keys/provenance.key``) an ephemeral key signs and its public half goes to
  ``provenance.pub`` beside the envelopes.  Exit status 0.
- ``ardlib provenance verify PATH... [--pub KEY] [--materials] [--repo DIR]``: PATH is an
  envelope or an artifact with its envelope beside it; exit status 0 when every signature,
  subject (and with ``--materials`` every file material) verifies, 1 otherwise, with one
  line per failed check.

Bad input (a missing file or envelope, an unreadable key, securesystemslib not installed)
raises ValueError, OSError or ImportError, which :func:`ardlib.cli.main` prints as one
``ardlib: error:`` line with exit status 2.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path

__all__ = ["add_provenance_parser", "run_provenance_command"]


def _param(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE; got {text!r}")
    return key, value


def add_provenance_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``provenance keygen``, ``sign`` and ``verify`` on the ``ardlib`` subparsers."""
    from ._keys import DEFAULT_KEY_DIR
    from ._statement import BUILD_TYPES

    prov = sub.add_parser("provenance", help="sign artifacts and reports; verify signatures")
    psub = prov.add_subparsers(dest="provenance_cmd", required=True)
    keygen = psub.add_parser("keygen", help="make an ed25519 signing key pair")
    keygen.add_argument(
        "--out", default=DEFAULT_KEY_DIR, help=f"key folder (default {DEFAULT_KEY_DIR})"
    )
    keygen.add_argument("--force", action="store_true", help="replace an existing key pair")
    sign = psub.add_parser("sign", help="write signed in-toto provenance for files")
    sign.add_argument("paths", nargs="+", metavar="PATH", help="artifact files")
    sign.add_argument("--key", help="private key (default $ARDLIB_PROVENANCE_KEY, .ardlib/keys)")
    where = sign.add_mutually_exclusive_group()
    where.add_argument("--out", help="folder for the envelopes (default: beside each file)")
    where.add_argument("--envelope", help="one envelope (*.intoto.jsonl) covering every PATH")
    sign.add_argument("--repo", help="repository root for the materials (default: .)")
    sign.add_argument("--build-type", choices=BUILD_TYPES, default="artifact")
    sign.add_argument("--command", default="", help="the command that built the files")
    sign.add_argument(
        "--param", type=_param, action="append", default=[], metavar="KEY=VALUE",
        help="a build parameter to record (repeatable)",
    )  # fmt: skip
    verify = psub.add_parser("verify", help="check signatures and file digests")
    verify.add_argument("paths", nargs="+", metavar="PATH", help="envelope or signed artifact")
    verify.add_argument("--pub", help="public key file (default: located, see the docs)")
    verify.add_argument(
        "--materials", action="store_true", help="also recompute lock, params and dataset digests"
    )
    verify.add_argument("--repo", help="repository root for the materials and keys (default: .)")


def _tracked_warning(path: Path) -> str | None:
    """A warning when ``path`` is inside a git work tree and not ignored by it."""
    from .._io import git

    folder = path.parent
    if git("rev-parse", "--is-inside-work-tree", cwd=folder) != "true":
        return None
    if git("check-ignore", "-q", path.name, cwd=folder) is not None:
        return None
    return f"warning: {path} is inside a git work tree and not ignored; never commit it"


def _keygen(args: argparse.Namespace) -> int:
    from ._keys import generate_key

    pair = generate_key(args.out, force=args.force)
    print(f"wrote {pair.private} (private, mode 0600) and {pair.public} (public)")
    print(f"key id {pair.keyid}")
    warning = _tracked_warning(pair.private.resolve())
    if warning:
        print(warning, file=sys.stderr)
    return 0


def _sign(args: argparse.Namespace) -> int:
    from ._sign import sign_files

    started = datetime.now(UTC)
    result = sign_files(
        args.paths,
        envelope=args.envelope,
        out_dir=args.out,
        key=args.key,
        repo=args.repo,
        build_type=args.build_type,
        command=args.command or " ".join(["ardlib", "provenance", "sign", *args.paths]),
        params=dict(args.param),
        started_on=started,
    )
    for env in result.envelopes:
        print(f"wrote {env}")
    if result.ephemeral:
        print(
            f"signed with an ephemeral key (id {result.keyid[:12]}); its public half is in "
            f"{result.keyring}"
        )
    else:
        print(f"signed with {result.key_source} (id {result.keyid[:12]})")
    return 0


def _verify(args: argparse.Namespace) -> int:
    from ._verify import locate_envelope, verify_envelope

    for path in args.paths:  # every envelope exists before any is checked
        locate_envelope(path)
    status = 0
    for path in args.paths:
        result = verify_envelope(
            path, public_key=args.pub, materials=args.materials, repo=args.repo
        )
        print(result.format())
        status = status or (0 if result.passed else 1)
    return status


def run_provenance_command(args: argparse.Namespace) -> int:
    """Run one ``ardlib provenance`` subcommand; returns the exit status (0 or 1).

    Bad input raises ValueError, OSError or ImportError for :func:`ardlib.cli.main` to
    report with exit status 2.
    """
    commands = {"keygen": _keygen, "sign": _sign, "verify": _verify}
    return commands[args.provenance_cmd](args)
