"""The ``nczip`` command line: argument handling and messages only; the work is in :mod:`nczip.stream`.

Conventions follow gzip/zstd: ``nczip FILE`` compresses to ``FILE.ncz`` and keeps the input,
``nczip -d FILE.ncz`` restores ``FILE``, no file (or ``-``) means stdin to stdout, ``-c`` writes to
stdout, nothing is overwritten without ``-f``. Output goes to a temporary file that is renamed into
place only after success, and an input is removed only with ``--rm`` after its output is verified.
Every failure is one line ``nczip: FILE: reason`` on stderr and exit status 1.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import re
import resource
import signal
import sys
import warnings
from dataclasses import dataclass
from typing import BinaryIO, Callable, Iterator

import click

from . import __version__, backend, outputs
from .config import MAX_LANES, CodecConfig, Ensemble
from .config import parse as parse_config
from .config import parse_model
from .errors import NczError
from .levels import DEFAULT_LEVEL, MAX_LEVEL, MIN_LEVEL, level_config
from .progress import ProgressLine, human_bytes
from .stream import Summary, compress_stream, decompress_stream, scan_container

SUFFIX = ".ncz"
STDIO = "-"
#: the Summary fields that ``compress --stats-json`` writes (machine-readable ``-v``, for the bench)
_STATS_FIELDS = ("original_bytes", "compressed_bytes", "chunks", "methods", "ideal_bits", "neural_bytes",
                 "symbols", "tokens", "load_seconds", "seconds")


class Failure(Exception):
    """A per-file failure already phrased for the user."""


def _say(message: str) -> None:
    click.echo(f"nczip: {message}", err=True)


def _parse_size(text: str) -> int:
    match = re.fullmatch(r"\s*(\d+)\s*([kKmMgG]?)i?[bB]?\s*", text)
    if not match:
        raise click.BadParameter(f"{text!r} is not a size (e.g. 65536, 64K, 4M)")
    value = int(match.group(1)) * {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30}[match.group(2).lower()]
    if value <= 0:
        raise click.BadParameter("the chunk size must be positive")
    return value


class NczGroup(click.Group):
    """Lets ``nczip FILE`` mean compress and ``nczip -d``/``-t``/``-l`` pick the other commands."""

    _SWITCHES = {"-d": "decompress", "--decompress": "decompress", "--uncompress": "decompress",
                 "-t": "test", "--test": "test", "-l": "info", "--list": "info"}

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if len(args) == 1 and args[0] in self.commands and os.path.exists(args[0]):
            args = ["compress", args[0]]  # a file named like a command, given alone, is a file (as in gzip)
        if args and (args[0] in self.commands or args[0] in ("--help", "-h", "--version")):
            return super().parse_args(ctx, args)
        command, rest, literal = "compress", [], False
        for arg in args:
            if literal or arg == "--":
                literal = True
                rest.append(arg)
            elif arg in self._SWITCHES:
                command = self._SWITCHES[arg]
            elif re.fullmatch(r"-[a-zA-Z]{2,}[0-9]*", arg) and "d" in arg[1:]:
                command = "decompress"  # combined short flags such as -dc or -dcf
                rest.append(arg.replace("d", ""))
            else:
                rest.append(arg)
        return super().parse_args(ctx, [command, *rest])


def _common(func: Callable) -> Callable:
    options = [
        click.argument("files", nargs=-1, type=click.Path(dir_okay=True, allow_dash=True)),
        click.option("-o", "--output", type=click.Path(allow_dash=True), help="Write to this file (one input only)."),
        click.option("-c", "--stdout", "to_stdout", is_flag=True, help="Write to standard output."),
        click.option("-f", "--force", is_flag=True, help="Overwrite existing files; write binary to a terminal."),
        click.option("-k", "--keep", is_flag=True, help="Keep the input file (the default)."),
        click.option("--rm", "remove", is_flag=True, help="Remove the input after the output is verified."),
        click.option("-q", "--quiet", is_flag=True, help="No progress display or warnings."),
        click.option("-v", "--verbose", is_flag=True, help="Report sizes, ratio, speed and overhead."),
        click.option("-T", "--threads", type=click.IntRange(min=0), default=1, show_default=True,
                     help="Worker processes (0: one per CPU). Output does not depend on it."),
        click.option("--model", "model_path", type=click.Path(dir_okay=False),
                     help="GGUF model for levels 4-9 (default: the registry's SmolLM2-135M)."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


@click.group(cls=NczGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name="nczip")
def main() -> None:
    """nczip: neural lossless compression. `nczip FILE` compresses, `nczip -d FILE.ncz` restores."""


def _level_options(func: Callable) -> Callable:
    for level in range(MAX_LEVEL, MIN_LEVEL - 1, -1):
        extra = {"default": True} if level == DEFAULT_LEVEL else {}
        func = click.option(f"-{level}", "level", flag_value=level, **extra,
                            help=f"Level {level}." if level in (MIN_LEVEL, DEFAULT_LEVEL, MAX_LEVEL) else None,
                            hidden=level not in (MIN_LEVEL, DEFAULT_LEVEL, MAX_LEVEL))(func)
    return func


@main.command()
@_common
@_level_options
@click.option("--chunk-size", callback=lambda ctx, p, v: _parse_size(v) if v else None,
              help="Expert: bytes per independently coded chunk (default depends on the level).")
@click.option("--with", "components", metavar="LIST",
              help="Expert: online model components, comma-separated from ngram, match, bias, mixer,"
                   " skip (levels 4-9), ssm and floor (all levels); 'none' for the LLM or the type counts"
                   " alone (default: ngram,bias,mixer; plus floor at levels 1-3 and ssm at 2-3).")
@click.option("--lanes", type=click.IntRange(1, MAX_LANES),
              help="Expert: at levels 4-9, the most lanes (LLM sequences coded in lockstep) per chunk"
                   " (default 16; 1 codes each chunk as one sequence).")
@click.option("--tiling", type=click.Choice(["fibonacci", "period5", "none"]),
              help="Expert: tiling of the phrase hierarchy (switches the phrase predictor on; recorded in"
                   " the file, so decompression needs no flag).")
@click.option("--stats-json", type=click.Path(dir_okay=False), hidden=True,
              help="Write the run's figures as JSON to this file (for the bench; the last input's).")
def compress(files: tuple[str, ...], output: str | None, to_stdout: bool, force: bool, keep: bool,
             remove: bool, quiet: bool, verbose: bool, threads: int, model_path: str | None, level: int,
             chunk_size: int | None, components: str | None, lanes: int | None, tiling: str | None,
             stats_json: str | None) -> None:
    """Compress FILES (or stdin) to FILE.ncz."""
    chosen = None if components is None else [c for c in components.split(",") if c and c != "none"]
    try:
        raw_config = level_config(level, chosen, tiling, lanes)[0]
    except ValueError as exc:
        raise click.UsageError(f"--with: {exc}") from None
    try:
        parse_config(raw_config)
    except NczError as exc:  # e.g. more lanes than the level's window allows
        raise click.UsageError(str(exc)) from None

    def work(src: BinaryIO, dst: BinaryIO, progress: ProgressLine) -> Summary:
        summary = compress_stream(src, dst, level=level, threads=threads, chunk_size=chunk_size,
                                  progress=progress, model_path=model_path, components=chosen, tiling=tiling,
                                  lanes=lanes)
        if stats_json:
            with open(stats_json, "w") as out:
                json.dump({name: getattr(summary, name) for name in _STATS_FIELDS}, out)
        return summary

    _run_files("compress", files, FileOptions(output, to_stdout, force, remove, quiet, verbose, threads,
                                              model_path), work)


@main.command()
@_common
def decompress(files: tuple[str, ...], output: str | None, to_stdout: bool, force: bool, keep: bool,
               remove: bool, quiet: bool, verbose: bool, threads: int, model_path: str | None) -> None:
    """Decompress FILE.ncz (or stdin) to FILE, verifying every checksum."""
    def work(src: BinaryIO, dst: BinaryIO, progress: ProgressLine) -> Summary:
        return decompress_stream(src, dst, threads=threads, progress=progress, model_path=model_path)

    _run_files("decompress", files, FileOptions(output, to_stdout, force, remove, quiet, verbose, threads,
                                                model_path), work)


@main.command()
@_common
def test(files: tuple[str, ...], output: str | None, to_stdout: bool, force: bool, keep: bool,
         remove: bool, quiet: bool, verbose: bool, threads: int, model_path: str | None) -> None:
    """Decode FILES and verify them, writing nothing."""
    failed = False
    for name in files or (STDIO,):
        try:
            with _open_input(name) as (src, size):
                progress = _progress("test", size, quiet)
                try:
                    summary = decompress_stream(src, None, threads=threads, progress=progress,
                                                model_path=model_path)
                finally:
                    progress.close()
            if verbose:
                _say(f"{name}: OK ({summary.original_bytes} bytes)")
        except Exception as exc:  # noqa: BLE001 - every failure becomes one line
            _report(name, exc)
            failed = True
    if failed:
        sys.exit(1)


@main.command()
@click.argument("files", nargs=-1, type=click.Path(allow_dash=True))
def info(files: tuple[str, ...]) -> None:
    """Show format version, level, model, chunks, sizes and ratio of FILES without decoding."""
    failed = False
    for name in files or (STDIO,):
        try:
            with _open_input(name) as (src, _size):
                summary = scan_container(src)
            header = summary.headers[0]
            config = parse_config(header.config)
            model = parse_model(header.model)
        except Exception as exc:  # noqa: BLE001 - every failure becomes one line
            _report(name, exc)
            failed = True
            continue
        ratio = summary.original_bytes / summary.compressed_bytes if summary.compressed_bytes else 0.0
        lines = [
            f"file:            {name}",
            f"format version:  {header.version}",
            f"level:           {header.level}",
            f"predictors:      {_predictors(config)}",
            f"model:           {model.name if model else 'none (model-free level)'}",
        ]
        if model:
            lines.append(f"model sha256:    {model.sha256}")
            lines.append(f"backend:         {model.backend or 'none (byte model only)'}")
            tied = backend.tied_to(model.backend)
            if tied:
                lines.append(f"portability:     tied to a llama.cpp build with [{tied}] (not nczip's pinned"
                             " build): its LLM chunks decode only under such a build")
        lines += [
            f"chunk size:      {header.chunk_size}",
            f"chunks:          {summary.chunks} ("
            + ", ".join(f"{n} {m}" for m, n in sorted(summary.methods.items())) + ")",
            f"original size:   {summary.original_bytes}",
            f"compressed size: {summary.compressed_bytes}",
            f"ratio:           {ratio:.3f}",
            f"bits per byte:   {summary.bits_per_byte:.4f}",
        ]
        if len(summary.headers) > 1:
            lines.append(f"members:         {len(summary.headers)} concatenated containers")
        if sys.stdout is None:  # click.echo would drop the lines silently
            _say("standard output is closed")
            sys.exit(1)
        click.echo("\n".join(lines))
    if failed:
        sys.exit(1)


#: what a per-file failure may be; anything else is a bug, still reported in one line
_EXPECTED = (Failure, NczError, OSError, MemoryError, outputs.OutputError)


def _predictors(config: CodecConfig) -> str:
    """The models a container's configuration names, e.g. ``compact/2 + mixer/2(ngram, bias) + ssm/3``."""
    def components(ensemble: Ensemble | None) -> list[str]:
        if ensemble is None:
            return []
        on = [f.name for f in dataclasses.fields(ensemble) if f.name not in ("name", "stage_init", "ssm")
              and getattr(ensemble, f.name) is not None]
        return [f"{ensemble.name}({', '.join(on)})", *([ensemble.ssm.name] if ensemble.ssm else [])]

    if config.llm is not None:
        lanes = f" ({config.llm.lanes} lanes{', shared models' if config.llm.shared else ''})" \
            if config.llm.lanes > 1 else ""
        parts = [config.llm.name + lanes, *components(config.ensemble)]
    elif config.tokens is not None:
        parts = [config.tokens.name, *components(config.tokens.ensemble),
                 *([config.tokens.ssm.name] if config.tokens.ssm else [])]
    else:
        parts = []
    byte_model = config.predictor.name
    return f"{' + '.join(parts)}; non-text: {byte_model}" if parts else byte_model


