"""Plots a person can read, checked on what the renderer drew (each figure drawn with Agg, every text it
drew recorded with its window extent): no two texts overlap (tick labels, axis labels, titles, annotations,
legend entries); every axis with tick labels has a label, and the label or each tick names the unit
(a time axis from seconds to days names its unit on every tick: '10 s', '1 h', '7 d'; a swept share
'0%', '1%'); numeric ticks are
labelled across the axis, not bunched at one end; crossover labels are upright, readable and backed.

The figures are the PNGs the commands write (`sim.results.plots`) and the report's SVG figures before
they become SVG (`sim.report.figures`), each on small frames built here: a wide range (10 to 100,000
hosts, seconds to a week) and a narrow one (a 1-6 s bench deploy, four to 120 hosts).
"""

from __future__ import annotations

import itertools
import re

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.text import Text

from sim.report import figures
from sim.results import plots
from sim.results.tables import Crossover

NUMBER = re.compile(r"^[−-]?\d[\d.,]*\s*(ms|s|min|h|d|k|M|%)?$")
DURATION = re.compile(r"^\d[\d.]*\s(ms|s|min|h|d)$")
WITH_UNIT = re.compile(r"^[−-]?\d[\d.,]*\s?(ms|s|min|h|d|%)$")  # a tick that names its unit itself
UNIT_IN_LABEL = re.compile(r"\((s|min|h|hosts|requests)\b|%|\bhosts\b")
TOLERANCE = 0.5  # pixels two extents may share (antialiased edges)


def summary(sizes, times):
    """A summary table as `run` makes it: per strategy and size, the median deploy time and its band."""
    rows = [{"strategy": name, "fleet_size": size, "max": t, "max_p5": 0.8 * t, "max_p95": 1.25 * t,
             "replications": 3} for name, ts in times.items() for size, t in zip(sizes, ts)]
    return pd.DataFrame(rows)


WIDE_SIZES = [10, 100, 1_000, 10_000, 100_010]
WIDE = summary(WIDE_SIZES, {"rsync-serial": [55, 580, 5_900, 59_000, 590_000],
                            "rsync-parallel-32": [7.5, 30, 200, 1_900, 19_000],
                            "consul-pull": [33, 45, 65, 110, 490]})
NARROW_SIZES = [4, 12, 40, 120]
NARROW = summary(NARROW_SIZES, {"rsync-2": [4.5, 9.8, 26, 71], "pull": [6.2, 6.9, 8.1, 9.5]})
WIDE_CROSSINGS = [Crossover("consul-pull", "rsync-serial", None, "already faster at the smallest fleet"),
                  Crossover("consul-pull", "rsync-parallel-32", 125.0, "between 100 and 1,000")]
NARROW_CROSSINGS = [Crossover("pull", "rsync-2", 6.3, "between 4 and 12")]


def hosts(done_by_strategy: dict, size: int) -> pd.DataFrame:
    rows = [{"strategy": name, "fleet_size": size, "replication": 0, "done": t}
            for name, done in done_by_strategy.items() for t in done]
    return pd.DataFrame(rows)


RNG = np.random.default_rng(7)
BENCH = hosts({"rsync-parallel-4": np.linspace(1.7, 5.1, 10), "consul-pull": np.linspace(0.45, 1.3, 10)}, 10)
LONG = hosts({"rsync-serial": np.sort(RNG.uniform(3, 600_000, 400)), "consul-pull": RNG.uniform(420, 500, 400)},
             400)


def as_dicts(crossings):
    return [{"pull": c.pull, "push": c.push, "hosts": c.hosts} for c in crossings]


def acceptance():
    rows = []
    for policy, status in [("tight", "fail"), ("a policy with a rather long name", "pass")]:
        for criterion, limit in [("false_rollback_rate", "0.01"), ("caught_before_exposure", "0.5")]:
            rows.append({"policy": policy, "criterion": criterion, "op": "<=", "limit": limit, "status": status,
                         "estimate": "0.03", "low": "0.01", "high": "0.07"})
    return rows


def swept(frame: pd.DataFrame, keys: dict) -> pd.DataFrame:
    """`frame` at every point of a grid (`run --sweep`): the times scaled per point, a `set KEY` per key."""
    parts = []
    for i, values in enumerate(itertools.product(*keys.values())):
        settings = {f"set {key}": value for key, value in zip(keys, values)}
        parts.append(frame.assign(max=frame["max"] * (1 + 0.7 * i), **settings))
    return pd.concat(parts, ignore_index=True)


SWEPT = swept(WIDE, {"network.origin_egress": ["10Gbps", "40Gbps", "100Gbps"], "faults.down": ["0", "1%", "5%"]})


