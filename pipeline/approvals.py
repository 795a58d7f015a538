"""Native reviewers' decisions on the audio, each bound to exactly what was heard.

A decision approves or rejects one message in one locale, by a named reviewer, with an
optional comment. It is a small TOML file of its own
(``locales/<locale>/reviews/<campaign>/<message-id>.toml``), so reviewers of different
messages and locales never edit the same file and git merges their work without
conflict; two decisions on one message are a conflict git shows, as it should.

The decision holds three SHA-256 digests, of:
- ``text``: the approved translation (title and text, as the catalog gives it);
- ``spoken``: what the voice reads (after the lexicon and the reading of numbers), or,
  for a recording, the same;
- ``sound``: the speech itself, before mastering: the speech cache's keys, which name
  the engine, its version and options, the voice and each paragraph's text, or a
  recording's SHA-256. The engines are deterministic, so these identify the sound
  exactly, and no output profile enters them: re-rendering a profile, or changing a
  loudness target, keeps every approval.
When one of them no longer matches, the approval is stale and says what changed.

Nothing decided is lost. A new decision moves the one before it into the file's history
(``[[earlier]]`` tables, newest first), and names the decision its reviewer saw as current
(``over``, the first 16 hex digits of that decision's SHA-256; empty if none). Two
reviewers deciding the same message at once both land: the later one's ``over`` does not
name the earlier, and if they disagree the message is in conflict (``conflict``: neither
approved) until someone decides having seen both.
"""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from dataclasses import dataclass, fields
from datetime import datetime, timezone
from pathlib import Path
from typing import Literal

from .errors import PipelineError
from .fsutil import atomic_write, read_utf8
from .layout import Layout
from .voice.speech import Voicing

__all__ = ["binding", "Decision", "DECISIONS", "FIELDS", "read_record", "Record", "Review",
           "ReviewError", "review_of", "write_decision"]

DECISIONS = ("approved", "rejected")
State = Literal["waiting", "approved", "rejected", "stale", "conflict"]
_DIGESTS = {"text": "the translation changed",
            "spoken": "the spoken form changed (lexicon or numbers)",
            "sound": "the voice changed (engine, voice, options or recording)"}
_REVIEWER = re.compile(r"\A[^\x00-\x1f\x7f]{1,80}\Z")


class ReviewError(PipelineError):
    """A review record is malformed."""


@dataclass(frozen=True)
class Decision:
    decision: str               # approved | rejected
    reviewer: str
    when: str                   # UTC, ISO 8601
    comment: str
    text: str                   # the three digests (see the module)
    spoken: str
    sound: str
    over: str = ""              # the id of the decision its reviewer saw as current

    @property
    def id(self) -> str:
        """What names this decision to the next one (its ``over``)."""
        return _sha(self.to_toml())[:16]

    def as_review(self) -> "Review":
        """This decision, current."""
        return Review("approved" if self.decision == "approved" else "rejected", self)

    def to_toml(self) -> str:
        # A JSON string is a TOML basic string: every control character escaped.
        return "".join(f"{key} = {json.dumps(getattr(self, key), ensure_ascii=False)}\n"
                       for key in FIELDS)


FIELDS = tuple(f.name for f in fields(Decision))
_OPTIONAL = {"over": ""}        # absent from records written before it existed


@dataclass(frozen=True)
class Record:
    """A message's review file: the newest decision and, newest first, the ones before."""

    decisions: tuple[Decision, ...]

    @property
    def newest(self) -> Decision | None:
        return self.decisions[0] if self.decisions else None

    def to_toml(self) -> str:
        return "\n".join([self.decisions[0].to_toml()] +
                         [f"[[earlier]]\n{d.to_toml()}" for d in self.decisions[1:]])


@dataclass(frozen=True)
class Review:
    state: State
    decision: Decision | None = None
    changed: tuple[str, ...] = ()       # what made an approval or rejection stale
    other: Decision | None = None       # in conflict: the decision this one did not see

    def __str__(self) -> str:
        d = self.decision
        if self.state == "approved" and d:
            return f"approved by {d.reviewer} ({d.when})"
        if self.state == "rejected" and d:
            return f"rejected by {d.reviewer}" + (f": {d.comment}" if d.comment else "")
        if self.state == "stale" and d:
            return f"waiting for review ({d.decision} by {d.reviewer}, but " + \
                "; ".join(self.changed) + ")"
        if self.state == "conflict" and d and self.other:
            return f"conflict between {self.other.as_review()} and {d.as_review()}"
        return "waiting for review"

    def without_names(self) -> str:
        """Where it stands, naming no reviewer and quoting no comment: what may leave the
        project (a manifest, a bundle's page), where a reviewer's name must not travel."""
        if self.state == "rejected":
            return "rejected by a native reviewer"
        if self.state == "stale":
            return "waiting for review (" + "; ".join(self.changed) + ")"
        if self.state == "conflict":
            return "waiting for review (reviewers disagree)"
        return "approved" if self.state == "approved" else "waiting for review"


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def binding(title: str, text: str, voicing: Voicing) -> dict[str, str]:
    """The digests a decision is bound to, for a message as it is now."""
    spoken = "\n\n".join(voicing.texts) if voicing.texts else text
    return {"text": _sha(title + "\n\n" + text), "spoken": _sha(spoken),
            "sound": _sha("\n".join(voicing.speech_keys()))}


