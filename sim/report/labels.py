"""Text labels on a figure's points, placed where they collide with nothing: each label tries offsets around
its point, nearest first, and takes the first whose box (as the renderer measures it, leader line included)
overlaps no label placed before it, stays inside the axes and covers no other point's marker.

Matplotlib has no such placement of its own (adjustText does it by repulsion, iteratively); a few points
per panel need no more than this greedy search. A label that finds no free place takes the one that
collides least, so it is never dropped.

    annotations = place(ax, [((x, y), "6"), ((x2, y2), "9, 15")], fontsize=8)
"""

from __future__ import annotations

import math

import numpy as np

RINGS = (7, 14, 24, 38, 56)  # offsets from the point, in points, tried nearest first
DIRECTIONS = 12  # angles tried per ring, starting up and to the right
MARKER = 5  # the half-width (pixels) of the box kept free around every point's marker


def place(ax, labels: list[tuple[tuple[float, float], str]], fontsize: float = 8, zorder: float = 8) -> list:
    """Annotate each (data position, text) of `labels` on `ax` without collisions; return the annotations.
    The figure is drawn once first so that its layout, and so every box, is final."""
    fig = ax.figure
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    inside = ax.get_window_extent(renderer)
    markers = _marker_boxes(ax)
    placed: list = []
    annotations = []
    for where, text in labels:
        best, best_cost = None, None
        for dx, dy in _candidates():
            annotation = _annotate(ax, where, text, dx, dy, fontsize, zorder)
            box = annotation.get_window_extent(renderer)
            cost = (sum(box.overlaps(other) for other in placed),
                    not (inside.contains(box.x0, box.y0) and inside.contains(box.x1, box.y1)),
                    sum(box.overlaps(m) for m in markers))
            if best_cost is None or cost < best_cost:
                if best is not None:
                    best.remove()
                best, best_cost = annotation, cost
            else:
                annotation.remove()
            if cost == (0, False, 0):
                break
        assert best is not None  # the loop above tried at least one spot
        placed.append(best.get_window_extent(renderer))
        annotations.append(best)
    return annotations


def _candidates():
    for radius in RINGS:
        for k in range(DIRECTIONS):
            angle = math.pi / 4 + 2 * math.pi * k / DIRECTIONS
            yield radius * math.cos(angle), radius * math.sin(angle)


def _annotate(ax, where, text, dx, dy, fontsize, zorder):
    """A label offset by (dx, dy) points, aligned away from its point; a leader line when it sits apart."""
    far = math.hypot(dx, dy) > RINGS[0] + 1
    annotation = ax.annotate(
        text, where, xytext=(dx, dy), textcoords="offset points", fontsize=fontsize, zorder=zorder,
        ha="left" if dx > 1 else "right" if dx < -1 else "center",
        va="bottom" if dy > 1 else "top" if dy < -1 else "center",
        bbox={"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "none", "alpha": 0.8},
        arrowprops={"arrowstyle": "-", "color": "0.5", "lw": 0.5, "shrinkA": 0, "shrinkB": 3} if far else None)
    annotation.set_in_layout(False)  # inside the axes: the layout, and so the boxes measured, stay as they are
    return annotation


def _marker_boxes(ax) -> list:
    """A small box around every point drawn on `ax` (lines' markers and scatter offsets), in pixels."""
    from matplotlib.transforms import Bbox

    points = []
    for line in ax.get_lines():
        if line.get_marker() not in (None, "None", "", " "):
            points += list(zip(line.get_xdata(), line.get_ydata()))
    for collection in ax.collections:
        offsets = collection.get_offsets()
        if len(offsets) and collection.get_offset_transform() is ax.transData:
            points += [tuple(p) for p in np.asarray(offsets)]
    boxes = []
    for x, y in points:
        if not (np.isfinite(x) and np.isfinite(y)):
            continue
        px, py = ax.transData.transform((float(x), float(y)))
        boxes.append(Bbox([[px - MARKER, py - MARKER], [px + MARKER, py + MARKER]]))
    return boxes
