"""Views for the local Slack (tests/fakes/slack.py): modals and App Home tabs, as Slack's method
pages describe them (docs.slack.dev views.open, views.update, views.publish; Block Kit views).

- views.open needs a trigger_id Slack issued with a request (the Driver issues them), used once
  and within 3 seconds: else `invalid_trigger_id`, `exchanged_trigger_id`, `expired_trigger_id`.
- A view must be a JSON object: a modal with a plain-text title of at most 24 characters, 1 to
  100 blocks, `submit` and `close` of at most 24, `private_metadata` at most 3,000, a
  `callback_id` at most 255 (a modal with inputs needs `submit`); a home tab at most 100
  blocks. Anything else: `invalid_arguments`, with the json-pointers of what is wrong.
- views.update names a view by `view_id` (else `not_found`), optionally with the `hash` it last
  had (else `hash_conflict`); it keeps what people typed in inputs whose block and action ids
  stay the same, as Slack does. Each open or update gives the view a new hash.
- A view's state holds every input from the start, as the view_submission Slack sends does: a
  text input's `value` is its initial_value until someone types (None when empty), a select's
  `selected_option` its initial_option (None if none).
These methods need no scope. Their rate limits (Tier 4) are in rate_limits.py.
"""

from __future__ import annotations

import time
from collections import defaultdict

from tests.fakes.block_kit import _block_problems, _text, parsed

TRIGGER_SECONDS = 3.0


class Views:
    """A mixin of FakeSlack: the views methods and their state."""

    def _init_views(self) -> None:
        self.triggers: dict[str, float | None] = {}  # trigger -> issued at (None once used)
        self.open_views: dict[str, dict] = {}  # view id -> the view as Slack holds it
        self.views: dict[str, list[dict]] = defaultdict(list)  # user -> published home views
        self._view_count = 0

    def issue_trigger(self, trigger_id: str) -> None:
        """Slack sent a request carrying `trigger_id`: views.open may use it for 3 seconds."""
        self.triggers[trigger_id] = time.time()

    def modals(self, callback_id: str | None = None) -> list[dict]:
        """The modals opened, in order (with their latest content)."""
        return [
            v
            for v in self.open_views.values()
            if v["type"] == "modal" and callback_id in (None, v.get("callback_id"))
        ]

    def type_into(self, view_id: str, block_id: str, action_id: str, state: dict) -> dict:
        """A person types or picks in a modal: its state, as the next payload carries it. Only
        into an input the view has: a person cannot type where there is no field."""
        view = self.open_views[view_id]
        assert any(
            b.get("type") == "input"
            and b.get("block_id") == block_id
            and b.get("element", {}).get("action_id") == action_id
            for b in view["blocks"]
        ), f"the view has no input {block_id}/{action_id}"
        view["state"]["values"].setdefault(block_id, {})[action_id] = state
        return view

    def _views_open(self, args: dict) -> dict:
        trigger = args.get("trigger_id")
        if trigger not in self.triggers:
            return {"ok": False, "error": "invalid_trigger_id"}
        issued = self.triggers[trigger]
        if issued is None:
            return {"ok": False, "error": "exchanged_trigger_id"}
        if time.time() - issued > TRIGGER_SECONDS:
            return {"ok": False, "error": "expired_trigger_id"}
        view = parsed(args.get("view"))
        refused = _view_refusal(view)
        if refused:
            return refused
        self.triggers[trigger] = None
        self._view_count += 1
        shown = {**view, "id": f"V{self._view_count:04d}", "state": {"values": _initial(view)}}
        shown["hash"] = f"{time.time():.6f}.{self._view_count}"
        self.open_views[shown["id"]] = shown
        return {"ok": True, "view": shown}

    def _views_update(self, args: dict) -> dict:
        current = self.open_views.get(args.get("view_id", ""))
        if current is None:
            return {"ok": False, "error": "not_found"}
        if args.get("hash") and args["hash"] != current["hash"]:
            return {"ok": False, "error": "hash_conflict"}
        view = parsed(args.get("view"))
        refused = _view_refusal(view)
        if refused:
            return refused
        kept = {
            block["block_id"]: current["state"]["values"][block["block_id"]]
            for block in view.get("blocks", [])
            if block.get("type") == "input"
            and block.get("block_id") in current["state"]["values"]
            and block.get("element", {}).get("action_id")
            in current["state"]["values"][block["block_id"]]
        }
        self._view_count += 1
        updated = {**view, "id": current["id"], "state": {"values": {**_initial(view), **kept}}}
        updated["hash"] = f"{time.time():.6f}.{self._view_count}"
        updated["updates"] = current.get("updates", 0) + 1
        self.open_views[current["id"]] = updated
        return {"ok": True, "view": updated}

    def _views_publish(self, args: dict) -> dict:
        view = parsed(args.get("view"))
        refused = _view_refusal(view, kind="home")
        if refused:
            return refused
        self.views[args.get("user_id", "")].append(view)
        return {"ok": True, "view": {"id": f"VH{len(self.views)}", **view}}


def _initial(view: dict) -> dict:
    """The state of a view's inputs before anyone types: what each input starts with."""
    values: dict = {}
    for block in view.get("blocks", []):
        element = block.get("element", {})
        if block.get("type") != "input" or "action_id" not in element:
            continue
        kind = element.get("type")
        if kind == "plain_text_input":
            state = {"type": kind, "value": element.get("initial_value")}
        elif kind.endswith("_select"):
            state = {"type": kind, "selected_option": element.get("initial_option")}
        else:
            continue
        values.setdefault(block["block_id"], {})[element["action_id"]] = state
    return values


def _view_refusal(view: object, kind: str = "modal") -> dict | None:
    if not isinstance(view, dict) or view.get("type") != kind:
        problems = [f"must be a {kind} view [json-pointer:/view/type]"]
    else:
        blocks = view.get("blocks")
        if not isinstance(blocks, list) or (kind == "modal" and not blocks):
            problems = ["must provide blocks [json-pointer:/view/blocks]"]
        else:
            problems = _block_problems(blocks, 100, "/view")
        if kind == "modal":
            problems += _modal_problems(view, blocks or [])
    if not problems:
        return None
    return {
        "ok": False,
        "error": "invalid_arguments",
        "response_metadata": {"messages": [f"[ERROR] {p}" for p in problems]},
    }


def _modal_problems(view: dict, blocks: list) -> list[str]:
    found = _text(view.get("title"), "/view/title", 24, plain_only=True)
    for key in ("submit", "close"):
        if key in view:
            found += _text(view[key], f"/view/{key}", 24, plain_only=True)
    if any(isinstance(b, dict) and b.get("type") == "input" for b in blocks) and not view.get(
        "submit"
    ):
        found.append("must provide submit when the view has inputs [json-pointer:/view/submit]")
    metadata = view.get("private_metadata", "")
    if not isinstance(metadata, str) or len(metadata) > 3000:
        found.append("must be less than 3001 characters [json-pointer:/view/private_metadata]")
    callback = view.get("callback_id", "")
    if not isinstance(callback, str) or len(callback) > 255:
        found.append("must be less than 256 characters [json-pointer:/view/callback_id]")
    return found
