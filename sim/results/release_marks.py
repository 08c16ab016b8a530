"""How a release's timeline marks what happened: where each stage begins (labelled with its name, in a
strip above the plots so no label sits on the data or on another label), and one distinct colour, line
and marker per kind of event (a rollback starting is not a rollback done).

Shared by the PNG a run writes (`sim.rollout.timeline`, from the release's records) and the report's
figure (`sim.report.timeline_figure`, from the files): both pass plain (time, build, label, event) rows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from matplotlib.lines import Line2D


@dataclass(frozen=True)
class Boundary:
    """Where a stage begins (seconds since the branch cut) and its label."""

    time: float
    text: str


@dataclass(frozen=True)
class EventStyle:
    color: str
    marker: str
    linestyle: str
    label: str
    height: float = 1.0  # where the marker sits (axes fraction): events close in time stay apart


EVENTS = {
    "rollback": EventStyle("#cf222e", "v", "--", "rollback started"),
    "rolled-back": EventStyle("#0969da", "s", ":", "rolled back", 0.92),
    "hotfix-build": EventStyle("#8250df", "P", "-.", "hotfix build shipped"),
    "smoke-test-failed": EventStyle("#bc4c00", "X", "--", "smoke test failed"),
    "resumed": EventStyle("#1a7f37", ">", ":", "resumed", 0.92),
}
STRIP_ROWS = 3  # rows of stage labels before labels share a row
PAD_PX = 4.0  # the least gap between two labels in a row


def boundaries(changes: Iterable[tuple[float, int, str, str]]) -> list[Boundary]:
    """Each stage's first start, from (time, build, label, event) rows in time order: a new label, or the
    first stage of a new build (labelled 'build N: label')."""
    found: list[Boundary] = []
    last: tuple[int, str] | None = None
    first_build = None
    for time, build, label, event in changes:
        if event != "start":
            continue
        first_build = build if first_build is None else first_build
        if last is None or (build, label) != last:
            new_build = last is not None and build != last[0] and build != first_build
            found.append(Boundary(float(time), f"build {build}: {label}" if new_build else str(label)))
        last = (build, label)
    return found


def mark_events(ax, events: Iterable[tuple[float, str]], x: Callable[..., Any] = float) -> None:
    """A vertical line with a marker at the top of `ax` for each (time, event) of a kind in EVENTS."""
    for time, event in events:
        style = EVENTS.get(event)
        if style is None:
            continue
        ax.axvline(x(time), color=style.color, linestyle=style.linestyle, linewidth=1.2, zorder=3)
        ax.plot([x(time)], [style.height], marker=style.marker, color=style.color, markersize=7, linestyle="",
                transform=ax.get_xaxis_transform(), clip_on=False, zorder=4)


def event_handles(events: Iterable[str]) -> list[Line2D]:
    """Legend entries for the kinds of event that occur, in EVENTS order."""
    present = set(events)
    return [Line2D([], [], color=s.color, marker=s.marker, linestyle=s.linestyle, label=s.label)
            for kind, s in EVENTS.items() if kind in present]


def label_stages(strip, axes, marks: list[Boundary], x: Callable[..., Any] = float) -> list:
    """A thin line at each boundary across `axes`, and its label in `strip` (an axes above them, axis
    off, sharing their x): each label starts at its boundary, in the first row where it clears the
    labels before it (measured by the renderer); past STRIP_ROWS rows, in the row that ends first."""
    strip.set_ylim(STRIP_ROWS, 0)
    strip.axis("off")
    for ax in axes:
        for mark in marks:
            ax.axvline(x(mark.time), color="#8c959f", linewidth=0.8, zorder=1)
    for mark in marks:
        strip.axvline(x(mark.time), color="#8c959f", linewidth=0.8)
    strip.figure.canvas.draw()  # lay the figure out, so that the extents below are the final ones
    renderer = strip.figure.canvas.get_renderer()
    right_edge = strip.get_window_extent(renderer).x1
    ends = [-float("inf")] * STRIP_ROWS
    texts = []
    for mark in marks:
        text = strip.text(x(mark.time), 0.5, " " + mark.text, fontsize=8, va="center", ha="left", clip_on=False)
        box = text.get_window_extent(renderer)
        if box.x1 > right_edge:  # no room to the right: end at the boundary instead
            text.set_horizontalalignment("right")
            text.set_text(mark.text + " ")
            box = text.get_window_extent(renderer)
        row = next((i for i, end in enumerate(ends) if box.x0 >= end + PAD_PX), min(range(STRIP_ROWS), key=ends.__getitem__))
        text.set_y(row + 0.5)
        ends[row] = box.x1
        texts.append(text)
    return texts
