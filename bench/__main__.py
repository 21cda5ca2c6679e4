"""``python -m bench``: nczip against the classical compressors, in one run, on the same bytes.

Ratios and speeds are only comparable when measured side by side on the same machine at the same
time (these machines are shared and noisy), so one invocation plans every (input, compressor) pair,
estimates the time, runs them one by one, and writes JSON + markdown + PNG named by the start time.
Exit status: 0 when every round trip was exact, 1 when any row FAILED, 130 after Ctrl-C, 2 for a
usage error or nothing to run.
"""

from __future__ import annotations

import argparse
import shlex
import signal
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from . import ablation, corpora, machine, report
from .compressors import COMPRESSOR_KEYS, Compressor, nczip, nczip_level, select
from .corpora import CorpusUnavailable, Input
from .estimate import Cost, calibrate, human_seconds, job_seconds
from .measure import OK, RSS_METHOD, Row
from .runner import Job, run_jobs

RESULTS = corpora.ROOT / "bench" / "results"
QUICK_LEVELS = (1,)
DEFAULT_LEVELS = (1, 3)


def _list(text: str) -> list[str]:
    return [item.strip() for item in text.split(",") if item.strip()]


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description=__doc__.split("\n\n")[0],
        epilog=f"corpora: {', '.join([*corpora.GROUPS, *corpora.REGISTRY])}; compressors: {', '.join(COMPRESSOR_KEYS)}")
    parser.add_argument("--quick", action="store_true",
                        help="alice29 and enwik8's first 1 MB, nczip level 1 (a few minutes on 2 cores)")
    parser.add_argument("--corpora", type=_list, metavar="NAMES",
                        help="comma-separated corpus or group names (default: all of them, or the quick set)")
    parser.add_argument("--file", action="append", default=[], metavar="PATH",
                        help="also (or only, without --corpora) this file, streamed; enwik8/enwik9 are recognised")
    parser.add_argument("--corpora-dir", type=Path, default=corpora.SHARED_CORPORA, metavar="DIR",
                        help="the shared corpora and their MANIFEST.txt (default: ../shared/corpora)")
    parser.add_argument("--slice", type=_list, default=[], metavar="SIZES",
                        help="take the first N bytes of each input, e.g. 1M or 100K,1M (decimal; 1MiB = 2^20)")
    parser.add_argument("--levels", type=_list, metavar="LIST", help="nczip levels, e.g. 1,2,3 (default 1,3; quick: 1)")
    parser.add_argument("--threads", "-T", type=int, default=1, metavar="W",
                        help="nczip worker processes (-T W; 0 = one per CPU; default 1)")
    parser.add_argument("--compressors", type=_list, metavar="NAMES",
                        help=f"subset of {','.join(COMPRESSOR_KEYS)} (default: all; with --ablation: nczip)")
    parser.add_argument("--ablation", nargs="?", const="fast", choices=sorted(ablation.GROUPS),
                        help="nczip with each predictor component switched off in turn (bench/ablation.py):"
                             " 'fast' (default) for the model-free levels, 'llm' for level 9's ensemble")
    parser.add_argument("--cluster", metavar="ADDRESS",
                        help="beside each nczip level, the same level with --cluster ADDRESS (e.g. local: a Ray"
                             " cluster of this machine's CPUs started for each run; auto: the running one)")
    parser.add_argument("--device", action="store_true",
                        help="a run on a GPU machine: record the GPU (nvidia-smi) in every row; fails without one")
    parser.add_argument("--out", type=Path, default=RESULTS, metavar="DIR", help="output directory (default bench/results)")
    parser.add_argument("--estimate-only", action="store_true", help="print the plan and time estimate, run nothing")
    args = parser.parse_args(argv)
    try:
        args.slices = [corpora.parse_size(size) for size in args.slice]
        levels = args.levels or [str(level) for level in (QUICK_LEVELS if args.quick else DEFAULT_LEVELS)]
        args.level_list = [int(level) for level in levels]
    except ValueError as exc:
        parser.error(str(exc))
    if any(not 1 <= level <= 9 for level in args.level_list):
        parser.error("levels are 1..9")
    if args.threads < 0:
        parser.error("--threads cannot be negative")
    keys = args.compressors or (["nczip"] if args.ablation else list(COMPRESSOR_KEYS))
    unknown = [key for key in keys if key not in COMPRESSOR_KEYS]
    if unknown:
        parser.error(f"unknown compressor(s) {', '.join(unknown)} (known: {', '.join(COMPRESSOR_KEYS)})")
    args.compressor_keys = keys
    if args.corpora is None:
        args.corpora = [] if args.file else list(corpora.GROUPS["quick"] if args.quick else corpora.DEFAULT_CORPORA)
    try:
        args.corpus_names = corpora.expand_names(args.corpora)
    except ValueError as exc:
        parser.error(str(exc))
    return args


