"""Scenario validation: every problem at once, each located at file:line:col with key, value and range."""

from pathlib import Path

import pytest

from sim.errors import ScenarioError
from sim.load.loader import load_scenario

GOOD = """\
version: 1
name: tiny
seed: 3
fleet: {hosts: 20}
strategies:
  push: {kind: push, parallel: 4}
  pull: {kind: pull}
"""


def write(tmp_path: Path, text: str | bytes, name: str = "s.yaml") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return path


def problems(path: Path, overrides=()) -> list[str]:
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path, overrides)
    return [p.render() for p in caught.value.problems]


def test_a_good_scenario_loads_with_defaults(tmp_path):
    loaded = load_scenario(write(tmp_path, GOOD))
    assert loaded.scenario.fleet.hosts == 20
    assert loaded.effective["network"]["per_flow"] == 625_000_000.0
    assert len(loaded.digest) == 64


def test_unknown_key_suggests_the_right_one(tmp_path):
    path = write(tmp_path, GOOD.replace("fleet: {hosts: 20}", "fleet: {hosts: 20, zonez: 2}"))
    assert problems(path) == [
        f"{path}:4:20: fleet.zonez: unknown key; did you mean 'zones'? (allowed hosts, sizes, zones, tiers, growth)"]


def test_unknown_key_inside_a_strategy_knows_its_kind(tmp_path):
    path = write(tmp_path, GOOD.replace("parallel: 4", "paralel: 4"))
    [message] = problems(path)
    assert message.startswith(f"{path}:6:22: strategies.push.paralel: unknown key; did you mean 'parallel'?")


def test_out_of_range_names_value_and_bound(tmp_path):
    path = write(tmp_path, GOOD.replace("parallel: 4", "parallel: 0"))
    assert problems(path) == [f"{path}:6:32: strategies.push.parallel: must be >= 1 (got 0; allowed >= 1)"]


def test_wrong_type(tmp_path):
    path = write(tmp_path, GOOD.replace("hosts: 20", "hosts: many"))
    [message] = problems(path)
    assert message.startswith(f"{path}:4:16: fleet.hosts: must be a valid integer")
    assert "(got 'many')" in message


def test_bad_unit_says_what_is_allowed(tmp_path):
    path = write(tmp_path, GOOD + "artifact: {size: 1.5XB}\n")
    assert problems(path) == [f"{path}:8:18: artifact.size: unknown unit 'XB' "
                              "(got '1.5XB'; allowed a size such as 500MB, 1.5GB, 2GiB (bare numbers are bytes))"]


def test_unknown_strategy_kind(tmp_path):
    path = write(tmp_path, GOOD.replace("kind: pull", "kind: pul"))
    assert problems(path) == [
        f"{path}:7:16: strategies.pull.kind: not one of the allowed values (got 'pul'; allowed 'push', 'pull', 'p2p')"]


def test_all_problems_are_reported_at_once_in_file_order(tmp_path):
    text = GOOD.replace("hosts: 20", "hosts: -5").replace("parallel: 4", "parallel: x") + "bogus: 1\n"
    messages = problems(write(tmp_path, text))
    assert [m.split(": ")[1] for m in messages] == ["fleet.hosts", "strategies.push.parallel", "bogus"]


def test_yaml_syntax_error_is_located(tmp_path):
    path = write(tmp_path, "version: 1\nname: [unclosed\nfleet: {hosts: 3}\n")
    [message] = problems(path)
    assert message.startswith(f"{path}:3:") and "YAML syntax error" in message


def test_duplicate_keys_are_an_error(tmp_path):
    [message] = problems(write(tmp_path, GOOD + "seed: 4\n"))
    assert "YAML syntax error" in message and "seed" in message


def test_empty_file(tmp_path):
    path = write(tmp_path, "")
    assert problems(path) == [f"{path}:1:1: file is empty (allowed a mapping with version: 1)"]


def test_non_utf8_file_names_the_byte_and_its_place(tmp_path):
    path = write(tmp_path, b"version: 1\nname: caf\xe9\n")
    assert problems(path) == [f"{path}:2:10: file is not UTF-8 text (got byte 0xe9; allowed UTF-8)"]


def test_a_list_at_the_top_is_refused(tmp_path):
    [message] = problems(write(tmp_path, "- 1\n- 2\n"))
    assert "the top level must be a mapping" in message


def test_missing_or_wrong_version(tmp_path):
    path = write(tmp_path, GOOD.replace("version: 1", "version: 2"))
    assert problems(path) == [f"{path}:1:10: version: unsupported or missing scenario format version (got 2; allowed 1)"]


def test_missing_file(tmp_path):
    [message] = problems(tmp_path / "nope.yaml")
    assert message.endswith("cannot read file: No such file or directory")


def test_overrides_apply_and_are_located_as_set(tmp_path):
    path = write(tmp_path, GOOD)
    loaded = load_scenario(path, ["fleet.hosts=5000", "strategies.push.parallel=8", "fleet.sizes=[10, 100]"])
    assert loaded.scenario.fleet.hosts == 5000
    assert loaded.scenario.strategies["push"].parallel == 8
    assert loaded.scenario.fleet_sizes() == [10, 100]
    assert problems(path, ["fleet.hosts=0"]) == ["--set fleet.hosts: must be >= 1 (got 0; allowed >= 1)"]
    assert problems(path, ["fleet.hostz=3"])[0].startswith("--set fleet.hostz: unknown key; did you mean 'hosts'?")


