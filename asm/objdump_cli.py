"""wse-objdump: print an object file as assembly (which wse-as assembles to the same bytes)."""
from __future__ import annotations

import sys

import click

from wse.cli.files import OutputError, internal_error, read_object, same_file, write_file, write_stdout
from wse.isa import objfile as of

from . import disassemble
from .diag import AssemblyError

EPILOG = """\b
Examples:
  wse-objdump kernel.wso                 # print to stdout
  wse-objdump kernel.wso -o kernel.dis.s
  wse-as kernel.dis.s -o again.wso && cmp kernel.wso again.wso   # identical

Every image is printed as a .program, followed by its .place lines; .loc lines carry the
source positions so that the LINES table is reproduced too.

\b
Exit status: 0 when the listing was written (also when stdout's reader stops
early, as `| head` does); 1 when the object cannot be read or is not a valid
object file, the listing cannot be written (-o, or stdout: a full disk,
closed), or the host runs out of memory; 2 for bad usage or an internal error
(one line, please report it); 130 when interrupted (Ctrl-C).
"""


@click.command(epilog=EPILOG, context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("objfile")    # (a folder or a missing file: "cannot read", exit 1, as the others)
@click.option("-o", "--output", default=None,
              help="Write the listing to this file instead of stdout.")
def main(objfile, output):
    """Print the wse object file OBJFILE as assembly."""
    for what, name in (("OBJFILE", objfile), ("-o", output)):
        if name is not None and not name:
            click.echo(f"error: {what}: the file name is empty; give the "
                       + ("object file to print" if what == "OBJFILE" else "file to write"), err=True)
            sys.exit(1)
    if output is not None and same_file(output, objfile):
        click.echo(f"error: -o {output} is the object file {objfile}: the listing would replace it; "
                   f"give the listing another name (e.g. -o "
                   f"{objfile.removesuffix('.wso')}.dis.s)", err=True)
        sys.exit(1)
    try:
        # no further than the header's size: /dev/zero or a FIFO is refused, not read to the end
        data = read_object(objfile)
    except OSError as e:
        click.echo(f"error: cannot read {objfile}: {e.strerror or e}", err=True)
        sys.exit(1)
    except of.ObjectFormatError as e:
        click.echo(f"error: {objfile}: not a valid object file: {e}", err=True)
        sys.exit(1)
    try:
        text = disassemble(data)
    except AssemblyError as e:
        click.echo(f"error: {objfile}: " + e.diagnostics[0].message, err=True)
        sys.exit(1)
    except (KeyboardInterrupt, SystemExit, ImportError):
        raise   # (ImportError: a module that cannot be loaded, e.g. under ulimit -v: the launcher says so)
    except MemoryError:         # not a bug of wse: the host's limit
        click.echo(f"error: out of host memory while reading {objfile}; free memory", err=True)
        sys.exit(1)
    except BaseException as e:
        click.echo(internal_error(e), err=True)
        sys.exit(2)
    if output is not None:
        # written beside and renamed over: a failed write keeps the listing that was there
        try:
            write_file(output, lambda fh: fh.write(text.encode("utf-8")))
        except OutputError as e:
            click.echo(f"error: {e}", err=True)
            sys.exit(1)
    else:
        # written and flushed here, so that a failure (a full disk, a size limit, stdout
        # closed) is an error, not a listing cut short with exit 0
        write_stdout(text)


if __name__ == "__main__":  # pragma: no cover  (python -m: the console script's launcher)
    from wse.cli.launch import run
    sys.exit(run("wse-objdump", main))
