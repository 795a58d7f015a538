"""Review pages: ``index.html`` per output folder (``report.html`` is :mod:`pipeline.report`).

Both are single offline files: no external URL, font or script. They work opened straight
from a USB stick or a zip, in any browser.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from ..values import counted
from .manifest import Manifest

__all__ = ["index_html", "page", "paragraphs", "script_html", "ScriptItem", "STYLE"]

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
@media print{body{background:#fff;max-width:none}li.item{break-inside:avoid;border-color:#999}}
""".strip()


def page(title: str, lang: str, body: str) -> str:
    return (f'<!DOCTYPE html>\n<html lang="{escape(lang)}">\n<head>\n<meta charset="utf-8">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{escape(title)}</title>\n<style>\n{STYLE}\n</style>\n</head>\n"
            f"<body>\n{body}</body>\n</html>\n")


def paragraphs(text: str) -> str:
    return "".join(f"<p>{escape(p)}</p>" for p in text.split("\n\n") if p.strip())


def _spoken(text: str, spoken: str, lang: str) -> str:
    """What the voice says, shown open beside the text wherever it differs (the lexicon,
    numbers and signs): a reviewer approves what is heard, not only what is written."""
    if not spoken or " ".join(spoken.split()) == " ".join(text.split()):
        return ""
    return (f'<div class="spoken"><b>Spoken as:</b> <span lang="{escape(lang)}">'
            f'{paragraphs(spoken)}</span></div>')


def _voice(made_by: dict) -> str:
    """Who speaks: a recording, or engine/voice; and a fallback voice, said openly."""
    if "recording" in made_by:
        return " · recording"
    if "engine" not in made_by:
        return ""
    voice = f' · voice {escape(str(made_by["engine"]))}/{escape(str(made_by.get("voice", "")))}'
    if made_by.get("instead_of"):
        voice += (f' · <span class="fallback"><b>fallback voice</b>: '
                  f'{escape(str(made_by["instead_of"]))}</span>')
    return voice


def index_html(manifest: Manifest) -> str:
    """The audition page of one output folder, from its manifest."""
    locale, profile = manifest.locale, str(manifest.profile.get("name", ""))
    lang = locale.replace("_", "-")
    rows = []
    for n, entry in enumerate(manifest.files, 1):
        source = ""
        if entry.source_text:
            source = (f"<details><summary>Source text</summary>"
                      f'<div lang="en">{paragraphs(entry.source_text)}</div></details>')
        rows.append(
            f'<li class="item" id="{escape(entry.id)}" data-kind="{entry.kind}">'
            f'<h3><span class="num">{n:02d}</span>{escape(entry.title)}</h3>'
            f'<div class="meta">{escape(entry.file)} · {entry.duration:.1f} s · '
            f'{entry.loudness_lufs:.1f} LUFS · true peak {entry.true_peak_dbtp:.1f} dBTP'
            + (f" · LRA {entry.loudness_range_lu:.1f} LU"
               if entry.loudness_range_lu is not None else "")
            + (f" · max. short-term {entry.max_short_term_lufs:.1f} LUFS"
               if entry.max_short_term_lufs is not None else "") + ''
            + (f' · <span class="cer">speech CER {entry.cer:.2f}</span>'
               if entry.cer is not None else "") + _voice(entry.made_by)
            + (f' · <span class="approved">approved by a native reviewer '
               f'{escape(entry.approved[:10])}</span>' if entry.approved else "") + '</div>'
            f'<div class="text" lang="{escape(lang)}">{paragraphs(entry.text)}</div>'
            + _spoken(entry.text, entry.spoken, lang) + source +
            f'<audio controls preload="metadata" src="{escape(entry.file)}"></audio></li>\n')
    skipped = "".join(f"<li><b>{escape(s.id)}</b>: {escape(s.reason)}</li>"
                      for s in manifest.skipped + manifest.programs_skipped)
    body = (f"<h1>{escape(manifest.campaign)} · {escape(locale)} · {escape(profile)}</h1>\n"
            f'<p class="meta">{counted(len(manifest.files), "file")} in play order. '
            + ("Processed for a transmitter (pre-emphasis, compression, band-limited "
               "clipping): dense speech, peaks at full modulation, "
               if manifest.profile.get("processing") else "Target ")
            + f'{manifest.profile.get("target_lufs", 0):g} LUFS, true peak ≤ '
            f'{manifest.profile.get("max_true_peak", 0):g} dBTP.</p>\n'
            f'<ol class="items">\n{"".join(rows)}</ol>\n')
    if skipped:
        body += f"<h2>Not in this folder</h2>\n<ul>{skipped}</ul>\n"
    return page(f"{manifest.campaign} {locale} {profile}", lang, body)


@dataclass(frozen=True)
class ScriptItem:
    """One message of a recording script."""

    id: str
    title: str
    text: str                   # as the reader reads it (and as <id>.txt holds it)
    spoken: str                 # how the synthetic voice would read it (numbers spelled out)
    note: str                   # the writer's note
    max_seconds: float | None
    folder: str                 # where the take is saved, relative to the project


def script_html(campaign: str, locale: str, items: list[ScriptItem]) -> str:
    """A printable recording script: one message per block, what to read and where to save."""
    lang = locale.replace("_", "-")
    blocks = []
    for n, item in enumerate(items, 1):
        limit = f" · at most {item.max_seconds:g} s" if item.max_seconds else ""
        spoken = ""
        if item.spoken.replace("\n", " ") != item.text.replace("\n", " "):
            spoken = (f'<details open><summary>How the numbers and signs are said</summary>'
                      f'<div lang="{escape(lang)}">{paragraphs(item.spoken)}</div></details>')
        note = (f'<p class="meta" lang="en">Writer\'s note: {escape(item.note)}</p>'
                if item.note else "")
        blocks.append(
            f'<li class="item" id="{escape(item.id)}"><h3><span class="num">{n:02d}</span>'
            f'{escape(item.title)}</h3>'
            f'<div class="meta">save as <code>{escape(item.folder)}/{escape(item.id)}.wav</code>'
            f' (or .flac) with <code>{escape(item.id)}.txt</code> beside it{limit}</div>{note}'
            f'<div class="text" lang="{escape(lang)}">{paragraphs(item.text)}</div>{spoken}'
            f'</li>\n')
    body = (f"<h1>Recording script · {escape(campaign)} · {escape(locale)}</h1>\n"
            f'<p class="meta">{counted(len(items), "message")}. Read each text exactly as written, in a '
            "quiet room, without clipping. Save the take under the name shown and copy the "
            "message's .txt file beside it: it binds the take to this text.</p>\n"
            f'<ol class="items">\n{"".join(blocks)}</ol>\n')
    return page(f"Recording script {campaign} {locale}", lang, body)
