"""What the demo's terminal shows for a Slack message: the words Slack would show, styled."""

import pytest
from rich.text import Text

from bot.slack.terminal import to_rich


def styled(text: Text) -> list[tuple[str, str]]:
    return [(text.plain[s.start : s.end], str(s.style)) for s in text.spans]


def test_bold_code_mentions_links_and_emoji_read_as_in_slack():
    shown = to_rich(
        ":rotating_light: *Out of stock:* `ADERI` at <#C1|stores> for <@U123>, "
        "see <https://x.example/a|the runbook> &amp; <!here>"
    )
    assert shown.plain == ("🚨 Out of stock: ADERI at stores for @U123, see the runbook & @here")
    assert styled(shown) == [("Out of stock:", "bold"), ("ADERI", "cyan")]


@pytest.mark.parametrize(
    ("typed", "plain"),
    [
        (r"/stock \*x*", r"/stock \x"),
        ("/stock [bold]", "/stock [bold]"),
        (r"/stock \[/]", r"/stock \[/]"),
        ("[/cyan] *a [b]* `[c]`", "[/cyan] a [b] [c]"),
        ("ends with \\", "ends with \\"),
    ],
)
def test_brackets_and_backslashes_show_as_typed_and_never_break_the_screen(typed, plain):
    assert to_rich(typed).plain == plain
