"""Property-based fuzzing (Hypothesis) of every input parser, through the CLI.

The property, for campaign YAML, .po files, broadcast.toml, bundle zips (verify and usb)
and minisign key and signature files: the command succeeds, or fails with a clear error
(exit 2 for bad input, 1 for a bundle that does not verify) in at most three lines on
stderr, never an internal error, and a failed command writes nothing.

The CLI runs in process here (thousands of examples would take too long as processes);
its boundary turns any unexpected exception into an "internal error" line, which the
property forbids, so a traceback cannot hide. CI runs the "ci" profile (derandomized,
bounded); ``HYPOTHESIS_PROFILE=full`` runs more. docs/reliability.md records the counts.
"""

from __future__ import annotations

import base64
import contextlib
import io
import os
import shutil
import struct
import tempfile
import warnings
import zipfile
from pathlib import Path

from helpers import FIXTURE, snapshot
from hypothesis import HealthCheck, example, given, reject, settings
from hypothesis import strategies as st

from pipeline.cli import main
from pipeline.layout import Layout

settings.register_profile("ci", max_examples=60, deadline=None, derandomize=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("full", max_examples=1000, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def run(*args) -> tuple[int, str]:
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main([str(a) for a in args])
    return code, err.getvalue()


def assert_clean(code: int, err: str, allowed=(0, 2)) -> None:
    assert code in allowed, (code, err)
    assert "internal error" not in err and "Traceback" not in err, err
    if code:
        lines = err.strip().split("\n")
        # A few lines (a warning or two before the error), or one per mistake of the
        # sources, each named as broadcast's and placed in a file.
        assert len(lines) >= 1, err
        assert len(lines) <= 3 or all(line.startswith("broadcast: ") and ".yaml:" in line
                                      for line in lines), err


def check_command(root: Path, command: str, writes: bool) -> None:
    """``broadcast COMMAND`` on ``root`` holds the property; a command that must not write
    (``writes=False``), or one that failed, leaves every file as it was."""
    before = snapshot(root)
    code, err = run(command, "--project", root)
    assert_clean(code, err)
    if code or not writes:
        assert snapshot(root) == before


@contextlib.contextmanager
def project_copy():
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "project"
        shutil.copytree(FIXTURE, root, ignore=shutil.ignore_patterns("audio_out"))
        yield root


def mutate(data: bytes, edits) -> bytes:
    """Apply (position, delete count, inserted bytes) edits to ``data``."""
    out = bytearray(data)
    for position, delete, insert in edits:
        at = position % (len(out) + 1)
        out[at:at + delete] = insert
    return bytes(out)


EDITS = st.lists(st.tuples(st.integers(0, 1 << 16), st.integers(0, 8),
                           st.one_of(st.binary(max_size=8),
                                     st.sampled_from([b'"', b"\n", b"{", b"}", b":", b"- ",
                                                      b"&a ", b"*a", b"<<: ", b"!!python/", b"#",
                                                      b"\\", b"\x00", b"\xef\xbb\xbf",
                                                      b"msgid ", b"msgstr[1] ", b"[", b"]",
                                                      b"=", "ё".encode(), b"\t"]))),
                 min_size=1, max_size=6)


# --- campaign YAML ----------------------------------------------------------------------------

YAML_VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True),
              st.text(max_size=30)),
    lambda inner: st.one_of(st.lists(inner, max_size=4),
                            st.dictionaries(st.sampled_from(
                                ["id", "title", "text", "note", "max_seconds", "items",
                                 "intro", "gap_seconds", "messages", "programs", "variables",
                                 "campaign", "source_locale", "x"]), inner, max_size=5)),
    max_leaves=20)


@given(EDITS)
@example([(0, 0, b"&a [*a]\n")])
@example([(40, 0, b"\n<<: {title: x}\n")])
def test_fuzz_campaign_yaml_mutations(edits):
    with project_copy() as root:
        path = root / "messages" / "demo.yaml"
        path.write_bytes(mutate(path.read_bytes(), edits))
        check_command(root, "status", writes=False)


