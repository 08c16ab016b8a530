"""Nothing leaks: a run's namespaces, processes and folders are gone after success, error, SIGTERM
and SIGINT, and `clean` removes what a killed run left behind (and only prefixed things)."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bench.config import BenchConfig
from bench.harness import cleanup, netns, preflight
from bench.harness.fleet import fleet

pytestmark = [pytest.mark.bench,
              pytest.mark.skipif(bool(preflight.real_bench_missing()), reason=preflight.real_bench_missing())]
REPO = Path(__file__).resolve().parents[3]


def leftovers(run_id: str) -> tuple[list[str], list[int], list[Path]]:
    prefix = f"{netns.PREFIX}{run_id}-"
    return netns.list_namespaces(prefix), cleanup.marked_pids(run_id), cleanup.leftover_folders(prefix)


def test_error_inside_a_run_leaves_nothing() -> None:
    with pytest.raises(RuntimeError, match="boom"):
        with fleet(BenchConfig(hosts=2, timeout=60)) as f:
            run_id = f.run_id
            assert netns.list_namespaces(f"{netns.PREFIX}{run_id}-")
            raise RuntimeError("boom")
    assert leftovers(run_id) == ([], [], [])


SCRIPT = """
import sys, time
from bench.config import BenchConfig
from bench.harness.fleet import fleet
with fleet(BenchConfig(hosts=2, timeout=60)) as f:
    print(f.run_id, flush=True)
    time.sleep(120)
"""


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signal_tears_the_run_down(sig) -> None:
    proc = subprocess.Popen([sys.executable, "-c", SCRIPT], stdout=subprocess.PIPE, text=True, cwd=REPO,
                            env={**os.environ, "PYTHONPATH": str(REPO)})
    run_id = proc.stdout.readline().strip()
    assert run_id, "fleet did not come up"
    assert netns.list_namespaces(f"{netns.PREFIX}{run_id}-")
    proc.send_signal(sig)
    proc.wait(timeout=60)
    assert leftovers(run_id) == ([], [], [])


def test_clean_removes_leftovers_of_a_killed_run(tmp_path) -> None:
    run_id = "dead01"
    ns = f"{netns.PREFIX}{run_id}-h1"
    subprocess.run(["ip", "netns", "add", ns], check=True)
    folder = Path("/tmp") / f"{netns.PREFIX}{run_id}-x"
    folder.mkdir(exist_ok=True)
    stray = subprocess.Popen(["ip", "netns", "exec", ns, "sleep", "300"], start_new_session=True,
                             env={**os.environ, "DSIM_RUN": run_id})
    bystander = subprocess.Popen(["sleep", "300"])  # unmarked: must survive
    try:
        time.sleep(0.2)
        done = cleanup.clean()
        assert ns in done.namespaces and not done.failed
        assert stray.wait(timeout=10) is not None
        assert leftovers(run_id) == ([], [], [])
        assert bystander.poll() is None
    finally:
        bystander.kill()
        bystander.wait()
