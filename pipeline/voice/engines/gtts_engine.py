"""Google's online TTS through gTTS, for when a network is present.

gTTS builds the request bodies (``get_bodies()``); this module sends them itself, so that
retries, time-outs and certificate checks are ours: exponential backoff with jitter on 429, 5xx,
time-outs and connection errors, a bounded number of tries, and a clear error offline.
Text is cut by our own tokenizer at sentence, then clause, then word boundaries under
gTTS's 100-character limit, and the pieces are joined with the pause a speaker makes.
"""

from __future__ import annotations

import base64
import random
import re
import time
import warnings
from importlib.metadata import version as package_version

import numpy as np

from ...audio.dsp import Audio, concat
from ...errors import EngineError
from . import OptionError, SpeechRequest, check_options

__all__ = ["CLAUSE_PAUSE_S", "gtts_language", "GttsEngine", "MAX_CHARS", "OPTIONS",
           "RETRIABLE", "SECONDS_PER_CHAR", "SENTENCE_PAUSE_S", "TLD_RE", "tokenize"]

MAX_CHARS = 100
SENTENCE_PAUSE_S = 0.30
CLAUSE_PAUSE_S = 0.12
RETRIABLE = {429, 500, 502, 503, 504}

_SENTENCE_END = re.compile(r"(?<=[.!?。！？])\s+")
_CLAUSE_END = re.compile(r"(?<=[,;:，、])\s+|\s+(?=[—–-]\s)")


def tokenize(text: str, limit: int = MAX_CHARS) -> list[tuple[str, str]]:
    """Cut ``text`` into ``(piece, pause)`` pairs, each piece at most ``limit`` characters.

    ``pause`` is ``"sentence"``, ``"clause"`` or ``"word"``: where the piece ends.
    """
    pieces: list[tuple[str, str]] = []
    for sentence in (s.strip() for s in _SENTENCE_END.split(text.strip())):
        if not sentence:
            continue
        if len(sentence) <= limit:
            pieces.append((sentence, "sentence"))
            continue
        clauses = [c.strip() for c in _CLAUSE_END.split(sentence) if c.strip()]
        packed = _pack(clauses, limit, "clause")
        packed[-1] = (packed[-1][0], "sentence")
        pieces += packed
    return pieces


def _pack(parts: list[str], limit: int, kind: str) -> list[tuple[str, str]]:
    """Join neighbouring parts while they fit; split a part that alone is too long."""
    out: list[tuple[str, str]] = []
    current = ""
    for part in parts:
        if len(part) > limit:
            if current:
                out.append((current, kind))
                current = ""
            words = part.split()
            out += _pack(words, limit, "word") if len(words) > 1 else \
                [(part[i:i + limit], "word") for i in range(0, len(part), limit)]
            continue
        candidate = f"{current} {part}".strip()
        if len(candidate) <= limit:
            current = candidate
        else:
            out.append((current, kind))
            current = part
    if current:
        out.append((current, kind))
    return out


def gtts_language(locale: str) -> str:
    return locale.split("_")[0].lower()


# Google's voices speak at about this many seconds per character (duration estimates).
SECONDS_PER_CHAR = {"ko": 0.16, "ru": 0.075, "uk": 0.075, "en": 0.07}
OPTIONS = {"tld": (str, None, None), "slow": (bool, None, None),
           "retries": (int, 0, 10), "timeout": (float, 1, 300)}


# Google's own domains: google.com, google.co.XX, google.com.XX, google.XX. Letters and
# dots only, so that the host a text is sent to can never be another ("com@host:port").
TLD_RE = re.compile(r"\A(?:(?:com|co)(?:\.[a-z]{2})?|[a-z]{2})\Z")


