"""A backtest on a live Prometheus: Debian's real server (2.42) on 127.0.0.1, over a TSDB backfilled by
`promtool tsdb create-blocks-from openmetrics` from counters generated here (fixed seed), read through
/api/v1/query_range. The live path must give the History, and the `evaluate` rows, of the exported JSON
of the same range; a server that is down or refuses a query is exit 2 with the URL and its message.

Only 127.0.0.1 is ever asked (proxies are bypassed for it). prometheus and promtool come from
scripts/install-system-deps.sh (scripts/setup.sh with DEPLOYSIM_SYSTEM_DEPS=1, as root): without them
these tests fail saying so, unless DEPLOYSIM_SKIP_SYSTEM_TESTS is set (then they are skipped).
"""

from __future__ import annotations

import json
import os
import pickle
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Iterator

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from sim.backtest import MetricsError, live, load_history, read_history
from sim.cli import app
from sim.load.loader import load_scenario
from sim.rollout.setup import release_setup
from tests.backtest.helpers import ROOT

T0 = 1709510400  # 2024-03-04T00:00:00Z: the first counter sample
STEP = 60
INTERVALS = 26 * 60  # a day and two hours: an aligned bootstrap needs about a day
SEED = 20240304
REQUESTS = "sum(increase(http_requests_total[1m]))"
ERRORS = 'sum(increase(http_requests_total{code=~"5.."}[1m]))'
LATENCY = "sum(rate(http_request_duration_seconds_sum[1m])) / sum(rate(http_request_duration_seconds_count[1m]))"
START, END = "2024-03-04T00:01:00Z", "2024-03-05T02:00:00Z"  # every point: the first one needs T0's sample
INSTALL = "run scripts/setup.sh with DEPLOYSIM_SYSTEM_DEPS=1 (as root) to install Debian's prometheus package"


def missing_tools() -> str:
    """Why the real server cannot run here ('' when it can)."""
    missing = [name for name in ("prometheus", "promtool") if shutil.which(name) is None]
    return f"{' and '.join(missing)} not found: {INSTALL}" if missing else ""


pytestmark = pytest.mark.skipif(bool(missing_tools()) and "DEPLOYSIM_SKIP_SYSTEM_TESTS" in os.environ,
                                reason=f"DEPLOYSIM_SKIP_SYSTEM_TESTS is set; {missing_tools()}")


