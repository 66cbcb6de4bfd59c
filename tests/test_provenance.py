"""Signed provenance: in-toto statements in DSSE envelopes, signed and verified with real
ed25519 keys (securesystemslib), on real files in a temporary repository-shaped folder."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import platform
import re
import shutil
import stat
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

from ardlib import cli
from ardlib.provenance import (
    KEY_ENV,
    PREDICATE_TYPE,
    STATEMENT_TYPE,
    generate_key,
    report_files,
    report_status,
    sign_files,
    sign_report,
    verify_envelope,
)
from ardlib.reports import write_index
from ardlib.reports._run import sign_outputs

pytest.importorskip("securesystemslib")

WHEEL = "dist/ardlib-0.1.0-py3-none-any.whl"
SDIST = "dist/ardlib-0.1.0.tar.gz"
DIGEST = "image/ardlib-service.digest"


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _write(path: Path, data: bytes | str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


def _report(reports: Path, name: str, figures: tuple[str, ...] = ("a", "b")) -> None:
    """A rendered report: page, metrics JSON listing its figures, figure files."""
    listed = {
        f: [f"reports/figures/{name}/{f}.pdf", f"reports/figures/{name}/{f}.png"] for f in figures
    }
    rec = {
        "name": name,
        "title": f"Title of {name}",
        "html": f"{name}.html",
        "passed": True,
        "generated_at": "2026-11-26T18:41:07+00:00",
        "git_revision": "18af70a",
        "summary": "ok",
    }
    _write(reports / f"{name}.html", f"<html><body>{name}</body></html>")
    _write(reports / "metrics" / f"{name}.json", json.dumps({"report": rec, "figures": listed}))
    for stems in listed.values():
        for rel in stems:
            _write(reports.parent / rel, os.urandom(64))


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Materials, a wheel, an sdist, an image digest file and a report; the working folder."""
    root = tmp_path / "repo"
    _write(root / "requirements" / "lock.txt", "numpy==2.1.0 \\\n    --hash=sha256:00\n")
    _write(root / "dvc.lock", "schema: '2.0'\nstages: {}\n")
    _write(root / "params.yaml", "validation:\n  budget: 30\n")
    _write(root / "data" / "raw" / "suzuki" / "suzuki.csv", "x,y\n1,2\n")
    _write(root / "data" / "raw" / "manifest.json", "{}")
    whl = io.BytesIO()
    with zipfile.ZipFile(whl, "w") as z:
        z.writestr("ardlib/__init__.py", "__version__ = '0.1.0'\n")
    _write(root / WHEEL, whl.getvalue())
    sdist = io.BytesIO()
    with tarfile.open(fileobj=sdist, mode="w:gz") as t:
        info = tarfile.TarInfo("ardlib-0.1.0/PKG-INFO")
        info.size = 4
        t.addfile(info, io.BytesIO(b"Name"))
    _write(root / SDIST, sdist.getvalue())
    _write(root / DIGEST, "sha256:" + "ab" * 32 + "\n")
    _report(root / "reports", "validation")
    monkeypatch.chdir(root)
    monkeypatch.delenv(KEY_ENV, raising=False)
    return root


@pytest.fixture
def key(repo: Path) -> Path:
    """A key pair in the default folder, ``.ardlib/keys``."""
    return generate_key().private


def _statement(envelope: Path) -> dict:
    return json.loads(base64.b64decode(json.loads(envelope.read_text())["payload"]))


def _main(argv: list[str]) -> int:
    try:
        return cli.main(argv)
    except SystemExit as exc:  # argparse
        return exc.code if isinstance(exc.code, int) else 1


# -- signing and verifying -------------------------------------------------------------------


