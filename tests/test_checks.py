"""Quality checks: one planted defect per check, the clean example, the gate, pofilter."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest
from helpers import DATA

from pipeline.checks import Glossary, check_unit, load_glossary
from pipeline.checks.orthography import ko_kp_forms, southern_forms
from pipeline.content.extract import PROGRAM_PREFIX
from pipeline.errors import ConfigError
from pipeline.layout import Layout

CHECKS = DATA / "checks"


@pytest.fixture
def defects(tmp_path) -> Path:
    return Path(shutil.copytree(CHECKS, tmp_path / "defects"))


def planted(root: Path) -> set[tuple[str, str, str, str, int]]:
    """(check, locale, message, file, msgstr line) of every '# expect: CHECK' entry."""
    out = set()
    for path in sorted(root.glob("locales/*/LC_MESSAGES/*.po")):
        lines = path.read_text(encoding="utf-8").split("\n")
        for e in polib.pofile(str(path)):
            match = re.match(r"expect: (\S+)", e.tcomment or "")
            if not match:
                continue
            line = next(i for i in range(e.linenum, len(lines) + 1)
                        if lines[i - 1].startswith("msgstr"))
            out.add((match.group(1), path.parts[-3], e.msgctxt.split("|")[0],
                     path.relative_to(root).as_posix(), line))
    return out


def test_every_planted_defect_is_found_with_its_id_file_and_line(defects, cli):
    result = cli("check", "--json", "--project", defects)
    assert result.code == 1
    findings = json.loads(result.out)
    assert all(set(f) == {"check", "severity", "campaign", "locale", "message", "file",
                          "line", "text"} for f in findings)
    found = {(f["check"], f["locale"], f["message"], f["file"], f["line"]) for f in findings}
    expected = planted(defects)
    assert {e[0] for e in expected} == {
        "placeholders", "unchanged", "script", "numbers", "punctuation", "whitespace",
        "doublewords", "duration", "glossary", "ko-kp-orthography"}
    assert found == expected        # every defect, and nothing on the clean entries
    severity = {(f["check"], f["message"]): f["severity"] for f in findings}
    assert severity[("placeholders", "m-placeholders")] == "error"
    assert severity[("numbers", "m-numbers")] == "error"
    assert severity[("glossary", "m-glossary-forbidden")] == "error"
    assert severity[("glossary", "m-glossary-required")] == "warning"
    assert severity[("duration", "m-duration")] == "error"
    assert all(f["text"].count(";") >= 1 for f in findings)        # what is wrong; the fix


def test_the_clean_example_has_no_findings(project, cli):
    result = cli("check", "--json", "--project", project)
    assert result.code == 0, result.out
    assert json.loads(result.out) == []
    assert cli("check", "--strict", "--project", project).code == 0


def test_strict_makes_warnings_fail(project, cli):
    path = project / "locales" / "ru" / "LC_MESSAGES" / "demo.po"
    po = polib.pofile(str(path))
    entry = po.find("You are not alone", msgctxt="not-alone|title")
    entry.msgstr = "Вы  не одни"
    po.save()
    result = cli("check", "--project", project)
    assert result.code == 0 and "[whitespace] not-alone" in result.out
    assert cli("check", "--strict", "--project", project).code == 1


def test_status_counts_findings_per_check_and_locale(defects, cli):
    data = json.loads(cli("status", "--json", "--project", defects).out)
    ru = data["campaigns"]["defects"]["locales"]["ru"]
    assert ru["checks"] == {"doublewords": 1, "duration": 1, "numbers": 1, "placeholders": 1,
                            "punctuation": 1, "script": 1, "unchanged": 1, "whitespace": 1}
    ko = data["campaigns"]["defects"]["locales"]["ko_KP"]
    assert ko["checks"] == {"glossary": 2, "ko-kp-orthography": 1, "script": 1}
    assert "check placeholders failed" in ru["not_ready"]["m-placeholders"]
    assert "m-numbers" in ru["not_ready"]                    # a wrong figure blocks
    assert "m-whitespace" in ru["ready"]                     # a warning does not block
    totals = data["campaigns"]["defects"]["totals"]
    assert totals["findings"] == sum(sum(loc["checks"].values()) for loc in
                                     data["campaigns"]["defects"]["locales"].values()) >= 11
    assert "check findings: doublewords 1" in cli("status", "--project", defects).out


def test_a_message_with_an_error_is_not_rendered_and_status_says_why(defects, cli):
    result = cli("render", "--project", defects, "--locale", "ru", "--profile", "radio",
                 "--jobs", "1")
    assert result.code == 0
    assert "skipped defects/ru/m-unchanged: check unchanged failed" in result.out
    folder = Layout(defects).out_dir / "defects" / "ru" / "radio"
    names = {p.name for p in folder.glob("*.wav")}
    assert not any("m-unchanged" in n or "m-placeholders" in n or "m-duration" in n
                   or "m-numbers" in n for n in names)
    assert any("m-doublewords" in n for n in names)


def test_duration_is_predicted_from_the_voice_without_synthesis(project, cli):
    """The tone engine speaks CHAR_S per character: the prediction is exact, and the
    check neither synthesizes nor writes anything."""
    from fake_engine import CHAR_S, ToneEngine
    yaml_path = project / "messages" / "demo.yaml"
    calls = ToneEngine.calls
    assert json.loads(cli("check", "--json", "--project", project).out) == []
    # ko_KP "ident": 2 paragraphs; a 30-second budget cut to 2 seconds must fail.
    yaml_path.write_text(yaml_path.read_text(encoding="utf-8")
                         .replace("max_seconds: 30", "max_seconds: 2"), encoding="utf-8")
    findings = json.loads(cli("check", "--json", "--project", project, "--locale", "ko_KP").out)
    assert [(f["check"], f["message"], f["severity"]) for f in findings] == \
        [("duration", "ident", "error")]
    assert "predicted" in findings[0]["text"] and "over max_seconds 2" in findings[0]["text"]
    assert ToneEngine.calls == calls
    assert not (Layout(project).out_dir).exists()
    assert CHAR_S > 0


# --- ko_KP orthography ---------------------------------------------------------------------

FORMS = ko_kp_forms()


def test_the_orthography_list_is_large_enough():
    assert len(FORMS) >= 40
    assert {k for k, _, _ in FORMS} == {"initial", "word"}


@pytest.mark.parametrize("kind, south, north", FORMS, ids=[s for _, s, _ in FORMS])
def test_orthography_entry(kind, south, north):
    # Flagged where a word begins with the southern form, with or without endings.
    assert southern_forms(f"그것은 {south}입니다.") == [(south, north)]
    assert (south, north) in southern_forms(f"{south}, 그리고")
    # The northern form itself is never flagged.
    assert (south, north) not in southern_forms(f"그것은 {north}입니다.")
    # A word that merely contains the same syllables inside it is not flagged.
    assert (south, north) not in southern_forms(f"그것은 가{south}입니다.")


@pytest.mark.parametrize("text", [
    "무역사는 크다.", "근로자들은 쉰다.", "대한민국", "사이용품", "그들은 로동하고 리용합니다.",
    # Correct northern words that once were flagged, or that hold a listed form inside them.
    "그는 노력합니다.", "요리조리 피했다.", "손전화로 알린다.", "리해합니다.", "립장을 밝혔다.",
    "남새와 곽밥", "대외무역사업", "사업참여자들", "불명예의 길", "관광안내일", "국가운영도 중요하다."])
def test_real_words_containing_the_syllables_are_not_flagged(text):
    assert southern_forms(text) == []


@pytest.mark.parametrize("text, south", [
    ("국제노동기구", "노동"), ("급행열차로", "열차"), ("탄도미사일", "미사일"), ("평양냉면", "냉면"),
    ("국제연합", "연합"), ("제네바협약", "제네바"), ("휴대폰으로", "휴대폰"), ("강제노동", "노동"),
    ("녀권과 여권", "여권"), ("연좌제", "연좌제"), ("영도자", "영도"), ("보병여단", "여단"),
    ("인터넷", "인터넷"), ("쿠르스크주", "쿠르스크"), ("드론", "드론"), ("탱크", "탱크")])
def test_southern_forms_are_found_inside_compounds_too(text, south):
    assert south in [s for s, _ in southern_forms(text)]


def test_the_list_holds_the_corrections():
    forms = {s: n for _, s, n in FORMS}
    assert forms["여권"] == "녀권"
    for gone in ("노력", "이해", "입장", "유학", "요리", "채소", "도시락"):
        assert gone not in forms
    assert forms["제네바"] == "주네브" and forms["핸드폰"] == forms["휴대폰"] == "손전화"


def test_orthography_is_checked_only_for_ko_kp():
    from pipeline.catalogs.state import UnitState
    from pipeline.content.extract import Unit
    u = UnitState(Unit("m", "m", "Workers.", 1), "translated", "노동자들.", 1)
    assert [c for c, _, _ in check_unit(u, "ko_KP", "en", Glossary())] == ["ko-kp-orthography"]
    assert [c for c, _, _ in check_unit(u, "ko", "en", Glossary())] == []


def test_bad_glossary_line_names_file_and_line(tmp_path):
    path = tmp_path / "glossary.tsv"
    path.write_text("keep\tICRC\nallow\tsomething\n", encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_glossary(path)
    assert f"{path}:2:" in str(err.value)


# --- pofilter, translate-toolkit's checker, as a second opinion --------------------------------

SHARED = {"variables": "placeholders", "pythonbraceformat": "placeholders",
          "endpunc": "punctuation", "doublespacing": "whitespace",
          "doublewords": "doublewords", "unchanged": "unchanged"}


def pofilter(path: Path, tmp_path: Path) -> set[tuple[str, str]]:
    """(pofilter test, msgctxt) for each failure pofilter reports in ``path``."""
    out = tmp_path / f"pofilter-{path.parts[-3]}-{path.stem}.po"
    tests = [a for t in list(SHARED) + ["untranslated"] for a in ("-t", t)]
    proc = subprocess.run([sys.executable, "-m", "translate.filters.pofilter",
                           "--progress=none", *tests, str(path), str(out)],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    if not out.exists():
        return set()
    failures = set()
    for e in polib.pofile(str(out)):
        for test in re.findall(r"\(pofilter\) (\w+):", e.tcomment or ""):
            failures.add((test, e.msgctxt))
    return failures


def test_pofilter_agrees_on_the_checks_both_tools_have(defects, project, cli, tmp_path):
    for root in (defects, project):
        ours = {(f["check"], f["locale"], f["message"]) for f in
                json.loads(cli("check", "--json", "--project", root).out)}
        status = json.loads(cli("status", "--json", "--project", root).out)
        for path in sorted(root.glob("locales/*/LC_MESSAGES/*.po")):
            locale = path.parts[-3]
            theirs = pofilter(path, tmp_path)
            for test, ctxt in theirs:
                message = ctxt.split("|")[0]
                if test == "untranslated" and message.startswith(PROGRAM_PREFIX):
                    # A program's title is not a message: counted, never held back (the
                    # program is shown with its source title).
                    counts = status["campaigns"][path.stem]["locales"][locale]
                    assert counts["untranslated"] >= 1 and message not in counts["not_ready"]
                    continue
                if test == "untranslated":
                    # Not a check finding here: status reports it, and the gate holds the
                    # message back (docs/checks.md).
                    not_ready = status["campaigns"][path.stem]["locales"][locale]["not_ready"]
                    assert "untranslated" in not_ready[message]
                    continue
                # Ours is a superset of pofilter's for every shared check on these catalogs,
                # placeholders above all.
                assert (SHARED[test], locale, message) in ours, (test, locale, ctxt)
            # And ours finds nothing in the shared checks that pofilter does not, except
            # what docs/checks.md explains (none on these catalogs).
            theirs_ours = {(SHARED[t], c.split("|")[0]) for t, c in theirs if t in SHARED}
            for check, loc, message in ours:
                if loc == locale and check in SHARED.values():
                    assert (check, message) in theirs_ours, (check, locale, message)
