"""The English of alert threads: the line each change adds under an incident's message."""

from __future__ import annotations

from bot.core.alerting.incidents import Incident
from bot.core.alerting.machine import FLAP_SETTLE, Severity, Step

SETTLED = f"Settled: no threshold crossing for {FLAP_SETTLE / 60:g} minutes."
NO_LONGER_WATCHED = "No longer watched here (the rules changed)."
FEED_BACK = "Feed is back: messages are flowing."
BAD_FRAMES_OVER = "Resolved: bad frames are back under the limit."


def state_line(incident: Incident, step: Step | None = None) -> str:
    """One line for an incident's thread: what it is now."""
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


def back_everywhere(model: str) -> str:
    return f"Resolved: {model} is back in stock everywhere."


def acknowledged(user: str) -> str:
    return f"Acknowledged by <@{user}>."


def snoozed(seconds: float, user: str) -> str:
    return f"Snoozed for {duration(seconds)} by <@{user}>."


def snooze_over(incident: Incident) -> str:
    return f"Snooze over: {state_line(incident)}"


def muted(user: str) -> str:
    return f"Muted by <@{user}>: no new alerts for this in this channel."


def unmuted(user: str) -> str:
    return f"Unmuted by <@{user}>."


def transfer_received(number: int, quantity: int) -> str:
    return f"Transfer T{number} received ({quantity} pairs)."


def transfer_expired(number: int, hours: float) -> str:
    return (
        f"Transfer T{number} was not seen arriving within {hours:g} h: its pairs are no "
        "longer reserved."
    )


def transfer_accepted(number: int, quantity: int, user: str) -> str:
    return f"<@{user}> accepted transfer T{number} ({quantity} pairs)."


def transfer_cancelled(number: int, user: str) -> str:
    return f"<@{user}> cancelled transfer T{number}."


def duration(seconds: float) -> str:
    """`4 h`, or `90 min` when not a whole number of hours."""
    hours = seconds / 3600
    if hours >= 1 and hours == int(hours):
        return f"{int(hours)} h"
    return f"{round(seconds / 60)} min"
