"""The use cases behind the commands: each stage over a whole project, returning what it
did as values. Only :mod:`pipeline.cli` prints them."""

from __future__ import annotations

import os
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from . import approvals
from .audio.dsp import Audio
from .audio.finish import encoder_id
from .audio.profiles import Profile
from .catalogs import ops
from .content.sources import Campaign
from .distribute import bundle, signing
from .errors import PipelineError
from .fsutil import Checked
from .layout import LOCALE_RE, MANIFEST, PROFILE_RE, SUMS, Layout
from .project import Project
from .render import outputs
from .render.execute import Progress, RenderReport, Workers, execute
from .render.outputs import Withdrawn
from .render.plan import LocalePlan, plan
from .render.prune import Pruned, prune_cache
from .report import write_report

__all__ = ["build", "Built", "bundle_all", "compile_all", "Compiled", "decide", "extract",
           "Heard", "init", "listen", "memory", "Narrator", "profiles_of", "prune", "recording_scripts",
           "render", "Said", "say", "Scripts", "update", "withdraw_unapproved", "Written"]


@dataclass
class Written:
    """A file a stage wrote, or left as it was."""

    path: Path
    changed: bool
    signed: bool = False
    unsigned_now: bool = False      # a bundle rebuilt without a key: its old signature went


def extract(project: Project, dry_run: bool = False) -> list[Written]:
    return [Written(project.layout.pot(c.name), ops.extract(c, project.layout, dry_run=dry_run))
            for c in project.campaigns]


def init(project: Project, locale: str, compendia: Sequence[Path] = ()) -> list[Written]:
    """Create the locale's catalog of every campaign that has none, each unit that the
    translation memory knows suggested, fuzzy (:func:`memory`)."""
    return [Written(project.layout.po(locale, c.name),
                    ops.init(c, project.layout, locale, memory(project, c, locale, compendia)))
            for c in project.campaigns]


def memory(project: Project, campaign: Campaign, locale: str,
           compendia: Sequence[Path] = ()) -> ops.Memory:
    """The translation memory for ``campaign`` in ``locale``: the same locale's catalogs
    of every other campaign (read whole, whatever the command was narrowed to), then the
    compendia (outside .po files), each named by where it comes from."""
    from .catalogs.pofile import load_po
    layout = project.layout
    found: list[tuple[str, Any]] = []
    for other in project.whole().campaigns:
        path = layout.po(locale, other.name)
        if other.name != campaign.name and path.exists():
            found.append((project.rel(path), load_po(path, shared=True)))
    for path in compendia:
        found.append((path.name, load_po(path, shared=True)))
    return found


def update(project: Project, dry_run: bool = False, fuzzy_matching: bool = True,
           keep_obsolete: bool = True, compendia: Sequence[Path] = ()) -> list[Written]:
    """Merge every existing catalog with the sources (the .pot first); the options are
    msgmerge's --no-fuzzy-matching and pybabel's --ignore-obsolete, inverted, and
    msgmerge's --compendium (a unit nothing else matches is suggested, fuzzy, from the
    same locale's other catalogs and the compendia)."""
    project.validate_catalogs()
    out = extract(project, dry_run=dry_run)
    for c in project.campaigns:
        for locale in project.locales:
            path = project.layout.po(locale, c.name)
            if path.exists():
                out.append(Written(path, ops.update(c, project.layout, locale, dry_run,
                                                    fuzzy_matching, keep_obsolete,
                                                    memory(project, c, locale, compendia))))
    project.forget_catalogs()
    return out


@dataclass
class Compiled:
    written: list[Written] = field(default_factory=list)           # .mo files
    refused: dict[Path, list[ops.Problem]] = field(default_factory=dict)  # .po → problems

    @property
    def problems(self) -> list[ops.Problem]:
        return [p for found in self.refused.values() for p in found]


def compile_all(project: Project) -> Compiled:
    project.validate_catalogs()
    out = Compiled()
    for c in project.campaigns:
        for locale in project.locales:
            po = project.layout.po(locale, c.name)
            if not po.exists():
                continue
            mo = project.layout.mo(locale, c.name)
            written, found = ops.compile_po(po, mo)
            if found:
                out.refused[po] = found
            else:
                out.written.append(Written(mo, written))
    return out


def profiles_of(project: Project, names: list[str] | None) -> list[Profile]:
    """The profiles named on the command line (``--profile``), or else the config's."""
    if names:
        return [project.config.profile(n, "--profile") for n in names]
    return [project.config.profile(n) for n in project.config.default_profiles]


