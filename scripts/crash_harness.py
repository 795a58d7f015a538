#!/usr/bin/env python3
"""Crash consistency, proven: kill `broadcast build` and `broadcast update` with SIGKILL at
points spread over their run, and check what a user would find after each kill.

After every kill (the whole process group: the command and its render workers, as the
OOM killer or a power cut would):

- every .po/.pot passes ``msgfmt -c`` and every .mo is read back by ``msgunfmt``;
- no output folder lists (manifest, playlist, SHA256SUMS) a file that is missing or whose
  bytes differ from the listing (a hidden, half-built ``.<profile>.staging`` folder is not
  an output folder: nothing reads it, and the next command removes it); every bundle
  that exists verifies;
- no temp file is visible (every temp name starts with a dot), and the next command
  removes the hidden ones;
- the next run of the same command ends byte-identical to a clean run.

    python scripts/crash_harness.py                 # 30 kill points on build, 30 on update
    python scripts/crash_harness.py --points 5      # what CI runs (tests/test_crash.py)

The project is the test fixture (tests/data/project); update runs on it with 1,500 more
messages so that there is a run to kill.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from pipeline.fsutil import RETIRED, STAGING, TEMP_RE  # what a killed writer may leave

REPO = Path(__file__).resolve().parents[1]
FIXTURE = REPO / "tests" / "data" / "project"
ENV = {**os.environ, "PYTHONPATH": str(REPO / "tests"), "SOURCE_DATE_EPOCH": "1767225600"}


def broadcast(*args: str, root: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pipeline", *args, "--project", str(root)],
                          capture_output=True, text=True, env=ENV, timeout=1800)


def fresh_project(dest: Path, extra_messages: int = 0) -> Path:
    if dest.exists():
        shutil.rmtree(dest)
    shutil.copytree(FIXTURE, dest, ignore=shutil.ignore_patterns("audio_out"))
    if extra_messages:
        yaml = dest / "messages" / "demo.yaml"
        text = yaml.read_text(encoding="utf-8")
        more = "".join(
            f"  - id: extra-{n}\n    title: Extra message {n}\n    text: |\n"
            f"      This is extra message number {n}, about staying safe and calm.\n\n"
            f"      It has a second paragraph, so that catalogs have work to do.\n"
            for n in range(extra_messages))
        yaml.write_text(text.replace("messages:\n", "messages:\n" + more, 1), encoding="utf-8")
        result = broadcast("update", root=dest)
        assert result.returncode == 0, result.stderr
    return dest


def snapshot(root: Path) -> dict[str, str]:
    """Every file a user sees (the cache and the lock aside), by content hash."""
    out = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if path.is_file() and not rel.startswith("audio_out/.cache/"):
            out[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def problems_after_kill(root: Path) -> list[str]:
    found = []
    for path in sorted((root / "locales").rglob("*")):
        if path.suffix in (".po", ".pot"):
            check = subprocess.run(["msgfmt", "-c", "-o", os.devnull, str(path)],
                                   capture_output=True, text=True)
            if check.returncode:
                found.append(f"{path}: msgfmt -c: {check.stderr.strip()[:200]}")
        elif path.suffix == ".mo":
            check = subprocess.run(["msgunfmt", str(path)], capture_output=True)
            if check.returncode:
                found.append(f"{path}: msgunfmt failed")
    out = root / "audio_out"
    for sums in sorted(out.glob("*/*/*/SHA256SUMS")) if out.is_dir() else []:
        folder = sums.parent
        if folder.name.startswith("."):
            continue        # a hidden half-built .<profile>.staging: never read, tidied next run
        listed = {}
        for line in sums.read_text(encoding="utf-8").splitlines():
            digest, name = line.split("  ", 1)
            listed[name] = digest
            path = folder / name
            if not path.is_file():
                found.append(f"{folder}: SHA256SUMS lists missing {name}")
            elif hashlib.sha256(path.read_bytes()).hexdigest() != digest:
                found.append(f"{folder}: {name} differs from SHA256SUMS")
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        for entry in manifest["files"]:
            path = folder / entry["file"]
            if not path.is_file() or hashlib.sha256(path.read_bytes()).hexdigest() != entry["sha256"]:
                found.append(f"{folder}: manifest lists {entry['file']}, missing or different")
        for line in (folder / "playlist.m3u8").read_text(encoding="utf-8").splitlines():
            if line and not line.startswith("#") and not (folder / line).is_file():
                found.append(f"{folder}: playlist lists missing {line}")
    for zip_path in sorted((out / "bundles").glob("*.zip")) if (out / "bundles").is_dir() else []:
        check = subprocess.run([sys.executable, "-m", "pipeline", "verify", str(zip_path)],
                               capture_output=True, text=True, env=ENV)
        if check.returncode:
            found.append(f"{zip_path}: {check.stderr.strip()[:200]}")
    for path in root.rglob("*.tmp"):
        rel = path.relative_to(root).as_posix()
        if not any(part.startswith(".") for part in rel.split("/")):
            found.append(f"a visible temp file: {rel}")
    return found


def temp_files(root: Path) -> list[str]:
    return [p.relative_to(root).as_posix() for p in root.rglob("*")
            if TEMP_RE.match(p.name) or p.name.endswith((STAGING, RETIRED))]


def run_to_kill(args: list[str], root: Path, after: float) -> float | None:
    """Start ``broadcast ARGS``, SIGKILL its process group after ``after`` s. None if it
    was still running (a real kill), else how long it took to finish by itself."""
    started = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "pipeline", *args, "--project", str(root)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=ENV,
                            start_new_session=True)
    try:
        proc.wait(timeout=after)
        return time.monotonic() - started
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        return None


def harness(command: str, points: int, work: Path, log=print) -> dict:
    """Kill ``command`` at ``points`` moments; returns the counts for docs/reliability.md.

    Each run starts from the same state: for build, the fixture built once and then
    changed (a new voice option for two locales and an edited translation, so that most
    outputs, bundles and one catalog are rewritten over existing ones); for update, the
    fixture with 1,500 more messages and a source change that every catalog must take.
    """
    args = ["build", "--jobs", "2"] if command == "build" else ["update"]
    base = fresh_project(work / "base", 1500 if command == "update" else 0)
    if command == "build":
        result = broadcast("build", "--jobs", "2", root=base)
        assert result.returncode == 0, result.stderr
        toml = base / "broadcast.toml"
        toml.write_text(toml.read_text(encoding="utf-8").replace(
            'engine = "fake_engine:ToneEngine"', 'engine = "fake_engine:ToneEngine"\n'
            'options = { amplitude = 0.2 }'), encoding="utf-8")
        po = base / "locales" / "ru" / "LC_MESSAGES" / "demo.po"
        po.write_text(po.read_text(encoding="utf-8").replace("Вы не одни", "Вы не один"),
                      encoding="utf-8")
    else:
        yaml = base / "messages" / "demo.yaml"
        yaml.write_text(yaml.read_text(encoding="utf-8").replace(
            "about staying safe", "about keeping safe"), encoding="utf-8")

    def prepare(dest: Path) -> Path:
        if dest.exists():
            shutil.rmtree(dest)
        shutil.copytree(base, dest, symlinks=True)
        return dest

    clean = prepare(work / "clean")
    started, wall = time.monotonic(), time.time()
    result = broadcast(*args, root=clean)
    span = time.monotonic() - started
    assert result.returncode == 0, result.stderr
    reference = snapshot(clean)
    # When the clean run rewrote what a user is given (output folders for build, catalogs
    # for update): two kills in three land in that window, where a wrong order of writes
    # would show; the others are spread over the whole run.
    given = clean / ("audio_out" if command == "build" else "locales")
    written = sorted(p.stat().st_mtime - wall for p in given.rglob("*")
                     if p.is_file() and ".cache" not in p.parts and p.stat().st_mtime >= wall)
    window = (max(0.3, written[0] - 0.05), written[-1] + 0.05) if written else (0.3, span)
    killed = survived = tried = 0
    failures: list[str] = []
    # ``points`` kills; a point the command outlived (it ran faster than the clean run)
    # shortens the span and is tried again.
    while killed < points and tried < 2 * points:
        tried += 1
        if killed % 3:
            low, high = window
            after = low + (min(high, span) - low) * ((tried * 7919) % 1000) / 1000
        else:
            after = 0.3 + (span - 0.3) * 0.95 * killed / max(points - 1, 1)
        root = prepare(work / "victim")
        finished_in = run_to_kill(args, root, after)
        was_killed = finished_in is None
        killed += was_killed
        if finished_in is not None:
            span = min(span, finished_in)
        found = problems_after_kill(root)
        result = broadcast(*args, root=root)
        if result.returncode != 0:
            found.append(f"the next {command} failed: {result.stderr.strip()[:300]}")
        left = temp_files(root)
        if left:
            found.append(f"temp files left after the next run: {left[:3]}")
        if snapshot(root) != reference:
            diff = sorted(k for k in set(snapshot(root)) ^ set(reference)) or sorted(
                k for k in reference if snapshot(root).get(k) != reference[k])
            found.append(f"not byte-identical to a clean {command}: {diff[:3]}")
        if found:
            failures += [f"kill at {after:.2f} s: {f}" for f in found]
        else:
            survived += 1
        log(f"{command}: point {tried}, kill {killed}/{points} at {after:.2f} s of {span:.1f} s: "
            f"{'killed' if was_killed else 'had finished'}, "
            f"{'consistent' if not found else 'PROBLEMS: ' + '; '.join(found)}")
    return {"command": command, "points": tried, "killed": killed, "survived": survived,
            "run_seconds": round(span, 1), "failures": failures}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--points", type=int, default=30, help="kill points per command")
    parser.add_argument("--commands", default="build,update")
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for command in args.commands.split(","):
            results.append(harness(command, args.points, Path(tmp)))
    for r in results:
        print(f"{r['command']}: {r['points']} points tried over a {r['run_seconds']} s run, "
              f"{r['killed']} killed while running; {r['survived']} consistent and "
              f"recovered byte-identical; {len(r['failures'])} problems")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return 1 if any(r["failures"] for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
