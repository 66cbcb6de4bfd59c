"""Public names of ardlib.provenance (read by lazy_loader.attach_stub and type checkers)."""

from ._envelope import ENVELOPE_SUFFIX, PAYLOAD_TYPE
from ._keys import DEFAULT_KEY_DIR, KEY_ENV, KeyPair, generate_key
from ._report import report_files, report_status, sign_report
from ._sign import SignResult, sign_files
from ._statement import (
    BUILD_TYPES,
    PREDICATE_TYPE,
    STATEMENT_TYPE,
    build_statement,
    collect_materials,
)
from ._verify import Verification, verify_envelope

__all__ = [
    "BUILD_TYPES",
    "DEFAULT_KEY_DIR",
    "ENVELOPE_SUFFIX",
    "KEY_ENV",
    "PAYLOAD_TYPE",
    "PREDICATE_TYPE",
    "STATEMENT_TYPE",
    "KeyPair",
    "SignResult",
    "Verification",
    "build_statement",
    "collect_materials",
    "generate_key",
    "report_files",
    "report_status",
    "sign_files",
    "sign_report",
    "verify_envelope",
]
