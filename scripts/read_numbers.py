"""How well each normalizer reads Russian and Ukrainian numbers in context.

Scores the project's own reading (pipeline.voice.textnorm) and the normalizers on PyPI
that are installed (ru-normalizr for Russian, normalize-uk for Ukrainian) on the
held-out sentences of tests/data/numbers/held_out.tsv: a sentence counts when the whole
reading matches one a native speaker gives (case, punctuation and ё/е aside).

    python scripts/read_numbers.py
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.voice.textnorm import normalize  # noqa: E402

SENTENCES = ROOT / "tests" / "data" / "numbers" / "held_out.tsv"


def comparable(text: str) -> str:
    text = text.lower().replace("ё", "е").replace("’", "'")
    return " ".join(re.sub(r"[^\w' ]", " ", text).split())


def readers() -> dict[str, dict]:
    out: dict[str, dict] = {"project": {"ru": lambda t: normalize(t, "ru"),
                                        "uk": lambda t: normalize(t, "uk")}}
    try:
        import ru_normalizr
        out["ru-normalizr"] = {"ru": ru_normalizr.normalize}
    except ImportError:
        pass
    try:
        import normalize_uk
        out["normalize-uk"] = {"uk": normalize_uk.normalize_ukrainian}
    except ImportError:
        pass
    return out


def main() -> int:
    rows = [line.split("\t") for line in SENTENCES.read_text(encoding="utf-8").splitlines()
            if line and not line.startswith("#")]
    for name, by_lang in readers().items():
        for lang, read in by_lang.items():
            cases = [(text, expected) for code, text, expected in rows if code == lang]
            wrong = []
            for text, expected in cases:
                got = comparable(read(text))
                if got not in {comparable(e) for e in expected.split("|")}:
                    wrong.append(f"{text} → {got}")
            print(f"{name:14} {lang}  {len(cases) - len(wrong)}/{len(cases)} right")
            for w in wrong:
                print(f"    {w}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