def _say(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


def plan_inputs(args: argparse.Namespace, workdir: Path) -> tuple[list[Input], list[dict[str, str]]]:
    """The inputs of the run (slices included) and the ones skipped, each with its reason."""
    whole: list[Input] = []
    skipped: list[dict[str, str]] = []
    for name in args.corpus_names:
        try:
            whole.append(corpora.resolve_corpus(name, args.corpora_dir))
        except CorpusUnavailable as exc:
            skipped.append({"name": name, "reason": str(exc)})
    for path in args.file:
        try:
            whole.append(corpora.resolve_file(path))
        except CorpusUnavailable as exc:
            skipped.append({"name": path, "reason": str(exc)})
    inputs: list[Input] = []
    for source in whole:
        for part in [corpora.take_slice(source, size, workdir) for size in args.slices] or [source]:
            if all(part.name != seen.name for seen in inputs):
                inputs.append(part)
    return inputs, skipped


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    started_at = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    clock = time.monotonic()

    gpu_list = machine.gpus()
    if args.device and not gpu_list:
        _say("--device: nvidia-smi finds no GPU on this machine; run without --device")
        return 2
    device = gpu_list[0]["name"] if args.device else "cpu"

    variants = ablation.compressors(args.threads, ablation.GROUPS[args.ablation]) if args.ablation else None
    if args.cluster and variants is None and "nczip" in args.compressor_keys:
        variants = [variant for level in args.level_list for variant in
                    (nczip_level(level, args.threads),
                     nczip(f"nczip -{level} --cluster", (f"-{level}", "--cluster", args.cluster), args.threads,
                           note=f"chunks on the Ray cluster {args.cluster}"))]
    compressors, warnings = select(args.compressor_keys, args.level_list, args.threads, variants)
    for warning in warnings:
        _say(f"warning: {warning}")

    with tempfile.TemporaryDirectory(prefix="nczip-bench-") as temporary:
        workdir = Path(temporary)
        inputs, skipped = plan_inputs(args, workdir)
        for item in skipped:
            _say(f"skipped {item['name']}: {item['reason']}")
        if not inputs or not compressors:
            _say("nothing to run (no input or no compressor available)")
            return 2

        document: dict[str, Any] = {
            "schema": "nczip-bench/1",
            "started_at": started_at,
            "command": "python -m bench " + shlex.join(argv),
            "options": {"corpora": args.corpus_names, "files": args.file, "slices": args.slices,
                        "levels": args.level_list, "threads": args.threads, "compressors": args.compressor_keys,
                        "ablation": args.ablation, "quick": args.quick, "device": args.device},
            "mode": "device" if args.device else "cpu",
            "device": device,
            "machine": machine.describe(compressors, gpu_list),
            "peak_rss_method": RSS_METHOD,
            "inputs": [{"name": i.name, "bytes": i.size, "sha256": i.sha256, "source": i.source, "label": i.label,
                        "slice_bytes": i.slice_bytes} for i in inputs],
            "compressors": [{"name": c.name, "compress": c.compress_argv(Path("FILE")), "decompress": c.decompress_argv()}
                            for c in compressors],
            "ablation": ablation.describe(ablation.GROUPS[args.ablation]) if args.ablation else None,
            "skipped": skipped,
            "warnings": warnings,
            "estimate": None,
            "rows": [],
            "interrupted": False,
            "elapsed_seconds": 0.0,
        }
        stem = "bench-" + time.strftime("%Y%m%d-%H%M%S") + ("-quick" if args.quick else "") + (
            f"-ablation-{args.ablation}" if args.ablation else "")
        paths = {kind: args.out / f"{stem}.{kind}" for kind in ("json", "md", "png")}

        interrupted = False
        try:
            jobs = _plan_jobs(inputs, compressors, workdir, args, document)
            if args.estimate_only:
                return 0
            args.out.mkdir(parents=True, exist_ok=True)
            report.write_json(document, paths["json"])

            def keep(row: Row) -> None:
                document["rows"].append(row.to_dict())
                document["elapsed_seconds"] = time.monotonic() - clock
                report.write_json(document, paths["json"])

            interrupted = run_jobs(jobs, workdir, device, keep)
        except KeyboardInterrupt:
            interrupted = True
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut the outputs
        try:
            return _finish(document, paths, interrupted, clock)
        finally:
            signal.signal(signal.SIGINT, previous)


def _plan_jobs(inputs: list[Input], compressors: list[Compressor], workdir: Path, args: argparse.Namespace,
               document: dict[str, Any]) -> list[Job]:
    """Calibrate (unless the run is tiny), print the plan with its estimate, and return the jobs."""
    total = sum(i.size for i in inputs)
    costs: dict[str, Cost] = {}
    calibration = 0.0
    if total > 64_000:
        _say(f"calibrating {len(compressors)} compressor(s) on prefixes of {max(inputs, key=lambda i: i.size).name}...")
        began = time.monotonic()
        costs = calibrate(compressors, max(inputs, key=lambda i: i.size), workdir, args.threads,
                          lambda text: _say(f"warning: {text}"))
        calibration = time.monotonic() - began
    jobs = [Job(i, c, job_seconds(costs, c, i.size)) for i in inputs for c in compressors]
    estimate = sum(job.estimate or 0.0 for job in jobs) if costs else None
    document["estimate"] = {"seconds": estimate, "calibration_seconds": calibration,
                            "costs": {name: vars(cost) for name, cost in costs.items()}}
    _say(f"{len(inputs)} input(s), {total:,} bytes, x {len(compressors)} compressor(s) = {len(jobs)} runs; "
         + (f"estimated {human_seconds(estimate)} (calibration took {calibration:.0f} s)"
            if estimate is not None else "small run: no time estimate"))
    if args.estimate_only:
        for job in jobs:
            print(f"{job.source.name}\t{job.compressor.name}\t"
                  + (human_seconds(job.estimate) if job.estimate is not None else "?"))
    return jobs


def _finish(document: dict[str, Any], paths: dict[str, Path], interrupted: bool, clock: float) -> int:
    """Write JSON, markdown and plot, print the table, and pick the exit status."""
    rows = document["rows"]
    failed = any(row["status"] != OK for row in rows)
    document["interrupted"] = interrupted
    document["elapsed_seconds"] = time.monotonic() - clock
    document["finished_at"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    document["exit_status"] = 130 if interrupted else (1 if failed else 0)
    report.write_json(document, paths["json"])
    paths["md"].write_text(report.markdown(document))
    plotted = report.plot(document, paths["png"])
    if interrupted:
        _say(f"interrupted: keeping the {len(rows)} finished row(s)")
    print(report.markdown(document, colour=sys.stdout.isatty()), end="")
    _say(f"wrote {paths['json']}, {paths['md']}" + (f", {paths['png']}" if plotted else ""))
    if failed:
        _say(f"{sum(row['status'] != OK for row in rows)} row(s) FAILED")
    return document["exit_status"]


if __name__ == "__main__":
    sys.exit(main())
