"""The render plan: what to render from what, as pure data (no audio, no files written).

Only messages that pass the gate (:meth:`pipeline.project.Project.readiness`) are planned;
everything else is listed as skipped with its reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..content.placeholders import fill
from ..content.sources import Campaign, Program
from ..project import Project
from ..voice.speech import Voicing

__all__ = ["LocalePlan", "MessageJob", "plan"]


@dataclass(frozen=True)
class MessageJob:
    campaign: str
    locale: str
    message_id: str
    title: str                          # translated
    text: str                           # translated, placeholders filled
    voicing: Voicing
    source_text: str = ""               # the source-language text, for reviewers
    speech_check: bool = False          # hear each rendered file and measure its CER
    approved: str = ""                  # when a native reviewer approved it (if required)


@dataclass
class LocalePlan:
    campaign: Campaign
    locale: str
    jobs: list[MessageJob] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)     # message id → why
    programs: list[Program] = field(default_factory=list)     # titled in the locale

    def job(self, message_id: str) -> MessageJob | None:
        return next((j for j in self.jobs if j.message_id == message_id), None)


def plan(project: Project, reviewed: bool = True) -> list[LocalePlan]:
    """What to render: ready messages and how to voice them, and what is skipped and why.
    ``reviewed=False``: leave out the native review's gate (what a reviewer listens to)."""
    plans = []
    for campaign in project.campaigns:
        for locale in project.shipping:
            lp = LocalePlan(campaign, locale, programs=project.programs(campaign, locale))
            for message in campaign.messages:
                heard = project.heard_as(campaign, locale, message.id)
                if isinstance(heard, str):
                    lp.skipped[message.id] = heard
                    continue
                title, text, voicing = heard
                approved = ""
                if reviewed and project.config.review_required(locale):
                    review = project.review(campaign, locale, message.id, title, text, voicing)
                    if review.state != "approved" or review.decision is None:
                        lp.skipped[message.id] = review.without_names()
                        continue
                    approved = review.decision.when
                lp.jobs.append(MessageJob(campaign.name, locale, message.id, title,
                                          text, voicing,
                                          fill(message.text, campaign.variables),
                                          project.config.speech_check, approved))
            plans.append(lp)
    return plans
