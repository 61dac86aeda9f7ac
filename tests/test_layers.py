"""The engine's structure, checked by tools: the import contracts in pyproject.toml, lazy imports only for heavy
libraries, and the linter's rules."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]

# Libraries that cost a process seconds or tens of MB to import (TensorFlow about 5 s and 600 MB): the web server's
# light pages must not load them, so the engine imports them inside the functions that use them.
HEAVY_LIBRARIES = ("tensorflow", "keras", "scipy", "sklearn", "ray")


def tool(name: str, *arguments: str, cwd: Path = PROJECT) -> subprocess.CompletedProcess:
    """Run one of the project's checking tools (installed with requirements-dev.txt) from `cwd`."""
    executable = Path(sys.executable).with_name(name)
    command = [str(executable) if executable.exists() else name, *arguments]
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=300)


def test_the_import_contracts_hold():
    result = tool("lint-imports")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_a_broken_import_contract_is_reported(tmp_path):
    copy = tmp_path / "project"
    shutil.copytree(PROJECT / "gan_core", copy / "gan_core", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(PROJECT / "views", copy / "views", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(PROJECT / "pyproject.toml", copy / "pyproject.toml")
    # The engine reaching for the user interface, as a careless edit would.
    settings = copy / "gan_core" / "spec" / "settings.py"
    settings.write_text(settings.read_text() + "\nimport streamlit  # noqa: E402\n")
    result = tool("lint-imports", cwd=copy)
    assert result.returncode != 0
    assert "gan_core.spec.settings -> streamlit" in result.stdout, result.stdout


def modules_loading(libraries: tuple[str, ...]) -> set[str]:
    """The engine's modules that import one of `libraries` at their top, directly or through another such module."""
    paths = {".".join(path.relative_to(PROJECT).with_suffix("").parts).removesuffix(".__init__"): path
             for path in (PROJECT / "gan_core").rglob("*.py")}
    top_imports = {name: imported_names(ast.parse(path.read_text()).body) for name, path in paths.items()}
    heavy: set[str] = set()
    while True:
        found = {name for name, imports in top_imports.items()
                 if any(imported.split(".")[0] in libraries or imported in heavy for imported in imports)}
        if found <= heavy:
            return heavy
        heavy |= found


def imported_names(statements) -> list[str]:
    """What `import` statements among `statements` bring in: modules, and gan_core's modules by their full names."""
    names = []
    for statement in statements:
        if isinstance(statement, ast.Import):
            names += [alias.name for alias in statement.names]
        elif isinstance(statement, ast.ImportFrom) and statement.level == 0:
            if is_engine_package(statement.module):
                names += [f"{statement.module}.{alias.name}" for alias in statement.names]
            else:
                names.append(statement.module)
    return names


def is_engine_package(module: str) -> bool:
    """Whether `module` is gan_core or one of its subpackages, from which `import name` brings in a module."""
    return module.split(".")[0] == "gan_core" and (PROJECT.joinpath(*module.split("."))).is_dir()


def test_the_engine_imports_inside_functions_only_what_is_heavy():
    heavy = modules_loading(HEAVY_LIBRARIES)
    # The modules that build or run networks; listed, so that a light module turning heavy is noticed.
    assert heavy == {"gan_core.measuring.critique", "gan_core.nets.losses", "gan_core.nets.models",
                     "gan_core.lab.playground_trainer", "gan_core.nets.sampling", "gan_core.training.trainer",
                     "gan_core.training.callbacks", "gan_core.training.saving", "gan_core.sweeps.cluster",
                     "gan_core.workflows.augmentation_driver"}
    light_imports_in_functions = []
    for path in sorted((PROJECT / "gan_core").rglob("*.py")):
        for function in ast.walk(ast.parse(path.read_text())):
            if isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
                statements = [node for node in ast.walk(function) if isinstance(node, (ast.Import, ast.ImportFrom))]
                light_imports_in_functions += [
                    f"{path.relative_to(PROJECT)}:{statement.lineno} imports {name}"
                    for statement in statements for name in imported_names([statement])
                    if name.split(".")[0] not in HEAVY_LIBRARIES and name not in heavy]
    assert light_imports_in_functions == [], "import these at the top of their modules"


def test_the_heavy_libraries_stay_out_of_the_light_modules():
    light = ["gan_core.store.runs", "gan_core.workers.jobs", "gan_core.workers.queue", "gan_core.sweeps.driver",
             "gan_core.measuring.evaluation", "gan_core.measuring.health", "gan_core.inputs.data"]
    script = (f"import sys, {', '.join(light)}; "
              f"print(sorted({{name.split('.')[0] for name in sys.modules}} & set({HEAVY_LIBRARIES!r})))")
    result = subprocess.run([sys.executable, "-c", script], cwd=PROJECT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_the_pages_reach_the_engine_only_through_its_public_names():
    private = []
    page_files = [PROJECT / "app.py", *sorted((PROJECT / "pages").glob("*.py")),
                  *sorted((PROJECT / "views").glob("*.py"))]
    for path in page_files:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("gan_core"):
                private += [f"{path.name}: {node.module}.{alias.name}" for alias in node.names
                            if alias.name.startswith("_")]
            elif (isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__")
                  and isinstance(node.value, ast.Name) and node.value.id in engine_modules_named_in(path)):
                private.append(f"{path.name}: {node.value.id}.{node.attr}")
    assert private == [], "make what a page needs public in the engine, with a docstring"


def engine_modules_named_in(path: Path) -> set[str]:
    """The names under which `path` imports the engine's modules (`from gan_core.store import runs` gives "runs")."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and is_engine_package(node.module or ""):
            names |= {alias.asname or alias.name for alias in node.names}
    return names


def test_the_code_passes_the_linter():
    result = tool("ruff", "check", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_no_engine_function_is_longer_than_forty_lines():
    # A function that does not fit on a screen does several things; split it into named steps.
    longest = 40
    too_long = []
    for path in sorted((PROJECT / "gan_core").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                lines = node.end_lineno - node.lineno + 1
                if lines > longest:
                    too_long.append(f"{path.relative_to(PROJECT)}:{node.lineno} {node.name} ({lines} lines)")
    assert too_long == []
