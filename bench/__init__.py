"""Benchmark harness: nczip against gzip, bzip2, xz, zstd and brotli in one run (``python -m bench``).

One module per job: :mod:`bench.corpora` (which bytes), :mod:`bench.compressors` (which command
lines), :mod:`bench.measure` (one measured round trip), :mod:`bench.estimate` (time forecast),
:mod:`bench.runner` (progress, Ctrl-C), :mod:`bench.report` (JSON, markdown, plot),
:mod:`bench.machine` (what it ran on), :mod:`bench.ablation` (nczip variants), and the command line
in :mod:`bench.__main__`.
"""
