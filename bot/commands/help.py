"""What `/<command> help` says."""

from __future__ import annotations

from bot.commands.replies import Reply, answer

HELP = {
    "stock": [
        "`/stock` the lowest stock in this channel's scope, lowest first",
        "`/stock maine` one store (or one model: `/stock aderi`), lowest first",
        "Names match without case, by a start of a word, or close spelling.",
    ],
    "transfers": [
        "`/transfers` suggested moves between stores, worst shortage first, and the transfers "
        "accepted and on their way; `/transfers maine` for one store or model",
        "`/transfers accept S12` takes a suggestion on: its pairs are reserved until the stock "
        "is seen arriving. `/transfers dismiss S12` turns one down for a day; "
        "`/transfers cancel T3` takes an accepted transfer back.",
        "A suggestion keeps the giving store above its low threshold and moves stock towards "
        "equal days of cover at the current sales pace (equal levels while the pace is not "
        "known).",
    ],
    "thresholds": [
        "`/thresholds` a form to change this channel's rules, with a preview; "
        "`/thresholds show` the rules and their latest changes",
        "`/thresholds set low=5 high=80` the channel's default; add `store=` and/or `model=` "
        "for a narrower rule (the most specific applies). `low=off`/`high=off` turn a side off; "
        "`gate=3` readings and `wait=2m` before alerting.",
        "`low=2d` alerts when a shelf's stock would last 2 days or less at its pace, `high=60d` "
        "when 60 days or more (the pairs threshold stands in until a pace is known)",
        "`owner=@buyers` (a person or user group) is named on each new alert; with "
        "`escalate=30m` they are called again if nobody acknowledges it in time, and "
        "`second=@leads` with them",
        "`/thresholds clear store=maine` removes a rule",
        '`/thresholds watch all`, or `watch stores="maine, auburn" models=aderi`',
        "`/thresholds quiet 22:00-07:00 America/Toronto` or `quiet off`: only out of stock "
        "alerts in those hours, the rest in one summary after",
        "`/thresholds preview low=5 ...` what the rule would have said over the last 24 h",
        'Names with spaces go in quotes: store="ALDO Maine Mall".',
    ],
    "alerts": [
        "`/alerts` this channel's open alerts",
        "`/alerts ack 12`, `/alerts snooze 12 4h`, `/alerts mute 12`, `/alerts unmute 12`",
    ],
}


def help_reply(command: str) -> Reply:
    return answer(f"/{command}", HELP[command])
