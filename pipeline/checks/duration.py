"""The ``duration`` check: a message's spoken length against its ``max_seconds``.

The length is the speech stage's estimate, handed in: checks synthesize nothing.
"""

from __future__ import annotations

from .registry import ERROR, WARNING, MessageContext, message_check

__all__ = ["duration", "DURATION_WARN"]

DURATION_WARN = 0.9             # warn above this share of max_seconds


@message_check("duration")
def duration(ctx: MessageContext):
    for m in ctx.campaign.messages:
        seconds = ctx.durations.get(m.id)
        if not m.max_seconds or seconds is None:
            continue
        if seconds > m.max_seconds:
            yield m.id, ERROR, (f"predicted {seconds:.0f} s is over max_seconds "
                                f"{m.max_seconds:g}; shorten the translation or raise "
                                "max_seconds")
        elif seconds > DURATION_WARN * m.max_seconds:
            yield m.id, WARNING, (f"predicted {seconds:.0f} s is close to max_seconds "
                                  f"{m.max_seconds:g}; consider shortening")
