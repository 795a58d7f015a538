"""The render's scheduler: every planned message and program → mastered, encoded audio per
profile, then the output folders.

Messages the cache holds whole are taken in process; the rest run as jobs
(:mod:`.jobs`) in a pool (:mod:`.pool`), longest first; a program starts as soon as its
messages are done, its MP3 decoding shared out first. A locale whose render fails keeps
its folders as they were. Every expensive result is cached (:mod:`.cache`), so a rebuild
with nothing changed does no synthesis and no encoding; the report counts both.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field

from ..audio.profiles import Profile
from ..errors import PipelineError
from ..layout import Layout
from .cache import Rendered
from .jobs import block_shares, cached_message, render_blocks, render_message, render_program
from .outputs import FolderResult, Withdrawn, write_folder
from .plan import LocalePlan, MessageJob
from .pool import Now, Workers

__all__ = ["Progress", "RenderReport", "Workers", "execute"]

Progress = Callable[[int, int, str], None]     # (done, total, what was just done)


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


def execute(layout: Layout, plans: list[LocalePlan], profiles: list[Profile],
            workers: Workers, strict: bool = False,
            progress: Progress | None = None) -> RenderReport:
    """Render everything the plans call for and write the output folders, with
    ``workers`` (a local process pool or a Dask cluster, opened here if two or more jobs
    are to run, and shut down by their owner's ``with``)."""
    report = RenderReport()
    # The longest messages first, so that the last to finish are short ones.
    tasks = sorted(((lp, job) for lp in plans for job in lp.jobs),
                   key=lambda task: -len(task[1].text))
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
    total, finished = len(tasks) + len(program_tasks) * len(profiles), 0

    failed: set[tuple[str, str]] = set()       # (campaign, locale) with a failed render

    def collect(key, label: str, future, results: dict) -> None:
        nonlocal finished
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

    # Messages the cache holds are taken here; the pool (started here, or already by
    # start_workers) is used only if at least two are to be rendered: one, as after an edit,
    # costs less here than sent to a worker.
    taken = {id(job): done for _, job in tasks
             if (done := cached_message(job, profiles, layout)) is not None}
    to_render = len(tasks) - len(taken)
    if workers.scheduler or to_render >= 2:
        pool = workers.get()
    else:
        workers.release()           # forked early, not needed: one job runs here
        pool = None
    message_results: dict[tuple[str, str, str], dict[str, Rendered]] = {}
    program_results: dict[tuple[str, str, str], dict[str, Rendered]] = {}
    try:
        def run(fn, *args):
            return pool.submit(fn, *args) if pool else Now(fn, *args)

        def message(job: MessageJob):
            done = taken.get(id(job))
            return Now(lambda: done) if done else run(render_message, job, profiles, layout)
        futures = [((lp.campaign.name, lp.locale, job.message_id),
                    f"message '{job.message_id}' in {job.locale}", message(job))
                   for lp, job in tasks]
        gathered: set[tuple[str, str, str]] = set()
        waiting = [(lp, program, [j for j in (lp.job(m) for m in program.items)
                                  if j is not None]) for lp, program in program_tasks]
        pfutures = []

        def start_programs() -> None:
            """Programs whose messages are all done start now, while others render."""
            for item in list(waiting):
                lp, program, in_order = item
                keys = [(lp.campaign.name, lp.locale, j.message_id) for j in in_order]
                if not all(k in gathered for k in keys):
                    continue
                waiting.remove(item)
                if not all(k in message_results for k in keys):
                    program_skips[(lp.campaign.name, lp.locale)][program.id] = \
                        "a message of the program failed to render"
                    continue
                for profile in profiles:    # one job per profile: a long program in parallel
                    messages = [message_results[k][profile.name] for k in keys]
                    make = functools.partial(run, render_program, program, in_order, profile,
                                             layout, messages)
                    # An MP3 program's decoding is shared out first, if there is a pool.
                    shares = block_shares(program, messages, profile, layout,
                                          workers.parallel)
                    before = [run(render_blocks, layout, share, profile) for share in shares]
                    pfutures.append(((lp.campaign.name, lp.locale, program.id, profile.name),
                                     f"program '{program.id}' in {lp.locale} ({profile.name})",
                                     before, make, None if before else make()))
        for key, label, future in futures:
            collect(key, label, future, message_results)
            gathered.add(key)
            start_programs()
        per_profile: dict[tuple[str, str, str, str], dict[str, Rendered]] = {}
        for pkey, label, before, make, future in pfutures:
            for share in before:
                try:
                    share.result()
                except PipelineError:
                    pass        # the program's job decodes what is missing, or says why not
            collect(pkey, label, make() if future is None else future, per_profile)
        for pkey, rendered in per_profile.items():
            program_results.setdefault(pkey[:3], {}).update(rendered)
    finally:
        workers.release()           # the jobs are done: the folders are written here
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