def test_a_signed_file_set_verifies_with_the_statement_it_claims(repo: Path, key: Path) -> None:
    signed = sign_files([WHEEL, SDIST, DIGEST], build_type="dist", command="make dist")
    report = sign_report("validation")
    assert signed.envelopes == tuple(Path(f"{p}.intoto.jsonl") for p in (WHEEL, SDIST, DIGEST))
    assert report.envelopes == (Path("reports/validation.html.intoto.jsonl"),)
    assert signed.key_source == str(Path(".ardlib/keys/provenance.key")) and not signed.ephemeral
    for env in (*signed.envelopes, *report.envelopes):
        result = verify_envelope(env, materials=True)
        assert result.passed, result.failures
        assert result.keyid == signed.keyid
    # an artifact path finds the envelope beside it
    assert verify_envelope(WHEEL).subjects == ("ardlib-0.1.0-py3-none-any.whl",)

    wheel = _statement(signed.envelopes[0])
    assert wheel["_type"] == STATEMENT_TYPE == "https://in-toto.io/Statement/v1"
    assert wheel["predicateType"] == PREDICATE_TYPE == "https://slsa.dev/provenance/v1"
    assert wheel["subject"] == [
        {"name": "ardlib-0.1.0-py3-none-any.whl", "digest": {"sha256": _sha(repo / WHEEL)}}
    ]
    build = wheel["predicate"]["buildDefinition"]
    assert build["buildType"] == "https://ardlib.invalid/build/dist/v1"
    assert build["externalParameters"] == {"command": "make dist", "params": {}}
    deps = {d["name"]: d for d in build["resolvedDependencies"]}
    for name in ("requirements/lock.txt", "dvc.lock", "params.yaml"):
        assert deps[name]["digest"] == {"sha256": _sha(repo / name)}
    for name in ("data/raw/manifest.json", "data/raw/suzuki/suzuki.csv"):
        assert deps[name]["digest"] == {"sha256": _sha(repo / name)}
        assert deps[name]["annotations"] == {"kind": "dataset"}
    assert "git" not in deps  # not a git work tree
    assert deps["python"]["uri"] == f"pkg:generic/python@{platform.python_version()}"
    assert deps["python"]["annotations"]["platform"] == platform.platform()
    run = wheel["predicate"]["runDetails"]
    assert run["builder"]["id"] == "https://ardlib.invalid/builder/local"
    meta = run["metadata"]
    stamp = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"
    assert re.fullmatch(stamp, meta["startedOn"]) and re.fullmatch(stamp, meta["finishedOn"])
    assert meta["startedOn"] <= meta["finishedOn"]
    ids = {
        _statement(e)["predicate"]["runDetails"]["metadata"]["invocationId"]
        for e in signed.envelopes
    }
    assert len(ids) == 3 and all(i.startswith("urn:uuid:") for i in ids)

    envelope = json.loads(report.envelopes[0].read_text())
    assert envelope["payloadType"] == "application/vnd.in-toto+json"
    assert [s["keyid"] for s in envelope["signatures"]] == [signed.keyid]
    names = [s["name"] for s in _statement(report.envelopes[0])["subject"]]
    assert names == [
        "validation.html",
        "metrics/validation.json",
        *(f"figures/validation/{f}.{ext}" for f in ("a", "b") for ext in ("pdf", "png")),
    ]
    assert _statement(report.envelopes[0])["predicate"]["buildDefinition"]["buildType"] == (
        "https://ardlib.invalid/build/report/v1"
    )


def test_one_changed_byte_in_a_report_names_that_subject(repo: Path, key: Path) -> None:
    env = sign_report("validation").envelopes[0]
    figure = repo / "reports" / "figures" / "validation" / "b.png"
    data = bytearray(figure.read_bytes())
    data[10] ^= 0x01
    figure.write_bytes(bytes(data))
    result = verify_envelope(env)
    assert not result.passed
    assert len(result.failures) == 1
    assert result.failures[0].startswith("subject 'figures/validation/b.png' changed: sha256 ")
    (repo / "reports" / "metrics" / "validation.json").unlink()
    failures = verify_envelope(env).failures
    assert failures[0].startswith("subject 'metrics/validation.json' missing: no file ")
    assert "(+1 more)" in report_status("reports", "validation.html")


def test_a_different_key_fails_the_signature(repo: Path, key: Path, tmp_path: Path) -> None:
    env = sign_files([WHEEL]).envelopes[0]
    other = generate_key(tmp_path / "other")
    result = verify_envelope(env, public_key=other.public)
    assert not result.passed and result.subjects == ()
    (failure,) = result.failures
    assert failure.startswith("signature: made by key id ")
    assert f"not by the key(s) tried ({other.public})" in failure


