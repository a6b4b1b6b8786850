"""The container files: the Dockerfile passes hadolint, compose.yaml wires the two images
together, and the commands they run work. (No Docker daemon here: the images are not built
in the tests; the README says how to.)"""

import asyncio
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import dockerfile
import yaml

from bot.store.postgres.url import check_url
from tests.helpers import BOT, BotProcess, eventually, free_port

ROOT = Path(__file__).resolve().parent.parent
HADOLINT = str(Path(sys.executable).parent / "hadolint")


def stages() -> dict[str, tuple[str, list[dockerfile.Command]]]:
    """The Dockerfile's stages in order, as Docker's own parser (buildkit's, through the
    `dockerfile` package) reads them: name -> (the image it starts from, its instructions).
    Comments and line continuations are the parser's business, not a substring's."""
    found: dict[str, tuple[str, list[dockerfile.Command]]] = {}
    for command in dockerfile.parse_file(str(ROOT / "Dockerfile")):
        if command.cmd.upper() == "FROM":
            image, *alias = command.value
            name = alias[1] if len(alias) == 2 and alias[0].upper() == "AS" else str(len(found))
            found[name] = (image, [])
        else:
            found[next(reversed(found))][1].append(command)
    return found


def instructions(stage: str) -> list[dockerfile.Command]:
    """A stage's instructions, those of the stages it is built on first."""
    all_stages = stages()
    image, own = all_stages[stage]
    return (instructions(image) if image in all_stages else []) + own


def last(stage: str, instruction: str) -> dockerfile.Command:
    """The instruction in force in `stage` (the last one given, inherited ones included)."""
    found = [c for c in instructions(stage) if c.cmd.upper() == instruction]
    assert found, f"no {instruction} in the {stage} stage"
    return found[-1]


def stage_env(stage: str) -> dict[str, str]:
    """The environment the stage's ENV instructions set (inherited ones included)."""
    env = {}
    for c in instructions(stage):
        if c.cmd.upper() == "ENV":  # the parser gives (key, value, key, value, ...)
            env.update(zip(c.value[::2], c.value[1::2], strict=True))
    return env


def stage_cmd(stage: str) -> list[str]:
    cmd = last(stage, "CMD")
    assert cmd.json, f"{stage}: CMD in exec form, so signals reach the process: {cmd.original}"
    return list(cmd.value)


def test_the_dockerfile_passes_hadolint():
    result = subprocess.run(
        [HADOLINT, str(ROOT / "Dockerfile")], check=False, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_bot_image_runs_as_a_user_keeps_its_database_on_a_volume_and_checks_health():
    assert list(stages())[-1] == "bot"  # what `docker build .` builds
    for stage in ("bot", "feed"):
        assert last(stage, "USER").value == ("10001",)
    volumes = [v for c in instructions("bot") if c.cmd.upper() == "VOLUME" for v in c.value]
    assert "/data" in volumes
    assert stage_env("bot")["DATABASE_PATH"] == "/data/inventory.db"
    health = last("bot", "HEALTHCHECK")
    assert health.json
    assert health.value == ("CMD", "inventory-bot", "health")
    assert stage_cmd("bot") == ["inventory-bot", "run"]


def test_compose_runs_the_bot_beside_the_feed_it_reads():
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    feed, bot = compose["services"]["feed"], compose["services"]["bot"]
    assert feed["build"]["target"] == "feed"
    assert bot["build"]["target"] == "bot"
    port = next(a for a in stage_cmd("feed") if a.startswith("--port=")).split("=")[1]
    assert bot["environment"]["FEED_URLS"] == f"ws://feed:{port}/"
    assert bot["depends_on"] == ["feed"]
    assert any(v.endswith(":/data") for v in bot["volumes"])


def test_compose_has_a_profile_running_postgresql_beside_the_bot():
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    services = compose["services"]
    postgres, bot = services["postgres"], services["bot-pg"]
    assert "postgres" in postgres["profiles"]
    assert "postgres" in bot["profiles"]
    assert "profiles" not in services["bot"]  # `docker compose up` stays on SQLite
    url = bot["environment"]["DATABASE_URL"]
    check_url(url)
    parts = urlsplit(url.replace("${POSTGRES_PASSWORD:-inventory-trial}", "pw"))
    env = postgres["environment"]
    assert (parts.hostname, parts.port) == ("postgres", 5432)
    assert (parts.username, parts.path) == (env["POSTGRES_USER"], f"/{env['POSTGRES_DB']}")
    assert "${POSTGRES_PASSWORD:-inventory-trial}" in url
    assert env["POSTGRES_PASSWORD"] == "${POSTGRES_PASSWORD:-inventory-trial}"
    assert bot["depends_on"]["postgres"] == {"condition": "service_healthy"}
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])
    volume = postgres["volumes"][0].split(":")
    assert volume[1] == "/var/lib/postgresql/data"
    assert volume[0] in compose["volumes"]
    assert bot["build"] == services["bot"]["build"]
    assert bot["environment"]["FEED_URLS"] == services["bot"]["environment"]["FEED_URLS"]
    assert bot["ports"] != services["bot"]["ports"]


