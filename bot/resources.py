"""The data files shipped inside the ``bot`` package: the message templates and the example config.

They are found with importlib.resources, so an installed wheel works from any directory (a path relative to the
source checkout would only work for an editable install).
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from kpi_core.errors import KpiError


def packaged_path(name: str) -> Path:
    """The file or folder ``name`` (relative to the ``bot`` package) as a real path on disk."""
    resource = files("bot").joinpath(name)
    # pip always unpacks a wheel, so the resource is a plain file; a zipped install (an egg, a zipapp) is not
    # supported because Jinja2's FileSystemLoader and the KPI_TEMPLATES override both need a folder.
    if not isinstance(resource, Path):
        raise KpiError(f"kpi-bot's {name} is inside an archive ({resource}); install the package unpacked")
    return resource


TEMPLATES_DIR = packaged_path("templates")
EXAMPLE_CONFIG = packaged_path("config/example.yaml")
