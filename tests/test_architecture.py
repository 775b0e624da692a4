"""The code's shape, checked with the suite: dependencies run one way (the contracts in
pyproject.toml, checked by import-linter), and imports sit at the top of modules unless a
comment says why one cannot."""

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
APPS = ("civic", "strategy", "proposals", "frontend")


def test_dependencies_run_one_way():
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(
        [str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def unexplained_imports(source: str) -> list[int]:
    """Lines of imports inside functions with no comment on them or right above them."""
    lines = source.splitlines()
    found = []
    for function in ast.walk(ast.parse(source)):
        if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for node in ast.walk(function):
            if not isinstance(node, ast.Import | ast.ImportFrom):
                continue
            above = node.lineno - 2
            # Climb over the imports of the same block to the line that introduces them.
            while above >= 0 and lines[above].strip().startswith(("import ", "from ", ")")):
                above -= 1
            explained = "#" in lines[node.lineno - 1] or (
                above >= 0 and lines[above].strip().startswith("#")
            )
            if not explained:
                found.append(node.lineno)
    return found


def test_imports_inside_functions_say_why():
    unexplained = [
        f"{path.relative_to(ROOT)}:{line}"
        for app in APPS
        for path in sorted((ROOT / app).rglob("*.py"))
        if "migrations" not in path.parts
        for line in unexplained_imports(path.read_text(encoding="utf-8"))
    ]
    assert unexplained == [], "imports inside functions without a comment saying why"


def test_the_import_check_finds_an_unexplained_one():
    source = (
        "def ready():\n"
        "    # Models exist only once the registry is ready.\n"
        "    from a import b\n"
        "    import c\n"
        "\n"
        "def later():\n"
        "    x = 1\n"
        "    from d import e\n"
        "    from f import g  # a reason\n"
    )
    assert unexplained_imports(source) == [8]
