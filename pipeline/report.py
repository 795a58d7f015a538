"""``audio_out/report.html``: the whole project's state, whatever the last command rendered."""

from __future__ import annotations

from html import escape

from .fsutil import write_if_changed
from .layout import INDEX_PAGE
from .project import Project
from .render.pages import page
from .status import ProjectStatus, project_status

__all__ = ["report_html", "write_report"]


def write_report(project: Project) -> bool:
    """Write the report of every campaign and locale on disk (not only those of the
    current command). True if the file changed."""
    whole = project.whole()
    status = project_status(whole)
    layout = whole.layout
    pages = []
    for c in whole.campaigns:
        for locale in whole.locales:
            for profile in whole.config.profiles:
                path = layout.output_folder(c.name, locale, profile) / INDEX_PAGE
                if path.exists():
                    pages.append((c.name, locale, profile,
                                  path.relative_to(layout.out_dir).as_posix()))
    return write_if_changed(layout.report_page, report_html(status, pages).encode("utf-8"))


def report_html(status: ProjectStatus, pages: list[tuple[str, str, str, str]]) -> str:
    """The whole project: coverage per campaign and locale, findings, skips, links.

    ``pages`` are (campaign, locale, profile, relative path of index.html).
    """
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


def _rows(title: str, kind: str, what: str, rows: list[tuple[str, str, str]]) -> list[str]:
    """A table of (locale, message, text) rows under ``title``, or nothing."""
    if not rows:
        return []
    return [f"<h3>{title}</h3>\n<table><tr><th>locale</th><th>message</th><th>{what}</th>"
            "</tr>\n", *(f'<tr class="{kind}"><td>{escape(loc)}</td><td>{escape(mid)}</td>'
                          f"<td>{escape(text)}</td></tr>\n" for loc, mid, text in rows),
            "</table>\n"]
