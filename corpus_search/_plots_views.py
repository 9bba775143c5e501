"""Charts for the corpus-tool views: dispersion barcodes and the co-mention network.

Matplotlib Figures without pyplot state, like :mod:`corpus_search._plots`; each states in
a caption what it is based on, and whether near-duplicate copies were counted once.
"""

from __future__ import annotations

from functools import lru_cache

import networkx as nx
import numpy as np
import pandas as pd
from matplotlib.font_manager import FontProperties
from matplotlib.textpath import TextToPath

from ._plots import Chart, copies_note

__all__ = ["plot_comentions", "plot_dispersion"]

_RESOLUTION = 4000
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@lru_cache(maxsize=4096)
def _text_size(text: str, fontsize: float) -> tuple[float, float]:
    """Width and height in points of one line of text in the default font, with room
    for the renderers' hinting (drawn text is up to ~3% wider than its outline)."""
    w, h, d = TextToPath().get_text_width_height_descent(text, FontProperties(size=fontsize),
                                                         ismath=False)
    return 1.05 * w + 1, h + d


def _month_ticks(bounds: list[tuple[str, float]], axis_points: float, fontsize: float
                 ) -> list[tuple[float, str]]:
    """Month-start ticks whose labels cannot overlap: ``Mar`` under each tick, the year
    under the first and under each January, ``undated`` for the undated tail. Where labels
    would collide, the first month, Januaries, the undated tail and then the months
    spanning most of the corpus are labelled; the others keep their grey line only."""
    ends = [x for _, x in bounds[1:]] + [1.0]
    # Each label's width as a share of the axis, the widest of its possible lines.
    widths = [(max(_text_size(m if m == "undated" else _MONTHS[int(m[5:7]) - 1], fontsize)[0],
                   _text_size(m[:4], fontsize)[0]) + 6) / axis_points for m, _ in bounds]
    rank = sorted(range(len(bounds)), key=lambda i: (
        i != 0, not (bounds[i][0].endswith("-01") or bounds[i][0] == "undated"),
        -(ends[i] - bounds[i][1]), i))
    kept: list[int] = []
    for i in rank:
        if all(abs(bounds[i][1] - bounds[j][1]) >= (widths[i] + widths[j]) / 2 for j in kept):
            kept.append(i)
    out, last_year = [], None
    for i in sorted(kept):
        month, x = bounds[i]
        if month == "undated":
            out.append((x, "undated"))
            continue
        year = month[:4]
        out.append((x, _MONTHS[int(month[5:7]) - 1] + (f"\n{year}" if year != last_year else "")))
        last_year = year
    return out


