"""The built wheel works on its own: templates and the example config ship inside it (issue 8, section 5).

An editable install reads everything from the checkout, so only a real wheel, installed into a fresh venv and run
from an empty folder, shows that nothing is missing. The test works offline: it builds without build isolation
(setuptools comes with the test extras) and lends the fresh venv the running venv's dependencies through a .pth
file, so pip downloads nothing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent


def _run(command: list[str | Path], *, cwd: Path, env: dict[str, str]) -> str:
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"{command} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv holding the wheel built from this checkout; returns its bin folder."""
    root = tmp_path_factory.mktemp("wheel")
    # Build from a copy: setuptools leaves build/ behind in the source folder, and a stale build/lib there
    # would slip deleted files into the next wheel.
    source = root / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO_ROOT / name, source / name)
    for package in ("bot", "kpi_core"):
        shutil.copytree(REPO_ROOT / package, source / package, ignore=shutil.ignore_patterns("__pycache__"))
    env = _clean_environment()
    wheels = root / "dist"
    _run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-w", wheels, "."],
        cwd=source,
        env=env,
    )
    (wheel,) = wheels.glob("kpi_bot-*.whl")

    target = root / "venv"
    venv.create(target, with_pip=False)  # the running pip installs into it (pip --python), which is faster
    target_python = target / "bin" / "python"
    site_packages = Path(
        _run(
            [target_python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], cwd=root, env=env
        ).strip()
    )
    # The dependencies come from the running venv. A path listed in a .pth file is appended to sys.path, after
    # the fresh venv's own site-packages, and the .pth files in it are not processed, so the running venv's
    # editable install of kpi-bot (its own .pth) stays invisible and `bot` resolves to the wheel's copy.
    borrowed = dict.fromkeys([sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]])
    (site_packages / "borrowed_dependencies.pth").write_text("\n".join(borrowed) + "\n", encoding="utf-8")
    _run(
        [sys.executable, "-m", "pip", "--python", target_python, "install", "--no-deps", "--no-index", wheel],
        cwd=root,
        env=env,
    )
    return target / "bin"


def _clean_environment() -> dict[str, str]:
    """The environment without anything that points at the checkout or at another config."""
    return {
        name: value
        for name, value in os.environ.items()
        if name != "PYTHONPATH" and not name.startswith(("KPI_", "SLACK_", "VIRTUAL_ENV"))
    }


@pytest.mark.slow
def test_the_installed_wheel_runs_the_demo_from_an_empty_folder(installed: Path, tmp_path: Path) -> None:
    env = _clean_environment()
    where = _run(
        [installed / "python", "-c", "import bot.resources as r; print(r.__file__); print(r.TEMPLATES_DIR)"],
        cwd=tmp_path,
        env=env,
    )
    assert str(REPO_ROOT) not in where, f"the package was imported from the checkout:\n{where}"

    output = _run([installed / "kpi-bot", "demo"], cwd=tmp_path, env=env)

    assert "loaded " in output and "demo rows" in output
    # every team's digest and the quarterly scorecard, rendered from the packaged templates and config
    assert "Shanghai Operations" in output and "上海运营中心" in output
    assert "2026-Q3" in output
    assert sorted(path.name for path in tmp_path.iterdir() if not path.name.startswith("kpi_bot.db-")) == ["kpi_bot.db"]


@pytest.mark.slow
def test_the_installed_wheel_checks_its_own_example_config(installed: Path, tmp_path: Path) -> None:
    output = _run([installed / "kpi-bot", "check-config"], cwd=tmp_path, env=_clean_environment())

    assert output.endswith("example.yaml: OK (4 teams, 21 measures, 19 KPIs, 2 scorecards)\n")
    assert str(REPO_ROOT) not in output


@pytest.mark.slow
def test_kpi_templates_and_kpi_config_still_override_the_packaged_files(installed: Path, tmp_path: Path) -> None:
    templates = tmp_path / "my_templates"
    shutil.copytree(REPO_ROOT / "bot" / "templates", templates)
    digest = templates / "blocks" / "digest.json.j2"
    legend = '{{ t("legend") | mrkdwn | tojson }}'
    assert legend in digest.read_text(encoding="utf-8")
    digest.write_text(
        digest.read_text(encoding="utf-8").replace(legend, '{{ ("MY DIGEST " ~ view.team.key) | tojson }}'),
        encoding="utf-8",
    )
    config = tmp_path / "my.yaml"
    config.write_text(
        (REPO_ROOT / "bot" / "config" / "example.yaml").read_text(encoding="utf-8").replace("berlin_ops", "paris_ops"),
        encoding="utf-8",
    )
    env = {**_clean_environment(), "KPI_TEMPLATES": str(templates), "KPI_CONFIG": str(config)}

    output = _run([installed / "kpi-bot", "demo"], cwd=tmp_path, env=env)

    assert "MY DIGEST paris_ops" in output
    assert "berlin_ops" not in output