def traffic() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Requests, errors (code 500) and summed latency per interval: a diurnal swing, Poisson counts."""
    rng = np.random.default_rng(SEED)
    hours = np.arange(INTERVALS) / 60
    requests = rng.poisson(2000 * (1 + 0.5 * np.cos(2 * np.pi * (hours - 15) / 24)))
    errors = rng.binomial(requests, 0.002)
    seconds = np.round(requests * rng.gamma(100, 0.0012, INTERVALS), 3)
    return requests, errors, seconds


def openmetrics() -> str:
    """Counters sampled once a minute (cumulative sums of `traffic()`, starting at 0 at T0)."""
    requests, errors, seconds = traffic()
    stamps = T0 + STEP * np.arange(INTERVALS + 1)
    zero = np.zeros(1, dtype=int)
    ok, bad = np.concatenate([zero, np.cumsum(requests - errors)]), np.concatenate([zero, np.cumsum(errors)])
    count, total = np.concatenate([zero, np.cumsum(requests)]), np.concatenate([[0.0], np.cumsum(seconds)])
    lines = ["# TYPE http_requests counter"]
    lines += [f'http_requests_total{{code="200"}} {v} {t}' for v, t in zip(ok, stamps)]
    lines += [f'http_requests_total{{code="500"}} {v} {t}' for v, t in zip(bad, stamps)]
    lines += ["# TYPE http_request_duration_seconds summary"]
    for s, c, t in zip(total, count, stamps):
        lines += [f"http_request_duration_seconds_sum {s:.3f} {t}", f"http_request_duration_seconds_count {c} {t}"]
    return "\n".join(lines + ["# EOF"]) + "\n"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    """`prometheus+http://127.0.0.1:PORT`, serving the backfilled counters until the module ends."""
    if missing_tools():
        pytest.fail(missing_tools(), pytrace=False)
    folder = Path(tempfile.mkdtemp(prefix="deploysim-prometheus-"))
    process = None
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("NO_PROXY", "127.0.0.1")  # whatever proxies the environment names, ask 127.0.0.1 directly
        patch.setenv("no_proxy", "127.0.0.1")
        try:
            (folder / "metrics.om").write_text(openmetrics())
            subprocess.run(["promtool", "tsdb", "create-blocks-from", "openmetrics", str(folder / "metrics.om"),
                            str(folder / "data")], check=True, capture_output=True, timeout=60)
            (folder / "prometheus.yml").write_text("global: {scrape_interval: 1m}\nscrape_configs: []\n")
            port = free_port()
            with open(folder / "prometheus.log", "wb") as log:
                process = subprocess.Popen(
                    ["prometheus", f"--config.file={folder / 'prometheus.yml'}",
                     f"--storage.tsdb.path={folder / 'data'}", "--storage.tsdb.retention.time=100y",
                     f"--web.listen-address=127.0.0.1:{port}"],
                    stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
            wait_ready(process, port, folder / "prometheus.log")
            yield f"prometheus+http://127.0.0.1:{port}"
        finally:
            if process is not None:
                stop(process)
            live._read.cache_clear()
            shutil.rmtree(folder, ignore_errors=True)


def wait_ready(process: subprocess.Popen, port: int, log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"prometheus exited with {process.returncode}:\n{log.read_text()[-2000:]}", pytrace=False)
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/-/ready", timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.1)
    pytest.fail(f"prometheus not ready within 30s:\n{log.read_text()[-2000:]}", pytrace=False)


def stop(process: subprocess.Popen) -> None:
    """End the server's process group (it is its own session): SIGTERM, then SIGKILL."""
    for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 10)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            break
        try:
            process.wait(wait)
            break
        except subprocess.TimeoutExpired:
            continue


def scenario(tmp_path: Path, url: str, **queries: str | None) -> Path:
    """The shipped threshold-policy scenario, its history the server's (the window: every point)."""
    chosen = {"requests": REQUESTS, "errors": ERRORS, "latency": LATENCY, **queries}
    lines = [f"    {role}: {json.dumps(q)}" for role, q in chosen.items() if q is not None]
    path = tmp_path / "live.yaml"
    path.write_text("\n".join([
        "version: 1", "name: live-backtest", f"include: {ROOT / 'scenarios/threshold_policies.yaml'}",
        "traffic:", f"  history: {url}", "  history_range:", f"    start: {START}", f"    end: {END}",
        "    queries:", *[f"  {line}" for line in lines], ""]))
    return path


def source(url: str) -> live.LiveSource:
    queries = (("requests", REQUESTS), ("errors", ERRORS), ("latency", LATENCY))
    return live.LiveSource(url, T0 + STEP, T0 + STEP * INTERVALS, STEP, queries)


def export(url: str, folder: Path) -> Path:
    """The range as a user exports it: one query_range JSON answer, one series per role (`series` label)."""
    role = 'label_replace({}, "series", "{}", "", "")'
    query = " or ".join(role.format(q, name) for name, q in (("requests", REQUESTS), ("errors", ERRORS),
                                                            ("latency", LATENCY)))
    params = urllib.parse.urlencode({"query": query, "start": T0 + STEP, "end": T0 + STEP * INTERVALS, "step": STEP})
    base = url.removeprefix("prometheus+")
    with urllib.request.urlopen(f"{base}/api/v1/query_range?{params}", timeout=10) as answer:
        path = folder / "export.json"
        path.write_bytes(answer.read())
    return path


def evaluate(*args: str):
    return CliRunner().invoke(app, ["evaluate", *args, "--releases", "6", "--workers", "1",
                                    "--set", "evaluation.sweep=null"])