def _quote(name: str) -> str:
    """A file name as one line: control characters (a newline in a name) are escaped."""
    return repr(name)[1:-1] if any(ord(c) < 32 or ord(c) == 127 for c in name) else name


def _report(name: str, exc: BaseException) -> None:
    if isinstance(exc, BrokenPipeError):
        _reader_gone()
    if isinstance(exc, outputs.OutputError):  # names the output itself
        _say(str(exc))
        return
    name = _quote(name)
    if not isinstance(exc, _EXPECTED):
        if os.environ.get("NCZIP_DEBUG"):
            raise exc
        _say(f"{name}: internal error: {exc!r} (set NCZIP_DEBUG=1 for a traceback)")
        return
    if isinstance(exc, OSError):
        reason = exc.strerror or str(exc)
    elif isinstance(exc, MemoryError):
        reason = "out of memory"
    else:
        reason = str(exc)
    _say(f"{name}: {reason}")


def _progress(label: str, size: int | None, quiet: bool) -> ProgressLine:
    return ProgressLine(label, size, enabled=not quiet and sys.stderr.isatty())


@contextlib.contextmanager
def _open_input(name: str) -> Iterator[tuple[BinaryIO, int | None]]:
    if name == STDIO:
        yield sys.stdin.buffer, None
        return
    if os.path.isdir(name):
        raise Failure("is a directory -- ignored")
    with open(name, "rb") as src:
        size = os.fstat(src.fileno()).st_size if os.path.isfile(name) else None
        yield src, size


