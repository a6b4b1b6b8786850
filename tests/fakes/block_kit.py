"""What Slack checks in a message before it accepts it, for the local Slack (tests/fakes/slack.py).

Limits and error codes as Slack's reference pages give them (docs.slack.dev: chat.postMessage,
chat.update, Block Kit blocks and elements):
- chat.postMessage needs `text` or `blocks` (else `no_text`) and truncates `text` above 40,000
  characters (since August 2018: truncated, not refused); chat.update refuses a `text` over
  4,000 with `msg_too_long` (counted here as UTF-8 bytes, the stricter reading: people who hit
  it found the limit in bytes).
- `blocks` must be a JSON array (else `invalid_blocks_format`) of at most 50 known blocks; a
  header's plain text at most 150, a section's text 3,000, its fields 10 of 2,000, a context 10
  elements, an actions block 25, a button's label 75 and value 2,000, a block_id 255 and unique.
  A broken block is `invalid_blocks`, with Slack's `errors` list of json-pointers. Blocks whose
  texts add up to more than 12,000 characters are `msg_blocks_too_long` even when each fits.
- `metadata` must be a JSON object (else `invalid_metadata_format`) with a string `event_type`
  and an object `event_payload` (else `invalid_metadata_schema`).
"""

from __future__ import annotations

import json

POST_TEXT_KEPT = 40_000
UPDATE_TEXT_BYTES = 4_000
MAX_BLOCKS = 50
BLOCKS_TEXT_TOTAL = 12_000
BLOCK_TYPES = {
    "actions",
    "context",
    "divider",
    "file",
    "header",
    "image",
    "input",
    "markdown",
    "rich_text",
    "section",
    "table",
    "video",
}


def refusal(
    method: str, text: object, blocks: object, metadata: object, *, blocks_given: bool
) -> dict | None:
    """Slack's answer refusing this message content, or None if Slack accepts it."""
    if blocks_given:
        if isinstance(blocks, str):
            try:
                blocks = json.loads(blocks)
            except ValueError:
                return {"ok": False, "error": "invalid_blocks_format"}
        if not isinstance(blocks, list):
            return {"ok": False, "error": "invalid_blocks_format"}
        problems = _block_problems(blocks)
        if problems:
            return {
                "ok": False,
                "error": "invalid_blocks",
                "errors": problems,
                "response_metadata": {"messages": [f"[ERROR] {p}" for p in problems]},
            }
        if sum(len(t) for t in _texts(blocks)) > BLOCKS_TEXT_TOTAL:
            return {"ok": False, "error": "msg_blocks_too_long"}
    if not isinstance(text, str | type(None)):
        return {"ok": False, "error": "invalid_arguments"}
    if not text and not (blocks_given and blocks):
        return {"ok": False, "error": "no_text"}
    if method == "chat.update" and text and len(text.encode()) > UPDATE_TEXT_BYTES:
        return {"ok": False, "error": "msg_too_long"}
    if metadata is not None:
        return _metadata_refusal(metadata)
    return None


def kept_text(text: str | None) -> str:
    """The text chat.postMessage stores: cut at 40,000 characters."""
    return (text or "")[:POST_TEXT_KEPT]


