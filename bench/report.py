"""Turning a run's rows into its three outputs: the JSON (every figure), a markdown table, a plot.

All three are written from the same document after every finished row (the JSON) or at the end,
also after Ctrl-C, so whatever finished is kept. The table and plot are views of the JSON; nothing
in them is computed anywhere else.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from .ablation import differences

RED, RESET = "\033[31m", "\033[0m"


def write_json(document: dict[str, Any], path: Path) -> None:
    """Write atomically, so a crash or a second Ctrl-C never leaves half a file."""
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(json.dumps(document, indent=2) + "\n")
    os.replace(temporary, path)


def _num(value: float | int | None, digits: int = 0) -> str:
    if value is None:
        return "—"
    return f"{value:,.{digits}f}" if digits else f"{value:,.0f}"


def _status(row: dict[str, Any], colour: bool) -> str:
    if row["status"] == "OK":
        return "OK"
    return f"{RED}FAILED{RESET}" if colour else "**FAILED**"


def _methods(stats: dict[str, Any] | None) -> str:
    """``{"neural": 3, "zstd": 1}`` -> ``3 neural, 1 zstd``: which coder won nczip's chunks."""
    if not stats or not stats.get("methods"):
        return "—"
    return ", ".join(f"{n} {method}" for method, n in sorted(stats["methods"].items()))


