"""Results folders: where `--out` may write, and writing a folder whole or not at all.

`--out PATH` names a new folder, or, with `--overwrite`, a folder deploysim wrote: its `manifest.json`
says `"format": "deploysim-results"` and lists every file in it, and it holds nothing else. Never the
working folder, the home folder or a folder holding either (`.`, `..`, `~`, `/`), a file, a symbolic
link, or a folder with anything deploysim did not write in it. Each refusal is a `UserError` naming
`--out PATH` and why; `preflight` also checks that the folder can be created, before a command works.

Everything goes into a temporary folder beside the target (`.NAME.XXXXXXXX.partial`, made with the
umask's permissions like any other output), renamed into place only when every file is complete; a
folder being replaced is moved aside first and put back if the new one cannot take its place. A
failure, a full disk or Ctrl-C removes the temporary folder and any parent folder made for it. The
manifest says how to reproduce the run (seed or drawn entropy, effective scenario and its hash, tool
version) and which format it uses; `read_manifest` refuses formats it does not understand.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import platform
import secrets
import shutil
import signal
import stat
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterator

from sim import __version__
from sim.errors import Problem, UserError

RESULTS_FORMAT = 2
# What changed since each older format, for the refusal to read it.
FORMAT_CHANGES = {1: "format 2 names columns with their units (done -> done_s, fleet_size -> fleet_hosts: "
                     "docs/results-files.md), writes timestamps in ISO 8601 and wraps every JSON in one shape"}
FORMAT_NAME = "deploysim-results"

# Failures of the place being written to, not of the program: while writing the files they are bad
# input (exit 2, located at --out); anything else while writing is a bug and keeps its traceback.
PLACE_ERRORS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM, errno.EFBIG,
                          errno.EIO, errno.ENAMETOOLONG})
REPLACEABLE = "deploysim replaces only a folder it wrote, holding nothing else"
# `deploysim report` adds report.html to a results folder after the fact (the manifest, a record of the
# run, is left as it was): a folder holding one that opens with this marker is still deploysim's alone.
REPORT = "report.html"
MARKER = "<!-- written by deploysim"  # opens the files deploysim writes beside results (XML, Markdown, HTML, YAML)
REPORT_MARKER = f"{MARKER} report"


def refuse(target: str | Path, why: str) -> UserError:
    """The error for an --out that cannot be used: `--out PATH: why`."""
    return UserError([Problem(source=f"--out {target}", line=None, column=None, path="", message=why)])


def check_target(target: str | Path, overwrite: bool = False) -> Path:
    """The absolute path `--out target` may write: a new folder, or with `overwrite` one deploysim wrote.

    Raises a UserError saying why not otherwise. Only reads the file system."""
    path = Path(target)
    try:
        mode = os.lstat(path).st_mode
    except (FileNotFoundError, NotADirectoryError):  # new (a parent that is a file: found when creating it)
        mode = None
    except OSError as error:
        raise refuse(target, f"cannot use this path ({error.strerror})") from None
    if mode is not None and stat.S_ISLNK(mode):
        raise refuse(target, f"is a symbolic link; {REPLACEABLE}")
    if mode is not None and not stat.S_ISDIR(mode):
        raise refuse(target, "is a file, not a results folder; deploysim never replaces a file")
    full = Path(os.path.realpath(path))  # not a link itself: its parents may be
    why = _protected(full)
    if why:
        raise refuse(target, f"{why}, which deploysim never replaces; give a new folder such as results/run1")
    if mode is not None and not overwrite:
        raise refuse(target, "already exists; choose another --out or pass --overwrite")
    why = _not_ours(full) if mode is not None else None
    if why:
        raise refuse(target, f"{why}; {REPLACEABLE}")
    return full


def _protected(full: Path) -> str | None:
    """Why `full` is a folder no command may replace, or None."""
    if full == Path(full.anchor):
        return "is the root folder"
    with contextlib.suppress(OSError):
        cwd = Path(os.path.realpath(os.getcwd()))
        if full == cwd or full in cwd.parents:
            return "is the working folder" if full == cwd else "holds the working folder"
    with contextlib.suppress(RuntimeError, KeyError):  # no home folder known
        home = Path(os.path.realpath(Path.home()))
        if full == home or full in home.parents:
            return "is the home folder" if full == home else "holds the home folder"
    return None


MANIFEST_BYTES = 64 * 2**20  # a manifest lists files and settings: far below this


def manifest_text(path: Path) -> str:
    """A manifest's text, read only from a regular file (not a link, a pipe or a device: reading one
    could block or never end) of at most MANIFEST_BYTES; OSError, or ValueError for text that is not
    UTF-8, otherwise."""
    return read_regular(path, MANIFEST_BYTES, "too large for a manifest").decode("utf-8")


def read_regular(path: Path, limit: int, too_large: str) -> bytes:
    """At most `limit` bytes of the regular file at `path`, never following a link nor reading a pipe or a
    device; OSError (EINVAL, or EFBIG with `too_large`) otherwise."""
    handle = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    try:
        info = os.fstat(handle)
        if not stat.S_ISREG(info.st_mode):
            raise OSError(errno.EINVAL, "not a regular file", str(path))
        if info.st_size > limit:
            raise OSError(errno.EFBIG, too_large, str(path))
        with os.fdopen(os.dup(handle), "rb") as file:
            raw = file.read(limit + 1)
    finally:
        os.close(handle)
    if len(raw) > limit:
        raise OSError(errno.EFBIG, too_large, str(path))
    return raw


def _not_ours(folder: Path) -> str | None:
    """Why `folder` is not a results folder deploysim wrote and nothing else, or None."""
    try:
        data = json.loads(manifest_text(folder / "manifest.json"))
    except FileNotFoundError:
        data = None
    except (OSError, ValueError):
        return "its manifest.json cannot be read"
    files = data.get("files") if isinstance(data, dict) and data.get("format") == FORMAT_NAME else None
    if not isinstance(files, list):
        return "is not a results folder written by deploysim (no manifest.json of its own listing its files)"
    odd = [name for name in files if not _plain_name(name)]
    if odd:
        return f"its manifest.json lists {odd[0]!r}, which is not a file name inside the folder"
    try:
        entries = list(os.scandir(folder))
    except OSError as error:
        return f"cannot be listed ({error.strerror})"
    strays = sorted(e.name + ("/" if e.is_dir(follow_symlinks=False) else "") for e in entries
                    if (e.name not in files or not e.is_file(follow_symlinks=False)) and not _our_report(e))
    if strays:
        more = f" and {len(strays) - 3} more" if len(strays) > 3 else ""
        return f"holds {', '.join(strays[:3])}{more}, which deploysim did not write"
    return None


def _our_report(entry: os.DirEntry) -> bool:
    return entry.name == REPORT and owns_report(Path(entry.path))


def owns_report(path: Path) -> bool:
    """Whether `path` is a regular file (not a link) that opens with `REPORT_MARKER` (in its first 256 bytes)."""
    return opens_with(path, REPORT_MARKER)


def opens_with(path: str | Path, marker: str) -> bool:
    """Whether `path` is a regular file (not a link) whose first 256 bytes hold `marker`: a file deploysim
    wrote, which it may replace."""
    try:
        handle = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        try:
            if not stat.S_ISREG(os.fstat(handle).st_mode):
                return False
            head = os.read(handle, 256)
        finally:
            os.close(handle)
    except OSError:
        return False
    return marker.encode() in head


def replace_atomically(target: Path, text: str, recheck: Callable[[], object]) -> None:
    """Write `text` to a temporary file beside `target`, call `recheck` (it raises if `target` may no longer
    be written), then rename it into place: a reader sees the old file or the whole new one. Nothing is
    left behind on any failure (OSError, the recheck's error, Ctrl-C)."""
    temporary = target.parent / f".{target.name[:200]}.{secrets.token_hex(4)}.partial"
    try:
        with open(temporary, "x", encoding="utf-8") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        recheck()
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)


