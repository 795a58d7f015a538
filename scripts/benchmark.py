#!/usr/bin/env python3
"""Benchmark `broadcast build` against its anchors: one run, the same content, side by side.

Cases, each in a fresh copy of the example project and as its own process:
  project cold, 1 and 2 workers; a no-op rebuild; a rebuild after one paragraph changed;
  the compliant peer (espeak-ng command + ffmpeg-normalize -nt ebu, the same targets and
  true-peak ceilings); the naive loop (scripts/naive_pipeline.py); and the floor
  (synthesis with espeak-ng loaded once, then each output resampled and encoded in
  process, nothing measured); these speak with espeak-ng (the example's fallback voices).
  Then a cold build with the example's native voices (RHVoice, MBROLA) beside its own
  floor: each paragraph synthesized once by the same engine, then encoded.
For each: wall and CPU seconds (the process and every child it waited for) and peak
memory summed over the process and its workers (each one's own peak, as the kernel keeps
it, summed over the processes alive together; and the largest sum of their resident
memory read every 20 ms, which can miss a short spike). Every case runs with
OPENBLAS_NUM_THREADS=1 and the package compiled to bytecode first. For scale, it also
says how much work two busy processes do side by side against one on this machine.

    python scripts/benchmark.py                      # the example's Russian locale
    python scripts/benchmark.py --scale 20 200       # synthetic campaigns of N messages
    python scripts/benchmark.py --repeat 3           # every case 3 times, interleaved: medians
    python scripts/benchmark.py --catalog-scale 500 5000 20000   # status and check only

Timings on a shared machine are noisy: compare the ratios within one run. The peer needs
the espeak-ng command (Debian: espeak-ng) and the [bench] extra (ffmpeg-normalize).
"""

from __future__ import annotations

import argparse
import compileall
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROFILES = ("radio", "usb", "shortwave")
# The variation that makes each synthetic message its own, per locale.
NUMBERED = {"en": "This is message number {n}.", "ru": "Это сообщение номер {n}.",
            "uk": "Це повідомлення номер {n}.", "ko_KP": "이것은 {n}번 통보입니다."}


def copy_project(dest: Path, native: bool = False) -> Path:
    """A copy of the example. Its voices are espeak-ng's (each native voice's fallback),
    as the peer, the naive loop and the floor speak with espeak-ng; with ``native``, the
    example's own (RHVoice, MBROLA), measured against a floor that speaks with them."""
    for name in ("messages", "locales"):
        shutil.copytree(ROOT / name, dest / name, ignore=shutil.ignore_patterns("*.mo"))
    shutil.copy(ROOT / "broadcast.toml", dest / "broadcast.toml")
    if not native:
        (dest / "broadcast.toml").write_text(_espeak_config(dest), encoding="utf-8")
    return dest


def _espeak_config(project: Path) -> str:
    import json
    sys.path.insert(0, str(ROOT))
    from pipeline.config import load_config
    config = load_config(project)
    lines = [f"locales = {json.dumps(list(config.locales))}"]
    for locale in config.locales:
        voice = config.voice_for(locale)
        if voice.engine != "espeak" and voice.fallback is not None:
            voice = voice.fallback
        lines += ["", f"[voices.{locale}]", f'engine = "{voice.engine}"',
                  f'voice = "{voice.voice}"', f"[voices.{locale}.options]"]
        lines += [f"{key} = {json.dumps(value)}" for key, value in voice.options.items()]
    return "\n".join(lines) + "\n"