def table(rows: list[dict[str, Any]], colour: bool = False) -> str:
    """The comparison table: one line per (corpus, compressor), in run order."""
    head = ("| corpus | bytes | compressor | compressed | bpb | compress s | compress KB/s | decompress s "
            "| decompress KB/s | peak RSS c/d MiB | nczip chunks | model ideal bpb | coder overhead | symbols/s "
            "| round trip |")
    lines = [head, "|" + "|".join([" --- ", " ---: ", " --- "] + [" ---: "] * 7 + [" --- "] + [" ---: "] * 3
                                  + [" --- "]) + "|"]
    for row in rows:
        extra = row.get("nczip") or {}
        overhead = extra.get("coder_overhead_percent")
        rss = "—" if row["compress_peak_rss_mib"] is None else (
            f"{row['compress_peak_rss_mib']:.1f} / {_num(row['decompress_peak_rss_mib'], 1)}")
        corpus = row["corpus"] + (f" ({row['label']})" if row.get("label") and row["label"] != row["corpus"] else "")
        cells = [corpus, _num(row["input_bytes"]), row["compressor"], _num(row["compressed_bytes"]),
                 _num(row["bits_per_byte"], 4), _num(row["compress_seconds"], 3), _num(row["compress_kb_per_s"], 1),
                 _num(row["decompress_seconds"], 3), _num(row["decompress_kb_per_s"], 1), rss,
                 _methods(extra.get("stats")), _num(extra.get("ideal_bits_per_byte"), 4),
                 "—" if overhead is None else f"{overhead:+.4f}%",
                 _num(extra.get("symbols_per_second")), _status(row, colour)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def ablation_table(rows: list[dict[str, Any]], variants: list[dict[str, Any]]) -> str:
    """What each ablation variant is: its arguments and, read from its output, how it differs."""
    containers: dict[str, Any] = {}
    for row in rows:
        if row.get("nczip") and row["nczip"].get("container"):
            containers.setdefault(row["compressor"], row["nczip"]["container"])
    base = containers.get(variants[0]["compressor"]) if variants else None
    lines = ["| variant | switched off | nczip arguments | differs from the baseline (read from its container) |",
             "| --- | --- | --- | --- |"]
    for variant in variants:
        lines.append(f"| {variant['compressor']} | {variant['switched_off']} | `{' '.join(variant['args'])}` | "
                     f"{differences(base, containers.get(variant['compressor']))} |")
    return "\n".join(lines)


def _measured(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in rows if r["status"] == "OK" and r["bits_per_byte"] is not None and r["compress_kb_per_s"]]


def dominated_by(rows: list[dict[str, Any]]) -> dict[tuple[str, str], list[str]]:
    """For each (corpus, nczip row): the other tools of the run both smaller and faster to compress
    on that input. An empty list means the row is on the speed/ratio frontier."""
    rows = _measured(rows)
    out: dict[tuple[str, str], list[str]] = {}
    for row in rows:
        if not row.get("nczip"):
            continue
        out[(row["corpus"], row["compressor"])] = [
            other["compressor"] for other in rows
            if other["corpus"] == row["corpus"] and not other.get("nczip")
            and other["compressed_bytes"] < row["compressed_bytes"]
            and other["compress_kb_per_s"] > row["compress_kb_per_s"]]
    return out


def frontier_table(rows: list[dict[str, Any]]) -> str:
    """Which nczip rows some classical tool beats on both size and compress speed."""
    lines = ["| corpus | nczip | on the frontier | dominated by (smaller and faster) |", "| --- | --- | --- | --- |"]
    for (corpus, name), others in dominated_by(rows).items():
        lines.append(f"| {corpus} | {name} | {'yes' if not others else 'no'} | {', '.join(others) or '—'} |")
    return "\n".join(lines)


def markdown(document: dict[str, Any], colour: bool = False) -> str:
    """The whole report: what ran where, the table, what was skipped, and how to read it."""
    machine = document["machine"]
    gpu = ", ".join(g["name"] for g in machine.get("gpus") or []) or "none"
    parts = [f"# nczip benchmark {document['started_at']}",
             "",
             f"Machine: {machine.get('cpu')}, {machine.get('cores')} cores, {machine.get('memory_gib')} GiB, "
             f"GPU: {gpu}; load at start {', '.join(f'{x:.2f}' for x in machine.get('load_average_at_start') or [])}. "
             f"nczip {machine.get('nczip')} ({machine.get('nczip_commit')}), Python {machine.get('python')}, "
             f"numpy {machine.get('numpy')}.",
             "",
             f"Command: `{document['command']}` ({document['elapsed_seconds']:.0f} s"
             + (", **interrupted**: rows finished so far" if document.get("interrupted") else "") + ")",
             "",
             table(document["rows"], colour)]
    if dominated_by(document["rows"]):
        parts += ["", "Speed/ratio frontier (compress speed; a row is dominated when a classical tool of this run is"
                  " both smaller and faster on the same input):", "", frontier_table(document["rows"])]
    if document.get("ablation"):
        parts += ["", "Ablation variants:", "", ablation_table(document["rows"], document["ablation"])]
    failed = [row for row in document["rows"] if row["status"] != "OK"]
    if failed:
        parts += ["", "Failures:", ""] + [f"- {r['corpus']} / {r['compressor']}: {r['error']}" for r in failed]
    if document.get("skipped"):
        parts += ["", "Skipped:", ""] + [f"- {s['name']}: {s['reason']}" for s in document["skipped"]]
    parts += ["", "bpb = 8 x compressed / original bytes. Times are wall seconds of the whole subprocess "
              "(interpreter start included) on the same bytes in the same run; KB = 1000 bytes of the original. "
              f"Peak RSS: {document.get('peak_rss_method')}. nczip chunks: which coder won each chunk (the model, "
              "zstd -19 or stored: nczip keeps the smallest). Model ideal bpb: the model's -sum log2 q over the "
              "input (chunks that looked incompressible are not modelled and add 0); coder overhead: the "
              "model-coded payload over that ideal; symbols/s: model symbols per second of nczip's own coding time."]
    return "\n".join(parts) + "\n"


def plot(document: dict[str, Any], path: Path) -> bool:
    """Bits per byte against compress throughput (log scale), one panel per corpus; False if no rows.

    One colour and marker per compressor, the same in every panel, with one legend: labels written
    beside the points collide (zstd -19 and zstd -22 often land on the same spot).
    """
    rows = [row for row in document["rows"] if row["bits_per_byte"] is not None and row["compress_kb_per_s"]]
    if not rows:
        return False
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    corpora = list(dict.fromkeys(row["corpus"] for row in rows))
    names = list(dict.fromkeys(row["compressor"] for row in rows))
    classical_markers = "osD^vP<>hXdp8H"  # one per classical tool and colour, so no two look alike
    style: dict[str, dict[str, Any]] = {}
    for i, name in enumerate(names):
        is_nczip = any(r["nczip"] is not None for r in rows if r["compressor"] == name)
        style[name] = {"color": plt.get_cmap("tab20")(i % 20), "s": 110 if is_nczip else 45,
                       "marker": "*" if is_nczip else classical_markers[i % len(classical_markers)]}
    columns = min(3, len(corpora))
    lines = (len(corpora) + columns - 1) // columns
    figure, axes = plt.subplots(lines, columns, figsize=(5.2 * columns, 3.8 * lines + 1.0), squeeze=False)
    for ax, corpus in zip(axes.flat, corpora):
        for row in (r for r in rows if r["corpus"] == corpus):
            ax.scatter(row["compress_kb_per_s"], row["bits_per_byte"], label=row["compressor"], zorder=3,
                       alpha=0.85, **style[row["compressor"]])
            if row["status"] != "OK":
                ax.scatter(row["compress_kb_per_s"], row["bits_per_byte"], marker="x", s=160, color="red", zorder=4)
                ax.annotate("FAILED", (row["compress_kb_per_s"], row["bits_per_byte"]), color="red", fontsize=8,
                            xytext=(6, 4), textcoords="offset points")
        best = float("inf")  # the speed/ratio frontier: from the fastest, each point smaller than all faster
        frontier = []
        for row in sorted(_measured([r for r in rows if r["corpus"] == corpus]), key=lambda r: -r["compress_kb_per_s"]):
            if row["bits_per_byte"] < best:
                best = row["bits_per_byte"]
                frontier.append((row["compress_kb_per_s"], row["bits_per_byte"]))
        if len(frontier) > 1:  # slowest first: the staircase under which no tool of the run lies
            frontier.reverse()
            ax.step(*zip(*frontier), where="post", color="grey", linewidth=0.8, alpha=0.6, zorder=2)
        size = next(r["input_bytes"] for r in rows if r["corpus"] == corpus)
        ax.set_title(f"{corpus} ({size:,} bytes)", fontsize=10)
        ax.set_xscale("log")
        ax.set_xlabel("compress throughput, KB/s (log; right is faster)", fontsize=8)
        ax.set_ylabel("bits per byte (lower is better)", fontsize=8)
        ax.grid(True, which="both", alpha=0.3)
        ax.margins(x=0.15, y=0.12)
    for ax in list(axes.flat)[len(corpora):]:
        ax.set_visible(False)
    handles = [plt.Line2D([], [], linestyle="", marker=style[n]["marker"], color=style[n]["color"],
                          markersize=11 if style[n]["marker"] == "*" else 7, label=n) for n in names]
    figure.legend(handles=handles, loc="lower center", ncol=min(len(names), 4), fontsize=8, frameon=False)
    gpu = ", ".join(g["name"] for g in document["machine"].get("gpus") or [])
    figure.suptitle(f"nczip vs classical compressors — {document['started_at']} — "
                    f"{document['machine'].get('cpu')}, {document['machine'].get('cores')} cores"
                    + (f", {gpu}" if gpu else "") + (" (interrupted)" if document.get("interrupted") else ""),
                    fontsize=10)
    legend_rows = (len(names) + 3) // 4
    figure.tight_layout(rect=(0, 0.05 * legend_rows / lines, 1, 1))
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return True
