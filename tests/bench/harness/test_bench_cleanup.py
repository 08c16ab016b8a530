"""Nothing leaks: a run's containers, cgroups, mounts, namespaces, processes and folders are gone after
success, error, SIGTERM and SIGINT (mid bring-up too), and `clean` (`deploysim bench clean`) removes
what a SIGKILLed run left behind (and only prefixed things). With root and runc, fleet hosts are
containers, so every test here covers them; without runc they cover namespaces alone."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bench.config import BenchConfig
from bench.harness import cleanup, containers, netns, preflight
from bench.harness.fleet import fleet
from sim.cli import app

pytestmark = [pytest.mark.bench,
              pytest.mark.skipif(bool(preflight.real_bench_missing()), reason=preflight.real_bench_missing())]
REPO = Path(__file__).resolve().parents[3]


NOTHING = ([], [], [], [], [], [])
CONTAINERS = not containers.unavailable()


def leftovers(run_id: str) -> tuple[list[str], list[int], list[Path], list[str], list[Path], list[str]]:
    """Namespaces, marked processes, folders, containers, cgroup folders and mount points of one run."""
    prefix = f"{netns.PREFIX}{run_id}-"
    return (netns.list_namespaces(prefix), cleanup.marked_pids(run_id), cleanup.leftover_folders(prefix),
            containers.list_ids(prefix), containers.cgroup_dirs(prefix), containers.mounts_named(prefix))


def test_error_inside_a_run_leaves_nothing() -> None:
    with pytest.raises(RuntimeError, match="boom"):
        with fleet(BenchConfig(hosts=2, timeout=60)) as f:
            run_id = f.run_id
            assert netns.list_namespaces(f"{netns.PREFIX}{run_id}-")
            if CONTAINERS:
                assert containers.list_ids(f"{netns.PREFIX}{run_id}-") == [f"dsim-{run_id}-h1", f"dsim-{run_id}-h2"]
                assert containers.cgroup_dirs(f"{netns.PREFIX}{run_id}-")
            raise RuntimeError("boom")
    assert leftovers(run_id) == NOTHING


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
    assert leftovers(run_id) == NOTHING


MID_WAY = """
import sys, time
from bench.config import BenchConfig
from bench.harness import fleet as fleet_module

def hang(net, cfg):  # containers are up, Consul is not: the run is stopped mid bring-up
    print(net.run_id, flush=True)
    time.sleep(120)

fleet_module.shape_links = hang
with fleet_module.fleet(BenchConfig(hosts=2, timeout=60, host_cpu=0.5, host_memory=128_000_000)) as f:
    pass
"""


def start_mid_way() -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen([sys.executable, "-c", MID_WAY], stdout=subprocess.PIPE, text=True, cwd=REPO,
                            env={**os.environ, "PYTHONPATH": str(REPO)})
    run_id = proc.stdout.readline().strip()
    assert run_id, "bring-up did not reach shaping"
    return proc, run_id


def test_sigterm_mid_bring_up_leaves_nothing() -> None:
    proc, run_id = start_mid_way()
    made = leftovers(run_id)
    assert made[0] and (made[3] or not CONTAINERS)
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=60)
    assert leftovers(run_id) == NOTHING


def test_clean_removes_what_a_sigkilled_run_left() -> None:
    proc, run_id = start_mid_way()
    proc.kill()  # no teardown at all
    proc.wait(timeout=10)
    made = leftovers(run_id)
    assert made[0] and made[2]
    if CONTAINERS:
        assert made[3] == [f"dsim-{run_id}-h1", f"dsim-{run_id}-h2"] and made[4] and made[1]
    out = CliRunner().invoke(app, ["bench", "clean"])
    assert out.exit_code == 0, out.output
    assert f"removed {len(made[3])} containers, " in out.output
    assert leftovers(run_id) == NOTHING


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
        assert leftovers(run_id) == NOTHING
        assert bystander.poll() is None
    finally:
        bystander.kill()
        bystander.wait()