def scaled_project(dest: Path, count: int) -> Path:
    """A project whose one campaign has ``count`` messages derived from the example's,
    every one translated in every locale, and one program that holds them all."""
    import polib
    import yaml
    copy_project(dest)
    source = yaml.safe_load((dest / "messages" / "kursk.yaml").read_text("utf-8"))
    base = source["messages"]
    messages = []
    for n in range(count):
        m = base[n % len(base)]
        messages.append({"id": f"{m['id']}-{n:04d}", "title": f"{m['title']} {n}",
                         "text": m["text"].rstrip() + "\n\n" + NUMBERED["en"].format(n=n)})
    campaign = {"campaign": "scale", "title": f"{count} messages", "source_locale": "en",
                "variables": source.get("variables", {}), "messages": messages,
                "programs": [{"id": "all", "title": "Everything",
                              "items": [m["id"] for m in messages]}]}
    (dest / "messages" / "kursk.yaml").unlink()
    (dest / "messages" / "scale.yaml").write_text(yaml.safe_dump(campaign, allow_unicode=True),
                                                  encoding="utf-8")
    locales = [p.name for p in (dest / "locales").iterdir() if p.is_dir()]
    example = {loc: polib.pofile(str(dest / "locales" / loc / "LC_MESSAGES" / "kursk.po"))
               for loc in locales}
    for path in (dest / "locales").rglob("kursk.*"):
        path.unlink()
    broadcast(dest, "extract")
    for loc in locales:
        broadcast(dest, "init", loc)
        known = {(e.msgctxt, e.msgid): e.msgstr for e in example[loc] if not e.obsolete}
        po_path = dest / "locales" / loc / "LC_MESSAGES" / "scale.po"
        po = polib.pofile(str(po_path))
        for entry in po:
            mid, _, part = entry.msgctxt.partition("|")
            origin, n = mid.rsplit("-", 1)
            if part == "title":
                title = entry.msgid.rsplit(" ", 1)[0]
                entry.msgstr = f"{known[(f'{origin}|title', title)]} {int(n)}"
            elif entry.msgid.startswith("This is message number"):
                entry.msgstr = NUMBERED[loc].format(n=int(n))
            else:
                entry.msgstr = known[(origin, entry.msgid)]
        po.save(str(po_path))
    broadcast(dest, "update")
    return dest


def broadcast(project: Path, *args: str) -> None:
    subprocess.run([sys.executable, "-m", "pipeline", *args, "--project", str(project)],
                   check=True, stdout=subprocess.DEVNULL)


class MemorySampler(threading.Thread):
    """The memory of a process and all its descendants, read every 20 ms: the largest sum,
    over the processes alive together, of each one's own peak (VmHWM, which the kernel
    keeps, so a spike between two readings counts); and the largest sum of their resident
    memory at one reading (which a spike shorter than 20 ms can miss)."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid, self.peaks, self.sampled, self._done = pid, 0, 0, threading.Event()

    def run(self) -> None:
        while not self._done.is_set():
            now = [_memory(p) for p in _tree(self.pid)]
            self.peaks = max(self.peaks, sum(peak for _, peak in now))
            self.sampled = max(self.sampled, sum(rss for rss, _ in now))
            self._done.wait(0.02)

    def stop(self) -> tuple[int, int]:
        self._done.set()
        self.join()
        return self.peaks, self.sampled


def _tree(root: int) -> list[int]:
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            parents.setdefault(ppid, []).append(int(entry))
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo += parents.get(pid, [])
    return out


def _memory(pid: int) -> tuple[int, int]:
    """(resident bytes now, the most it has been) of a process; (0, 0) once it is gone."""
    found = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(("VmRSS:", "VmHWM:")):
                found[line[:5]] = int(line.split()[1]) * 1024
    except OSError:
        pass
    return found.get("VmRSS", 0), found.get("VmHWM", 0)


def measure(args: list[str], env: dict | None = None) -> tuple[float, float, float, float]:
    """(wall s, CPU s with waited-for children, MiB: the processes' own peaks summed over
    those alive together, the largest sampled sum of their resident memory)."""
    start = time.perf_counter()
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    sampler = MemorySampler(proc.pid)
    sampler.start()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    peaks, sampled = sampler.stop()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed: {' '.join(args)}\n{proc.stderr.read().decode()[-2000:]}")
    return wall, usage.ru_utime + usage.ru_stime, peaks / 2 ** 20, sampled / 2 ** 20


def build(project: Path, jobs: int, locales: list[str]) -> list[str]:
    return [sys.executable, "-m", "pipeline", "build", "--project", str(project),
            "--jobs", str(jobs)] + [a for loc in locales for a in ("--locale", loc)]


ADDED = {"ru": " Это важно.", "uk": " Це важливо.", "ko_KP": " 이것은 중요합니다.",
         "en": " This matters."}


def edit_one_paragraph(project: Path, locale: str) -> None:
    """Change one translated paragraph (of a message that programs hold), as a
    translator's tool would save it."""
    import polib
    path = next((project / "locales" / locale / "LC_MESSAGES").glob("*.po"))
    po = polib.pofile(str(path))
    entry = next(e for e in po if re.fullmatch(r"family(-\d{4})?", e.msgctxt or "")
                 and e.msgstr and not e.msgid.startswith("This is message"))
    entry.msgstr += ADDED[locale]
    po.save(str(path))


