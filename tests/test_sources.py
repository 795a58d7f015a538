"""Message sources: the example loads; every bad input is one clear line, exit 2, no writes."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from helpers import DATA, FIXTURE, REPO, snapshot

from pipeline.content.sources import load_campaign, split_paragraphs
from pipeline.layout import Layout

BAD = sorted((DATA / "bad_sources").glob("*.yaml"))


def test_fixture_campaign_loads_with_lines():
    c = load_campaign(FIXTURE / "messages" / "demo.yaml")
    assert c.name == "demo"
    assert [m.id for m in c.messages] == ["ident", "not-alone", "rights", "safe-return"]
    assert [p.id for p in c.programs] == ["evening"]
    assert c.programs[0].items == ("ident", "not-alone", "rights", "ident")
    assert c.message("ident").paragraphs[0].text == "This is the test station on {frequency} MHz."
    assert c.variables == {"frequency": "7.2"}
    # Line numbers point at the text in the file.
    lines = (FIXTURE / "messages" / "demo.yaml").read_text(encoding="utf-8").split("\n")
    for m in c.messages:
        assert m.title in lines[m.title_line - 1]
        for p in m.paragraphs:
            assert p.text in lines[p.line - 1]


@pytest.mark.parametrize("path", Layout(REPO).campaign_files(), ids=lambda p: p.stem)
def test_every_shipped_campaign_loads(path):
    c = load_campaign(path, REPO)
    assert c.messages and c.name == path.stem


def test_paragraphs_split_on_blank_lines_and_join_lines():
    paragraphs = split_paragraphs("One\ntwo  three\n\n\nFour.\n", 10)
    assert [(p.text, p.line) for p in paragraphs] == [("One two three", 10), ("Four.", 14)]


@pytest.mark.parametrize("bad", BAD, ids=[p.stem for p in BAD])
def test_bad_source_is_one_line_exit_2_and_writes_nothing(bad: Path, tmp_path, proc):
    expect = re.match(r"# expect: line (\d+): (.*)", bad.read_text(encoding="utf-8")).groups()
    (tmp_path / "messages").mkdir()
    shutil.copy(bad, tmp_path / "messages" / bad.name)
    before = snapshot(tmp_path)
    for command in ("extract", "status", "update"):
        result = proc(command, "--project", tmp_path)      # a process: tracebacks show
        assert result.code == 2, result
        lines = result.err.strip().split("\n")
        assert len(lines) == 1, result.err
        assert f"{bad.name}:{expect[0]}: " in lines[0], lines[0]
        assert expect[1] in lines[0], lines[0]
        assert snapshot(tmp_path) == before


def test_bad_input_leaves_existing_catalogs_untouched(project, cli):
    before = snapshot(project)
    text = (project / "messages" / "demo.yaml").read_text(encoding="utf-8")
    (project / "messages" / "demo.yaml").write_text(
        text.replace("  - id: rights\n", "  - id: Rights\n"), encoding="utf-8")
    result = cli("update", "--project", project)
    assert result.code == 2
    assert "message id 'Rights' is not a safe file name" in result.err
    after = snapshot(project)
    del after["messages/demo.yaml"], before["messages/demo.yaml"]
    assert after == before


def test_no_campaign_is_a_clear_error(tmp_path, cli):
    (tmp_path / "messages").mkdir()
    result = cli("status", "--project", tmp_path)
    assert result.code == 2
    assert "no campaign files" in result.err


def test_every_independent_mistake_is_named_in_one_run(tmp_path, proc):
    """Like a compiler: two messages without a title, a duplicate id and an unknown
    variable in one file, and a mistake in another file: one line each, in file and line
    order, exit 2, nothing written. A program naming a message that is only wrong is not
    a mistake of its own."""
    (tmp_path / "messages").mkdir()
    (tmp_path / "messages" / "alpha.yaml").write_text(
        "campaign: alpha\ntitle: A\nvariables:\n  frequency: \"7.2\"\nmessages:\n"
        "  - id: one\n    text: On {frequency}.\n"                       # 6: no title
        "  - id: two\n    title: Two\n    text: Fine.\n"
        "  - id: three\n    text: No title either.\n"                  # 11: no title
        "  - id: two\n    title: Again\n    text: Twice.\n"             # 13: duplicate
        "  - id: four\n    title: Four\n    text: On {freq}.\n"          # 18: no value
        "programs:\n  - id: evening\n    items: [one, two]\n", encoding="utf-8")
    (tmp_path / "messages" / "beta.yaml").write_text(
        "campaign: beta\ntitle: B\nmessages:\n  - id: Bad\n    title: X\n    text: Y.\n",
        encoding="utf-8")
    before = snapshot(tmp_path)
    result = proc("extract", "--project", tmp_path)
    assert result.code == 2, result
    lines = result.err.strip().split("\n")
    assert [re.search(r"(\w+\.yaml):(\d+):", line).groups() for line in lines] == \
        [("alpha.yaml", "6"), ("alpha.yaml", "11"), ("alpha.yaml", "13"),
         ("alpha.yaml", "18"), ("beta.yaml", "4")], lines
    assert all(line.startswith("broadcast: ") for line in lines)
    assert "title" in lines[0] and "title" in lines[1] and "duplicate" in lines[2]
    assert "{freq}" in lines[3] and "'Bad'" in lines[4]
    assert "Traceback" not in result.err and snapshot(tmp_path) == before
