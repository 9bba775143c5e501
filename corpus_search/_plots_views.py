"""Charts for the corpus-tool views: dispersion barcodes and the co-mention network.

Matplotlib Figures without pyplot state, like :mod:`corpus_search._plots`; each states in
a caption what it is based on.
"""

from __future__ import annotations

import networkx as nx
import numpy as np
import pandas as pd

from ._plots import Chart

__all__ = ["plot_comentions", "plot_dispersion"]

_RESOLUTION = 4000


def plot_dispersion(hits: pd.DataFrame, *, title: str | None = None) -> Chart:
    """AntConc-style dispersion plot: one barcode strip per term, a line per occurrence.

    Parameters
    ----------
    hits
        A :func:`~corpus_search._colloc.dispersion` DataFrame (its ``attrs`` give the
        terms, order, words and articles in scope, and month boundaries). Occurrences
        closer than 1/4000 of the corpus are drawn as one line; the count beside each
        term is of all occurrences.
    title
        Figure title; default names the terms.

    Returns
    -------
    matplotlib.figure.Figure
    """
    terms = list(hits.attrs.get("terms") or dict.fromkeys(hits["term"]))
    order = hits.attrs.get("order", "date")
    fig = Chart(figsize=(9, 0.75 + 0.62 * max(len(terms), 1)), layout="constrained")
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
        step = max(1, len(bounds) // 12)
        shown = bounds[::step]
        last.set_xticks([x for _, x in shown], [m for m, _ in shown], rotation=30,
                        ha="right", fontsize=8)
        last.set_xlabel("corpus, articles in date order (grey lines: month starts)")
    else:
        last.set_xticks(np.linspace(0, 1, 6), [f"{v:.0%}" for v in np.linspace(0, 1, 6)])
        last.set_xlabel("position in the corpus (articles in index order)")
    axes[0].set_title(title or f"Dispersion of {', '.join(terms)}", fontsize=11)
    fig.text(0.01, -0.02, f"Based on {hits.attrs.get('articles', 0):,} articles, "
             f"{hits.attrs.get('tokens', 0):,} words; each line is one occurrence.",
             fontsize=8, color="#444", ha="left", va="top")
    return fig


def plot_comentions(pairs: pd.DataFrame, *, top: int = 30, title: str | None = None,
                    seed: int = 7) -> Chart:
    """Network of who is mentioned with whom, from a :func:`~corpus_search._comention.
    comentions` table.

    Parameters
    ----------
    pairs
        The co-mention table (its first ``top`` rows are drawn).
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
        entity type.
    """
    fig = Chart(figsize=(9, 7), layout="constrained")
    ax = fig.add_subplot()
    ax.set_axis_off()
    sub = pairs.head(top)
    if sub.empty:
        ax.text(0.5, 0.5, "No co-mentions in scope", ha="center", va="center",
                transform=ax.transAxes)
        return fig
    g = nx.Graph()
    for r in sub.itertuples(index=False):
        g.add_node(r.entity_a, type=r.type_a, articles=int(r.articles_a))
        g.add_node(r.entity_b, type=r.type_b, articles=int(r.articles_b))
        g.add_edge(r.entity_a, r.entity_b, weight=int(r.count))
    pos = nx.spring_layout(g, seed=seed, k=1.6 / np.sqrt(g.number_of_nodes()),
                           weight="weight")
    arts = np.array([g.nodes[n]["articles"] for n in g.nodes], dtype=float)
    sizes = 150 + 1800 * np.sqrt(arts / arts.max())
    colours = {"person": "#4c72b0", "org": "#dd8452", "place": "#55a868"}
    weights = np.array([g.edges[e]["weight"] for e in g.edges], dtype=float)
    widths = 0.6 + 6 * weights / weights.max()
    nx.draw_networkx_edges(g, pos, ax=ax, width=widths, edge_color="#999999", alpha=0.7)
    nx.draw_networkx_nodes(g, pos, ax=ax, node_size=sizes, alpha=0.85,
                           node_color=[colours.get(g.nodes[n]["type"], "#8172b3")
                                       for n in g.nodes])
    for n, (x, y) in pos.items():
        ax.annotate(n, (x, y), fontsize=8, ha="center", va="center",
                    bbox=dict(boxstyle="round,pad=0.15", fc="white", ec="none", alpha=0.75))
    handles = [ax.scatter([], [], s=80, color=c, label=t) for t, c in colours.items()
               if any(g.nodes[n]["type"] == t for n in g.nodes)]
    ax.legend(handles=handles, loc="lower left", fontsize=8, frameon=False)
    ax.set_title(title or f"Who is mentioned with whom (top {len(sub)} pairs)", fontsize=11)
    fig.text(0.01, -0.01, f"Based on {pairs.attrs.get('articles', 0):,} articles; node "
             "size: articles mentioning the entity; edge width: articles mentioning both.",
             fontsize=8, color="#444", ha="left", va="top")
    return fig
