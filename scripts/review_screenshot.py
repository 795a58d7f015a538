"""The review page's picture for the README: the example's Korean review, in Chromium.

It copies the example to a scratch folder, turns the render's speech check on (so the
page shows what the judge heard, with each word's time under the waveform), serves the
review of one locale on a free local port, opens it in Debian's Chromium, moves to the
second message, plays it for a moment and photographs the window.

    python scripts/review_screenshot.py                 # writes docs/review.png
    python scripts/review_screenshot.py --locale ru --out /tmp/review.png

Needs the extras ``[test,asr]`` (Playwright, the recognizer) and Debian's chromium.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.serve import serving  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--locale", default="ko_KP")
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "review.png")
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        sys.exit("needs Debian's chromium (scripts/test.sh installs it)")
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp) / "example"
        shutil.copytree(ROOT, project, ignore=shutil.ignore_patterns(
            ".git", "audio_out", "*.egg-info", "__pycache__", ".venv", "tests"))
        toml = project / "broadcast.toml"
        toml.write_text(toml.read_text(encoding="utf-8").replace(
            "[render]\n", "[render]\nspeech_check = true\n", 1), encoding="utf-8")
        with serving(project, "Reviewer", "radio", [args.locale]) as origin, \
                sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium,
                                        args=["--no-sandbox", "--disable-gpu",
                                              "--autoplay-policy=no-user-gesture-required"])
            page = browser.new_page(viewport={"width": 900, "height": 760})
            page.goto(origin + "/")
            page.keyboard.press("j")
            page.keyboard.press(" ")
            second = page.locator("li.item").nth(1)
            second.locator(".words span").first.wait_for(timeout=60_000)
            time.sleep(2.5)
            page.keyboard.press(" ")
            args.out.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(args.out))
            browser.close()
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
