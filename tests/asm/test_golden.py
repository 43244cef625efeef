"""One test per golden file: tests/asm/ok_*.s assemble to their inline expectations,
tests/asm/err_*.s produce exactly their inline diagnostics (see golden.py for the annotations)."""
from __future__ import annotations

import os
import warnings
from pathlib import Path

import pytest

from wse.asm import AssemblyError, AssemblyWarning, assemble_file, disassemble, assemble_text
from wse.isa import objfile as of

from asm_golden import Spec, check_err, check_ok, check_warnings

HERE = Path(__file__).parent
OK = sorted(HERE.glob("ok_*.s"))
ERR = sorted(HERE.glob("err_*.s"))
MIN_CORPUS = 120


def _rel(p: Path) -> str:
    return os.path.relpath(p)


def test_corpus_size():
    assert len(OK) + len(ERR) >= MIN_CORPUS, f"only {len(OK) + len(ERR)} golden files"
    assert len(OK) >= 50 and len(ERR) >= 50


@pytest.mark.parametrize("path", OK, ids=[p.name for p in OK])
def test_ok(path):
    spec = Spec(path)
    name = _rel(path)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", AssemblyWarning)
            data = assemble_file(name, defines=spec.defines, arch=spec.arch)
    except AssemblyError as e:
        pytest.fail(f"{path.name} should assemble:\n{e}")
    obj = of.read(data)
    problems = check_ok(spec, obj, name)
    problems += check_warnings(spec, [w.message.diagnostic for w in caught
                                      if isinstance(w.message, AssemblyWarning)], name)
    assert not problems, "\n".join(problems)
    # and it round-trips through objdump
    with warnings.catch_warnings():       # (the annotated warnings again, at dis.s lines)
        warnings.simplefilter("ignore", AssemblyWarning)
        again = assemble_text(disassemble(data), "dis.s")
    assert again == data


@pytest.mark.parametrize("path", ERR, ids=[p.name for p in ERR])
def test_err(path):
    spec = Spec(path)
    name = _rel(path)
    with pytest.raises(AssemblyError) as ei:
        assemble_file(name, defines=spec.defines, arch=spec.arch)
    problems = check_err(spec, ei.value.diagnostics, name)
    assert not problems, "\n".join(problems) + "\n\n" + str(ei.value)
    text = str(ei.value)
    assert "error:" in text and "Traceback" not in text