def plot_dispersion(hits: pd.DataFrame, *, title: str | None = None) -> Chart:
    """AntConc-style dispersion plot: one barcode strip per term, a line per occurrence.

    Occurrences are those in article bodies (the token stream; titles are not counted),
    as in :func:`~corpus_search._colloc.dispersion`.

    Parameters
    ----------
    hits
        A :func:`~corpus_search._colloc.dispersion` DataFrame (its ``attrs`` give the
        terms, order, words and articles in scope, month boundaries and, from
        ``Index.dispersion``, the query and ``count_once``). Occurrences closer than
        1/4000 of the corpus are drawn as one line; the count beside each term is of
        all occurrences.
    title
        Figure title; default names the terms.

    Returns
    -------
    matplotlib.figure.Figure
        Month starts are grey lines; their labels are thinned so none overlap. The
        caption says whether near-duplicate copies were counted once.
    """
    terms = list(hits.attrs.get("terms") or dict.fromkeys(hits["term"]))
    order = hits.attrs.get("order", "date")
    width_in = 9.0
    fig = Chart(figsize=(width_in, 0.85 + 0.62 * max(len(terms), 1)), layout="constrained")
    axes = fig.subplots(max(len(terms), 1), 1, sharex=True, squeeze=False)[:, 0]
    bounds = hits.attrs.get("boundaries") or []
    for ax, term in zip(axes, terms or [""], strict=True):
        pos = hits.loc[hits["term"] == term, "position"].to_numpy(dtype=float)
        # One line per occurrence, merged at screen resolution (1/4000 of the width):
        # lines closer than a pixel look the same and cost drawing time.
        drawn = np.unique(np.round(pos * _RESOLUTION)) / _RESOLUTION
        ax.eventplot(drawn, orientation="horizontal", lineoffsets=0.5, linelengths=0.9,
                     linewidths=0.6, colors="#1f4e79")
        for _, x in bounds[1:]:
            ax.axvline(x, color="#bbbbbb", linewidth=0.5, zorder=0)
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.set_yticks([])
        ax.set_ylabel(f"{term}\n({len(pos):,})", rotation=0, ha="right", va="center",
                      fontsize=9)
        for side in ("top", "right", "left"):
            ax.spines[side].set_visible(False)
    last = axes[-1]
    if order == "date" and bounds:
        # The strips are at least 3/4 of the figure's width (the term labels take the rest).
        ticks = _month_ticks(bounds, 0.75 * width_in * 72, 8)
        last.set_xticks([x for x, _ in ticks], [lab for _, lab in ticks], fontsize=8)
        last.set_xlabel("corpus, articles in date order (grey lines: month starts)")
    else:
        last.set_xticks(np.linspace(0, 1, 6), [f"{v:.0%}" for v in np.linspace(0, 1, 6)])
        last.set_xlabel("position in the corpus (articles in index order)")
    axes[0].set_title(title or f"Dispersion of {', '.join(terms)}", fontsize=11)
    caption = (f"Counted in bodies of {hits.attrs.get('articles', 0):,} articles, "
               f"{hits.attrs.get('tokens', 0):,} words "
               f"({copies_note(hits.attrs.get('count_once'))})")
    if hits.attrs.get("query") not in (None, "", "*"):
        caption += f" matching {hits.attrs['query']!r}"
    fig.text(0.01, -0.02, caption + "; each line is one occurrence.", fontsize=8,
             color="#444", ha="left", va="top")
    return fig


# --- the co-mention network ----------------------------------------------------------------

_NET_SIZE = (9.0, 7.0)                 # inches
_NET_AXES = (0.01, 0.09, 0.98, 0.83)   # left, bottom, width, height (figure fractions)
_LABEL_PAD = 0.15                      # the label box's pad, in font sizes
_LABEL_GAP = 2.0                       # points kept free between label boxes


def _component_layouts(g: nx.Graph, seed: int) -> list[tuple[list, np.ndarray]]:
    """Each connected component laid out on its own, biggest first: its nodes and their
    positions scaled so the component spans sqrt(its node count) (area grows with nodes)."""
    comps = sorted((sorted(c, key=str) for c in nx.connected_components(g)),
                   key=lambda c: (-len(c), str(c[0])))
    out = []
    for nodes in comps:
        if len(nodes) <= 2:
            xy = np.array([[-1.0, 0.0], [1.0, 0.0]])[: len(nodes)] * (len(nodes) - 1)
        else:
            pos = nx.spring_layout(g.subgraph(nodes), seed=seed,
                                   k=1.6 / np.sqrt(len(nodes)), weight="weight")
            xy = np.array([pos[n] for n in nodes])
            xy -= (xy.max(0) + xy.min(0)) / 2
            xy /= max(np.abs(xy).max(), 1e-9)
        out.append((nodes, xy * np.sqrt(len(nodes)) / 2))
    return out


def _pack(layouts: list[tuple[list, np.ndarray]], half: dict, unit: tuple[float, float],
          box: tuple[float, float]) -> dict | None:
    """Components in rows, biggest first, each in a cell that holds its nodes ``unit``
    (x, y) points apart per layout unit and their label boxes (``half`` sizes); rows are
    centred in ``box``. None if they do not fit."""
    cells = []
    for nodes, xy in layouts:
        h = np.array([half[n] for n in nodes])
        pts = xy * np.asarray(unit)
        lo, hi = (pts - h).min(0), (pts + h).max(0)
        cells.append((nodes, pts - lo + 2 * _LABEL_GAP, hi - lo + 4 * _LABEL_GAP))
    rows: list[list] = [[]]
    width = 0.0
    for cell in cells:
        if rows[-1] and width + cell[2][0] > box[0]:
            rows.append([])
            width = 0.0
        rows[-1].append(cell)
        width += cell[2][0]
    heights = [max(size[1] for _, _, size in row) for row in rows]
    if sum(heights) > box[1] or max(sum(size[0] for _, _, size in row) for row in rows) \
            > box[0]:
        return None
    pos: dict = {}
    top = box[1] - (box[1] - sum(heights)) / 2
    for row, height in zip(rows, heights, strict=True):
        x = (box[0] - sum(size[0] for _, _, size in row)) / 2
        for nodes, pts, size in row:
            origin = np.array([x, top - height + (height - size[1]) / 2])
            for n, p in zip(nodes, pts, strict=True):
                pos[n] = origin + p
            x += size[0]
        top -= height
    return pos


