#!/usr/bin/env python3
"""Benchmark `broadcast build` on the example campaign: one run, ratios side by side.

Measures, each in a fresh copy of the project and as its own process:
  cold build with 1 worker, cold build with 2 workers, warm rebuild (nothing changed).
Prints wall time, CPU time and peak memory, and the ratios against the 1-worker cold build.
Timings on a shared machine are noisy: compare ratios within one run, not across runs.

    python scripts/benchmark.py [--locale uk] [--repeat 1]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def copy_project(dest: Path) -> Path:
    for name in ("messages", "locales"):
        shutil.copytree(ROOT / name, dest / name, ignore=shutil.ignore_patterns("*.mo"))
    shutil.copy(ROOT / "broadcast.toml", dest / "broadcast.toml")
    return dest


def run(project: Path, jobs: int, locales: list[str]) -> tuple[float, float, float]:
    """(wall seconds, CPU seconds, peak RSS MiB) of one build in its own process."""
    args = [sys.executable, "-m", "pipeline", "build", "--project", str(project),
            "--jobs", str(jobs)] + [a for loc in locales for a in ("--locale", loc)]
    start = time.perf_counter()
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"build failed in {project}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--locale", action="append", default=[],
                        help="only these locales (default: all of the example)")
    parser.add_argument("--repeat", type=int, default=1, help="runs per case; best is kept")
    args = parser.parse_args()
    cases = [("cold, 1 worker", 1, True), ("cold, 2 workers", 2, True),
             ("warm rebuild, 2 workers", 2, False)]
    results = {}
    with tempfile.TemporaryDirectory(prefix="broadcast-bench-") as tmp:
        for label, jobs, cold in cases:
            best = None
            for i in range(args.repeat):
                project = Path(tmp) / f"{jobs}-{cold}-{i}"
                if cold or not project.exists():
                    copy_project(project)
                if not cold:
                    run(project, jobs, args.locale)         # fill the cache first
                measured = run(project, jobs, args.locale)
                best = measured if best is None or measured[0] < best[0] else best
            results[label] = best
    base = results["cold, 1 worker"][0]
    print(f"{'case':<26} {'wall s':>8} {'cpu s':>8} {'peak MiB':>9} {'wall ratio':>11}")
    for label, (wall, cpu, rss) in results.items():
        print(f"{label:<26} {wall:8.1f} {cpu:8.1f} {rss:9.0f} {wall / base:11.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
