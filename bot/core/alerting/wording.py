"""The English of alert threads: the line each change adds under an incident's message. Names
and people stay fields of the Note, for the renderer to escape."""

from __future__ import annotations

from bot.core.alerting.effects import Note
from bot.core.alerting.incidents import Incident
from bot.core.alerting.machine import FLAP_SETTLE, Severity, Step
from bot.mrkdwn import date, mention

SETTLED = Note(f"Settled: no threshold crossing for {FLAP_SETTLE / 60:g} minutes.")
NO_LONGER_WATCHED = Note("No longer watched here (the rules changed).")
FEED_BACK = Note("Feed is back: messages are flowing.")
BAD_FRAMES_OVER = Note("Resolved: bad frames are back under the limit.")


def note(template: str, **fields: str) -> Note:
    return Note(template, tuple(fields.items()))


def state_line(incident: Incident, step: Step | None = None) -> Note:
    """One line for an incident's thread: what it is now."""
    return Note(_state(incident, step))


def _state(incident: Incident, step: Step | None) -> str:
    level = incident.level
    if step is Step.RESOLVED:
        return f"Resolved: {level} in stock."
    if incident.severity is Severity.OUT:
        return "Now out of stock (0 left)." if step else "still out of stock."
    if incident.severity is Severity.LOW:
        return (
            f"Restocked to {level}, still low."
            if step is Step.EASED
            else f"still low ({level} left)."
        )
    if incident.severity is Severity.HIGH:
        return f"still overstocked ({level})."
    return "still open."


def back_everywhere(model: str) -> Note:
    return note("Resolved: {model} is back in stock everywhere.", model=model)


# Who acted is named, not mentioned: a mention in a thread would notify them of their own act.
def acknowledged(who: str) -> Note:
    return note("Acknowledged by {who}.", who=who)


def snoozed(seconds: float, who: str) -> Note:
    return note(f"Snoozed for {duration(seconds)} by {{who}}.", who=who)


def snooze_over(incident: Incident) -> Note:
    return Note(f"Snooze over: {_state(incident, None)}")


def muted(who: str, until: float | None) -> Note:
    if until is None:
        return note("Muted by {who}: no new alerts for this in this channel.", who=who)
    until_text = date(until).replace("{", "{{").replace("}", "}}")
    return note(
        f"Muted by {{who}}: no new alerts for this in this channel until {until_text}.", who=who
    )


def unmuted(who: str) -> Note:
    return note("Unmuted by {who}.", who=who)


def escalated(owner: str, second: str | None, after: float) -> Note:
    """The owners called again: the one line where the bot mentions people on purpose (their
    IDs are checked by `mention`, and are the bot's own words, not a field)."""
    called = " ".join(mention(o) for o in (owner, second) if o)
    return Note(f"Nobody has acknowledged this in {duration(after)}: {called}, please have a look.")


MUTE_ENDED = Note("The mute ended: alerts for this are posted again.")


def transfer_received(number: int, quantity: int) -> Note:
    return Note(f"Transfer T{number} received ({quantity} pairs).")


def transfer_expired(number: int, hours: float) -> Note:
    return Note(
        f"Transfer T{number} was not seen arriving within {hours:g} h: its pairs are no "
        "longer reserved."
    )


def transfer_accepted(number: int, quantity: int, who: str) -> Note:
    return note(f"{{who}} accepted transfer T{number} ({quantity} pairs).", who=who)


def transfer_cancelled(number: int, who: str) -> Note:
    return note(f"{{who}} cancelled transfer T{number}.", who=who)


def duration(seconds: float) -> str:
    """`4 h`, or `90 min` when not a whole number of hours."""
    hours = seconds / 3600
    if hours >= 1 and hours == int(hours):
        return f"{int(hours)} h"
    return f"{round(seconds / 60)} min"