def preflight(target: str | Path, overwrite: bool = False) -> Path:
    """`check_target`, then make sure the folder can be created there (parents, a temporary folder, its
    name), leaving nothing behind: called before a command does its work."""
    full = check_target(target, overwrite)
    with _located(target, "cannot create the results folder"):
        created = _make_parents(full.parent)
        try:
            os.rmdir(_new_folder(full.parent, full.name, "partial"))
            if not os.path.lexists(full):
                os.mkdir(full)
                os.rmdir(full)
        finally:
            _remove_parents(created)
    return full


@contextlib.contextmanager
def results_folder(target: str | Path, overwrite: bool = False) -> Iterator[Path]:
    """Yield an empty temporary folder beside `target`; when the block ends, rename it to `target`.

    `target` must pass `check_target` (again just before the rename: the place may have changed while
    the files were written). If the block fails or is interrupted, the temporary folder and the parents
    made for it are removed; a full disk or a read-only place becomes a UserError naming --out."""
    full = check_target(target, overwrite)
    with _located(target, "cannot create the results folder"):
        created = _make_parents(full.parent)
        try:
            staging = _new_folder(full.parent, full.name, "partial")
        except BaseException:
            _remove_parents(created)
            raise
    try:
        with _located(target, "cannot write the results", PLACE_ERRORS):
            yield staging
        with _signals_held():
            check_target(target, overwrite)
            with _located(target, "cannot put the results in place"):
                _publish(staging, full)
    except BaseException:
        with _signals_held():
            shutil.rmtree(staging, ignore_errors=True)
            _remove_parents(created)
        raise


