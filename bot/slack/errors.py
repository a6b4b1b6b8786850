"""What the sender does about each error Slack answers: one table.

It covers every error code that chat.postMessage, chat.update and conversations.history document
(docs.slack.dev method pages), codes they documented before and Slack may still send, and the
codes of the two other methods the sender calls (conversations.replies and .join). Slack
answers all of them on HTTP 200 with `ok: false`, except a rate limit past its budget (HTTP 429,
Retry-After). An `ok: false` answer means the call did nothing, except where Slack says "it's
possible some aspect of the operation succeeded" (fatal_error; internal_error likewise).

- RETRY: Slack had trouble or is migrating; try again soon, backing off.
- WAIT: a rate limit; pause that method for the whole workspace, then go on.
- CHANNEL: the channel refuses (gone, archived, the bot not in it, posting restricted); stop
  calling it, keep its rows, try again in a few minutes, tell someone once.
- TOKEN: the token or the app refuses; stop calling Slack at all, probe now and then, tell
  someone once.
- DROP: this call as it is will never be accepted (its content, its target message); record the
  row failed and go on with the next.
"""

from __future__ import annotations

from enum import Enum


class Verdict(Enum):
    RETRY = "retry soon"
    WAIT = "wait (rate limit)"
    CHANNEL = "refuse the channel"
    TOKEN = "refuse the token"
    DROP = "drop the row"


TABLE: dict[Verdict, str] = {
    Verdict.RETRY: """
        internal_error fatal_error service_unavailable request_timeout update_failed
        team_added_to_org external_channel_migrating streaming_state_conflict
        invalid_cursor list_record_comment_fetch_failed
    """,
    Verdict.WAIT: """
        ratelimited rate_limited message_limit_exceeded
    """,
    Verdict.CHANNEL: """
        channel_not_found not_in_channel is_archived channel_is_archived is_inactive
        no_permission access_denied restricted_action restricted_action_read_only_channel
        restricted_action_thread_only_channel posting_to_channel_denied ekm_access_denied
        team_access_not_granted team_not_found channel_is_limited_access messages_tab_disabled
        method_not_supported_for_channel_type too_many_members slack_connect_team_blocked
    """,
    Verdict.TOKEN: """
        invalid_auth not_authed account_inactive token_revoked token_expired missing_scope
        not_allowed_token_type org_login_required two_factor_setup_required is_bot
        enterprise_is_restricted app_access_restricted accesslimited forbidden
        metadata_must_be_sent_from_app deprecated_endpoint method_deprecated unknown_method
        user_is_bot user_is_restricted
    """,
    Verdict.DROP: """
        invalid_blocks invalid_blocks_format msg_blocks_too_long block_mismatch msg_too_long
        no_text markdown_text_conflict invalid_attachments too_many_attachments
        attachment_payload_limit_exceeded too_many_contact_cards invalid_metadata_format
        invalid_metadata_schema metadata_too_large message_not_found cant_update_message
        edit_window_closed cant_broadcast_message no_dual_broadcast_content_update
        thread_not_found cannot_reply_to_message restricted_action_thread_locked
        restricted_action_non_threadable_channel as_user_not_supported send_on_behalf_not_allowed
        invalid_arg_name invalid_array_arg invalid_arguments invalid_charset invalid_form_data
        invalid_post_type missing_post_type invalid_ts_latest invalid_ts_oldest
        invalid_metadata_filter_keys pagination_not_available duplicate_channel_not_found
        duplicate_message_not_found draft_already_deleted draft_already_sent draft_has_conflict
        draft_not_found missing_file_data blocked_file_type file_deleted file_is_deleted
        file_not_found file_share_limit_reached max_file_sharing_exceeded unable_to_share_files
        slack_connect_blocked_file_type slack_connect_canvas_link_sharing_blocked
        slack_connect_canvas_sharing_blocked slack_connect_clip_sharing_blocked
        slack_connect_file_link_sharing_blocked slack_connect_file_upload_sharing_blocked
        slack_connect_lists_sharing_blocked
    """,
}
VERDICTS: dict[str, Verdict] = {
    code: verdict for verdict, codes in TABLE.items() for code in codes.split()
}
# Slack's words for these: the operation may have been carried out before the error.
MAY_HAVE_HAPPENED = frozenset({"internal_error", "fatal_error"})
# Refusals of the blocks alone: the same message as plain text may still go out.
BLOCKS_REFUSED = frozenset({"invalid_blocks", "invalid_blocks_format", "msg_blocks_too_long"})


def verdict(code: str) -> Verdict | None:
    """What to do about `code`; None for a code this table does not know (see UNKNOWN_TRIES)."""
    return VERDICTS.get(code)


# A code Slack added after this table: retry it a few times, backing off, then drop the row.
# For an alerting tool both other choices are worse: dropping at once loses an alert to what
# may be a passing fault, and retrying forever holds every later alert of the channel behind
# one the channel may never accept. The row's error is logged with the code, to be classed.
UNKNOWN_TRIES = 4  # backing off 2, 4 and 8 s between them


# What an operator can do about a channel Slack refuses: said once, with the refusal.
CHANNEL_HINTS = {
    "not_in_channel": "invite the bot to the channel (/invite @the bot), or give the app the "
    "channels:join scope",
    "channel_not_found": "check the channel ID (ALERT_CHANNEL, OPS_CHANNEL or /thresholds); "
    "a private channel needs the bot invited",
    "is_archived": "unarchive the channel or move its rules",
    "channel_is_archived": "unarchive the channel or move its rules",
    "missing_scope": "give the app channels:history and groups:history, so it can look for a "
    "post whose answer was lost instead of posting it twice",
}
