"""Builds on a Dask cluster: the same jobs, the same bytes as a local build.

The cluster is a ``LocalCluster`` with two worker processes (the ``[cluster]`` extra,
installed by ``scripts/test.sh``); a real one is the same scheduler protocol over TCP.
"""

from __future__ import annotations

import subprocess
import sys

import pytest
from helpers import copy_project, snapshot

from pipeline.layout import Layout


@pytest.fixture(scope="module")
def scheduler():
    from distributed import LocalCluster
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                           dashboard_address=None, silence_logs=40)
    try:
        yield cluster.scheduler_address
    finally:
        cluster.close()


def test_a_cluster_build_equals_a_local_build_byte_for_byte(tmp_path, cli, scheduler):
    local, remote = copy_project(tmp_path / "local"), copy_project(tmp_path / "remote")
    assert cli("build", "--project", local, "--jobs", "2").code == 0
    run = cli("build", "--project", remote, "--scheduler", scheduler)
    assert run.code == 0, run.err
    assert "syntheses" in run.out
    first, second = snapshot(Layout(local).out_dir), snapshot(Layout(remote).out_dir)
    outputs = {name for name in first if not name.startswith(".cache/")}
    assert outputs and {n for n in second if not n.startswith(".cache/")} == outputs
    assert all(first[name] == second[name] for name in outputs)


def test_no_scheduler_at_the_address_is_one_line(project, cli):
    run = cli("build", "--project", project, "--scheduler", "tcp://127.0.0.1:9")
    assert run.code == 2 and run.err.count("\n") == 1
    assert "no Dask scheduler answers at tcp://127.0.0.1:9" in run.err


def test_the_local_pool_never_imports_dask(project):
    code = ("import sys; from pipeline.cli import main; "
            f"rc = main(['build', '--project', {str(project)!r}, '--jobs', '2', "
            "'--locale', 'ru', '--profile', 'radio']); "
            "assert rc == 0, rc; "
            "assert not [m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed')]")
    from helpers import process_env
    subprocess.run([sys.executable, "-c", code], check=True, env=process_env())