@given(YAML_VALUES)
def test_fuzz_campaign_yaml_structures(value):
    import yaml
    with project_copy() as root:
        (root / "messages" / "demo.yaml").write_text(
            yaml.safe_dump({"campaign": "demo", "title": "T", "messages": value},
                           allow_unicode=True), encoding="utf-8")
        check_command(root, "extract", writes=True)


# --- .po files ------------------------------------------------------------------------------

@given(EDITS)
@example([(2000, 0, b'\nmsgctxt "rights"\nmsgid "x"\nmsgstr "y"\n')])
def test_fuzz_po_files(edits):
    with project_copy() as root:
        path = root / "locales" / "ru" / "LC_MESSAGES" / "demo.po"
        path.write_bytes(mutate(path.read_bytes(), edits))
        check_command(root, "update", writes=True)
        check_command(root, "status", writes=False)


# --- broadcast.toml -------------------------------------------------------------------------

TOML_SCALARS = st.one_of(st.integers(-10**6, 10**6), st.floats(allow_nan=False, width=32),
                         st.booleans(), st.text(max_size=20),
                         st.lists(st.text(max_size=8), max_size=3))
TOML_TABLES = st.dictionaries(
    st.sampled_from(["render", "voices.ru", "voices.ru.options", "profiles.radio",
                     "profiles.x", "voices.ko_KP"]),
    st.dictionaries(st.sampled_from(["engine", "voice", "speed", "pitch", "workers",
                                     "profiles", "target_lufs", "true_peak_dbtp",
                                     "sample_rate", "format", "bitrate_kbps", "lowpass_hz",
                                     "synthesis_timeout", "recordings", "tolerance_lu"]),
                    TOML_SCALARS, max_size=4), max_size=3)


def toml_text(tables: dict) -> str:
    import json
    lines = ['locales = ["ko_KP", "ru", "uk"]']
    for name, values in tables.items():
        lines.append(f"[{name}]")
        lines += [f"{k} = {json.dumps(v)}" for k, v in values.items()]
    return "\n".join(lines) + "\n"


@given(TOML_TABLES)
def test_fuzz_broadcast_toml_structures(tables):
    with project_copy() as root:
        (root / "broadcast.toml").write_text(toml_text(tables), encoding="utf-8")
        check_command(root, "status", writes=False)


@given(EDITS)
def test_fuzz_broadcast_toml_mutations(edits):
    with project_copy() as root:
        path = root / "broadcast.toml"
        path.write_bytes(mutate(path.read_bytes(), edits))
        check_command(root, "status", writes=False)


# --- bundles (verify and usb) ------------------------------------------------------------

_BUNDLE: dict[str, bytes] = {}


def a_bundle() -> bytes:
    """A real bundle of the fixture (ko_KP, usb), made once."""
    if "zip" not in _BUNDLE:
        with project_copy() as root:
            code, err = run("build", "--project", root, "--locale", "ko_KP", "--profile",
                            "usb", "--jobs", "1")
            assert code == 0, err
            _BUNDLE["zip"] = (Layout(root).out_dir / "bundles" / "demo-ko_KP-usb.zip").read_bytes()
    return _BUNDLE["zip"]


MEMBER_NAMES = st.one_of(st.sampled_from(["manifest.json", "SHA256SUMS", "01-ident.mp3",
                                          "programs/", "programs/x.mp3", "../x.mp3",
                                          "/etc/x", "a\\b.mp3", "01-IDENT.mp3", "x.txt"]),
                         st.text(min_size=1, max_size=12))
MANIFESTS = st.one_of(st.just(b"[]"), st.just(b'{"files": {}}'),
                      st.just(b'{"campaign": "d", "locale": "ko", "profile": {}, '
                              b'"files": [{"file": null}]}'),
                      st.binary(max_size=40), YAML_VALUES.map(lambda v: repr(v).encode()))


