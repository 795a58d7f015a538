"""broadcast review's web page: what it shows, what it serves, and who may write."""

from __future__ import annotations

import json
from contextlib import contextmanager

import pytest
from helpers import CAMPAIGN, bundle_members, bundle_of, rendered_ids, set_translation

from pipeline.layout import Layout

ORIGIN = "http://127.0.0.1:8765"
TOKEN = "the-session-token"


@pytest.fixture
def client(project):
    from starlette.testclient import TestClient

    from pipeline.serve import app
    toml = project / "broadcast.toml"
    toml.write_text(toml.read_text() + "\n[review]\nrequired = true\n")
    return TestClient(app(project, "Olena", ORIGIN, "radio", ["ru"], token=TOKEN),
                      base_url=ORIGIN)


def _decide(client, n: int, decision: str, seen: str, token: str = TOKEN,
            origin: str = ORIGIN, comment: str = ""):
    return client.post("/decide", headers={"X-Review-Token": token, "Origin": origin},
                       content=json.dumps({"n": n, "decision": decision, "seen": seen,
                                           "comment": comment}))


def test_the_page_shows_every_waiting_message_with_its_player_and_waveform(client):
    page = client.get("/").text
    assert page.count('<li class="item"') == 4                      # ready in ru
    assert page.count("waiting for review") >= 4
    assert 'src="/audio/0"' in page and 'class="wave"' in page
    assert f'content="{TOKEN}"' in page
    assert "Spoken as:" in page                                     # 7.2 → words
    audio = client.get("/audio/0")
    assert audio.status_code == 200 and audio.content[:4] == b"RIFF"
    assert client.get("/audio/4").status_code == 404
    assert client.get("/audio/..%2f..%2fbroadcast.toml").status_code == 404
    assert client.get("/words/0").status_code == 404               # not heard: no judge
    # A site whose name was made to point here (DNS rebinding) gets nothing, not the token.
    rebound = client.get("/", headers={"Host": "evil.example:8765"})
    assert rebound.status_code == 400 and TOKEN not in rebound.text


def test_what_the_judge_heard_is_shown_with_its_timing(project):
    """With the render's speech check: the transcript under the text, and each word's
    time in the file (for the waveform), ordered and within its length."""
    from starlette.testclient import TestClient

    from pipeline.serve import app
    toml = project / "broadcast.toml"
    toml.write_text(toml.read_text().replace("\n[voices.", "\n[render]\nspeech_check = true"
                                             "\n\n[voices.", 1))
    served = TestClient(app(project, "Olena", ORIGIN, "radio", ["ru"], token=TOKEN),
                        base_url=ORIGIN)
    page = served.get("/").text
    assert page.count("Heard by the speech judge:") == 4 and page.count("data-heard") == 4
    duration = float(page.split('data-duration="')[1].split('"')[0])
    words = served.get("/words/0").json()
    assert len(words) >= 3, words
    starts = [start for _, start, _ in words]
    assert starts == sorted(starts) and all(0 <= a < b <= duration + 0.5 for _, a, b in words)
    # The timing is a pass of its own over the same file: near the judge's transcript.
    from html import unescape

    from pipeline.voice import asr
    heard = unescape(page.split("Heard by the speech judge:</b>")[1].split('">')[1]
                     .split("</span>")[0])
    timed = " ".join(word for word, _, _ in words)
    assert asr.cer(heard, timed, "ru") < 0.3, (heard, timed)


def test_a_write_needs_the_sessions_token_and_its_origin(client, project):
    record = Layout(project).review_record("ru", CAMPAIGN, "ident")
    assert _decide(client, 0, "approved", "", token="guess"
                   ).status_code == 403
    assert _decide(client, 0, "approved", "",
                   origin="http://evil.example").status_code == 403
    assert not record.parent.exists() or not any(record.parent.iterdir())
    reply = _decide(client, 0, "approved", "")
    assert reply.status_code == 200, reply.text
    assert reply.json()["review"].startswith("approved by Olena")
    written = list((Layout(project).locales_dir / "ru" / "reviews" / CAMPAIGN).iterdir())
    assert len(written) == 1 and 'reviewer = "Olena"' in written[0].read_text()