def _spread(xy: np.ndarray, half: np.ndarray, margin: np.ndarray, box: tuple[float, float],
            rounds: int = 600) -> tuple[np.ndarray, bool]:
    """Move label centres ``xy`` (points) until no two boxes (half sizes ``half``) overlap,
    each pair pushed apart along the axis where they overlap least, every centre kept
    ``margin`` inside ``box``; returns the centres and whether every overlap was removed."""
    xy = xy.copy()
    lo, hi = margin, np.asarray(box) - margin
    n = len(xy)
    order = np.where(np.arange(n)[:, None] < np.arange(n)[None, :], -1.0, 1.0)
    for _ in range(rounds):
        d = xy[:, None, :] - xy[None, :, :]
        over = half[:, None, :] + half[None, :, :] + _LABEL_GAP - np.abs(d)
        hit = (over > 0).all(axis=2)
        np.fill_diagonal(hit, False)
        if not hit.any():
            return xy, True
        sign = np.where(d == 0, order[:, :, None], np.sign(d))
        along_x = over[:, :, 0] < over[:, :, 1]
        push = np.zeros_like(xy)
        push[:, 0] = np.where(hit & along_x, sign[:, :, 0] * (over[:, :, 0] / 2 + 0.1), 0
                              ).sum(1)
        push[:, 1] = np.where(hit & ~along_x, sign[:, :, 1] * (over[:, :, 1] / 2 + 0.1), 0
                              ).sum(1)
        xy = np.clip(xy + push, lo, np.maximum(lo, hi))
    return xy, False


def _place_labels(g: nx.Graph, seed: int, fontsize: float, radius: dict
                  ) -> tuple[dict, float]:
    """Node positions in points inside the axes: the components packed (as spread out as
    fits), then label boxes nudged clear of each other, every node (``radius`` points)
    and label inside the axes; a smaller font if the labels cannot all fit. Returns the
    positions and the font size."""
    fig_w, fig_h = _NET_SIZE
    box = (_NET_AXES[2] * fig_w * 72, _NET_AXES[3] * fig_h * 72)
    layouts = _component_layouts(g, seed)
    nodes = list(g.nodes)
    size = fontsize
    while True:
        label = {n: np.array(_text_size(str(n), size)) / 2 + _LABEL_PAD * size for n in nodes}
        half = {n: np.maximum(label[n], radius[n]) for n in nodes}
        # The largest spread at which the packed components still fit (bisection), then
        # as much wider as still fits (a tall layout fills the wide figure).
        packed = _pack(layouts, half, (0.0, 0.0), box)
        if packed is not None:
            unit = 0.0
            for stretch in (False, True):
                lo, hi = unit, max(box)
                for _ in range(25):
                    mid = (lo + hi) / 2
                    trial = _pack(layouts, half, (mid, unit if stretch else mid), box)
                    if trial is None:
                        hi = mid
                    else:
                        lo, packed = mid, trial
                unit = lo
        if packed is not None:
            start = np.array([packed[n] for n in nodes])
            placed, ok = _spread(start, np.array([label[n] for n in nodes]),
                                 np.array([half[n] for n in nodes]), box)
            if ok:
                return dict(zip(nodes, placed, strict=True)), size
        if size <= 5:
            centre = np.array(box) / 2
            return {n: packed[n] if packed else centre for n in nodes}, size
        size -= 0.5


