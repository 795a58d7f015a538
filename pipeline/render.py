"""Rendering: every ready message (and program) → processed, encoded audio per profile.

Work is split in two: :func:`plan` decides what to render from what (pure data, no
audio), :func:`execute` does it. Every expensive result is cached under
``audio_out/.cache`` by a content hash: a rebuild with nothing changed does no synthesis
and no encoding, only compares files.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import os
import sys
import warnings
import wave
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import audio as au
from . import recordings
from .catalogs import locale_status
from .checks import readiness
from .config import Config, Voice
from .errors import AudioError, EngineError, PipelineError
from .fsutil import atomic_write, sha256_bytes, sha256_file, write_if_changed
from .profiles import Profile
from .report import index_html
from .sources import Campaign, Program, fill
from .textnorm import load_lexicon, normalize

PROCESSING_VERSION = "1"        # bump when audio processing changes its output
PARAGRAPH_PAUSE_S = 0.7
SPEECH_RATE = 48000             # recordings are decoded at this rate


# --- the plan (pure data) ------------------------------------------------------------------

@dataclass(frozen=True)
class Source:
    """How one message is voiced in one locale: TTS paragraphs, or a recording."""

    locale: str = ""
    engine: str = ""
    voice: Voice | None = None
    texts: tuple[str, ...] = ()         # normalized paragraphs
    recording: str = ""                 # path relative to the project
    recording_sha256: str = ""

    def made_by(self) -> dict:
        if self.recording:
            return {"recording": self.recording, "recording_sha256": self.recording_sha256}
        return {"engine": self.engine, "voice": self.voice.voice, "speed": self.voice.speed,
                "pitch": self.voice.pitch}


@dataclass(frozen=True)
class MessageJob:
    campaign: str
    locale: str
    message_id: str
    title: str                          # translated
    text: str                           # translated, placeholders filled
    source: Source
    source_text: str = ""               # the source-language text, for reviewers


@dataclass
class LocalePlan:
    campaign: Campaign
    locale: str
    jobs: list[MessageJob] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)     # message id → why

    def job(self, message_id: str) -> MessageJob | None:
        return next((j for j in self.jobs if j.message_id == message_id), None)


def plan(config: Config, campaigns: list[Campaign], locales: list[str]) -> list[LocalePlan]:
    """What to render: ready messages and how to voice them, and what is skipped and why."""
    plans = []
    for campaign in campaigns:
        for locale in locales:
            lp = LocalePlan(campaign, locale)
            status = locale_status(campaign, config.locales_dir, locale)
            reasons, _ = readiness(config, campaign, status)
            voice = config.voice_for(locale)
            if voice.recordings != "require":
                from .engines import get_engine
                get_engine(voice.engine)        # an unknown engine fails here, once
            lexicon = load_lexicon(config.locales_dir / locale / "lexicon.tsv")
            for message in campaign.messages:
                reason = reasons[message.id]
                if reason is not None:
                    lp.skipped[message.id] = reason
                    continue
                title, paragraphs = status.translation(message.id, campaign.variables)
                text = "\n\n".join(paragraphs)
                source = _source_for(config, locale, message.id, text, paragraphs, voice,
                                     lexicon)
                if isinstance(source, str):
                    lp.skipped[message.id] = source
                    continue
                lp.jobs.append(MessageJob(campaign.name, locale, message.id, title, text,
                                          source, fill(message.text, campaign.variables)))
            plans.append(lp)
    return plans


def _source_for(config: Config, locale: str, message_id: str, text: str,
                paragraphs: list[str], voice: Voice, lexicon) -> Source | str:
    if voice.recordings != "ignore":
        rec = recordings.find(config.locales_dir, locale, message_id, text)
        if rec.usable:
            return Source(locale=locale, recording=rec.path.relative_to(config.root).as_posix(),
                          recording_sha256=sha256_file(rec.path))
        if voice.recordings == "require":
            return f"recording required: {recordings.describe(rec)}"
    return Source(locale=locale, engine=voice.engine, voice=voice,
                  texts=tuple(normalize(p, locale, lexicon) for p in paragraphs))


# --- speech (engine output, cached) ----------------------------------------------------------

def read_wav(source: Path | bytes) -> au.Audio:
    """A PCM 16-bit WAV file (or its bytes) as audio."""
    with wave.open(io.BytesIO(source) if isinstance(source, bytes) else str(source), "rb") as w:
        return au.Audio.from_int16(w.readframes(w.getnframes()), w.getframerate(),
                                   w.getnchannels())


def wav_bytes(audio: au.Audio) -> bytes:
    """PCM 16-bit mono WAV: RIFF, fmt and data chunks only (no INFO, no dates)."""
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(audio.rate)
        w.writeframes(audio.to_int16().tobytes())
    return buf.getvalue()


def _speech_keys(source: Source) -> list[str]:
    if source.recording:
        return ["recording-" + source.recording_sha256]
    from .engines import SpeechRequest, cache_key, get_engine
    engine = get_engine(source.engine)
    return [cache_key(engine, SpeechRequest(t, source.locale, source.voice)) for t in source.texts]


def speech(source: Source, root: Path, cache: Path) -> au.Audio:
    """The raw voice of a message (paragraphs joined), from the cache or the engine."""
    keys = _speech_keys(source)
    if source.recording:
        path = cache / "speech" / f"{keys[0]}.wav"
        if not path.exists():
            from .ffmpeg import decode
            atomic_write(path, wav_bytes(au.trim(decode(root / source.recording, SPEECH_RATE))))
        return read_wav(path)
    from .engines import SpeechRequest, get_engine
    engine = get_engine(source.engine)
    parts = []
    for key, text in zip(keys, source.texts, strict=True):
        path = cache / "speech" / f"{key}.wav"
        if not path.exists():
            audio = engine.synthesize(SpeechRequest(text, source.locale, source.voice))
            if len(audio.samples) == 0 or not np.any(audio.samples):
                raise EngineError(f"{source.engine} produced silence for '{text[:40]}'",
                                  fix="check the voice for this locale in broadcast.toml")
            atomic_write(path, wav_bytes(audio))
        parts.append(read_wav(path))
    rate = parts[0].rate
    joined: list[au.Audio] = []
    for i, part in enumerate(parts):
        if i:
            joined.append(au.Audio.silence(PARAGRAPH_PAUSE_S, rate))
        joined.append(au.resample(part, rate))
    return au.concat(joined)


# --- processing and encoding (cached per profile) -------------------------------------------

def _key(*parts) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, ensure_ascii=False,
                                     default=str).encode("utf-8")).hexdigest()


def encoder_id(profile: Profile) -> str:
    """What encodes this profile's files, for cache keys: a new ffmpeg re-encodes."""
    if profile.format == "wav":
        return "wave"
    from .ffmpeg import ffmpeg_version
    return ffmpeg_version()


