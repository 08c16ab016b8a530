#!/usr/bin/env bash
# Make the project's virtual environment (.venv) and install deploysim with its test tools into it.
# Idempotent and quick when nothing changed: it reinstalls only when pyproject.toml changed.
# With DEPLOYSIM_SYSTEM_DEPS=1 (and root) it also installs the bench's system packages (Consul, rsync).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
venv="$root/.venv"
stamp="$venv/.deploysim-installed"
python=${PYTHON:-python3}

if [ ! -x "$venv/bin/python" ]; then
    echo "setup: creating $venv" >&2
    "$python" -m venv "$venv"
fi
want=$(sha256sum "$root/pyproject.toml" | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    echo "setup: installing deploysim and its dependencies into .venv (log: .venv/setup.log)" >&2
    log="$venv/setup.log"
    if ! { "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip &&
           "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -e "$root[dev]"; } >"$log" 2>&1 ||
       ! "$venv/bin/python" -c "import sim, simpy, numba, pydantic, consul, distributed" 2>>"$log"; then
        echo "setup: install failed; the end of $log:" >&2
        tail -n 30 "$log" >&2
        exit 1
    fi
    echo "$want" > "$stamp"
fi
if [ "${DEPLOYSIM_SYSTEM_DEPS:-0}" = 1 ]; then
    if [ "$(id -u)" = 0 ]; then
        bash "$root/scripts/install-system-deps.sh"
    else
        echo "setup: not root: skipping Consul/rsync install (bench tests will be skipped)" >&2
    fi
fi
