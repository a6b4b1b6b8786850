"""The rules form as a Slack modal (bot/commands/rules_form.py decides what it holds).

One input block per field, the block_id being the field's name and the action_id `rule_` and
the name, so Slack keeps what was typed when the preview redraws the view (views.update keeps
input state for the same block and action ids), and `response_action: errors` points at the
field. Store, model and owners are external selects that Slack fills from `options` requests as
the person types; the other inputs send an action as they change (dispatch_action), which
redraws the preview. The channel travels in private_metadata (a submission names none)."""

from __future__ import annotations

import hashlib
import json
import re

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    DividerBlock,
    ExternalDataSelectElement,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.commands.people import Owner
from bot.commands.replies import section_blocks
from bot.commands.rules_form import FIELDS, Form
from bot.mrkdwn import cut

RULES_VIEW = "rules_form"  # the modal's callback_id
ACTION = "rule_"  # action_id prefix of its fields
SELECTS = ("store", "model", "owner", "second")
LABELS = {
    "store": ("Store", "Any store"),
    "model": ("Model", "Any model"),
    "low": ("Low", "Pairs (5), days of cover (2d), or off"),
    "high": ("High", "Pairs (80), days of cover (60d), or off"),
    "gate": ("Gate: readings", "Readings a level must last before it alerts (1-100)"),
    "wait": ("Gate: wait", "And how long: 60s, 2m"),
    "quiet": ("Quiet hours", "22:00-07:00 America/Toronto, or off (the whole channel)"),
    "owner": ("Owner", "Named on each new alert: a person or user group"),
    "second": ("Second owner", "Called too when the alert escalates"),
    "escalate": ("Escalate after", "30m, 2h: call the owners again if nobody acknowledges"),
}
PREVIEW_START = "Change a value to see what this rule would have posted over the last 24 h."
CHANNEL_ID = re.compile(r"[CG][A-Z0-9-]{1,30}")  # a channel a form may be about
OPTION_TEXT = 75  # characters Slack shows of an option
OPTION_VALUE = 150  # characters an option's value may hold


def rules_view(form: Form, owners: dict[str, Owner], preview: list[str] | None = None) -> dict:
    """The modal for `form`; `owners` names the owners it starts with, `preview` the lines of
    the latest preview."""
    blocks: list[Block] = [*section_blocks(f"*Rules in <#{form.channel}>*", form.lines)]
    blocks.append(DividerBlock())
    if not form.may_change:
        blocks.append(_note("Only the admins (ADMIN_USER_IDS) can change this channel's rules."))
    else:
        blocks += [_input(field, form, owners) for field in FIELDS]
        lines = preview or [PREVIEW_START]
        blocks.append(DividerBlock())
        blocks.append(
            SectionBlock(
                block_id="preview", text=MarkdownTextObject(text=cut("\n".join(lines), 3000))
            )
        )
    view = View(
        type="modal",
        callback_id=RULES_VIEW,
        title="Alert rules",
        submit="Save" if form.may_change else None,
        close="Close",
        private_metadata=json.dumps({"channel": form.channel}),
        blocks=blocks[:100],
    )
    return view.to_dict()


def channel_of(view: dict) -> str:
    """The channel a rules view is about ("" if it names none, or anything but a channel ID:
    it is drawn into the view as a mark, <#C123>)."""
    try:
        channel = json.loads(view.get("private_metadata") or "{}").get("channel", "")
    except (ValueError, AttributeError):
        return ""
    return channel if isinstance(channel, str) and CHANNEL_ID.fullmatch(channel) else ""


def fields_of(view: dict) -> dict[str, str]:
    """What the person typed or picked, by field (selects by their option's value)."""
    values = (view.get("state") or {}).get("values") or {}
    fields = {}
    for field in FIELDS:
        state = (values.get(field) or {}).get(ACTION + field) or {}
        if field in SELECTS:
            value = (state.get("selected_option") or {}).get("value")
        else:
            value = state.get("value")
        if isinstance(value, str) and value.strip():
            fields[field] = value
        elif field == "quiet" and field in values:
            fields[field] = ""  # emptied: it opens holding the quiet hours, if any
    return fields


def option(value: str, text: str) -> dict:
    """An option of a select: what it shows (cut to fit) and its value (a name too long for a
    value is carried by its digest; `named` finds it again)."""
    if len(value) > OPTION_VALUE:
        value = "#" + hashlib.sha256(value.encode()).hexdigest()
    return Option(value=value, text=cut(text, OPTION_TEXT)).to_dict("block")


def named(value: str, names: list[str]) -> str | None:
    """The name an option's value stands for, among `names`."""
    if not value.startswith("#"):
        return value
    return next((n for n in names if "#" + hashlib.sha256(n.encode()).hexdigest() == value), None)


def _input(field: str, form: Form, owners: dict[str, Owner]) -> InputBlock:
    label, hint = LABELS[field]
    if field in SELECTS:
        start = None
        if field in ("owner", "second"):
            owner = form.owners[0 if field == "owner" else 1]
            if owner is not None:
                found = owners.get(owner)
                start = option(owner, f"@{found.handle}" if found else owner)
        element = ExternalDataSelectElement(
            action_id=ACTION + field,
            placeholder=hint if field in ("store", "model") else "Nobody",
            min_query_length=0,
            initial_option=start,
        )
        hint = None if field in ("store", "model") else hint
    else:
        element = PlainTextInputElement(
            action_id=ACTION + field,
            initial_value=form.values.get(field),
            dispatch_action_config={"trigger_actions_on": ["on_character_entered"]},
        )
    return InputBlock(
        block_id=field,
        label=label,
        element=element,
        hint=hint,
        optional=True,
        dispatch_action=field not in ("owner", "second"),
    )


def _note(text: str) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=text)])
