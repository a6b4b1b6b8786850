"""The rules form in Slack: opened by `/thresholds`, by "Change rules" under the rules and in the
App Home (views.open, with the request's trigger_id, which Slack honours for 3 seconds); its
selects filled by `options` requests; its preview redrawn as values change (views.update); its
submission checked field by field (`response_action: errors`) and saved like `/thresholds set`.

A preview replays a day of sales in the previews' worker thread, seconds at worst: it never
holds up an acknowledgement. Each channel has at most one under way; values typed meanwhile
wait, and only the latest of each view is previewed next."""

from __future__ import annotations

import logging
import re

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError

from bot.commands import rules_form
from bot.commands.dispatch import Commands
from bot.commands.people import Owner, People
from bot.commands.replies import Reply
from bot.commands.thresholds import OPEN_FORM
from bot.core.names import Kind
from bot.slack.home import Channels
from bot.slack.listeners.background import Background
from bot.slack.listeners.replies import user_of, warn
from bot.slack.rules_modal import (
    ACTION,
    CHANNEL_ID,
    RULES_VIEW,
    channel_of,
    fields_of,
    named,
    option,
    rules_view,
)

log = logging.getLogger(__name__)

LISTED = 100  # options Slack shows at most
NOT_IN = "You can change the rules of a channel you are in only. Nothing was changed."


class RulesForms:
    """Opens rules forms and keeps their previews current."""

    def __init__(
        self,
        commands: Commands,
        background: Background,
        people: People | None,
        members: Channels | None = None,
    ) -> None:
        self.context = commands.context
        self.commands = commands
        self.background = background
        self.people = people
        self.members = members
        self._waiting: dict[str, dict[str, tuple[str, dict[str, str]]]] = {}  # channel -> view

    async def member(self, user: str, channel: str) -> bool:
        """Whether `user` is in `channel`: a form shows, previews and saves the rules of its
        person's channels only, as their App Home lists them, whatever channel a payload
        names. (True for any channel ID where Slack cannot be asked: the terminal.)"""
        if not CHANNEL_ID.fullmatch(channel):
            return False
        return self.members is None or channel in await self.members.channels(user)

    async def open(self, client, trigger_id: str, channel: str, user: str) -> bool:
        """Open `channel`'s form for `user`; False if they are not in it, or if Slack refused
        (the trigger expired...)."""
        if not await self.member(user, channel):
            log.info("rules form not opened: its person is not in its channel")
            return False
        form = await rules_form.form(self.context, channel, user)
        try:
            await client.views_open(trigger_id=trigger_id, view=self._view(form))
        except SlackApiError as error:
            log.warning(
                "could not open the rules form", extra={"error": error.response.get("error")}
            )
            return False
        return True

    async def changed(self, client, view: dict, user: str) -> None:
        """A value of an open form changed: preview it once the channel's preview is done."""
        channel, view_id = channel_of(view), view.get("id", "")
        if not channel or not view_id or not await self.member(user, channel):
            return
        waiting = self._waiting.setdefault(channel, {})
        running = bool(waiting)
        waiting[view_id] = (user, fields_of(view))
        if not running:
            self.background.start(self._preview(client, channel))

    async def _preview(self, client, channel: str) -> None:
        waiting = self._waiting[channel]
        try:
            while waiting:
                view_id = next(iter(waiting))
                user, fields = waiting[view_id]
                lines = await self._lines(channel, user, fields)
                if waiting.get(view_id) == (user, fields):
                    del waiting[view_id]
                form = await rules_form.form(self.context, channel, user)
                try:
                    await client.views_update(view_id=view_id, view=self._view(form, lines))
                except SlackApiError as error:  # closed meanwhile, most likely
                    log.info("preview not shown", extra={"error": _code(error)})
                    waiting.pop(view_id, None)
        finally:
            if not waiting:
                self._waiting.pop(channel, None)

    async def _lines(self, channel: str, user: str, fields: dict[str, str]) -> list[str]:
        async def lines() -> Reply:
            found = await rules_form.preview(self.context, channel, user, fields)
            return Reply(text="\n".join(found))

        return (await self.commands.run("thresholds", lines)).text.splitlines()

    def _view(self, form: rules_form.Form, preview: list[str] | None = None) -> dict:
        # Only owners already known are named: the trigger is good for 3 seconds.
        found = [self.people.known(o) for o in form.owners if o] if self.people else []
        return rules_view(form, {o.id: o for o in found if o is not None}, preview)


def register(app: AsyncApp, forms: RulesForms) -> None:
    context = forms.context

    @app.action(OPEN_FORM)
    async def on_open(ack, body, action, client, respond) -> None:
        await ack()
        user, _ = user_of(body)
        channel = action.get("value", "")
        if not CHANNEL_ID.fullmatch(channel):
            if respond is not None:  # none in the App Home
                forms.background.start(warn(respond, "That button does not name a channel."))
            return
        forms.background.start(forms.open(client, body.get("trigger_id", ""), channel, user))

    @app.action(re.compile(f"^{ACTION}"))
    async def on_change(ack, body, client) -> None:
        await ack()
        forms.background.start(forms.changed(client, body.get("view") or {}, user_of(body)[0]))

    @app.view(RULES_VIEW)
    async def on_submit(ack, body, view, client) -> None:
        user, _ = user_of(body)
        channel = channel_of(view)
        if not CHANNEL_ID.fullmatch(channel):
            await ack(response_action="errors", errors={"low": "This form names no channel."})
            return
        if not await forms.member(user, channel):
            await ack(response_action="errors", errors={"low": NOT_IN})
            return
        fields = fields_of(view)
        stores, models = await context.reads.name_lists()
        for field, names in (("store", stores), ("model", models)):
            if field in fields:
                fields[field] = named(fields[field], names) or fields[field]
        answer = await forms.commands.run(
            "thresholds", lambda: rules_form.submit(context, channel, user, fields)
        )
        if isinstance(answer, dict):
            await ack(response_action="errors", errors=answer)
            return
        await ack()
        if answer.error:  # a bug: said in the log; the form closes with nothing saved
            return
        forms.background.start(_announce(client, channel, answer))

    def names_of(kind: Kind):
        async def on_names(ack, body) -> None:
            found = await context.names.search(body.get("value", ""), kind, limit=LISTED)
            await ack(options=[option(name, name) for name in found])

        return on_names

    app.options(ACTION + "store")(names_of(Kind.STORE))
    app.options(ACTION + "model")(names_of(Kind.MODEL))

    async def on_owners(ack, body) -> None:
        found = (
            await forms.people.search(body.get("value", ""), limit=LISTED) if forms.people else []
        )
        await ack(options=[option(o.id, _owner_text(o)) for o in found])

    for field in ("owner", "second"):
        app.options(ACTION + field)(on_owners)


async def _announce(client, channel: str, reply: Reply) -> None:
    """Tell the channel who changed its rules (the form has no response_url)."""
    if not reply.announce:
        return
    try:
        await client.chat_postMessage(channel=channel, text=reply.announce)
    except SlackApiError as error:
        log.warning(
            "could not announce a rules change", extra={"error": error.response.get("error")}
        )


def _owner_text(owner: Owner) -> str:
    kind = "group" if owner.group else owner.name
    return f"@{owner.handle} ({kind})" if kind else f"@{owner.handle}"


def _code(error: SlackApiError) -> str:
    data = error.response.data
    return data.get("error", "") if isinstance(data, dict) else ""
