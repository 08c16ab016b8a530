"""The page of a bench run, checked against its files read independently: each strategy's answer and row
(summary.csv), the bench's setting (the manifest), and every host that retried or was never updated with
its reason (hosts.csv)."""

from __future__ import annotations

import csv
import json

from tests.report.reading import parse, text


def _rows(path):
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def test_the_page_needs_no_network_and_shows_the_run_and_the_setting(bench_folder):
    page = bench_folder / "report.html"
    document = parse(page)
    raw = page.read_text(encoding="utf-8")
    assert raw.startswith("<!DOCTYPE html>\n<!-- written by deploysim report") and "<script" not in raw
    assert all(img.get("src", "").startswith("data:image/png;base64,") for img in document.iter("img"))
    manifest = json.loads((bench_folder / "manifest.json").read_text())
    setting = {text(dt): text(dd) for dt, dd in zip(document.iter("dt"), document.iter("dd"))}
    assert setting["hosts"] == str(manifest["config"]["hosts"])
    assert setting["not reproduced from the scenario"] == ", ".join(manifest["not_reproduced"])


def test_each_strategy_row_and_answer_are_summary_csv(bench_folder):
    rows = _rows(bench_folder / "summary.csv")
    document = parse(bench_folder / "report.html")
    answers = {p.get("data-strategy"): p for p in document.iter("p") if p.get("class") == "deploy"}
    shown = {tr.get("data-strategy"): tr for tr in document.iter("tr") if tr.get("data-strategy") and tr.find("th")}
    assert set(answers) == set(shown) == {r["strategy"] for r in rows}
    for row in rows:
        assert float(answers[row["strategy"]].get("data-max")) == float(row["max_s"])
        assert f"updated {row['hosts_updated']} of {row['fleet_hosts']} hosts" in text(answers[row["strategy"]])
        cells = {td.get("data-key"): td.get("data-value") for td in shown[row["strategy"]].iter("td")}
        assert int(cells["updated"]) == int(row["hosts_updated"])
        for key in ("p50", "max", "transfer_mean"):
            file_value = row[f"{key}_s"]
            assert (cells[key] or "") == "" if file_value == "" else float(cells[key]) == float(file_value)


def test_every_host_not_updated_is_listed_with_its_reason(bench_folder):
    hosts = _rows(bench_folder / "hosts.csv")
    never = [(h["strategy"], h["host"], h["reason"]) for h in hosts if h["updated"] != "True"]
    assert never and all(reason for _, _, reason in never)  # the scenario's down hosts
    document = parse(bench_folder / "report.html")
    listed = {(tr.get("data-strategy"), tr.get("data-host")): tr for tr in document.iter("tr") if tr.get("data-host")}
    for strategy, host, reason in never:
        cells = {td.get("data-key"): td for td in listed[(strategy, host)].iter("td") if td.get("data-key")}
        assert text(cells["reason"]) == reason and text(cells["done"]) == "never"