# --- the anchors -------------------------------------------------------------------------------

def texts(project: Path, locale: str) -> dict[str, list[str]]:
    """Every ready message's spoken paragraphs (the project's own text normalization)."""
    sys.path.insert(0, str(ROOT))
    from pipeline.project import open_project
    p = open_project(project, locales=[locale])
    out = {}
    for campaign in p.campaigns:
        reasons, _ = p.readiness(campaign, locale)
        for mid, why in reasons.items():
            if why is None:
                out[f"{campaign.name}-{mid}"] = p.spoken(campaign, locale, mid)
    return out


def floor(project: Path, locale: str, out: Path) -> None:
    """Synthesis once (espeak-ng loaded once), then each output resampled and encoded in
    process: the least any pipeline that writes these files must spend."""
    import ctypes

    import espeakng_loader
    import numpy as np
    sys.path.insert(0, str(ROOT))
    from pipeline.config import load_config
    config = load_config(project)
    voice = config.voice_for(locale)
    lib = ctypes.CDLL(espeakng_loader.get_library_path())
    lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
    rate = lib.espeak_Initialize(2, 0, espeakng_loader.get_data_path().encode(), 0x8000)
    chunks: list[np.ndarray] = []
    callback = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int,
                                ctypes.c_void_p)(
        lambda wav, n, _e: chunks.append(np.ctypeslib.as_array(wav, (n,)).copy()) or 0
        if n > 0 else 0)
    lib.espeak_SetSynthCallback(callback)
    lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
    lib.espeak_SetVoiceByName(voice.voice.encode())
    lib.espeak_SetParameter(1, int(voice.options.get("speed", 150)), 0)
    spoken = texts(project, locale)
    speech = {}
    for name, paragraphs in spoken.items():
        chunks.clear()
        text = " ".join(paragraphs).encode()
        lib.espeak_Synth(text, len(text) + 1, 0, 1, 0, 1, None, None)
        lib.espeak_Synchronize()
        speech[name] = np.concatenate(chunks).astype(np.float32) / 32768
    encode_all(speech, rate, config, out)


def native_floor(project: Path, locale: str, out: Path) -> None:
    """The floor with the locale's configured (native) voice: each paragraph synthesized
    once by its engine as the render calls it, then every output encoded in process."""
    import numpy as np
    sys.path.insert(0, str(ROOT))
    from pipeline.audio.dsp import resample
    from pipeline.config import load_config
    from pipeline.voice.engines import SpeechRequest, get_engine
    config = load_config(project)
    voice = config.voice_for(locale)
    engine = get_engine(voice.engine, voice.options)
    speech, rate = {}, 48000
    for name, paragraphs in texts(project, locale).items():
        parts = [engine.synthesize(SpeechRequest(p, locale, voice.voice)) for p in paragraphs]
        rate = parts[0].rate
        speech[name] = np.concatenate([resample(a, rate).samples for a in parts])
    encode_all(speech, rate, config, out)


