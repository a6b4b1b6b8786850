"""The local Slack refuses what Slack refuses: each rule proven through slack_sdk's real
AsyncWebClient, over HTTP, as the bot reaches it."""

import json

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from tests.fakes.block_kit import POST_TEXT_KEPT
from tests.fakes.rate_limits import RateLimits, Tier
from tests.fakes.slack import FakeSlack, Fault

C = "C-STORES"
META = {"event_type": "inventory_bot_message", "event_payload": {"outbox_id": 1}}


@pytest.fixture
async def slack():
    async with FakeSlack(channels=(C, "C-PUBLIC", "C-PRIVATE"), private=("C-PRIVATE",)) as fake:
        yield fake


@pytest.fixture
def client(slack):
    return AsyncWebClient(token=slack.token, base_url=slack.api_url, retry_handlers=[])


async def refused(call) -> SlackApiError:
    with pytest.raises(SlackApiError) as caught:
        await call
    return caught.value


def section(text: str) -> dict:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


async def test_a_wrong_or_missing_token_is_refused(slack):
    wrong = AsyncWebClient(token="xoxb-wrong", base_url=slack.api_url)
    none = AsyncWebClient(base_url=slack.api_url)
    assert (await refused(wrong.chat_postMessage(channel=C, text="hi"))).response[
        "error"
    ] == "invalid_auth"
    assert (await refused(none.auth_test())).response["error"] == "not_authed"
    assert slack.messages == []


async def test_a_scope_the_app_was_not_given_is_named(slack, client):
    slack.scopes.discard("chat:write")
    error = await refused(client.chat_postMessage(channel=C, text="hi"))
    assert error.response["error"] == "missing_scope"
    assert error.response["needed"] == "chat:write"
    assert slack.messages == []


async def test_an_unknown_method_is_refused(client):
    error = await refused(client.api_call("chat.unknownThing", json={"channel": C}))
    assert error.response["error"] == "unknown_method"


async def test_who_may_post_where(slack, client):
    slack.not_member |= {"C-PUBLIC", "C-PRIVATE"}
    # A public channel the bot never joined: chat:write.public lets it post.
    assert (await client.chat_postMessage(channel="C-PUBLIC", text="a"))["ok"]
    # ... and without that scope it may not.
    slack.scopes.discard("chat:write.public")
    error = await refused(client.chat_postMessage(channel="C-PUBLIC", text="b"))
    assert error.response["error"] == "not_in_channel"
    # A private channel it is not in does not exist for it.
    error = await refused(client.chat_postMessage(channel="C-PRIVATE", text="c"))
    assert error.response["error"] == "channel_not_found"
    error = await refused(client.chat_postMessage(channel="C-NOWHERE", text="d"))
    assert error.response["error"] == "channel_not_found"
    slack.archived.add(C)
    error = await refused(client.chat_postMessage(channel=C, text="e"))
    assert error.response["error"] == "is_archived"
    assert [m.text for m in slack.messages] == ["a"]


async def test_text_past_40000_characters_is_cut_not_refused(slack, client):
    answer = await client.chat_postMessage(channel=C, text="x" * (POST_TEXT_KEPT + 5))
    assert answer["ok"]
    assert len(slack.messages[0].text) == POST_TEXT_KEPT


@pytest.mark.filterwarnings("ignore:The top-level `text` argument is missing")  # SDK advice
async def test_a_message_needs_text_or_blocks(slack, client):
    error = await refused(client.chat_postMessage(channel=C, text=""))
    taken = await client.chat_postMessage(channel=C, blocks=[section("only blocks")])
    assert error.response["error"] == "no_text"
    assert taken["ok"]