def _output_name(mode: str, name: str, output: str | None, to_stdout: bool, force: bool) -> str:
    if output:
        return output
    if to_stdout or name == STDIO:
        return STDIO
    if mode == "compress":
        if name.endswith(SUFFIX) and not force:
            raise Failure(f"already has {SUFFIX} suffix -- unchanged (use -f to compress anyway)")
        return name + SUFFIX
    if not name.endswith(SUFFIX) or len(name) == len(SUFFIX):
        raise Failure(f"unknown suffix -- ignored (expected {SUFFIX}; use -o or -c)")
    return name[: -len(SUFFIX)]


@dataclass
class FileOptions:
    """The per-file options shared by compress and decompress."""

    output: str | None
    to_stdout: bool
    force: bool
    remove: bool
    quiet: bool
    verbose: bool
    threads: int
    model_path: str | None


def _run_files(mode: str, files: tuple[str, ...], opts: FileOptions,
               work: Callable[[BinaryIO, BinaryIO, ProgressLine], Summary]) -> None:
    names = files or (STDIO,)
    if opts.output and len(names) > 1:
        _say("-o can only be used with a single input file")
        sys.exit(1)
    failed = False
    for name in names:
        try:
            _one_file(mode, name, opts, work)
        except Exception as exc:  # noqa: BLE001 - every failure becomes one line
            _report(name, exc)
            failed = True
    if failed:
        sys.exit(1)