FIGURES = {
    "run deploy time, wide": lambda: plots.deploy_time_vs_fleet(WIDE, WIDE_CROSSINGS),
    "run deploy time, narrow": lambda: plots.deploy_time_vs_fleet(NARROW, NARROW_CROSSINGS),
    "run deploy time, with bounds": lambda: plots.deploy_time_vs_fleet(WIDE.assign(bound=0.6 * WIDE["max"]),
                                                                       WIDE_CROSSINGS),
    "fleet updated, bench 1-6 s": lambda: plots.fleet_updated_over_time(BENCH, 10),
    "fleet updated, a week": lambda: plots.fleet_updated_over_time(LONG, 400),
    "report deploy time, wide": lambda: figures.deploy_time_figure(WIDE.to_dict("records"),
                                                                   as_dicts(WIDE_CROSSINGS)),
    "report deploy time, with bounds": lambda: figures.deploy_time_figure(
        WIDE.assign(bound=0.6 * WIDE["max"]).to_dict("records"), as_dicts(WIDE_CROSSINGS)),
    "report deploy time, narrow": lambda: figures.deploy_time_figure(NARROW.to_dict("records"),
                                                                     as_dicts(NARROW_CROSSINGS)),
    "report criteria": lambda: figures.criteria_figure(acceptance()),
    "run --sweep: time vs a setting": lambda: plots.deploy_time_vs_setting(
        SWEPT, "network.origin_egress", ["network.origin_egress", "faults.down"]),
    "run --sweep: time vs a second setting": lambda: plots.deploy_time_vs_setting(
        SWEPT, "faults.down", ["network.origin_egress", "faults.down"]),
}


def drawn_texts(fig) -> dict:
    """Every non-empty text the figure drew (artist -> window extent), recorded as each one draws."""
    drawn = []
    original = Text.draw

    def record(text, renderer):
        if text.get_visible() and text.get_text().strip():
            drawn.append(text)
        return original(text, renderer)

    Text.draw = record
    try:
        fig.canvas.draw()
    finally:
        Text.draw = original
    renderer = fig.canvas.get_renderer()
    return {text: text.get_window_extent(renderer) for text in dict.fromkeys(drawn)}


@pytest.fixture(params=FIGURES)
def drawn(request):
    fig = FIGURES[request.param]()
    try:
        yield fig, drawn_texts(fig)
    finally:
        plt.close(fig)


def test_no_two_texts_overlap(drawn):
    fig, texts = drawn
    clashes = []
    for (a, box_a), (b, box_b) in itertools.combinations(texts.items(), 2):
        width = min(box_a.x1, box_b.x1) - max(box_a.x0, box_b.x0)
        height = min(box_a.y1, box_b.y1) - max(box_a.y0, box_b.y0)
        if width > TOLERANCE and height > TOLERANCE:
            clashes.append((a.get_text(), b.get_text()))
    assert clashes == []


def test_every_axis_is_labelled_with_its_unit_and_ticked_across(drawn):
    fig, texts = drawn
    checked = 0
    for ax in fig.axes:
        for axis, along in ((ax.xaxis, 0), (ax.yaxis, 1)):
            ticks = [(t, texts[t]) for t in axis.get_ticklabels() if t in texts]
            if not ticks:
                continue
            checked += 1
            label = axis.get_label().get_text()
            shown = [t.get_text() for t, _ in ticks]
            assert label.strip(), f"an axis without a label, ticks {shown}"
            if all(NUMBER.match(s) for s in shown):
                assert UNIT_IN_LABEL.search(label) or all(WITH_UNIT.match(s) for s in shown), (label, shown)
                frame = ax.get_window_extent()
                start, end = (frame.x0, frame.x1) if along == 0 else (frame.y0, frame.y1)
                centres = [(box.x0 + box.x1) / 2 if along == 0 else (box.y0 + box.y1) / 2 for _, box in ticks]
                where = sorted((c - start) / (end - start) for c in centres)  # 0: the axis' start, 1: its end
                assert len(where) >= 3 and where[0] <= 0.35 and where[-1] >= 0.65, (label, shown, where)
    assert checked >= 2


@pytest.mark.parametrize("name", [n for n in FIGURES if "deploy time" in n])
def test_time_is_in_readable_units_and_crossovers_are_upright(name):
    fig = FIGURES[name]()
    try:
        texts = drawn_texts(fig)
        ax = fig.axes[0]
        ticks = [t.get_text() for t in ax.yaxis.get_ticklabels() if t in texts]
        assert ticks and all(DURATION.match(s) for s in ticks), ticks
        labels = [t for t in texts if "faster than" in t.get_text()]
        assert labels, "no crossover label drawn"
        for label in labels:
            assert label.get_rotation() == 0
            assert label.get_fontsize() >= 8
            backing = label.get_bbox_patch()
            assert backing is not None and backing.get_facecolor()[:3] == (1.0, 1.0, 1.0)
    finally:
        plt.close(fig)


@pytest.mark.parametrize("draw", [lambda rows: plots.deploy_time_vs_fleet(rows, []),
                                  lambda rows: figures.deploy_time_figure(rows.to_dict("records"), [])],
                         ids=["png", "report"])
def test_the_deploy_time_plot_draws_each_strategy_s_lower_bound_in_its_colour(draw):
    bounded = WIDE.assign(bound=0.6 * WIDE["max"])
    fig = draw(bounded)
    lines = fig.axes[0].lines
    dotted = [line for line in lines if line.get_linestyle() == ":" and len(line.get_xdata())]
    solid = {line.get_label(): line for line in lines if line.get_linestyle() == "-"}
    for (name, group), line in zip(bounded.groupby("strategy", sort=False), dotted, strict=True):
        assert list(line.get_ydata()) == pytest.approx(list(group["bound"]))
        assert line.get_color() == solid[name].get_color()
    assert "lower bound (bottleneck)" in [text.get_text() for text in fig.legends[0].get_texts()]
    plt.close(fig)
