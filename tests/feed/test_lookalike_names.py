"""Names that look the same are one store, from the feed to the SQLite file to the planner's
suggestions; a name hiding a direction-changing character is dead-lettered, not stored."""

import json
import sqlite3

from bot.runtime import Bot
from tests.feed.test_client import committed, read_db
from tests.helpers import ScriptedFeed


def sale(store: str, model: str, level: int) -> str:
    return json.dumps({"store": store, "model": model, "inventory": level}, ensure_ascii=False)


async def test_lookalike_names_are_one_store_and_no_store_is_asked_to_give_to_itself(
    make_settings, tmp_path
):
    script = [
        sale("ALDO  Maine Mall", "ADERI", 61),
        sale(" ALDO Maine Mall", "ADERI", 60),
        sale("ALDO Maine Mall\u00a0", "ADERI", 59),
        sale("Cafe\u0301 Eaton", "ADERI", 2),  # decomposed é
        sale("Café Eaton", "ADERI", 1),
        sale("ALDO \u202eEaton", "ADERI", 9),  # a right-to-left override: refused
    ]
    async with ScriptedFeed([script]) as feed:
        bot = Bot(make_settings(feed_urls=[feed.url], transfer_plan_seconds=3600))
        await bot.start()
        try:
            await committed(bot, events=5, bad=1)
            await bot.planner.plan_round()
            moves = [
                (s.suggestion.source, s.suggestion.target)
                for s in bot.engine.transfers.suggestions.values()
            ]
        finally:
            await bot.stop()

    with sqlite3.connect(tmp_path / "inventory.db") as db:
        stores = [name for (name,) in db.execute("SELECT name FROM stores ORDER BY name")]
    assert stores == ["ALDO Maine Mall", "Café Eaton"]
    _, levels, dead, counts = await read_db(tmp_path / "inventory.db")
    assert sorted((lv.store, lv.inventory, lv.sale_count) for lv in levels) == [
        ("ALDO Maine Mall", 59, 3),
        ("Café Eaton", 1, 2),
    ]
    assert moves == [("ALDO Maine Mall", "Café Eaton")]
    assert counts == {"invisible_text": 1}
    assert "U+202E" in dead[0].detail
    assert "\\u202e" in dead[0].sample
