"""``broadcast review``: a local web page where a native reviewer listens and decides.

It serves, on 127.0.0.1 unless the user names another interface, every ready message
of the chosen locales (the review's own gate aside: what is waiting must be heard), each
mastered in one profile through the render cache, with its text, its spoken form, the
source text, the writer's note, its length against ``max_seconds``, its loudness, the
speech judge's CER and transcript where it heard it, a waveform (with each word the
judge hears at its time, fetched when the message is first shown or played, and the
part played), and Approve / Reject. Keys: space plays, j and k move, a approves, r
rejects (with the comment box filled).

The page is the only client: every write carries the session's token (a new one per
run, in the page) and an Origin of this server, and names a message by its number in
the page, never a path; audio is served the same way, so nothing outside the rendered
files can be asked for. A write takes the project's lock and is recorded whatever was
decided meanwhile: if it disagrees with a decision the page did not show, the answer is
409 with both, and the message waits until someone decides having seen them. A request
naming another host (a site whose name was made to point here) is refused before
anything.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from html import escape
from pathlib import Path

from . import workflow
from .approvals import read_record
from .audio.codec import waveform
from .audio.profiles import Profile
from .errors import PipelineError
from .layout import Layout
from .lock import project_lock
from .project import Project, open_project
from .render.jobs import render_message
from .render.pages import page, paragraphs
from .render.plan import plan
from .values import counted
from .voice import asr

__all__ = ["app", "refresh", "ReviewItem", "review_items", "serving"]

PEAKS = 160                     # waveform bars per message


@dataclass
class ReviewItem:
    campaign: str
    locale: str
    message_id: str
    title: str
    text: str
    spoken: str
    source: str
    note: str
    max_seconds: float | None
    duration: float
    lufs: float
    cer: float | None
    heard: str | None           # the judge's transcript, where it heard the file
    review: str
    seen: str                   # the id of the newest decision shown ("" if none)
    file: Path
    peaks: list[float]


def review_items(project: Project, profile: Profile) -> list[ReviewItem]:
    """Every ready message of the project's locales, mastered in ``profile`` (rendered
    into the cache if it is not there yet), with where its review stands."""
    items = []
    layout = project.layout
    for lp in plan(project, reviewed=False):
        for job in lp.jobs:
            rendered = render_message(job, [profile], layout).rendered[profile.name]
            message = lp.campaign.message(job.message_id)
            path = layout.final_cache(rendered.key, profile.ext)
            items.append(ReviewItem(
                lp.campaign.name, lp.locale, job.message_id, job.title, job.text,
                "\n\n".join(job.voicing.texts), job.source_text, message.note,
                message.max_seconds, rendered.measured.duration, rendered.measured.lufs,
                rendered.cer, heard(rendered.cer, path, lp.locale, layout), "", "", path,
                waveform(path, PEAKS)))
    refresh(project, items)
    return items


def heard(cer: float | None, path: Path, locale: str, layout: Layout) -> str | None:
    """What the render's speech judge heard in ``path`` (only where it heard it)."""
    return None if cer is None else asr.heard_before(path, locale, layout.transcript_cache)


def refresh(project: Project, items: list[ReviewItem]) -> None:
    """Read where each item's review stands now (someone may have decided meanwhile)."""
    campaigns = {c.name: c for c in project.campaigns}
    for item in items:
        item.review, item.seen = _current_review(project, campaigns[item.campaign], item)


def _current_review(project: Project, campaign, item: ReviewItem) -> tuple[str, str]:
    """The message's review as the project stands now, and the id of its newest decision
    (the decision the review stands on, whatever its state)."""
    heard = project.heard_as(campaign, item.locale, item.message_id)
    if isinstance(heard, str):
        newest = read_record(project.layout.review_record(item.locale, item.campaign,
                                                          item.message_id)).newest
        return f"not ready: {heard}", newest.id if newest else ""
    review = project.review(campaign, item.locale, item.message_id, *heard)
    return str(review), review.decision.id if review.decision else ""