def test_malformed_override(tmp_path):
    assert problems(write(tmp_path, GOOD), ["fleet.hosts"]) == [
        "--set fleet.hosts: an override must look like key.path=value (allowed for example fleet.hosts=5000)"]


def test_lognormal_needs_p95_above_median(tmp_path):
    path = write(tmp_path, GOOD.replace("{kind: pull}", "{kind: pull, wakeup: {dist: lognormal, median: 1s, p95: 500ms}}"))
    [message] = problems(path)
    assert message == f"{path}:7:30: strategies.pull.wakeup: p95 must be >= median (got median=1.0s, p95=0.5s)"


def test_empirical_distribution_reads_a_csv_column_next_to_the_scenario(tmp_path):
    (tmp_path / "wake.csv").write_text("host,seconds\na,0.1\nb,0.2\n")
    path = write(tmp_path, GOOD.replace("{kind: pull}", "{kind: pull, wakeup: {dist: empirical, file: wake.csv, column: seconds}}"))
    assert load_scenario(path).scenario.strategies["pull"].wakeup.file == str(tmp_path / "wake.csv")
    bad = write(tmp_path, GOOD.replace("{kind: pull}", "{kind: pull, wakeup: {dist: empirical, file: wake.csv, column: secs}}"), "b.yaml")
    [message] = problems(bad)
    assert "no column 'secs'" in message and message.startswith(f"{bad}:7:")


def test_tiers_must_leave_production_hosts(tmp_path):
    path = write(tmp_path, GOOD.replace("fleet: {hosts: 20}", "fleet: {hosts: 20, tiers: {staging: 10, dogfood: 10}}"))
    [message] = problems(path)
    assert "must leave production hosts" in message


def test_include_merges_a_parameter_file_and_locates_its_problems(tmp_path):
    (tmp_path / "params.yaml").write_text("network:\n  per_flow: 2Gbps\n  host_download: 3Gbps\nfaults: {retries: 7}\n")
    main = write(tmp_path, "include: params.yaml\n" + GOOD + "network: {host_download: 4Gbps}\n")
    scenario = load_scenario(main).scenario
    assert scenario.network.per_flow == 2.5e8 and scenario.network.host_download == 5e8  # the scenario wins
    assert scenario.faults.retries == 7
    (tmp_path / "params.yaml").write_text("network:\n  per_flow: fast\n")
    assert problems(main) == [f"{tmp_path / 'params.yaml'}:2:13: network.per_flow: cannot read 'fast' "
                              "(got 'fast'; allowed a rate such as 1Gbps, 10Gbps, 125MB/s)"]


def test_include_cycles_are_refused(tmp_path):
    (tmp_path / "a.yaml").write_text("include: b.yaml\n")
    (tmp_path / "b.yaml").write_text("include: a.yaml\n")
    main = write(tmp_path, "include: a.yaml\n" + GOOD)
    [message] = problems(main)
    assert "includes form a cycle" in message


def test_nested_includes_and_their_order(tmp_path):
    (tmp_path / "c.yaml").write_text("faults: {retries: 9}\n")
    (tmp_path / "b.yaml").write_text("include: c.yaml\nnetwork: {per_flow: 2Gbps}\n")
    (tmp_path / "p1.yaml").write_text("faults: {backoff: 1s}\n")
    (tmp_path / "p2.yaml").write_text("faults: {backoff: 2s}\n")
    main = write(tmp_path, "include: [b.yaml, p1.yaml, p2.yaml]\n" + GOOD)
    scenario = load_scenario(main).scenario
    assert scenario.faults.retries == 9 and scenario.network.per_flow == 2.5e8  # through b.yaml
    assert scenario.faults.backoff == 1.0  # earlier files win


def test_an_included_empirical_file_is_found_next_to_the_included_file(tmp_path):
    (tmp_path / "params").mkdir()
    (tmp_path / "params" / "wake.csv").write_text("seconds\n0.1\n0.2\n")
    (tmp_path / "params" / "p.yaml").write_text(
        "strategies:\n  pull: {kind: pull, wakeup: {dist: empirical, file: wake.csv, column: seconds}}\n")
    main = write(tmp_path, "include: params/p.yaml\n" + GOOD.replace("  pull: {kind: pull}\n", ""))
    assert load_scenario(main).scenario.strategies["pull"].wakeup.file == str(tmp_path / "params" / "wake.csv")


def test_a_renamed_key_says_its_new_name_where_it_was_written(tmp_path):
    path = write(tmp_path, GOOD + "sweep: {hosts: [10, 100]}\n")
    line = len(GOOD.splitlines()) + 1
    assert problems(path) == [f"{path}:{line}:1: sweep: renamed: write it as fleet.sizes "
                              "(e.g. fleet: {sizes: [10, 100, 1000]}) (got sweep; allowed fleet.sizes)"]
    assert problems(write(tmp_path, GOOD), ["sweep.hosts=[10]"]) == [
        "--set sweep.hosts: sweep: renamed: write it as fleet.sizes (e.g. fleet: {sizes: [10, 100, 1000]}) "
        "(got sweep; allowed fleet.sizes)"]


def test_an_unknown_key_made_by_an_override_is_located_at_the_override(tmp_path):
    [message] = problems(write(tmp_path, GOOD), ["fleat.hosts=3"])
    assert message.startswith("--set fleat.hosts: fleat: unknown key; did you mean 'fleet'?")
