"""The GPU path (issue 25): llama-cpp-python's CUDA build with every layer offloaded. Marked
``gpu``: run by ``pytest -m gpu`` (``bench/gpu_check.sh``) on a machine with an NVIDIA GPU and the
build from ``python3 scripts/install_llama.py --cuda``; the default run and CI deselect them."""

from __future__ import annotations

from pathlib import Path

import pytest

import nczip
from nczip import backend
from tests.conftest import run_nczip

pytestmark = pytest.mark.gpu

ROOT = Path(__file__).resolve().parent.parent
TEXT = (ROOT / "corpora" / "alice29.txt").read_bytes()


@pytest.fixture(scope="module", autouse=True)
def cuda() -> None:
    from nczip.predictors.llm import resolve_device

    if resolve_device("auto") != "cuda":
        pytest.skip("no CUDA build of llama-cpp-python with a GPU here")


def test_a_gpu_file_records_the_device_and_round_trips(tmp_path: Path) -> None:
    data = TEXT[:4000]
    (tmp_path / "t").write_bytes(data)
    done = run_nczip("-9", "--device", "cuda", "-c", "t", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    (tmp_path / "t.ncz").write_bytes(done.stdout)
    with open(tmp_path / "t.ncz", "rb") as src:
        facts = nczip.api.read_facts("t.ncz", src)
    assert " cuda sm_" in facts.header.model["backend"]
    assert backend.recorded_device(facts.header.model["backend"]) == "cuda"
    back = run_nczip("-dc", "t.ncz", cwd=tmp_path)
    assert back.returncode == 0 and back.stdout == data, back.stderr
    again = run_nczip("-9", "--device", "cuda", "-c", "t", cwd=tmp_path)
    assert again.stdout == done.stdout  # the GPU's logits repeat from run to run


def test_a_gpu_file_and_a_cpu_file_differ_and_each_names_its_device(tmp_path: Path) -> None:
    data = TEXT[:2000]
    (tmp_path / "t").write_bytes(data)
    on_gpu = run_nczip("-4", "--device", "cuda", "-c", "t", cwd=tmp_path).stdout
    on_cpu = run_nczip("-4", "--device", "cpu", "-c", "t", cwd=tmp_path).stdout
    assert on_gpu and on_cpu and on_gpu != on_cpu
    for packed in (on_gpu, on_cpu):
        (tmp_path / "x.ncz").write_bytes(packed)
        back = run_nczip("-dc", "x.ncz", cwd=tmp_path)  # each decodes on the device it names
        assert back.returncode == 0 and back.stdout == data, back.stderr
