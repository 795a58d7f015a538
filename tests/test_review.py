"""Native reviewers' decisions: bound to what was heard, stale when that changes, and,
with [review] required, the gate that keeps everything else out of the outputs."""

from __future__ import annotations

import json

from helpers import CAMPAIGN, one_line_error, rendered_ids, set_translation

from pipeline.layout import Layout

REQUIRED = "\n[review]\nrequired = true\n"


def _configure(project, extra: str = REQUIRED) -> None:
    toml = project / "broadcast.toml"
    toml.write_text(toml.read_text(encoding="utf-8") + extra, encoding="utf-8")


def _status(cli, project) -> dict:
    result = cli("status", "--project", project, "--locale", "ru", "--json")
    assert result.code == 0, result.err
    return json.loads(result.out)["campaigns"][CAMPAIGN]["locales"]["ru"]["reviews"]


def test_only_approved_messages_leave_when_review_is_required(project, cli):
    _configure(project)
    assert rendered_ids(cli, project) == set()
    assert set(_status(cli, project).values()) == {"waiting for review"}
    result = cli("approve", "--project", project, "ru", "ident", "--reviewer", "Olena K.")
    assert result.code == 0, result.err
    record = Layout(project).review_record("ru", CAMPAIGN, "ident").read_text()
    assert 'decision = "approved"' in record and 'reviewer = "Olena K."' in record
    assert _status(cli, project)["ident"].startswith("approved by Olena K. (")
    assert rendered_ids(cli, project) == {"ident"}
    report = Layout(project).report_page.read_text(encoding="utf-8")
    assert "<td>ident</td><td>approved by Olena K. (" in report
    assert "<td>rights</td><td>waiting for review</td>" in report


def test_a_rejection_keeps_the_message_out_and_says_why(project, cli):
    _configure(project)
    cli("approve", "--project", project, "ru", "ident", "--reviewer", "Olena")
    cli("approve", "--project", project, "ru", "rights", "--reviewer", "Olena")
    assert rendered_ids(cli, project) == {"ident", "rights"}
    result = cli("reject", "--project", project, "ru", "rights", "--reviewer", "Olena",
                 "--comment", "the stress of «пленный» is wrong")
    assert result.code == 0, result.err
    assert _status(cli, project)["rights"] == \
        "rejected by Olena: the stress of «пленный» is wrong"
    assert rendered_ids(cli, project) == {"ident"}          # withdrawn from the folder
    # What leaves the project says approved and when, never who nor what they wrote.
    folder = Layout(project).output_folder(CAMPAIGN, "ru", "radio")
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    ident = next(f for f in manifest["files"] if f["id"] == "ident")
    assert ident["approved"][:4].isdigit() and ident["approved"].endswith("Z")
    assert {"id": "rights", "reason": "rejected by a native reviewer"} in manifest["skipped"]
    page = (folder / "index.html").read_text(encoding="utf-8")
    assert f"approved by a native reviewer {ident['approved'][:10]}" in page
    for name in folder.iterdir():
        assert b"Olena" not in name.read_bytes() and "пленный".encode() not in \
            name.read_bytes(), name


def test_an_approval_is_stale_when_the_text_or_the_voice_changes(project, cli):
    _configure(project)
    cli("approve", "--project", project, "ru", "ident", "--reviewer", "Olena")
    set_translation(project, "ru", "ident", "Слушайте, когда вам ничто не угрожает.", 1)
    cli("compile", "--project", project)
    assert _status(cli, project)["ident"] == ("waiting for review (approved by Olena, but "
                                             "the translation changed; the spoken form "
                                             "changed (lexicon or numbers); the voice "
                                             "changed (engine, voice, options or "
                                             "recording))")
    assert rendered_ids(cli, project) == set()
    cli("approve", "--project", project, "ru", "ident", "--reviewer", "Olena")
    toml = project / "broadcast.toml"
    toml.write_text(toml.read_text().replace("speed = 150", "speed = 160"))
    assert _status(cli, project)["ident"] == ("waiting for review (approved by Olena, but "
                                             "the voice changed (engine, voice, options or "
                                             "recording))")


