"""A CSV file of one team's data is that team's submission in Slack: ``/kpi history`` lists it with the
importer's name as text (never a mention, escaped for mrkdwn), and its Withdraw button withdraws it."""

from pathlib import Path

from kpi_core.models import MeasureValue
from tests.bot_harness import LEAD_BEIJING
from tests.conftest import EXAMPLE_CONFIG
from tests.test_cli import invoke, succeeded
from tests.test_slack_history import audit, click, clicked_response, listed_ids, listing


def test_an_import_is_listed_with_its_importer_as_text_and_can_be_withdrawn(bot, tmp_path: Path) -> None:
    file = tmp_path / "sales.csv"
    file.write_text("team,measure,date,value\nbeijing_service,sales,2026-09-04,190000\n", encoding="utf-8")
    env = {"KPI_DATABASE_URL": bot.engine.url.render_as_string(hide_password=False), "KPI_CONFIG": str(EXAMPLE_CONFIG)}
    succeeded(invoke(env, "import", "measures", str(file), "--by", "Ops <!channel> & co"))

    message = listing(bot, "history", user=LEAD_BEIJING)
    (submission_id,) = listed_ids(message)
    (line,) = [block["text"]["text"] for block in message["blocks"] if block.get("block_id", "").startswith("sub")]
    assert " · Ops &lt;!channel&gt; &amp; co · " in line
    assert "<@" not in line and "<!channel>" not in line

    click(bot, "withdraw_submission", submission_id, user=LEAD_BEIJING)
    assert clicked_response(bot)["replace_original"] is True
    assert bot.count(MeasureValue) == 0
    assert {entry.user for entry in audit(bot, action="withdraw")} == {LEAD_BEIJING}