class GttsEngine:
    """Options: ``tld`` (Google's domain, e.g. "com"), ``slow``, ``retries``, ``timeout``."""

    name = "gtts"
    offline = False
    OPTIONS = OPTIONS

    @classmethod
    def from_options(cls, options) -> "GttsEngine":
        checked = check_options(options, OPTIONS)
        tld = checked.get("tld", "com")
        if not TLD_RE.match(tld):
            raise OptionError("tld", f"'{tld}' is not one of Google's domains",
                              'write e.g. tld = "com", "co.uk" or "com.au" (the texts are '
                              "sent to translate.google.<tld>)")
        return cls(**checked)

    def options(self) -> dict:
        return {"tld": self.tld, "slow": self.slow}    # what changes the audio

    def seconds_per_char(self, language: str) -> float:
        return SECONDS_PER_CHAR.get(language, 0.08) * (1.5 if self.slow else 1.0)

    def __init__(self, tld: str = "com", slow: bool = False, session=None,
                 url: str | None = None, retries: int = 4, backoff: float = 1.0,
                 timeout: float = 15.0, sleep=time.sleep, jitter=None):
        self.tld, self.slow = tld, slow
        self._session = session
        self._url = url
        self.retries = retries
        self.backoff = backoff
        self.timeout = timeout
        self._sleep = sleep
        # Each wait is drawn from [½, 1] of the exponential step, so that many clients
        # refused at once (a 429 storm) do not all come back at the same moment.
        self._jitter = jitter or (lambda: random.uniform(0.5, 1.0))

    def version(self) -> str:
        return f"gTTS {package_version('gTTS')}"

    def _requests(self, text: str, locale: str) -> list[tuple[str, str]]:
        """(url, body) for one piece of text, as gTTS would send it."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from gtts import gTTS
            from gtts.utils import _translate_url
            tts = gTTS(text, lang=gtts_language(locale), tld=self.tld, slow=self.slow,
                       lang_check=False)
            url = self._url or _translate_url(tld=self.tld,
                                              path="_/TranslateWebserverUi/data/batchexecute")
            return [(url, body) for body in tts.get_bodies()]

    def _send(self, url: str, body: str) -> bytes:
        import requests
        session = self._session or requests.Session()
        headers = {"Referer": "http://translate.google.com/",
                   "User-Agent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64)",
                   "Content-Type": "application/x-www-form-urlencoded;charset=utf-8"}
        last = ""
        for attempt in range(self.retries + 1):
            wait = self.backoff * (2 ** attempt) * self._jitter()
            try:
                reply = session.post(url, data=body, headers=headers, timeout=self.timeout)
            except requests.exceptions.Timeout:
                last = "the service did not answer in time"
            except requests.exceptions.ConnectionError:
                last = "no connection to Google's TTS service (offline?)"
            else:
                if reply.status_code == 200:
                    return _audio_of(reply.text)
                if reply.status_code not in RETRIABLE:
                    raise EngineError(f"Google's TTS service answered HTTP {reply.status_code}",
                                      fix="check the locale's language and tld")
                last = f"Google's TTS service answered HTTP {reply.status_code}"
                retry_after = reply.headers.get("Retry-After", "")
                if retry_after.isdigit():
                    wait = max(wait, min(float(retry_after), 60.0))
            if attempt < self.retries:
                self._sleep(wait)
        offline = last.startswith("no connection")
        raise EngineError(f"{last}; gave up after {self.retries + 1} tries",
                          fix=("connect to the network, or set engine = \"espeak\" for this "
                               "locale") if offline else
                              "try again later, or use the espeak engine for this locale")

    def synthesize(self, request: SpeechRequest) -> Audio:
        from ...audio.codec import decode
        parts: list[Audio] = []
        for piece, pause in tokenize(request.text):
            mp3 = b"".join(self._send(url, body)
                           for url, body in self._requests(piece, request.locale))
            parts.append(decode(mp3, 24000))
            seconds = {"sentence": SENTENCE_PAUSE_S, "clause": CLAUSE_PAUSE_S}.get(pause, 0.0)
            if seconds:
                parts.append(Audio.silence(seconds, 24000))
        if not parts:
            return Audio(np.zeros(0, np.float32), 24000)
        return concat(parts)


def _audio_of(reply_text: str) -> bytes:
    """The MP3 bytes inside a batchexecute reply (the way gTTS reads them)."""
    chunks = []
    for line in reply_text.split("\n"):
        if "jQ1olc" in line:
            match = re.search(r'jQ1olc","\[\\"(.*)\\"]', line)
            if not match:
                raise EngineError("Google's TTS service sent no audio for this text",
                                  fix="check that the language supports speech in gTTS")
            chunks.append(base64.b64decode(match.group(1).encode("ascii")))
    if not chunks:
        raise EngineError("Google's TTS service sent an unexpected reply",
                          fix="update gTTS (pip install -U gTTS); the service may have changed")
    return b"".join(chunks)