def test_the_live_history_is_the_generated_traffic_and_the_exported_one(server, tmp_path):
    history = live.read_history_live(source(server))
    requests, errors, seconds = traffic()
    assert (history.start, history.interval, history.source) == (T0, STEP, server)
    np.testing.assert_array_equal(history.requests, requests)  # increase() over samples a step apart is exact
    np.testing.assert_array_equal(history.errors, errors)
    np.testing.assert_allclose(history.latency, seconds / requests, rtol=1e-9)
    exported = load_history(export(server, tmp_path))
    assert (exported.start, exported.interval) == (history.start, history.interval)
    for column in ("requests", "errors", "latency"):
        np.testing.assert_array_equal(getattr(exported, column), getattr(history, column))
    assert exported.sha256() == history.sha256()


def test_evaluate_gives_the_same_rows_live_and_from_the_export(server, tmp_path):
    path = scenario(tmp_path, server)
    live_run = evaluate(str(path), "--out", str(tmp_path / "live"))
    assert live_run.exit_code in (0, 1, 3), live_run.output
    file_run = evaluate(str(path), "--metrics", str(export(server, tmp_path)), "--set", "traffic.history_range=null",
                        "--out", str(tmp_path / "file"))
    assert file_run.exit_code == live_run.exit_code, file_run.output
    for name in ("releases.csv", "estimates.csv", "acceptance.csv"):
        assert (tmp_path / "live" / name).read_bytes() == (tmp_path / "file" / name).read_bytes(), name
    assert len(pd.read_csv(tmp_path / "live" / "releases.csv")) == 18  # 6 releases x 3 policies
    record = json.loads((tmp_path / "live" / "manifest.json").read_text())["history"]
    assert record == {"url": server, "start": START, "end": END, "step": 60.0,
                      "queries": {"requests": REQUESTS, "errors": ERRORS, "latency": LATENCY},
                      "intervals": INTERVALS, "sha256": load_history(tmp_path / "export.json").sha256()}
    assert "history" not in json.loads((tmp_path / "file" / "manifest.json").read_text())


def test_validation_setup_and_warnings_ask_the_server_once(server, tmp_path, monkeypatch):
    live._read.cache_clear()
    asked = []
    real = urllib.request.urlopen
    monkeypatch.setattr(urllib.request, "urlopen", lambda request, **kw: asked.append(request.full_url) or
                        real(request, **kw))
    loaded = load_scenario(scenario(tmp_path, server))
    setup = release_setup(loaded.scenario)
    assert read_history(loaded.scenario.traffic.history) is setup.history
    assert len(asked) == 3 and all(u.startswith(server.removeprefix("prometheus+")) for u in asked)
    again = pickle.loads(pickle.dumps(loaded.scenario))  # as workers receive it: no new question either
    assert read_history(again.traffic.history) is setup.history and len(asked) == 3
    assert loaded.effective["traffic"]["history"] == server


def test_a_long_window_is_asked_in_parts_and_joined(server, monkeypatch):
    whole = live.read_history_live(source(server))
    monkeypatch.setattr(live, "MAX_POINTS", 500)  # 1560 points: 4 parts per query
    live._read.cache_clear()
    parts = live.read_history_live(source(server))
    assert parts is not whole and parts.sha256() == whole.sha256()


def test_a_server_that_is_down_is_exit_2_naming_the_url(tmp_path, server):
    url = f"prometheus+http://127.0.0.1:{free_port()}"
    result = evaluate(str(scenario(tmp_path, server)), "--metrics", url)
    assert result.exit_code == 2
    assert (f"{url}: traffic.history_range.queries.requests: cannot reach Prometheus: connection refused"
            in result.stderr)


def test_a_query_prometheus_refuses_is_exit_2_with_its_error(server, tmp_path):
    result = CliRunner().invoke(app, ["check", str(scenario(tmp_path, server, errors="sum(rate(x[1m]"))])
    assert result.exit_code == 2
    assert (f"{server}: traffic.history_range.queries.errors: Prometheus refused the query: HTTP 400 Bad Request: "
            "bad_data: 1:15: parse error: unclosed left parenthesis (got 'sum(rate(x[1m]')") in result.stderr