def encode_all(speech: dict, rate: int, config, out: Path) -> None:
    """Each message's samples, and all of them as a program, resampled and encoded in
    every profile."""
    import lameenc
    import numpy as np
    import soxr

    from pipeline.audio.codec import wav_bytes
    from pipeline.audio.dsp import Audio
    everything = np.concatenate(list(speech.values()))         # the programs' stand-in
    for profile in (config.profile(p) for p in PROFILES):
        for name, pcm in [*speech.items(), ("program", everything)]:
            y = soxr.resample(pcm, rate, profile.sample_rate, quality="VHQ")
            if profile.format == "wav":
                data = wav_bytes(Audio(y.astype(np.float32), profile.sample_rate))
            else:
                enc = lameenc.Encoder()
                enc.set_bit_rate(profile.bitrate_kbps)
                enc.set_in_sample_rate(profile.sample_rate)
                enc.set_channels(1)
                enc.set_quality(3)
                pcm16 = (np.clip(y, -1, 1) * 32767).astype("<i2").tobytes()
                data = bytes(enc.encode(pcm16) + enc.flush())
            (out / f"{profile.name}-{name}.{profile.ext}").write_bytes(data)


def peer(project: Path, locale: str, out: Path) -> None:
    """The compliant peer: espeak-ng's command per message, ffmpeg-normalize (EBU R 128,
    two passes) per output, to the project's targets and ceilings."""
    sys.path.insert(0, str(ROOT))
    from pipeline.config import load_config
    config = load_config(project)
    voice = config.voice_for(locale)
    for name, paragraphs in texts(project, locale).items():
        wav = out / f"{name}.wav"
        subprocess.run(["espeak-ng", "-v", voice.voice, "-s",
                        str(voice.options.get("speed", 150)), "-w", str(wav),
                        " ".join(paragraphs)], check=True)
        for profile in (config.profile(p) for p in PROFILES):
            args = ["ffmpeg-normalize", str(wav), "-nt", "ebu", "-t", str(profile.target_lufs),
                    "-tp", str(profile.max_true_peak), "-ar", str(profile.sample_rate), "-f",
                    "-q", "-o", str(out / f"{profile.name}-{name}.{profile.ext}")]
            if profile.format == "mp3":
                args += ["-c:a", "libmp3lame", "-b:a", f"{profile.bitrate_kbps}k"]
            subprocess.run(args, check=True)


# --- the machine ---------------------------------------------------------------------------------

def _busy(out=None) -> float:
    """A tenth of a second or so of work like a render job's (numpy over a few MB of
    audio, and the interpreter): its wall time."""
    import numpy as np
    start = time.perf_counter()
    x = np.random.default_rng(0).standard_normal(2_000_000).astype(np.float32)
    for _ in range(10):
        x[:400_000] = np.convolve(x[:400_000], np.ones(64, np.float32), mode="same") * 0.5
        x = x[::-1].copy()
        sum(range(100_000))
    took = time.perf_counter() - start
    if out is not None:
        out.put(took)
    return took


def two_process_throughput(rounds: int = 9) -> float:
    """How many times the work of one busy process this machine does with two side by
    side (2.0 on two cores that do not slow each other, as where they share caches and
    memory bandwidth they do): the scale a 2-worker speed-up is to be read against."""
    import multiprocessing
    context = multiprocessing.get_context("fork")
    ratios = []
    for _ in range(rounds):
        alone = _busy()
        queue = context.Queue()
        procs = [context.Process(target=_busy, args=(queue,)) for _ in range(2)]
        for proc in procs:
            proc.start()
        both = [queue.get() for _ in procs]
        for proc in procs:
            proc.join()
        ratios.append(2 * alone / max(both))
    return statistics.median(ratios)


# --- the run -------------------------------------------------------------------------------------

def run_all(tmp: Path, locales: list[str], anchors: bool, scale: int | None) -> dict:
    def fresh(name: str) -> Path:
        dest = tmp / name
        return scaled_project(dest, scale) if scale else copy_project(dest)
    results = {}
    results["_throughput"] = two_process_throughput()
    results["project cold, 1 worker"] = measure(build(fresh("cold1"), 1, locales))
    two = fresh("cold2")
    results["project cold, 2 workers"] = measure(build(two, 2, locales))
    results["no-op rebuild"] = measure(build(two, 2, locales))
    for loc in locales:
        edit_one_paragraph(two, loc)
    results["one paragraph edited"] = measure(build(two, 2, locales))
    if anchors:
        me = [sys.executable, str(Path(__file__).resolve())]
        loc = locales[0]
        for label, mode in (("compliant peer (ffmpeg-normalize)", "--peer"),
                            ("floor (synthesis + encoding)", "--floor")):
            out = tmp / mode.strip("-")
            out.mkdir()
            results[label] = measure(me + [mode, str(two), loc, str(out)])
        results["naive pydub loop"] = measure(
            [sys.executable, str(ROOT / "scripts" / "naive_pipeline.py"), "--project",
             str(two), "--locale", loc, "--out", str(tmp / "naive")])
        native = copy_project(tmp / "native", native=True)
        results["project cold, native voices, 1 worker"] = measure(build(native, 1, locales))
        out = tmp / "native-floor"
        out.mkdir()
        results["native floor (synthesis + encoding)"] = measure(
            me + ["--native-floor", str(native), loc, str(out)])
    return results


