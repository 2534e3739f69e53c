"""The dependency rule: simulator and analysis layer never import each other."""

import ast
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "workbench"
SIMULATOR = ("snn", "networks", "_kernels", "cuda")
ANALYSIS = ("neural", "rsa", "stats", "decoding", "plots")


def _imports(path: Path, root: Path = PKG) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found = set()
    rel_pkg = path.relative_to(root.parent).with_suffix("").parts[:-1]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = list(rel_pkg[: len(rel_pkg) - node.level + 1])
                mod = ".".join(base + ([node.module] if node.module else []))
                found.add(mod)
                for alias in node.names:
                    found.add(f"{mod}.{alias.name}")
            elif node.module:
                found.add(node.module)
    return found


def _files(subpackages):
    for sub in subpackages:
        target = PKG / sub
        if target.is_dir():
            yield from sorted(target.rglob("*.py"))
        elif target.with_suffix(".py").exists():
            yield target.with_suffix(".py")


@pytest.mark.parametrize(("side", "forbidden"), [(SIMULATOR, ANALYSIS), (ANALYSIS, SIMULATOR)])
def test_layers_do_not_import_each_other(side, forbidden):
    offenders = []
    for path in _files(side):
        for mod in _imports(path):
            parts = mod.split(".")
            if parts[0] == "workbench" and len(parts) > 1 and parts[1] in forbidden:
                offenders.append(f"{path.relative_to(PKG.parent)} imports {mod}")
    assert not offenders, "\n".join(offenders)


def test_checker_sees_a_violation(tmp_path):
    # Guard against a checker that can never fail: relative and absolute imports are seen.
    probe = tmp_path / "workbench" / "snn" / "probe.py"
    probe.parent.mkdir(parents=True)
    probe.write_text("from ..rsa import rdm\nimport workbench.neural\n")
    mods = _imports(probe, root=tmp_path / "workbench")
    assert "workbench.rsa" in mods and "workbench.neural" in mods