def _name(page: str, n: int) -> str:
    heading = page.split(f'data-n="{n}"')[1].split("</h3>")[0]
    return next(m for m in ("ident", "not-alone", "rights", "safe-return")
                if f"· {m}:" in heading)


def test_a_decision_made_meanwhile_is_kept_and_shown_as_a_conflict(client, project, cli):
    """Ivan rejects on the command line while Olena's page still says waiting: her
    approval is recorded too, neither is lost, and the message waits for a decision made
    having seen both."""
    message = _name(client.get("/").text, 0)
    assert cli("reject", "--project", project, "ru", message, "--reviewer", "Ivan",
               "--comment", "too fast").code == 0
    record = Layout(project).review_record("ru", CAMPAIGN, message)
    reply = _decide(client, 0, "approved", "")             # the page had seen no decision
    assert reply.status_code == 409, reply.text
    assert reply.json()["review"].startswith("conflict between rejected by Ivan: too fast "
                                             "and approved by Olena")
    text = record.read_text(encoding="utf-8")
    assert text.count('reviewer = "Olena"') == 1 and text.count('reviewer = "Ivan"') == 1
    assert text.index("Olena") < text.index("[[earlier]]") < text.index("Ivan")
    status = json.loads(cli("status", "--project", project, "--json").out)
    assert status["campaigns"][CAMPAIGN]["locales"]["ru"]["reviews"][message] \
        .startswith("conflict between")
    assert message not in rendered_ids(cli, project)          # a conflict is not approved
    # Olena, having seen Ivan's rejection, decides again: the conflict is settled.
    again = _decide(client, 0, "approved", reply.json()["seen"])
    assert again.status_code == 200 and again.json()["review"].startswith("approved by Olena")
    assert record.read_text(encoding="utf-8").count("[[earlier]]") == 2
    assert message in rendered_ids(cli, project)
    assert 'data-seen="' + again.json()["seen"] + '"' in client.get("/").text


def test_two_reviewers_deciding_at_once_lose_nothing(client, project):
    """Four decisions on four messages, posted at once from four threads: all land."""
    from concurrent.futures import ThreadPoolExecutor
    with ThreadPoolExecutor(4) as pool:
        replies = list(pool.map(lambda n: _decide(client, n, "approved", ""), range(4)))
    assert [r.status_code for r in replies] == [200] * 4, [r.text for r in replies]
    records = list((Layout(project).locales_dir / "ru" / "reviews" / CAMPAIGN).iterdir())
    assert len(records) == 4
    assert client.get("/").text.count("approved by Olena") == 4


def _bundled(cli, project) -> dict[str, float]:
    """Build ru; the messages its usb bundle holds, with their loudness."""
    result = cli("build", "--project", project, "--locale", "ru", "--jobs", "1")
    assert result.code in (0, 1), result.err
    bundle = bundle_of(project, "ru", "usb")
    if not bundle.exists():
        return {}
    manifest = json.loads(bundle_members(bundle)["manifest.json"])
    return {f["id"]: f["loudness_lufs"] for f in manifest["files"] if f["kind"] == "message"}


@contextmanager
def _in_chromium(project, locales: list[str]):
    """The review of ``locales`` served on a free port and open in Debian's Chromium;
    on leaving, no script failed and no request left this server."""
    import shutil

    sync = pytest.importorskip("playwright.sync_api")
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("Debian's chromium is installed by scripts/test.sh")
    from pipeline.serve import serving
    with serving(project, "Olena", "radio", locales) as origin, sync.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium,
                                    args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page()
        errors: list[str] = []
        outside: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("request", lambda r: outside.append(r.url)
                if not r.url.startswith(origin) else None)
        page.goto(origin + "/")
        yield page, origin
        browser.close()
    assert not errors and not outside, (errors, outside)


def _settled(page, n: int, start: str) -> str:
    """The review shown for message ``n`` once it starts with ``start`` (or after 5 s)."""
    import time
    shown = page.locator("li.item .review").nth(n)
    for _ in range(100):            # (the page's policy forbids eval: no wait_for_function)
        if shown.inner_text().startswith(start):
            break
        time.sleep(0.05)
    return shown.inner_text()