def withdraw_unapproved(project: Project, plans: list[LocalePlan] | None = None
                        ) -> list[Withdrawn]:
    """Hold every output folder on disk, of every campaign, locale and profile (not only
    those of this command), to the gate as it stands: what is no longer approved leaves
    the folder, and that folder's bundle and signature are deleted. ``plans``: the
    project's plans if already made (the whole project is planned only if a folder on
    disk is of a campaign or locale they leave out)."""
    # Every folder on disk: one of a campaign or locale that no longer exists has nothing
    # approved left in it.
    folders = _output_folders(project.layout)
    if not folders:
        return []
    on_disk = {(f.parent.parent.name, f.parent.name) for f in folders}
    if plans is None or not on_disk <= {(lp.campaign.name, lp.locale) for lp in plans}:
        plans = plan(project.whole())
    by_locale = {(lp.campaign.name, lp.locale): lp for lp in plans}
    out = []
    for folder in folders:
        if not outputs.made_here(folder):           # a copy, someone else's: never touched
            out.append(Withdrawn(folder, [], [], [""]))
            continue
        name, locale = folder.parent.parent.name, folder.parent.name
        lp = by_locale.get((name, locale))
        approved = {job.message_id: (job.title, job.text) for job in lp.jobs} if lp else {}
        programs = {p.id: list(p.items) for p in lp.campaign.programs} if lp else {}
        gone = outputs.withdraw(folder, approved, programs)
        left = outputs.foreign(folder)
        if not gone:
            if left:
                out.append(Withdrawn(folder, [], [], left))
            continue
        removed = []
        zip_path = project.layout.bundle(name, locale, folder.name)
        for path in (zip_path, bundle.signature_of(zip_path)):
            if path.exists():
                path.unlink()
                removed.append(path)
        out.append(Withdrawn(folder, gone, removed, left))
    return out


def _output_folders(layout: Layout) -> list[Path]:
    """Every output folder on disk (campaign/locale/profile), of this build or not. (Not
    below hidden folders: pathlib's '*' matches them, and the render cache's thousands of
    files would each be looked at.)"""
    if not layout.out_dir.is_dir():
        return []
    return [f for f in sorted(layout.out_dir.glob("[!.]*/*/*"))
            if PROFILE_RE.match(f.name) and LOCALE_RE.match(f.parent.name) and f.is_dir()]


def prune(project: Project, dry_run: bool = False) -> Pruned:
    """Delete from the render cache what no output folder on disk holds and no message of
    the current catalogs is voiced with (:mod:`render.prune`)."""
    live: set[str] = set()
    for folder in _output_folders(project.layout):
        sums = folder / SUMS
        if sums.is_file():
            live.update(bundle.read_sums(sums.read_bytes(), str(sums)).values())
    speech = {key for lp in plan(project.whole()) for job in lp.jobs
              for key in job.voicing.speech_keys()}
    return prune_cache(project.layout, live, speech, dry_run)


def _workers(project: Project, workers: int | None, scheduler: str | None) -> Workers:
    """The render's workers (not started): ``--jobs``, else ``[render] workers``; a Dask
    cluster with ``scheduler``. Their owner uses them as a ``with`` block, which shuts
    them down."""
    return Workers(workers if workers is not None else project.config.workers, scheduler)


def _start(project: Project, workers: Workers, profiles: list[str] | None = None) -> None:
    """Start the render's workers now, before the project's catalogs and plans are read,
    so that forked workers carry none of them.

    Not for a rebuild, whose every output folder (of ``profiles``, by default the
    project's) is on disk already: most rebuilds follow an edit, render a message or
    none, and pay nothing for workers; a render that finds two or more to do opens its
    pool then (:func:`execute`), its workers forked after the plans.

    The MP3 encoder's version, which every process would otherwise look up for its
    first cache key, is looked up here, before the fork, as the build needs it anyway."""
    names = profiles or project.config.default_profiles
    if not workers.scheduler and _rebuild(project, names):
        return
    for name in names:
        encoder_id(project.config.profile(name))
    workers.start()


def _rebuild(project: Project, profiles: Sequence[str]) -> bool:
    """Whether every output folder of the project's campaigns and locales, in
    ``profiles``, is on disk."""
    layout = project.layout
    return all(layout.output_folder(c.name, locale, name).is_dir()
               for c in project.campaigns for locale in project.shipping for name in profiles)


