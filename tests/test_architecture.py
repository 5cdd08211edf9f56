"""Boundaries the design rests on: the core knows nothing of Slack or of scheduling, listeners reach the
database only through kpi_core (kpi_core/use_cases.py), and Alembic owns the schema."""

import ast
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

REPO_ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN_IN_CORE = ("slack_bolt", "slack_sdk", "bot", "jinja2", "matplotlib", "apscheduler")
FORBIDDEN_IN_LISTENERS = ("sqlmodel", "sqlalchemy", "kpi_core.db", "kpi_core.store")


def _imported_modules(path: Path) -> set[str]:
    modules = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            modules |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules.add(node.module)
    return modules


@pytest.mark.parametrize("path", sorted((REPO_ROOT / "kpi_core").rglob("*.py")), ids=lambda path: path.name)
def test_kpi_core_imports_nothing_of_slack_bot_rendering_or_scheduling(path):
    offending = {module for module in _imported_modules(path) if module.split(".")[0] in FORBIDDEN_IN_CORE}
    assert offending == set(), f"{path.relative_to(REPO_ROOT)} imports {offending}"


def _is_or_under(module: str, forbidden: str) -> bool:
    return module == forbidden or module.startswith(forbidden + ".")


@pytest.mark.parametrize("path", sorted((REPO_ROOT / "bot" / "listeners").rglob("*.py")), ids=lambda path: path.stem)
def test_listeners_reach_the_database_only_through_the_core_s_use_cases(path):
    offending = {
        module
        for module in _imported_modules(path)
        if any(_is_or_under(module, forbidden) for forbidden in FORBIDDEN_IN_LISTENERS)
    }
    assert offending == set(), f"{path.relative_to(REPO_ROOT)} imports {offending}"


def test_the_migrations_build_exactly_the_models(engine):
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    assert differences == []
