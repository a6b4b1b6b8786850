"""`inventory-bot demo` in a pseudo-terminal, as a newcomer runs it: an alert shows up, a typed
command is answered, `q` quits cleanly."""

import asyncio
import fcntl
import os
import pty
import re
import struct
import subprocess
import termios

from tests.helpers import BOT

ANSI = re.compile(rb"\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][A-Z0-9]|\x1b[=>]")


class Terminal:
    """A program on a pseudo-terminal of 110 x 40; what it shows, without escape codes."""

    def __init__(self, argv: list[str], env: dict[str, str], cwd) -> None:
        self.master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 110, 0, 0))
        self.process = subprocess.Popen(
            argv, stdin=slave, stdout=slave, stderr=slave, env=env, cwd=cwd, close_fds=True
        )
        os.close(slave)
        self.shown = b""
        self._more = asyncio.Event()  # set when something more was shown
        asyncio.get_running_loop().add_reader(self.master, self._read)

    def _read(self) -> None:
        try:
            data = os.read(self.master, 65536)
        except OSError:  # the program closed its side
            data = b""
        if not data:
            asyncio.get_running_loop().remove_reader(self.master)
        self.shown += ANSI.sub(b"", data)
        self._more.set()

    async def wait_for(self, text: str, within: float = 30) -> None:
        wanted = text.encode()
        async with asyncio.timeout(within):
            while wanted not in self.shown:
                self._more.clear()
                await self._more.wait()

    def type(self, text: str) -> None:
        os.write(self.master, text.encode())

    def close(self) -> int:
        asyncio.get_running_loop().remove_reader(self.master)
        code = self.process.wait(20)
        os.close(self.master)
        return code


async def test_the_demo_shows_an_alert_and_answers_a_typed_command(tmp_path):
    env = {
        "PATH": os.environ["PATH"],
        "TERM": "xterm-256color",
        "DATABASE_PATH": str(tmp_path / "demo.db"),
        "HTTP_PORT": "0",
    }
    terminal = Terminal([BOT, "demo", "--seed", "1"], env, tmp_path)
    try:
        await terminal.wait_for("Out of stock:")  # an alert, as Slack would show it
        await terminal.wait_for("Lowest stock")
        terminal.type("/stock maine\r")
        await terminal.wait_for("Stock at ALDO Maine Mall")
        await terminal.wait_for("last sale")  # a row of the answer
        terminal.type("q\r")
        await terminal.wait_for("Stopped. The data is in")
    finally:
        code = terminal.close()
    assert code == 0
    assert (tmp_path / "demo.log").exists()  # the logs went to a file, not over the screen
