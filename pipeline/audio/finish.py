"""Finishing a message: processed audio → the encoded bytes of a profile, measured as a
listener gets them (decoded again), and held to the profile's loudness and ceiling."""

from __future__ import annotations

from ..errors import AudioError
from . import dsp
from .codec import decode_mp3, encode_mp3, mp3_encoder_id, read_wav, wav_bytes
from .dsp import Audio, Measured
from .profiles import Profile
from .tags import Label, tagged

__all__ = ["check_profile", "encode", "encoder_id", "finish", "measure_encoded"]


def encoder_id(profile: Profile) -> str:
    """What encodes this profile's files, for cache keys: a new encoder re-encodes."""
    return "wave" if profile.format == "wav" else mp3_encoder_id()


def encode(audio: Audio, profile: Profile, title: str | None) -> bytes:
    """The bytes of ``audio`` in the profile's format; an MP3 with an ID3 title if the
    profile has ``title_tag`` (and no playout tags, which are added once measured)."""
    if profile.format == "wav":
        return wav_bytes(audio)
    return encode_mp3(audio, profile.bitrate_kbps,
                      title if profile.title_tag and not profile.playout_tags else None)


def measure_encoded(data: bytes, profile: Profile) -> Measured:
    """Measure the file as a listener gets it: decoded again (in process); a WAV file
    keeps its gating blocks for the programs that hold it."""
    if profile.format == "wav":
        return dsp.measure_blocks(read_wav(data))
    return dsp.measure(decode_mp3(data))


def finish(audio: Audio, profile: Profile,
           label: Label | None) -> tuple[bytes, Measured, int]:
    """Loudness-processed audio → (encoded bytes, what they measure, encodings done).

    The decoded true peak must be under the ceiling: a codec can overshoot, and then the
    level is lowered and the file encoded again. A profile with ``playout_tags`` gets the
    figures measured, with ``label``, as tags (:mod:`.tags`).
    """
    title = label.title if label else None
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
    check_profile(measured, profile)
    if profile.playout_tags and label:
        data = tagged(data, profile.format, profile.sample_rate, label, measured)
    return data, measured, encodings


def check_profile(measured: Measured, profile: Profile) -> None:
    if (abs(measured.lufs - profile.target_lufs) > profile.tolerance_lu
            or measured.true_peak > profile.max_true_peak):
        raise AudioError(f"after encoding, {measured.lufs} LUFS and {measured.true_peak} dBTP "
                         f"miss the {profile.name} profile's {profile.target_lufs:g} LUFS "
                         f"±{profile.tolerance_lu:g} and {profile.max_true_peak:g} dBTP",
                         fix="check the source audio: is it mostly silence or noise?")