def _one_file(mode: str, name: str, opts: FileOptions,
              work: Callable[[BinaryIO, BinaryIO, ProgressLine], Summary]) -> None:
    force = opts.force
    target = _output_name(mode, name, opts.output, opts.to_stdout, force)
    if target == STDIO and sys.stdout is None:
        raise Failure("standard output is closed")
    if target == STDIO and mode == "compress" and sys.stdout.isatty() and not force:
        raise Failure("refusing to write compressed data to a terminal (use -f to force)")
    if target != STDIO:
        outputs.check_target(target, force)
        if name != STDIO and os.path.exists(name) and os.path.exists(target) and os.path.samefile(name, target):
            raise Failure("input and output are the same file")
    if name != STDIO and not os.path.exists(name):
        raise Failure("No such file or directory")
    if name == STDIO and mode != "compress" and sys.stdin.isatty() and not force:
        raise Failure("refusing to read compressed data from a terminal (use -f to force)")
    with _open_input(name) as (src, size):
        progress = _progress(mode, size, opts.quiet)
        try:
            if target == STDIO:
                summary = work(src, sys.stdout.buffer, progress)
                sys.stdout.buffer.flush()
            else:
                summary = outputs.write_output(target, lambda dst: work(src, dst, progress), force,
                                               None if name == STDIO else name)
        finally:
            progress.close()
    if opts.remove and name != STDIO and target != STDIO:
        if mode == "compress":
            _verify_compressed(target, opts)
        os.remove(name)
    if opts.verbose:
        _say(_describe(mode, name, target, summary))


