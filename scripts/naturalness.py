"""How natural each message sounds, as DistillMOS predicts it (1 bad … 5 excellent).

    python scripts/naturalness.py FOLDER...     # output folders (with their manifest.json)

Prints, per folder, the mean over its message files and each message's score. DistillMOS
(PyPI ``distillmos``, MIT, its weights inside the wheel) needs torch, which is large:
install it where you measure (``pip install distillmos soundfile scipy``), not in the
project. ``scripts/intelligibility.py --mos-python PYTHON`` runs this with that Python.
"""

from __future__ import annotations

import json
import sys
from math import gcd
from pathlib import Path


def main(folders: list[str]) -> int:
    import distillmos
    import numpy as np
    import soundfile
    import torch
    from scipy.signal import resample_poly
    model = distillmos.ConvTransformerSQAModel()
    model.eval()
    for folder in map(Path, folders):
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        scores = {}
        for entry in manifest["files"]:
            if entry["kind"] != "message":
                continue
            x, rate = soundfile.read(folder / entry["file"], dtype="float32")
            if x.ndim > 1:
                x = x.mean(axis=1)
            if rate != 16000:
                g = gcd(rate, 16000)
                x = resample_poly(x, 16000 // g, rate // g).astype("float32")
            with torch.no_grad():
                scores[entry["id"]] = float(model(torch.from_numpy(x)[None, :])[0])
        print(json.dumps({"folder": str(folder), "mean": float(np.mean(list(scores.values()))),
                          "messages": scores}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
