"""A bench host's OCI container, run by `runc`: its own hostname, process table, files and CPU/memory.

One container per fleet host, id `dsim-<rid>-<name>` (so `cleanup.clean` finds leftovers by prefix).
What was checked on this machine (runc 1.1.5 from Debian 12, cgroup v1 hybrid layout) and is built on:

- The container root is the machine's `/`, bound read-only and recursively BY RUNC inside the
  container's own mount namespace (a bind mount with destination `/` onto an empty `rootfs`;
  `root.path = "/"` itself is refused by pivot_root). So no mount is ever made in the machine's own
  mount namespace: every mount of a host dies with its container.
- Writable state: a tmpfs over `/tmp`, `/srv` and `/dev/shm` (hiding every other host's files, the run
  folder included), then the host's own state folder bound read-write at its usual path (`<run folder>/<name>`: Consul
  data dir, daemons' configs and logs, deploy roots) and again at `/srv/app`, the same path on every
  host, as on a real fleet; the run's ssh keys are bound read-only. The orchestrator still reads the
  state folder from outside.
- Its own PID, mount, UTS and IPC namespaces; the network namespace is the host's existing
  `/run/netns/dsim-<rid>-<name>`, joined by path, so addresses and shaping are unchanged.
- `cgroupsPath` is relative (`dsim-<rid>-hosts/<name>`), so runc nests it under its caller's own cgroup in
  each v1 hierarchy; `cpu.cfs_quota_us` and `memory.limit_in_bytes` are set from `Limits`.
  `runc delete` removes the leaf but not the `dsim-<rid>-hosts` parent: `remove_cgroups` does.
- No `rlimits` in the bundle: raising RLIMIT_NOFILE above the caller's hard limit is refused here,
  so the container inherits the caller's.

PID 1 is a small shell loop that reaps orphans; daemons are started with `runc exec` (see `exec_argv`)
and end when the container is deleted (killing PID 1 kills its whole PID namespace).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from bench.harness import netns

RUNC = "runc"
CGROUP_ROOT = Path("/sys/fs/cgroup")
APP_DIR = "/srv/app"
CPU_PERIOD_US = 100_000
INIT = ["/bin/sh", "-c", "trap 'exit 0' TERM INT; while :; do sleep 3600 & wait; done"]
CAPABILITIES = ["CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW",
                "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE",
                "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE"]
PATH_ENV = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


@dataclass(frozen=True)
class Limits:
    """A host's share of the machine: CPU in cores (0.5 = half a core) and memory in bytes; None = no limit."""

    cpu: float | None = None
    memory: int | None = None


@dataclass(frozen=True)
class Container:
    """A started host container: its id, bundle folder, state folder (outside) and cgroup path."""

    id: str
    bundle: Path
    state: Path
    cgroup: str


def container_id(run_id: str, name: str) -> str:
    return netns.ns_name(run_id, name)


def cgroup_path(run_id: str, name: str) -> str:
    """Relative: `dsim-<rid>-hosts/<name>` under the caller's cgroup (named with the run's prefix)."""
    return f"{netns.ns_name(run_id, 'hosts')}/{name}"


def unavailable() -> str:
    """Why host containers cannot run here ('' when they can)."""
    if os.geteuid() != 0:
        return "not root"
    if shutil.which(RUNC) is None:
        return "runc not found"
    if not (CGROUP_ROOT / "cpu").is_dir() or not (CGROUP_ROOT / "memory").is_dir():
        return "no cgroup v1 cpu and memory hierarchies under /sys/fs/cgroup"
    return ""


def resources(limits: Limits) -> dict:
    out: dict = {}
    if limits.cpu is not None:
        out["cpu"] = {"quota": max(1000, round(limits.cpu * CPU_PERIOD_US)), "period": CPU_PERIOD_US}
    if limits.memory is not None:
        out["memory"] = {"limit": int(limits.memory)}
    return out


def _bind(source: Path | str, dest: Path | str, mode: str = "rw") -> dict:
    return {"destination": str(dest), "type": "bind", "source": str(source), "options": ["rbind", mode]}


