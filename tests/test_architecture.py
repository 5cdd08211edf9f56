"""Boundaries the design rests on: the core knows nothing of Slack, and Alembic owns the schema."""

import ast
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

REPO_ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN_IN_CORE = ("slack_bolt", "slack_sdk", "bot", "jinja2", "matplotlib")


def _imported_modules(path: Path) -> set[str]:
    modules = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            modules |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules.add(node.module)
    return modules


@pytest.mark.parametrize("path", sorted((REPO_ROOT / "kpi_core").rglob("*.py")), ids=lambda path: path.name)
def test_kpi_core_imports_nothing_of_slack_bot_or_rendering(path):
    offending = {module for module in _imported_modules(path) if module.split(".")[0] in FORBIDDEN_IN_CORE}
    assert offending == set(), f"{path.relative_to(REPO_ROOT)} imports {offending}"


def test_the_migrations_build_exactly_the_models(engine):
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    assert differences == []
