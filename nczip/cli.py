"""The ``nczip`` command line: its commands. Arguments are read by :mod:`nczip.cliargs`, files
handled by :mod:`nczip.files`, ``info``/``-l`` worded by :mod:`nczip.listing`, the coding is
:mod:`nczip.api`'s, the library's public functions (nothing below it is imported here).

Exit status: 0 success; 1 any file failed (one line each on stderr); 2 a usage error; 128 + N
when signal N stopped nczip (130 Ctrl-C, 143 SIGTERM, 129 SIGHUP); 141 when the reader of the
output went away (``nczip -dc f | head``).
"""

from __future__ import annotations

import json
import signal
import sys
import warnings
from typing import Any, BinaryIO, Callable

import click
from click.shell_completion import get_completion_class

from . import __version__, outputs
from .api import MAX_LANES, Component, Summary, Tiling, compress_stream, decompress_stream, encode_options
from .cliargs import FILES, RECURSIVE, NczGroup, common, components_option, file_options, level_options, parse_size
from .files import COMPRESS, DECOMPRESS, TEST, expand, quote, run_files, say
from .listing import info_json, info_lines, list_table, scan_all
from .api import ProgressLine

#: the Summary fields that ``compress --stats-json`` writes (machine-readable ``-v``, for the bench)
_STATS_FIELDS = ("original_bytes", "compressed_bytes", "chunks", "methods", "ideal_bits", "neural_bytes",
                 "symbols", "tokens", "load_seconds", "seconds")
_EPILOG = ("Exit status: 0 success, 1 a file failed (one line each on stderr), 2 usage error, 128+N on "
           "signal N (130 Ctrl-C), 141 when the output's reader goes away. Completion: "
           "eval \"$(nczip completion bash)\" (or zsh, fish).")


@click.group(cls=NczGroup, context_settings={"help_option_names": ["-h", "--help"]}, epilog=_EPILOG)
@click.version_option(__version__, "-V", "--version", prog_name="nczip")
def main() -> None:
    """nczip: neural lossless compression. `nczip FILE` compresses, `nczip -d FILE.ncz` restores,
    `nczip -l FILE.ncz` lists."""


@main.command()
@common
@level_options
@click.option("--chunk-size", callback=lambda ctx, p, v: parse_size(v) if v else None,
              help="Expert: bytes per independently coded chunk (default depends on the level).")
@click.option("--with", "components", metavar="LIST",
              help="Expert: online model components, comma-separated from "
                   + ", ".join(c.value for c in Component) + "; 'none' for none (default: the level's)."
                   " At levels 1-3 it selects their former token models instead of the context-mixing core.")
@click.option("--lanes", type=click.IntRange(1, MAX_LANES),
              help="Expert: at levels 4-9, the most lanes (LLM sequences coded in lockstep) per chunk.")
@click.option("--tiling", type=click.Choice([t.value for t in Tiling]),
              help="Expert: tiling of the phrase hierarchy (switches the phrase predictor on).")
@click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]), default="auto", envvar="NCZIP_DEVICE",
              show_default=True, help="Levels 4-9: where the LLM runs (cuda: the GPU build; a file decodes only"
                                      " on the device it was made on).")
@click.option("--stats-json", type=click.Path(dir_okay=False), hidden=True,
              help="Write the run's figures as JSON to this file (for the bench; the last input's).")
