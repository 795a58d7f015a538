"""Output profiles: what a radio station, a USB stick or a shortwave transmitter needs.

Profiles are data. The built-in defaults below can be overridden or extended in
``broadcast.toml`` under ``[profiles.NAME]``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from .errors import ConfigError


@dataclass(frozen=True)
class Profile:
    name: str
    format: str                 # "wav" (PCM 16-bit) or "mp3" (CBR)
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
        unknown = sorted(set(data) - fields)
        if unknown:
            raise ConfigError(f"unknown key '{unknown[0]}' in [profiles.{name}]", source,
                              fix=f"use one of: {', '.join(sorted(fields))}")
        values = dataclasses.asdict(base) if base else {}
        values.update(data)
        values["name"] = name
        missing = sorted(fields - set(values))
        required = [m for m in missing if m in ("format", "sample_rate", "target_lufs",
                                               "tolerance_lu", "max_true_peak")]
        if required:
            raise ConfigError(f"[profiles.{name}] lacks '{required[0]}'", source,
                              fix="add it, or name an existing profile to start from")
        if values["format"] not in ("wav", "mp3"):
            raise ConfigError(f"[profiles.{name}] format '{values['format']}' is not supported",
                              source, fix="use 'wav' or 'mp3'")
        if values["format"] == "mp3" and not values.get("bitrate_kbps"):
            values["bitrate_kbps"] = 128
        try:
            return cls(**values)
        except TypeError as exc:
            raise ConfigError(f"[profiles.{name}] is invalid: {exc}", source,
                              fix="check the value types") from None


DEFAULT_PROFILES: dict[str, Profile] = {
    "radio": Profile("radio", "wav", 48000, -23.0, 0.5, -1.0),
    "usb": Profile("usb", "mp3", 44100, -16.0, 1.0, -1.0, bitrate_kbps=128),
    "shortwave": Profile("shortwave", "wav", 22050, -23.0, 0.5, -1.0,
                         lowpass_hz=4500.0, highpass_hz=100.0),
}
