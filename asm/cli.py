"""wse-as: assemble a source file into an object file (.wso)."""
from __future__ import annotations

import sys
import warnings

import click

from wse.cli.files import OutputError, internal_error, same_file, write_file

from . import assemble_file
from .diag import AssemblyError, AssemblyWarning

EPILOG = """\b
Examples:
  wse-as kernel.s -o kernel.wso
  wse-as gemv.s -o gemv.wso -I kernels/lib -D N=64 -D M=32 --arch wse3
  wse-objdump gemv.wso > gemv.dis.s && wse-as gemv.dis.s -o again.wso   # same bytes

The language is documented in docs/assembly.md of the wse source tree. Errors are printed with their file, line and
column.

\b
Exit status: 0 when the object was written; 1 when the source has errors, a
file cannot be read or written, or the host runs out of memory; 2 for bad usage
(an unknown option, no SOURCE) or an internal error (one line, please report
it); 130 when interrupted (Ctrl-C). Never a traceback.
"""


def _parse_define(text: str):
    name, eq, val = text.partition("=")
    name = name.strip()
    if not name:
        raise click.BadParameter(f"{text!r}: expected NAME=VALUE")
    if not eq:
        return name, 1
    val = val.strip()
    if not val.isascii():       # int() and float() would take '٣' and '３', the source does not
        raise click.BadParameter(f"{text!r}: the value must be an integer or a float in ASCII digits")
    try:
        return name, int(val, 0)
    except ValueError:
        pass
    try:
        return name, float.fromhex(val) if val.lower().startswith(("0x", "-0x")) else float(val)
    except ValueError:
        raise click.BadParameter(f"{text!r}: the value must be an integer or a float") from None


@click.command(epilog=EPILOG, context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("source")     # (a folder or a missing file: "cannot read", exit 1, as the others)
@click.option("-o", "--output", default=None,
              help="Output object file (default: SOURCE with the suffix .wso).")
@click.option("-I", "include_dirs", multiple=True, type=click.Path(file_okay=False),
              help="Add a directory to the .include search path (repeatable).")
@click.option("-D", "defines", multiple=True, help="Define a constant NAME=VALUE (repeatable).")
@click.option("--arch", type=click.Choice(["wse2", "wse3"]), default=None,
              help="Architecture preset (overrides .arch in the source; default wse2).")
@click.option("--Werror", "werror", is_flag=True,
              help="Treat warnings as errors (exit 1, no output file).")
def main(source, output, include_dirs, defines, arch, werror):
    """Assemble SOURCE (wse assembly) into a wse object file."""
    try:
        defs = [_parse_define(d) for d in defines]     # (pairs: a name given twice is checked)
    except click.BadParameter as e:
        click.echo(f"error: -D {e.message}", err=True)
        sys.exit(1)
    for what, name in (("SOURCE", source), ("-o", output)):
        if name is not None and not name:
            click.echo(f"error: {what}: the file name is empty; give the "
                       + ("source file to assemble" if what == "SOURCE" else "object file to write"), err=True)
            sys.exit(1)
    default = (source[:-2] if source.endswith(".s") else source) + ".wso"
    if output is not None and same_file(output, source):    # checked before assembling
        click.echo(f"error: -o {output} is the source file {source}: the object would replace it; "
                   f"give the object another name (e.g. -o {default})", err=True)
        sys.exit(1)
    output = default if output is None else output
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", AssemblyWarning)
            data = assemble_file(source, include_dirs=include_dirs, defines=defs, arch=arch)
    except AssemblyError as e:
        click.echo(str(e), err=True)
        sys.exit(1)
    except (KeyboardInterrupt, SystemExit, ImportError):
        raise   # (ImportError: a module that cannot be loaded, e.g. under ulimit -v: the launcher says so)
    except MemoryError:         # not a bug of wse: the host's limit
        click.echo(f"error: out of host memory while assembling {source}; free memory", err=True)
        sys.exit(1)
    except BaseException as e:  # a bug: one line, no traceback
        click.echo(internal_error(e), err=True)
        sys.exit(2)
    ws = [w.message.diagnostic for w in caught if isinstance(w.message, AssemblyWarning)]
    if ws:
        n = len(ws)
        click.echo("\n\n".join(d.render() for d in ws) + f"\n\n{n} warning{'s' if n != 1 else ''}"
                   + (" (--Werror: no output written)" if werror else ""), err=True)
        if werror:
            sys.exit(1)
    # written beside and renamed over: a failed write (a full disk) keeps the object that was there
    try:
        write_file(output, lambda fh: fh.write(data))
    except OutputError as e:
        click.echo(f"error: {e}", err=True)
        sys.exit(1)


if __name__ == "__main__":  # pragma: no cover  (python -m: the console script's launcher)
    from wse.cli.launch import run
    sys.exit(run("wse-as", main))