def _item_html(n: int, item: ReviewItem) -> str:
    lang = item.locale.replace("_", "-")
    limit = f" of at most {item.max_seconds:g}" if item.max_seconds else ""
    over = item.max_seconds is not None and item.duration > item.max_seconds
    spoken = ("" if " ".join(item.spoken.split()) == " ".join(item.text.split()) else
              f'<div class="spoken"><b>Spoken as:</b> <span lang="{escape(lang)}">'
              f"{paragraphs(item.spoken)}</span></div>")
    note = f'<p class="note">Writer\'s note: {escape(item.note)}</p>' if item.note else ""
    cer = f" · speech CER {item.cer:.2f}" if item.cer is not None else ""
    heard = ("" if item.heard is None else
             f'<div class="heard"><b>Heard by the speech judge:</b> <span lang="{escape(lang)}">'
             f"{escape(item.heard)}</span></div>")
    return (
        f'<li class="item" tabindex="-1" data-n="{n}" id="item-{n}" '
        f'data-duration="{item.duration:.3f}"{" data-heard" if heard else ""}>'
        f'<h3>{escape(item.campaign)} · {escape(item.locale)} · {escape(item.message_id)}: '
        f'<span lang="{escape(lang)}">{escape(item.title)}</span></h3>'
        f'<div class="meta{" over" if over else ""}">{item.duration:.1f} s{limit} · '
        f"{item.lufs:.1f} LUFS{cer}</div>"
        f'<div class="wavebox"><canvas class="wave" width="{PEAKS * 5}" height="48" '
        f'data-peaks="{json.dumps(item.peaks)}"></canvas>'
        f'<div class="words" lang="{escape(lang)}"></div></div>'
        f'<audio controls preload="none" src="/audio/{n}"></audio>'
        f'<div class="text" lang="{escape(lang)}">{paragraphs(item.text)}</div>{spoken}{heard}'
        f'<details><summary>Source text</summary><div lang="en">{paragraphs(item.source)}'
        f"</div></details>{note}"
        f'<div class="decide"><input class="comment" placeholder="comment (why, for a '
        f'rejection)" size="60"> <button class="approve">Approve (a)</button> '
        f'<button class="reject">Reject (r)</button> '
        f'<span class="review" data-seen="{item.seen}">{escape(item.review)}</span>'
        f"</div></li>\n")


