"""How well each voice is understood: the whole example, heard by the offline recognizer.

For every engine and locale it builds the example campaign's radio profile in a scratch
copy with ``[render] speech_check = true`` (so each message file is transcribed by
whisper-base), then reads the character error rate of every message from the manifests.
The whole-example CER weighs each message by its length, so it is the share of the
example's characters a listener (the recognizer) gets wrong.

    python scripts/intelligibility.py                 # writes docs/voices.md
    python scripts/intelligibility.py --engines kokoro --locales ru --out -

With ``--channel`` it measures instead what a listener understands through a channel
(:mod:`pipeline.audio.channel`): the example built with the default voices in the radio,
shortwave and fm profiles, and in the shortwave and fm profiles without their processing,
each message file heard through AM, FM and loudspeaker channels at several SNRs (the same
noise for every file of a message), its CER, and its STOI against the clean radio file:

    python scripts/intelligibility.py --channel       # writes docs/voices.md's second table
    python scripts/intelligibility.py --channel --channels am:6 --locales ru --out -

Needs the extras ``[kokoro,asr]`` (pystoi comes with ``asr``), for Festival Debian's festival + festvox-ru, and for
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


def copy_example(root: Path) -> Path:
    """The example's sources, catalogs and config in ``root`` (no outputs)."""
    for name in PROJECT_FILES:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, root / name)
        elif src.is_file():
            root.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, root / name)
    return root


def scratch_project(engine: str, locale: str, where: Path) -> Path:
    root = copy_example(where / f"{engine}-{locale}")
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


# --- through the channel ------------------------------------------------------------------

AS_IS = "file"                  # no channel: the file itself
CHANNELS = (AS_IS, "am:clean", "am:12", "am:6", "am:0", "am:6:pink:fading", "fm:6", "fm:0",
            "speaker:clean", "speaker:3")
# What each channel carries: the studio master, and a transmitter's profile without and
# with its processing.
CARRIED = {AS_IS: ("radio", "shortwave", "fm"),
           "am": ("radio", "shortwave-plain", "shortwave"),
           "fm": ("radio", "fm-plain", "fm"),
           "speaker": ("radio", "shortwave", "fm")}
PLAIN = ('[profiles.shortwave-plain]\nbase = "shortwave"\nprocessing = false\n'
         'target_lufs = -23.0\n[profiles.fm-plain]\nbase = "fm"\nprocessing = false\n'
         'target_lufs = -23.0\n')


def channel_project(where: Path, locales: list[str]) -> Path:
    """The example with its own voices, in every profile the channels carry."""
    root = copy_example(where / "channel")
    config = (root / "broadcast.toml").read_text(encoding="utf-8")
    profiles = sorted({p for carried in CARRIED.values() for p in carried})
    config = re.sub(r"(?m)^locales = .*$", "locales = " + json.dumps(locales), config,
                    count=1)
    config = re.sub(r"(?m)^profiles = .*$", "profiles = " + json.dumps(profiles), config,
                    count=1)
    (root / "broadcast.toml").write_text(config + "\n" + PLAIN, encoding="utf-8")
    return root


def _heard(item: tuple) -> tuple:
    """One file through one channel: (key, CER, its weight, STOI or None)."""
    import hashlib

    import numpy as np
    import soundfile

    from pipeline.audio.channel import hear, parse_channel
    from pipeline.audio.dsp import Audio, resample
    from pipeline.voice import asr
    key, path, reference, said, locale, channel, name, cache = item
    samples, rate = soundfile.read(path, dtype="float32")
    heard = Audio(samples, rate) if channel == AS_IS else \
        hear(Audio(samples, rate), parse_channel(channel), name)
    at16 = resample(heard, asr.RATE).samples
    text = asr.transcribe(Path(path), locale, Path(cache), audio=at16,
                          digest=hashlib.sha256(at16.tobytes()).hexdigest())
    stoi = None
    try:
        from pystoi import stoi as measure_stoi
    except ImportError:
        measure_stoi = None
    if measure_stoi is not None:
        ref, ref_rate = soundfile.read(reference, dtype="float32")
        x = resample(Audio(ref, ref_rate), 10000).samples.astype(np.float64)
        y = resample(heard, 10000).samples.astype(np.float64)
        # Align (the profiles trim their lead-in alike, give or take a few ms).
        n = min(len(x), len(y))
        spectrum = np.fft.rfft(x[:n], 2 * n) * np.conj(np.fft.rfft(y[:n], 2 * n))
        lags = np.fft.irfft(spectrum, 2 * n)
        reach = 10000                               # ±1 s
        lag = int(np.argmax(np.concatenate([lags[-reach:], lags[:reach + 1]]))) - reach
        y = np.concatenate([np.zeros(lag), y])[:len(x)] if lag >= 0 else y[-lag:]
        n = min(len(x), len(y))
        stoi = float(measure_stoi(x[:n], y[:n], 10000))
    weight = len(asr.comparable(said, locale))
    return key, asr.cer(said, text, locale), weight, stoi


