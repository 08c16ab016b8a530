"""The CI gate of `evaluate` and `sweep` (`sim.results.ci_gate`): JUnit XML, the Markdown job summary and
GitHub Actions annotations, read back independently of how they were written: XML parsed with ElementTree,
numbers compared with the command's own JSON output, lines found by searching the scenario's YAML text."""

from __future__ import annotations

import json
import math
import re
import shutil
import xml.etree.ElementTree as ET

import pytest
from typer.testing import CliRunner

from sim.cli import app
from sim.evaluation.acceptance import CRITERIA, Verdict
from sim.load.loader import load_scenario
from sim.results import ci_gate

KEYS = {measure: key for key, measure, _ in CRITERIA}
POLICY = 'a<b&"c"]]>'  # XML's special characters, and the end of a CDATA section

# Two policies on a tiny fleet: `tight` rolls back good builds (fails max_false_rollback_rate), the other
# misses bad builds (fails max_miss_rate, set in the included file); neither catches any before 10% exposure
# (the whole fleet updates at once); the default max_blocked_rate cannot pass on 20 good builds (uncertain).
SCENARIO = """\
version: 1
name: ci-gate-test
seed: 5
include: accept.yaml
fleet: {hosts: 50, tiers: {canary: 0}}
artifact: {size: 10MB, files: 10}
strategies:
  pull: {kind: pull, publish: 0, key_write: 10ms, wakeup: 50ms, verify_rate: 1000MB/s, activation: 1s}
rollout:
  strategy: pull
  steps:
    - set_weight: 100
    - pause: 5m
    - analysis: {gates: [g]}
traffic: {dispersion: 0, diurnal: {amplitude: 0}, requests_per_host: 0.5, error_rate: 1.2%}
build: {build_time: 0, bad: {onset: 0}}
schedule: {start: "Tue 10:00"}
evaluation:
  releases: 40
  bad_share: 50%
  policies:
    tight:
      g: {semantics: threshold, metric: error_rate, max: 1.5%, count: 1}
    'a<b&"c"]]>':
      g: {semantics: threshold, metric: error_rate, max: 5%, count: 1}
  acceptance:
    max_false_rollback_rate: 1%
    caught_before_exposure: 50%
"""
INCLUDED = "evaluation:\n  acceptance:\n    max_miss_rate: 90%\n"
QUIET = {"GITHUB_ACTIONS": None, "GITHUB_STEP_SUMMARY": None, "GITHUB_WORKSPACE": None}


def invoke(*args, **env):
    return CliRunner().invoke(app, [str(a) for a in args], env={**QUIET, **{k: str(v) for k, v in env.items()}})


def write_scenario(folder):
    (folder / "accept.yaml").write_text(INCLUDED)
    (folder / "tiny.yaml").write_text(SCENARIO)
    return folder / "tiny.yaml"


@pytest.fixture(scope="module")
def evaluated(tmp_path_factory):
    """One real `deploysim evaluate` with every CI output, as on GitHub Actions."""
    folder = tmp_path_factory.mktemp("ci")
    scenario = write_scenario(folder)
    result = invoke("evaluate", scenario, "--workers", "1", "--format", "json", "--junit", folder / "junit.xml",
                    "--summary", folder / "reports" / "summary.md", GITHUB_ACTIONS="true", GITHUB_WORKSPACE=folder)
    assert result.exit_code == 1, result.output
    return folder, result, json.loads(result.stdout)["results"]


def line_of(text: str, key: str, after: str | None = None) -> int:
    """The 1-based line where `key:` is written (below the line `after:`, when given)."""
    lines = text.splitlines()
    start = 0 if after is None else next(i for i, line in enumerate(lines) if line.strip() == f"{after}:") + 1
    return next(i + 1 for i in range(start, len(lines)) if lines[i].strip().startswith(f"{key}:"))


