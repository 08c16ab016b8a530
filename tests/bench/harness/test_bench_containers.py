"""Each fleet host is really its own machine: hostname, process table, /srv/app and Consul data dir,
and the CPU quota and memory limit of the scenario, visible in its cgroup and enforced.

Root and runc only (a real 2-host fleet in containers); skipped with the reason otherwise.
"""

import subprocess

import pytest

from bench.config import BenchConfig
from bench.deploy.pull import deploy_pull
from bench.deploy.push import deploy_push
from bench.deploy.records import current_ok
from bench.harness import containers, preflight
from bench.harness.fleet import fleet, new_build

WHY = preflight.real_bench_missing() or ("" if not containers.unavailable()
                                         else f"host containers unavailable: {containers.unavailable()}")
pytestmark = [pytest.mark.bench, pytest.mark.skipif(bool(WHY), reason=WHY)]
MEMORY = 128_000_000  # a multiple of the 4 KiB page, so the kernel keeps it as written


@pytest.fixture(scope="module")
def boxed():
    with fleet(BenchConfig(hosts=2, timeout=60, host_cpu=0.5, host_memory=MEMORY)) as f:
        yield f


def inside(f, host: str, script: str, check: bool = True) -> subprocess.CompletedProcess:
    cid = containers.container_id(f.run_id, host)
    return subprocess.run(containers.exec_argv(cid, ["sh", "-c", script]), capture_output=True, text=True,
                          check=check, timeout=60)


def test_hosts_are_containers_and_say_what_they_had(boxed) -> None:
    assert [c.id for c in boxed.containers] == [f"dsim-{boxed.run_id}-h1", f"dsim-{boxed.run_id}-h2"]
    assert boxed.fallback == ""
    assert boxed.host_limits == {"container": True, "cpu": 0.5, "memory": MEMORY}


def test_each_host_has_its_own_hostname(boxed) -> None:
    assert [inside(boxed, h, "hostname").stdout.strip() for h in ("h1", "h2")] == ["h1", "h2"]


def test_each_host_has_its_own_process_table(boxed) -> None:
    table = inside(boxed, "h1", "ps -e -o pid=,comm=").stdout.split("\n")
    rows = [line.split(None, 1) for line in table if line.strip()]
    assert rows[0] == ["1", "sh"]  # its own PID 1: the container's init
    names = [name for _, name in rows]
    # its own daemons, once each; not h2's agent nor the server's, not the orchestrator
    assert names.count("consul") == 1 and names.count("sshd") == 1 and names.count("rsync") == 1
    assert names.count("python") == 1  # the deploy agent
    machine = subprocess.run(["pgrep", "-c", "-x", "consul"], capture_output=True, text=True).stdout.strip()
    assert int(machine) >= 3  # the server's and both hosts' agents: the machine sees them all


def test_each_host_has_its_own_srv_app_and_consul_data(boxed) -> None:
    folder = boxed.folder
    inside(boxed, "h1", "echo h1 > /srv/app/marker")
    assert (folder / "h1" / "marker").read_text() == "h1\n"  # the host's state folder, seen from outside
    assert inside(boxed, "h2", "test -e /srv/app/marker", check=False).returncode == 1
    assert inside(boxed, "h2", "test -d /srv/app/consul/data && test -d /srv/app/pull").returncode == 0
    # the other hosts' folders (their Consul data dirs among them) are not there at all
    assert inside(boxed, "h2", f"test -e {folder / 'h1'}", check=False).returncode == 1
    assert inside(boxed, "h2", f"test -d {folder / 'h2' / 'consul' / 'data'}").returncode == 0
    # and the machine's own files are read-only
    assert inside(boxed, "h1", "touch /etc/dsim-probe", check=False).returncode != 0


def test_deploys_land_in_srv_app_on_every_host(boxed) -> None:
    build = new_build(boxed, "app", seed=4)
    pulled = deploy_pull(boxed, build)
    pushed = deploy_push(boxed, build, parallel=2, name="push-ssh")
    daemon = deploy_push(boxed, build, parallel=2, name="push-daemon", transport="daemon")
    assert pulled.updated.all() and pushed.updated.all() and daemon.updated.all(), (
        list(pulled.reason), list(pushed.reason), list(daemon.reason))
    for h in ("h1", "h2"):
        for folder in ("pull", "push-ssh", "push-daemon"):  # the same path on every host, as on a fleet
            link = inside(boxed, h, f"readlink /srv/app/{folder}/current").stdout.strip()
            assert link == f"releases/{build.build_id}", (h, folder, link)
            assert current_ok(boxed.folder / h / folder, build)  # the orchestrator sees it from outside
    agent = inside(boxed, "h1", "cat /proc/*/cmdline | tr '\\0' ' '").stdout
    assert "--root /srv/app/pull" in agent  # the deploy agent names /srv/app itself


def cgroup_file(f, host: str, controller: str, name: str) -> str:
    path = inside(f, host, f"grep ':{controller}:' /proc/self/cgroup | cut -d: -f3").stdout.strip()
    return inside(f, host, f"cat /sys/fs/cgroup/{controller}{path}/{name}").stdout


def test_cpu_quota_and_memory_limit_are_in_each_hosts_cgroup(boxed) -> None:
    for host in ("h1", "h2"):
        assert cgroup_file(boxed, host, "cpu", "cpu.cfs_quota_us").strip() == "50000"
        assert cgroup_file(boxed, host, "cpu", "cpu.cfs_period_us").strip() == "100000"
        assert int(cgroup_file(boxed, host, "memory", "memory.limit_in_bytes")) == MEMORY


def test_the_limits_are_enforced(boxed) -> None:
    # a busy loop for 0.5s wall time is throttled by the 0.5-core quota
    inside(boxed, "h1", "timeout 0.5 sh -c 'while :; do :; done'", check=False)
    stat = dict(line.split() for line in cgroup_file(boxed, "h1", "cpu", "cpu.stat").splitlines())
    assert int(stat["nr_throttled"]) > 0
    # allocating past the memory limit gets the process killed (no swap on this machine to spill to)
    hog = inside(boxed, "h2", "python3 -c 'b = bytearray(300 * 10**6)'", check=False)
    assert hog.returncode == 137, (hog.returncode, hog.stderr)  # SIGKILL by the OOM killer
    assert inside(boxed, "h2", "hostname").stdout.strip() == "h2"  # the host itself lives on