_SCRIPT = """
const token = document.querySelector('meta[name=review-token]').content;
const items = [...document.querySelectorAll('li.item')];
let current = 0;
function focusItem(i) {
  current = Math.max(0, Math.min(items.length - 1, i));
  items[current].focus(); items[current].scrollIntoView({block: 'center'});
  showWords(items[current]);
}
function draw(canvas, played) {          // the waveform; played: 0..1 of it heard
  const peaks = JSON.parse(canvas.dataset.peaks), g = canvas.getContext('2d');
  const w = canvas.width / peaks.length, h = canvas.height;
  g.clearRect(0, 0, canvas.width, h);
  peaks.forEach((p, i) => {
    g.fillStyle = i / peaks.length < played ? '#c60' : '#335';
    g.fillRect(i * w, (h - p * h) / 2, Math.max(1, w - 1), p * h);
  });
}
async function showWords(item) {          // what the judge heard, where it heard it
  if (!('heard' in item.dataset) || item.dataset.words) return;
  item.dataset.words = 'asked';
  const reply = await fetch('/words/' + item.dataset.n);
  if (!reply.ok) return;
  const box = item.querySelector('.words'), seconds = Number(item.dataset.duration);
  (await reply.json()).forEach(([word, start, end], i) => {
    const span = document.createElement('span');
    span.textContent = word; span.dataset.start = start; span.dataset.end = end;
    span.style.left = (100 * start / seconds) + '%'; span.style.top = (i % 3) * 1.3 + 'em';
    box.appendChild(span);
  });
}
for (const item of items) {
  const canvas = item.querySelector('canvas.wave'), audio = item.querySelector('audio');
  draw(canvas, 0);
  audio.addEventListener('timeupdate', () => {
    const t = audio.currentTime;
    draw(canvas, t / Number(item.dataset.duration));
    for (const span of item.querySelectorAll('.words span'))
      span.classList.toggle('now', span.dataset.start <= t && t < span.dataset.end);
  });
  audio.addEventListener('play', () => showWords(item));
}
async function decide(item, decision) {
  const comment = item.querySelector('.comment').value;
  const shown = item.querySelector('.review');
  if (decision === 'rejected' && !comment.trim()) {
    shown.textContent = 'say why in the comment first'; item.querySelector('.comment').focus();
    return;
  }
  const reply = await fetch('/decide', {method: 'POST',
    headers: {'Content-Type': 'application/json', 'X-Review-Token': token},
    body: JSON.stringify({n: Number(item.dataset.n), decision, comment,
                          seen: shown.dataset.seen})});
  const answer = await reply.json();
  shown.textContent = answer.review || answer.error;
  if (answer.seen !== undefined) shown.dataset.seen = answer.seen;
  item.classList.toggle('conflict', reply.status === 409);
}
for (const item of items) {
  item.querySelector('.approve').onclick = () => decide(item, 'approved');
  item.querySelector('.reject').onclick = () => decide(item, 'rejected');
  item.addEventListener('focusin', () => { current = items.indexOf(item); });
}
document.addEventListener('keydown', (e) => {
  if (e.target.tagName === 'INPUT') { if (e.key === 'Escape') items[current].focus(); return; }
  const item = items[current], audio = item && item.querySelector('audio');
  if (e.key === 'j' || e.key === 'ArrowDown') { focusItem(current + 1); e.preventDefault(); }
  else if (e.key === 'k' || e.key === 'ArrowUp') { focusItem(current - 1); e.preventDefault(); }
  else if (e.key === ' ' && audio) { audio.paused ? audio.play() : audio.pause(); e.preventDefault(); }
  // (preventDefault: a rejection without a comment moves the focus to the comment box,
  // which would otherwise receive this very 'r')
  else if (e.key === 'a' && item) { decide(item, 'approved'); e.preventDefault(); }
  else if (e.key === 'r' && item) { decide(item, 'rejected'); e.preventDefault(); }
  else if (e.key === 'c' && item) { item.querySelector('.comment').focus(); e.preventDefault(); }
});
if (items.length) focusItem(0);
"""


def review_html(items: list[ReviewItem], token: str, reviewer: str) -> str:
    body = (f'<meta name="review-token" content="{escape(token)}">'
            "<style>.wave{width:100%;height:48px}"
            ".words{position:relative;height:4em;font-size:.8em;overflow:hidden}"
            ".words span{position:absolute;white-space:nowrap;color:#555}"
            ".words span.now{background:#fd6;color:#000}.heard{color:#444}</style>"
            f"<h1>Review as {escape(reviewer)}</h1>\n"
            f'<p class="meta">{counted(len(items), "message")}. Keys: space plays, j/k move, a approves, '
            "r rejects (write why in the comment first: c), Escape leaves the comment.</p>\n"
            f'<ol class="items">\n{"".join(_item_html(n, i) for n, i in enumerate(items))}'
            f"</ol>\n<script>{_SCRIPT}</script>\n")
    return page(f"Review as {reviewer}", "en", body)


