"""Independent judges: ffmpeg's EBU R 128 meter and ffprobe."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

from pipeline.audio.codec import ffmpeg_exe


def ebur128(path: Path) -> tuple[float, float]:
    """(integrated loudness LUFS, true peak dBTP) by ffmpeg's ebur128=peak=true filter."""
    proc = subprocess.run([ffmpeg_exe(), "-hide_banner", "-nostats", "-i", str(path),
                           "-af", "ebur128=peak=true", "-f", "null", "-"],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    summary = proc.stderr[proc.stderr.rindex("Summary:"):]
    lufs = float(re.search(r"I:\s+(-?[\d.]+|-inf) LUFS", summary).group(1))
    peak = float(re.search(r"Peak:\s+(-?[\d.]+|-inf) dBFS", summary).group(1))
    return lufs, peak


def ffprobe(path: Path) -> dict:
    proc = subprocess.run(["ffprobe", "-v", "error", "-show_format", "-show_streams",
                           "-of", "json", str(path)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)
