"""Dependencies point one way: common → connectors → ml → activations → orchestration.

Each product package may import only the packages below it; ``sandbox`` (what fakes
the outside world) may import anything, and nothing in the product imports it. The
graph is read from the source (every ``import``, also inside functions), so a lazy
import cannot hide a back-edge.
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from common.settings import PROJECT_ROOT

# The order of the layers: a package may import itself and anything before it.
PRODUCT_LAYERS = ["common", "connectors", "ml", "activations", "orchestration"]
SANDBOX = "sandbox"


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
    return found


def back_edges(root: Path) -> list[str]:
    """One line per import that points up the layers or into the sandbox."""
    problems = []
    for rank, package in enumerate(PRODUCT_LAYERS):
        allowed = set(PRODUCT_LAYERS[: rank + 1])
        for path in sorted((root / package).rglob("*.py")):
            for lineno, module in _imports(path):
                top = module.split(".")[0]
                if top in allowed or top not in {*PRODUCT_LAYERS, SANDBOX}:
                    continue
                problems.append(f"{path.relative_to(root)}:{lineno} imports {module}")
    return problems


def test_product_packages_import_only_the_layers_below_them():
    assert back_edges(PROJECT_ROOT) == []


def test_the_check_catches_a_back_edge(tmp_path):
    for package in PRODUCT_LAYERS:
        (tmp_path / package).mkdir()
    (tmp_path / "connectors" / "pull.py").write_text(
        "def f():\n    from activations.clients import shopify\n"
    )
    (tmp_path / "ml" / "train.py").write_text("import sandbox.sample_store\n")
    (tmp_path / "activations" / "ok.py").write_text("from ml import scorecard\nimport httpx\n")
    assert back_edges(tmp_path) == [
        "connectors/pull.py:2 imports activations.clients",
        "ml/train.py:1 imports sandbox.sample_store",
    ]


@pytest.mark.slow
def test_the_product_wheel_contains_no_sandbox_code(tmp_path):
    # Built from a copy: setuptools writes build/ beside the sources. The sandbox is in
    # the copy, so the test shows it is left out, not merely absent.
    source = tmp_path / "source"
    source.mkdir()
    for name in ["pyproject.toml", "README.md", *PRODUCT_LAYERS, SANDBOX, "tests"]:
        copy = shutil.copytree if (PROJECT_ROOT / name).is_dir() else shutil.copyfile
        copy(PROJECT_ROOT / name, source / name)
    pip_wheel = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation"]
    subprocess.run([*pip_wheel, "-q", "-w", str(tmp_path / "dist"), str(source)], check=True)
    (wheel,) = (tmp_path / "dist").glob("cod360-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    top_level = {name.split("/")[0] for name in names if not name.startswith("cod360-")}
    assert top_level == set(PRODUCT_LAYERS)
    assert not [n for n in names if n.startswith(("sandbox/", "tests/", "benchmarks/"))]
