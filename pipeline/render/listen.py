"""``broadcast check --audio``: every rendered message file and every human recording heard
by the offline recognizer and held to its text; new takes checked for clipping, noise and
length as well.

Findings have the check id ``speech-match`` (what is said) or ``recording`` (how a take
sounds). Transcripts are cached by file hash (``audio_out/.cache/transcripts``), so only
new audio is heard.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ..audio.codec import decode
from ..audio.dsp import Audio
from ..checks import ERROR, WARNING, Finding
from ..content.sources import Campaign
from ..errors import AudioError, PipelineError
from ..fsutil import read_utf8
from ..layout import MANIFEST
from ..project import Project
from ..voice import asr, recordings
from ..voice.speech import SPEECH_RATE
from ..voice.textnorm import normalize
from .manifest import Manifest

__all__ = ["CLIPPED", "CLIPPED_RUN", "Heard", "listen", "NOISE_FLOOR_DBFS", "Progress",
           "take_problems", "WINDOW_S"]

CLIPPED = 0.999                 # a sample at or above this is at full scale
CLIPPED_RUN = 3                 # this many full-scale samples in a row are a clip
NOISE_FLOOR_DBFS = -50.0        # the quiet tenth of a take above this: a noisy room
WINDOW_S = 0.05

Progress = Callable[[int, int, str], None]


@dataclass
class Heard:
    """What ``check --audio`` found: findings, and the CER of each file it heard."""

    findings: list[Finding] = field(default_factory=list)
    cer: dict[str, float] = field(default_factory=dict)      # project-relative file → CER


def listen(project: Project, profiles: list[str], progress: Progress | None = None) -> Heard:
    """Hear every message file of ``profiles``' output folders and every recording."""
    out = Heard()
    work: list[tuple[Campaign, str, str]] = []
    for campaign in project.campaigns:
        for locale in project.shipping:
            for profile in profiles:
                work.append((campaign, locale, profile))
            work.append((campaign, locale, ""))         # "" : the locale's recordings
    for n, (campaign, locale, profile) in enumerate(work, 1):
        if profile:
            _rendered(project, campaign, locale, profile, out)
        else:
            _recordings(project, campaign, locale, project.spoken_texts(campaign, locale), out)
        if progress:
            progress(n, len(work), f"{campaign.name}/{locale}/{profile or 'recordings'}")
    return out


def _rendered(project: Project, campaign: Campaign, locale: str, profile: str,
              out: Heard) -> None:
    folder = project.layout.output_folder(campaign.name, locale, profile)
    if not (folder / MANIFEST).is_file():
        return
    try:
        manifest = Manifest.from_json((folder / MANIFEST).read_bytes())
    except ValueError as exc:
        raise PipelineError(f"the manifest is not readable: {exc}", folder / MANIFEST,
                            fix="run broadcast render again") from None
    lexicon = project.lexicon(locale)
    said = {m.id: normalize(m.text, locale, lexicon) for m in manifest.messages}
    for entry in manifest.messages:
        path = folder / entry.file
        if not path.is_file():
            continue
        heard = asr.transcribe(path, locale, project.layout.transcript_cache)
        kind: asr.Kind = "recording" if "recording" in entry.made_by else "tts"
        others = {mid: t for mid, t in said.items() if mid != entry.id}
        verdict = asr.assess(heard, said[entry.id], others, locale, kind)
        rel = project.rel(path)
        out.cer[rel] = round(verdict.cer, 3)
        if verdict.severity:
            out.findings.append(_finding(verdict.severity, campaign, locale, entry.id, rel,
                                         verdict.problem, heard))


def _recordings(project: Project, campaign: Campaign, locale: str, texts: dict[str, str],
                out: Heard) -> None:
    folder = project.layout.recordings_dir(locale)
    lexicon = project.lexicon(locale)
    for message in campaign.messages:
        rec = recordings.find(folder, message.id, "", project.root)
        if rec.path is None:
            continue
        script = folder / f"{message.id}.txt"
        if script.is_file():
            text = normalize(read_utf8(script, PipelineError, allow_bom=True), locale, lexicon)
        elif message.id in texts:
            text = texts[message.id]
        else:
            continue                    # no text to hold it to
        rel = project.rel(rec.path)
        try:
            audio = decode(rec.path, SPEECH_RATE, message.max_seconds)
        except AudioError as exc:       # said, and the other takes are still heard
            out.findings.append(_finding(ERROR, campaign, locale, message.id, rel,
                                         f"{exc.message}; {exc.fix}", "", check="recording"))
            continue
        for severity, problem in take_problems(audio, message.max_seconds):
            out.findings.append(_finding(severity, campaign, locale, message.id, rel,
                                         problem, "", check="recording"))
        heard = asr.transcribe(rec.path, locale, project.layout.transcript_cache)
        others = {mid: t for mid, t in texts.items() if mid != message.id}
        verdict = asr.assess(heard, text, others, locale, "recording")
        out.cer[rel] = round(verdict.cer, 3)
        if verdict.severity:
            out.findings.append(_finding(verdict.severity, campaign, locale, message.id, rel,
                                         verdict.problem, heard))


def take_problems(audio: Audio, max_seconds: float | None) -> list[tuple[str, str]]:
    """What is wrong with how a take sounds, with its severity: clipping and a take too
    long are errors, a noisy room a warning."""
    problems: list[tuple[str, str]] = []
    x = np.abs(audio.samples)
    hot = x >= CLIPPED
    if hot.any():
        # runs of full-scale samples
        edges = np.diff(np.concatenate(([0], hot.astype(np.int8), [0])))
        runs = np.flatnonzero(edges == -1) - np.flatnonzero(edges == 1)
        clips = int(np.sum(runs >= CLIPPED_RUN))
        if clips:
            problems.append((ERROR, f"clipped in {clips} place{'s' if clips > 1 else ''}: "
                                    "record again with less input gain"))
    size = int(WINDOW_S * audio.rate)
    if len(x) >= 10 * size:
        frames = audio.samples[: len(x) // size * size].reshape(-1, size)
        rms = np.sqrt(np.mean(frames.astype(np.float64) ** 2, axis=1))
        floor = 20 * np.log10(max(float(np.percentile(rms, 10)), 1e-10))
        if floor > NOISE_FLOOR_DBFS:
            problems.append((WARNING, f"noise floor {floor:.0f} dBFS, above "
                                      f"{NOISE_FLOOR_DBFS:.0f}: record in a quieter room or "
                                      "closer to the microphone"))
    if max_seconds and audio.duration > max_seconds:
        problems.append((ERROR, f"lasts {audio.duration:.0f} s, too long for max_seconds "
                                f"{max_seconds:g}: read it again, or shorten the text"))
    return problems


def _finding(severity, campaign: Campaign, locale: str, message_id: str, file: str,
             problem: str, heard: str, check: str = "speech-match") -> Finding:
    shown = f"heard: {heard[:80]}{'…' if len(heard) > 80 else ''}" if heard else ""
    return Finding(check, severity, campaign.name, locale, message_id, file, None,
                   f"{problem}{'; ' + shown if shown else ''}")
