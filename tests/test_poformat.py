"""Catalogs are written in GNU gettext's canonical form: msgcat and broadcast agree byte
for byte, in both directions."""

from __future__ import annotations

import random
import subprocess
from pathlib import Path

import polib
import pytest
from helpers import copy_example, copy_project, run_broadcast, snapshot

from pipeline.catalogs import poformat
from pipeline.catalogs.pofile import load_po

WORDS = {
    "en": "the a prisoner of war has right to write his family Red Cross records names and "
          "can carry news international-law self-evident x".split(),
    "ru": "Вы не одни Есть люди которые думают о вас и хотят чтобы вернулись домой живыми "
          "военнопленный".split(),
    "ko": "당신은 혼자가 아닙니다 조선 인민군 병사들 포로는 국제법에 따라 보호를 받습니다 "
          "3대까지".split(),
    "odd": ["{name}", '"quoted"', "\\back", "(n%10==1", "&&", "—", "...", "7.2", "MHz,", "a/b",
            "x" * 30, "y" * 85, "tab\there", "«ёлка»", "https://example.org/a-b-c"],
}


def catalogs(root: Path) -> list[Path]:
    return sorted((root / "locales").rglob("*.po")) + sorted((root / "locales").glob("*.pot"))


def msgcat(path: Path, out: Path | None = None) -> bytes:
    proc = subprocess.run(["msgcat", str(path), "-o", str(out or "-")], capture_output=True)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


@pytest.mark.parametrize("which", ["example", "fixture"])
def test_msgcat_then_update_changes_no_byte_and_the_reverse(tmp_path, which):
    root = (copy_example if which == "example" else copy_project)(tmp_path / "p")
    files = catalogs(root)
    assert len(files) >= 4
    for path in files:                       # a translator's tool saved every catalog
        msgcat(path, path)
    before = snapshot(root / "locales")
    result = run_broadcast("update", "--project", root)
    assert result.code == 0, result.err
    assert snapshot(root / "locales") == before
    # The reverse: what broadcast writes, msgcat leaves alone. Make update rewrite every
    # .po (one edited translation each), then pass them through msgcat.
    for path in files[:-1]:
        po = polib.pofile(str(path))
        entry = next(e for e in po if e.msgstr and not e.obsolete)
        entry.tcomment = "checked against the recording"
        po.save(str(path))                   # polib's own wrapping, not gettext's
    result = run_broadcast("update", "--project", root)
    assert result.code == 0, result.err
    for path in files:
        assert msgcat(path) == path.read_bytes(), path


def _text(rng: random.Random) -> str:
    words = [rng.choice(WORDS[rng.choice(["en", "en", "ru", "ko", "odd"])])
             for _ in range(rng.choice([1, 3, 8, 12, 20, 30, 60]))]
    text = rng.choice([" ", " ", "  ", " \n"]).join(words)
    return text + ("\n" if rng.random() < 0.2 else "")


def _random_catalog(seed: int) -> polib.POFile:
    rng = random.Random(seed)
    po = polib.POFile()
    po.header = "A generated catalog\nfor the wrapping test"
    po.metadata = {"Project-Id-Version": "x", "MIME-Version": "1.0", "Language": "ru",
                   "Content-Type": "text/plain; charset=UTF-8",
                   "Content-Transfer-Encoding": "8bit",
                   "Plural-Forms": "nplurals=3; plural=(n%10==1 && n%100!=11 ? 0 : n%10>=2 && "
                                   "n%10<=4 && (n%100<10 || n%100>=20) ? 1 : 2);"}
    for number in range(150):
        context = f"c{number}-" + "long-context-" * rng.randint(0, 8)
        entry = polib.POEntry(msgctxt=context, msgid=_text(rng),
                              msgstr=_text(rng) if rng.random() < 0.8 else "")
        if rng.random() < 0.15:
            entry.msgid_plural, entry.msgstr = _text(rng), ""
            entry.msgstr_plural = {0: _text(rng), 1: _text(rng), 2: ""}
        if rng.random() < 0.3:
            entry.comment = _text(rng).replace("\n", " ").strip()
        if rng.random() < 0.3:
            entry.tcomment = "tc " + _text(rng).replace("\n", " ").strip()
        if rng.random() < 0.5:
            entry.occurrences = [(f"messages/file-{n}.yaml", str(rng.randint(1, 999)))
                                 for n in range(rng.randint(1, 9))]
        if rng.random() < 0.2:
            entry.flags, entry.previous_msgid = ["fuzzy"], _text(rng)
        if rng.random() < 0.1 and not entry.msgid_plural:
            entry.obsolete, entry.occurrences, entry.comment = True, [], ""
        po.append(entry)
    return po


@pytest.mark.parametrize("seed", range(6))
def test_random_catalogs_are_written_as_msgcat_writes_them(tmp_path, seed):
    """Korean, Cyrillic, escapes, long words, newlines, plurals, obsolete entries with
    their previous msgid: what msgcat writes, load_po + poformat writes again."""
    if poformat._unistring() is None:
        pytest.skip("libunistring is part of every Debian system; gettext's rules need it")
    source = tmp_path / "random.po"
    source.write_text(str(_random_catalog(seed)), encoding="utf-8")
    canonical = tmp_path / "canonical.po"
    msgcat(source, canonical)
    assert poformat.dumps(load_po(canonical)) == canonical.read_text(encoding="utf-8")


def test_without_libunistring_the_text_still_round_trips(tmp_path, monkeypatch):
    """The fallback (breaks after spaces) loses nothing and keeps lines within 79 columns
    wherever a space allows it."""
    po = _random_catalog(99)
    monkeypatch.setattr(poformat, "_unistring", lambda: None)
    text = poformat.dumps(po)
    out = tmp_path / "fallback.po"
    out.write_text(text, encoding="utf-8")
    again = load_po(out)
    ordered = [e for e in po if not e.obsolete] + [e for e in po if e.obsolete]
    assert [(e.msgctxt, e.msgid, e.msgstr, e.msgstr_plural, e.obsolete) for e in again] == \
        [(e.msgctxt, e.msgid, e.msgstr, e.msgstr_plural, e.obsolete) for e in ordered]
    for line in text.split("\n"):
        content = line[line.find('"') + 1:-1]
        if line.startswith(("#~ \"", '"')) and sum(poformat._columns(c) for c in line) > 79:
            # Too long only where no space inside could have broken it.
            assert " " not in content.removesuffix("\\n").strip(" "), line