def _tmpfs(dest: str) -> dict:
    return {"destination": dest, "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "nodev", "mode=1777"]}


HIDDEN = ("/tmp", "/srv", "/dev/shm")  # a host sees its own empty tmpfs there


def code_paths() -> list[Path]:
    """The project and the interpreter that runs it (its venv and base install), where a host's tmpfs
    would hide them: a checkout under /tmp (as CI's clean clones are) must still run inside a host."""
    code = (Path(__file__).resolve().parents[2], Path(sys.prefix).resolve(), Path(sys.base_prefix).resolve())
    return [p for p in dict.fromkeys(code) if any(p.is_relative_to(h) for h in HIDDEN)]


def mounts(state: Path, shared_ro: tuple[Path, ...]) -> list[dict]:
    """The machine's `/` read-only, a fresh /proc, tmpfs over /tmp and /srv (the project's code bound back
    read-only when it lives there), then the host's own files."""
    out = [_bind("/", "/", "ro"), {"destination": "/proc", "type": "proc", "source": "proc"},
           *(_tmpfs(h) for h in HIDDEN), *(_bind(p, p, "ro") for p in code_paths())]
    if not state.is_relative_to("/tmp"):
        out.append(_tmpfs(str(state.parent)))  # hide the other hosts' folders there too
    out += [_bind(state, state), _bind(state, APP_DIR)] + [_bind(p, p, "ro") for p in shared_ro]
    return out


def bundle_config(hostname: str, ns_path: str, state: Path, cgroup: str, limits: Limits,
                  shared_ro: tuple[Path, ...] = (), run_id: str = "") -> dict:
    """The OCI config.json of one host container; its PID 1 carries the run's `DSIM_RUN` mark."""
    caps = {k: CAPABILITIES for k in ("bounding", "effective", "permitted")}
    namespaces = [{"type": t} for t in ("pid", "mount", "uts", "ipc")] + [{"type": "network", "path": ns_path}]
    return {
        "ociVersion": "1.0.2-dev",
        "process": {"terminal": False, "user": {"uid": 0, "gid": 0}, "args": INIT,
                    "env": [PATH_ENV] + ([f"DSIM_RUN={run_id}"] if run_id else []),
                    "cwd": "/", "capabilities": caps, "noNewPrivileges": False},
        "root": {"path": "rootfs", "readonly": True},
        "hostname": hostname,
        "mounts": mounts(state, shared_ro),
        "linux": {"resources": resources(limits), "cgroupsPath": cgroup, "namespaces": namespaces,
                  "maskedPaths": ["/proc/kcore", "/proc/keys", "/proc/timer_list", "/sys/firmware"],
                  "readonlyPaths": ["/proc/sys", "/proc/sysrq-trigger", "/proc/irq", "/proc/bus"]},
    }


def _runc(args: list[str], log: Path | None = None, check: bool = True) -> subprocess.CompletedProcess:
    """runc with its stdio off pipes (a detached init would hold a pipe open forever)."""
    if log is None:
        return subprocess.run([RUNC, *args], capture_output=True, text=True, check=check,
                              stdin=subprocess.DEVNULL)
    with open(log, "ab") as out:
        res = subprocess.run([RUNC, *args], stdin=subprocess.DEVNULL, stdout=out, stderr=out)
    if check and res.returncode != 0:
        tail = log.read_text(errors="replace").strip().splitlines()[-3:]
        raise RuntimeError(f"runc {' '.join(args)} failed ({res.returncode}): {' | '.join(tail)}")
    return res


def start(run_id: str, name: str, ns: str, state: Path, bundles: Path, limits: Limits,
          shared_ro: tuple[Path, ...] = ()) -> Container:
    """Write the bundle of host `name` and run its container detached, joined to namespace `ns`."""
    cid = container_id(run_id, name)
    bundle = bundles / name
    (bundle / "rootfs").mkdir(parents=True, exist_ok=True)
    state.mkdir(parents=True, exist_ok=True)
    cgroup = cgroup_path(run_id, name)
    config = bundle_config(name, f"/run/netns/{ns}", state, cgroup, limits, shared_ro, run_id)
    (bundle / "config.json").write_text(json.dumps(config, indent=1))
    _runc(["run", "--detach", "--bundle", str(bundle), cid], log=bundle / "runc.log")
    return Container(cid, bundle, state, cgroup)


def exec_argv(cid: str, cmd: list[str], env: dict[str, str] | None = None,
              pid_file: Path | None = None) -> list[str]:
    """The command line that runs `cmd` inside container `cid` (in the foreground: runc passes its stdio
    through and forwards signals, so a `Supervisor` can stop it as any child; `pid_file` gets the pid of
    the process inside, as the machine sees it)."""
    flags = [f"--env={k}={v}" for k, v in (env or {}).items()]
    flags += [f"--pid-file={pid_file}"] if pid_file is not None else []
    return [RUNC, "exec", *flags, cid, *cmd]


def list_ids(prefix: str = netns.PREFIX) -> list[str]:
    """Ids of the runc containers whose id starts with `prefix`."""
    if shutil.which(RUNC) is None:
        return []
    res = _runc(["list", "--format", "json"], check=False)
    if res.returncode != 0:
        return []
    return sorted(c["id"] for c in json.loads(res.stdout or "null") or [] if c["id"].startswith(prefix))


def delete(ids: list[str]) -> list[str]:
    """Kill and delete containers (every process inside dies with PID 1); returns those still listed."""
    for cid in ids:
        _runc(["delete", "--force", cid], check=False)
    left = set(list_ids())
    return [cid for cid in ids if cid in left]


def cgroup_dirs(prefix: str = netns.PREFIX, depth: int = 4) -> list[Path]:
    """Cgroup folders named `prefix...` in every v1 hierarchy, up to `depth` levels down (runc nests them
    under its caller's cgroup, which differs between processes)."""
    found: list[Path] = []

    def walk(folder: Path, level: int) -> None:
        try:
            subs = [p for p in folder.iterdir() if p.is_dir()]
        except OSError:
            return
        for p in subs:
            if p.name.startswith(prefix):
                found.append(p)
            elif level < depth:
                walk(p, level + 1)

    if CGROUP_ROOT.is_dir():
        for hierarchy in sorted(CGROUP_ROOT.iterdir()):
            walk(hierarchy, 1)
    return sorted(found)


def remove_cgroups(dirs: list[Path]) -> list[Path]:
    """Remove cgroup folders, children first (they must hold no process); returns those left."""
    left = []
    for top in dirs:
        for sub in sorted((p for p in top.rglob("*") if p.is_dir()), key=lambda p: -len(p.parts)):
            _rmdir(sub)
        if not _rmdir(top):
            left.append(top)
    return left


def _rmdir(p: Path) -> bool:
    try:
        p.rmdir()
        return True
    except FileNotFoundError:
        return True
    except OSError:
        return False


def mounts_named(prefix: str = netns.PREFIX) -> list[str]:
    """Mount points in the machine's mount namespace whose path holds `prefix` (none are ever made by
    containers; a leftover would come from elsewhere). /run/netns entries are namespaces, not mounts
    this module owns."""
    out = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        point = line.split()[4]
        if prefix in point and not point.startswith("/run/netns/"):
            out.append(point)
    return out
