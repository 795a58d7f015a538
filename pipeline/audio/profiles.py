"""Output profiles: what a radio station, a USB stick or a shortwave transmitter needs.

Profiles are data. The built-in defaults below can be overridden or extended in
``broadcast.toml`` under ``[profiles.NAME]``; every value is checked for type, range and
sense here, so that a bad value is one clear line, never a failure deep in a render.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Literal

from ..errors import ConfigError
from ..values import KIND_NAMES, is_kind

__all__ = ["DEFAULT_PROFILES", "MIN_HEADROOM_LU", "MP3_BITRATES", "Processing", "Profile",
           "SAMPLE_RATES", "SHORTWAVE_PROCESSING", "FM_PROCESSING"]

SAMPLE_RATES = (8000, 11025, 16000, 22050, 24000, 32000, 44100, 48000)
MP3_BITRATES = (32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320)
MIN_HEADROOM_LU = 3.0           # speech peaks stand at least this far over its loudness


@dataclass(frozen=True)
class Processing:
    """A transmitter's processing chain (:mod:`.processing` says what each step does)."""

    highpass_hz: float = 0.0
    shelf_hz: float = 0.0
    shelf_db: float = 0.0
    bands: tuple[float, ...] = ()       # crossovers, Hz; empty: wideband compression
    ratio: float = 1.0                  # 1: no compression
    threshold_db: float = -10.0         # over each band's active level
    attack_ms: float = 5.0
    release_ms: float = 80.0
    clip_db: float = 0.0                # peaks clipped off; 0: no clipper
    clip_lowpass_hz: float = 0.0        # 0: the profile's low-pass edge

    @classmethod
    def from_dict(cls, data: object, where: str, source: str,
                  base: "Processing | None") -> "Processing | None":
        """``false`` (none), or a table over the base profile's chain; ``where`` is the
        profile's table (``[profiles.NAME]``)."""
        table = f"{where[:-1]}.processing]"
        if data is False:
            return None
        if not isinstance(data, dict):
            raise ConfigError(f"{where} processing must be a table or false", source,
                              fix=f"write it as {table}, or processing = false")
        defaults = dataclasses.asdict(base or cls())
        unknown = sorted(set(data) - set(defaults))
        if unknown:
            raise ConfigError(f"unknown key '{unknown[0]}' in {table}", source,
                              fix=f"use one of: {', '.join(sorted(defaults))}")
        values: dict[str, Any] = {**defaults, **data}
        bands = values["bands"]
        if not isinstance(bands, (list, tuple)) or not all(
                is_kind(b, float) and 20 <= b <= 20000 for b in bands) \
                or list(bands) != sorted(set(bands)):
            raise ConfigError(f"{table} bands = {bands!r} is not a rising list of crossover "
                              "frequencies", source,
                              fix="write e.g. bands = [1000, 2500], or [] for wideband")
        values["bands"] = tuple(float(b) for b in bands)
        for key, (low, high) in _PROCESSING_LIMITS.items():
            value = values[key]
            if not is_kind(value, float) or not low <= value <= high:
                raise ConfigError(f"{table} {key} = {value!r} is not a number in "
                                  f"{low:g}..{high:g}", source,
                                  fix=f"write e.g. {key} = {getattr(cls(), key)!r}")
            values[key] = float(value)
        if values["shelf_db"] and not values["shelf_hz"]:
            raise ConfigError(f"{table} shelf_db needs shelf_hz", source,
                              fix="write e.g. shelf_hz = 2500")
        return cls(**values)


_PROCESSING_LIMITS = {"highpass_hz": (0, 1000), "shelf_hz": (0, 20000), "shelf_db": (-12, 24),
                      "ratio": (1, 100), "threshold_db": (-60, 20), "attack_ms": (0.1, 1000),
                      "release_ms": (1, 5000), "clip_db": (0, 24), "clip_lowpass_hz": (0, 24000)}