@pytest.mark.parametrize(
    ("blocks", "code", "pointer"),
    [
        ([section("a")] * 51, "invalid_blocks", "/blocks"),
        ([section("x" * 3001)], "invalid_blocks", "/blocks/0/text/text"),
        (
            [{"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}],
            "invalid_blocks",
            "/blocks/0/text/text",
        ),
        (
            [{"type": "header", "text": {"type": "mrkdwn", "text": "*h*"}}],
            "invalid_blocks",
            "/blocks/0/text",
        ),
        ([{"type": "section"}], "invalid_blocks", "/blocks/0"),
        ([{"type": "banner", "text": "?"}], "invalid_blocks", "/blocks/0/type"),
        (
            [section("a") | {"block_id": "b"}, section("b") | {"block_id": "b"}],
            "invalid_blocks",
            "/blocks/1/block_id",
        ),
        (
            [
                {
                    "type": "actions",
                    "elements": [
                        {
                            "type": "button",
                            "action_id": "go",
                            "text": {"type": "plain_text", "text": "b" * 76},
                        }
                    ],
                }
            ],
            "invalid_blocks",
            "/blocks/0/elements/0/text/text",
        ),
        ([section("x" * 2500)] * 5, "msg_blocks_too_long", None),
        ("not json", "invalid_blocks_format", None),
        ({"type": "section"}, "invalid_blocks_format", None),
    ],
    ids=[
        "51-blocks",
        "section-3001",
        "header-151",
        "header-mrkdwn",
        "section-empty",
        "unknown-type",
        "duplicate-block-id",
        "button-label-76",
        "texts-over-12000",
        "not-json",
        "not-a-list",
    ],
)
async def test_blocks_slack_refuses(slack, client, blocks, code, pointer):
    # A form body carries blocks as a JSON string, as the SDK's callers may send them.
    data = {"channel": C, "text": "t", "blocks": blocks if isinstance(blocks, str) else None}
    if not isinstance(blocks, str):
        data["blocks"] = json.dumps(blocks)
    error = await refused(client.api_call("chat.postMessage", data=data))
    assert error.response["error"] == code
    if pointer is not None:
        assert any(e.endswith(f"[json-pointer:{pointer}]") for e in error.response["errors"])
    assert slack.messages == []


async def test_blocks_within_every_limit_are_taken(slack, client):
    blocks = [
        {"type": "header", "text": {"type": "plain_text", "text": "h" * 150}},
        section("x" * 3000),
        {"type": "context", "elements": [{"type": "mrkdwn", "text": "c"}] * 10},
    ] + [{"type": "divider"}] * 47
    assert (await client.chat_postMessage(channel=C, text="t", blocks=blocks))["ok"]
    assert len(slack.messages[0].blocks) == 50


@pytest.mark.parametrize(
    ("metadata", "code"),
    [
        ("not json", "invalid_metadata_format"),
        (json.dumps(["a list"]), "invalid_metadata_format"),
        (json.dumps({"event_payload": {}}), "invalid_metadata_schema"),
        (json.dumps({"event_type": "x", "event_payload": "y"}), "invalid_metadata_schema"),
    ],
)
async def test_metadata_of_another_shape_is_refused(slack, client, metadata, code):
    data = {"channel": C, "text": "t", "metadata": metadata}
    error = await refused(client.api_call("chat.postMessage", data=data))
    assert error.response["error"] == code
    assert slack.messages == []


async def test_thread_replies_need_a_parent_in_that_channel(slack, client):
    parent = await client.chat_postMessage(channel=C, text="parent")
    error = await refused(
        client.chat_postMessage(channel="C-PUBLIC", thread_ts=parent["ts"], text="r")
    )
    assert error.response["error"] == "thread_not_found"
    assert await client.chat_postMessage(channel=C, thread_ts=parent["ts"], text="r")
    assert [m.text for m in slack.thread(slack.messages[0])] == ["r"]


async def test_the_bot_edits_only_its_own_messages(slack, client):
    mine = await client.chat_postMessage(channel=C, text="mine", metadata=META)
    theirs = slack.say(C, "a person wrote this")

    error = await refused(client.chat_update(channel=C, ts=theirs.ts, text="changed"))
    assert error.response["error"] == "cant_update_message"
    error = await refused(client.chat_update(channel=C, ts="1.000001", text="changed"))
    assert error.response["error"] == "message_not_found"
    error = await refused(client.chat_update(channel="C-PUBLIC", ts=mine["ts"], text="x"))
    assert error.response["error"] == "message_not_found"  # a ts names a message in a channel
    assert (await client.chat_update(channel=C, ts=mine["ts"], text="edited"))["ok"]
    assert theirs.text == "a person wrote this"
    assert slack.messages[0].text == "edited"
    assert slack.messages[0].metadata == META  # kept when an edit does not name it


async def test_an_edit_past_4000_bytes_of_text_is_refused(slack, client):
    posted = await client.chat_postMessage(channel=C, text="short")
    error = await refused(client.chat_update(channel=C, ts=posted["ts"], text="é" * 2001))
    assert error.response["error"] == "msg_too_long"
    assert (await client.chat_update(channel=C, ts=posted["ts"], text="é" * 2000))["ok"]


async def test_history_needs_the_bot_in_the_channel_and_the_scope(slack, client):
    slack.not_member |= {"C-PUBLIC", "C-PRIVATE"}
    await client.chat_postMessage(channel="C-PUBLIC", text="posted through chat:write.public")

    error = await refused(client.conversations_history(channel="C-PUBLIC"))
    assert error.response["error"] == "not_in_channel"
    error = await refused(client.conversations_history(channel="C-PRIVATE"))
    assert error.response["error"] == "channel_not_found"
    slack.scopes.discard("channels:history")
    error = await refused(client.conversations_history(channel=C))
    assert (error.response["error"], error.response["needed"]) == (
        "missing_scope",
        "channels:history",
    )


async def test_joining_a_public_channel_lets_the_bot_read_it(slack, client):
    slack.scopes.add("channels:join")
    slack.not_member |= {"C-PUBLIC", "C-PRIVATE"}
    await client.chat_postMessage(channel="C-PUBLIC", text="before joining")

    joined = await client.conversations_join(channel="C-PUBLIC")
    again = await client.conversations_join(channel="C-PUBLIC")
    history = await client.conversations_history(channel="C-PUBLIC")

    assert joined["channel"]["is_member"] is True
    assert again["warning"] == "already_in_channel"
    assert [m["text"] for m in history["messages"]] == ["before joining"]
    error = await refused(client.conversations_join(channel="C-PRIVATE"))
    assert error.response["error"] == "channel_not_found"  # invisible until invited
    slack.not_member.discard("C-PRIVATE")
    error = await refused(client.conversations_join(channel="C-PRIVATE"))
    assert error.response["error"] == "method_not_supported_for_channel_type"
    slack.scopes.discard("channels:join")
    slack.not_member.add("C-PUBLIC")
    error = await refused(client.conversations_join(channel="C-PUBLIC"))
    assert error.response["error"] == "missing_scope"


async def test_history_comes_newest_first_a_limit_at_a_time_with_a_cursor(slack, client):
    for n in range(7):
        slack.say(C, f"m{n}")
    oldest = float(slack.messages[1].ts)  # exclusive: m0 and m1 are before it or at it
    seen, pages, cursor = [], 0, None
    while True:
        page = await client.conversations_history(
            channel=C, limit=2, oldest=f"{oldest:.6f}", cursor=cursor
        )
        pages += 1
        assert len(page["messages"]) <= 2
        seen += [m["text"] for m in page["messages"]]
        if not page["has_more"]:
            break
        cursor = page["response_metadata"]["next_cursor"]
    assert seen == ["m6", "m5", "m4", "m3", "m2"]
    assert pages == 3
    error = await refused(client.conversations_history(channel=C, cursor="bm90IGEgY3Vyc29y"))
    assert error.response["error"] == "invalid_cursor"


async def test_history_shows_metadata_only_when_asked(client):
    await client.chat_postMessage(channel=C, text="t", metadata=META)
    plain = await client.conversations_history(channel=C)
    full = await client.conversations_history(channel=C, include_all_metadata=True)
    assert "metadata" not in plain["messages"][0]
    assert full["messages"][0]["metadata"] == META


async def test_replies_are_read_in_the_threads_channel_parent_first(slack, client):
    parent = await client.chat_postMessage(channel=C, text="parent")
    for n in range(3):
        slack.say(C, f"r{n}", thread_ts=parent["ts"])

    first = await client.conversations_replies(channel=C, ts=parent["ts"], limit=2)
    rest = await client.conversations_replies(
        channel=C, ts=parent["ts"], limit=2, cursor=first["response_metadata"]["next_cursor"]
    )
    assert [m["text"] for m in first["messages"]] == ["parent", "r0", "r1"]
    assert [m["text"] for m in rest["messages"]] == ["r2"]
    assert rest["has_more"] is False
    error = await refused(client.conversations_replies(channel="C-PUBLIC", ts=parent["ts"]))
    assert error.response["error"] == "thread_not_found"


async def test_posting_faster_than_one_a_second_in_a_channel_meets_a_429(slack, client):
    answers = []
    for n in range(4):
        try:
            answers.append((await client.chat_postMessage(channel=C, text=f"{n}"))["ok"])
        except SlackApiError as error:
            answers.append((error.response.status_code, error.response.headers["Retry-After"]))
    other = await client.chat_postMessage(channel="C-PUBLIC", text="elsewhere")

    assert answers == [True, True, True, (429, "1")]  # a burst of 3 passes, then wait 1 s
    assert other["ok"]  # the pace is per channel
    assert [m.text for m in slack.posts(C)] == ["0", "1", "2"]


async def test_a_method_over_its_workspace_budget_meets_a_429_in_every_channel(client):
    async with FakeSlack(channels=(C, "C-PUBLIC"), tiers={"chat.update": Tier(2)}) as slack:
        client = AsyncWebClient(token=slack.token, base_url=slack.api_url, retry_handlers=[])
        one = await client.chat_postMessage(channel=C, text="one")
        two = await client.chat_postMessage(channel="C-PUBLIC", text="two")
        await client.chat_update(channel=C, ts=one["ts"], text="1")
        await client.chat_update(channel="C-PUBLIC", ts=two["ts"], text="2")
        error = await refused(client.chat_update(channel=C, ts=one["ts"], text="again"))

        assert error.response.status_code == 429
        assert error.response["error"] == "ratelimited"
        assert int(error.response.headers["Retry-After"]) >= 1
        assert slack.posts(C)[0].text == "1"  # the refused edit changed nothing


def test_the_rate_model_lets_calls_through_again_once_the_window_has_passed():
    limits = RateLimits({"chat.update": Tier(2, per=60)}, post_burst=2)
    for at in (0.0, 10.0):
        assert limits.retry_after("chat.update", "C", at) is None
        limits.accepted("chat.update", "C", at)
    assert limits.retry_after("chat.update", "C", 59.0) == 1
    assert limits.retry_after("chat.update", "C", 60.5) is None  # the call at 0 left the window
    # Posts: two in hand, then one a second.
    for at in (0.0, 0.1):
        limits.accepted("chat.postMessage", "C", at)
    assert limits.retry_after("chat.postMessage", "C", 0.2) == 1
    assert limits.retry_after("chat.postMessage", "C", 1.0) is None


async def test_scripted_faults_still_come_first(slack, client):
    slack.fail("chat.postMessage", Fault(status=429, error="ratelimited", retry_after=7))
    slack.refuse("chat.postMessage", "message_limit_exceeded")
    limited = await refused(client.chat_postMessage(channel=C, text="a"))
    later = await refused(client.chat_postMessage(channel=C, text="b"))

    assert (limited.response.status_code, limited.response.headers["Retry-After"]) == (429, "7")
    assert (later.response.status_code, later.response["error"]) == (
        200,
        "message_limit_exceeded",
    )
    assert [c.outcome for c in slack.calls] == ["429", "message_limit_exceeded"]
    assert slack.messages == []