def test_compose_has_a_profile_running_two_bots_on_one_postgresql():
    services = yaml.safe_load((ROOT / "compose.yaml").read_text())["services"]
    running = [
        name for name, service in services.items() if "replicas" in service.get("profiles", [])
    ]
    bots = [services[name] for name in running if name != "postgres"]
    assert sorted(running) == ["bot-pg", "bot-pg-2", "postgres"]
    for key in ("build", "environment", "depends_on"):
        assert bots[0][key] == bots[1][key], key  # the same bot, on the same database and feed
    assert bots[0]["ports"] != bots[1]["ports"]
    # A leader that loses the lead exits 1; only a restart brings it back as the standby.
    assert all(bot["restart"] in ("always", "unless-stopped", "on-failure") for bot in bots)


def test_the_feed_image_command_prints_sales_as_websocketd_wants_them():
    command = stage_cmd("feed")
    generator = command[command.index("inventory-bot") :]
    argv = [BOT, *generator[1:], "--count=3"]
    lines = subprocess.run(argv, check=True, capture_output=True, text=True, timeout=30).stdout
    lines = lines.splitlines()
    assert len(lines) == 3
    assert all(set(yaml.safe_load(line)) == {"store", "model", "inventory"} for line in lines)


async def health_command(port: int) -> int:
    """`inventory-bot health`'s exit code, as the container's HEALTHCHECK runs it."""
    process = await asyncio.create_subprocess_exec(
        BOT, "health", env={"HTTP_PORT": str(port)}, stderr=asyncio.subprocess.DEVNULL
    )
    return await process.wait()


async def test_the_health_command_says_whether_the_bot_answers(tmp_path):
    port = free_port()
    assert await health_command(port) == 1  # nothing listens yet
    bot = BotProcess(tmp_path, HTTP_PORT=str(port), FEED_URLS="ws://127.0.0.1:9/")
    try:
        await eventually(
            lambda: _passes(port), what="inventory-bot health to pass once the bot is up"
        )
    finally:
        assert bot.terminate() == 0


async def _passes(port: int) -> bool:
    return await health_command(port) == 0


def test_compose_opens_the_api_without_a_token_only_on_this_machines_loopback():
    bot = yaml.safe_load((ROOT / "compose.yaml").read_text())["services"]["bot"]
    # The image alone listens beyond loopback, so it refuses to start without a token.
    assert stage_env("bot")["HTTP_HOST"] == "0.0.0.0"
    assert bot["environment"]["API_PUBLIC"] == "true"
    assert bot["ports"]
    assert all(port.startswith("127.0.0.1:") for port in bot["ports"])
