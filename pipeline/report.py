"""``audio_out/report.html``: the whole project's state, whatever the last command rendered."""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass, replace
from html import escape
from pathlib import Path

from .audio.codec import waveform
from .distribute.bundle import bundle_top
from .distribute.signing import signature_of
from .errors import PipelineError
from .fsutil import atomic_write, sha256_file, write_if_changed
from .layout import INDEX_PAGE, MANIFEST, Layout
from .project import Project
from .render.manifest import Manifest
from .render.pages import page
from .status import ProjectStatus, project_status
from .values import counted

__all__ = ["Folder", "report_html", "write_report"]


@dataclass(frozen=True)
class Folder:
    """An output folder as the report shows it, and its bundle."""

    campaign: str
    locale: str
    profile: str
    page: str                           # its index.html, relative to audio_out/
    manifest: Manifest | None
    bundle: str | None                  # the zip, relative to audio_out/, if there is one
    signed: bool = False
    # The zip's SHA-256 (its first 16 digits), not its time: a rebuild writes the same
    # report, byte for byte, whatever was interrupted before it.
    digest: str = ""
    bundled: int = 0                    # message files the zip holds
    limits: tuple[tuple[str, float], ...] = ()     # message id → its max_seconds
    waves: tuple[tuple[str, tuple[float, ...]], ...] = ()   # message id → its waveform


def write_report(project: Project) -> bool:
    """Write the report of every campaign and locale on disk (not only those of the
    current command). True if the file changed."""
    whole = project.whole()
    status = project_status(whole)
    layout = whole.layout
    folders = []
    for c in whole.campaigns:
        shown = []
        for locale in whole.locales:
            for profile in whole.config.profiles:
                folder = layout.output_folder(c.name, locale, profile)
                if (folder / INDEX_PAGE).exists():
                    shown.append(replace(
                        _folder(layout, c.name, locale, profile),
                        limits=tuple((m.id, m.max_seconds) for m in c.messages
                                     if m.max_seconds)))
        pictured = _pictured(shown)
        folders += [replace(f, waves=_waves(layout, f)) if any(f is p for p in pictured)
                    else f for f in shown]
    return write_if_changed(layout.report_page, report_html(status, folders).encode("utf-8"))


def _folder(layout: Layout, campaign: str, locale: str, profile: str) -> Folder:
    folder = layout.output_folder(campaign, locale, profile)
    try:
        manifest: Manifest | None = Manifest.from_json((folder / MANIFEST).read_bytes())
    except (OSError, PipelineError):
        manifest = None
    zipped = layout.bundle(campaign, locale, profile)
    if not zipped.is_file():
        return Folder(campaign, locale, profile, _rel(layout, folder / INDEX_PAGE), manifest,
                      None)
    bundled = 0
    try:
        with zipfile.ZipFile(zipped) as zf:
            top = bundle_top(zf.namelist())
            bundled = len(Manifest.from_json(zf.read(top + MANIFEST)).messages)
    except (OSError, KeyError, zipfile.BadZipFile, PipelineError):
        pass                            # shown as holding nothing: verify says why
    return Folder(campaign, locale, profile, _rel(layout, folder / INDEX_PAGE), manifest,
                  _rel(layout, zipped), signature_of(zipped).is_file(),
                  sha256_file(zipped)[:16], bundled)


WAVE_BARS = 100                 # a message's waveform in the report


def _waves(layout: Layout, f: Folder) -> tuple[tuple[str, tuple[float, ...]], ...]:
    """Each message file's waveform, cached by the file's SHA-256 (a report written again
    reads no file it has pictured before)."""
    assert f.manifest is not None
    folder = layout.output_folder(f.campaign, f.locale, f.profile)
    waves = []
    for entry in f.manifest.messages:
        cached = layout.cache_dir / "waves" / f"{entry.sha256}.json"
        try:
            peaks = tuple(float(p) for p in json.loads(cached.read_text()))
            if len(peaks) != WAVE_BARS:
                raise ValueError("another size")
        except (OSError, ValueError, TypeError):
            try:
                peaks = tuple(waveform(folder / entry.file, WAVE_BARS))
            except (OSError, RuntimeError):     # gone, or unreadable: no picture
                continue
            atomic_write(cached, json.dumps(peaks).encode("ascii"))
        waves.append((entry.id, peaks))
    return tuple(waves)


