"""The REST API over HTTP: every endpoint, filter, page and refusal."""

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from bot.core.alerting.actions import AcceptTransfer
from tests.api.conftest import CHANNEL, TOKEN

ALL_STOCK = [
    ("ALDO Maine Mall", "ADERI", 3),
    ("ALDO Maine Mall", "MIRIRA", 40),
    ("ALDO Maine Mall", "CAELAN", 12),
    ("ALDO Auburn Mall", "ADERI", 60),
    ("ALDO Centre Eaton", "BUTAUD", 0),
]


def stock_of(body) -> list[tuple]:
    return [(i["store"], i["model"], i["inventory"]) for i in body["items"]]


async def every_page(client, path: str, cursor: str = "after") -> list[dict]:
    items, next_ = [], None
    while True:
        glue = "&" if "?" in path else "?"
        status, body, _ = await client.get(path + (f"{glue}{cursor}={next_}" if next_ else ""))
        assert status == 200, body
        items += body["items"]
        next_ = body["next"]
        if next_ is None:
            return items


async def test_stock_lists_every_level_in_pages_with_its_pace(api):
    _, client, _ = await api()
    status, body, headers = await client.get("/api/stock")

    assert status == 200
    assert headers["Content-Type"].startswith("application/json")
    assert stock_of(body) == ALL_STOCK
    assert body["next"] is None
    first = body["items"][0]
    assert first["sales"] == 1
    assert first["per_hour"] is None  # one sale: the pace is not known yet, and says so
    assert first["hours_to_zero"] is None
    assert datetime.fromisoformat(first["last_sale_at"]).tzinfo is not None

    paged = await every_page(client, "/api/stock?limit=2")
    assert [(i["store"], i["model"], i["inventory"]) for i in paged] == ALL_STOCK


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("store=ALDO%20Maine%20Mall", ALL_STOCK[:3]),
        ("model=ADERI", [ALL_STOCK[0], ALL_STOCK[3]]),
        ("below=10", [ALL_STOCK[0], ALL_STOCK[4]]),
        ("above=39", [ALL_STOCK[1], ALL_STOCK[3]]),
        ("below=13&above=2", [ALL_STOCK[0], ALL_STOCK[2]]),
        ("store=ALDO%20Maine%20Mall&model=CAELAN", [ALL_STOCK[2]]),
        ("store=Nowhere", []),
    ],
)
async def test_stock_filters(api, query, expected):
    _, client, _ = await api()
    status, body, _ = await client.get(f"/api/stock?{query}")
    assert status == 200
    assert stock_of(body) == expected


async def test_stores_and_models_in_the_order_first_seen(api):
    _, client, _ = await api()
    stores = await every_page(client, "/api/stores?limit=1")
    models = await every_page(client, "/api/models?limit=3")

    assert [s["name"] for s in stores] == [
        "ALDO Maine Mall",
        "ALDO Auburn Mall",
        "ALDO Centre Eaton",
    ]
    assert [m["name"] for m in models] == ["ADERI", "MIRIRA", "CAELAN", "BUTAUD"]


async def test_alerts_are_the_open_ones_with_their_channel(api):
    _, client, _ = await api()
    status, body, _ = await client.get("/api/alerts")
    _, other, _ = await client.get("/api/alerts?channel=C-OTHER")
    _, at_store, _ = await client.get("/api/alerts?store=ALDO%20Centre%20Eaton&model=BUTAUD")

    assert status == 200
    (alert,) = body["items"]
    assert alert["channel"] == CHANNEL
    assert (alert["kind"], alert["severity"], alert["level"]) == ("low", "out", 0)
    assert (alert["store"], alert["model"]) == ("ALDO Centre Eaton", "BUTAUD")
    assert alert["acknowledged_by"] is None
    assert other["items"] == []
    assert at_store["items"] == body["items"]


async def test_transfers_suggested_then_accepted(api):
    bot, client, _ = await api()
    _, suggested, _ = await client.get("/api/transfers")
    (s,) = suggested["items"]
    assert (s["id"], s["state"], s["quantity"], s["source"], s["target"]) == (
        "S1",
        "suggested",
        28,
        "ALDO Auburn Mall",
        "ALDO Maine Mall",
    )
    assert s["why"].startswith("Move 28 ADERI from ALDO Auburn Mall")

    await bot.apply(AcceptTransfer(1, "U1"))
    _, accepted, _ = await client.get("/api/transfers?state=accepted&store=ALDO%20Maine%20Mall")
    _, elsewhere, _ = await client.get("/api/transfers?state=accepted&model=MIRIRA")
    _, left, _ = await client.get("/api/transfers")

    (t,) = accepted["items"]
    assert (t["id"], t["state"], t["by"], t["closed_at"]) == ("T1", "accepted", "U1", None)
    assert elsewhere["items"] == []
    assert left["items"] == []  # the suggestion became the transfer


