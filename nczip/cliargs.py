"""How the command line's arguments are read: gzip-style switches (``nczip FILE``, ``-d``, ``-t``,
``-l``, ``-dc``), the options every file command shares, levels as ``-1`` ... ``-9``, sizes such as
``64K``, and ``--with`` lists checked against :class:`nczip.Component`. Kept apart from
:mod:`nczip.cli` so that the commands read as what they do.
"""

from __future__ import annotations

import os
import re
from typing import Any, Callable

import click

from .api import LEVEL_BEST as MAX_LEVEL
from .api import LEVEL_DEFAULT as DEFAULT_LEVEL
from .api import LEVEL_FASTEST as MIN_LEVEL
from .api import MAX_CHUNK_SIZE, Component
from .files import COMPRESS, DECOMPRESS, TEST, FileOptions

def parse_size(text: str) -> int:
    """``--chunk-size``: bytes, or with a K/M/G suffix; out of the container's range is a usage
    error here rather than a per-file failure once the work has started."""
    match = re.fullmatch(r"\s*(\d+)\s*([kKmMgG]?)i?[bB]?\s*", text)
    if not match:
        raise click.BadParameter(f"{text!r} is not a size (e.g. 65536, 64K, 4M)")
    value = int(match.group(1)) * {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30}[match.group(2).lower()]
    if value <= 0:
        raise click.BadParameter("the chunk size must be positive")
    if value > MAX_CHUNK_SIZE:
        raise click.BadParameter(f"the chunk size must be at most {MAX_CHUNK_SIZE >> 20}M ({MAX_CHUNK_SIZE} bytes)")
    return value


class NczGroup(click.Group):
    """Lets ``nczip FILE`` mean compress and ``nczip -d``/``-t``/``-l`` pick the other commands."""

    _SWITCHES = {"-d": DECOMPRESS, "--decompress": DECOMPRESS, "--uncompress": DECOMPRESS,
                 "-t": TEST, "--test": TEST, "-l": "list", "--list": "list"}

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if len(args) == 1 and args[0] in self.commands and os.path.exists(args[0]):
            args = [COMPRESS, args[0]]  # a file named like a command, given alone, is a file (as in gzip)
        if args and (args[0] in self.commands or args[0] in ("--help", "-h", "--version", "-V")):
            return super().parse_args(ctx, args)
        command, rest, literal = COMPRESS, [], False
        for arg in args:
            if literal or arg == "--":
                literal = True
                rest.append(arg)
            elif arg in self._SWITCHES:
                command = self._SWITCHES[arg]
            elif re.fullmatch(r"-[a-zA-Z]{2,}[0-9]*", arg) and "d" in arg[1:]:
                command = DECOMPRESS  # combined short flags such as -dc or -dcf
                rest.append(arg.replace("d", ""))
            else:
                rest.append(arg)
        return super().parse_args(ctx, [command, *rest])


FILES = click.argument("files", nargs=-1, type=click.Path(dir_okay=True, allow_dash=True))
RECURSIVE = click.option("-r", "--recursive", is_flag=True, help="Work on the files inside directories.")


def common(func: Callable[..., Any]) -> Callable[..., Any]:
    options = [
        FILES, RECURSIVE,
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
        click.option("--cluster", envvar="NCZIP_CLUSTER", metavar="ADDRESS",
                     help="Code the chunks on a Ray cluster: auto, local, or host:port (env NCZIP_CLUSTER)."
                          " Output does not depend on it."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def file_options(kw: dict[str, Any], chunk_size: int | None = None) -> FileOptions:
    return FileOptions(kw["output"], kw["to_stdout"], kw["force"], kw["remove"], kw["quiet"], kw["verbose"],
                       kw["threads"], kw["model_path"], chunk_size)


def level_options(func: Callable[..., Any]) -> Callable[..., Any]:
    for level in range(MAX_LEVEL, MIN_LEVEL - 1, -1):
        extra: dict[str, Any] = {"default": True} if level == DEFAULT_LEVEL else {}
        shown = level in (MIN_LEVEL, DEFAULT_LEVEL, MAX_LEVEL)
        func = click.option(f"-{level}", "level", flag_value=level, **extra, hidden=not shown,
                            help=f"Level {level}." if shown else None)(func)
    return func


def components_option(text: str | None) -> list[str] | None:
    """``--with a,b`` as the names the level table takes; ``none`` or nothing: no component."""
    if text is None:
        return None
    names = [c for c in text.split(",") if c and c != "none"]
    unknown = sorted(set(names) - {c.value for c in Component})
    if unknown:
        raise click.UsageError(f"--with: unknown ensemble component(s): {', '.join(unknown)}")
    return names
