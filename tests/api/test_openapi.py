"""The OpenAPI document is valid, and the server does what it says: schemathesis generates
requests from it, valid and invalid, and checks every answer against it."""

import asyncio
import sys
from pathlib import Path

from openapi_spec_validator import validate

from bot.core.alerting.actions import AcceptTransfer
from tests.api.conftest import TOKEN

SCHEMATHESIS = str(Path(sys.executable).parent / "schemathesis")


async def test_the_document_is_valid_openapi_and_names_every_endpoint(api):
    _, client, _ = await api()
    status, document, _ = await client.get("/api/openapi.json")

    assert status == 200
    validate(document)
    assert sorted(document["paths"]) == [
        "/api/alerts",
        "/api/events",
        "/api/models",
        "/api/rules",
        "/api/stock",
        "/api/stores",
        "/api/transfers",
    ]
    assert "security" not in document  # no API_TOKEN: nothing to send


async def test_schemathesis_finds_no_failure_against_the_running_server(api, tmp_path):
    bot, client, _ = await api(token=TOKEN)
    await bot.apply(AcceptTransfer(1, "U1"))  # a transfer too
    process = await asyncio.create_subprocess_exec(
        SCHEMATHESIS,
        "run",
        f"{client.base}/api/openapi.json",
        "--header",
        f"Authorization: Bearer {TOKEN}",
        "--checks",
        "all",
        "--max-examples",
        "25",
        "--workers",
        "1",
        "--seed",
        "1",
        "--generation-database",
        "none",
        "--no-color",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        cwd=tmp_path,
    )
    output, _ = await process.communicate()
    report = output.decode()
    assert process.returncode == 0, report
    assert "No issues found" in report