def test_junit_has_a_testcase_per_policy_and_criterion_failing_exactly_the_criteria_that_do_not_pass(evaluated):
    folder, _, data = evaluated
    root = ET.parse(folder / "junit.xml").getroot()
    assert root.tag == "testsuites"
    cases = {(case.get("classname"), case.get("name")): case for case in root.iter("testcase")}
    verdicts = {(v["policy"], KEYS[v["criterion"]]): v for v in data["acceptance"]}
    assert set(cases) == set(verdicts) and len(cases) == 2 * 4  # one each, nothing else
    assert [s.get("name") for s in root.findall("testsuite")] == ["tight", POLICY]
    for key, case in cases.items():
        failure = case.find("failure")
        status = verdicts[key]["status"]
        assert (failure is None) == (status == "pass"), (key, status)  # the exit code is 1: all non-passes fail
        if failure is not None:
            assert failure.get("type") == status
    assert {v["status"] for v in verdicts.values()} == {"pass", "fail", "uncertain"}  # the scenario shows all three
    for suite in [root, *root.findall("testsuite")]:  # counts as JUnit readers sum them
        mine = list(suite.iter("testcase"))
        assert int(suite.get("tests")) == len(mine)
        assert int(suite.get("failures")) == sum(c.find("failure") is not None for c in mine)
        assert suite.get("errors") == "0" and suite.get("skipped") == "0"
        assert float(suite.get("time")) == pytest.approx(sum(float(c.get("time")) for c in mine), abs=0.01)


def test_failure_messages_carry_the_estimates_of_the_json_output(evaluated):
    folder, _, data = evaluated
    estimates = {(e["policy"], e["measure"]): e for e in data["estimates"]}
    bounds = {v["criterion"]: v["limit"] for v in data["acceptance"]}
    failures = [(suite.get("name"), failure) for suite in ET.parse(folder / "junit.xml").getroot().findall("testsuite")
                for failure in suite.iter("failure")]
    assert len(failures) == sum(v["status"] != "pass" for v in data["acceptance"])
    for policy, failure in failures:
        measure = failure.get("message").split()[1]
        estimate = estimates[(policy, measure)]
        shown = re.search(r" ([\d.]+)% \[([\d.]+)%-([\d.]+)%\] \(95% interval\) of (\d+) ([a-z ]+); bound ([<>]=) "
                          r"([\d.]+)%$", failure.get("message"))
        assert shown, failure.get("message")
        for text, value in zip(shown.groups()[:3], (estimate["value"], estimate["low"], estimate["high"])):
            assert float(text) == pytest.approx(100 * value, rel=5e-3, abs=1e-9)  # three significant digits
        assert (int(shown[4]), shown[5]) == (estimate["n"], estimate["population"])
        assert float(shown[7]) == pytest.approx(100 * bounds[measure])
        full = dict(re.findall(r"(\w+)=(\S+)", failure.text.splitlines()[1]))  # every digit, for tools
        for name in ("value", "low", "high"):
            assert float(full["estimate" if name == "value" else name]) == pytest.approx(estimate[name], abs=1e-9)


def test_xml_special_characters_in_a_policy_name_are_escaped(evaluated):
    folder, _, _ = evaluated
    raw = (folder / "junit.xml").read_text()
    assert 'name="a&lt;b&amp;&quot;c&quot;]]&gt;"' in raw and POLICY not in raw
    names = {case.get("classname") for case in ET.fromstring(raw.encode()).iter("testcase")}
    assert POLICY in names  # parsed back as written
    odd = ci_gate.junit_xml(gate([verdict("bell\x07\x1bname", "miss_rate", "fail", 0.5)]))
    assert ET.fromstring(odd.encode()).find("testsuite").get("name") == "bell\\x07\\x1bname"


def test_summary_is_markdown_under_a_mebibyte_with_a_row_per_policy_and_criterion(evaluated):
    folder, _, data = evaluated
    text = (folder / "reports" / "summary.md").read_text()
    assert len(text.encode()) < 2**20
    assert "## deploysim evaluate ci-gate-test: FAIL (exit code 1)" in text
    rows = [line for line in text.splitlines() if line.startswith("| ") and "`" in line]
    assert len(rows) == len(data["acceptance"])
    for row, v in zip(rows, data["acceptance"]):
        cells = [c.strip() for c in row.strip("|").split(" | ")]
        assert cells[1:3] == [f"`{KEYS[v['criterion']]}`", v["status"].upper()]
        assert cells[4] == f"{v['n']} {v['population']}"
    assert r'| a\<b\&"c"\]\]\> |' in text  # the name, literally