def encode(audio: au.Audio, profile: Profile, title: str | None) -> bytes:
    if profile.format == "wav":
        return wav_bytes(audio)
    from .ffmpeg import encode_mp3
    return encode_mp3(audio, profile.bitrate_kbps, title if profile.title_tag else None)


def measure_encoded(data: bytes, profile: Profile) -> au.Measured:
    """Measure the file as a listener gets it: decoded again."""
    if profile.format == "wav":
        decoded = read_wav(data)
    else:
        from .ffmpeg import decode
        decoded = decode(data, profile.sample_rate)
    return au.measure(decoded)


def finish(audio: au.Audio, profile: Profile, title: str | None) -> tuple[bytes, au.Measured]:
    """Loudness-processed audio → encoded bytes whose decoded true peak is under the ceiling."""
    data = encode(audio, profile, title)
    measured = measure_encoded(data, profile)
    for _ in range(3):
        excess = measured.true_peak - profile.max_true_peak
        if excess <= -0.05:
            break
        # A codec can overshoot: lower the level by the excess and encode again.
        audio = au.limit(au.apply_gain(audio, -(excess + 0.2)), profile.max_true_peak - 0.5)
        data = encode(audio, profile, title)
        measured = measure_encoded(data, profile)
    if (abs(measured.lufs - profile.target_lufs) > profile.tolerance_lu
            or measured.true_peak > profile.max_true_peak):
        raise AudioError(f"after encoding, {measured.lufs} LUFS and {measured.true_peak} dBTP "
                         f"miss the {profile.name} profile's {profile.target_lufs:g} LUFS "
                         f"±{profile.tolerance_lu:g} and {profile.max_true_peak:g} dBTP",
                         fix="check the source audio: is it mostly silence or noise?")
    return data, measured


@dataclass(frozen=True)
class Rendered:
    cache_file: str                     # in the cache folder
    measured: au.Measured