def through_channels(locales: list[str], channels: list[str], where: Path,
                     jobs: int) -> dict:
    """{(channel, profile, locale): (CER, STOI)} for the example's message files."""
    from concurrent.futures import ProcessPoolExecutor
    root = channel_project(where, locales)
    run = subprocess.run([sys.executable, "-m", "pipeline", "render", "--project", str(root),
                          "--jobs", str(jobs)], capture_output=True, text=True)
    if run.returncode != 0:
        raise SystemExit(f"render failed:\n{run.stderr[-2000:]}")
    cache = str(Path.home() / ".cache" / "broadcast-pipeline" / "channel-transcripts")
    work = []
    for channel in channels:
        for profile in CARRIED[channel.split(":")[0]]:
            for locale in locales:
                for folder in sorted((root / "audio_out").glob(f"*/{locale}/{profile}")):
                    manifest = json.loads((folder / "manifest.json").read_text("utf-8"))
                    for entry in manifest["files"]:
                        if entry["kind"] != "message":
                            continue
                        reference = folder.parent / "radio" / entry["file"].replace(
                            Path(entry["file"]).suffix, ".wav")
                        work.append(((channel, profile, locale), str(folder / entry["file"]),
                                     str(reference), entry.get("spoken") or entry["text"],
                                     locale, channel, f"{locale}/{entry['id']}", cache))
    sums: dict = {}
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        for n, (key, cer, weight, stoi) in enumerate(pool.map(_heard, work, chunksize=4), 1):
            errors, total, stois = sums.setdefault(key, (0.0, 0, []))
            sums[key] = (errors + cer * weight, total + weight,
                         stois + ([stoi] if stoi is not None else []))
            if n % 50 == 0:
                print(f"{n}/{len(work)} files heard", file=sys.stderr)
    return {key: (errors / total, sum(stois) / len(stois) if stois else None)
            for key, (errors, total, stois) in sums.items()}


def channel_table(results: dict, channels: list[str], locales: list[str]) -> str:
    out = ["| channel | file | " + " | ".join(locales) + " |",
           "|---" * (len(locales) + 2) + "|"]
    for channel in channels:
        for profile in CARRIED[channel.split(":")[0]]:
            cells = []
            for locale in locales:
                cer, stoi = results.get((channel, profile, locale), (None, None))
                cells.append("–" if cer is None else f"{cer:.3f}" + (
                    f" ({stoi:.2f})" if stoi is not None else ""))
            out.append(f"| {channel} | {profile} | " + " | ".join(cells) + " |")
    ratios = []
    for channel in channels:
        kind = channel.split(":")[0]
        plain, processed = CARRIED[kind][0], CARRIED[kind][2]
        if kind in ("speaker", AS_IS):
            continue
        cells = []
        for locale in locales:
            radio = results.get((channel, plain, locale), (None,))[0]
            ours = results.get((channel, processed, locale), (None,))[0]
            cells.append("–" if not radio or ours is None else f"{ours / radio:.2f}")
        ratios.append(f"| {channel} | {processed} ÷ radio | " + " | ".join(cells) + " |")
    return "\n".join(out + ["", "| channel | CER ratio | " + " | ".join(locales) + " |",
                            "|---" * (len(locales) + 2) + "|"] + ratios)


def write_block(path: Path, name: str, block: str) -> None:
    """Put ``block`` between ``<!-- name -->`` markers in ``path`` (added at the end if
    they are not there)."""
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    marker = re.compile(rf"<!-- {name} -->.*<!-- /{name} -->", re.S)
    block = f"<!-- {name} -->\n{block}\n<!-- /{name} -->"
    path.write_text(marker.sub(lambda _: block, text) if marker.search(text)
                    else text + "\n" + block + "\n", encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engines", nargs="+", default=list(ENGINES))
    parser.add_argument("--locales", nargs="+", default=["ko_KP", "ru", "uk"])
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--mos-python", metavar="PYTHON",
                        help="a Python with distillmos installed: also predict naturalness")
    parser.add_argument("--out", default=str(ROOT / "docs" / "voices.md"),
                        help="where to write the table ('-': print it)")
    parser.add_argument("--channel", action="store_true",
                        help="measure through simulated channels (see above)")
    parser.add_argument("--channels", nargs="+", default=list(CHANNELS))
    args = parser.parse_args()
    if args.channel:
        with tempfile.TemporaryDirectory(prefix="channel-") as tmp:
            results = through_channels(args.locales, args.channels, Path(tmp), args.jobs)
        body = channel_table(results, args.channels, args.locales)
        if args.out == "-":
            print(body)
        else:
            write_block(Path(args.out), "channel",
                        f"Judge: {judge_id()}; the example campaign with the default voices, "
                        "every message; CER (STOI against the clean radio file).\n\n" + body)
            print(f"wrote {args.out}", file=sys.stderr)
        return 0
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
    write_block(Path(args.out), "intelligibility",
                f"Judge: {judge_id()}; the example campaign, radio profile, every message."
                f"\n\n{body}")
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
