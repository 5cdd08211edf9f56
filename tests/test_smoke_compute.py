from datetime import date

import pytest

from kpi_core.db import transaction
from kpi_core.kpis import compute_reports
from kpi_core.periods import Period
from tests.factories import add, at, case, measures


def test_response_time_percentiles_on_both_backends(engine, example_config):
    add(
        engine,
        *[
            case("berlin_ops", at("2026-09-02 10:00", "Europe/Berlin"), response_hours=h)
            for h in (1, 2, 3, 10)
        ],
        case("berlin_ops", at("2026-09-02 10:00", "Europe/Berlin")),
        *measures("berlin_ops", date(2026, 9, 3), orders=100, on_time_orders=93),
    )
    with transaction(engine) as session:
        results = compute_reports(session, config=example_config, period=Period.parse("2026-09"))[
            "berlin_ops"
        ].results
    response = results["response_time"]
    assert response.value == 2.5
    assert response.details["p90_hours"] == pytest.approx(7.9)
    assert response.details["open_cases"] == 1
    assert results["on_time_delivery"].value == 93.0
