"""What the sender does about each kind of error Slack answers, each through the local Slack
answering it for real: retry soon, wait (rate limit), refuse the channel, refuse the token,
drop the row; and the table holds every documented code."""

import asyncio
import time

import pytest

from bot.core.delivery import BLOCKED_PROBE
from bot.slack.errors import TABLE, VERDICTS, Verdict
from tests.fakes.slack import FakeSlack, Fault
from tests.helpers import eventually
from tests.slack.outbox import Outbox, sending

C, M, OPS = "C-STORES", "C-MERCH", "C-OPS"

# The error codes Slack's reference pages list for each method (docs.slack.dev/reference/
# methods/...), as Slack names them; the sender's table must say what to do about each.
DOCUMENTED = {
    "chat.postMessage": """
        access_denied accesslimited account_inactive app_access_restricted as_user_not_supported
        attachment_payload_limit_exceeded cannot_reply_to_message channel_not_found
        deprecated_endpoint draft_already_deleted draft_already_sent draft_has_conflict
        draft_not_found duplicate_channel_not_found duplicate_message_not_found ekm_access_denied
        enterprise_is_restricted fatal_error invalid_arg_name invalid_array_arg invalid_blocks
        invalid_blocks_format invalid_charset invalid_form_data invalid_metadata_format
        invalid_metadata_schema invalid_post_type is_archived is_bot markdown_text_conflict
        message_limit_exceeded messages_tab_disabled metadata_must_be_sent_from_app
        metadata_too_large method_deprecated missing_file_data missing_post_type missing_scope
        msg_blocks_too_long no_permission no_text not_allowed_token_type not_authed
        not_in_channel org_login_required rate_limited ratelimited request_timeout
        restricted_action restricted_action_non_threadable_channel
        restricted_action_read_only_channel restricted_action_thread_locked
        restricted_action_thread_only_channel send_on_behalf_not_allowed service_unavailable
        slack_connect_canvas_sharing_blocked slack_connect_file_link_sharing_blocked
        slack_connect_lists_sharing_blocked team_added_to_org team_not_found token_expired
        token_revoked too_many_attachments too_many_contact_cards two_factor_setup_required
        unknown_method
        internal_error msg_too_long team_access_not_granted invalid_auth
    """,
    "chat.update": """
        access_denied accesslimited account_inactive as_user_not_supported block_mismatch
        blocked_file_type cant_broadcast_message cant_update_message channel_not_found
        deprecated_endpoint edit_window_closed ekm_access_denied enterprise_is_restricted
        external_channel_migrating fatal_error file_deleted file_is_deleted file_not_found
        file_share_limit_reached invalid_arg_name invalid_array_arg invalid_attachments
        invalid_blocks invalid_blocks_format invalid_charset invalid_form_data
        invalid_metadata_format invalid_metadata_schema invalid_post_type is_bot is_inactive
        markdown_text_conflict max_file_sharing_exceeded message_limit_exceeded
        message_not_found metadata_must_be_sent_from_app metadata_too_large method_deprecated
        missing_post_type missing_scope msg_too_long no_dual_broadcast_content_update
        no_permission no_text not_allowed_token_type not_authed org_login_required
        posting_to_channel_denied ratelimited request_timeout service_unavailable
        slack_connect_blocked_file_type slack_connect_canvas_sharing_blocked
        slack_connect_clip_sharing_blocked slack_connect_file_link_sharing_blocked
        slack_connect_file_upload_sharing_blocked streaming_state_conflict team_added_to_org
        team_not_found token_expired token_revoked too_many_attachments
        two_factor_setup_required unable_to_share_files unknown_method update_failed
        internal_error forbidden invalid_auth
    """,
    "conversations.history": """
        access_denied accesslimited account_inactive channel_is_limited_access
        channel_not_found deprecated_endpoint ekm_access_denied enterprise_is_restricted
        fatal_error invalid_arg_name invalid_array_arg invalid_charset invalid_cursor
        invalid_form_data invalid_metadata_filter_keys invalid_post_type invalid_ts_latest
        invalid_ts_oldest is_bot method_deprecated missing_post_type missing_scope
        no_permission not_allowed_token_type not_authed not_in_channel org_login_required
        ratelimited request_timeout service_unavailable team_added_to_org token_expired
        token_revoked two_factor_setup_required unknown_method
        internal_error pagination_not_available
    """,
}
# The codes that mean "later", answered on HTTP 200: none may lose the alert.
LATER = [
    "ratelimited",
    "rate_limited",
    "message_limit_exceeded",
    "team_added_to_org",
    "external_channel_migrating",
    "internal_error",
    "fatal_error",
    "service_unavailable",
    "request_timeout",
]


