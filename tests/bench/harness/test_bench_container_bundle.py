"""A host container's OCI bundle says what the host is (no root, no runc: the config only)."""

from pathlib import Path

from bench.harness import containers
from bench.harness.containers import Limits


def config(limits: Limits = Limits(), state: Path = Path("/tmp/dsim-ab12cd-xyz/h3")) -> dict:
    return containers.bundle_config("h3", "/run/netns/dsim-ab12cd-h3", state, "dsim-ab12cd-hosts/h3", limits,
                                    shared_ro=(Path("/tmp/dsim-ab12cd-xyz/ssh"),), run_id="ab12cd")


def by_destination(cfg: dict) -> dict[str, dict]:
    return {m["destination"]: m for m in cfg["mounts"]}


def test_root_is_the_machine_read_only_and_state_is_the_hosts_own() -> None:
    cfg = config()
    assert cfg["root"] == {"path": "rootfs", "readonly": True}
    first = cfg["mounts"][0]  # bound by runc inside the container: no mount in the machine's namespace
    assert (first["destination"], first["source"], first["options"]) == ("/", "/", ["rbind", "ro"])
    m = by_destination(cfg)
    assert all(m[d]["type"] == "tmpfs" for d in ("/tmp", "/srv", "/dev/shm")) and m["/proc"]["type"] == "proc"
    assert m["/srv/app"]["source"] == m["/tmp/dsim-ab12cd-xyz/h3"]["source"] == "/tmp/dsim-ab12cd-xyz/h3"
    assert "rw" in m["/srv/app"]["options"] and "ro" in m["/tmp/dsim-ab12cd-xyz/ssh"]["options"]
    dests = [x["destination"] for x in cfg["mounts"]]
    assert dests.index("/tmp") < dests.index("/tmp/dsim-ab12cd-xyz/h3")  # the tmpfs hides, then the bind shows
    assert dests.index("/srv") < dests.index("/srv/app")


def test_state_outside_tmp_hides_its_siblings_too() -> None:
    dests = [x["destination"] for x in config(state=Path("/var/lib/dsim-x/h3"))["mounts"]]
    assert dests.index("/var/lib/dsim-x") < dests.index("/var/lib/dsim-x/h3")


def test_namespaces_hostname_and_cgroup() -> None:
    cfg = config()
    assert cfg["hostname"] == "h3"
    ns = {n["type"]: n.get("path") for n in cfg["linux"]["namespaces"]}
    assert ns == {"pid": None, "mount": None, "uts": None, "ipc": None, "network": "/run/netns/dsim-ab12cd-h3"}
    assert cfg["linux"]["cgroupsPath"] == "dsim-ab12cd-hosts/h3"  # relative: under the caller's own cgroup
    assert "DSIM_RUN=ab12cd" in cfg["process"]["env"]  # so `clean` finds PID 1 as it finds every child
    assert "rlimits" not in cfg["process"]  # raising them is refused here; the caller's are inherited


def test_limits_become_cgroup_resources() -> None:
    assert config()["linux"]["resources"] == {}
    res = config(Limits(cpu=0.5, memory=256_000_000))["linux"]["resources"]
    assert res == {"cpu": {"quota": 50_000, "period": 100_000}, "memory": {"limit": 256_000_000}}
    assert config(Limits(cpu=2))["linux"]["resources"]["cpu"]["quota"] == 200_000
    assert config(Limits(cpu=0.001))["linux"]["resources"]["cpu"]["quota"] == 1_000  # the kernel's minimum


def test_ids_and_exec_line() -> None:
    assert containers.container_id("ab12cd", "h3") == "dsim-ab12cd-h3"
    assert containers.cgroup_path("ab12cd", "h3") == "dsim-ab12cd-hosts/h3"
    assert containers.exec_argv("dsim-ab12cd-h3", ["consul", "agent"], {"DSIM_RUN": "ab12cd"}) == [
        "runc", "exec", "--env=DSIM_RUN=ab12cd", "dsim-ab12cd-h3", "consul", "agent"]
