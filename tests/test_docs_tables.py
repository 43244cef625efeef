"""Every Markdown table in the docs has as many cells in each row as in its header. A bare `|`
in a cell (`r1 = r2 | r3`, `|x|`) ends the cell in GitHub's renderer, which then cuts the row's
text short; write it `\\|`. (docs/isa.md is generated: isa/gen.py escapes its cells.)"""
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = sorted((ROOT / "docs").glob("*.md")) + [ROOT / "README.md"]


def cells(line: str) -> int:
    body = line.strip()
    body = body[1:] if body.startswith("|") else body
    body = body[:-1] if body.endswith("|") and not body.endswith("\\|") else body
    return len(re.split(r"(?<!\\)\|", body))


def tables(text: str):
    """(line number, header cells, [(line number, cells)]) per table outside fenced code."""
    lines = text.splitlines()
    fenced = False
    i = 0
    while i < len(lines):
        if lines[i].lstrip().startswith("```"):
            fenced = not fenced
        elif (not fenced and lines[i].lstrip().startswith("|") and i + 1 < len(lines)
              and re.fullmatch(r"\s*\|?\s*:?-+:?\s*(\|\s*:?-+:?\s*)*\|?\s*", lines[i + 1])):
            head = cells(lines[i])
            rows = []
            j = i + 2
            while j < len(lines) and lines[j].lstrip().startswith("|"):
                rows.append((j + 1, cells(lines[j])))
                j += 1
            yield i + 1, head, rows
            i = j
            continue
        i += 1


@pytest.mark.parametrize("path", DOCS, ids=lambda p: p.name)
def test_table_rows_have_as_many_cells_as_the_header(path):
    bad = [f"{path.name}:{n}: {k} cells, the header (line {h}) has {head}"
           for h, head, rows in tables(path.read_text(encoding="utf-8")) for n, k in rows if k != head]
    assert not bad, "\n".join(bad)


def test_the_check_finds_a_bare_bar():
    t = "| a | b |\n|---|---|\n| x | y \\| z |\n| x | y | z |\n"
    assert [[k for _, k in rows] for _, _, rows in tables(t)] == [[2, 3]]
