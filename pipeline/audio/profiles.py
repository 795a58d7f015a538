"""Output profiles: what a radio station, a USB stick or a shortwave transmitter needs.

Profiles are data. The built-in defaults below can be overridden or extended in
``broadcast.toml`` under ``[profiles.NAME]``; every value is checked for type, range and
sense here, so that a bad value is one clear line, never a failure deep in a render.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Literal

from ..errors import ConfigError
from ..values import KIND_NAMES, is_kind

__all__ = ["DEFAULT_PROFILES", "MIN_HEADROOM_LU", "MP3_BITRATES", "Profile", "SAMPLE_RATES"]

SAMPLE_RATES = (8000, 11025, 16000, 22050, 24000, 32000, 44100, 48000)
MP3_BITRATES = (32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320)
MIN_HEADROOM_LU = 3.0           # speech peaks stand at least this far over its loudness


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
        values = dataclasses.asdict(base) if base else {}
        values.update(data)
        values["name"] = name
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
          "highpass_hz": float, "lead_in": float, "lead_out": float, "title_tag": bool}


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


DEFAULT_PROFILES: dict[str, Profile] = {
    "radio": Profile("radio", "wav", 48000, -23.0, 0.5, -1.0),
    "usb": Profile("usb", "mp3", 44100, -16.0, 1.0, -1.0, bitrate_kbps=128),
    "shortwave": Profile("shortwave", "wav", 22050, -23.0, 0.5, -1.0,
                         lowpass_hz=4500.0, highpass_hz=100.0),
}
