"""The jobs of a render, each a picklable call that runs in a worker (or in process):
one message in every profile, one program in one profile, a share of an MP3 program's
decoding. Each returns a :class:`Done`: what it rendered and how many syntheses and
encodings that took.
"""

from __future__ import annotations

import dataclasses
import functools
import wave
from collections.abc import Callable
from dataclasses import dataclass

from ..audio import dsp
from ..audio.codec import decode, read_wav, wav_bytes
from ..audio.finish import encoder_id, finish
from ..audio.profiles import Profile
from ..audio.program import mp3_program_offsets, program_file, program_from_files
from ..audio.tags import tag_file
from ..content.sources import Program
from ..errors import AudioError
from ..fsutil import atomic_write, inside, sha256_file
from ..layout import Layout
from ..voice import asr
from ..voice.speech import PARAGRAPH_PAUSE_S, SPEECH_RATE, speech
from .cache import (
    PROCESSING_VERSION,
    Rendered,
    blocks_path,
    cache_key,
    cached,
    cached_blocks,
    hit,
    label_of,
    master_path,
    message_key,
)
from .plan import MessageJob
from .pool import trim_memory

__all__ = ["Done", "block_shares", "cached_message", "render_blocks", "render_message",
           "render_program"]

@dataclass
class Done:
    """What a worker did for one message or program, every profile."""

    rendered: dict[str, Rendered]
    syntheses: int = 0
    encodings: int = 0


def cached_message(job: MessageJob, profiles: list[Profile], layout: Layout) -> Done | None:
    """A message whose every profile's file the cache holds whole (and that needs no
    hearing): taken without running anything."""
    if job.speech_check:
        return None
    done = Done({})
    for profile in profiles:
        found = hit(layout, message_key(job, profile), profile)
        if found is None:
            return None
        done.rendered[profile.name] = found
    return done


def render_message(job: MessageJob, profiles: list[Profile], layout: Layout) -> Done:
    """One message in one locale, every profile (runs in a worker process)."""
    done = Done({})
    raw: list[dsp.Audio] = []
    for profile in profiles:
        key = message_key(job, profile)

        def make(profile=profile, key=key):
            if not raw:
                audio, done.syntheses = speech(job.voicing, layout)
                raw.append(audio)
            mastered = dsp.process(raw[0], profile)
            if profile.format != "wav":
                atomic_write(master_path(layout, key, profile), wav_bytes(mastered))
            return finish(mastered, profile, label_of(job.campaign, job.locale,
                                                      job.message_id, job.title))
        done.rendered[profile.name], encodings = cached(layout, key, profile, make)
        done.encodings += encodings
    if job.speech_check:
        # What the listener gets, heard by the judge: every profile's file.
        said = " ".join(job.voicing.texts) or job.text
        for profile in profiles:
            rendered = done.rendered[profile.name]
            heard = asr.transcribe(layout.final_cache(rendered.key, profile.ext), job.locale,
                                   layout.transcript_cache)
            done.rendered[profile.name] = dataclasses.replace(
                rendered, cer=asr.cer(said, heard, job.locale))
    trim_memory()
    return done


def render_program(program: Program, jobs: list[MessageJob], profile: Profile,
                   layout: Layout, messages: list[Rendered]) -> Done:
    """A program in one profile: its messages in order with gaps, intro and outro.

    Made of the messages' finished files (``messages``, rendered in this profile, in
    order), which already meet the profile: their PCM or their MP3 frames copied, silence
    between, measured, not mastered again. Only a program with an intro or outro, or one
    that misses the target, is composed from the mastered audio piece by piece, streamed,
    with one fixed gain applied to every piece.
    """
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
    label = label_of(jobs[0].campaign, jobs[0].locale, program.id, program.title)
    key = cache_key("program", PROCESSING_VERSION, [j.voicing.speech_keys() for j in jobs],
               program.gap_seconds, extras, PARAGRAPH_PAUSE_S, dataclasses.asdict(profile),
               encoder_id(profile), label.key(profile))
    done = Done({})

    def make():
        title = program.title if profile.title_tag and not profile.playout_tags else None
        near = layout.final_cache(key, profile.ext)
        files = [layout.final_cache(m.key, profile.ext) for m in messages]
        made = None
        if not extras and all(f.is_file() for f in files):
            made = program_from_files(
                files, [m.measured for m in messages], program.gap_seconds, profile, title,
                near, cached_blocks(layout, [m.key for m in messages], files, profile))
        if not made:
            pieces = _program_pieces(program, jobs, profile, layout, done)
            made = program_file(pieces, program.gap_seconds, profile, title, near)
        if profile.playout_tags:
            tag_file(made[0], profile.format, profile.sample_rate, label, made[1])
        return made
    done.rendered[profile.name], encodings = cached(layout, key, profile, make)
    done.encodings += encodings
    trim_memory()
    return done


def block_shares(program: Program, messages: list[Rendered], profile: Profile,
                  layout: Layout, workers: int) -> list[list[tuple[str, int]]]:
    """An MP3 program's files to decode where they lie in it (their key and offset; those
    not cached yet), in up to ``workers`` shares of about equal length in program order,
    for workers to decode side by side before the program's job: the one long job
    otherwise left last. None (an empty list) for a program made another way or a single
    share."""
    samples = [m.measured.samples for m in messages if m.measured.samples is not None]
    if (profile.format != "mp3" or program.intro or program.outro or workers < 2
            or len(samples) < len(messages)):
        return []
    offsets = mp3_program_offsets(samples, program.gap_seconds, profile)
    todo: dict[tuple[str, int], int] = {}
    for m, offset, n in zip(messages, offsets, samples, strict=True):
        if not blocks_path(layout, m.key, offset).exists():
            todo[(m.key, offset)] = n
    count = min(workers, len(todo))
    if count < 2:
        return []
    shares: list[list[tuple[str, int]]] = [[]]
    total, done = sum(todo.values()), 0
    for item, n in todo.items():
        if done >= total * len(shares) / count and len(shares) < count:
            shares.append([])
        shares[-1].append(item)
        done += n
    return shares


def render_blocks(layout: Layout, share: list[tuple[str, int]], profile: Profile) -> Done:
    """A share of an MP3 program's decoding (:func:`block_shares`), into the cache."""
    for key, offset in share:
        cached_blocks(layout, [key], [layout.final_cache(key, profile.ext)], profile)(0, offset)
    trim_memory()
    return Done({})


def _program_pieces(program: Program, jobs: list[MessageJob], profile: Profile,
                    layout: Layout, done: Done) -> list[Callable[[], dsp.Audio]]:
    """Loaders of the program's pieces, mastered (lead-in and lead-out included): one
    piece is in memory at a time."""
    def message(job: MessageJob) -> dsp.Audio:
        path = master_path(layout, message_key(job, profile), profile)
        try:
            audio = read_wav(path)
        except (OSError, EOFError, wave.Error):     # gone from the cache: master it again
            raw, syntheses = speech(job.voicing, layout)
            done.syntheses += syntheses
            audio = dsp.process(raw, profile)
        return audio

    def extra(name: str) -> dsp.Audio:
        decoded = decode(layout.root / str(getattr(program, name)), SPEECH_RATE)
        return dsp.process(decoded, profile)

    loaders: list[Callable[[], dsp.Audio]] = [functools.partial(message, j) for j in jobs]
    if program.intro:
        loaders.insert(0, functools.partial(extra, "intro"))
    if program.outro:
        loaders.append(functools.partial(extra, "outro"))
    return loaders
