"""Every ```python block in README.md and docs/*.md runs, in order, one namespace per file."""

import ast
import pathlib
import re
import sys

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


def test_readme_test_command_runs_this_suite():
    """README.md's test command installs an extra of pyproject.toml and runs ``pytest -q`` with
    no arguments. So pyproject's pytest configuration must collect this whole suite, and that
    extra must provide every package the suite imports (beyond the standard library, fjac and
    its dependencies; a package taken with ``pytest.importorskip`` is optional)."""
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    command = re.search(r'pip install -q -e "\.\[(\w+)\]" && \.venv/bin/python -m pytest -q$',
                        readme, re.M)
    assert command, "README.md gives no test command of the expected form"
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))

    # what plain `pytest -q` collects: testpaths, and nothing deselected by addopts
    pytest_config = config["tool"]["pytest"]["ini_options"]
    testpaths = [(ROOT / p).resolve() for p in pytest_config["testpaths"]]
    suite = sorted(ROOT.joinpath("tests").glob("test_*.py"))
    assert suite and all(any(p in t.parents for p in testpaths) for t in suite)
    assert not re.search(r"(^|\s)(-k|-m|--ignore|--deselect)\b", pytest_config.get("addopts", ""))

    # what the extra installs covers what the suite imports
    def distribution(requirement: str) -> str:
        return re.split(r"[<>=!~\[; ]", requirement, maxsplit=1)[0].lower().replace("-", "_")

    project = config["project"]
    provided = {distribution(r) for r in project["optional-dependencies"][command.group(1)]}
    provided |= {distribution(r) for r in project["dependencies"]} | {"fjac"}
    for path in [*suite, ROOT / "tests" / "conftest.py"]:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        optional = {
            node.args[0].value.split(".")[0] for node in ast.walk(tree)
            if isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "importorskip"
            and node.args and isinstance(node.args[0], ast.Constant)
        }
        imported = {alias.name.split(".")[0] for node in ast.walk(tree)
                    if isinstance(node, ast.Import) for alias in node.names}
        imported |= {node.module.split(".")[0] for node in ast.walk(tree)
                     if isinstance(node, ast.ImportFrom) and node.module and not node.level}
        missing = imported - set(sys.stdlib_module_names) - provided - optional
        assert not missing, f"{path.name} imports {sorted(missing)}, which the README's " \
            f"install of the {command.group(1)!r} extra does not provide"


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
