"""Crash consistency in CI: a reduced run of scripts/crash_harness.py (the full run, 30
kill points per command, is recorded in docs/reliability.md)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from helpers import REPO

spec = importlib.util.spec_from_file_location("crash_harness", REPO / "scripts" / "crash_harness.py")
assert spec and spec.loader
crash_harness = importlib.util.module_from_spec(spec)
spec.loader.exec_module(crash_harness)


@pytest.mark.slow
@pytest.mark.parametrize("command", ["build", "update"])
def test_sigkill_at_any_point_leaves_consistent_files_and_a_byte_identical_recovery(
        command, tmp_path: Path):
    result = crash_harness.harness(command, 5, tmp_path, log=lambda line: None)
    assert result["killed"] == 5                # five kills landed while it ran
    assert result["failures"] == []
    assert result["survived"] == result["points"]