def app(root: Path, reviewer: str, origin: str, profile: str = "radio",
        locales: list[str] | None = None, token: str | None = None):
    """The review's web application (Starlette) for the project at ``root``, as seen at
    ``origin`` (e.g. ``http://127.0.0.1:8765``)."""
    from starlette.applications import Starlette
    from starlette.concurrency import run_in_threadpool
    from starlette.requests import Request
    from starlette.responses import FileResponse, HTMLResponse, JSONResponse, Response
    from starlette.routing import Route

    token = token or secrets.token_urlsafe(32)
    project = open_project(root, None, locales)
    with project_lock(project.layout):          # it renders into the cache
        items = review_items(project, project.config.profile(profile, "--profile"))

    async def index(request: Request) -> Response:
        # Decisions made meanwhile (here, by another reviewer, on the command line).
        await run_in_threadpool(refresh, open_project(root, None, locales), items)
        return HTMLResponse(review_html(items, token, reviewer),
                            headers={"Content-Security-Policy": "default-src 'self'; "
                                     "script-src 'unsafe-inline' 'self'; "
                                     "style-src 'unsafe-inline'"})

    async def audio(request: Request) -> Response:
        n = request.path_params["n"]
        if not 0 <= n < len(items):
            return JSONResponse({"error": "no such message"}, status_code=404)
        return FileResponse(items[n].file)

    async def words(request: Request) -> Response:
        n = request.path_params["n"]
        if not 0 <= n < len(items) or items[n].heard is None:
            return JSONResponse({"error": "not heard by the speech judge"}, status_code=404)
        # The recognizer works for a second or two: off the event loop.
        timed = await run_in_threadpool(asr.timed_words, items[n].file, items[n].locale,
                                        project.layout.transcript_cache)
        return JSONResponse(timed)

    async def decide(request: Request) -> Response:
        if not secrets.compare_digest(request.headers.get("x-review-token", ""), token):
            return JSONResponse({"error": "not this session's page"}, status_code=403)
        if request.headers.get("origin") != origin:
            return JSONResponse({"error": "from another origin"}, status_code=403)
        try:
            data = await request.json()
            n, decision = int(data["n"]), str(data["decision"])
            comment, seen = str(data.get("comment", "")), str(data["seen"])
        except (ValueError, KeyError, TypeError):
            return JSONResponse({"error": "a malformed request"}, status_code=400)
        if (not 0 <= n < len(items) or decision not in ("approved", "rejected")
                or not re.fullmatch(r"([0-9a-f]{16})?", seen)):
            return JSONResponse({"error": "no such message or decision"}, status_code=400)
        # Reading the project and writing under its lock block: off the event loop.
        status, answer = await run_in_threadpool(write, items[n], decision, comment, seen)
        return JSONResponse(answer, status_code=status)

    def write(item: ReviewItem, decision: str, comment: str, seen: str
              ) -> tuple[int, dict[str, str]]:
        """Record the decision whatever was decided meanwhile (nothing is lost); one
        that disagrees with a decision the page did not show is a conflict (409)."""
        try:
            with project_lock(project.layout, wait=True):
                now = open_project(root, item.campaign, [item.locale])
                _, review = workflow.decide(now, item.locale, item.message_id, decision,
                                            reviewer, comment, seen=seen)
                item.review, item.seen = _current_review(now, now.campaigns[0], item)
        except PipelineError as exc:
            return 409, {"error": str(exc)}
        return (409 if review.state == "conflict" else 200), \
            {"review": item.review, "seen": item.seen}

    # Only this server's own host name: a page of another site whose name was made to
    # point here (DNS rebinding) reads nothing, not even the page's token.
    from starlette.middleware import Middleware
    from starlette.middleware.trustedhost import TrustedHostMiddleware
    host = origin.split("://", 1)[-1].rsplit(":", 1)[0]
    return Starlette(routes=[Route("/", index), Route("/audio/{n:int}", audio),
                             Route("/words/{n:int}", words),
                             Route("/decide", decide, methods=["POST"])],
                     middleware=[Middleware(TrustedHostMiddleware, allowed_hosts=[host])])


@contextmanager
def serving(root: Path, reviewer: str, profile: str = "radio",
            locales: list[str] | None = None, host: str = "127.0.0.1") -> Iterator[str]:
    """The review of the project at ``root``, served on a free port of ``host`` in a
    thread for the length of the block (scripts and tests); yields its origin."""
    import socket
    import threading
    import time

    import uvicorn
    with socket.socket() as s:
        s.bind((host, 0))
        port = s.getsockname()[1]
    origin = f"http://{host}:{port}"
    server = uvicorn.Server(uvicorn.Config(app(root, reviewer, origin, profile, locales),
                                           host=host, port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            raise PipelineError(f"the review server did not start on {origin}")
        time.sleep(0.05)
    try:
        yield origin
    finally:
        server.should_exit = True
        thread.join(timeout=10)