def test_a_summary_of_many_policies_is_cut_under_its_limit_with_a_line_saying_how_many_rows_were_left_out():
    many = [verdict(f"policy-{i:05d}-" + "x" * 200, measure, "fail", 0.5) for i in range(6000)
            for _, measure, _ in CRITERIA]
    text = ci_gate.summary_markdown(gate(many))
    assert 2**20 - 2000 < len(text.encode()) < 2**20
    kept = sum(line.startswith("| policy-") for line in text.splitlines())
    left = int(re.search(r"_([\d,]+) more rows left out", text)[1].replace(",", ""))
    assert kept + left == len(many) and left > 0
    small = ci_gate.summary_markdown(gate(many[:3]))
    assert "left out" not in small and sum(line.startswith("| policy-") for line in small.splitlines()) == 3


def test_annotations_point_at_the_line_of_each_bound_in_the_file_that_wrote_it(evaluated):
    folder, result, data = evaluated
    lines = [line for line in result.stderr.splitlines() if line.startswith("::")]
    assert not any(line.startswith("::") for line in result.stdout.splitlines())  # stdout stays JSON
    scenario, included = (folder / "tiny.yaml").read_text(), (folder / "accept.yaml").read_text()
    expected = {"max_false_rollback_rate": ("tiny.yaml", line_of(scenario, "max_false_rollback_rate")),
                "caught_before_exposure": ("tiny.yaml", line_of(scenario, "caught_before_exposure")),
                "max_miss_rate": ("accept.yaml", line_of(included, "max_miss_rate")),
                # a default, written nowhere: the section where it would be written
                "max_blocked_rate": ("tiny.yaml", line_of(scenario, "acceptance", after="evaluation"))}
    statuses = [v["status"] for v in data["acceptance"]]
    assert sum(line.startswith("::error ") for line in lines) == statuses.count("fail")
    assert sum(line.startswith("::warning ") for line in lines) == statuses.count("uncertain")
    for line in lines:
        props = dict(part.split("=", 1) for part in line.split(" ", 1)[1].split("::", 1)[0].split(","))
        key = props["title"].rsplit(" ", 1)[1]
        assert (props["file"], int(props["line"])) == expected[key], line


def test_annotations_are_capped_at_ten_per_kind_largest_relative_miss_first_and_escaped():
    fails = [verdict(f"p{i}", "false_rollback_rate", "fail", 0.0101 + i / 10_000) for i in range(25)]  # miss 1-25%
    unsure = [verdict(f"q{i}", "false_rollback_rate", "uncertain", 0.005, high=0.011 + i / 1000) for i in range(12)]
    odd = verdict("50%,a:b\r\nc", "caught_before_exposure", "fail", 0.0, op=">=", limit=0.5)  # misses by 100%
    lines = ci_gate.annotations(gate([*fails, *unsure, odd], places={"max_false_rollback_rate": ("s, 1:a.yaml", 7)}))
    errors = [line for line in lines if line.startswith("::error ")]
    warnings = [line for line in lines if line.startswith("::warning ")]
    assert len(errors) == 10 and len(warnings) == 10 and len(lines) == 21
    assert errors[0] == ("::error title=deploysim evaluate%3A 50%25%2Ca%3Ab%0D%0Ac fails caught_before_exposure::"
                         "caught_before_exposure 0%25 [0%25-0%25] (95%25 interval) of 280 bad builds; bound >= 50%25: "
                         "the estimate misses the bound")  # no file or line known: none given
    titles = [re.search(r"title=deploysim evaluate%3A (\S+) ", line)[1] for line in errors[1:] + warnings]
    assert titles == [f"p{i}" for i in range(24, 15, -1)] + [f"q{i}" for i in range(11, 1, -1)]
    assert errors[1].startswith("::error file=s%2C 1%3Aa.yaml,line=7,title=")
    assert lines[-1] == ("deploysim: 16 more failing and 2 more uncertain criteria not annotated (at most 10 of each "
                         "kind; the JUnit report and the summary list them all)")
    assert ci_gate.annotations(gate(fails, exit_code=0)) == []  # a passing command (a sweep) annotates nothing


def test_written_at_falls_back_to_the_nearest_written_key_for_a_set_override(tmp_path):
    scenario = write_scenario(tmp_path)
    loaded = load_scenario(scenario, ["evaluation.acceptance={max_false_rollback_rate: 2%}"])
    place = ci_gate.written_at(loaded, ("evaluation", "acceptance", "max_false_rollback_rate"), str(tmp_path))
    assert place == ("tiny.yaml", line_of(SCENARIO, "evaluation"))  # --set has no line: its section's key


