"""Release scenarios from the command line: the story, the distribution, the files, bad input."""

import json

import pandas as pd
from typer.testing import CliRunner

from sim.cli import app
from sim.commands.run import run
from sim.results.output import read_manifest

runner = CliRunner()
SLACK = "scenarios/slack_2020_pipeline.yaml"


def test_one_release_tells_its_story_and_writes_the_timeline(root, tmp_path):
    out = tmp_path / "r"
    result = runner.invoke(app, ["run", str(root / SLACK), "--out", str(out), "--workers", "1"])
    assert result.exit_code == 0, result.output
    assert "outcome: hotfixed" in result.output and "detected by errors" in result.output
    assert "lead time, branch cut to 100%" in result.output
    manifest = read_manifest(out)
    assert sorted(p.name for p in out.iterdir()) == manifest["files"]
    for name in ("releases.csv", "outcome_distribution.csv", "stages.csv", "metrics.csv", "decisions.csv", "timeline.png"):
        assert (out / name).stat().st_size > 0
    decisions = pd.read_csv(out / "decisions.csv")
    assert {"gate", "stage", "metric", "value", "rule", "action"} <= set(decisions.columns)


def test_replications_report_the_distribution_of_outcomes(root):
    result = runner.invoke(app, ["run", str(root / SLACK), "--replications", "6", "--format", "json", "--workers", "1",
                                 "--set", "build.bad_probability=50%"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)["results"]
    assert len(data["releases"]) == 6
    measures = {row["measure"] for row in data["distribution"]}
    assert {"outcome: promoted", "outcome: hotfixed", "detected", "false_rollback", "lead_time"} <= measures


def test_release_tables_do_not_depend_on_the_number_of_workers(root):
    one = run(str(root / SLACK), replications=4, seed=3, workers=1, progress=False)
    two = run(str(root / SLACK), replications=4, seed=3, workers=2, progress=False)
    pd.testing.assert_frame_equal(one.outcomes, two.outcomes)


def test_bad_rollout_input_is_located(tmp_path, root):
    text = (root / SLACK).read_text()
    text = text.replace("    - set_weight: 10\n", "    - set_weigth: 10\n", 1).replace("gates: [canary-errors]", "gates: [canary-erors]")
    text = text.replace("    failure_limit: 2 ", "    failure_limt: 2 ")
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    result = runner.invoke(app, ["check", str(path)])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert any(":42:7: rollout.steps[6]: a step needs exactly one of: stage, set_weight, pause, analysis, canary, approval; "
               "'set_weigth': did you mean 'set_weight'?" in line for line in lines), lines
    assert any("gates.errors.failure_limt: unknown key; did you mean 'failure_limit'?" in line for line in lines), lines
    assert any(line.endswith(":41:26: rollout.steps[5].analysis.gates[0]: gate 'canary-erors' is not defined in gates; "
                             "did you mean 'canary-errors'? (got 'canary-erors'; allowed errors, canary-errors)")
               for line in lines), lines
    assert len(lines) == 3  # the unknown gate name together with the field errors


def test_a_weight_above_100_and_a_missing_strategy(tmp_path, root):
    path = tmp_path / "s.yaml"
    path.write_text((root / SLACK).read_text().replace("set_weight: 100", "set_weight: 150").replace(
        "strategy: consul-pull", "strategy: consul-pul"))
    result = runner.invoke(app, ["check", str(path)])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert lines == [
        f"{path}:33:13: rollout.strategy: strategy 'consul-pul' is not defined in strategies; did you mean "
        "'consul-pull'? (got 'consul-pul'; allowed consul-pull, rsync-32)",
        f"{path}:50:19: rollout.steps[14].set_weight: must be between 0% and 100% (got 150; allowed a percent such "
        "as 10%, 2.5% or a bare number of percent 10 between 0 and 100)"]
