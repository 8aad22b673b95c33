"""Every ```python block in README.md and docs/*.md runs, in order, one namespace per file."""

import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


@pytest.mark.parametrize("path", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_code_blocks_run(path, capsys):
    blocks = BLOCK.findall(path.read_text(encoding="utf-8"))
    namespace: dict = {"__name__": f"doc:{path.name}"}
    for i, code in enumerate(blocks):
        try:
            exec(compile(code, f"{path.name} block {i + 1}", "exec"), namespace)
        except Exception as exc:  # report which block failed, with the original traceback
            raise AssertionError(f"{path.name}: code block {i + 1} failed: {exc!r}") from exc


def test_readme_quickstart_is_the_ci_test_command():
    # .ci/run must run exactly the test command README.md gives
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert ".venv/bin/python -m pytest -q" in readme
    assert "python -m pytest -q" in ci


def test_docstring_examples_run():
    """Every ``>>>`` example in fjac's docstrings prints what it claims."""
    import doctest
    import importlib
    import pkgutil

    import fjac

    names = ["fjac"] + [
        m.name for m in pkgutil.walk_packages(fjac.__path__, "fjac.") if "strategies" not in m.name
    ]
    failed, tried = 0, 0
    for name in names:
        result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
        failed += result.failed
        tried += result.attempted
    assert tried > 50 and failed == 0