@pytest.fixture
async def slack():
    async with FakeSlack() as fake:
        yield fake


@pytest.fixture
async def outbox(tmp_path):
    return await Outbox(tmp_path / "inventory.db").create()


async def delivered(sender, within: float = 20.0) -> None:
    await asyncio.wait_for(sender.wait_idle(), within)


def outcomes(slack: FakeSlack, method: str) -> list[str]:
    return [c.outcome for c in slack.calls if c.method == method]


@pytest.mark.parametrize("method", sorted(DOCUMENTED))
def test_every_documented_error_code_has_its_answer(method):
    assert set(DOCUMENTED[method].split()) - set(VERDICTS) == set()


def test_each_code_has_one_answer_and_later_never_drops():
    listed = [code for codes in TABLE.values() for code in codes.split()]
    assert len(listed) == len(set(listed))
    assert {code: VERDICTS[code] for code in LATER if VERDICTS[code] is Verdict.DROP} == {}


@pytest.mark.parametrize(
    ("method", "code"),
    [
        ("chat.postMessage", "internal_error"),
        ("chat.postMessage", "fatal_error"),
        ("chat.postMessage", "service_unavailable"),
        ("chat.postMessage", "request_timeout"),
        ("chat.postMessage", "team_added_to_org"),
        ("chat.update", "external_channel_migrating"),
    ],
)
async def test_slack_in_trouble_is_tried_again_and_the_alert_delivered_once(
    slack, outbox, method, code
):
    edit = method == "chat.update"
    async with sending(outbox, slack) as sender:
        if edit:
            sender.enqueue(outbox.commit((C, "post", 1, "Low stock")))
            await delivered(sender)
        slack.refuse(method, code)
        sender.enqueue(outbox.commit((C, "update" if edit else "post", 1, "Out of stock")))
        await delivered(sender)

    assert outcomes(slack, method)[-2:] == [code, "ok"]
    assert [m.text for m in slack.posts(C)] == ["Out of stock"]
    assert {state for state, _, _ in outbox.states().values()} == {"sent"}
    # Slack says these may have taken effect: the bot looked before posting again.
    looked = [c for c in slack.calls if c.method == "conversations.history"]
    assert bool(looked) is (code in ("internal_error", "fatal_error") and not edit)


@pytest.mark.parametrize(
    "fault",
    [
        Fault(status=429, error="ratelimited", retry_after=1),
        Fault(status=200, error="ratelimited"),
        Fault(status=200, error="rate_limited"),
        Fault(status=200, error="message_limit_exceeded"),
    ],
    ids=["http-429", "ratelimited", "rate_limited", "message_limit_exceeded"],
)
async def test_a_rate_limit_pauses_that_method_in_every_channel_and_nothing_else(
    slack, outbox, fault
):
    async with sending(outbox, slack, rate_limited_wait=1.0) as sender:
        sender.enqueue(outbox.commit((OPS, "post", 1, "Feed down")))
        await delivered(sender)
        slack.fail("chat.postMessage", fault)
        sender.enqueue(outbox.commit((C, "post", 2, "Stores alert")))
        await eventually(lambda: sender.counts[("post", "rate_limited")], what="the rate limit")
        sender.enqueue(
            outbox.commit((M, "post", 3, "Merch alert"), (OPS, "update", 1, "Feed down, 2 min"))
        )
        await delivered(sender)

    limited = next(c for c in slack.calls if c.outcome in ("429", fault.error))
    posts_after = [c for c in slack.calls if c.method == "chat.postMessage" and c.at > limited.at]
    (edit,) = [c for c in slack.calls if c.method == "chat.update"]
    assert len(posts_after) == 2  # the refused post again, and the other channel's
    assert min(c.at for c in posts_after) >= limited.at + 1.0  # neither channel posted sooner
    assert edit.at < limited.at + 1.0  # edits are another method: not held
    assert [m.text for m in slack.posts(C)] == ["Stores alert"]
    assert [m.text for m in slack.posts(M)] == ["Merch alert"]
    assert [m.text for m in slack.posts(OPS)] == ["Feed down, 2 min"]
    assert sender.counts[("post", "rate_limited")] == 1


