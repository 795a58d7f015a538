"""Render execution: every planned message and program → mastered, encoded audio per profile.

Work runs in a pool of worker processes (``workers``) or in process. Every expensive result
is cached under ``audio_out/.cache`` by a content hash, so a rebuild with nothing changed
does no synthesis and no encoding; the report counts both.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import warnings
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field

from ..audio import dsp
from ..audio.codec import decode
from ..audio.master import encoder_id, finish
from ..audio.profiles import Profile
from ..content.sources import Program
from ..errors import AudioError, PipelineError
from ..fsutil import atomic_write, inside, sha256_file
from ..layout import Layout
from ..voice import asr
from ..voice.speech import PARAGRAPH_PAUSE_S, SPEECH_RATE, speech
from .outputs import FolderResult, Withdrawn, write_folder
from .plan import LocalePlan, MessageJob

PROCESSING_VERSION = "1"        # bump when audio processing changes its output

Progress = Callable[[int, int, str], None]     # (done, total, what was just done)


@dataclass(frozen=True)
class Rendered:
    key: str                            # the cache key: final/<key>.<ext> holds the file
    measured: dsp.Measured
    cer: float | None = None            # the speech judge's character error rate


@dataclass
class Done:
    """What a worker did for one message or program, every profile."""

    rendered: dict[str, Rendered]
    syntheses: int = 0
    encodings: int = 0


def _key(*parts) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, ensure_ascii=False,
                                     default=str).encode("utf-8")).hexdigest()


def _cached(layout: Layout, key: str, profile: Profile, make, done: Done) -> Rendered:
    out = layout.final_cache(key, profile.ext)
    meta = layout.final_cache(key, "json")
    if out.exists() and meta.exists():
        try:
            return Rendered(key, dsp.Measured(**json.loads(meta.read_text())))
        except (ValueError, TypeError):
            pass
    data, measured, encodings = make()
    done.encodings += encodings
    atomic_write(out, data)
    atomic_write(meta, json.dumps(dataclasses.asdict(measured)).encode())
    return Rendered(key, measured)


def render_message(job: MessageJob, profiles: list[Profile], layout: Layout) -> Done:
    """One message in one locale, every profile (runs in a worker process)."""
    keys = job.voicing.keys()
    done = Done({})
    raw: list[dsp.Audio] = []
    for profile in profiles:
        key = _key("message", PROCESSING_VERSION, keys, PARAGRAPH_PAUSE_S,
                   dataclasses.asdict(profile), encoder_id(profile),
                   job.title if profile.title_tag else "")

        def make(profile=profile):
            if not raw:
                audio, done.syntheses = speech(job.voicing, layout)
                raw.append(audio)
            return finish(dsp.process(raw[0], profile), profile, job.title)
        done.rendered[profile.name] = _cached(layout, key, profile, make, done)
    if job.speech_check:
        # What the listener gets, heard by the judge: every profile's file.
        said = " ".join(job.voicing.texts) or job.text
        for name, rendered in done.rendered.items():
            profile = next(p for p in profiles if p.name == name)
            heard = asr.transcribe(layout.final_cache(rendered.key, profile.ext), job.locale,
                                   layout.transcript_cache)
            done.rendered[name] = dataclasses.replace(
                rendered, cer=asr.cer(said, heard, job.locale))
    return done


def render_program(program: Program, jobs: list[MessageJob], profiles: list[Profile],
                   layout: Layout) -> Done:
    """A program: its messages in order with gaps, intro and outro, loudness as a whole."""
    extras = {}
    for name in ("intro", "outro"):
        path = getattr(program, name)
        if path:
            full = layout.root / path
            if not full.is_file():
                raise AudioError(f"program '{program.id}' {name} file not found", full,
                                 fix="add the file or remove the entry")
            if not inside(full, layout.root):
                raise AudioError(f"program '{program.id}' {name} is a link that leads out of "
                                 "the project", full, fix="copy the file itself into the project")
            extras[name] = sha256_file(full)
    item_keys = [j.voicing.keys() for j in jobs]
    done = Done({})
    raw: list[dsp.Audio] = []           # loaded once, for the first profile not cached
    for profile in profiles:
        key = _key("program", PROCESSING_VERSION, item_keys, program.gap_seconds, extras,
                   PARAGRAPH_PAUSE_S, dataclasses.asdict(profile), encoder_id(profile),
                   program.title if profile.title_tag else "")

        def make(profile=profile):
            if not raw:
                for j in jobs:
                    audio, syntheses = speech(j.voicing, layout)
                    done.syntheses += syntheses
                    raw.append(audio)
                if "intro" in extras:
                    raw.insert(0, decode(layout.root / str(program.intro), SPEECH_RATE))
                if "outro" in extras:
                    raw.append(decode(layout.root / str(program.outro), SPEECH_RATE))
            pieces = [dsp.prepare(piece, profile) for piece in raw]
            joined = join_with_gaps(pieces, program.gap_seconds)
            return finish(dsp.process(joined, profile, trim_first=False), profile,
                          program.title)
        done.rendered[profile.name] = _cached(layout, key, profile, make, done)
    return done


def join_with_gaps(pieces: list[dsp.Audio], gap_seconds: float) -> dsp.Audio:
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
    return dsp.Audio.from_int16(program.raw_data, rate)


@dataclass
class RenderReport:
    folders: list[FolderResult] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    syntheses: int = 0
    encodings: int = 0
    withdrawn: list[Withdrawn] = field(default_factory=list)    # before rendering

    @property
    def rendered(self) -> int:
        return sum(f.files for f in self.folders)


def _pool(workers: int):
    count = workers if workers and workers > 0 else (os.cpu_count() or 1)
    if count <= 1:
        return None
    import multiprocessing
    # spawn: workers start clean, without the parent's threads, locks or loaded libraries.
    return ProcessPoolExecutor(max_workers=count,
                               mp_context=multiprocessing.get_context("spawn"))


class _Now:
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


def execute(layout: Layout, plans: list[LocalePlan], profiles: list[Profile],
            workers: int = 0, strict: bool = False,
            progress: Progress | None = None) -> RenderReport:
    """Render everything the plans call for and write the output folders."""
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
    total, finished = len(tasks) + len(program_tasks), 0

    failed: set[tuple[str, str]] = set()       # (campaign, locale) with a failed render

    def gather(futures, results: dict) -> None:
        nonlocal finished
        for key, label, future in futures:
            try:
                done = future.result()
            except PipelineError as exc:
                report.errors.append(f"{label}: {exc}")
                failed.add(key[:2])
            else:
                results[key] = done.rendered
                report.syntheses += done.syntheses
                report.encodings += done.encodings
            finished += 1
            if progress:
                progress(finished, total, label)

    pool = _pool(workers)
    message_results: dict[tuple[str, str, str], dict[str, Rendered]] = {}
    program_results: dict[tuple[str, str, str], dict[str, Rendered]] = {}
    try:
        def run(fn, *args):
            return pool.submit(fn, *args) if pool else _Now(fn, *args)
        gather([((lp.campaign.name, lp.locale, job.message_id),
                 f"message '{job.message_id}' in {job.locale}",
                 run(render_message, job, profiles, layout)) for lp, job in tasks],
               message_results)
        pfutures = []
        for lp, program in program_tasks:
            in_order = [j for j in (lp.job(m) for m in program.items) if j is not None]
            if any((lp.campaign.name, lp.locale, j.message_id) not in message_results
                   for j in in_order):
                program_skips[(lp.campaign.name, lp.locale)][program.id] = \
                    "a message of the program failed to render"
                continue
            pfutures.append(((lp.campaign.name, lp.locale, program.id),
                             f"program '{program.id}' in {lp.locale}",
                             run(render_program, program, in_order, profiles, layout)))
        gather(pfutures, program_results)
    finally:
        if pool:
            pool.shutdown()
    for lp in plans:
        skips = program_skips[(lp.campaign.name, lp.locale)]
        for profile in profiles:
            if (lp.campaign.name, lp.locale) in failed:
                # A failed render never replaces good output: the folder stays as it was.
                report.folders.append(FolderResult(
                    lp.campaign.name, lp.locale, profile.name,
                    layout.output_folder(lp.campaign.name, lp.locale, profile.name),
                    skipped=dict(lp.skipped), programs_skipped=dict(skips), kept=True))
                continue
            report.folders.append(_folder(layout, lp, profile, message_results,
                                          program_results, skips, strict, report.errors))
    return report


def _folder(layout: Layout, lp: LocalePlan, profile: Profile, message_results: dict,
            program_results: dict, skips: dict[str, str], strict: bool,
            errors: list[str]) -> FolderResult:
    name = lp.campaign.name
    msgs = [(job, message_results[(name, lp.locale, job.message_id)][profile.name])
            for job in lp.jobs if (name, lp.locale, job.message_id) in message_results]
    progs, notes = [], []
    for program in lp.campaign.programs:
        got = program_results.get((name, lp.locale, program.id))
        if not got:
            continue
        rendered = got[profile.name]
        if program.max_seconds and rendered.measured.duration > program.max_seconds:
            text = (f"program '{program.id}' in {lp.locale} ({profile.name}) lasts "
                    f"{rendered.measured.duration:.0f} s, over its max_seconds "
                    f"{program.max_seconds:.0f}")
            if strict:
                errors.append(text + "; shorten it or raise max_seconds")
                skips.setdefault(program.id, "longer than max_seconds (--strict)")
                continue
            notes.append(text)
        progs.append((program, rendered))
    folder = layout.output_folder(name, lp.locale, profile.name)
    if not msgs and not folder.exists():
        result = FolderResult(name, lp.locale, profile.name, folder,
                              skipped=dict(lp.skipped), programs_skipped=dict(skips))
    else:
        result = write_folder(folder, layout, profile, lp, msgs, progs, skips)
    result.warnings += notes
    return result
