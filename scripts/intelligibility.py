"""How well each voice is understood: the whole example, heard by the offline recognizer.

For every engine and locale it builds the example campaign's radio profile in a scratch
copy with ``[render] speech_check = true`` (so each message file is transcribed by
whisper-base), then reads the character error rate of every message from the manifests.
The whole-example CER weighs each message by its length, so it is the share of the
example's characters a listener (the recognizer) gets wrong.

    python scripts/intelligibility.py                 # writes docs/voices.md
    python scripts/intelligibility.py --engines kokoro --locales ru --out -

Needs the extras ``[kokoro,asr]``, for Festival Debian's festival + festvox-ru, and for
RHVoice its Russian and Ukrainian voices (scripts/voices.sh).
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.voice.asr import comparable, judge_id  # noqa: E402

# Which locales each engine can speak, and how it is configured for them.
ENGINES = {
    "espeak": {"ko_KP": ('voice = "ko"', "speed = 140"), "ru": ('voice = "ru"', "speed = 150"),
               "uk": ('voice = "uk"', "speed = 150")},
    "kokoro": {"ko_KP": ('voice = "ko"', ""), "ru": ('voice = "ru"', ""),
               "uk": ('voice = "uk"', "")},
    "festival": {"ru": ('voice = "ru"', "")},
    "rhvoice": {"ru": ('voice = "aleksandr"', ""), "uk": ('voice = "anatol"', "")},
    "mbrola": {"ko_KP": ('voice = "hn1"', "")},
}
PROJECT_FILES = ("broadcast.toml", "messages", "locales", "assets")


def scratch_project(engine: str, locale: str, where: Path) -> Path:
    root = where / f"{engine}-{locale}"
    for name in PROJECT_FILES:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, root / name)
        elif src.is_file():
            root.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, root / name)
    voice, options = ENGINES[engine][locale]
    config = (f'locales = ["{locale}"]\n[render]\nprofiles = ["radio"]\nspeech_check = true\n'
              f'[voices.{locale}]\nengine = "{engine}"\n{voice}\nrecordings = "ignore"\n')
    if options:
        config += f"[voices.{locale}.options]\n{options}\n"
    (root / "broadcast.toml").write_text(config, encoding="utf-8")
    return root


def naturalness(folder: Path, python: str | None) -> float | None:
    """DistillMOS's mean over the folder's messages (scripts/naturalness.py, run with a
    Python that has distillmos), or None without one."""
    if not python:
        return None
    run = subprocess.run([python, str(ROOT / "scripts" / "naturalness.py"), str(folder)],
                         capture_output=True, text=True)
    if run.returncode != 0:
        raise SystemExit(f"naturalness failed:\n{run.stderr[-2000:]}")
    return json.loads(run.stdout.splitlines()[-1])["mean"]


def measure(engine: str, locale: str, where: Path, jobs: int,
            mos_python: str | None = None) -> dict:
    root = scratch_project(engine, locale, where)
    start = time.perf_counter()
    run = subprocess.run([sys.executable, "-m", "pipeline", "build", "--project", str(root),
                          "--jobs", str(jobs)], capture_output=True, text=True)
    wall = time.perf_counter() - start
    if run.returncode != 0:
        raise SystemExit(f"{engine}/{locale}: build failed:\n{run.stderr[-2000:]}")
    errors = total = seconds = 0.0
    per_message = []
    for manifest in sorted((root / "audio_out").glob(f"*/{locale}/radio/manifest.json")):
        data = json.loads(manifest.read_text(encoding="utf-8"))
        for entry in data["files"]:
            if entry["kind"] != "message":
                continue
            length = len(comparable(entry["text"], locale))
            errors += entry["cer"] * length
            total += length
            seconds += entry["duration"]
            per_message.append(entry["cer"])
    folders = sorted((root / "audio_out").glob(f"*/{locale}/radio"))
    return {"engine": engine, "locale": locale, "cer": errors / total if total else None,
            "best": min(per_message), "worst": max(per_message),
            "messages": len(per_message), "minutes": seconds / 60, "wall": wall,
            "mos": naturalness(folders[0], mos_python) if folders else None}


def table(rows: list[dict]) -> str:
    locales = sorted({r["locale"] for r in rows})
    engines = list(dict.fromkeys(r["engine"] for r in rows))
    cell = {(r["engine"], r["locale"]): r for r in rows}
    out = ["| voice | " + " | ".join(locales) + " |", "|---" * (len(locales) + 1) + "|"]
    for engine in engines:
        values = []
        for locale in locales:
            r = cell.get((engine, locale))
            values.append("–" if r is None else
                          f"**{r['cer']:.2f}** ({r['best']:.2f}–{r['worst']:.2f})")
        out.append(f"| {engine} | " + " | ".join(values) + " |")
    out.append("")
    out.append("| voice | locale | messages | minutes of audio | build wall time (s) | "
               "DistillMOS |")
    out.append("|---|---|---|---|---|---|")
    for r in rows:
        mos = "–" if r.get("mos") is None else f"{r['mos']:.2f}"
        out.append(f"| {r['engine']} | {r['locale']} | {r['messages']} | {r['minutes']:.1f} | "
                   f"{r['wall']:.0f} | {mos} |")
    return "\n".join(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engines", nargs="+", default=list(ENGINES))
    parser.add_argument("--locales", nargs="+", default=["ko_KP", "ru", "uk"])
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--mos-python", metavar="PYTHON",
                        help="a Python with distillmos installed: also predict naturalness")
    parser.add_argument("--out", default=str(ROOT / "docs" / "voices.md"),
                        help="where to write the table ('-': print it)")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="intelligibility-") as tmp:
        for engine in args.engines:
            for locale in args.locales:
                if locale in ENGINES[engine]:
                    rows.append(measure(engine, locale, Path(tmp), args.jobs,
                                        args.mos_python))
                    print(f"{engine:9} {locale:6} CER {rows[-1]['cer']:.3f}", file=sys.stderr)
    body = table(rows)
    if args.out == "-":
        print(body)
        return 0
    path = Path(args.out)
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    marker = re.compile(r"<!-- intelligibility -->.*<!-- /intelligibility -->", re.S)
    block = (f"<!-- intelligibility -->\nJudge: {judge_id()}; the example campaign, radio "
             f"profile, every message.\n\n{body}\n<!-- /intelligibility -->")
    path.write_text(marker.sub(lambda _: block, text) if marker.search(text)
                    else text + "\n" + block + "\n", encoding="utf-8")
    print(f"wrote {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
