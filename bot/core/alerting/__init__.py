"""Stock alerts, pure: sales, ticks, feed health and people's actions in; incidents and the
Slack calls to make out. `engine.AlertEngine` composes the stages, each in its own file:

- machine: the alert state machine of one (channel, store, model, side)
- stock: every key's machines, fed by sales and ticks
- ledger: the incidents, their ids, which message folds which
- notify: what each channel is told and when (grouping, floods, quiet hours)
- chains, flapping, silences, ops: chain-wide shortages, flapping keys, ack/snooze/mute, feeds
- transfer_notes: what low-stock alerts say of transfers
- view, wording: what a message shows, and the English of its thread
"""