def _wave_svg(peaks: tuple[float, ...]) -> str:
    """A waveform as an inline SVG: one vertical stroke per bar, mirrored about the middle."""
    d = "".join(f"M{i}.5 {10 - 9.5 * p:.1f}V{10 + 9.5 * p:.1f}" for i, p in enumerate(peaks))
    return (f'<svg class="wave" viewBox="0 0 {len(peaks)} 20" preserveAspectRatio="none" '
            f'width="200" height="32" role="img" aria-label="waveform">'
            f'<path d="{d}" stroke="#2a6" stroke-width="1"/></svg>')


def _pictured(folders: list[Folder]) -> list[Folder]:
    """The folder each locale's messages are shown from: radio, or the first there is."""
    chosen: dict[str, Folder] = {}
    for f in folders:
        if f.manifest and (f.locale not in chosen or f.profile == "radio"):
            chosen[f.locale] = f
    return list(chosen.values())


def _rel(layout: Layout, path: Path) -> str:
    return path.relative_to(layout.out_dir).as_posix()


def report_html(status: ProjectStatus, folders: list[Folder]) -> str:
    """The whole project: coverage per campaign and locale, bundles, programs, each
    message's length and loudness, findings, skips, links."""
    pages = [(f.campaign, f.locale, f.profile, f.page) for f in folders]
    parts = ["<h1>Broadcast report</h1>\n"]
    for name, campaign in status.campaigns.items():
        parts.append(f"<h2>{escape(name)}: {escape(campaign.title)}</h2>\n"
                     "<table><tr><th>locale</th><th>translated</th><th></th><th>fuzzy</th>"
                     "<th>untranslated</th><th>ready</th><th>voice</th><th>pages</th></tr>\n")
        for locale, s in campaign.locales.items():
            total = s.translated + s.fuzzy + s.untranslated
            share = 100.0 * s.translated / total if total else 0.0
            links = " ".join(f'<a href="{escape(path)}">{escape(profile)}</a>'
                             for c, loc, profile, path in pages if c == name and loc == locale)
            parts.append(
                f'<tr class="coverage" data-campaign="{escape(name)}" '
                f'data-locale="{escape(locale)}" data-translated="{s.translated}" '
                f'data-fuzzy="{s.fuzzy}" data-untranslated="{s.untranslated}" '
                f'data-ready="{len(s.ready)}">'
                f"<td>{escape(locale)}</td><td>{s.translated}/{total}</td>"
                f'<td><span class="bar" title="{share:.0f}%"><span class="fill" '
                f'style="display:block;width:{share:.1f}%"></span></span> {share:.0f}%</td>'
                f"<td>{s.fuzzy}</td><td>{s.untranslated}</td>"
                f"<td>{len(s.ready)}/{campaign.messages}</td>"
                + (f'<td class="fallback"><b>fallback</b>: {escape(s.fallback)}</td>'
                   if s.fallback else f"<td>{escape(s.voice)}</td>")
                + f"<td>{links}</td></tr>\n")
        parts.append("</table>\n")
        parts += _rows("Not rendered, and why", "skipped", "reason",
                       [(loc, mid, why) for loc, s in campaign.locales.items()
                        for mid, why in s.not_ready.items()])
        parts += _rows("Native review", "review", "review",
                       [(loc, mid, review) for loc, s in campaign.locales.items()
                        for mid, review in s.reviews.items()])
        mine = [f for f in folders if f.campaign == name]
        parts += _bundles(mine, campaign.messages)
        parts += _rows("Programs not made, and why", "program-skipped", "reason",
                       [(f"{f.locale} {f.profile}", skip.id, skip.reason) for f in mine
                        if f.manifest for skip in f.manifest.programs_skipped])
        parts += _lengths(mine)
    parts.append("<h2>Check findings</h2>\n")
    if status.findings:
        parts.append("<table><tr><th>severity</th><th>check</th><th>where</th>"
                     "<th>message</th><th>finding</th></tr>\n")
        for f in status.findings:
            where = f"{f.file}:{f.line}" if f.line else f.file
            parts.append(f'<tr class="finding"><td class="{f.severity}">{f.severity}</td>'
                         f"<td>{escape(f.check)}</td><td>{escape(where)}</td>"
                         f"<td>{escape(f.locale)} {escape(f.message)}</td>"
                         f"<td>{escape(f.text)}</td></tr>\n")
        parts.append("</table>\n")
    else:
        parts.append("<p>None.</p>\n")
    return page("Broadcast report", "en", "".join(parts))


