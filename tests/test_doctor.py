"""broadcast doctor: what the machine has and lacks, with the command that installs each."""

from __future__ import annotations

import json
import sys

from helpers import copy_example, process_env, run_broadcast


def _doctor(root, env) -> tuple[int, dict]:
    result = run_broadcast("doctor", "--project", root, "--json", env=env)
    return result.code, {c["part"]: c for c in json.loads(result.out)["checks"]}


def test_doctor_names_the_native_voices_or_the_fallback_and_its_fix(tmp_path):
    root = copy_example(tmp_path / "example")
    code, checks = _doctor(root, process_env())
    assert code == 0
    assert {checks[f"voice {loc}"]["detail"] for loc in ("ko_KP", "ru", "uk")} == \
        {"mbrola/hn1", "rhvoice/aleksandr", "rhvoice/anatol"}
    # Without RHVoice and MBROLA on the PATH: the build falls back, and doctor says so.
    bare = tmp_path / "bin"
    bare.mkdir()
    (bare / "python3").symlink_to(sys.executable)
    code, checks = _doctor(root, dict(process_env(), PATH=str(bare)))
    assert code == 0                                   # a fallback keeps the build running
    ru = checks["voice ru"]
    assert not ru["ok"] and "espeak" in ru["detail"] and "apt-get install rhvoice" in ru["fix"]
    assert not checks["engine rhvoice"]["ok"] and not checks["engine mbrola"]["ok"]
    assert checks["engine espeak"]["ok"]                # in the wheel, whatever the PATH


def test_doctor_outside_a_project_looks_at_the_machine(tmp_path):
    result = run_broadcast("doctor", "--project", tmp_path, env=process_env())
    assert result.code == 0, result.err
    assert result.out.startswith("no project read")
    assert "engine espeak" in result.out and "ffmpeg" in result.out
