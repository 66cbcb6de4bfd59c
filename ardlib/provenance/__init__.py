"""Signed provenance of ardlib's artifacts: in-toto statements in DSSE envelopes.

Every artifact (a wheel, an sdist, a container image digest file, a report's page with its
metrics and figures) gets an in-toto Statement v1 whose predicate is SLSA Provenance v1:
the files with their SHA-256 (``subject``), how they were built (``buildType``
``https://ardlib.invalid/build/<kind>/v1``, the command and its parameters) from what
(``resolvedDependencies``: the git commit and the state of the working tree, the SHA-256
of ``requirements/lock.txt``, ``dvc.lock``, ``params.yaml`` and of every file under
``data/raw``, the Python version and platform) and when (``runDetails``).  The statement is
the payload of a DSSE envelope signed with ed25519 by securesystemslib, written beside the
artifact as ``<artifact>.intoto.jsonl`` (JSON Lines, one envelope).

- :func:`generate_key` writes a key pair (private key PEM, mode 0600) to ``.ardlib/keys/``.
- :func:`sign_files` signs artifacts; :func:`sign_report` signs a report
  (:func:`report_files`), which :func:`ardlib.reports.run_report` does after every
  successful run.  The key is the one given, else ``$ARDLIB_PROVENANCE_KEY``, else
  ``.ardlib/keys/provenance.key``, else an ephemeral key whose public half is added to
  ``provenance.pub`` beside the envelopes (what CI does).
- :func:`verify_envelope` checks the signature, every subject's SHA-256 and, when asked,
  the file materials, and returns a :class:`Verification` naming each failed check;
  :func:`report_status` is the verdict the report index shows.

Command line: ``ardlib provenance keygen [--out DIR]``, ``ardlib provenance sign PATH...
[--key K]`` and ``ardlib provenance verify PATH... [--pub KEY] [--materials]`` (exit 1
when a check fails, 2 for bad input such as a missing envelope or an unreadable key).

securesystemslib (with pyca/cryptography) is the optional ``provenance`` extra
(``pip install 'ardlib[provenance]'``); it is imported when a function needs it.
"""

import lazy_loader as lazy

__getattr__, __dir__, __all__ = lazy.attach_stub(__name__, __file__)
