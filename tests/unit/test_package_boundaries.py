"""The emulators stand in for other services: they must not borrow the relay's code, or a
bug shared by both would pass every test."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def test_no_emulator_module_imports_the_service() -> None:
    modules = sorted((ROOT / "emulators").rglob("*.py"))
    assert len(modules) >= 8
    offenders = {
        str(path.relative_to(ROOT)): sorted(
            m for m in imported_modules(path) if m.split(".")[0] == "service"
        )
        for path in modules
    }
    assert {path: names for path, names in offenders.items() if names} == {}