class Narrator(Protocol):
    """What a long use case tells as it goes, step by step (the command line prints it)."""

    def compiled(self, result: Compiled) -> None: ...

    def rendered(self, plans: list[LocalePlan], report: RenderReport) -> None: ...

    def progress(self, label: str) -> Progress: ...


@dataclass
class Built:
    plans: list[LocalePlan]
    report: RenderReport
    bundles: list[Written]


def build(project: Project, narrator: Narrator, profiles: list[str] | None = None,
          jobs: int | None = None, scheduler: str | None = None, strict: bool = False,
          secret: signing.SecretKey | None = None) -> Built:
    """The whole flow: extract, update, compile, render, bundle and report.

    The workers live for the ``with`` block alone, which owns them: started before the
    catalogs are read (a cold build), used by the render, shut down before the bundles
    are made."""
    with _workers(project, jobs, scheduler) as workers:
        _start(project, workers, profiles)
        project.validate_catalogs()
        project.validate_voices()       # bad engine options fail before anything is written
        chosen = profiles_of(project, profiles)
        update(project)
        narrator.compiled(compile_all(project))
        plans, report = _render(project, chosen, workers, strict, narrator.progress("render"))
        narrator.rendered(plans, report)
    # (bundle_all writes the report last: it shows the bundles.)
    bundles, _ = bundle_all(project, chosen, secret, withdraw=False,    # done above
                            checked={f.folder: f.checked for f in report.folders})
    return Built(plans, report, bundles)


def render(project: Project, profiles: list[Profile], jobs: int | None = None,
           scheduler: str | None = None, strict: bool = False,
           progress: Progress | None = None) -> tuple[list[LocalePlan], RenderReport]:
    """Render every ready message (its workers owned by this call), then the report."""
    with _workers(project, jobs, scheduler) as workers:
        done = _render(project, profiles, workers, strict, progress)
    write_report(project)
    return done


def _render(project: Project, profiles: list[Profile], workers: Workers, strict: bool,
            progress: Progress | None) -> tuple[list[LocalePlan], RenderReport]:
    """Plan, withdraw what is no longer approved, and render with ``workers`` (started
    already by :func:`_start`, or here)."""
    if not workers.started:
        _start(project, workers, [p.name for p in profiles])
    project.validate_catalogs()
    project.validate_voices()
    plans = plan(project)
    withdrawn = withdraw_unapproved(project, plans)
    report = execute(project.layout, plans, profiles, workers, strict, progress)
    report.withdrawn = withdrawn
    return plans, report


def bundle_all(project: Project, profiles: list[Profile],
               secret: signing.SecretKey | None = None,
               timestamp: bool = False, withdraw: bool = True,
               checked: Mapping[Path, Mapping[str, Checked]] | None = None
               ) -> tuple[list[Written], list[Withdrawn]]:
    """A zip per output folder (and a signature beside it with ``secret``), after what is
    no longer approved has left the folders (``withdraw=False``: the caller has just
    done that, under the same lock). ``checked``: per folder, the digests its render
    checked its audio files by (:func:`bundle.make_bundle`). Then the report, which shows
    them."""
    withdrawn = withdraw_unapproved(project) if withdraw else []
    todo = []
    for c in project.campaigns:
        for locale in project.shipping:
            for profile in profiles:
                folder = project.layout.output_folder(c.name, locale, profile.name)
                if (folder / SUMS).exists():
                    todo.append((c.name, locale, profile.name, folder,
                                 project.layout.bundle(c.name, locale, profile.name)))

    def one(name: str, locale: str, profile: str, folder: Path, out: Path) -> Written:
        had_signature = bundle.signature_of(out).exists()
        changed = bundle.make_bundle(folder, out, (checked or {}).get(folder))
        if secret is not None:
            comment = f"campaign:{name}\tlocale:{locale}\tprofile:{profile}"
            if timestamp:
                comment += f"\ttimestamp:{int(time.time())}"
            signing.write_signature(out, secret, comment)
        return Written(out, changed, signed=secret is not None,
                       unsigned_now=changed and had_signature and secret is None)
    # Zipping is reading, hashing and writing, which release the GIL: a thread per core.
    with ThreadPoolExecutor(max_workers=max(1, min(len(todo), os.cpu_count() or 1))) as pool:
        written = list(pool.map(lambda item: one(*item), todo))
    write_report(project)               # it shows each bundle: after them
    return written, withdrawn


# --- for reviewers ----------------------------------------------------------------------------