def _cached(cache: Path, key: str, profile: Profile, make) -> Rendered:
    out = cache / "final" / f"{key}.{profile.ext}"
    meta = cache / "final" / f"{key}.json"
    if out.exists() and meta.exists():
        try:
            return Rendered(out.name, au.Measured(**json.loads(meta.read_text())))
        except (ValueError, TypeError):
            pass
    data, measured = make()
    atomic_write(out, data)
    atomic_write(meta, json.dumps(dataclasses.asdict(measured)).encode())
    return Rendered(out.name, measured)


def render_message(job: MessageJob, profiles: list[Profile], root: str,
                   cache: str) -> dict[str, Rendered]:
    """One message in one locale, every profile (runs in a worker process)."""
    root_p, cache_p = Path(root), Path(cache)
    keys = _speech_keys(job.source)
    results = {}
    raw = None
    for profile in profiles:
        key = _key("message", PROCESSING_VERSION, keys, PARAGRAPH_PAUSE_S,
                   dataclasses.asdict(profile), encoder_id(profile), job.title if profile.title_tag else "")

        def make(profile=profile):
            nonlocal raw
            if raw is None:
                raw = speech(job.source, root_p, cache_p)
            return finish(au.process(raw, profile), profile, job.title)
        results[profile.name] = _cached(cache_p, key, profile, make)
    return results


def render_program(program: Program, jobs: list[MessageJob], locale: str,
                   profiles: list[Profile], root: str, cache: str) -> dict[str, Rendered]:
    """A program: its messages in order with gaps, intro and outro, loudness as a whole."""
    root_p, cache_p = Path(root), Path(cache)
    extras = {}
    for name in ("intro", "outro"):
        path = getattr(program, name)
        if path:
            full = root_p / path
            if not full.is_file():
                raise AudioError(f"program '{program.id}' {name} file not found", full,
                                 fix="add the file or remove the entry")
            extras[name] = sha256_file(full)
    item_keys = [_speech_keys(j.source) for j in jobs]
    results = {}
    raw: list[au.Audio] = []            # loaded once, for the first profile not cached
    for profile in profiles:
        key = _key("program", PROCESSING_VERSION, item_keys, program.gap_seconds, extras,
                   PARAGRAPH_PAUSE_S, dataclasses.asdict(profile), encoder_id(profile),
                   program.title if profile.title_tag else "")

        def make(profile=profile):
            if not raw:
                from .ffmpeg import decode
                raw.extend(speech(j.source, root_p, cache_p) for j in jobs)
                if "intro" in extras:
                    raw.insert(0, decode(root_p / program.intro, SPEECH_RATE))
                if "outro" in extras:
                    raw.append(decode(root_p / program.outro, SPEECH_RATE))
            pieces = [au.prepare(piece, profile) for piece in raw]
            joined = join_with_gaps(pieces, program.gap_seconds)
            return finish(au.process(joined, profile, trim_first=False), profile,
                          program.title)
        results[profile.name] = _cached(cache_p, key, profile, make)
    return results


