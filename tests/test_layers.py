"""The package's layers as its docstring draws them: no import cycle, no import upwards, ptrace in the tracer only."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "harness"
#: Each layer may import the layers before it in this list, and itself.
LAYERS = ("model", "analysis", "running", "faces")


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports() -> dict[str, set[str]]:
    """Every harness module and the harness modules it imports, lazily or not."""
    graph: dict[str, set[str]] = {}
    for path in PACKAGE.rglob("*.py"):
        module = _module_name(path)
        targets = graph.setdefault(module, set())
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [f"{node.module}.{alias.name}" for alias in node.names]
                targets.update(
                    name
                    if (PACKAGE.parent / name.replace(".", "/")).with_suffix(".py").exists()
                    or (PACKAGE.parent / name.replace(".", "/")).is_dir()
                    else node.module
                    for name in names
                )
            elif isinstance(node, ast.Import):
                targets.update(alias.name for alias in node.names)
    return {
        module: {t for t in targets if t.split(".")[0] in ("harness", "ptrace")} for module, targets in graph.items()
    }


GRAPH = _imports()


def _layer(module: str) -> int | None:
    parts = module.split(".")
    return LAYERS.index(parts[1]) if len(parts) > 1 and parts[1] in LAYERS else None


def test_no_module_imports_a_layer_above_its_own() -> None:
    upward = [
        f"{module} imports {target}"
        for module, targets in GRAPH.items()
        for target in targets
        if (low := _layer(module)) is not None and (high := _layer(target)) is not None and high > low
    ]
    assert upward == []


def test_only_the_tracer_imports_ptrace() -> None:
    importers = sorted(m for m, targets in GRAPH.items() if any(t.startswith("ptrace") for t in targets))
    assert importers and all(m.startswith("harness.running.tracer") for m in importers), importers


def test_there_is_no_import_cycle() -> None:
    def modules_of(name: str) -> str | None:
        # "harness.model.kernel" is a module; "harness.model" a package whose __init__ is its own node.
        return name if name in GRAPH else None

    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(module: str, path: list[str]) -> None:
        state[module] = 1
        for target in sorted(GRAPH.get(module, ())):
            node = modules_of(target)
            if node is None or node == module or module.startswith(node + "."):
                continue  # a package's own __init__ is loaded with any of its modules
            if state.get(node) == 1:
                cycles.append([*path[path.index(node) :], node] if node in path else [*path, node])
            elif node not in state:
                visit(node, [*path, node])
        state[module] = 2

    for module in sorted(GRAPH):
        if module not in state:
            visit(module, [module])
    assert cycles == []


@pytest.mark.parametrize(
    "module", ["harness.analysis.match", "harness.analysis.explain", "harness.analysis.report", "harness.model.loader"]
)
def test_the_analysis_loads_without_ptrace(module: str) -> None:
    code = f"import sys, {module}; print(sorted(m for m in sys.modules if m.split('.')[0] == 'ptrace'))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def _call_lists(path: Path, names: frozenset[str]) -> list[str]:
    """The literal collections of a module that list calls by name (every string in them a syscall's name).

    A type's ``Literal[...]`` is no list of calls; nor is a tuple that mixes a
    call's name with other words (an outcome ``("restarted", "restart_syscall")``).
    """
    tree = ast.parse(path.read_text(), str(path))
    annotations = {id(node) for sub in ast.walk(tree) if isinstance(sub, ast.Subscript) for node in ast.walk(sub.slice)}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Tuple | ast.List | ast.Set) and id(node) not in annotations and node.elts:
            words = [elt.value for elt in node.elts if isinstance(elt, ast.Constant) and isinstance(elt.value, str)]
            if len(words) == len(node.elts) and all(word in names for word in words):
                found.append(f"{path.relative_to(PACKAGE.parent)}:{node.lineno}: {', '.join(words)}")
    return found


def test_what_a_call_is_is_written_in_the_catalogue_only() -> None:
    """No module above the model lists calls by name: it asks the catalogue by trait (strace's TRACE_* classes)."""
    from harness.model.syscalls import known_syscalls

    names = known_syscalls()
    lists = [
        found
        for layer in ("analysis", "running", "faces")
        for path in sorted((PACKAGE / layer).rglob("*.py"))
        for found in _call_lists(path, names)
    ]
    assert lists == []


def test_no_module_imports_by_a_string_the_layer_test_cannot_see() -> None:
    """An import by name (importlib.import_module, __import__) would hide an arrow from the graph above."""
    hidden = [
        f"{path.relative_to(PACKAGE.parent)}:{node.lineno}"
        for path in sorted(PACKAGE.rglob("*.py"))
        for node in ast.walk(ast.parse(path.read_text(), str(path)))
        if isinstance(node, ast.Attribute | ast.Name)
        and (node.attr if isinstance(node, ast.Attribute) else node.id) in ("import_module", "__import__")
    ]
    assert hidden == []
