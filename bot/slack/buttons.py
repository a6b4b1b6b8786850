"""The buttons the bot draws, and what each does: one table for the drawing (render.py) and
the handling (listeners/buttons.py)."""

from __future__ import annotations

from bot.core.alerting.silences import SNOOZE_CHOICES

# On an open alert: action_id -> (label, /alerts verb, snooze seconds).
INCIDENT_BUTTONS: dict[str, tuple[str, str, float | None]] = {
    "incident_ack": ("Acknowledge", "ack", None),
    **{
        f"incident_snooze_{seconds // 3600}h": (f"Snooze {seconds // 3600}h", "snooze", seconds)
        for seconds in SNOOZE_CHOICES
    },
    "incident_mute": ("Mute", "mute", None),
}
# On a suggested transfer (on alerts and in /transfers): action_id -> (label, /transfers verb).
TRANSFER_BUTTONS: dict[str, tuple[str, str]] = {
    "transfer_accept": ("Accept transfer", "accept"),
    "transfer_dismiss": ("Dismiss", "dismiss"),
}