def join_with_gaps(pieces: list[au.Audio], gap_seconds: float) -> au.Audio:
    """Compose pieces with silent gaps (pydub does the composition)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")     # pydub warns when ffmpeg is not on PATH
        from pydub import AudioSegment
    rate = pieces[0].rate
    program = AudioSegment.empty().set_frame_rate(rate)
    gap = AudioSegment.silent(duration=int(round(gap_seconds * 1000)), frame_rate=rate)
    for i, piece in enumerate(pieces):
        segment = AudioSegment(data=piece.to_int16().tobytes(), sample_width=2,
                               frame_rate=rate, channels=1)
        program = program + gap + segment if i else program + segment
    return au.Audio.from_int16(program.raw_data, rate)


# --- outputs ---------------------------------------------------------------------------------

@dataclass
class FolderResult:
    campaign: str
    locale: str
    profile: str
    folder: Path
    files: int = 0
    seconds: float = 0.0
    skipped: dict[str, str] = field(default_factory=dict)
    programs_skipped: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


OUTPUT_EXTENSIONS = {".wav", ".mp3", ".txt"}     # what a new render may leave stale


def output_folder(out_dir: Path, campaign: str, locale: str, profile: str) -> Path:
    return Path(out_dir) / campaign / locale / profile


def write_folder(folder: Path, cache: Path, profile: Profile, lp: LocalePlan,
                 messages: list[tuple[MessageJob, Rendered]],
                 programs: list[tuple[Program, Rendered]],
                 program_skips: dict[str, str]) -> FolderResult:
    """Write the output folder: audio, playlist, manifest, checksums; drop stale files."""
    result = FolderResult(lp.campaign.name, lp.locale, profile.name, folder,
                          skipped=dict(lp.skipped), programs_skipped=dict(program_skips))
    width = max(2, len(str(len(messages))))
    wanted: dict[str, bytes] = {}
    entries = []
    playlist = ["#EXTM3U"]
    for index, (job, rendered) in enumerate(messages, 1):
        name = f"{index:0{width}d}-{job.message_id}.{profile.ext}"
        data = (cache / "final" / rendered.cache_file).read_bytes()
        wanted[name] = data
        entries.append(_entry(name, "message", job.message_id, job.title, job.text, data,
                              rendered.measured, job.source.made_by(), job.source_text))
        playlist += [f"#EXTINF:{int(round(rendered.measured.duration))},{job.title}", name]
        wanted[name.rsplit(".", 1)[0] + ".txt"] = f"{job.title}\n\n{job.text}\n".encode("utf-8")
        result.seconds += rendered.measured.duration
    for program, rendered in programs:
        name = f"programs/{program.id}.{profile.ext}"
        data = (cache / "final" / rendered.cache_file).read_bytes()
        wanted[name] = data
        entries.append(_entry(name, "program", program.id, program.title,
                              " | ".join(program.items), data, rendered.measured,
                              {"items": list(program.items), "gap_seconds": program.gap_seconds},
                              ""))
        result.seconds += rendered.measured.duration
    manifest = {
        "campaign": lp.campaign.name,
        "locale": lp.locale,
        "profile": dataclasses.asdict(profile),
        "files": entries,
        "skipped": [{"id": k, "reason": v} for k, v in lp.skipped.items()],
        "programs_skipped": [{"id": k, "reason": v} for k, v in program_skips.items()],
    }
    wanted["playlist.m3u8"] = ("\n".join(playlist) + "\n").encode("utf-8")
    wanted["index.html"] = index_html(manifest).encode("utf-8")
    wanted["manifest.json"] = (json.dumps(manifest, ensure_ascii=False, indent=2) + "\n") \
        .encode("utf-8")
    sums = "".join(f"{sha256_bytes(data)}  {name}\n" for name, data in sorted(wanted.items()))
    wanted["SHA256SUMS"] = sums.encode("utf-8")
    for name, data in wanted.items():
        write_if_changed(folder / name, data)
    _remove_stale(folder, set(wanted))
    result.files = len(messages) + len(programs)
    return result


def _entry(name, kind, ident, title, text, data, measured, made_by, source_text) -> dict:
    entry = {"file": name, "kind": kind, "id": ident, "title": title, "text": text,
             "duration": measured.duration, "loudness_lufs": measured.lufs,
             "true_peak_dbtp": measured.true_peak, "sha256": sha256_bytes(data),
             "size": len(data), "made_by": made_by}
    if source_text:
        entry["source_text"] = source_text
    return entry


def _remove_stale(folder: Path, keep: set[str]) -> None:
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder).as_posix()
        if path.is_file() and rel not in keep and path.suffix in OUTPUT_EXTENSIONS:
            path.unlink()


# --- execution -----------------------------------------------------------------------------

class Progress:
    """A progress bar on a terminal; a few plain lines otherwise."""

    def __init__(self, total: int, label: str, stream=None):
        self.total, self.label, self.done = max(total, 1), label, 0
        self.stream = stream or sys.stderr
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self._last_quarter = -1

    def step(self, note: str = "") -> None:
        self.done += 1
        if self.tty:
            filled = int(30 * self.done / self.total)
            self.stream.write(f"\r{self.label} [{'#' * filled}{'.' * (30 - filled)}] "
                              f"{self.done}/{self.total} {note[:30]:<30}")
            if self.done >= self.total:
                self.stream.write("\n")
            self.stream.flush()
        else:
            quarter = 4 * self.done // self.total
            if quarter != self._last_quarter:
                self._last_quarter = quarter
                self.stream.write(f"{self.label}: {self.done}/{self.total}\n")
                self.stream.flush()


@dataclass
class RenderReport:
    folders: list[FolderResult] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def rendered(self) -> int:
        return sum(f.files for f in self.folders)


def _pool(jobs: int):
    workers = jobs if jobs and jobs > 0 else (os.cpu_count() or 1)
    if workers <= 1:
        return None
    import multiprocessing
    # spawn: workers start clean, without the parent's threads, locks or loaded libraries.
    return ProcessPoolExecutor(max_workers=workers,
                               mp_context=multiprocessing.get_context("spawn"))


def execute(config: Config, plans: list[LocalePlan], profiles: list[Profile],
            jobs: int = 0, strict: bool = False, progress: bool = True) -> RenderReport:
    """Render everything the plans call for and write the output folders."""
    cache = config.out_dir / ".cache"
    root, cache_s = str(config.root), str(cache)
    report = RenderReport()
    tasks = [(lp, job) for lp in plans for job in lp.jobs]
    program_tasks = []
    program_skips: dict[tuple[str, str], dict[str, str]] = {}
    for lp in plans:
        skips = program_skips.setdefault((lp.campaign.name, lp.locale), {})
        for program in lp.campaign.programs:
            missing = [m for m in program.items if lp.job(m) is None]
            if missing:
                skips[program.id] = ("not ready in this locale: " +
                                     ", ".join(dict.fromkeys(missing)))
            else:
                program_tasks.append((lp, program))
    bar = Progress(len(tasks) + len(program_tasks), "render") if progress else None
    pool = _pool(jobs)
    message_results: dict[tuple[str, str, str], dict[str, Rendered]] = {}
    program_results: dict[tuple[str, str, str], dict[str, Rendered]] = {}
    try:
        def run(fn, *args):
            return pool.submit(fn, *args) if pool else _Done(fn, *args)
        _gather([((lp.campaign.name, lp.locale, job.message_id),
                  f"message '{job.message_id}' in {job.locale}",
                  run(render_message, job, profiles, root, cache_s)) for lp, job in tasks],
                message_results, report.errors, bar)
        pfutures = []
        for lp, program in program_tasks:
            jobs_in_order = [lp.job(m) for m in program.items]
            if any((lp.campaign.name, lp.locale, j.message_id) not in message_results
                   for j in jobs_in_order):
                program_skips[(lp.campaign.name, lp.locale)][program.id] = \
                    "a message of the program failed to render"
                continue
            pfutures.append(((lp.campaign.name, lp.locale, program.id),
                             f"program '{program.id}' in {lp.locale}",
                             run(render_program, program, jobs_in_order, lp.locale,
                                 profiles, root, cache_s)))
        _gather(pfutures, program_results, report.errors, bar)
    finally:
        if pool:
            pool.shutdown()
    for lp in plans:
        skips = program_skips[(lp.campaign.name, lp.locale)]
        for profile in profiles:
            msgs = [(job, message_results[(lp.campaign.name, lp.locale, job.message_id)]
                     [profile.name]) for job in lp.jobs
                    if (lp.campaign.name, lp.locale, job.message_id) in message_results]
            progs = []
            notes = []
            for program in lp.campaign.programs:
                got = program_results.get((lp.campaign.name, lp.locale, program.id))
                if not got:
                    continue
                rendered = got[profile.name]
                if program.max_seconds and rendered.measured.duration > program.max_seconds:
                    text = (f"program '{program.id}' in {lp.locale} ({profile.name}) lasts "
                            f"{rendered.measured.duration:.0f} s, over its max_seconds "
                            f"{program.max_seconds:.0f}")
                    if strict:
                        report.errors.append(text + "; shorten it or raise max_seconds")
                        skips.setdefault(program.id, "longer than max_seconds (--strict)")
                        continue
                    notes.append(text)
                progs.append((program, rendered))
            folder = output_folder(config.out_dir, lp.campaign.name, lp.locale, profile.name)
            if not msgs and not folder.exists():
                result = FolderResult(lp.campaign.name, lp.locale, profile.name, folder,
                                      skipped=dict(lp.skipped), programs_skipped=dict(skips))
            else:
                result = write_folder(folder, cache, profile, lp, msgs, progs, skips)
            result.warnings += notes
            report.folders.append(result)
    return report


def _gather(futures, results: dict, errors: list[str], bar: Progress | None) -> None:
    """Wait for each (key, label, future): its result, or its error with the label."""
    for key, label, future in futures:
        try:
            results[key] = future.result()
        except PipelineError as exc:
            errors.append(f"{label}: {exc}")
        if bar:
            bar.step(label)


class _Done:
    """A finished call that looks like a future (when running without a pool)."""

    def __init__(self, fn, *args):
        try:
            self._value, self._error = fn(*args), None
        except PipelineError as exc:
            self._value, self._error = None, exc

    def result(self):
        if self._error:
            raise self._error
        return self._value
