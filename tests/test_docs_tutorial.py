"""The tutorial's generator: `python -m wse.kernels.gemv.tutorial --check` finds every kind of
stale block (an excerpt, a step's output, a shell session's output) with its line, and
--refresh-doc rewrites the outputs so that --check passes again."""
from __future__ import annotations

import shutil
from pathlib import Path

from wse.kernels.gemv.tutorial import doc_problems, main, refresh_doc

ROOT = Path(__file__).resolve().parents[1]


def _copy(tmp_path: Path) -> Path:
    (tmp_path / "docs").mkdir()
    (tmp_path / "kernels").symlink_to(ROOT / "kernels")
    doc = tmp_path / "docs" / "tutorial.md"
    shutil.copy(ROOT / "docs" / "tutorial.md", doc)
    return doc


def test_check_passes_on_the_tutorial_and_names_each_stale_block(tmp_path, capsys):
    doc = _copy(tmp_path)
    assert main(["--check", str(doc)]) == 0
    assert "every excerpt and every output is current" in capsys.readouterr().out
    text = doc.read_text()
    lines = text.split("\n")
    step1 = lines.index("$ python -m wse.kernels.gemv.tutorial 1")   # a run block
    shell = lines.index("$ wse-emu one_pe.wso --input A=A.npy --input x=x.npy --output y=y.npy")
    excerpt = lines.index("    fmachs d0, a0, b0, r1        ; y = y + fp32(A[:, j]) * x[j]")
    assert lines[step1 + 5] == "cycles           = 49" and lines[shell + 1].startswith("cycles: 49")
    lines[step1 + 5] = "cycles           = 48"
    lines[shell + 1] = lines[shell + 1].replace("49", "48")
    lines[excerpt] = lines[excerpt].replace("fmachs", "fmacs")
    doc.write_text("\n".join(lines))
    problems = doc_problems(doc)
    # the marker lines (1-based) above the three blocks
    marks = [i + 1 for i, l in enumerate(lines) if l.startswith("<!--")]
    want = [max(m for m in marks if m < ln + 1) for ln in (excerpt, step1, shell)]
    assert [p.split(": ", 1)[0] for p in problems] == [f"{doc}:{m}" for m in want], problems
    assert "not verbatim in kernels/gemv/one_pe.s" in problems[0]
    assert "tutorial 1` prints something else" in problems[1] and "--refresh-doc" in problems[1]
    assert "shell session prints something else" in problems[2]
    assert main(["--check", str(doc)]) == 1
    refresh_doc(doc)       # outputs come back; the excerpt is the author's to fix
    assert [p.split(": ", 1)[0] for p in doc_problems(doc)] == [f"{doc}:{want[0]}"]
    assert "cycles           = 49" in doc.read_text() and "cycles: 49  (0.045 us" in doc.read_text()


def test_check_reports_a_failing_shell_command(tmp_path):
    doc = _copy(tmp_path)
    text = doc.read_text().replace("$ wse-as kernels/gemv/one_pe.s -D MB=8", "$ wse-as kernels/gemv/one_pe.s -D MB=8 --nosuch", 1)
    doc.write_text(text)
    problems = doc_problems(doc)
    assert len(problems) == 1 and "the shell session fails" in problems[0] and "--nosuch" in problems[0]