@contextlib.contextmanager
def _located(target: str | Path, doing: str, errnos: frozenset | None = None) -> Iterator[None]:
    """Turn an OSError (of `errnos`, default any) into a UserError: `--out PATH: doing (reason)`."""
    try:
        yield
    except OSError as error:
        if errnos is not None and error.errno not in errnos:
            raise
        raise refuse(target, f"{doing} ({error.strerror or error}); nothing was written") from None


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """Hold SIGINT and SIGTERM until the block ends, so an interrupt cannot split a swap or a cleanup."""
    old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def _make_parents(folder: Path) -> list[Path]:
    """Create `folder` and its missing parents; return those created, outermost first."""
    missing = []
    while not os.path.lexists(folder) and folder != folder.parent:
        missing.append(folder)
        folder = folder.parent
    if not folder.is_dir():
        raise NotADirectoryError(errno.ENOTDIR, f"{folder} is not a folder", str(folder))
    created: list[Path] = []
    try:
        for parent in reversed(missing):
            os.mkdir(parent)
            created.append(parent)
    except BaseException:
        _remove_parents(created)
        raise
    return created


def _remove_parents(created: list[Path]) -> None:
    for parent in reversed(created):
        try:
            os.rmdir(parent)
        except OSError:
            return


def _side_name(folder: Path, name: str, kind: str) -> Path:
    stem = name if len(os.fsencode(name)) <= 200 else name[:40]  # room for the suffix within NAME_MAX
    return folder / f".{stem}.{secrets.token_hex(4)}.{kind}"


def _new_folder(parent: Path, name: str, kind: str) -> Path:
    """A new empty folder beside `name`, with the permissions the umask gives (mkdtemp's would be 0700)."""
    for _ in range(100):
        path = _side_name(parent, name, kind)
        try:
            os.mkdir(path)
            return path
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "no free temporary name", str(parent))


def _publish(staging: Path, full: Path) -> None:
    """Rename `staging` to `full`; a folder already there is moved aside, and back if the rename fails."""
    if not os.path.lexists(full):
        os.rename(staging, full)
        return
    aside = _side_name(full.parent, full.name, "old")
    os.rename(full, aside)
    try:
        os.rename(staging, full)
    except BaseException:
        os.rename(aside, full)
        raise
    _remove_results(aside)