def test_an_approval_survives_a_new_output_profile_or_loudness_target(project, cli):
    _configure(project, REQUIRED + "\n[profiles.radio]\ntarget_lufs = -20.0\n")
    cli("approve", "--project", project, "ru", "ident", "--reviewer", "Olena")
    before = _status(cli, project)["ident"]
    toml = project / "broadcast.toml"
    toml.write_text(toml.read_text().replace("target_lufs = -20.0", "target_lufs = -18.0"))
    assert _status(cli, project)["ident"] == before
    assert before.startswith("approved by Olena")


def test_another_reviewers_decision_is_shown_not_overwritten(project, cli):
    _configure(project)
    cli("approve", "--project", project, "ru", "ident", "--reviewer", "Olena")
    path = Layout(project).review_record("ru", CAMPAIGN, "ident")
    before = path.read_bytes()
    result = cli("reject", "--project", project, "ru", "ident", "--reviewer", "Ivan",
                 "--comment", "too fast")
    line = one_line_error(result, 2)
    assert "approved by Olena" in line and "meanwhile" in line and "--replace" in line
    assert path.read_bytes() == before
    assert cli("reject", "--project", project, "ru", "ident", "--reviewer", "Ivan",
               "--comment", "too fast", "--replace").code == 0
    assert _status(cli, project)["ident"] == "rejected by Ivan: too fast"
    # Replaced having seen it, not lost: Olena's approval is the history's first entry.
    history = path.read_text(encoding="utf-8").split("[[earlier]]\n")
    assert len(history) == 2 and history[1].encode("utf-8") == before


def test_a_malformed_record_is_one_line_naming_its_line(project, proc):
    _configure(project)
    path = Layout(project).review_record("ru", CAMPAIGN, "ident")
    path.parent.mkdir(parents=True)
    path.write_text('decision = "approved"\nreviewer = "Olena"\nwhen = "x"\ncomment = ""\n'
                    'text = "not a digest"\nspoken = "a"\nsound = "b"\n', encoding="utf-8")
    line = one_line_error(proc("status", "--project", project), 2)
    assert f"{path.relative_to(project)}:5: 'text' is not a SHA-256" in line or \
        f"{path}:5: 'text' is not a SHA-256" in line, line


def test_a_malformed_earlier_decision_names_its_own_line(project, cli, proc):
    _configure(project)
    cli("approve", "--project", project, "ru", "ident", "--reviewer", "Olena")
    cli("reject", "--project", project, "ru", "ident", "--reviewer", "Olena",
        "--comment", "no: too fast")
    path = Layout(project).review_record("ru", CAMPAIGN, "ident")
    lines = path.read_text(encoding="utf-8").split("\n")
    wrong = next(n for n, line in enumerate(lines) if line == "[[earlier]]") + 2
    assert lines[wrong].startswith("reviewer = ")
    lines[wrong] = 'reviewer = ""'
    path.write_text("\n".join(lines), encoding="utf-8")
    line = one_line_error(proc("status", "--project", project), 2)
    assert f":{wrong + 1}: the reviewer's name is empty" in line, line


def test_review_per_locale_and_off(project, cli):
    _configure(project, '\n[review]\nrequired = ["uk"]\n')
    assert rendered_ids(cli, project) == {"ident", "not-alone", "rights", "safe-return"}
    uk = cli("render", "--project", project, "--locale", "uk", "--profile", "radio")
    assert "skipped demo/uk/ident: waiting for review" in uk.out


def test_a_comment_with_any_character_is_written_as_valid_toml(project, cli):
    _configure(project)
    comment = 'too "fast"\\ here\nand\tthere\x07 — 너무 빠름'
    assert cli("reject", "--project", project, "ru", "ident", "--reviewer", "Kim",
               "--comment", comment).code == 0
    assert _status(cli, project)["ident"] == f"rejected by Kim: {comment}"