def test_an_empty_result_and_non_numeric_samples_are_exit_2(server, tmp_path):
    result = CliRunner().invoke(app, ["check", str(scenario(tmp_path, server, errors=ERRORS.replace("5..", "6..")))])
    assert result.exit_code == 2
    assert (f"{server}: traffic.history_range.queries.errors: the query returned no series from {START} to {END} "
            "(append `or vector(0)` to count no errors as 0)") in result.stderr
    result = CliRunner().invoke(app, ["check", str(scenario(tmp_path, server, errors=f"{ERRORS} * NaN"))])
    assert result.exit_code == 2
    assert (f"{server}: traffic.history_range.queries.errors: data.result[0].values[0]: errors must be a finite "
            'count >= 0 (got "NaN"') in result.stderr


def test_several_series_and_a_window_beyond_the_data_are_explained(server, tmp_path):
    by_code = "sum by (code) (increase(http_requests_total[1m]))"
    result = CliRunner().invoke(app, ["check", str(scenario(tmp_path, server, requests=by_code))])
    assert result.exit_code == 2 and "the query returned 2 series" in result.stderr
    assert 'code="200"' in result.stderr and "aggregate them, e.g. sum(...)" in result.stderr
    result = CliRunner().invoke(app, ["check", str(scenario(tmp_path, server)), "--set",
                                      "traffic.history_range.end=2024-03-05T03:00:00Z"])
    assert result.exit_code == 2
    assert "no requests from 2024-03-05T02:01:00Z to 2024-03-05T03:00:00Z" in result.stderr


def test_the_answers_are_held_to_the_metric_history_budget(server, monkeypatch):
    monkeypatch.setenv("DEPLOYSIM_MAX_METRICS_BYTES", "20KiB")
    live._read.cache_clear()
    with pytest.raises(MetricsError) as caught:
        live.read_history_live(source(server))
    assert "the server's answers are too large (got more than 20 KiB" in str(caught.value)
    assert "DEPLOYSIM_MAX_METRICS_BYTES=SIZE" in str(caught.value)


@pytest.mark.parametrize("override, message", [
    ("traffic.history_range.step=30s", "--set traffic.history_range.step: must equal traffic.metric_interval (60s)"),
    ("traffic.history_range=null", "traffic.history: a live Prometheus history needs traffic.history_range"),
    ("traffic.history_range.start=2024-03-04T00:01:00", "traffic.history_range.start: a time needs its zone"),
    ("traffic.history_range.end=2024-03-04T00:01:30Z", "the window needs two points or more"),
    ("traffic.history=prometheus+http://127.0.0.1:99999", "traffic.history: not a URL: Port out of range"),
])
def test_a_bad_history_range_is_refused_before_asking(tmp_path, override, message):
    url = f"prometheus+http://127.0.0.1:{free_port()}"  # nothing listens: the problem is found before asking
    result = CliRunner().invoke(app, ["check", str(scenario(tmp_path, url)), "--set", override])
    assert result.exit_code == 2 and message in result.stderr, result.stderr


def test_a_history_range_with_a_file_history_is_refused(tmp_path):
    url = f"prometheus+http://127.0.0.1:{free_port()}"
    result = evaluate(str(scenario(tmp_path, url)), "--metrics", str(ROOT / "scenarios/data/history_example.csv"))
    assert result.exit_code == 2
    assert f"{tmp_path / 'live.yaml'}:7:5: traffic.history_range: only for a live Prometheus history" in result.stderr


def test_times_and_urls_are_read_as_written():
    assert live.instant("2024-03-04T01:00:00+01:00") == live.instant(T0) == live.instant(str(T0)) == T0
    for bad in ("2024-03-04T00:00:00", "yesterday", -1, 1e12, True):
        with pytest.raises(ValueError):
            live.instant(bad)
    assert live.live_url("/work/prometheus+https:/prom.example:9090/sub") is None  # a file name (the CLI keeps URLs)
    assert live.live_url("prometheus+https://prom.example:9090/sub") == "prometheus+https://prom.example:9090/sub"
    assert live.live_url("data/history.csv") is None
    assert live.live_url("PROMETHEUS+HTTP://h:1") == "PROMETHEUS+HTTP://h:1"
    assert live.url_problem("prometheus+http://u:p@h:9090") and live.url_problem("prometheus+http://h:9090?x=1")
    assert live.url_problem("prometheus+http://h:9090/prefix") is None
    assert live.LiveSource("u", 0, 119, 60, ()).points == 2  # at 0 and 60: the last one is at most end
