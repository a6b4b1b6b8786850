"""The read-only REST API: stock, stores, models, open alerts, transfers and recent sales, as
JSON, with its OpenAPI document built from the same declarations the handlers use.

Each endpoint is one row of ENDPOINTS: its path, its parameters (bot/api/params.py) and the
model of its answer (bot/api/schemas.py). With API_TOKEN set, every /api request must carry it
as a bearer token. Reads go through the store's reads (bot/store/reads.py), like the slash commands.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import orjson
from aiohttp import web
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from bot import __version__
from bot.api.items import (
    alert_item,
    channel_rules,
    stock_item,
    suggested_item,
    time_of,
    transfer_item,
)
from bot.api.params import (
    ABOVE,
    AFTER,
    BELOW,
    LIMIT,
    MODEL,
    STORE,
    ApiError,
    Param,
    parse_query,
)
from bot.api.schemas import (
    AlertPage,
    ErrorBody,
    EventItem,
    EventPage,
    NameItem,
    NamePage,
    RulesPage,
    StockPage,
    TransferPage,
)
from bot.store.reads import Reads

API = "/api"
STATES = ("suggested", "accepted", "received", "expired", "cancelled", "dismissed")

Handler = Callable[["Api", dict], Awaitable[BaseModel]]


@dataclass(frozen=True)
class Endpoint:
    path: str
    summary: str
    params: tuple[Param, ...]
    answer: type[BaseModel]
    handler: Handler


class Api:
    """The /api routes, bound to the store's reads."""

    def __init__(
        self,
        reads: Reads,
        *,
        token: str | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._reads = reads
        self._token = token
        self._clock = clock

    def mount(self, app: web.Application) -> None:
        """Add the routes and the middleware that guards and explains /api requests."""
        for endpoint in ENDPOINTS:
            app.router.add_get(endpoint.path, self._serve(endpoint), allow_head=False)
        app.router.add_get(f"{API}/openapi.json", self._document, allow_head=False)
        app.middlewares.append(self._guard)

    # -- plumbing ---------------------------------------------------------------------------

    @web.middleware
    async def _guard(self, request: web.Request, handler) -> web.StreamResponse:
        if not request.path.startswith(API + "/") and request.path != API:
            return await handler(request)
        try:
            if self._token is not None:
                self._check_token(request)
            return await handler(request)
        except ApiError as error:
            headers = {"WWW-Authenticate": "Bearer"} if error.status == 401 else None
            return _json(error.body(), error.status, headers)
        except web.HTTPMethodNotAllowed as error:
            body = ApiError(405, "method_not_allowed", f"{request.method} is not allowed here")
            return _json(body.body(), 405, {"Allow": ", ".join(sorted(error.allowed_methods))})
        except web.HTTPNotFound:
            body = ApiError(404, "not_found", f"there is no {request.path}; see {API}/openapi.json")
            return _json(body.body(), 404)

    def _check_token(self, request: web.Request) -> None:
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        # aiohttp keeps bytes that are not UTF-8 as surrogates: encode them back, not fail.
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            given.strip().encode("utf-8", "surrogateescape"), self._token.encode()
        ):
            raise ApiError(401, "unauthorized", "send the API token: Authorization: Bearer <token>")

    def _serve(self, endpoint: Endpoint):
        async def serve(request: web.Request) -> web.Response:
            keys = [key for key, _ in request.query.items()]  # repeats included
            args = parse_query(request.query, endpoint.params, keys)
            answer = await endpoint.handler(self, args)
            return _json(answer.model_dump(mode="json"), 200)

        return serve

    async def _document(self, _request: web.Request) -> web.Response:
        return _json(self.openapi(), 200)

    # -- endpoints --------------------------------------------------------------------------

    async def stock(self, args: dict) -> StockPage:
        levels, after = await self._reads.stock_page(**args)
        now = self._clock()
        return StockPage(items=[stock_item(level, now) for level in levels], next=after)

    async def stores(self, args: dict) -> NamePage:
        return await self._names("stores", args)

    async def models(self, args: dict) -> NamePage:
        return await self._names("models", args)

    async def _names(self, table: str, args: dict) -> NamePage:
        found, after = await self._reads.names_page(table, **args)
        items = [NameItem(name=name, first_seen_at=time_of(at)) for name, at in found]
        return NamePage(items=items, next=after)

    async def alerts(self, args: dict) -> AlertPage:
        found, after = await self._reads.alerts_page(**args)
        return AlertPage(items=[alert_item(i) for i in found], next=after)

    async def transfers(self, args: dict) -> TransferPage:
        state = args.pop("state")
        if state == "suggested":
            suggested, after = await self._reads.suggestions_page(**args)
            items = [suggested_item(s) for s in suggested]
        else:
            moved, after = await self._reads.transfers_page(status=state, **args)
            items = [transfer_item(t) for t in moved]
        return TransferPage(items=items, next=after)

    async def events(self, args: dict) -> EventPage:
        found, before = await self._reads.events_page(**args)
        items = [
            EventItem(
                id=e.id,
                at=time_of(e.at),
                feed=e.feed,
                store=e.store,
                model=e.model,
                inventory=e.inventory,
            )
            for e in found
        ]
        return EventPage(items=items, next=before)

    async def rules(self, args: dict) -> RulesPage:
        items = [
            channel_rules(channel, await self._reads.mutes(channel.id))
            for channel in await self._reads.channels(args["channel"])
        ]
        return RulesPage(items=items, next=None)

    # -- the document -----------------------------------------------------------------------

    def openapi(self) -> dict:
        """The OpenAPI 3.1 document of the API as this server runs it."""
        answers = sorted({e.answer for e in ENDPOINTS} | {ErrorBody}, key=lambda m: m.__name__)
        refs, schemas = models_json_schema(
            [(model, "serialization") for model in answers],
            ref_template="#/components/schemas/{model}",
        )
        ref = {model: refs[(model, "serialization")] for model in answers}
        error = {
            "description": "",
            "content": {"application/json": {"schema": ref[ErrorBody]}},
        }
        paths = {}
        for e in ENDPOINTS:
            responses = {
                "200": {
                    "description": e.summary,
                    "content": {"application/json": {"schema": ref[e.answer]}},
                },
                "400": {**error, "description": "A bad or unknown query parameter."},
            }
            if self._token is not None:
                responses["401"] = {**error, "description": "No API token, or a wrong one."}
            paths[e.path] = {
                "get": {
                    "operationId": e.handler.__name__,
                    "summary": e.summary,
                    "parameters": [
                        {
                            "name": p.name,
                            "in": "query",
                            "required": False,
                            "description": p.description,
                            "schema": p.schema(),
                        }
                        for p in e.params
                    ],
                    "responses": responses,
                }
            }
        document = {
            "openapi": "3.1.0",
            "info": {
                "title": "Inventory Bot API",
                "version": __version__,
                "description": "Read-only: the stock, alerts, transfers and sales the bot "
                "has stored. Lists are paged: pass a page's `next` as `after` (for /api/events, "
                "`before`) to get the next one.",
            },
            "paths": paths,
            "components": {"schemas": schemas.get("$defs", {})},
        }
        if self._token is not None:
            document["components"]["securitySchemes"] = {
                "token": {"type": "http", "scheme": "bearer", "description": "API_TOKEN"}
            }
            document["security"] = [{"token": []}]
        return document


