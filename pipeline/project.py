"""A content project on disk: configuration, campaigns, locales, and each catalog read once.

The project is where the stages meet: it hands the checks the speech stage's duration
estimates and computes the render gate (:meth:`Project.readiness`). Opening a project and
asking it questions writes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

from .approvals import Review, review_of
from .catalogs.pofile import load_po
from .catalogs.state import CatalogState, read_catalog_state
from .checks import ERROR, Finding, Glossary, load_glossary, readiness
from .config import Config, Voice, load_config
from .content.extract import PROGRAM_PREFIX
from .content.locales import language_of, parse_locale
from .content.placeholders import fill
from .content.sources import Campaign, Program, load_campaigns
from .errors import ConfigError, EngineMissing
from .fsutil import relative, sha256_file
from .layout import Layout
from .voice import recordings
from .voice.engines import Engine, get_engine
from .voice.speech import Voicing, estimate_seconds
from .voice.textnorm import load_lexicon, normalize

__all__ = ["Fallback", "open_project", "Project"]


@dataclass(frozen=True)
class Fallback:
    """A locale spoken by its fallback voice: what was configured, what speaks, why, and
    the command that installs the configured one."""

    configured: str             # engine/voice
    used: str
    why: str
    install: str

    def __str__(self) -> str:
        return (f"spoken by {self.used} instead of {self.configured} ({self.why}; to "
                f"install it: {self.install})")


@dataclass
class Project:
    config: Config
    campaigns: list[Campaign]
    locales: list[str]
    narrowed: bool = False      # opened for some campaigns or locales only
    every_campaign: bool = True     # not narrowed to one campaign
    _catalog_states: dict[tuple[str, str], CatalogState] = field(default_factory=dict, repr=False)
    _gates: dict[tuple[str, str], tuple] = field(default_factory=dict, repr=False)
    _glossaries: dict[str, Glossary] = field(default_factory=dict, repr=False)
    _lexicons: dict[str, list] = field(default_factory=dict, repr=False)
    _spoken: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict, repr=False)
    _pots_read: set[str] = field(default_factory=set, repr=False)
    _whole: "Project | None" = field(default=None, repr=False)
    _voices: dict[str, Voice] = field(default_factory=dict, repr=False)
    fallbacks: dict[str, "Fallback"] = field(default_factory=dict)   # locale → why
    locales_asked: bool = False     # the locales were named on the command line

    @property
    def shipping(self) -> list[str]:
        """The locales whose audio is rendered and bundled: those listed in broadcast.toml's
        ``locales``, or those named on the command line. A locale that only has a catalog
        (``broadcast init de``) is being translated: it ships once it is listed."""
        if self.locales_asked:
            return self.locales
        return [code for code in self.locales if code in self.config.locales]

    @property
    def root(self) -> Path:
        return self.config.root

    @property
    def layout(self) -> Layout:
        return self.config.layout

    def whole(self) -> "Project":
        """The whole project (every campaign and locale), read once per command: a project
        narrowed to some locales only lends it its campaigns and what it has read of
        their catalogs."""
        if not self.narrowed:
            return self
        if self._whole is None:
            if not self.every_campaign:
                self._whole = open_project(self.root)
            else:
                whole = Project(self.config, self.campaigns, _every_locale(self.config))
                whole._catalog_states.update(self._catalog_states)
                whole._gates.update(self._gates)
                whole._glossaries.update(self._glossaries)
                whole._lexicons.update(self._lexicons)
                whole._pots_read |= self._pots_read
                self._whole = whole
        return self._whole

    def rel(self, path: Path) -> str:
        """``path`` as the user knows it: relative to the project root when inside it."""
        return relative(path, self.root)

    # --- catalogs ----------------------------------------------------------------------

    def validate_catalogs(self) -> None:
        """Read every catalog strictly before any is written: one bad file, no writes."""
        for c in self.campaigns:
            for locale in self.locales:
                self.catalog_state(c, locale)
            pot = self.layout.pot(c.name)
            if c.name not in self._pots_read and pot.exists():
                load_po(pot, shared=True)
                self._pots_read.add(c.name)

    def catalog_state(self, campaign: Campaign, locale: str) -> CatalogState:
        """The state of every unit, read from the catalog once per project."""
        key = (campaign.name, locale)
        if key not in self._catalog_states:
            self._catalog_states[key] = read_catalog_state(
                campaign, self.layout.po(locale, campaign.name), locale)
        return self._catalog_states[key]

    def forget_catalogs(self) -> None:
        """Drop what was read, after a command rewrote catalogs."""
        self._catalog_states.clear()
        self._gates.clear()
        self._spoken.clear()
        self._pots_read.clear()
        self._whole = None

    # --- voices ------------------------------------------------------------------------

    def voice(self, locale: str) -> Voice:
        """The voice that speaks ``locale`` on this machine: the configured one, or its
        fallback where the configured engine or voice is not installed (then
        :attr:`fallbacks` says so, for the build, ``status`` and the manifests)."""
        if locale not in self._voices:
            configured = self.config.voice_for(locale)
            chosen = configured
            if configured.recordings != "require":
                try:
                    self._engine(configured, locale)
                except EngineMissing as exc:
                    if configured.fallback is None:
                        raise exc.at(self.layout.config_file.name,
                                     f"[voices.{locale}] {configured.label}:") from None
                    chosen = replace(configured.fallback, recordings=configured.recordings)
                    self.fallbacks[locale] = Fallback(configured.label, chosen.label,
                                                      exc.message, exc.fix or "")
            self._voices[locale] = chosen
        return self._voices[locale]

    def engine(self, locale: str) -> Engine:
        """The locale's engine built with its options (validated by the engine)."""
        return self._engine(self.voice(locale), locale)

    def _engine(self, voice: Voice, locale: str) -> Engine:
        try:
            engine = get_engine(voice.engine, voice.options)
        except ConfigError as exc:
            raise exc.at(self.layout.config_file.name, f"[voices.{locale}]") from None
        check = getattr(engine, "check_voice", None)
        if check is not None:
            check(voice.voice)
        return engine

    def validate_voices(self) -> None:
        """Build every configured locale's engine once: bad options fail before any work
        (and a speech check without its recognizer)."""
        for locale in self.locales:
            if self.voice(locale).recordings != "require":
                self.engine(locale)
        if self.config.speech_check:
            from .voice.asr import judge_id
            judge_id()

    def lexicon(self, locale: str) -> list[tuple[str, str]]:
        if locale not in self._lexicons:
            self._lexicons[locale] = load_lexicon(self.layout.lexicon(locale), locale)
        return self._lexicons[locale]

    def glossary(self, locale: str) -> Glossary:
        if locale not in self._glossaries:
            self._glossaries[locale] = load_glossary(self.layout.glossary(locale))
        return self._glossaries[locale]

    def paragraphs(self, campaign: Campaign, locale: str, message_id: str) -> list[str]:
        """The translated paragraphs of a ready message, variables filled in."""
        return self.catalog_state(campaign, locale).translation(message_id, campaign.variables)[1]

    def spoken(self, campaign: Campaign, locale: str, message_id: str) -> list[str]:
        """The paragraphs as the voice reads them (normalized for the locale)."""
        lexicon = self.lexicon(locale)
        return [normalize(p, locale, lexicon)
                for p in self.paragraphs(campaign, locale, message_id)]

    def recording(self, campaign: Campaign, locale: str, message_id: str) -> recordings.Recording:
        text = "\n\n".join(self.paragraphs(campaign, locale, message_id))
        return recordings.find(self.layout.recordings_dir(locale), message_id, text, self.root)

    def take_heard(self, campaign: Campaign, locale: str, message_id: str,
                   rec: recordings.Recording, hear: bool, digest: str | None = None
                   ) -> tuple[str, str | None]:
        """Whether a fresh take was heard saying its text: ``("heard", None)``,
        ``("refused", why)`` (a speech-match error: another message's text, a take that
        stops early or does not say its text) or ``("not heard", why)`` (no recognizer, or,
        without ``hear``, not heard yet). Transcripts are cached by the take's hash, so a
        take is heard once, before it is first used."""
        from .audio.codec import decode
        from .errors import AudioFileError
        from .voice import asr
        assert rec.path is not None
        if not asr.available():
            return "not heard", f"not heard: the recognizer is not installed ({asr.INSTALL})"
        cache = self.layout.transcript_cache
        digest = digest or sha256_file(rec.path)       # the take is read once for it
        heard = asr.heard_before(rec.path, locale, cache, digest)
        if heard is None:
            if not hear:
                return "not heard", "not heard yet (the next render hears it)"
            try:        # decoded as every take is (a plain audio file, within its limit)
                audio = decode(rec.path, asr.RATE, campaign.message(message_id).max_seconds)
            except AudioFileError as exc:     # (a machine fault, no ffmpeg, is raised)
                return "refused", f"{self.rel(rec.path)}: {exc.message}"
            heard = asr.transcribe(rec.path, locale, cache, audio.samples, digest)
        texts = self.spoken_texts(campaign, locale)
        own = texts.get(message_id) or " ".join(self.spoken(campaign, locale, message_id))
        others = {mid: t for mid, t in texts.items() if mid != message_id}
        verdict = asr.assess(heard, own, others, locale, "recording")
        if verdict.severity == "error":
            return "refused", (f"{self.rel(rec.path)} failed the speech check: "
                               f"{verdict.problem}; file this message's own take under "
                               "this name, or record it again")
        return "heard", None

    def spoken_texts(self, campaign: Campaign, locale: str) -> dict[str, str]:
        """The spoken text of every ready message of a locale (worked out once: every take
        of the locale is held to all of them)."""
        key = (campaign.name, locale)
        if key not in self._spoken:
            reasons, _ = self.readiness(campaign, locale)
            self._spoken[key] = {mid: " ".join(self.spoken(campaign, locale, mid))
                                 for mid, reason in reasons.items() if reason is None}
        return self._spoken[key]

    def voicing(self, campaign: Campaign, locale: str, message_id: str) -> Voicing | str:
        """How a ready message is voiced, or why it cannot be (a required recording, or a
        take heard saying something else)."""
        voice = self.voice(locale)
        if voice.recordings != "ignore":
            rec = self.recording(campaign, locale, message_id)
            if rec.usable and rec.path is not None:
                digest = sha256_file(rec.path)
                state, why = self.take_heard(campaign, locale, message_id, rec, True, digest)
                if state == "refused":
                    return f"recording refused: {why}"
                return Voicing(locale, recording=rec.path.relative_to(self.root).as_posix(),
                               recording_sha256=digest,
                               max_seconds=campaign.message(message_id).max_seconds)
            if voice.recordings == "require":
                return f"recording required: {recordings.describe(rec)}"
        self.engine(locale)                 # bad options fail here, in the parent process
        # The configured options travel with the job: a worker builds the same engine.
        return Voicing(locale, engine=voice.engine, voice=voice.voice,
                       options=tuple(sorted(voice.options.items())),
                       texts=tuple(self.spoken(campaign, locale, message_id)),
                       timeout=self.config.synthesis_timeout,
                       instead_of=str(self.fallbacks[locale]) if locale in self.fallbacks
                       else "")

    # --- reviews -----------------------------------------------------------------------

    def review(self, campaign: Campaign, locale: str, message_id: str, title: str,
               text: str, voicing: Voicing) -> Review:
        """Where a native reviewer's decision on the message, as it is now, stands."""
        return review_of(self.layout, campaign.name, locale, message_id, title, text, voicing)

    def reviews(self, campaign: Campaign, locale: str) -> dict[str, Review]:
        """The review of every ready message that can be voiced."""
        return {m.id: self.review(campaign, locale, m.id, *heard) for m in campaign.messages
                if not isinstance(heard := self.heard_as(campaign, locale, m.id), str)}

    def heard_as(self, campaign: Campaign, locale: str, message_id: str
                 ) -> tuple[str, str, Voicing] | str:
        """What a listener of the message hears: its translated title and text (with
        placeholders filled) and how it is voiced; or why it is not ready to be heard."""
        reason = self.readiness(campaign, locale)[0][message_id]
        if reason is not None:
            return reason
        voicing = self.voicing(campaign, locale, message_id)
        if isinstance(voicing, str):
            return voicing
        title, paragraphs = self.catalog_state(campaign, locale).translation(
            message_id, campaign.variables)
        return title, "\n\n".join(paragraphs), voicing

    # --- the gate ----------------------------------------------------------------------

    def durations(self, campaign: Campaign, locale: str) -> dict[str, float]:
        """Predicted spoken seconds of each fully translated message (no synthesis)."""
        if self.voice(locale).recordings == "require":
            return {}           # no voice to predict: recordings are measured when used
        engine, language = self.engine(locale), language_of(locale)
        reasons = self.catalog_state(campaign, locale).message_reasons(campaign)
        return {m.id: estimate_seconds(self.spoken(campaign, locale, m.id), engine, language)
                for m in campaign.messages if m.max_seconds and reasons[m.id] is None}

    def findings(self) -> list[Finding]:
        """Every check finding of every campaign and locale."""
        return [f for c in self.campaigns for locale in self.locales
                for f in self.readiness(c, locale)[1]]

    def programs(self, campaign: Campaign, locale: str) -> list[Program]:
        """The campaign's programs, each titled in ``locale`` where its title's unit is
        translated (not fuzzy) and no check fails on it; else with the source title."""
        st = self.catalog_state(campaign, locale)
        failed = {f.message for f in self.readiness(campaign, locale)[1] if f.severity == ERROR}
        out = []
        for program in campaign.programs:
            unit = PROGRAM_PREFIX + program.id
            title = st.title_of(unit) if unit not in failed else None
            out.append(replace(program, title=fill(title, campaign.variables))
                       if title else program)
        return out

    def readiness(self, campaign: Campaign, locale: str
                  ) -> tuple[dict[str, str | None], list[Finding]]:
        """Per message, None if ready or why not; and the check findings behind it."""
        key = (campaign.name, locale)
        if key not in self._gates:
            st = self.catalog_state(campaign, locale)
            self._gates[key] = readiness(campaign, st, self.glossary(locale),
                                         self.durations(campaign, locale), self.rel(st.path))
        return self._gates[key]


def open_project(root: Path, campaign: str | None = None,
                 locales: list[str] | None = None) -> Project:
    """Load configuration and campaigns, validated; ``locales`` narrows the locales."""
    config = load_config(Path(root))
    campaigns = load_campaigns(config.layout, campaign)
    known = _every_locale(config)
    if locales:
        for code in locales:
            parse_locale(code)
        known = list(dict.fromkeys(locales))
    return Project(config, campaigns, known, narrowed=bool(campaign or locales),
                   every_campaign=not campaign, locales_asked=bool(locales))


def _every_locale(config: Config) -> list[str]:
    """The configured locales, then any other that has a catalog folder."""
    known = list(config.locales)
    for code in config.layout.catalog_locales():
        if code not in known:
            known.append(code)
    return known