def test_a_tampered_payload_fails_the_signature(repo: Path, key: Path) -> None:
    """An attacker swaps the wheel and rewrites the signed digest: the signature breaks."""
    env = sign_files([WHEEL]).envelopes[0]
    _write(repo / WHEEL, b"malicious wheel")
    outer = json.loads(env.read_text())
    statement = _statement(env)
    statement["subject"][0]["digest"]["sha256"] = _sha(repo / WHEEL)
    outer["payload"] = base64.b64encode(json.dumps(statement).encode()).decode()
    env.write_text(json.dumps(outer) + "\n")
    (failure,) = verify_envelope(env).failures
    assert failure.startswith("signature: does not verify with its key (")
    assert "the payload or the signature was altered" in failure
    env.write_text("{not json\n")
    (failure,) = verify_envelope(env).failures
    assert failure.startswith("envelope: ") and "is not JSON" in failure


def test_materials_are_checked_when_asked(repo: Path, key: Path) -> None:
    env = sign_files([DIGEST]).envelopes[0]
    _write(repo / "params.yaml", "validation:\n  budget: 31\n")
    assert verify_envelope(env).passed  # the artifact itself is unchanged
    (failure,) = verify_envelope(env, materials=True).failures
    assert failure.startswith("material 'params.yaml' changed: sha256 ")
    (repo / "dvc.lock").unlink()
    _write(repo / "data" / "raw" / "new.csv", "a\n1\n")
    failures = verify_envelope(env, materials=True).failures
    assert len(failures) == 3
    assert failures[0].startswith("material 'dvc.lock' missing: no file 'dvc.lock' in ")
    assert failures[1].startswith("material 'params.yaml' changed: sha256 ")
    assert failures[2] == "material 'data/raw/new.csv' added: not in the signed materials"


def test_a_missing_envelope_is_a_clear_error(repo: Path, key: Path) -> None:
    with pytest.raises(
        FileNotFoundError,
        match=r"No provenance envelope '.*\.whl\.intoto\.jsonl'"
        r" beside '.*\.whl': pass the envelope's path if it is elsewhere, or sign the file",
    ):
        verify_envelope(WHEEL)
    with pytest.raises(FileNotFoundError, match=r"No file 'nosuch\.whl' \(and no envelope"):
        verify_envelope("nosuch.whl")
    with pytest.raises(FileNotFoundError, match=r"^No provenance envelope 'x\.intoto\.jsonl'\.$"):
        verify_envelope("x.intoto.jsonl")
    assert report_status("reports", "validation.html") == "not signed"


def test_git_commit_and_tree_state_are_materials(repo: Path, key: Path) -> None:
    if not shutil.which("git"):
        pytest.skip("needs git")
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "params.yaml", "dvc.lock", "requirements"], check=True)
    subprocess.run([*git, "commit", "-qm", "x"], check=True)
    head = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True).stdout
    deps = _statement(sign_files([WHEEL]).envelopes[0])["predicate"]["buildDefinition"]
    (git_dep,) = [d for d in deps["resolvedDependencies"] if d["name"] == "git"]
    assert git_dep["digest"] == {"gitCommit": head.strip()}
    assert git_dep["annotations"] == {"tree_state": "clean", "changed_files": []}
    _write(repo / "params.yaml", "changed: true\n")
    deps = _statement(sign_files([WHEEL]).envelopes[0])["predicate"]["buildDefinition"]
    (git_dep,) = [d for d in deps["resolvedDependencies"] if d["name"] == "git"]
    assert git_dep["annotations"] == {"tree_state": "dirty", "changed_files": ["params.yaml"]}


# -- keys ------------------------------------------------------------------------------------


def test_keygen_writes_a_0600_private_key_and_refuses_to_overwrite(repo: Path) -> None:
    pair = generate_key()
    assert pair.private == Path(".ardlib/keys/provenance.key")
    assert stat.S_IMODE(pair.private.stat().st_mode) == 0o600
    assert stat.S_IMODE(pair.private.parent.stat().st_mode) == 0o700
    assert pair.private.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    assert pair.public.read_bytes().startswith(b"-----BEGIN PUBLIC KEY-----")
    with pytest.raises(FileExistsError, match=r"already holds a private key.*--force"):
        generate_key()
    again = generate_key(force=True)
    assert again.keyid != pair.keyid
    assert stat.S_IMODE(again.private.stat().st_mode) == 0o600