def test_a_reviewer_goes_through_the_page_with_the_keyboard(project, cli):
    """In Debian's Chromium, with [review] required: j moves, a approves, r without a
    comment asks for one, c writes one and r rejects. Then the bundle holds exactly the
    approved messages; an edited translation leaves it; another loudness target keeps
    every approval."""
    toml = project / "broadcast.toml"
    toml.write_text(toml.read_text() + "\n[review]\nrequired = true\n")
    assert _bundled(cli, project) == {}
    with _in_chromium(project, ["ru"]) as (page, _):
        names = [page.locator("li.item h3").nth(n).inner_text().split("·")[2]
                 .split(":")[0].strip() for n in range(4)]
        page.keyboard.press("j")
        page.keyboard.press("a")
        assert _settled(page, 1, "approved by Olena").startswith("approved by Olena")
        page.keyboard.press("j")
        page.keyboard.press("a")
        assert _settled(page, 2, "approved by Olena").startswith("approved by Olena")
        page.keyboard.press("j")
        page.keyboard.press("r")
        assert _settled(page, 3, "say") == "say why in the comment first"
        page.keyboard.type("too fast")               # the comment box has the focus
        page.keyboard.press("Escape")
        page.keyboard.press("r")
        assert _settled(page, 3, "rejected") == "rejected by Olena: too fast"
    record = Layout(project).review_record("ru", CAMPAIGN, names[1])
    assert 'decision = "approved"' in record.read_text(encoding="utf-8")
    assert len(list(record.parent.iterdir())) == 3
    assert set(_bundled(cli, project)) == {names[1], names[2]}
    # An edited translation: waiting again, and out of the bundle at the next build.
    set_translation(project, "ru", names[1], "Изменённый текст.", 1)
    assert set(_bundled(cli, project)) == {names[2]}
    # Another loudness target re-renders every file and keeps every approval.
    toml.write_text(toml.read_text() + "\n[profiles.usb]\ntarget_lufs = -18.0\n")
    louder = _bundled(cli, project)
    assert set(louder) == {names[2]} and abs(louder[names[2]] + 18.0) <= 1.0, louder


def test_the_ten_example_messages_of_a_locale_with_the_keyboard_alone(tmp_path):
    """The example's ko_KP review, in Chromium: a, j, a, j … approves all ten."""
    from helpers import copy_example
    root = copy_example(tmp_path / "example")
    with _in_chromium(root, ["ko_KP"]) as (page, _):
        count = page.locator("li.item").count()
        assert count == 10
        for n in range(count):
            page.keyboard.press("a")
            assert _settled(page, n, "approved").startswith("approved by Olena"), n
            page.keyboard.press("j")
    reviews = Layout(root).locales_dir / "ko_KP" / "reviews"
    assert len(list(reviews.rglob("*.toml"))) == 10


def test_broadcast_review_listens_on_the_loopback_interface_only(project):
    """The command as a process: its one listening socket is 127.0.0.1's."""
    import socket
    import subprocess
    import sys
    import time

    from helpers import process_env
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "pipeline", "review", "--project",
                               str(project), "--reviewer", "Olena", "--locale", "ru",
                               "--port", str(port)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env=process_env())
    try:
        listening: set[str] = set()
        for _ in range(600):
            assert server.poll() is None, server.communicate()
            for table in ("/proc/net/tcp", "/proc/net/tcp6"):
                for row in open(table).read().split("\n")[1:]:
                    fields = row.split()
                    if len(fields) > 3 and fields[3] == "0A" and \
                            int(fields[1].split(":")[1], 16) == port:
                        listening.add(fields[1].split(":")[0])
            if listening:
                break
            time.sleep(0.1)
        assert listening == {"0100007F"}, listening        # 127.0.0.1, and nothing else
    finally:
        server.terminate()
        out, _ = server.communicate(timeout=30)
    assert f"open http://127.0.0.1:{port}/" in out