def report(runs: list[dict], title: str) -> None:
    """The table of each case's medians over ``runs``, then each target: the median of its
    ratio within a run (both sides of a ratio are measured side by side, so the ratio
    drifts less than the seconds do), with its range over the runs."""
    results = {label: tuple(statistics.median([run[label][i] for run in runs]) for i in range(4))
               for label in runs[0] if not label.startswith("_")}
    cold = results["project cold, 1 worker"]
    repeated = f", medians of {len(runs)} runs" if len(runs) > 1 else ""
    print(f"\n{title}{repeated}")
    print("| case | wall s | CPU s | peak MiB (all processes) | sampled MiB | CPU vs project cold |")
    print("|---|---|---|---|---|---|")
    for label, (wall, cpu, mib, sampled) in results.items():
        print(f"| {label} | {wall:.1f} | {cpu:.1f} | {mib:.0f} | {sampled:.0f} | "
              f"{cpu / cold[1]:.2f} |")

    def wall(run: dict, label: str) -> float:
        return run[label][0]

    def cpu(run: dict, label: str) -> float:
        return run[label][1]
    cold1 = "project cold, 1 worker"
    checks = []
    if "floor (synthesis + encoding)" in results:
        checks += [
            ("cold CPU ≤ 2× the floor",
             lambda r: cpu(r, cold1) / cpu(r, "floor (synthesis + encoding)"), 2.0, "≤"),
            ("native voices: cold CPU ≤ 2× their floor",
             lambda r: cpu(r, "project cold, native voices, 1 worker")
             / cpu(r, "native floor (synthesis + encoding)"), 2.0, "≤"),
            ("peer CPU ÷ cold CPU ≥ 5",
             lambda r: cpu(r, "compliant peer (ffmpeg-normalize)") / cpu(r, cold1), 5.0, "≥"),
            ("2 workers wall ÷ naive wall ≤ 1",
             lambda r: wall(r, "project cold, 2 workers") / wall(r, "naive pydub loop"), 1.0,
             "≤")]
    checks += [
        ("no-op CPU ÷ cold CPU ≤ 0.02", lambda r: cpu(r, "no-op rebuild") / cpu(r, cold1), 0.02,
         "≤"),
        ("edit CPU ÷ cold CPU ≤ 0.25",
         lambda r: cpu(r, "one paragraph edited") / cpu(r, cold1), 0.25, "≤"),
        ("1 worker wall ÷ 2 workers wall ≥ 1.7",
         lambda r: wall(r, cold1) / wall(r, "project cold, 2 workers"), 1.7, "≥")]
    for text, ratio, bound, op in checks:
        values = [ratio(run) for run in runs]
        value = statistics.median(values)
        ok = value <= bound if op == "≤" else value >= bound
        spread = f" (runs: {min(values):.3f} to {max(values):.3f})" if len(runs) > 1 else ""
        print(f"- {text}: {value:.3f}{spread} {'met' if ok else 'NOT met'}")
    throughput = statistics.median([run["_throughput"] for run in runs])
    print(f"- for scale: two processes running numpy over 8 MB of samples each did "
          f"{throughput:.2f}× the work of one, side by side (2.00 where the cores do not slow "
          "each other)")


