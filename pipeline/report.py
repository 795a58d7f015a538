"""Review pages: ``index.html`` per output folder and ``audio_out/report.html``.

Both are single offline files: no external URL, font or script. They work opened straight
from a USB stick or a zip, in any browser.
"""

from __future__ import annotations

from html import escape

STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem auto;max-width:60rem;
padding:0 1rem;color:#1d1d1f;background:#fafafa;line-height:1.5}
h1{font-size:1.5rem;margin-bottom:.2rem}h2{font-size:1.15rem;margin-top:2rem}
.meta{color:#555;font-size:.9rem}
ol.items{padding-left:0;list-style:none}
li.item{background:#fff;border:1px solid #ddd;border-radius:6px;padding:.8rem 1rem;margin:.8rem 0}
li.item h3{margin:0 0 .3rem;font-size:1.05rem}
.num{color:#888;font-variant-numeric:tabular-nums;margin-right:.4rem}
audio{width:100%;margin-top:.5rem}
details{margin-top:.4rem;color:#444}
table{border-collapse:collapse;width:100%;font-size:.92rem}
th,td{text-align:left;padding:.3rem .5rem;border-bottom:1px solid #e3e3e3;vertical-align:top}
.bar{background:#e6e6e6;border-radius:3px;width:12rem;height:.8rem;display:inline-block}
.fill{background:#2e7d32;height:100%;border-radius:3px}
.error{color:#b00020}.warning{color:#8a6d00}
""".strip()


def _page(title: str, lang: str, body: str) -> str:
    return (f'<!DOCTYPE html>\n<html lang="{escape(lang)}">\n<head>\n<meta charset="utf-8">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{escape(title)}</title>\n<style>\n{STYLE}\n</style>\n</head>\n"
            f"<body>\n{body}</body>\n</html>\n")


def _paragraphs(text: str) -> str:
    return "".join(f"<p>{escape(p)}</p>" for p in text.split("\n\n") if p.strip())


def index_html(manifest: dict) -> str:
    """The audition page of one output folder, from its manifest."""
    locale, profile = manifest["locale"], manifest["profile"]["name"]
    lang = locale.replace("_", "-")
    rows = []
    for n, entry in enumerate(manifest["files"], 1):
        source = ""
        if entry.get("source_text"):
            source = (f"<details><summary>Source text</summary>"
                      f'<div lang="en">{_paragraphs(entry["source_text"])}</div></details>')
        rows.append(
            f'<li class="item" id="{escape(entry["id"])}" data-kind="{entry["kind"]}">'
            f'<h3><span class="num">{n:02d}</span>{escape(entry["title"])}</h3>'
            f'<div class="meta">{escape(entry["file"])} · {entry["duration"]:.1f} s · '
            f'{entry["loudness_lufs"]:.1f} LUFS · true peak {entry["true_peak_dbtp"]:.1f} dBTP</div>'
            f'<div class="text" lang="{escape(lang)}">{_paragraphs(entry["text"])}</div>{source}'
            f'<audio controls preload="metadata" src="{escape(entry["file"])}"></audio></li>\n')
    skipped = "".join(f"<li><b>{escape(s['id'])}</b>: {escape(s['reason'])}</li>"
                      for s in manifest["skipped"] + manifest.get("programs_skipped", []))
    body = (f"<h1>{escape(manifest['campaign'])} · {escape(locale)} · {escape(profile)}</h1>\n"
            f'<p class="meta">{len(manifest["files"])} files in play order. '
            f'Target {manifest["profile"]["target_lufs"]:g} LUFS, true peak ≤ '
            f'{manifest["profile"]["max_true_peak"]:g} dBTP.</p>\n'
            f'<ol class="items">\n{"".join(rows)}</ol>\n')
    if skipped:
        body += f"<h2>Not in this folder</h2>\n<ul>{skipped}</ul>\n"
    return _page(f"{manifest['campaign']} {locale} {profile}", lang, body)


def report_html(status: dict, findings: list[dict], pages: list[tuple[str, str, str, str]]) -> str:
    """The whole project: coverage per campaign and locale, findings, skips, links.

    ``pages`` are (campaign, locale, profile, relative path of index.html).
    """
    parts = ["<h1>Broadcast report</h1>\n"]
    for name, campaign in status["campaigns"].items():
        parts.append(f"<h2>{escape(name)}: {escape(campaign['title'])}</h2>\n"
                     "<table><tr><th>locale</th><th>translated</th><th></th><th>fuzzy</th>"
                     "<th>untranslated</th><th>ready</th><th>pages</th></tr>\n")
        for locale, s in campaign["locales"].items():
            total = s["translated"] + s["fuzzy"] + s["untranslated"]
            share = 100.0 * s["translated"] / total if total else 0.0
            links = " ".join(f'<a href="{escape(path)}">{escape(profile)}</a>'
                             for c, loc, profile, path in pages if c == name and loc == locale)
            parts.append(
                f'<tr class="coverage" data-campaign="{escape(name)}" '
                f'data-locale="{escape(locale)}" data-translated="{s["translated"]}" '
                f'data-fuzzy="{s["fuzzy"]}" data-untranslated="{s["untranslated"]}" '
                f'data-ready="{len(s["ready"])}">'
                f"<td>{escape(locale)}</td><td>{s['translated']}/{total}</td>"
                f'<td><span class="bar" title="{share:.0f}%"><span class="fill" '
                f'style="display:block;width:{share:.1f}%"></span></span> {share:.0f}%</td>'
                f"<td>{s['fuzzy']}</td><td>{s['untranslated']}</td>"
                f"<td>{len(s['ready'])}/{campaign['messages']}</td><td>{links}</td></tr>\n")
        parts.append("</table>\n")
        skipped = [(loc, mid, why) for loc, s in campaign["locales"].items()
                   for mid, why in s["not_ready"].items()]
        if skipped:
            parts.append("<h3>Not rendered, and why</h3>\n<table>"
                         "<tr><th>locale</th><th>message</th><th>reason</th></tr>\n")
            parts += [f'<tr class="skipped"><td>{escape(loc)}</td><td>{escape(mid)}</td>'
                      f"<td>{escape(why)}</td></tr>\n" for loc, mid, why in skipped]
            parts.append("</table>\n")
    parts.append("<h2>Check findings</h2>\n")
    if findings:
        parts.append("<table><tr><th>severity</th><th>check</th><th>where</th>"
                     "<th>message</th><th>finding</th></tr>\n")
        for f in findings:
            where = f"{f['file']}:{f['line']}" if f["line"] else f["file"]
            parts.append(f'<tr class="finding"><td class="{f["severity"]}">{f["severity"]}</td>'
                         f"<td>{escape(f['check'])}</td><td>{escape(where)}</td>"
                         f"<td>{escape(f['locale'])} {escape(f['message'])}</td>"
                         f"<td>{escape(f['text'])}</td></tr>\n")
        parts.append("</table>\n")
    else:
        parts.append("<p>None.</p>\n")
    return _page("Broadcast report", "en", "".join(parts))
