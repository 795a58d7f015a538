"""Mastering: processed audio → encoded bytes that meet the profile as a listener gets them."""

from __future__ import annotations

from ..errors import AudioError
from . import dsp
from .codec import decode, encode_mp3, ffmpeg_version, read_wav, wav_bytes
from .dsp import Audio, Measured
from .profiles import Profile


def encoder_id(profile: Profile) -> str:
    """What encodes this profile's files, for cache keys: a new ffmpeg re-encodes."""
    return "wave" if profile.format == "wav" else ffmpeg_version()


def encode(audio: Audio, profile: Profile, title: str | None) -> bytes:
    if profile.format == "wav":
        return wav_bytes(audio)
    return encode_mp3(audio, profile.bitrate_kbps, title if profile.title_tag else None)


def measure_encoded(data: bytes, profile: Profile) -> Measured:
    """Measure the file as a listener gets it: decoded again."""
    decoded = read_wav(data) if profile.format == "wav" else decode(data, profile.sample_rate)
    return dsp.measure(decoded)


def finish(audio: Audio, profile: Profile, title: str | None) -> tuple[bytes, Measured, int]:
    """Loudness-processed audio → (encoded bytes, what they measure, encodings done).

    The decoded true peak must be under the ceiling: a codec can overshoot, and then the
    level is lowered and the file encoded again.
    """
    data = encode(audio, profile, title)
    encodings = 1
    measured = measure_encoded(data, profile)
    for _ in range(3):
        excess = measured.true_peak - profile.max_true_peak
        if excess <= -0.05:
            break
        audio = dsp.limit(dsp.apply_gain(audio, -(excess + 0.2)), profile.max_true_peak - 0.5)
        data = encode(audio, profile, title)
        encodings += 1
        measured = measure_encoded(data, profile)
    if (abs(measured.lufs - profile.target_lufs) > profile.tolerance_lu
            or measured.true_peak > profile.max_true_peak):
        raise AudioError(f"after encoding, {measured.lufs} LUFS and {measured.true_peak} dBTP "
                         f"miss the {profile.name} profile's {profile.target_lufs:g} LUFS "
                         f"±{profile.tolerance_lu:g} and {profile.max_true_peak:g} dBTP",
                         fix="check the source audio: is it mostly silence or noise?")
    return data, measured, encodings
