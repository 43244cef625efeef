"""`python -m wse.isa --write | --check [--root DIR]`: regenerate or check the derived files."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from .gen import outputs
from .table import IsaError, load


def _default_root() -> Path:
    # The source tree that holds isa/isa.toml (an editable install points here).
    here = Path(__file__).resolve().parent
    return here.parent


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
                    path.parent.mkdir(parents=True, exist_ok=True)
                    path.write_text(text, encoding="utf-8")
                except OSError as e:
                    click.echo(f"error: cannot write {path}: {e.strerror or e}", err=True)
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


if __name__ == "__main__":
    main()
