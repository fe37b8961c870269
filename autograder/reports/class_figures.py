"""The class report's figures, drawn by matplotlib and inlined as PNG data URIs.

Each function takes the summary of class_report.summarize and returns a data URI
(`data:image/png;base64,...`), so report.html needs no other file and no network.
"""
import base64
import io

import numpy as np

BLUE, ORANGE, GREY, GREEN = "#1f6fb4", "#d9731a", "#6b6b6b", "#2a8a4a"


def _figure(width=6.4, height=3.2, **kwargs):
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt.subplots(figsize=(width, height), **kwargs)


def _uri(fig):
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buffer, format="png", dpi=100)
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _mean_median(ax, stats):
    if stats["mean"] is None:
        return
    ax.axvline(stats["mean"], color=ORANGE, lw=2, label=f"mean {stats['mean']:g}")
    ax.axvline(stats["median"], color=GREY, lw=2, ls="--",
               label=f"median {stats['median']:g}")
    ax.legend(fontsize=8, loc="upper left")


def totals(summary):
    fig, ax = _figure()
    top = summary["max_total"]
    ax.hist(summary["totals"]["values"], bins=np.linspace(0, top, 21), color=BLUE,
            edgecolor="white")
    _mean_median(ax, summary["totals"])
    ax.set(xlim=(0, top), xlabel=f"total points (of {top:g})", ylabel="students",
           title="Total grades")
    return _uri(fig)


def questions(summary):
    items = list(summary["questions"].items())
    cols = 4
    rows = max(1, -(-len(items) // cols))
    fig, axes = _figure(10, 2.2 * rows, nrows=rows, ncols=cols, squeeze=False)
    for ax, (qid, stats) in zip(axes.flat, items):
        top = stats["max_points"]
        ax.hist(stats["values"], bins=np.linspace(0, top, 11), color=BLUE, edgecolor="white")
        if stats["mean"] is not None:
            ax.axvline(stats["mean"], color=ORANGE, lw=2)
            ax.axvline(stats["median"], color=GREY, lw=2, ls="--")
        ax.set_title(f"{qid}\nmean {stats['mean']:g}, median {stats['median']:g}"
                     if stats["mean"] is not None else qid, fontsize=9)
        ax.set_xlim(0, top)
        ax.tick_params(labelsize=8)
    for ax in list(axes.flat)[len(items):]:
        ax.axis("off")
    fig.supxlabel("points (orange: mean, grey dashed: median)", fontsize=9)
    return _uri(fig)


def checks(summary):
    rows = summary["checks"]
    fig, ax = _figure(8, 0.22 * len(rows) + 1.2)
    labels = [f"{r['question']}: {r['check']}" for r in rows]
    rates = [100 * r["pass_rate"] for r in rows]
    ax.barh(range(len(rows)), rates, color=[GREEN if x >= 80 else ORANGE for x in rates])
    ax.set_yticks(range(len(rows)), labels, fontsize=7)
    ax.invert_yaxis()
    ax.set(xlim=(0, 100), xlabel="students who passed (%)",
           title="Hidden checks, most failed first")
    return _uri(fig)


def measure(info):
    """Histogram of one measured number (`summary["measured"][qid]`) over its scale."""
    fig, ax = _figure()
    values = list(info["values"].values())
    zero, full = info["no_points_below"], info["full_points_from"]
    if zero is not None and full is not None:
        ax.axvspan(zero, full, color=ORANGE, alpha=0.15, label="partial points")
        ax.axvspan(full, 1, color=GREEN, alpha=0.12, label="full points")
    marks = values + [m for m in (zero, full) if m is not None]
    low, high = max(0, min(marks) - 0.05), min(1, max(marks) + 0.05)
    ax.hist(values, bins=np.linspace(low, high, 25), color=BLUE, edgecolor="white",
            label="students")
    ax.set(xlim=(low, high), xlabel=info["label"], ylabel="students",
           title=f"{info['label']} against the grading scale")
    ax.legend(fontsize=8)
    return _uri(fig)


def seconds(summary):
    items = [(q, s) for q, s in summary["seconds"].items() if s["mean"] is not None]
    fig, ax = _figure(8, 3)
    ax.bar([q for q, _ in items], [s["mean"] for _, s in items], color=BLUE, label="mean")
    ax.plot([q for q, _ in items], [s["max"] for _, s in items], "v", color=ORANGE,
            label="slowest student")
    ax.set(ylabel="seconds per student", title="Time spent grading each question")
    ax.tick_params(axis="x", labelrotation=45, labelsize=8)
    ax.legend(fontsize=8)
    return _uri(fig)


def all_figures(summary):
    """{name: data URI} of every figure the report shows (a measured question's,
    seconds: when there is something to show)."""
    figures = {"totals": totals(summary), "questions": questions(summary),
               "checks": checks(summary)}
    for qid, info in summary["measured"].items():
        if info["values"]:
            figures[f"measured:{qid}"] = measure(info)
    if any(s["mean"] is not None for s in summary["seconds"].values()):
        figures["seconds"] = seconds(summary)
    return figures
