"""Repository-level checks: the README's commands, CI, packaging."""
from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def _block(name: str) -> str:
    m = re.search(rf"<!-- {name}:begin -->\s*```\n(.*?)\n```\s*<!-- {name}:end -->", README, re.S)
    assert m, f"README.md has no {name} block"
    return m.group(1).strip()


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text()
    # .ci/run extracts the block between these markers and evals it
    assert "<!-- test-command:begin -->" in ci and 'eval "$cmd"' in ci
    cmd = _block("test-command")
    assert cmd.startswith("python3 -m venv .venv") and cmd.endswith("python -m pytest")
    assert "\n" not in cmd


def test_main_command_names_files_that_exist():
    cmd = _block("main-command")
    for token in cmd.split():
        if re.search(r"\.(s|py|npy)$", token) and "/" in token:
            assert (ROOT / token).exists(), f"README main command uses missing {token}"


def test_every_kernel_package_is_installed():
    cfg = tomllib.loads((ROOT / "pyproject.toml").read_text())
    listed = set(cfg["tool"]["setuptools"]["packages"])
    found = {"wse.kernels." + ".".join(p.parent.relative_to(ROOT / "kernels").parts)
             for p in (ROOT / "kernels").rglob("__init__.py") if p.parent != ROOT / "kernels"}
    missing = found - listed
    assert not missing, f"add {sorted(missing)} to [tool.setuptools] packages in pyproject.toml"


def test_readme_taste_is_a_faithful_excerpt_and_its_output_is_real(tmp_path):
    import shlex
    import subprocess
    import sys
    section = README.split("## A taste of the assembly language")[1].split("## Documentation")[0]
    blocks = re.findall(r"```\n(.*?)\n```", section, re.S)
    source = (ROOT / "kernels" / "examples" / "hello.s").read_text().split("\n")
    pos = 0
    for line in blocks[0].split("\n"):
        if line.strip() in ("...", ""):
            continue
        pos = source.index(line, pos) + 1   # in order, verbatim
    console = blocks[1].split("\n")
    out = []
    for line in console:
        if line.startswith("$ "):
            argv = shlex.split(line[2:].replace("kernels/", str(ROOT / "kernels") + "/"))
            if argv[0] == "python":
                argv[0] = sys.executable
            r = subprocess.run(argv, cwd=tmp_path, capture_output=True, text=True, timeout=60)
            assert r.returncode == 0, r.stderr
            out += r.stdout.strip().split("\n") if r.stdout.strip() else []
    assert out == [l for l in console if not l.startswith("$ ")]
