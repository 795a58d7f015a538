"""The render's scheduler: every planned message and program → mastered, encoded audio per
profile, then the output folders.

Messages the cache holds whole are taken in process; the rest run as jobs
(:mod:`.jobs`) in a pool (:mod:`.pool`), longest first; a program starts as soon as its
messages are done, its MP3 decoding shared out first. A locale whose render fails keeps
its folders as they were. Every expensive result is cached (:mod:`.cache`), so a rebuild
with nothing changed does no synthesis and no encoding; the report counts both.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from ..audio.profiles import Profile
from ..content.sources import Program
from ..errors import EngineError, PipelineError
from ..layout import Layout
from .cache import Rendered
from .jobs import Done, block_shares, cached_message, render_blocks, render_message, render_program
from .outputs import FolderResult, Withdrawn, write_folder
from .plan import LocalePlan, MessageJob
from .pool import Now, Workers

__all__ = ["MessageKey", "Progress", "ProgramKey", "RenderReport", "Workers", "execute"]

Progress = Callable[[int, int, str], None]     # (done, total, what was just done)


class MessageKey(NamedTuple):
    campaign: str
    locale: str
    message: str


class ProgramKey(NamedTuple):
    campaign: str
    locale: str
    program: str
    profile: str


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


@dataclass
class _Waiting:
    """A program of one locale waiting for its messages."""

    plan: LocalePlan
    program: Program
    jobs: list[MessageJob]              # its ready messages, in order

    def keys(self) -> list[MessageKey]:
        return [MessageKey(self.plan.campaign.name, self.plan.locale, j.message_id)
                for j in self.jobs]


@dataclass
class _ProgramRun:
    """A program in one profile: its MP3 decoding shared out first (``shares``), then the
    job itself, submitted at once if there is nothing to share (``future``)."""

    key: ProgramKey
    label: str
    shares: list[Any]
    submit: Callable[[], Any]
    future: Any = None


def execute(layout: Layout, plans: list[LocalePlan], profiles: list[Profile],
            workers: Workers, strict: bool = False,
            progress: Progress | None = None) -> RenderReport:
    """Render everything the plans call for and write the output folders, with
    ``workers`` (a local process pool or a Dask cluster, opened here if two or more jobs
    are to run, and shut down by their owner's ``with``)."""
    schedule = _Schedule(layout, plans, profiles, workers, progress)
    try:
        schedule.run()
    finally:
        workers.release()           # the jobs are done: the folders are written here
    return schedule.folders(strict)


class _Schedule:
    """One render's state: what is done, what failed, which programs wait or run."""

    def __init__(self, layout: Layout, plans: list[LocalePlan], profiles: list[Profile],
                 workers: Workers, progress: Progress | None):
        self.layout, self.plans, self.profiles = layout, plans, profiles
        self.workers, self.progress = workers, progress
        self.report = RenderReport()
        # The longest messages first, so that the last to finish are short ones.
        self.tasks = sorted(((lp, job) for lp in plans for job in lp.jobs),
                            key=lambda task: -len(task[1].text))
        self.skips: dict[tuple[str, str], dict[str, str]] = {}  # (campaign, locale) → why
        self.waiting: list[_Waiting] = []
        for lp in plans:
            skips = self.skips.setdefault((lp.campaign.name, lp.locale), {})
            for program in lp.programs:
                missing = [m for m in program.items if lp.job(m) is None]
                if missing:
                    skips[program.id] = ("not ready in this locale: " +
                                         ", ".join(dict.fromkeys(missing)))
                else:
                    self.waiting.append(_Waiting(lp, program, [
                        j for j in (lp.job(m) for m in program.items) if j is not None]))
        # Counted in files: a message job writes one per profile, a program run one.
        self.total = (len(self.tasks) + len(self.waiting)) * len(profiles)
        self.finished = 0
        self.failed: set[tuple[str, str]] = set()       # (campaign, locale) that failed
        self.gathered: set[MessageKey] = set()
        self.messages: dict[MessageKey, dict[str, Rendered]] = {}
        self.programs: dict[ProgramKey, dict[str, Rendered]] = {}
        self.running: list[_ProgramRun] = []
        self.pool: Any = None

    def submit(self, fn, *args):
        return self.pool.submit(fn, *args) if self.pool else Now(fn, *args)

    def run(self) -> None:
        # Messages the cache holds are taken here; the pool (started here, or already
        # before the plans were made) is used only if at least two are to be rendered:
        # one, as after an edit, costs less here than sent to a worker.
        taken = {id(job): done for _, job in self.tasks
                 if (done := cached_message(job, self.profiles, self.layout)) is not None}
        if self.workers.scheduler or len(self.tasks) - len(taken) >= 2:
            self.pool = self.workers.get()
        else:
            self.workers.release()      # forked early, not needed: one job runs here
        futures = []
        for lp, job in self.tasks:
            done = taken.get(id(job))
            futures.append((MessageKey(lp.campaign.name, lp.locale, job.message_id),
                            f"message '{job.message_id}' in {job.locale}",
                            Now(lambda done=done: done) if done else
                            self.submit(render_message, job, self.profiles, self.layout)))
        for key, label, future in futures:
            rendered = self.collect(key[:2], label, future, len(self.profiles))
            if rendered is not None:
                self.messages[key] = rendered
            self.gathered.add(key)
            self.start_programs()
        for run in self.running:
            for share in run.shares:
                try:
                    share.result()
                except PipelineError:
                    pass        # the program's job decodes what is missing, or says why not
            rendered = self.collect(run.key[:2], run.label, run.future or run.submit(), 1)
            if rendered is not None:
                self.programs[run.key] = rendered

    def collect(self, where: tuple[str, str], label: str, future,
                files: int) -> dict[str, Rendered] | None:
        """A job's result, its ``files`` counted; None if it failed (its locale's render
        failed)."""
        done: Done | None = None
        try:
            done = future.result()
        except PipelineError as exc:
            self.report.errors.append(f"{label}: {self._located(exc)}")
            self.failed.add(where)
        else:
            self.report.syntheses += done.syntheses
            self.report.encodings += done.encodings
        self.finished += files
        if self.progress:
            self.progress(self.finished, self.total, label)
        return done.rendered if done is not None else None

    def _located(self, exc: PipelineError) -> PipelineError:
        """An engine names no file (it does not know where its voice was set): the
        project's configuration is where it was."""
        if isinstance(exc, EngineError) and exc.file is None:
            return exc.at(self.layout.config_file.name)
        return exc

    def start_programs(self) -> None:
        """Programs whose messages are all done start now, while others render."""
        for item in list(self.waiting):
            keys = item.keys()
            if not all(k in self.gathered for k in keys):
                continue
            self.waiting.remove(item)
            lp, program = item.plan, item.program
            if not all(k in self.messages for k in keys):
                self.skips[(lp.campaign.name, lp.locale)][program.id] = \
                    "a message of the program failed to render"
                continue
            for profile in self.profiles:   # one job per profile: a long program in parallel
                messages = [self.messages[k][profile.name] for k in keys]

                def submit(program=program, jobs=item.jobs, profile=profile,
                           messages=messages):
                    return self.submit(render_program, program, jobs, profile, self.layout,
                                       messages)
                # An MP3 program's decoding is shared out first, if there is a pool.
                shares = [self.submit(render_blocks, self.layout, share, profile)
                          for share in block_shares(program, messages, profile, self.layout,
                                                    self.workers.parallel)]
                self.running.append(_ProgramRun(
                    ProgramKey(lp.campaign.name, lp.locale, program.id, profile.name),
                    f"program '{program.id}' in {lp.locale} ({profile.name})",
                    shares, submit, None if shares else submit()))

    def folders(self, strict: bool) -> RenderReport:
        """Write every output folder (a failed locale's kept as it was); the report."""
        report = self.report
        for lp in self.plans:
            skips = self.skips[(lp.campaign.name, lp.locale)]
            for profile in self.profiles:
                if (lp.campaign.name, lp.locale) in self.failed:
                    # A failed render never replaces good output: the folder stays as it was.
                    report.folders.append(FolderResult(
                        lp.campaign.name, lp.locale, profile.name,
                        self.layout.output_folder(lp.campaign.name, lp.locale, profile.name),
                        skipped=dict(lp.skipped), programs_skipped=dict(skips), kept=True))
                    continue
                report.folders.append(self._folder(lp, profile, skips, strict))
        return report

    def _folder(self, lp: LocalePlan, profile: Profile, skips: dict[str, str],
                strict: bool) -> FolderResult:
        name, layout = lp.campaign.name, self.layout
        msgs = [(job, self.messages[key][profile.name]) for job in lp.jobs
                if (key := MessageKey(name, lp.locale, job.message_id)) in self.messages]
        progs, notes = [], []
        for program in lp.programs:
            got = self.programs.get(ProgramKey(name, lp.locale, program.id, profile.name))
            if not got:
                continue
            rendered = got[profile.name]
            if program.max_seconds and rendered.measured.duration > program.max_seconds:
                text = (f"program '{program.id}' in {lp.locale} ({profile.name}) lasts "
                        f"{rendered.measured.duration:.0f} s, over its max_seconds "
                        f"{program.max_seconds:.0f}")
                if strict:
                    self.report.errors.append(text + "; shorten it or raise max_seconds")
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