def test_the_key_comes_from_the_environment_variable(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pair = generate_key(tmp_path / "ci-keys")
    monkeypatch.setenv(KEY_ENV, str(pair.private))
    signed = sign_files([WHEEL])
    assert (signed.keyid, signed.key_source) == (pair.keyid, str(pair.private))
    assert not (repo / "dist" / "provenance.pub").exists()
    result = verify_envelope(WHEEL)  # the public half of $ARDLIB_PROVENANCE_KEY
    assert result.passed and result.key_source == f"${KEY_ENV}"
    monkeypatch.setenv(KEY_ENV, str(tmp_path / "nosuch.key"))
    with pytest.raises(FileNotFoundError, match=r"\$ARDLIB_PROVENANCE_KEY = '.*nosuch\.key'"):
        sign_files([WHEEL])


def test_without_a_key_an_ephemeral_key_signs_and_its_public_half_is_kept(repo: Path) -> None:
    first = sign_files([WHEEL])
    ring = repo / "dist" / "provenance.pub"
    assert first.ephemeral and first.keyring == Path("dist/provenance.pub") and ring.is_file()
    assert (
        _statement(first.envelopes[0])["predicate"]["buildDefinition"]["internalParameters"][
            "signing_key"
        ]
        == "ephemeral"
    )
    second = sign_files([SDIST])  # another run, another key, same folder
    assert second.keyid != first.keyid
    assert ring.read_text().count("BEGIN PUBLIC KEY") == 2
    assert verify_envelope(WHEEL).passed and verify_envelope(SDIST).passed
    third = sign_files([WHEEL])  # re-signed: the first key signs nothing now and is dropped
    assert ring.read_text().count("BEGIN PUBLIC KEY") == 2
    assert verify_envelope(WHEEL).keyid == third.keyid and verify_envelope(SDIST).passed


# -- bad arguments ---------------------------------------------------------------------------


def test_bad_arguments_are_one_line_errors(repo: Path, key: Path, tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"^The artifact 'nosuch\.whl' does not exist\.$"):
        sign_files([WHEEL, "nosuch.whl"])
    assert not list(repo.rglob("*.intoto.jsonl"))  # nothing written when one file is missing
    with pytest.raises(FileNotFoundError, match="'dist' is a directory, not a file"):
        sign_files(["dist"])
    garbage = _write(tmp_path / "garbage.key", "not a key\n")
    with pytest.raises(ValueError, match=r"^The key '.*garbage\.key' is not an unencrypted PEM"):
        sign_files([WHEEL], key=garbage)
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.serialization import (
        Encoding,
        NoEncryption,
        PrivateFormat,
    )

    pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()
    )
    with pytest.raises(ValueError, match="expected an ed25519 key"):
        sign_files([WHEEL], key=_write(tmp_path / "ec.key", pem))
    with pytest.raises(FileNotFoundError, match=r"^The key '.*nosuch\.key' does not exist"):
        sign_files([WHEEL], key=tmp_path / "nosuch.key")
    with pytest.raises(ValueError, match=r"'envelope' file name must end in '\.intoto\.jsonl'"):
        sign_files([WHEEL], envelope="bundle.json")
    sign_files([WHEEL])
    with pytest.raises(ValueError, match="holds a private key; pass its public half"):
        verify_envelope(WHEEL, public_key=key)
    with pytest.raises(ValueError, match="holds no PEM public key"):
        verify_envelope(WHEEL, public_key=garbage)
    shutil.rmtree(repo / ".ardlib")
    with pytest.raises(ValueError, match=r"No public key to verify .*pass --pub KEY"):
        verify_envelope(WHEEL)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["sign", "nosuch.whl"], "The artifact 'nosuch.whl' does not exist."),
        (["verify", "nosuch.whl"], "No file 'nosuch.whl'"),
        (["verify", WHEEL], "No provenance envelope"),
        (["sign", WHEEL, "--key", "params.yaml"], "is not an unencrypted PEM private key"),
        (["verify", WHEEL + ".intoto.jsonl", "--pub", "nosuch.pub"], "does not exist"),
    ],
)
def test_cli_bad_input_exits_2_with_one_line(
    repo: Path, argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    if argv[0] == "verify" and "--pub" in argv:
        sign_files([WHEEL])
    assert _main(["provenance", *argv]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("ardlib: error: ") and message in err[0], err


# -- command line ----------------------------------------------------------------------------


def test_cli_keygen_sign_verify(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    keys = tmp_path / "keys"
    assert _main(["provenance", "keygen", "--out", str(keys)]) == 0
    assert stat.S_IMODE((keys / "provenance.key").stat().st_mode) == 0o600
    assert _main(["provenance", "keygen", "--out", str(keys)]) == 2
    capsys.readouterr()
    argv = ["provenance", "sign", WHEEL, SDIST, "--key", str(keys / "provenance.key")]
    assert _main([*argv, "--build-type", "dist", "--param", "SOURCE_DATE_EPOCH=1700000000"]) == 0
    out = capsys.readouterr().out
    assert f"wrote {WHEEL}.intoto.jsonl" in out and f"wrote {SDIST}.intoto.jsonl" in out
    external = _statement(Path(f"{WHEEL}.intoto.jsonl"))["predicate"]["buildDefinition"]
    assert external["externalParameters"] == {
        "command": f"ardlib provenance sign {WHEEL} {SDIST}",
        "params": {"SOURCE_DATE_EPOCH": "1700000000"},
    }
    pub = str(keys / "provenance.pub")
    assert _main(["provenance", "verify", WHEEL, f"{SDIST}.intoto.jsonl", "--pub", pub]) == 0
    out = capsys.readouterr().out
    assert out.count(": verified: signature (key ") == 2
    # envelopes in another folder (what `make dist` does): subjects named relative to it
    assert _main(["provenance", "sign", DIGEST, "--out", "prov", "--key", argv[-1]]) == 0
    capsys.readouterr()
    env = Path("prov/ardlib-service.digest.intoto.jsonl")
    assert [s["name"] for s in _statement(env)["subject"]] == ["../image/ardlib-service.digest"]
    assert _main(["provenance", "verify", str(env), "--pub", pub]) == 0

    # one envelope over a report's files, in another folder; --materials
    files = [str(p) for p in report_files("validation", "reports")]
    bundle = "signed/validation.html.intoto.jsonl"
    assert _main(["provenance", "sign", *files, "--envelope", bundle]) == 0
    assert "signed with an ephemeral key" in capsys.readouterr().out
    assert _main(["provenance", "verify", bundle, "--materials"]) == 0
    assert "6 subjects and the materials" in capsys.readouterr().out
    _write(repo / "reports" / "validation.html", "<html>edited</html>")
    _write(repo / "params.yaml", "edited: true\n")
    assert _main(["provenance", "verify", bundle, "--materials"]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"{bundle}: FAILED"
    assert out[1].startswith("  subject '../reports/validation.html' changed: ")
    assert out[2].startswith("  material 'params.yaml' changed: ")
    assert _main(["provenance", "verify", WHEEL, "--pub", "signed/provenance.pub"]) == 1
    assert "signature: made by key id" in capsys.readouterr().out


# -- reports ---------------------------------------------------------------------------------


def test_the_report_runner_signs_page_metrics_and_figures(repo: Path, key: Path) -> None:
    """``sign_outputs`` is what ``run_report`` calls after a successful run."""
    _write(repo / "out" / "figures" / "extra.png", b"\x89PNG")  # listed nowhere but the folder
    metrics = repo / "reports" / "metrics" / "validation.json"
    params = {
        "budget": 30,
        "metrics_path": "reports/metrics/validation.json",
        "figures_dir": "out/figures",
    }
    env = sign_outputs("validation", repo / "reports", repo, params)
    assert env == repo / "reports" / "validation.html.intoto.jsonl"
    result = verify_envelope(env, materials=True)
    assert result.passed, result.failures
    assert "../out/figures/extra.png" in result.subjects
    assert "metrics/validation.json" in result.subjects
    assert result.statement is not None
    external = result.statement["predicate"]["buildDefinition"]["externalParameters"]
    assert external == {"command": "ardlib report validation", "params": params}
    assert metrics.is_file()


def test_without_securesystemslib_a_report_is_not_signed_with_a_note(
    repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("securesystemslib", "securesystemslib.dsse", "securesystemslib.signer"):
        monkeypatch.setitem(sys.modules, name, None)
    assert sign_outputs("validation", repo / "reports", repo, {}) is None
    err = capsys.readouterr().err
    assert "note: report 'validation' is not signed" in err
    assert "pip install 'ardlib[provenance]'" in err
    assert not list(repo.rglob("*.intoto.jsonl"))
    _write(repo / "reports" / "validation.html.intoto.jsonl", "{}\n")
    assert report_status("reports", "validation.html") == "not checked (securesystemslib missing)"


def test_the_index_shows_each_reports_verification(repo: Path, key: Path) -> None:
    _report(repo / "reports", "benchmark")
    _report(repo / "reports", "deployment")
    sign_report("validation")
    sign_report("deployment")
    _write(repo / "reports" / "figures" / "deployment" / "a.pdf", b"changed")
    page = write_index("reports").read_text()
    rows = {
        m[0]: m[1]
        for m in re.findall(r'<a href="(\w+)\.html">.*?(<td class="\w+">[^<]*</td>)</tr>', page)
    }
    assert rows["validation"] == '<td class="verified">verified</td>'
    assert rows["benchmark"] == '<td class="unsigned">not signed</td>'
    assert rows["deployment"].startswith(
        '<td class="tampered">FAILED: subject &#x27;figures/deployment/a.pdf&#x27; changed'
    )
    assert "Provenance: 1 verified, 1 failed verification, 1 not signed or not checked." in page
    assert write_index("reports").read_text() == page  # still deterministic


@pytest.mark.slow  # a Jupyter kernel (~2 s); the fast tier calls sign_outputs directly
def test_run_report_writes_a_verifying_envelope(repo: Path, key: Path) -> None:
    import nbformat
    from nbformat import v4

    from ardlib.reports import run_report

    code = (
        "import json; from pathlib import Path\n"
        "Path('reports/figures/tiny').mkdir(parents=True, exist_ok=True)\n"
        "Path('reports/figures/tiny/f.png').write_bytes(b'png')\n"
        "Path('reports/metrics/tiny.json').write_text(json.dumps({'n': n}))\n"
    )
    nb = v4.new_notebook(
        cells=[v4.new_code_cell("n = 1", metadata={"tags": ["parameters"]}), v4.new_code_cell(code)]
    )
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    (repo / "notebooks").mkdir()
    nbformat.write(nb, repo / "notebooks" / "tiny.ipynb")
    result = run_report(
        "tiny", {"n": 2}, notebooks_dir=repo / "notebooks", out_dir=repo / "reports"
    )
    assert result.envelope == (repo / "reports" / "tiny.html.intoto.jsonl").resolve()
    verified = verify_envelope(result.envelope)
    assert verified.passed, verified.failures
    assert verified.subjects == ("tiny.html", "metrics/tiny.json", "figures/tiny/f.png")
    unsigned = run_report("tiny", notebooks_dir=repo / "notebooks", out_dir=repo / "x", sign=False)
    assert unsigned.envelope is None and not list((repo / "x").glob("*.intoto.jsonl"))


def test_keygen_warns_about_a_key_git_would_track(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    if not shutil.which("git"):
        pytest.skip("needs git")
    subprocess.run(["git", "init", "-q"], check=True)
    _write(repo / ".gitignore", "/.ardlib/\n")
    assert _main(["provenance", "keygen"]) == 0
    assert "warning" not in capsys.readouterr().err
    assert _main(["provenance", "keygen", "--out", "keys"]) == 0
    err = capsys.readouterr().err
    assert "keys/provenance.key is inside a git work tree and not ignored; never commit it" in err
