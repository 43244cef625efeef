"""`python -m wse.isa --write | --check [--root DIR]`: regenerate or check the derived files."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from .gen import outputs
from .table import IsaError, load


def _default_root() -> Path:
    # The source tree that holds isa/isa.toml (an editable install points here).
    here = Path(__file__).resolve().parent
    return here.parent


def _write_whole(path: Path, text: str) -> None:
    """Write text beside path and rename it over path: a full disk or a limit leaves the old file
    as it was, never cut. (isa/ imports nothing of wse.cli, whose write_file does the same.)"""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.partial")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


@click.command()
@click.option("--write", "mode", flag_value="write", help="Regenerate every derived file.")
@click.option("--check", "mode", flag_value="check", help="Exit 1 when a derived file is stale.")
@click.option("--root", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Repository root (default: the tree this package was loaded from).")
def main(mode: str | None, root: Path | None) -> None:
    """Regenerate (--write) or check (--check) the files derived from isa/isa.toml (the one of
    this package; --root says where the derived files are)."""
    try:
        isa = load()
    except IsaError as e:
        click.echo(f"error: isa/isa.toml: {e}", err=True)
        sys.exit(1)
    root = root or _default_root()
    if not (root / "csrc").is_dir():
        click.echo(f"error: {root} is not the repository root (no csrc/): the derived files live in a "
                   f"source checkout; run this with an editable install of it (pip install -e .), or "
                   f"pass --root DIR", err=True)
        sys.exit(2)
    stale = []
    for path, text in outputs(root, isa).items():
        try:
            old = path.read_text(encoding="utf-8") if path.exists() else None
        except UnicodeDecodeError:
            old = None                      # not the generated text: stale
        except OSError as e:
            click.echo(f"error: cannot read {path}: {e.strerror or e}", err=True)
            sys.exit(2)
        if old != text:
            stale.append(path)
            if mode == "write":
                try:
                    _write_whole(path, text)
                except OSError as e:
                    click.echo(f"error: cannot write {path}: {e.strerror or e}; the file that was "
                               f"there is unchanged", err=True)
                    sys.exit(2)
    if mode == "write":
        for p in stale:
            click.echo(f"wrote {p.relative_to(root)}")
        if not stale:
            click.echo("all derived files are up to date")
        return
    if stale:
        for p in stale:
            click.echo(f"stale: {p.relative_to(root)} (run `python -m wse.isa --write`)", err=True)
        sys.exit(1)
    click.echo(f"ok: {len(isa.insns)} encodings, {len(outputs(root, isa))} derived files up to date")


PROG = "python -m wse.isa"


def run(argv=None) -> int:
    """main() as the console scripts end (wse.cli.launch, which isa/ may not import): Ctrl-C is
    one line and 130, a stdout that cannot be written one line and 2 (a reader that went away,
    `| head`, is not an error), never a traceback."""
    try:
        try:
            main.main(args=argv, prog_name=PROG, standalone_mode=False)
        finally:
            sys.stdout.flush()
    except SystemExit as e:
        return e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    except click.exceptions.Exit as e:          # --help
        return e.exit_code
    except click.ClickException as e:
        e.show()
        return e.exit_code
    except (click.exceptions.Abort, KeyboardInterrupt):
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except OSError as e:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        print(f"{PROG}: error: cannot write to standard output: {e.strerror or e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(run())