def catalog_scale(sizes: list[int], locales: list[str], tmp: Path) -> None:
    """`status` and `check` (each a process) on campaigns of N messages: both read every
    catalog and check every unit, so their time must grow linearly with N."""
    rows = []
    for n in sizes:
        project = scaled_project(tmp / f"catalog-{n}", n)
        row = [n]
        for command in ("status", "check"):
            args = [sys.executable, "-m", "pipeline", command, "--project", str(project)]
            for loc in locales:
                args += ["--locale", loc]
            before = os.times()
            start = time.perf_counter()
            subprocess.run(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            wall = time.perf_counter() - start
            after = os.times()
            row += [wall, (after.children_user - before.children_user)
                    + (after.children_system - before.children_system)]
        rows.append(row)
    base = rows[0]
    print(f"\nstatus and check on N messages ({', '.join(locales)}): × is the CPU time "
          f"against N = {base[0]}'s, and 'N ×' what linear growth would give")
    print(f"{'N':>7}  {'status wall':>11}  {'status CPU':>10}  {'×':>6}  {'check wall':>10}  "
          f"{'check CPU':>9}  {'×':>6}  {'N ×':>6}")
    for n, sw, sc, cw, cc in rows:
        print(f"{n:>7}  {sw:>10.2f}s  {sc:>9.2f}s  {sc / base[2]:>6.1f}  {cw:>9.2f}s  "
              f"{cc:>8.2f}s  {cc / base[4]:>6.1f}  {n / base[0]:>6.1f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--locale", action="append", default=[],
                        help="locales to build (default: ru, as in the issue's figures)")
    parser.add_argument("--scale", type=int, nargs="+", metavar="N",
                        help="instead of the example: synthetic campaigns of N messages")
    parser.add_argument("--catalog-scale", type=int, nargs="+", metavar="N",
                        help="instead: time status and check on campaigns of N messages")
    parser.add_argument("--repeat", type=int, default=1, metavar="K",
                        help="run every case K times, interleaved, and report medians "
                             "(default: 1)")
    parser.add_argument("--peer", nargs=3, metavar=("PROJECT", "LOCALE", "OUT"),
                        help=argparse.SUPPRESS)
    parser.add_argument("--floor", nargs=3, metavar=("PROJECT", "LOCALE", "OUT"),
                        help=argparse.SUPPRESS)
    parser.add_argument("--native-floor", nargs=3, metavar=("PROJECT", "LOCALE", "OUT"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.peer:
        peer(Path(args.peer[0]), args.peer[1], Path(args.peer[2]))
        return 0
    if args.floor:
        floor(Path(args.floor[0]), args.floor[1], Path(args.floor[2]))
        return 0
    if args.native_floor:
        native_floor(Path(args.native_floor[0]), args.native_floor[1],
                     Path(args.native_floor[2]))
        return 0
    if args.scale and min(args.scale) < 8:
        parser.error("--scale N needs N ≥ 8: the edited paragraph is in the example's 8th "
                     "message, family")
    if args.repeat < 1:
        parser.error("--repeat K needs K ≥ 1")
    locales = args.locale or ["ru"]
    # Every case runs in the same environment: numpy's BLAS without its thread pool (as
    # `broadcast` runs it), and the package imported from bytecode as an installed one is
    # (where Python writes none, PYTHONDONTWRITEBYTECODE, each process would compile it).
    os.environ["OPENBLAS_NUM_THREADS"] = "1"
    compileall.compile_dir(ROOT / "pipeline", quiet=1)
    with tempfile.TemporaryDirectory(prefix="broadcast-bench-") as tmp:
        if args.catalog_scale:
            catalog_scale(sorted(args.catalog_scale), locales, Path(tmp))
            return 0

        def runs(name: str, anchors: bool, scale: int | None) -> list[dict]:
            out = []
            for k in range(args.repeat):
                where = Path(tmp) / f"{name}-{k}"
                where.mkdir()
                out.append(run_all(where, locales, anchors, scale))
            return out
        if args.scale:
            for n in args.scale:
                report(runs(f"scale-{n}", False, n), f"--scale {n} ({', '.join(locales)})")
        else:
            report(runs("example", True, None), f"the example campaign ({', '.join(locales)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