def _plain_name(name) -> bool:
    """A file name of the folder itself: no path, no `.` or `..`."""
    return isinstance(name, str) and name not in ("", ".", "..") and os.path.basename(name) == name and "\0" not in name


def _remove_results(folder: Path) -> None:
    """Delete the files a replaced results folder's manifest lists, then the folder; keep anything else.
    Only entries found in the folder itself are deleted, whatever the manifest names."""
    try:
        listed = set(json.loads(manifest_text(folder / "manifest.json"))["files"])
        for entry in os.scandir(folder):
            if (entry.name in listed and entry.is_file(follow_symlinks=False)) or _our_report(entry):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(entry.path)
        os.rmdir(folder)
    except (OSError, ValueError, KeyError, TypeError):
        print(f"deploysim: kept {folder}: the replaced results folder holds files deploysim did not write",
              file=sys.stderr)


def manifest(*, command: str, scenario_source: str, scenario_digest: str, effective: dict, overrides: tuple,
             seed: int | None, entropy: int, files: list[str], extra: dict | None = None) -> dict:
    return {
        "format": FORMAT_NAME,
        "format_version": RESULTS_FORMAT,
        "tool_version": __version__,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "command": command,
        "argv": sys.argv,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "scenario": {"source": scenario_source, "sha256": scenario_digest, "overrides": list(overrides)},
        "seed": seed,
        "entropy": str(entropy),
        "reproduce": f"--seed {entropy}" if seed is None else f"--seed {seed}",
        "files": sorted(files),
        "effective_scenario": effective,
        **(extra or {}),
    }


def write_manifest(folder: Path, command: str, loaded, entropy: int, extra: dict | None = None,
                   overrides: tuple | None = None) -> None:
    """The folder's manifest.json, written last: the command, the scenario it ran (`loaded`, a
    `LoadedScenario`; None when there is none) with its overrides (those of `loaded` unless given),
    seed and entropy, and every file in the folder; for a backtest on a live Prometheus, the URL, window,
    queries and a digest of the data read (`history`)."""
    from sim.backtest.live import manifest_record  # (numpy and the backtest load only when a command writes)

    files = sorted(p.name for p in folder.iterdir()) + ["manifest.json"]
    write_json(folder / "manifest.json", manifest(
        command=command, scenario_source=loaded.source if loaded else "", scenario_digest=loaded.digest if loaded else "",
        effective=loaded.effective if loaded else {}, overrides=loaded.overrides if overrides is None else overrides,
        seed=loaded.scenario.seed if loaded else None, entropy=entropy, files=files,
        extra={**({"imported": [note.render() for note in loaded.imported]} if loaded and loaded.imported else {}),
               **(manifest_record(loaded.scenario.traffic.history) if loaded else {}), **(extra or {})}))


def write_json(path: Path, data: dict) -> None:
    path.write_text(json.dumps(data, indent=2, sort_keys=False, default=str) + "\n", encoding="utf-8")


def read_manifest(folder: str | Path) -> dict:
    path = Path(folder) / "manifest.json"
    try:
        data = json.loads(manifest_text(path))
    except (OSError, ValueError) as error:  # (a JSON or a UTF-8 decoding error is a ValueError)
        raise UserError(f"{path}: not a deploysim results folder ({error})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT_NAME:
        found = data.get("format") if isinstance(data, dict) else type(data).__name__
        raise UserError(f"{path}: not a deploysim results folder (format {found!r})")
    if data.get("format_version") != RESULTS_FORMAT:
        found = data.get("format_version")
        why = f"; {FORMAT_CHANGES[found]}" if found in FORMAT_CHANGES else ""
        raise UserError(f"{path}: written in results format {found!r}, and this deploysim ({__version__}) reads "
                        f"results format {RESULTS_FORMAT} only{why}; run the command again with this deploysim")
    return data