def _verify_compressed(path: str, opts: FileOptions) -> None:
    """Decode the new container fully before the user's original is removed."""
    with open(path, "rb") as src:
        try:
            decompress_stream(src, None, threads=opts.threads, model_path=opts.model_path)
        except NczError as exc:
            raise Failure(f"verification of {path} failed ({exc}); input kept") from None


def _describe(mode: str, name: str, target: str, s: Summary) -> str:
    speed = human_bytes(s.original_bytes / s.seconds) + "/s" if s.seconds else "-"
    if mode == "compress":
        ratio = 100.0 * s.compressed_bytes / s.original_bytes if s.original_bytes else 0.0
        text = (f"{name}: {s.original_bytes} -> {s.compressed_bytes} bytes ({ratio:.2f}%, "
                f"{s.bits_per_byte:.4f} bpb) in {s.seconds:.2f} s ({speed}), {s.chunks} chunks")
        if s.coder_overhead_percent is not None:
            text += f", coder overhead {s.coder_overhead_percent:+.4f}% over the model's ideal"
    else:
        text = f"{name}: {s.compressed_bytes} -> {s.original_bytes} bytes in {s.seconds:.2f} s ({speed})"
    if s.tokens:
        text += f", {s.tokens} tokens ({s.tokens / s.seconds:.0f} tokens/s)"
    if s.load_seconds:
        text += f", model load {s.load_seconds:.2f} s"
    return text + f", peak RSS {_peak_rss_mb():.0f} MB -> {target}"


def _peak_rss_mb() -> float:
    """Largest resident set of this process or any worker it ran (Linux reports KiB)."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, workers) / 1024.0


def run() -> None:
    """Console entry point: one-line errors; on SIGINT/SIGTERM/SIGHUP the temporary output is
    removed and the exit status is 128 + the signal; a reader that goes away ends nczip quietly."""
    outputs.install_signal_handlers()
    warnings.filterwarnings("ignore", category=RuntimeWarning)  # numpy's float warnings are not the user's
    try:
        main(standalone_mode=True)
    except outputs.Interrupted as stop:
        _say("interrupted" if stop.signum == signal.SIGINT else f"terminated by {signal.Signals(stop.signum).name}")
        sys.exit(stop.exit_status)
    except BrokenPipeError:
        _reader_gone()


def _reader_gone() -> None:
    """The reader of our output went away (``nczip -dc f | head``): end quietly, with the status
    of a process ended by SIGPIPE, as gzip does (workers die with us; no temporary file is open
    when writing to a pipe)."""
    with contextlib.suppress(OSError):
        sys.stdout = None  # type: ignore[assignment]
    os._exit(128 + signal.SIGPIPE)