async def test_events_newest_first_with_filters_and_pages(api):
    _, client, _ = await api()
    _, body, _ = await client.get("/api/events")
    newest = [(e["store"], e["model"], e["inventory"]) for e in body["items"]]
    assert newest == list(reversed(ALL_STOCK))
    assert body["items"][0]["feed"].startswith("ws://127.0.0.1:")

    paged = await every_page(client, "/api/events?limit=2", cursor="before")
    assert [e["id"] for e in paged] == [e["id"] for e in body["items"]]

    _, maine, _ = await client.get("/api/events?store=ALDO%20Maine%20Mall&model=ADERI")
    assert [(e["store"], e["inventory"]) for e in maine["items"]] == [("ALDO Maine Mall", 3)]
    later = (datetime.now(UTC) + timedelta(hours=1)).isoformat().replace("+00:00", "Z")
    _, none, _ = await client.get(f"/api/events?since={later}")
    assert none["items"] == []
    _, since, _ = await client.get("/api/events?since=2020-01-01T00:00:00Z")
    assert len(since["items"]) == 5


@pytest.mark.parametrize(
    ("path", "parameter", "detail"),
    [
        ("/api/stock?limit=0", "limit", "limit must be from 1 to 1,000, got 0"),
        ("/api/stock?limit=lots", "limit", "limit must be a whole number, got 'lots'"),
        ("/api/stock?limit=1001", "limit", "limit must be from 1 to 1,000, got 1,001"),
        ("/api/stock?below=-3", "below", "below must be from 0 to 1,000,001, got -3"),
        ("/api/stock?store=", "store", "store must be a name of 1 to 200 characters"),
        ("/api/stock?after=abc", "after", "after must be the `next` value of a previous page"),
        ("/api/stock?colour=red", "colour", "colour is not a parameter here"),
        ("/api/stock?limit=1&limit=2", "limit", "limit is given more than once"),
        ("/api/transfers?state=lost", "state", "state must be one of suggested, accepted"),
        ("/api/events?since=yesterday", "since", "since must be an ISO 8601 time"),
        ("/api/stores?store=x", "store", "store is not a parameter here (limit, after)"),
    ],
)
async def test_a_bad_parameter_is_named_with_why(api, path, parameter, detail):
    _, client, _ = await api()
    status, body, _ = await client.get(path)
    assert status == 400
    assert body["parameter"] == parameter
    assert detail in body["detail"]
    assert body["error"] in ("bad_parameter", "unknown_parameter")


async def test_unknown_paths_and_methods_get_json_errors(api):
    _, client, _ = await api()
    status, body, _ = await client.get("/api/nothing")
    assert (status, body["error"]) == (404, "not_found")
    status, body, headers = await client.get("/api/stock", method="POST")
    assert (status, body["error"], headers["Allow"]) == (405, "method_not_allowed", "GET")


async def test_with_a_token_every_api_request_needs_it_and_health_does_not(api):
    _, client, _ = await api(token=TOKEN)
    for path in ("/api/stock", "/api/openapi.json", "/api/nothing"):
        for token in (None, "wrong-token-0123456789"):
            status, body, headers = await client.get(path, token=token)
            assert (status, body["error"]) == (401, "unauthorized")
            assert headers["WWW-Authenticate"] == "Bearer"
    status, body, _ = await client.get("/api/stock")
    assert status == 200
    assert len(body["items"]) == 5
    status, _, _ = await client.get("/healthz", token=None)
    assert status == 200
    status, document, _ = await client.get("/api/openapi.json")
    assert document["security"] == [{"token": []}]


async def test_a_token_that_is_not_utf8_is_refused_not_a_server_error(api):
    bot, _, _ = await api(token=TOKEN)
    reader, writer = await asyncio.open_connection("127.0.0.1", bot.web.port)
    writer.write(
        b"GET /api/stock HTTP/1.1\r\nHost: bot\r\nAuthorization: Bearer \xff\xfe-token\r\n"
        b"Connection: close\r\n\r\n"
    )
    answer = await reader.read()
    writer.close()
    assert answer.startswith(b"HTTP/1.1 401 "), answer[:200]
