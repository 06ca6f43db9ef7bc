"""The layout docs/architecture.md draws holds in the code: each subpackage imports only those below
it, stages are thin and import no stage, a logged model's code imports only itself, and there is
no import cycle."""

import ast
import sys
from pathlib import Path

from tests.conftest import REPO_ROOT

ALLOWED = {
    "core": set(),
    "config": {"core"},
    "data": {"core", "config"},
    "models": {"config"},
    "training": {"core", "config", "models"},
    "evaluation": {"core", "config", "models", "training"},
    "tracking": {"core", "config"},
    "report": {"core", "config"},
    "analysis": {"core", "config", "report"},
    "experiments": {"core", "config", "report", "analysis", "tracking"},
    "team": {"core", "tracking"},
}
CARRIED = {"rnncompare", "rnncompare.models", "rnncompare.models.registry", "rnncompare.models.serving"}


def module_name(path: Path) -> str:
    parts = path.relative_to(REPO_ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    found = {}
    for folder in ("rnncompare", "stages"):
        for path in sorted((REPO_ROOT / folder).rglob("*.py")):
            found[module_name(path)] = path
    return found


def imports(path: Path, module: str, top_level_only: bool = False) -> set[str]:
    """The modules `path` imports (everywhere in it, or only what runs on import)."""
    found = set()
    nodes = ast.parse(path.read_text()).body if top_level_only else ast.walk(ast.parse(path.read_text()))
    for node in nodes:
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from the package the module is in
                package = module.split(".")[: -node.level] if path.name != "__init__.py" else module.split(".")
                base = ".".join([*package, *([base] if base else [])])
            found.add(base)
            found |= {f"{base}.{alias.name}" for alias in node.names}
    return found


def ours(name: str, known: dict) -> str | None:
    """The project module an import names (`from x import function` names x), or None."""
    while name and name not in known:
        name = name.rpartition(".")[0]
    return name or None


def subpackage(module: str) -> str:
    """`core` for rnncompare.core.errors, `stages` for a stage, `root` for rnncompare's own modules."""
    parts = module.split(".")
    if parts[0] == "stages":
        return "stages"
    return parts[1] if len(parts) > 1 and (REPO_ROOT / "rnncompare" / parts[1]).is_dir() else "root"


def edges() -> dict[str, set[str]]:
    known = modules()
    return {
        module: {found for name in imports(path, module) if (found := ours(name, known)) and found != module}
        for module, path in known.items()
    }


def test_each_subpackage_imports_only_the_subpackages_below_it():
    broken = []
    for module, targets in edges().items():
        source = subpackage(module)
        if source not in ALLOWED:
            continue
        for target in targets:
            destination = subpackage(target)
            if destination != source and destination not in ALLOWED[source]:
                broken.append(f"{module} imports {target} ({source} may import {sorted(ALLOWED[source]) or 'nothing'})")
    assert broken == []


def test_the_code_a_logged_model_carries_imports_nothing_else_of_the_project():
    from rnncompare.tracking.model_logging import CARRIED as PARTS

    carried = {module for module in modules() if module.startswith("rnncompare.models.cells")} | CARRIED
    assert {"rnncompare.models.registry", "rnncompare.models.serving"} <= carried
    assert set(PARTS) == {
        "__init__.py",
        "models/__init__.py",
        "models/registry.py",
        "models/serving.py",
        "models/cells",
    }
    outside = {(module, target) for module, targets in edges().items() if module in carried for target in targets}
    assert {(module, target) for module, target in outside if target not in carried} == set()


def test_stages_are_thin_main_functions_over_the_library():
    known = modules()
    for module, path in known.items():
        if not module.startswith("stages."):
            continue
        tree = ast.parse(path.read_text())
        third_party = {
            name.split(".")[0]
            for name in imports(path, module, top_level_only=True)
            if name.split(".")[0] not in sys.stdlib_module_names and name.split(".")[0] != "rnncompare"
        }
        # the package sets the environment (quiet TensorFlow, no telemetry) before any library loads
        assert third_party == set(), f"{module} imports {third_party} itself"
        targets = edges()[module]
        assert not {target for target in targets if target.startswith(("stages", "rnncompare.commands"))}, module
        functions = [node.name for node in tree.body if isinstance(node, ast.FunctionDef)]
        assert functions == ["main"], f"{module} defines {functions}: a stage is one main() over library code"
        assert len(path.read_text().splitlines()) <= 60, f"{module} is more than a short main()"


def test_the_commands_are_short_mains_in_one_place():
    from rnncompare.commands import COMMANDS

    folder = REPO_ROOT / "rnncompare" / "commands"
    assert sorted(COMMANDS) == sorted(path.stem for path in folder.glob("*.py") if path.stem != "__init__")
    for name in COMMANDS:
        tree = ast.parse((folder / f"{name}.py").read_text())
        assert any(isinstance(node, ast.FunctionDef) and node.name == "main" for node in tree.body), name
        assert len((folder / f"{name}.py").read_text().splitlines()) <= 120, f"commands/{name}.py is not short"


def test_no_module_imports_itself_back_through_others():
    graph = edges()
    state: dict[str, str] = {}

    def visit(module: str, path: list[str]) -> list[str] | None:
        state[module] = "open"
        for target in sorted(graph.get(module, ())):
            if state.get(target) == "open":
                return [*path, module, target]
            if target not in state:
                found = visit(target, [*path, module])
                if found:
                    return found
        state[module] = "done"
        return None

    for module in sorted(graph):
        if module not in state:
            cycle = visit(module, [])
            assert cycle is None, " -> ".join(cycle[cycle.index(cycle[-1]) :])
