"""The three mutation surveys (tests/mutation/*_mutants.py) are run by hand: each takes 10-35
minutes, too long for CI. What CI can check in a second is that their mutant lists still fit
the code: every snippet a mutant replaces occurs exactly once in its file, and every test a
mutant names exists. Without this, an edit to the core, the assembler or a kernel would turn
mutants into "snippet not found" only when someone next runs the survey."""
import importlib.util
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SURVEYS = ("core", "asm", "kernel")


def _load(name: str):
    path = ROOT / "tests" / "mutation" / f"{name}_mutants.py"
    spec = importlib.util.spec_from_file_location(f"_wse_{name}_mutants", path)
    mod = sys.modules.get(spec.name)
    if mod is None:
        mod = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = mod          # (dataclasses look their module up there)
        spec.loader.exec_module(mod)
    return mod


def _edits(m) -> list[tuple[str, str, str]]:
    """(file, old, new) of a mutant, whichever of the three surveys' shapes it has."""
    if hasattr(m, "old"):                                   # core: one edit
        return [(m.file, m.old, m.new)]
    if hasattr(m, "file"):                                  # asm: one file, edits (old, new)
        return [(m.file, old, new) for old, new in m.edits]
    return [tuple(e) for e in m.edits]                      # kernel: edits (file, old, new)


def _tests(m) -> list[str]:
    names = getattr(m, "tests", None)
    if names is None:
        names = [c for c in m.checks if isinstance(c, str)]
    return [t for t in names if t.startswith("tests/")]


CASES = [(s, m) for s in SURVEYS for m in _load(s).MUTANTS]


def test_each_survey_has_mutants_with_unique_names():
    for s in SURVEYS:
        names = [m.name for m in _load(s).MUTANTS]
        assert len(names) >= 20, f"{s}: only {len(names)} mutants"
        assert len(set(names)) == len(names), f"{s}: repeated mutant names"


@pytest.mark.parametrize("survey,m", CASES, ids=[f"{s}:{m.name}" for s, m in CASES])
def test_mutant_fits_the_code(survey, m):
    edits = _edits(m)
    assert edits, f"{survey} mutant {m.name} edits nothing"
    for file, old, new in edits:
        path = ROOT / file
        assert path.is_file(), f"{survey} mutant {m.name}: {file} does not exist"
        n = path.read_text(encoding="utf-8").count(old)
        assert n == 1, (f"{survey} mutant {m.name}: its snippet occurs {n} times in {file} (must be "
                        f"once): update the mutant in tests/mutation/{survey}_mutants.py\n{old!r}")
        assert old != new, f"{survey} mutant {m.name} changes nothing in {file}"
    for t in _tests(m):
        file, _, node = t.partition("::")
        path = ROOT / file
        assert path.exists(), f"{survey} mutant {m.name} names {t}, which does not exist"
        if node:
            func = node.split("[")[0].split("::")[-1]
            assert re.search(rf"^\s*def {re.escape(func)}\b", path.read_text(encoding="utf-8"), re.M), \
                f"{survey} mutant {m.name} names {t}, which {file} does not define"
