"""Review pages opened in a real browser: Debian's Chromium driven by Playwright."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from helpers import CAMPAIGN, bundle_members

from pipeline.layout import Layout

playwright = pytest.importorskip("playwright.sync_api")

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None,
                                reason="Debian's chromium is installed by scripts/test.sh")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]


@pytest.fixture(scope="module")
def browser():
    with playwright.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def open_page(browser, path: Path):
    """The page, with every console error and every non-file request recorded."""
    page = browser.new_page(viewport={"width": 1100, "height": 900})
    errors: list[str] = []
    outside: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith("file://")
            else None)
    page.goto(path.as_uri())
    return page, errors, outside


def assert_offline_source(path: Path) -> None:
    html = path.read_text(encoding="utf-8")
    assert not re.search(r"(?i)(https?:)?//[a-z0-9.-]+\.[a-z]{2,}", html.replace(
        'content="width=device-width, initial-scale=1"', ""))
    assert "<script" not in html and "<link" not in html and "@import" not in html


@pytest.mark.parametrize("locale, profile", [("ko_KP", "usb"), ("ru", "radio"),
                                             ("uk", "shortwave")])
def test_index_page_plays_every_file(browser, built, locale, profile, tmp_path_factory):
    folder = Layout(built).output_folder(CAMPAIGN, locale, profile)
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert_offline_source(folder / "index.html")
    page, errors, outside = open_page(browser, folder / "index.html")
    page.wait_for_function("Array.from(document.querySelectorAll('audio'))"
                           ".every(a => a.readyState >= 1 || a.error)", timeout=30000)
    durations = page.evaluate("Array.from(document.querySelectorAll('audio'))"
                              ".map(a => a.error ? -1 : a.duration)")
    assert len(durations) == len(manifest["files"])
    for got, entry in zip(durations, manifest["files"], strict=True):
        assert got > 0, entry["file"]
        assert abs(got - entry["duration"]) < 0.3, entry["file"]
    titles = page.locator("li.item h3").all_inner_texts()
    assert [re.sub(r"^\d+", "", t).strip() for t in titles] == \
        [e["title"] for e in manifest["files"]]
    # The source text is a toggle, closed until asked for.
    first = page.locator("li.item details").first
    assert not first.locator("div").is_visible()
    first.locator("summary").click()
    assert first.locator("div").is_visible()
    assert first.locator("div").inner_text().startswith("This is the test station")
    shot = tmp_path_factory.mktemp("screenshots") / f"index-{locale}-{profile}.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10000
    print(f"screenshot: {shot}")
    assert errors == [] and outside == []
    page.close()


def test_report_page_matches_status(browser, built, cli, tmp_path_factory):
    report = Layout(built).out_dir / "report.html"
    assert_offline_source(report)
    status = json.loads(cli("status", "--json", "--project", built).out)
    page, errors, outside = open_page(browser, report)
    rows = page.locator("tr.coverage")
    seen = set()
    for i in range(rows.count()):
        row = rows.nth(i)
        campaign, locale = row.get_attribute("data-campaign"), row.get_attribute("data-locale")
        s = status["campaigns"][campaign]["locales"][locale]
        assert int(row.get_attribute("data-translated")) == s["translated"]
        assert int(row.get_attribute("data-fuzzy")) == s["fuzzy"]
        assert int(row.get_attribute("data-untranslated")) == s["untranslated"]
        assert int(row.get_attribute("data-ready")) == len(s["ready"])
        cells = row.locator("td").all_inner_texts()
        total = s["translated"] + s["fuzzy"] + s["untranslated"]
        assert cells[1] == f"{s['translated']}/{total}"
        assert cells[5] == f"{len(s['ready'])}/{status['campaigns'][campaign]['messages']}"
        for link in row.locator("a").all():
            assert (report.parent / link.get_attribute("href")).exists()
        seen.add((campaign, locale))
    assert seen == {(c, l) for c, v in status["campaigns"].items() for l in v["locales"]}
    skipped = page.locator("tr.skipped").count()
    assert skipped == sum(len(l["not_ready"]) for c in status["campaigns"].values()
                          for l in c["locales"].values())
    # Every output folder's bundle: what it holds (read from the zip itself), unsigned.
    bundles = page.locator("tr.bundle")
    folders = list(Layout(built).out_dir.glob(f"{CAMPAIGN}/*/*/index.html"))
    assert bundles.count() == len(folders) > 0
    for i in range(bundles.count()):
        row = bundles.nth(i)
        zipped = report.parent / row.locator("a").get_attribute("href")
        held = [f for f in json.loads(bundle_members(zipped)["manifest.json"])["files"]
                if f["kind"] == "message"]
        assert int(row.get_attribute("data-bundled")) == len(held)
        import hashlib
        assert hashlib.sha256(zipped.read_bytes()).hexdigest()[:16] in row.inner_text()
        assert row.get_attribute("data-signed") == "false" and "not signed" in row.inner_text()
    # A bar of length and loudness per message of each locale's radio folder.
    radio = [json.loads(p.read_text()) for p in
             Layout(built).out_dir.glob(f"{CAMPAIGN}/*/radio/manifest.json")]
    lengths = page.locator("tr.length")
    assert lengths.count() == sum(1 for m in radio for f in m["files"] if f["kind"] == "message")
    # …and its waveform, drawn: 100 bars whose tallest is the file's sample peak.
    import wave

    import numpy as np
    for i in range(lengths.count()):
        row = lengths.nth(i)
        svg = row.locator("svg.wave")
        box = svg.bounding_box()
        assert box is not None and box["height"] >= 24 and box["width"] >= 150
        bars = re.findall(r"M(\d+)\.5 ([\d.]+)V([\d.]+)", svg.locator("path").get_attribute("d"))
        assert [int(b[0]) for b in bars] == list(range(100))
        with wave.open(str(report.parent / row.get_attribute("data-folder")
                           / row.get_attribute("data-file"))) as w:
            pcm = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
        peak = np.abs(pcm.astype(np.float64)).max() / 32768
        assert max((float(b[2]) - 10) / 9.5 for b in bars) == pytest.approx(peak, abs=0.02)
        assert all(float(b[1]) + float(b[2]) == pytest.approx(20, abs=0.11) for b in bars)
    shot = tmp_path_factory.mktemp("screenshots") / "report.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10000
    print(f"screenshot: {shot}")
    assert errors == [] and outside == []
    page.close()


def test_the_report_shows_a_bundle_that_is_gone(project, cli):
    """A render after a bundle was deleted (or withdrawn): the report says there is none,
    and how to make it."""
    assert cli("build", "--project", project, "--locale", "ru", "--jobs", "1").code == 0
    layout = Layout(project)
    layout.bundle(CAMPAIGN, "ru", "usb").unlink()
    assert cli("render", "--project", project, "--locale", "ru").code == 0
    report = layout.report_page.read_text(encoding="utf-8")
    row = next(r for r in report.split("<tr ") if 'class="bundle" data-locale="ru" '
               'data-profile="usb"' in r)
    assert "no bundle (broadcast bundle makes it)" in row and 'data-bundled="0"' in row


def test_a_count_is_written_in_the_right_number():
    from pipeline.render.manifest import Manifest
    from pipeline.render.pages import index_html
    from pipeline.values import counted
    assert [counted(n, "file") for n in (0, 1, 2)] == ["0 files", "1 file", "2 files"]
    assert "1 file in play order" in index_html(Manifest("c", "ru", {"name": "radio"}, [
        _one_file()]))


def _one_file():
    from pipeline.render.manifest import ManifestFile
    return ManifestFile("01-a.wav", "message", "a", "A", "a", 1.0, -23.0, -1.0, "0" * 64, 1,
                        {})