def parsed(value):
    """A JSON argument as sent: form bodies carry it as a string, JSON bodies as data."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _metadata_refusal(metadata: object) -> dict | None:
    metadata = parsed(metadata)
    if not isinstance(metadata, dict):
        return {"ok": False, "error": "invalid_metadata_format"}
    if (
        not isinstance(metadata.get("event_type"), str)
        or not metadata["event_type"]
        or not isinstance(metadata.get("event_payload"), dict)
    ):
        return {"ok": False, "error": "invalid_metadata_schema"}
    return None


def _block_problems(blocks: list, most: int = MAX_BLOCKS, at_path: str = "") -> list[str]:
    if len(blocks) > most:
        return [f"no more than {most} items allowed [json-pointer:{at_path}/blocks]"]
    problems: list[str] = []
    ids: set[str] = set()
    for n, block in enumerate(blocks):
        at = f"{at_path}/blocks/{n}"
        if not isinstance(block, dict) or block.get("type") not in BLOCK_TYPES:
            problems.append(f"unsupported type [json-pointer:{at}/type]")
            continue
        block_id = block.get("block_id")
        if block_id is not None:
            if not isinstance(block_id, str) or len(block_id) > 255:
                problems.append(f"must be less than 256 characters [json-pointer:{at}/block_id]")
            elif block_id in ids:
                problems.append(f"duplicate block_id [json-pointer:{at}/block_id]")
            ids.add(block_id)
        problems += _checks(block, at)
    return problems


def _checks(block: dict, at: str) -> list[str]:
    kind = block["type"]
    if kind == "header":
        return _text(block.get("text"), f"{at}/text", 150, plain_only=True)
    if kind == "section":
        if "text" not in block and "fields" not in block:
            return [f"must provide text or fields [json-pointer:{at}]"]
        found = _text(block["text"], f"{at}/text", 3000) if "text" in block else []
        fields = block.get("fields", [])
        if not isinstance(fields, list) or len(fields) > 10:
            return [*found, f"no more than 10 items allowed [json-pointer:{at}/fields]"]
        for i, field in enumerate(fields):
            found += _text(field, f"{at}/fields/{i}", 2000)
        return found
    if kind == "context":
        elements = block.get("elements")
        if not isinstance(elements, list) or not 1 <= len(elements) <= 10:
            return [f"must have 1 to 10 items [json-pointer:{at}/elements]"]
        found = []
        for i, element in enumerate(elements):
            if isinstance(element, dict) and element.get("type") == "image":
                continue
            found += _text(element, f"{at}/elements/{i}", 3000)
        return found
    if kind == "actions":
        elements = block.get("elements")
        if not isinstance(elements, list) or not 1 <= len(elements) <= 25:
            return [f"must have 1 to 25 items [json-pointer:{at}/elements]"]
        found = []
        for i, element in enumerate(elements):
            found += _element(element, f"{at}/elements/{i}")
        return found
    if kind == "input":
        found = _text(block.get("label"), f"{at}/label", 2000, plain_only=True)
        if "hint" in block:
            found += _text(block["hint"], f"{at}/hint", 2000, plain_only=True)
        if not isinstance(block.get("element"), dict):
            return [*found, f"must provide an element [json-pointer:{at}/element]"]
        return found + _element(block["element"], f"{at}/element")
    if kind == "markdown":
        text = block.get("text")
        if not isinstance(text, str) or not text or len(text) > 12_000:
            return [f"must be 1 to 12000 characters [json-pointer:{at}/text]"]
    return []


def _element(element: object, at: str) -> list[str]:
    if isinstance(element, dict) and element.get("type") in SELECTS_AND_INPUTS:
        return _input_element(element, at)
    if not isinstance(element, dict) or element.get("type") != "button":
        return []  # the other elements the bot sends are checked above
    found = _text(element.get("text"), f"{at}/text", 75, plain_only=True)
    for key, most in (("value", 2000), ("url", 3000), ("action_id", 255)):
        value = element.get(key)
        if value is not None and (not isinstance(value, str) or len(value) > most):
            found.append(f"must be less than {most + 1} characters [json-pointer:{at}/{key}]")
    if element.get("style") not in (None, "primary", "danger"):
        found.append(f"must be one of primary, danger [json-pointer:{at}/style]")
    confirm = element.get("confirm")
    if confirm is not None:
        for key, most in (("title", 100), ("text", 300), ("confirm", 30), ("deny", 30)):
            found += _text(confirm.get(key), f"{at}/confirm/{key}", most)
    return found


SELECTS_AND_INPUTS = {"external_select", "multi_external_select", "plain_text_input"}


def _input_element(element: dict, at: str) -> list[str]:
    """Selects filled by the app (their options' value at most 150, text 75) and text inputs
    (an initial value at most 3,000)."""
    found = []
    action_id = element.get("action_id")
    if not isinstance(action_id, str) or not 0 < len(action_id) <= 255:
        found.append(f"must be 1 to 255 characters [json-pointer:{at}/action_id]")
    if element["type"] == "plain_text_input":
        initial = element.get("initial_value")
        if initial is not None and (not isinstance(initial, str) or len(initial) > 3000):
            found.append(f"must be less than 3001 characters [json-pointer:{at}/initial_value]")
        return found
    chosen = element.get("initial_options") or []
    if "initial_option" in element:
        chosen = [element["initial_option"]]
    for i, option in enumerate(chosen):
        found += option_problems(option, f"{at}/initial_options/{i}")
    return found


def option_problems(option: object, at: str) -> list[str]:
    """What is wrong with an option object (a value at most 150, a plain text at most 75)."""
    if not isinstance(option, dict):
        return [f"must be an option object [json-pointer:{at}]"]
    found = _text(option.get("text"), f"{at}/text", 75, plain_only=True)
    value = option.get("value")
    if not isinstance(value, str) or not 0 < len(value) <= 150:
        found.append(f"must be 1 to 150 characters [json-pointer:{at}/value]")
    return found


def _text(obj: object, at: str, most: int, *, plain_only: bool = False) -> list[str]:
    kinds = ("plain_text",) if plain_only else ("plain_text", "mrkdwn")
    if not isinstance(obj, dict) or obj.get("type") not in kinds:
        return [f"must be a {' or '.join(kinds)} text object [json-pointer:{at}]"]
    text = obj.get("text")
    if not isinstance(text, str) or not text:
        return [f"must be more than 0 characters [json-pointer:{at}/text]"]
    if len(text) > most:
        return [f"must be less than {most + 1} characters [json-pointer:{at}/text]"]
    return []


def _texts(value: object):
    """Every text string in blocks, at any depth."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "text" and isinstance(item, str):
                yield item
            else:
                yield from _texts(item)
    elif isinstance(value, list):
        for item in value:
            yield from _texts(item)