def decide(project: Project, locale: str, message_id: str, decision: str, reviewer: str,
           comment: str = "", replace: bool = False, seen: str | None = None
           ) -> tuple[Path, approvals.Review]:
    """Record a reviewer's decision on one ready message of ``locale``, bound to what it
    says and sounds like now (:mod:`pipeline.approvals`); returns the record's file and
    where the review stands with it (a conflict, if ``seen`` was out of date)."""
    found = [c for c in project.campaigns if any(m.id == message_id for m in c.messages)]
    if not found:
        raise PipelineError(f"no message '{message_id}' in any campaign", "broadcast "
                            f"{'approve' if decision == 'approved' else 'reject'}",
                            fix="give a message id from messages/*.yaml")
    if len(found) > 1:
        raise PipelineError(f"'{message_id}' is a message of {len(found)} campaigns",
                            fix="name one with --campaign")
    campaign = found[0]
    heard = project.heard_as(campaign, locale, message_id)
    if isinstance(heard, str):
        raise PipelineError(f"{campaign.name}/{locale}/{message_id} is not ready: {heard}",
                            fix="see broadcast status")
    _, review = approvals.write_decision(project.layout, campaign.name, locale, message_id,
                                         *heard, decision, reviewer, comment, replace, seen)
    return project.layout.review_record(locale, campaign.name, message_id), review


# --- for translators and studios: say, recording scripts ------------------------------------

@dataclass
class Said:
    text: str                           # exactly what the voice reads
    audio: Audio | None = None
    phonemes: list[str] = field(default_factory=list)   # per phrase, if asked


def say(project: Project, locale: str, text: str, engine: str | None = None,
        text_only: bool = False, phonemes: bool = False, campaign: str | None = None) -> Said:
    """``text`` as the voice of ``locale`` reads it (its ``{variables}`` filled from the
    campaign's, as the render fills them, then normalized), and spoken unless
    ``text_only``. ``engine`` overrides the configured one (with its default options).
    ``phonemes``: also the phonemes the engine reads it as (an engine that tells them)."""
    from .content.locales import language_of
    from .content.placeholders import fill, placeholders
    from .voice.engines import SpeechRequest, get_engine
    from .voice.textnorm import normalize
    names = sorted(placeholders(text))
    if names:
        chosen = [c for c in project.campaigns if campaign in (None, c.name)]
        if len(chosen) != 1:
            raise PipelineError(f"{{{names[0]}}} is filled from a campaign's variables, and "
                                f"{len(chosen)} campaigns could fill it", "broadcast say",
                                fix="name one with --campaign")
        unknown = [n for n in names if n not in chosen[0].variables]
        if unknown:
            raise PipelineError(f"{{{unknown[0]}}} is not a variable of campaign "
                                f"'{chosen[0].name}'", "broadcast say",
                                fix="use one of: " + (", ".join(
                                    f"{{{v}}}" for v in sorted(chosen[0].variables))
                                    or "none: write the value itself"))
        text = fill(text, chosen[0].variables)
    spoken = normalize(text, locale, project.lexicon(locale))
    if text_only and not phonemes:
        return Said(spoken)
    voice = project.voice(locale)
    if engine and engine != voice.engine:
        try:
            tts, name = get_engine(engine), language_of(locale)
        except PipelineError as exc:
            raise exc.at("broadcast say --engine") from None
    else:
        tts, name = project.engine(locale), voice.voice
    read = getattr(tts, "phonemes", None)
    if phonemes and read is None:
        raise PipelineError(f"the {tts.name} engine does not tell its phonemes",
                            "broadcast say --phonemes", fix="use --engine espeak, or --engine mbrola for Korean")
    said = Said(spoken, phonemes=list(read(spoken, name)) if phonemes and read else [])
    if not text_only:
        said.audio = tts.synthesize(SpeechRequest(spoken, locale, name))
    return said


@dataclass
class Heard:
    audio: Audio                        # what the listener hears
    source: Path                        # the file it was made from
    channel: str