def _bundles(folders: list[Folder], messages: int) -> list[str]:
    """Each output folder's bundle: there or not, signed or not, which (its digest), what
    it holds."""
    if not folders:
        return []
    rows = []
    for f in folders:
        if f.bundle is None:
            state = '<td class="missing">no bundle (broadcast bundle makes it)</td><td></td>'
        else:
            state = (f'<td><a href="{escape(f.bundle)}">{escape(f.bundle.split("/")[-1])}</a>'
                     f' {"signed" if f.signed else "<b>not signed</b>"}</td>'
                     f"<td><code>{escape(f.digest)}</code></td>")
        programs = len(f.manifest.programs) if f.manifest else 0
        rows.append(f'<tr class="bundle" data-locale="{escape(f.locale)}" '
                    f'data-profile="{escape(f.profile)}" data-bundled="{f.bundled}" '
                    f'data-signed="{str(f.signed).lower()}">'
                    f"<td>{escape(f.locale)}</td><td>{escape(f.profile)}</td>{state}"
                    f"<td>{f.bundled}/{messages} messages, {counted(programs, 'program')}"
                    "</td></tr>\n")
    return ["<h3>Bundles</h3>\n<table><tr><th>locale</th><th>profile</th><th>bundle</th>"
            "<th>SHA-256</th><th>holds</th></tr>\n", *rows, "</table>\n"]


def _lengths(folders: list[Folder]) -> list[str]:
    """Per message of each locale's radio folder (or its first): a bar of its length
    against max_seconds and its loudness against the target, where people would rather
    look than read."""
    rows = []
    for f in _pictured(folders):
        assert f.manifest is not None
        locale = f.locale
        target = float(f.manifest.profile.get("target_lufs", 0.0))
        limits, waves = dict(f.limits), dict(f.waves)
        for entry in f.manifest.messages:
            limit = limits.get(entry.id, 0.0)
            full = max(limit, entry.duration) or 1.0
            over = bool(limit) and entry.duration > limit
            rows.append(
                f'<tr class="length" data-folder="{escape(f.page.rsplit("/", 1)[0])}" '
                f'data-file="{escape(entry.file)}">'
                f"<td>{escape(locale)} {escape(f.profile)}</td>"
                f"<td>{escape(entry.id)}</td>"
                f'<td><span class="bar" title="{entry.duration:.1f} s'
                + (f" of at most {limit:g} s" if limit else "") + '">'
                f'<span class="fill{" over" if over else ""}" style="display:block;'
                f'width:{100 * entry.duration / full:.1f}%"></span></span> '
                f"{entry.duration:.1f} s" + (f" / {limit:g}" if limit else "") + "</td>"
                f"<td>{entry.loudness_lufs:.1f} LUFS ({entry.loudness_lufs - target:+.1f} LU)"
                f"</td><td>{_wave_svg(waves[entry.id]) if entry.id in waves else ''}</td>"
                "</tr>\n")
    if not rows:
        return []
    return ["<h3>Length and loudness</h3>\n<table><tr><th>folder</th><th>message</th>"
            "<th>length</th><th>loudness against the target</th><th>waveform</th></tr>\n",
            *rows,
            "</table>\n"]


def _rows(title: str, kind: str, what: str, rows: list[tuple[str, str, str]]) -> list[str]:
    """A table of (locale, message, text) rows under ``title``, or nothing."""
    if not rows:
        return []
    return [f"<h3>{title}</h3>\n<table><tr><th>locale</th><th>message</th><th>{what}</th>"
            "</tr>\n", *(f'<tr class="{kind}"><td>{escape(loc)}</td><td>{escape(mid)}</td>'
                          f"<td>{escape(text)}</td></tr>\n" for loc, mid, text in rows),
            "</table>\n"]