ENDPOINTS = (
    Endpoint(
        f"{API}/stock",
        "Current stock per store and model, with the sales pace",
        (STORE, MODEL, BELOW, ABOVE, LIMIT, AFTER),
        StockPage,
        Api.stock,
    ),
    Endpoint(
        f"{API}/stores", "The stores the feed has named", (LIMIT, AFTER), NamePage, Api.stores
    ),
    Endpoint(
        f"{API}/models", "The models the feed has named", (LIMIT, AFTER), NamePage, Api.models
    ),
    Endpoint(
        f"{API}/alerts",
        "Open alerts, in every channel",
        (
            Param("channel", "name", "Only this Slack channel (its ID)."),
            STORE,
            MODEL,
            LIMIT,
            AFTER,
        ),
        AlertPage,
        Api.alerts,
    ),
    Endpoint(
        f"{API}/transfers",
        "Transfer suggestions, or transfers in one state",
        (
            Param(
                "state",
                "choice",
                "suggested: the planner's current suggestions; the others: transfers "
                "someone accepted (then received, expired, cancelled) or dismissed.",
                choices=STATES,
                default="suggested",
            ),
            Param("store", "name", "Only transfers to or from this store."),
            MODEL,
            LIMIT,
            AFTER,
        ),
        TransferPage,
        Api.transfers,
    ),
    Endpoint(
        f"{API}/events",
        "Recent sales as received, newest first",
        (
            STORE,
            MODEL,
            Param("since", "time", "Only sales received at or after this time."),
            LIMIT,
            Param("before", "cursor", "The `next` value of the previous page."),
        ),
        EventPage,
        Api.events,
    ),
    Endpoint(
        f"{API}/rules",
        "Each channel's alert rules, what it watches, its quiet hours, owners and mutes "
        "(every channel in one page)",
        (Param("channel", "name", "Only this Slack channel (its ID)."),),
        RulesPage,
        Api.rules,
    ),
)


def _json(body: object, status: int, headers: dict | None = None) -> web.Response:
    return web.Response(
        body=orjson.dumps(body), status=status, content_type="application/json", headers=headers
    )