def listen(project: Project, what: str, channel: str, locale: str | None = None,
           profile: str = "shortwave") -> Heard:
    """A message (its file in ``profile``'s output folder) or an audio file, as a
    listener hears it through ``channel`` (:mod:`pipeline.audio.channel`). The noise is
    seeded by the channel and the message (``LOCALE/ID``; a file: its name), so two runs
    give the same samples, and every profile of a message hears the same noise."""
    from .audio.channel import hear, parse_channel
    from .audio.codec import decode
    from .render.manifest import Manifest
    spec = parse_channel(channel, "broadcast listen --channel")
    path = Path(what)
    if path.is_file():
        return Heard(hear(decode(path), spec, path.name), path, str(spec))
    found = [c for c in project.campaigns if any(m.id == what for m in c.messages)]
    if not found:
        raise PipelineError(f"'{what}' is neither a file nor a message id", "broadcast listen",
                            fix="give an audio file or a message id from messages/*.yaml")
    if locale is None:
        if len(project.locales) != 1:
            raise PipelineError(f"the project has {len(project.locales)} locales",
                                "broadcast listen", fix="name one with --locale")
        locale = project.locales[0]
    folder = project.layout.output_folder(found[0].name, locale, profile)
    manifest = Manifest.from_json((folder / MANIFEST).read_bytes()) \
        if (folder / MANIFEST).is_file() else None
    entry = next((f for f in manifest.files if f.id == what and f.kind == "message"),
                 None) if manifest else None
    if entry is None:
        raise PipelineError(f"{found[0].name}/{locale}/{what} is not rendered in the "
                            f"{profile} profile", project.rel(folder),
                            fix=f"run broadcast render --locale {locale} --profile {profile}")
    source = folder / entry.file
    return Heard(hear(decode(source), spec, f"{locale}/{what}"), source, str(spec))


@dataclass
class Scripts:
    written: list[Written] = field(default_factory=list)
    not_ready: dict[str, str] = field(default_factory=dict)     # campaign/id → why


def recording_scripts(project: Project, locale: str, out: Path,
                      replace: bool = True) -> Scripts:
    """Per campaign, a printable page for the studio and one ``<id>.txt`` per ready message,
    exactly the script :mod:`pipeline.voice.recordings` binds a take to.

    Nothing is written into a recordings folder, nor beside a take: a binding says which
    text a take was read from, and only whoever files the take may write it (a script
    written over it would make a take of an old text fresh). Without ``replace``, a file
    of ``out`` that would change is refused. Every target is checked before any write."""
    from .fsutil import write_if_changed
    from .render.pages import ScriptItem, script_html

    result = Scripts()
    folder = project.layout.recordings_dir(locale)
    planned: list[tuple[Path, str]] = []
    for campaign in project.campaigns:
        reasons, _ = project.readiness(campaign, locale)
        items = []
        for message in campaign.messages:
            if reasons.get(message.id) is not None:
                result.not_ready[f"{campaign.name}/{message.id}"] = str(reasons[message.id])
                continue
            title, paragraphs = project.catalog_state(campaign, locale).translation(
                message.id, campaign.variables)
            text = "\n\n".join(paragraphs)
            spoken = "\n\n".join(project.spoken(campaign, locale, message.id))
            items.append(ScriptItem(message.id, title, text, spoken, message.note,
                                    message.max_seconds, project.rel(folder)))
            planned.append((out / f"{message.id}.txt", text + "\n"))
        planned.append((out / f"{campaign.name}.html", script_html(campaign.name, locale, items)))
    _refuse_bindings(project, out, planned, replace)
    for path, text in planned:
        result.written.append(Written(path, write_if_changed(path, text.encode("utf-8"))))
    return result


def _refuse_bindings(project: Project, out: Path, planned: list[tuple[Path, str]],
                     replace: bool) -> None:
    from .voice.recordings import EXTENSIONS
    where = out.resolve()
    recordings = [project.layout.recordings_dir(code).resolve()
                  for code in _locale_folders(project)]
    if any(where == folder or folder in where.parents for folder in recordings):
        raise PipelineError("scripts are never written into a recordings folder", out,
                            fix="write them elsewhere (the default is recording-scripts/"
                                "LOCALE); a take's <id>.txt is written by whoever files it")
    for path, text in planned:
        take = next((path.with_suffix(ext) for ext in EXTENSIONS
                     if path.with_suffix(ext).exists()), None)
        if take is not None:
            raise PipelineError(f"{path.name} would overwrite the binding of the take "
                                f"{take.name}", path,
                                fix="write the scripts into another folder")
        if not replace and path.exists() and path.read_bytes() != text.encode("utf-8"):
            raise PipelineError("a file of another content is already there", path,
                                fix="write the scripts into an empty folder, or pass "
                                    "--force to replace them")


def _locale_folders(project: Project) -> list[str]:
    folder = project.layout.locales_dir
    return sorted(p.name for p in folder.iterdir() if p.is_dir()) if folder.is_dir() else []