def rezip(data: bytes, changes) -> bytes:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        items = [(i.filename, zf.read(i)) for i in zf.infolist()]
    for kind, name, payload in changes:
        if kind == "add":
            items.append((name, payload))
        elif kind == "drop" and items:
            items.pop(len(payload) % len(items))
        elif kind == "manifest":
            items = [(n, payload if n == "manifest.json" else d) for n, d in items]
    buf = io.BytesIO()
    with warnings.catch_warnings(), zipfile.ZipFile(buf, "w") as zf:
        warnings.simplefilter("ignore")     # duplicate names are meant
        for name, payload in items:
            zf.writestr(name, payload)
    return buf.getvalue()


ZIP_CHANGES = st.lists(st.tuples(st.sampled_from(["add", "drop", "manifest"]), MEMBER_NAMES,
                                 st.one_of(st.binary(max_size=30), MANIFESTS)), max_size=3)


def check_bundle(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "b.zip"
        path.write_bytes(data)
        code, err = run("verify", path)
        assert_clean(code, err, allowed=(0, 1, 2))
        image, stick = Path(tmp) / "stick.img", Path(tmp) / "stick"
        stick.mkdir()
        code, err = run("usb", path, stick)
        assert_clean(code, err, allowed=(0, 1, 2))
        if code:
            assert not any(stick.iterdir()) and not image.exists()


@given(ZIP_CHANGES)
@example([("add", "SHA256SUMS", b"\x80")])             # once an internal error
def test_fuzz_bundle_members(changes):
    try:
        data = rezip(a_bundle(), changes)
    except (ValueError, IndexError):
        reject()                        # a name Python's zipfile cannot write at all
    check_bundle(data)


@given(EDITS)
@example([(4, 0, b"\x00"), (4, 0, b"<<: "), (4, 1, b""), (4, 6, b""), (7, 2, b"\n"),
          (23, 1, b"<<: ")])            # once an internal error: a name that is not UTF-8
def test_fuzz_bundle_bytes(edits):
    check_bundle(mutate(a_bundle(), edits))


# --- minisign keys and signatures ---------------------------------------------------------

def key_file(comment: str, payload: bytes) -> str:
    return f"{comment}\n{base64.b64encode(payload).decode()}\n"


SECRET_PAYLOADS = st.one_of(
    st.binary(max_size=200),
    st.tuples(st.sampled_from([b"Ed", b"ED", b"xx"]), st.sampled_from([b"\x00\x00", b"Sc", b"zz"]),
              st.sampled_from([b"B2", b"??"]), st.binary(min_size=32, max_size=32),
              st.integers(0, 2**64 - 1), st.integers(0, 2**64 - 1),
              st.binary(min_size=104, max_size=104)).map(
        lambda t: t[0] + t[1] + t[2] + t[3] + struct.pack("<QQ", t[4], t[5]) + t[6]))


@given(st.sampled_from(["untrusted comment: minisign secret key", "", "x"]), SECRET_PAYLOADS)
def test_fuzz_secret_key_files(comment, payload):
    with project_copy() as root, tempfile.TemporaryDirectory() as tmp:
        key = Path(tmp) / "k.key"
        key.write_text(key_file(comment, payload), encoding="utf-8")
        os.environ.pop("BROADCAST_PASSPHRASE", None)
        before = snapshot(root)
        code, err = run("bundle", "--project", root, "--sign", key)
        assert_clean(code, err, allowed=(1, 2))
        assert snapshot(root) == before


@given(st.sampled_from(["untrusted comment: minisign public key X", "", "untrusted comment:"]),
       st.binary(max_size=60),
       st.lists(st.text(max_size=90), min_size=0, max_size=5))
def test_fuzz_public_key_and_signature_files(comment, payload, signature_lines):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "b.zip"
        path.write_bytes(a_bundle())
        pub = Path(tmp) / "k.pub"
        pub.write_text(key_file(comment, payload), encoding="utf-8")
        Path(str(path) + ".minisig").write_text("\n".join(signature_lines), encoding="utf-8")
        code, err = run("verify", path, "--pubkey", pub)
        assert_clean(code, err, allowed=(1, 2))


# --- the gate: what renders is spoken as the text a reviewer sees ---------------------------

# A sentence a reviewer reads, and characters of the classes that can hide in it: format
# (Cf), spaces (Zs), combining marks (Mn), and decomposed (NFD) forms of its letters.
BASE = "Более 30 000 солдат получают еду, воду и медицинскую помощь."
HIDDEN = st.characters(categories=["Cf", "Zs", "Mn", "Co", "Cn"])


def _gate_errors(text: str, locale: str = "ru") -> set[str]:
    from pipeline.catalogs.state import UnitState
    from pipeline.checks import Glossary, check_unit
    from pipeline.content.extract import Unit
    unit = UnitState(Unit("m", "m", "More than 30,000 soldiers receive food, water and medical "
                          "care.", 1), "translated", text, 1)
    return {check for check, severity, _ in check_unit(unit, locale, "en", Glossary())
            if severity == "error"}


@given(st.lists(st.tuples(st.integers(0, len(BASE)), HIDDEN), min_size=1, max_size=3),
       st.booleans())
def test_whatever_passes_the_gate_is_spoken_with_nothing_hidden(insertions, decompose):
    import unicodedata

    from pipeline.content.text import invisible, nfc
    from pipeline.voice.textnorm import normalize
    text = BASE
    for at, char in sorted(insertions, reverse=True):
        text = text[:at] + char + text[at:]
    if decompose:
        text = unicodedata.normalize("NFD", text)
    seen = nfc(text)                    # what the project reads (and a reviewer sees)
    errors = _gate_errors(seen)
    if any(invisible(char) for _, char in insertions):
        assert "control" in errors, (text, errors)
    if not errors:
        spoken = normalize(seen, "ru")
        assert invisible(spoken) is None, spoken
        assert normalize(nfc(unicodedata.normalize("NFD", seen)), "ru") == spoken


@given(st.integers(1000, 10 ** 9), st.sampled_from(
    [c for c in map(chr, range(0x3001)) if __import__("unicodedata").category(c) == "Zs"]
    + ["'", "\u2019"]))
def test_a_number_is_one_number_whatever_separates_its_groups(value, mark):
    from pipeline.checks.units import numbers_in
    from pipeline.voice.textnorm import normalize
    grouped = f"{value:,}".replace(",", mark)
    assert numbers_in(f"Более {grouped} солдат", "ru") == {float(value)}
    assert normalize(f"Более {grouped} солдат", "ru") == normalize(f"Более {value} солдат", "ru")


@given(st.text(st.characters(categories=["Lu", "Ll", "Lo", "Mn", "Zs"]), min_size=1,
               max_size=40))
def test_a_catalog_saved_in_nfd_is_read_as_nfc(tmp_path_factory, text):
    import unicodedata

    import polib

    from pipeline.catalogs.pofile import forget_parsed
    from pipeline.catalogs.state import read_catalog_state
    from pipeline.content.sources import parse_campaign
    forget_parsed()
    folder = tmp_path_factory.mktemp("nfd")
    campaign = parse_campaign("campaign: c\ntitle: T\nmessages:\n  - id: m\n    title: T\n"
                              "    text: Hello.\n", folder / "c.yaml", "messages/c.yaml")
    po = polib.POFile()
    po.metadata = {"Content-Type": "text/plain; charset=UTF-8", "Language": "ru"}
    for ctxt, msgid in (("m|title", "T"), ("m", "Hello.")):
        po.append(polib.POEntry(msgctxt=ctxt, msgid=msgid,
                                msgstr=unicodedata.normalize("NFD", text)))
    po.save(str(folder / "c.po"))
    st_ = read_catalog_state(campaign, folder / "c.po", "ru")
    assert all(u.msgstr == unicodedata.normalize("NFC", text) for u in st_.units)