@dataclass(frozen=True)
class Profile:
    name: str
    format: Literal["wav", "mp3"]   # "wav" (PCM 16-bit) or "mp3" (CBR)
    sample_rate: int
    target_lufs: float
    tolerance_lu: float
    max_true_peak: float        # dBTP
    bitrate_kbps: int = 0       # mp3 only
    lowpass_hz: float = 0.0     # 0: no band limit
    highpass_hz: float = 0.0
    lead_in: float = 0.3        # seconds of silence before speech
    lead_out: float = 0.5       # seconds of silence after speech
    title_tag: bool = False     # mp3 only: write an ID3 title (UTF-8), nothing else
    # What a station's playout reads (.tags): title, campaign, loudness; radio only.
    playout_tags: bool = False
    processing: Processing | None = None    # a transmitter's chain, before the limiter

    @property
    def ext(self) -> str:
        return self.format

    @classmethod
    def from_dict(cls, name: str, data: dict, base: "Profile | None" = None,
                  source: str = "broadcast.toml") -> "Profile":
        fields = {f.name for f in dataclasses.fields(cls)} - {"name"}
        where = f"[profiles.{name}]"
        unknown = sorted(set(data) - fields)
        if unknown:
            raise ConfigError(f"unknown key '{unknown[0]}' in {where}", source,
                              fix=f"use one of: {', '.join(sorted(fields))}")
        values = {f.name: getattr(base, f.name) for f in dataclasses.fields(base)} if base else {}
        values.update(data)
        values["name"] = name
        if "processing" in data:
            values["processing"] = Processing.from_dict(
                data["processing"], where, source, base.processing if base else None)
        required = [m for m in ("format", "sample_rate", "target_lufs", "tolerance_lu",
                                "max_true_peak") if m not in values]
        if required:
            raise ConfigError(f"{where} lacks '{required[0]}'", source,
                              fix="add it, or name an existing profile to start from "
                                  "with base = \"radio\"")
        if values["format"] not in ("wav", "mp3"):
            raise ConfigError(f"{where} format '{values['format']}' is not supported",
                              source, fix="use 'wav' or 'mp3'")
        if values["format"] == "mp3" and not values.get("bitrate_kbps"):
            values["bitrate_kbps"] = 128
        _check_types(values, where, source)
        profile = cls(**values)
        profile._check_sense(where, source)
        return profile

    def _check_sense(self, where: str, source: str) -> None:
        def bad(problem: str, fix: str) -> ConfigError:
            return ConfigError(f"{where} {problem}", source, fix=fix)
        if self.sample_rate not in SAMPLE_RATES:
            raise bad(f"sample_rate {self.sample_rate} is not a broadcast rate",
                      f"use one of: {', '.join(map(str, SAMPLE_RATES))}")
        if self.format == "mp3" and self.bitrate_kbps not in MP3_BITRATES:
            raise bad(f"bitrate_kbps {self.bitrate_kbps} is not an MP3 bitrate",
                      f"use one of: {', '.join(map(str, MP3_BITRATES))}")
        if not -70 <= self.target_lufs <= 0:
            raise bad(f"target_lufs {self.target_lufs:g} is outside -70..0",
                      "broadcast targets are e.g. -23 (EBU R 128) or -16 (portable players)")
        if not -20 <= self.max_true_peak <= 0:
            raise bad(f"max_true_peak {self.max_true_peak:g} is outside -20..0 dBTP",
                      "use e.g. -1 (EBU R 128)")
        if self.target_lufs > self.max_true_peak - MIN_HEADROOM_LU:
            raise bad(f"target_lufs {self.target_lufs:g} is not below max_true_peak "
                      f"{self.max_true_peak:g} by {MIN_HEADROOM_LU:g} LU: speech at that "
                      "loudness cannot stay under the ceiling",
                      "lower target_lufs (e.g. -23 or -16) or raise max_true_peak")
        if not 0 < self.tolerance_lu <= 10:
            raise bad(f"tolerance_lu {self.tolerance_lu:g} is outside 0..10",
                      "use e.g. 0.5 (EBU R 128) or 1")
        nyquist = self.sample_rate / 2
        if self.lowpass_hz and not 0 < self.lowpass_hz < nyquist:
            raise bad(f"lowpass_hz {self.lowpass_hz:g} is not below half the sample rate "
                      f"({nyquist:g} Hz)", "lower lowpass_hz, or set it to 0 for none")
        if self.highpass_hz and not 0 < self.highpass_hz < (self.lowpass_hz or nyquist):
            raise bad(f"highpass_hz {self.highpass_hz:g} is not between 0 and the low-pass "
                      "edge", "lower highpass_hz, or set it to 0 for none")
        for key in ("lead_in", "lead_out"):
            if not 0 <= getattr(self, key) <= 10:
                raise bad(f"{key} {getattr(self, key):g} is outside 0..10 seconds",
                          f"write e.g. {key} = 0.5")


_TYPES = {"format": str, "sample_rate": int, "target_lufs": float, "tolerance_lu": float,
          "max_true_peak": float, "bitrate_kbps": int, "lowpass_hz": float,
          "highpass_hz": float, "lead_in": float, "lead_out": float, "title_tag": bool,
          "playout_tags": bool}


def _check_types(values: dict, where: str, source: str) -> None:
    for key, kind in _TYPES.items():
        value = values.get(key)
        if value is None:
            continue
        if not is_kind(value, kind):
            example = {bool: "true", int: "48000", float: "-23.0", str: '"wav"'}[kind]
            raise ConfigError(f"{where} {key} = {value!r} is not {KIND_NAMES[kind]}", source,
                              fix=f"write e.g. {key} = {example}")
        if kind is float:
            values[key] = float(value)


# Chosen by measurement (scripts/intelligibility.py --channel): pre-emphasis of the
# consonants' band, three-band compression, 12 dB of band-limited clipping.
SHORTWAVE_PROCESSING = Processing(highpass_hz=150.0, shelf_hz=2500.0, shelf_db=12.0,
                                  bands=(1000.0, 2500.0), ratio=4.0, threshold_db=-6.0,
                                  attack_ms=5.0, release_ms=80.0, clip_db=12.0)

FM_PROCESSING = dataclasses.replace(SHORTWAVE_PROCESSING, shelf_db=6.0)

DEFAULT_PROFILES: dict[str, Profile] = {
    "radio": Profile("radio", "wav", 48000, -23.0, 0.5, -1.0, playout_tags=True),
    "usb": Profile("usb", "mp3", 44100, -16.0, 1.0, -1.0, bitrate_kbps=128),
    # Modulation, not studio loudness: peaks at full modulation (less 1 dB) and speech
    # made dense by the chain (peak-to-loudness about 9 dB), so -10 LUFS; measured through
    # the channel simulator (docs/voices.md).
    "shortwave": Profile("shortwave", "wav", 22050, -10.0, 0.5, -1.0,
                         lowpass_hz=4500.0, highpass_hz=100.0,
                         processing=SHORTWAVE_PROCESSING),
    # FM relays: the 15 kHz band, lighter pre-emphasis (FM adds its own 50 µs); not in
    # the default render (ask for it: --profile fm, or [render] profiles).
    "fm": Profile("fm", "wav", 32000, -9.0, 0.5, -1.0, lowpass_hz=15000.0,
                  highpass_hz=50.0, processing=FM_PROCESSING),
}