def compress(files: tuple[str, ...], recursive: bool, level: int, chunk_size: int | None, components: str | None,
             lanes: int | None, tiling: str | None, device: str, stats_json: str | None, **kw: Any) -> None:
    """Compress FILES (or stdin) to FILE.ncz."""
    chosen = components_option(components)
    try:  # resolved once, by the library, for every file
        options = encode_options(level=level, threads=kw["threads"], chunk_size=chunk_size, model=kw["model_path"],
                                 lanes=lanes, components=None if chosen is None else [Component(c) for c in chosen],
                                 tiling=None if tiling is None else Tiling(tiling), cluster=kw["cluster"],
                                 device=device)
    except ValueError as exc:  # e.g. more lanes than the level's window allows
        raise click.UsageError(str(exc)) from None

    def work(src: BinaryIO, dst: BinaryIO | None, progress: ProgressLine) -> Summary:
        assert dst is not None
        summary = compress_stream(src, dst, options=options, progress=progress)
        if stats_json:
            with open(stats_json, "w") as out:
                json.dump({name: getattr(summary, name) for name in _STATS_FIELDS}, out)
        return summary

    opts = file_options(kw, options.chunk_size)
    names, listed = expand(files, recursive, COMPRESS)
    sys.exit(0 if run_files(COMPRESS, names, opts, work) and listed else 1)


def _decoder(mode: str) -> Callable[..., None]:
    def command(files: tuple[str, ...], recursive: bool, **kw: Any) -> None:
        def work(src: BinaryIO, dst: BinaryIO | None, progress: ProgressLine) -> Summary:
            return decompress_stream(src, dst, threads=kw["threads"], progress=progress, model=kw["model_path"],
                                     cluster=kw["cluster"])

        names, listed = expand(files, recursive, mode)
        sys.exit(0 if run_files(mode, names, file_options(kw), work) and listed else 1)
    return command


main.command(DECOMPRESS, help="Decompress FILE.ncz (or stdin) to FILE, verifying every checksum.")(
    common(_decoder(DECOMPRESS)))
main.command(TEST, help="Decode FILES and verify them, writing nothing.")(common(_decoder(TEST)))


def _print(lines: list[str]) -> None:
    if sys.stdout is None:  # click.echo would drop the lines silently
        say("standard output is closed")
        sys.exit(1)
    click.echo("\n".join(lines))


@main.command()
@FILES
@RECURSIVE
@click.option("--json", "as_json", is_flag=True, help="One JSON array of objects, one per file.")
def info(files: tuple[str, ...], recursive: bool, as_json: bool) -> None:
    """Show format version, level, model, chunks, sizes and ratio of FILES without decoding."""
    names, listed = expand(files, recursive, DECOMPRESS)
    found, ok = scan_all(names)
    if as_json:
        _print([json.dumps([info_json(f) for f in found], indent=2)])
    for facts in [] if as_json else found:
        _print(info_lines(facts, facts.name))
    sys.exit(0 if ok and listed else 1)


@main.command("list")
@FILES
@RECURSIVE
def list_files(files: tuple[str, ...], recursive: bool) -> None:
    """List compressed and original sizes, ratio, level and model of FILES, with a total (nczip -l)."""
    names, listed = expand(files, recursive, DECOMPRESS)
    found, ok = scan_all(names)
    if found:
        _print(list_table(found, [quote(f.name) for f in found]))
    sys.exit(0 if ok and listed else 1)


@main.command()
@click.argument("shell", type=click.Choice(["bash", "zsh", "fish"]))
def completion(shell: str) -> None:
    """Print the completion script for SHELL: eval "$(nczip completion bash)"."""
    cls = get_completion_class(shell)
    assert cls is not None
    click.echo(cls(main, {}, "nczip", "_NCZIP_COMPLETE").source())


def run() -> None:
    """Console entry point: one-line errors; on SIGINT/SIGTERM/SIGHUP the temporary output is
    removed and the exit status is 128 + the signal; a reader that goes away ends nczip quietly."""
    from .files import reader_gone

    outputs.install_signal_handlers()
    warnings.filterwarnings("ignore", category=RuntimeWarning)  # numpy's float warnings are not the user's
    try:
        main(standalone_mode=True, prog_name="nczip", complete_var="_NCZIP_COMPLETE")
    except outputs.Interrupted as stop:
        say("interrupted" if stop.signum == signal.SIGINT else f"terminated by {signal.Signals(stop.signum).name}")
        sys.exit(stop.exit_status)
    except BrokenPipeError:
        reader_gone()