def read_record(path: Path) -> Record:
    """The decisions in ``path`` (none if there is no file); malformed is a one-line error
    naming the file and the line."""
    if not path.is_file():
        return Record(())
    text = read_utf8(path, ReviewError)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        match = re.search(r"at line (\d+)", str(exc))
        problem = re.sub(r"\s*[(]at .*[)]$", "", str(exc))
        raise ReviewError(f"invalid TOML: {problem}", path,
                          int(match.group(1)) if match else None,
                          fix="write the record with broadcast approve, or fix this line"
                          ) from None
    lines = text.split("\n")
    # Where each table starts: the top (0) and each [[earlier]] header.
    starts = [0] + [n for n, line in enumerate(lines) if line.strip() == "[[earlier]]"]
    earlier = data.pop("earlier", [])
    if not isinstance(earlier, list) or not all(isinstance(t, dict) for t in earlier) \
            or len(earlier) != len(starts) - 1:
        raise ReviewError("'earlier' is not a list of [[earlier]] tables", path,
                          starts[1] + 1 if len(starts) > 1 else None,
                          fix="write the record with broadcast approve")
    return Record(tuple(_decision(table, path, lines, start, end) for table, start, end
                        in zip([data, *earlier], starts, [*starts[1:], len(lines)],
                               strict=True)))


def _decision(data: dict, path: Path, lines: list[str], start: int, end: int) -> Decision:
    """One decision's table, checked; ``lines[start:end]`` are its lines."""
    def line_of(key: str) -> int | None:
        return next((n + 1 for n in range(start, end)
                     if lines[n].split("=")[0].strip() == key), start + 1)
    for key in FIELDS:
        value = data.get(key, _OPTIONAL.get(key))
        if not isinstance(value, str):
            raise ReviewError(f"'{key}' is missing or not text", path, line_of(key),
                              fix=f'write {key} = "…"')
    for key in data:
        if key not in FIELDS:
            raise ReviewError(f"unknown key '{key}'", path, line_of(key),
                              fix="remove it")
    if data["decision"] not in DECISIONS:
        raise ReviewError(f"decision = {data['decision']!r}", path, line_of("decision"),
                          fix='write decision = "approved" or "rejected"')
    if not _REVIEWER.match(data["reviewer"]):
        raise ReviewError("the reviewer's name is empty, too long or has control characters",
                          path, line_of("reviewer"), fix='write reviewer = "a name"')
    for key in ("text", "spoken", "sound"):
        if not re.fullmatch(r"[0-9a-f]{64}", data[key]):
            raise ReviewError(f"'{key}' is not a SHA-256", path, line_of(key),
                              fix="write the record with broadcast approve")
    if not re.fullmatch(r"([0-9a-f]{16})?", data.get("over", "")):
        raise ReviewError("'over' is not a decision's id", path, line_of("over"),
                          fix="write the record with broadcast approve")
    return Decision(**{key: str(data.get(key, _OPTIONAL.get(key))) for key in FIELDS})


def review_of(layout: Layout, campaign: str, locale: str, message_id: str, title: str,
              text: str, voicing: Voicing) -> Review:
    """Where the review of a message stands, against the message as it is now."""
    return _against(read_record(layout.review_record(locale, campaign, message_id)),
                    binding(title, text, voicing))


def _against(record: Record, now: dict[str, str]) -> Review:
    decision = record.newest
    if decision is None:
        return Review("waiting")
    changed = tuple(why for key, why in _DIGESTS.items() if getattr(decision, key) != now[key])
    if changed:
        return Review("stale", decision, changed)
    if len(record.decisions) > 1:
        before = record.decisions[1]
        if (decision.over != before.id and before.decision != decision.decision
                and not _against(Record(record.decisions[1:]), now).changed):
            return Review("conflict", decision, other=before)
    return decision.as_review()


def write_decision(layout: Layout, campaign: str, locale: str, message_id: str,
                   title: str, text: str, voicing: Voicing, decision: str, reviewer: str,
                   comment: str = "", replace: bool = False, seen: str | None = None
                   ) -> tuple[Decision, Review]:
    """Record a decision on the message as it is now, the one before kept in the history.

    ``seen``: the id of the newest decision the reviewer was shown ("" for none), from a
    page that may be out of date: the decision is recorded whatever happened meanwhile,
    and a disagreement with a decision they did not see is a conflict. Without ``seen``
    (the command line, which reads the record now), a current decision by another
    reviewer is not replaced without ``replace``: it is shown instead.
    Returns the decision and where the review stands with it."""
    if decision not in DECISIONS:
        raise ReviewError(f"unknown decision '{decision}'", fix="approve or reject")
    if not _REVIEWER.match(reviewer):
        raise ReviewError("the reviewer's name is empty, too long or has control characters",
                          fix="give your name, e.g. --reviewer 'Kim'")
    path = layout.review_record(locale, campaign, message_id)
    now = binding(title, text, voicing)
    record = read_record(path)
    if seen is None:
        current = _against(record, now)
        if (current.decision is not None and current.state != "stale" and not replace
                and current.decision.reviewer != reviewer):
            raise ReviewError(f"{current} meanwhile", path,
                              fix="read their decision; pass --replace to record yours instead")
        seen = record.newest.id if record.newest else ""
    made = Decision(decision, reviewer,
                    datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
                    comment, over=seen, **now)
    record = Record((made, *record.decisions))
    atomic_write(path, record.to_toml().encode("utf-8"))
    return made, _against(record, now)