@pytest.mark.parametrize("refusal", ["is_archived", "channel_not_found"])
async def test_a_channel_slack_refuses_keeps_its_rows_and_holds_no_other(slack, outbox, refusal):
    if refusal == "is_archived":
        slack.archived.add(M)
    else:  # a private channel nobody invited the bot to
        slack.private.add(M)
        slack.not_member.add(M)
    later = [0.0]

    def clock() -> float:
        return time.time() + later[0]

    async with sending(outbox, slack, clock=clock) as sender:
        sender.enqueue(
            outbox.commit((M, "post", 1, "Merch 1"), (M, "post", 2, "Merch 2"), (C, "post", 3, "S"))
        )
        await eventually(lambda: sender.problems() and 3 in outbox.states(), what="both")

        assert sender.problems() == {M: refusal}
        assert sender.pending() == 2  # waiting, not lost
        assert outcomes(slack, "chat.postMessage").count(refusal) == 1
        # No retry storm: the next try is minutes away, and it does come.
        assert sender.next_try(M) - clock() > BLOCKED_PROBE - 10
        later[0] = BLOCKED_PROBE
        sender.enqueue(outbox.commit((M, "post", 4, "Merch 4")))  # wakes the channel's sender
        await eventually(
            lambda: outcomes(slack, "chat.postMessage").count(refusal) == 2, what="the next try"
        )
        assert sender.pending() == 3
    # The refused rows are not given up: only their attempt is on record.
    assert {n: state for n, (state, _, _) in outbox.states().items()} == {1: "trying", 3: "sent"}


async def test_a_token_slack_refuses_holds_every_channel(slack, outbox):
    slack.refuse("chat.postMessage", "token_revoked", times=2)
    async with sending(outbox, slack) as sender:
        sender.enqueue(outbox.commit((C, "post", 1, "Stores"), (M, "post", 2, "Merch")))
        await eventually(lambda: sender.problems().get("*"), what="the refusal")

        assert sender.problems() == {"*": "token_revoked"}
        assert sender.pending() == 2
    assert set(outcomes(slack, "chat.postMessage")) == {"token_revoked"}
    assert slack.messages == []
    assert {state for state, _, _ in outbox.states().values()} <= {"trying"}


@pytest.mark.filterwarnings("ignore:The top-level `text` argument is missing")
async def test_a_row_slack_will_never_take_is_dropped_and_the_next_goes_out(slack, outbox):
    async with sending(outbox, slack) as sender:
        sender.enqueue(outbox.commit((C, "post", 1, ""), (C, "post", 2, "Next alert")))
        await delivered(sender)

    assert outcomes(slack, "chat.postMessage") == ["no_text", "ok"]
    assert [m.text for m in slack.posts(C)] == ["Next alert"]
    assert outbox.states() == {1: ("failed", 1, "no_text"), 2: ("sent", 1, None)}


async def test_a_code_nobody_knows_is_tried_a_few_times_then_dropped(slack, outbox, caplog):
    slack.refuse("chat.postMessage", "brand_new_error", times=2)
    async with sending(outbox, slack, unknown_tries=2) as sender:
        sender.enqueue(outbox.commit((C, "post", 1, "Alert"), (C, "post", 2, "Next alert")))
        await delivered(sender)

    assert outcomes(slack, "chat.postMessage") == ["brand_new_error", "brand_new_error", "ok"]
    assert [m.text for m in slack.posts(C)] == ["Next alert"]
    state, attempts, error = outbox.states()[1]
    assert (state, attempts) == ("failed", 2)
    assert "brand_new_error" in error
    assert any("dropped" in r.getMessage() for r in caplog.records)