def test_a_report_over_a_file_deploysim_did_not_write_is_refused_before_the_run(tmp_path):
    scenario = write_scenario(tmp_path)
    foreign = tmp_path / "junit.xml"
    foreign.write_text("<testsuites/>\n")
    for extra in ([], ["--overwrite"]):
        result = invoke("evaluate", scenario, "--junit", foreign, "--summary", tmp_path / "new.md", *extra)
        assert result.exit_code == 2, result.output
        why = "was not written by deploysim" if extra else "already exists; choose another file or pass --overwrite"
        assert result.stderr.splitlines() == [f"--junit {foreign}: {why}" + (
            "; --overwrite replaces only a file deploysim wrote" if extra else "")]
        assert foreign.read_text() == "<testsuites/>\n" and not (tmp_path / "new.md").exists()


def test_bad_input_writes_no_report(tmp_path):
    scenario = write_scenario(tmp_path)
    reports = tmp_path / "reports"
    result = invoke("evaluate", scenario, "--junit", reports / "j.xml", "--summary", reports / "s.md", "--annotations",
                    "--set", "evaluation.acceptance={max_false_rollbacks: 1%}")
    assert result.exit_code == 2 and "did you mean 'max_false_rollback_rate'?" in result.stderr
    assert not reports.exists() and "::" not in result.output


def test_a_sweep_that_passes_skips_the_other_points_and_appends_to_the_step_summary(tmp_path, evaluated):
    scenario = write_scenario(tmp_path)
    step = tmp_path / "step_summary.md"
    step.write_text("# an earlier step\n")
    mine = tmp_path / "junit.xml"
    shutil.copy(evaluated[0] / "junit.xml", mine)  # written by deploysim: replaced with --overwrite
    result = invoke("sweep", scenario, "--workers", "1", "--releases", "20", "--junit", mine, "--overwrite",
                    "--summary", step, "--annotations", "--set",
                    "evaluation.sweep={base: tight, grid: {gates.g.max: [1.5%, 3%]}}", "--set",
                    "evaluation.acceptance={max_false_rollback_rate: 30%, max_blocked_rate: 100%}",
                    GITHUB_STEP_SUMMARY=step)
    assert result.exit_code == 0, result.output
    root = ET.parse(mine).getroot()
    assert root.get("name") == "deploysim sweep ci-gate-test"
    assert root.get("failures") == "0" and int(root.get("skipped")) >= 1  # max=1.5% does not pass; max=3% does
    assert {s.get("name") for s in root.findall("testsuite")} == {"max=1.5%", "max=3%", "sweep"}
    recommendation = root.find("testsuite[@name='sweep']/testcase[@name='recommendation']/system-out").text
    assert recommendation.startswith("adopt #2 max=3%")
    text = step.read_text()
    assert text.startswith("# an earlier step\n") and "## deploysim sweep ci-gate-test: PASS (exit code 0)" in text
    assert "**Recommendation:** adopt \\#2 max=3%" in text
    assert not [line for line in result.stderr.splitlines() if line.startswith("::")]  # exit 0: nothing to mark


def verdict(policy, measure, status, estimate, low=None, high=None, n=280, op="<=", limit=0.01) -> Verdict:
    low = estimate if low is None else low
    high = estimate if high is None else high
    population = "good builds" if "rollback" in measure else "bad builds"
    return Verdict(policy, measure, f"{op} {limit:.4g}", estimate, low, high, n, population, status, op, limit)


def gate(verdicts, exit_code=1, places=None) -> ci_gate.Gate:
    return ci_gate.Gate("evaluate", "synthetic", tuple(verdicts), KEYS, exit_code, 0.95, 1.0, places or {})


def test_relative_miss_ranks_a_bound_of_zero_and_an_empty_population():
    assert ci_gate.miss(verdict("p", "miss_rate", "fail", 0.2, limit=0.0)) == math.inf
    assert ci_gate.miss(verdict("p", "miss_rate", "uncertain", math.nan, n=0)) == -math.inf
    assert ci_gate.miss(verdict("p", "caught_before_exposure", "fail", 0.45, op=">=", limit=0.9)) == pytest.approx(0.5)
