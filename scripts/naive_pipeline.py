"""A naive pipeline, written the way a user would write it: a benchmark anchor, not a tool.

For every translated message of one locale: the espeak-ng command line speaks it to a WAV,
pydub sets its level to a dBFS target and exports it once per profile. It ignores
loudness (BS.1770), true peaks, trimming and band limits, and it renders no checks, no
programs' loudness and no manifest: it is what "fast but wrong" costs.

    python scripts/naive_pipeline.py --project DIR --locale ru --out DIR

Needs the espeak-ng command (Debian: espeak-ng) and ffmpeg for pydub's MP3 export.
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
from pathlib import Path

import polib
import yaml
from pydub import AudioSegment

PROFILES = {                    # name: (format, sample rate, dBFS target, MP3 bitrate)
    "radio": ("wav", 48000, -23.0, None),
    "usb": ("mp3", 44100, -16.0, "128k"),
    "shortwave": ("wav", 22050, -23.0, None),
}
VOICES = {"ko_KP": ("ko", 140), "ru": ("ru", 150), "uk": ("uk", 150), "en": ("en", 150)}


def translations(project: Path, locale: str, campaign: str) -> dict[str, list[str]]:
    """message id → translated paragraphs, for messages with every unit translated."""
    catalog = polib.pofile(str(project / "locales" / locale / "LC_MESSAGES" / f"{campaign}.po"))
    source = yaml.safe_load((project / "messages" / f"{campaign}.yaml").read_text("utf-8"))
    variables = source.get("variables", {}) or {}
    by_context: dict[str, list[str]] = {}
    complete: dict[str, bool] = {}
    for entry in catalog:
        if entry.obsolete or not entry.msgctxt or entry.msgctxt.endswith("|title"):
            continue
        mid = entry.msgctxt.split("|")[0]
        ok = entry.translated() and "fuzzy" not in entry.flags
        complete[mid] = complete.get(mid, True) and ok
        if ok:
            by_context.setdefault(mid, []).append(entry.msgstr.format(**variables))
    return {mid: paras for mid, paras in by_context.items() if complete.get(mid)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--project", default=".")
    parser.add_argument("--locale", default="ru")
    parser.add_argument("--out", default="naive_out")
    args = parser.parse_args()
    project, out = Path(args.project), Path(args.out)
    voice, speed = VOICES[args.locale]
    count = 0
    with tempfile.TemporaryDirectory() as tmp:
        for yaml_file in sorted((project / "messages").glob("*.yaml")):
            campaign = yaml_file.stem
            for mid, paragraphs in translations(project, args.locale, campaign).items():
                wav = Path(tmp) / f"{mid}.wav"
                subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-w", str(wav),
                                " ".join(paragraphs)], check=True)
                speech = AudioSegment.from_wav(wav)
                for name, (fmt, rate, target, bitrate) in PROFILES.items():
                    level = speech.set_frame_rate(rate).apply_gain(target - speech.dBFS)
                    dest = out / campaign / args.locale / name / f"{mid}.{fmt}"
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    level.export(dest, format=fmt, bitrate=bitrate)
                    count += 1
    print(f"wrote {count} files to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
