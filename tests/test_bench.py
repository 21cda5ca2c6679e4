"""The benchmark harness keeps working: a tiny real run end to end, and its pieces on made-up data.

The end-to-end run uses a 6 KB slice of alice29 so it takes seconds; tests that need a classical
compressor skip (not fail) on a machine without it.
"""

from __future__ import annotations

import hashlib
import json
import lzma
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import CORPORA, ROOT

if str(ROOT) not in sys.path:  # bench/ is run from the repo root and is not an installed package
    sys.path.insert(0, str(ROOT))

from bench import ablation, corpora  # noqa: E402
from bench import compressors as compressors_module  # noqa: E402
from bench.__main__ import main  # noqa: E402
from bench.compressors import Compressor  # noqa: E402
from bench.measure import FAILED, OK, first_difference, measure  # noqa: E402

needs_gzip = pytest.mark.skipif(shutil.which("gzip") is None, reason="gzip is not installed")


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.txt"
    path.write_bytes((CORPORA / "alice29.txt").read_bytes()[:6000])
    return path


def _result(out: Path) -> dict:
    [path] = out.glob("bench-*.json")
    return json.loads(path.read_text())


@needs_gzip
def test_tiny_run_end_to_end(tiny: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    done = subprocess.run([sys.executable, "-m", "bench", "--file", str(tiny), "--levels", "1",
                           "--compressors", "nczip,gzip", "--out", str(out)],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    result = _result(out)
    rows = result["rows"]
    assert [row["compressor"] for row in rows] == ["nczip -1", "gzip -9"]
    for row in rows:
        assert row["status"] == OK and row["error"] is None
        assert row["input_bytes"] == 6000 and row["compressed_bytes"] > 0
        assert row["bits_per_byte"] == pytest.approx(8 * row["compressed_bytes"] / row["input_bytes"])
        assert row["compress_seconds"] > 0 and row["decompress_seconds"] > 0
        assert row["compress_kb_per_s"] == pytest.approx(6.0 / row["compress_seconds"])
        assert row["compress_peak_rss_mib"] > 0 and row["decompress_peak_rss_mib"] > 0
    assert rows[0]["input_sha256"] == hashlib.sha256(tiny.read_bytes()).hexdigest()
    figures = rows[0]["nczip"]
    assert figures["stats"]["original_bytes"] == 6000
    assert figures["stats"]["compressed_bytes"] == rows[0]["compressed_bytes"]
    assert figures["symbols"] > 0 and figures["symbols_per_second"] > 0
    assert figures["container"]["level"] == 1
    assert rows[1]["nczip"] is None
    assert result["machine"]["cores"] >= 1 and result["machine"]["python"]
    assert result["interrupted"] is False and result["exit_status"] == 0
    markdown = next(out.glob("bench-*.md")).read_text()
    assert "| tiny.txt | 6,000 | nczip -1 |" in markdown and "| gzip -9 |" in markdown
    assert next(out.glob("bench-*.png")).stat().st_size > 0
    assert "| tiny.txt | 6,000 | nczip -1 |" in done.stdout


@needs_gzip
def test_failed_round_trip_is_marked_and_exits_nonzero(tiny: Path, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    broken = Compressor("gzip -9", "gzip", ("gzip", "-9", "-c"), ("head", "-c", "100"), binary="gzip")
    monkeypatch.setattr(compressors_module, "CLASSICAL", (broken,))
    out = tmp_path / "out"
    status = main(["--file", str(tiny), "--compressors", "gzip", "--out", str(out)])
    assert status == 1
    [row] = _result(out)["rows"]
    assert row["status"] == FAILED and "round trip differs" in row["error"]
    assert "**FAILED**" in next(out.glob("bench-*.md")).read_text()


@needs_gzip
def test_missing_corpus_is_skipped_not_fatal(tiny: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    status = main(["--file", str(tmp_path / "absent.bin"), "--file", str(tiny), "--compressors", "gzip",
                   "--corpora-dir", str(tmp_path / "no-shared"), "--corpora", "enwik8-1M", "--out", str(out)])
    assert status == 0
    result = _result(out)
    assert [s["name"] for s in result["skipped"]] == ["enwik8-1M", str(tmp_path / "absent.bin")]
    assert [row["corpus"] for row in result["rows"]] == ["tiny.txt"]


def test_measure_reports_a_failing_decompressor(tiny: Path, tmp_path: Path) -> None:
    if shutil.which("cat") is None or shutil.which("head") is None:
        pytest.skip("needs cat and head")
    lossy = Compressor("lossy", "lossy", ("cat",), ("head", "-c", "10"), binary="cat")
    source = corpora.resolve_file(str(tiny))
    row = measure(lossy, source, tmp_path)
    assert row.status == FAILED and "at byte 10" in row.error
    assert row.compressed_bytes == 6000 and row.bits_per_byte == pytest.approx(8.0)


def test_first_difference(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    a.write_bytes(b"abcdef")
    b.write_bytes(b"abcdef")
    assert first_difference(a, b) is None
    b.write_bytes(b"abcXef")
    assert first_difference(a, b) == 3
    b.write_bytes(b"abc")
    assert first_difference(a, b) == 3


def test_sizes_and_names() -> None:
    assert corpora.parse_size("1M") == 1_000_000
    assert corpora.parse_size("20K") == 20_000
    assert corpora.parse_size("1MiB") == 1 << 20
    assert corpora.format_size(3_000_000) == "3M"
    with pytest.raises(ValueError):
        corpora.parse_size("lots")
    assert corpora.expand_names(["quick"]) == ["alice29", "enwik8-1M"]
    assert corpora.expand_names(["canterbury-sum", "canterbury-fields"]) == ["canterbury-sum", "canterbury-fields.c"]
    assert "canterbury-alice29.txt" not in corpora.expand_names(["all"])
    with pytest.raises(ValueError):
        corpora.expand_names(["nonesuch"])


def test_known_files_are_labelled_also_when_sliced(tiny: Path, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    digest = hashlib.sha256(tiny.read_bytes()).hexdigest()
    monkeypatch.setattr(corpora, "KNOWN_FILES", {(6000, digest): "enwik8"})
    whole = corpora.resolve_file(str(tiny))
    assert whole.name == whole.label == "enwik8"
    part = corpora.take_slice(whole, 1000, tmp_path)
    assert part.size == part.path.stat().st_size == 1000 and part.label == "enwik8[:1K]"
    assert part.sha256 == hashlib.sha256(tiny.read_bytes()[:1000]).hexdigest()
    assert corpora.take_slice(whole, 10_000, tmp_path) is whole


def test_xz_corpus_is_unpacked_once_and_checked(tmp_path: Path) -> None:
    data = b"<xml>" + bytes(range(256)) * 40 + b"</xml>"
    shared = tmp_path / "shared"
    (shared / "silesia").mkdir(parents=True)
    (shared / "silesia" / "xml.xz").write_bytes(lzma.compress(data))
    manifest = shared / "MANIFEST.txt"
    manifest.write_text(f"silesia/xml.xz | xml | {len(data)} | {hashlib.sha256(data).hexdigest()} | x | y | xz\n")
    cache = tmp_path / "cache"
    got = corpora.resolve_corpus("xml", shared, cache)
    assert got.path == cache / "xml" and got.path.read_bytes() == data and got.size == len(data)
    assert corpora.resolve_corpus("xml", shared, cache).path == got.path  # reused from the cache
    manifest.write_text(f"silesia/xml.xz | xml | {len(data)} | {'0' * 64} | x | y | xz\n")
    with pytest.raises(corpora.CorpusUnavailable):
        corpora.resolve_corpus("xml", shared, cache)
    with pytest.raises(corpora.CorpusUnavailable):
        corpora.resolve_corpus("dickens", shared, cache)


def test_ablation_variants_are_named_nczip_runs() -> None:
    variants = ablation.compressors(threads=1)
    assert [c.name for c in variants][0] == "nczip[full]"
    assert all(c.is_nczip and c.nczip_args for c in variants)
    assert len({c.name for c in variants}) == len(variants)
    base = {"level": 3, "chunk_size": 4, "config": {"predictor": {"max_order": 5}}}
    other = {"level": 2, "chunk_size": 4, "config": {"predictor": {"max_order": 4}}}
    assert ablation.differences(base, other) == "config.predictor.max_order 5->4, level 3->2"
    assert ablation.differences(base, base) == "same as the baseline"


@needs_gzip
def test_device_mode_records_the_gpu(tiny: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = tmp_path / "bin" / "nvidia-smi"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\necho 'NVIDIA H100 80GB HBM3, 81559 MiB, 550.54.15'\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake.parent}{os.pathsep}{os.environ['PATH']}")
    out = tmp_path / "out"
    assert main(["--device", "--file", str(tiny), "--compressors", "gzip", "--out", str(out)]) == 0
    result = _result(out)
    assert result["mode"] == "device" and result["device"] == "NVIDIA H100 80GB HBM3"
    assert result["machine"]["gpus"] == [{"name": "NVIDIA H100 80GB HBM3", "memory": "81559 MiB",
                                          "driver": "550.54.15"}]
    assert [row["device"] for row in result["rows"]] == ["NVIDIA H100 80GB HBM3"]


def test_device_mode_without_a_gpu_refuses(tiny: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("bench.machine.gpus", lambda: [])
    assert main(["--device", "--file", str(tiny), "--out", str(tmp_path / "out")]) == 2


@pytest.mark.parametrize("group,level", [("tiling", 1), ("ssm", 3)])
def test_components_ab_reports_every_variant(tmp_path: Path, group: str, level: int) -> None:
    from bench.components import GROUPS

    sample = tmp_path / "sample.txt"
    sample.write_bytes((CORPORA / "alice29.txt").read_bytes()[:3000])
    out = tmp_path / "ab.json"
    done = subprocess.run([sys.executable, "-m", "bench.components", "--file", str(sample), "--level", str(level),
                           "--group", group, "--json", str(out)], cwd=ROOT, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr
    rows = json.loads(out.read_text())[0]["rows"]
    assert [row["variant"] for row in rows] == list(GROUPS[group])
    assert all(0 < row["bpb"] < 8 for row in rows)
    assert "| sample.txt | 3,000 |" in done.stdout
