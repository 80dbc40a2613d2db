"""core/ is packages by concern that import downwards only, and the layout the docs show is the tree.

The order below is the flow read bottom-up: the shared modules, then the catalog every check reads,
the datasets it describes, waiting, metrics, the request, and what happens after training. A unit may
import only the units before it (and itself); every import counts, also one inside a function, so a
circle cannot hide behind a late import.
"""

from __future__ import annotations

import ast
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

import bedrock_provider
import bedrock_provider.core

CORE = Path(bedrock_provider.core.__file__).parent
PACKAGE = Path(bedrock_provider.__file__).parent
REPO = PACKAGE.parent
SHARED_MODULES = ("errors", "values", "s3", "names", "lineage")
PACKAGES = ("catalog", "datasets", "waiting", "metrics", "request", "lifecycle")
# Lowest first.
ORDER = (*SHARED_MODULES, *PACKAGES)
PREFIX = "bedrock_provider.core"

# Modules allowed past ~400 lines, and why.
DATASET_BENCHMARK = "benchmarks/bench_dataset_validation.py"
LONG_MODULES = {
    "core/catalog/rows.py": "data: one row per model family, each with its sources",
    "core/datasets/checkers.py": f"measured hot loop: the per-record checks ({DATASET_BENCHMARK})",
    "core/datasets/validator.py": f"measured hot loop: the streaming validator ({DATASET_BENCHMARK})",
}
MAX_LINES = 410


def module_name(path: Path, core: Path) -> str:
    parts = path.relative_to(core).with_suffix("").parts
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join((PREFIX, *parts))


def core_modules(core: Path) -> dict[str, Path]:
    return {module_name(path, core): path for path in sorted(core.rglob("*.py"))}


def imported_modules(path: Path, modules: dict[str, Path]) -> Iterator[tuple[str, int]]:
    """Every core module ``path`` imports, wherever the import statement is, with its line."""
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith(PREFIX):
            for alias in node.names:
                submodule = f"{node.module}.{alias.name}"
                yield (submodule if submodule in modules else node.module), node.lineno
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith(PREFIX):
                    yield alias.name, node.lineno


def unit_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[2] if len(parts) > 2 else None


def layering_problems(core: Path) -> list[str]:
    """Upward or sideways imports between units, modules outside the known units, and circles."""
    modules = core_modules(core)
    problems: list[str] = []
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        unit = unit_of(name)
        if unit is None:
            continue
        if unit not in ORDER:
            problems.append(f"{name} is in no unit of the layout ({', '.join(ORDER)})")
            continue
        for target, line in imported_modules(path, modules):
            graph[name].add(target)
            target_unit = unit_of(target)
            if target_unit is None or target_unit == unit:
                continue
            if target_unit not in ORDER or ORDER.index(target_unit) > ORDER.index(unit):
                problems.append(
                    f"{path.relative_to(core)}:{line} imports {target}: {unit} may import only "
                    f"{', '.join(ORDER[: ORDER.index(unit)]) or 'nothing of core'}"
                )
    problems.extend(f"circle: {' -> '.join(cycle)}" for cycle in cycles(graph))
    return problems


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One circle per strongly connected part of the graph that has one (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in graph:
                continue
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            part = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                part.append(member)
                if member == node:
                    break
            if len(part) > 1 or node in graph[node]:
                found.append(sorted(part))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_core_holds_the_packages_and_the_shared_modules_only() -> None:
    entries = {path.name for path in CORE.iterdir() if path.name != "__pycache__"}
    expected = {"__init__.py", *(f"{name}.py" for name in SHARED_MODULES), *PACKAGES}
    assert entries == expected
    for package in PACKAGES:
        docstring = ast.get_docstring(ast.parse((CORE / package / "__init__.py").read_text()))
        assert docstring, f"core/{package}/__init__.py says what the package decides"
        assert re.search(r"\bnever\b", docstring), f"core/{package}/__init__.py says what it never does"


def test_core_imports_point_downwards_with_no_circle() -> None:
    assert layering_problems(CORE) == []


@pytest.fixture
def planted(tmp_path: Path) -> Path:
    core = tmp_path / "core"
    shutil.copytree(CORE, core, ignore=shutil.ignore_patterns("__pycache__"))
    return core


def plant(path: Path, line: str) -> None:
    path.write_text(path.read_text() + f"\n\ndef _planted() -> None:\n    {line}\n")


def test_a_planted_upward_import_is_found(planted: Path) -> None:
    upward = f"from {PREFIX}.request.customization import CustomizationRequest"
    plant(planted / "waiting" / "states.py", upward)
    problems = layering_problems(planted)
    assert len(problems) == 1
    assert problems[0].startswith("waiting/states.py:")
    assert f"imports {PREFIX}.request.customization: waiting may import only" in problems[0]


def test_a_planted_sideways_import_between_packages_is_found(planted: Path) -> None:
    plant(planted / "datasets" / "plan.py", f"from {PREFIX}.waiting import states")
    assert [problem.split(" ", 1)[1] for problem in layering_problems(planted)] == [
        f"imports {PREFIX}.waiting.states: datasets may import only "
        "errors, values, s3, names, lineage, catalog"
    ]


def test_a_planted_circle_inside_a_package_is_found(planted: Path) -> None:
    plant(planted / "catalog" / "shapes.py", f"from {PREFIX}.catalog.rows import FAMILIES")
    problems = layering_problems(planted)
    assert len(problems) == 1 and problems[0].startswith("circle: ")
    assert f"{PREFIX}.catalog.rows" in problems[0] and f"{PREFIX}.catalog.shapes" in problems[0]


def test_a_module_outside_the_layout_is_found(planted: Path) -> None:
    (planted / "helpers.py").write_text('"""Not in the layout."""\n')
    expected = f"{PREFIX}.helpers is in no unit of the layout ({', '.join(ORDER)})"
    assert layering_problems(planted) == [expected]


def test_no_module_is_over_400_lines_unless_it_is_data_or_a_measured_hot_loop() -> None:
    long = {
        str(path.relative_to(PACKAGE)): lines
        for path in sorted(PACKAGE.rglob("*.py"))
        if (lines := len(path.read_text().splitlines())) > MAX_LINES
    }
    assert set(long) <= set(LONG_MODULES), {name: long[name] for name in set(long) - set(LONG_MODULES)}


def design_layout_entries(design: Path) -> set[str]:
    """The core/ entries DESIGN.md's layout section lists, each ``name/`` or ``name.py``."""
    layout = design.read_text().split("## Layout", 1)[1].split("\n## ", 1)[0]
    core_block = layout.split("  core/", 1)[1].split("\n  hooks/", 1)[0]
    entry_lines = re.findall(r"^    (\S.*)$", core_block, re.M)
    return {name for line in entry_lines for name in re.findall(r"(\w+)(?:/|\.py)(?:\s|$)", line)}


def test_the_layout_doc_lists_every_core_package_and_shared_module() -> None:
    text = (REPO / "docs" / "layout.md").read_text()
    assert set(re.findall(r"bedrock_provider/core/(\w+)(?:/|\.py)", text)) == set(ORDER)


def test_core_has_the_packages_design_md_names_where_it_is_beside_the_repository() -> None:
    """DESIGN.md is the contract kept outside the repository, and only names core/'s packages
    by concern; the shared modules below them are ours to arrange, so only packages are compared."""
    design = REPO.parent / "shared" / "DESIGN.md"
    if not design.exists():
        return
    assert design_layout_entries(design) == set(PACKAGES)
