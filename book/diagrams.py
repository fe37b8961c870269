"""The computational graphs of the course book: layers as boxes, values and gradients on
the arrows, drawn with matplotlib while the book is built.

The chapter pages call one function per diagram (`import diagrams` in their hidden first
cell). Each is a `figures.figure`, so it is shown once and uses no data; the numbers on
the arrows are worked out here from the scalar example each diagram states.
"""
import matplotlib.pyplot as plt
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

from figures import BACKWARD, FORWARD, LOCAL, figure


def _box(ax, xy, text, color="#f0f0f0", width=1.5, height=0.8, fontsize=12):
    x, y = xy
    ax.add_patch(FancyBboxPatch((x - width / 2, y - height / 2), width, height,
                                boxstyle="round,pad=0.05,rounding_size=0.15",
                                fc=color, ec="#333333", lw=1.2))
    ax.text(x, y, text, ha="center", va="center", fontsize=fontsize)


def _edge(ax, start, end, above, below, shrink=0.85, fontsize=11):
    """An arrow from start to end, the forward value above it, the gradient below it."""
    (x0, y0), (x1, y1) = start, end
    s0, s1 = shrink if isinstance(shrink, tuple) else (shrink, shrink)
    ax.add_patch(FancyArrowPatch((x0 + s0, y0), (x1 - s1, y1), arrowstyle="-|>",
                                 mutation_scale=14, lw=1.4, color="#333333",
                                 connectionstyle="arc3,rad=0"))
    mx, my = (x0 + x1) / 2, (y0 + y1) / 2
    ax.text(mx, my + 0.22, above, ha="center", va="bottom", color=FORWARD, fontsize=fontsize)
    ax.text(mx, my - 0.22, below, ha="center", va="top", color=BACKWARD, fontsize=fontsize)


def _blank(ax, xlim, ylim):
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.set_aspect("equal")
    ax.axis("off")


@figure
def affine_graph():
    """Chapter 1: the affine layer as a graph, one scalar example with shapes beside it."""
    fig, ax = plt.subplots(figsize=(9.5, 4.6))
    _blank(ax, (-0.6, 11.4), (-2.9, 3.1))
    x, w, b = 2.0, -0.5, 1.5
    out = w * x + b
    dout = 2.0
    # One tall node that all three inputs enter horizontally: labels never cross arrows.
    _box(ax, (5.3, 0.0), "affine\n$xW + b$\n\n\nlocal gradients:\n∂out/∂x = W\n"
         "∂out/∂W = x\n∂out/∂b = 1", color="#deebf7", width=2.3, height=5.0, fontsize=11)
    rows = ((2.0, "$x$\n(N, D)", f"x = {x:g}", f"dx = W·dout = {w * dout:g}"),
            (0.0, "$W$\n(D, M)", f"W = {w:g}", f"dW = x·dout = {x * dout:g}"),
            (-2.0, "$b$\n(M,)", f"b = {b:g}", f"db = dout = {dout:g}"))
    for y, name, label_f, label_b in rows:
        _box(ax, (0.5, y), name, width=1.4, height=0.9)
        _edge(ax, (0.5, y), (5.3, y), label_f, label_b, shrink=(0.75, 1.2))
    _box(ax, (10.3, 0.0), "out\n(N, M)", width=1.5, height=0.9)
    _edge(ax, (5.3, 0.0), (10.3, 0.0), f"out = {out:g}", f"dout = {dout:g} (upstream)",
          shrink=(1.2, 0.8))
    ax.text(5.3, 2.95, "forward values (green) above each arrow; gradients of the loss "
            "(magenta) below", ha="center", va="center", fontsize=10, color="#333333")
    fig.tight_layout()
    return fig


@figure
def affine_relu_graph():
    """Chapter 2: affine then ReLU, for an open unit (a > 0) and a closed one (a < 0)."""
    fig, axes = plt.subplots(2, 1, figsize=(10, 4.4))
    cases = (("open unit: a > 0, the gradient passes", 2.0),
             ("closed unit: a < 0, the gradient stops", -2.0))
    for ax, (title, x) in zip(axes, cases):
        _blank(ax, (-1.0, 13.6), (-1.0, 1.0))
        w, b, dh = 0.5, -0.5, 3.0
        a = w * x + b
        h = max(a, 0.0)
        da = dh if a > 0 else 0.0
        _box(ax, (0.0, 0.0), f"x = {x:g}\nW = {w:g}\nb = {b:g}", width=1.8, height=1.2,
             fontsize=10)
        _box(ax, (4.3, 0.0), "affine", color="#deebf7")
        _box(ax, (8.4, 0.0), "ReLU", color="#fee0b6")
        _box(ax, (12.5, 0.0), "⋯ → L", width=1.6)
        _edge(ax, (0.2, 0.0), (4.3, 0.0), "", f"dW = x·da = {x * da + 0.0:g}", shrink=0.9)
        _edge(ax, (4.3, 0.0), (8.4, 0.0), f"a = {a:g}", f"da = {da:g}")
        _edge(ax, (8.4, 0.0), (12.4, 0.0), f"h = {h:g}", f"dh = {dh:g} (upstream)")
        ax.text(8.4, -0.55, f"local: ∂h/∂a = {int(a > 0)}", ha="center", va="top",
                color=LOCAL, fontsize=10)
        ax.text(4.3, -0.55, "local: ∂a/∂W = x", ha="center", va="top", color=LOCAL,
                fontsize=10)
        ax.set_title(title, fontsize=11, loc="left")
    fig.tight_layout()
    return fig


@figure
def two_layer_graph():
    """Chapter 4: the two-layer net as a chain of layers, with the shape of every array."""
    fig, ax = plt.subplots(figsize=(11, 3.0))
    _blank(ax, (-0.7, 21.9), (-1.9, 1.3))
    nodes = [(0.0, "X", "#f0f0f0"), (4.4, "affine\nW1 (D, H)\nb1 (H,)", "#deebf7"),
             (8.8, "ReLU", "#fee0b6"), (13.2, "affine\nW2 (H, C)\nb2 (C,)", "#deebf7"),
             (17.6, "softmax\nloss", "#e5f5e0"), (21.2, "L", "#f0f0f0")]
    for x, text, color in nodes:
        _box(ax, (x, 0.0), text, color=color, width=1.0 if len(text) == 1 else 2.0,
             height=1.6, fontsize=12)
    forward = ["X (N, D)", "a (N, H)", "h (N, H)", "s (N, C)", "L"]
    backward = ["", "da (N, H)", "dh (N, H)", "ds (N, C)", "1"]
    for i in range(5):
        x0, x1 = nodes[i][0], nodes[i + 1][0]
        _edge(ax, (x0, 0.0), (x1, 0.0), forward[i], backward[i],
              shrink=(0.6 if i == 0 else 1.05, 1.05 if i < 4 else 0.6), fontsize=13)
    ax.text(10.6, -1.6, "L also adds ½·λ·(‖W1‖² + ‖W2‖²); its gradient λ·W joins dW1 and dW2",
            ha="center", va="center", fontsize=12, color=LOCAL)
    fig.tight_layout()
    return fig