def plot_comentions(pairs: pd.DataFrame, *, top: int = 30, title: str | None = None,
                    seed: int = 7) -> Chart:
    """Network of who is mentioned with whom, from a :func:`~corpus_search._comention.
    comentions` table (pairs named in the same article).

    Each connected component of the network is laid out on its own (a spring layout) and
    the components are packed side by side, biggest first; nodes are then nudged apart
    until no two labels overlap (the font shrinks, down to 5 points, only if they cannot
    all fit).

    Parameters
    ----------
    pairs
        The co-mention table (its first ``top`` rows are drawn; its ``attrs`` give the
        articles in scope and, from ``Index.comentions``, the query and ``count_once``).
    top
        How many pairs (edges) to draw.
    title
        Figure title.
    seed
        Seed of the spring layout, so the same table gives the same drawing.

    Returns
    -------
    matplotlib.figure.Figure
        Node area by the entity's article count, edge width by co-mentions, colour by
        entity type; the caption says whether near-duplicate copies were counted once.
    """
    fig = Chart(figsize=_NET_SIZE)
    ax = fig.add_axes(_NET_AXES)
    ax.set_axis_off()
    sub = pairs.head(top)
    caption = (f"Based on {pairs.attrs.get('articles', 0):,} articles "
               f"({copies_note(pairs.attrs.get('count_once'))})")
    if pairs.attrs.get("query") not in (None, "", "*"):
        caption += f" matching {pairs.attrs['query']!r}"
    caption += ("; pairs are entities named in the same article.\nNode size: articles "
                "mentioning the entity; edge width: articles mentioning both.")
    if pairs.attrs.get("note"):  # entities still being extracted (search-first build)
        caption += f"\nNote: {pairs.attrs['note']}"
    fig.text(0.01, _NET_AXES[1] - 0.01, caption, fontsize=8, color="#444", ha="left",
             va="top")
    ax.set_title(title or f"Who is mentioned with whom (top {len(sub)} pairs)", fontsize=11,
                 pad=14)
    if sub.empty:
        ax.text(0.5, 0.5, "No co-mentions in scope", ha="center", va="center",
                transform=ax.transAxes)
        return fig
    g = nx.Graph()
    for r in sub.itertuples(index=False):
        g.add_node(r.entity_a, type=r.type_a, articles=int(r.articles_a))
        g.add_node(r.entity_b, type=r.type_b, articles=int(r.articles_b))
        g.add_edge(r.entity_a, r.entity_b, weight=int(r.count))
    arts = np.array([g.nodes[n]["articles"] for n in g.nodes], dtype=float)
    sizes = 120 + 1400 * np.sqrt(arts / arts.max())   # marker areas, points^2
    pos, fontsize = _place_labels(g, seed, 8.0,
                                   dict(zip(g.nodes, np.sqrt(sizes) / 2, strict=True)))
    ax.set_xlim(0, _NET_AXES[2] * _NET_SIZE[0] * 72)   # one data unit = one point
    ax.set_ylim(0, _NET_AXES[3] * _NET_SIZE[1] * 72)
    colours = {"person": "#4c72b0", "org": "#dd8452", "place": "#55a868"}
    weights = np.array([g.edges[e]["weight"] for e in g.edges], dtype=float)
    widths = 0.6 + 6 * weights / weights.max()
    nx.draw_networkx_edges(g, pos, ax=ax, width=widths, edge_color="#999999", alpha=0.7)
    nx.draw_networkx_nodes(g, pos, ax=ax, node_size=sizes, alpha=0.85,
                           node_color=[colours.get(g.nodes[n]["type"], "#8172b3")
                                       for n in g.nodes])
    ax.set_axis_off()
    for n, (x, y) in pos.items():
        ax.text(x, y, str(n), fontsize=fontsize, ha="center", va="center",
                bbox=dict(boxstyle=f"round,pad={_LABEL_PAD}", fc="white", ec="none",
                          alpha=0.8))
    handles = [ax.scatter([], [], s=60, color=c, label=t) for t, c in colours.items()
               if any(g.nodes[n]["type"] == t for n in g.nodes)]
    fig.legend(handles=handles, loc="upper left", fontsize=8, frameon=False,
               ncols=len(handles), bbox_to_anchor=(0.0, 1.0), handletextpad=0.2)
    return fig
