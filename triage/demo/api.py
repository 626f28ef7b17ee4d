"""The JMAP request envelope of the in-memory server (RFC 8620 section 3).

Owns one POST to apiUrl: request-level checks and errors, running method calls in
order, result references ("#" arguments) and creation-id references, and the shared
pieces the method handlers build on (the /get and /set answer shapes, ifInState,
maxObjectsInSet and the generic `*/changes` handler). Which handler answers which
method is decided by the table the server passes in.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

import httpx

from triage.demo.store import CORE, MAIL, SUBMISSION, Json, MethodError, pointer

if TYPE_CHECKING:
    # Only for annotations: the server imports this module.
    from triage.demo.server import JmapServer

Answer = list[tuple[str, Json]]
Handler = Callable[["Api", Json], Answer]


def error_response(status: int, kind: str, detail: str, **extra: Any) -> httpx.Response:
    """An RFC 7807 problem document as RFC 8620 3.6.1 asks for request-level errors."""
    body = {"type": f"urn:ietf:params:jmap:error:{kind}", "status": status, "detail": detail}
    return httpx.Response(status, json={**body, **extra})


def pick(full: Json, props: Iterable[str] | None) -> Json:
    if props is None:
        return full
    out = {"id": full["id"]}
    for prop in props:
        if prop not in full:
            raise MethodError("invalidArguments", f"unknown property {prop!r}")
        out[prop] = full[prop]
    return out


class Api:
    """One POST to apiUrl: runs its method calls in order, resolving back-references."""

    def __init__(self, server: JmapServer, methods: Mapping[str, tuple[str, Handler]]) -> None:
        self.s = server
        self.methods = methods  # method name -> (capability, handler)
        self.responses: list[list[Any]] = []
        self.created: dict[str, str] = {}  # creation id -> server id, for "#ref" ids
        self.using: set[str] = set()

    def respond(self, body: bytes) -> httpx.Response:
        limits = self.s.limits
        if len(body) > limits["maxSizeRequest"]:
            return error_response(400, "limit", "request too large", limit="maxSizeRequest")
        try:
            request = json.loads(body)
        except ValueError:
            return error_response(400, "notJSON", "the request body is not JSON")
        if not _is_request(request):
            return error_response(400, "notRequest", "expected {using, methodCalls}")
        unknown = [u for u in request["using"] if u not in (CORE, MAIL, SUBMISSION)]
        if unknown:
            return error_response(400, "unknownCapability", f"unknown capability {unknown[0]}")
        if len(request["methodCalls"]) > limits["maxCallsInRequest"]:
            detail = f"more than {limits['maxCallsInRequest']} method calls"
            return error_response(400, "limit", detail, limit="maxCallsInRequest")
        self.using = set(request["using"])
        self.created = dict(request.get("createdIds") or {})
        for name, args, call_id in request["methodCalls"]:
            self._run(name, args, call_id)
        out: Json = {"methodResponses": self.responses, "sessionState": self.s.session()["state"]}
        if "createdIds" in request:
            out["createdIds"] = self.created
        return httpx.Response(200, json=out)

    def _run(self, name: str, args: Json, call_id: str) -> None:
        try:
            capability, handler = self.methods.get(name, (None, None))
            if handler is None or capability not in self.using:
                raise MethodError("unknownMethod", f"{name} (is its capability in `using`?)")
            args = self._resolve(args)
            if capability != CORE and args.get("accountId") != self.s.account_id:
                raise MethodError("accountNotFound", f"no account {args.get('accountId')!r}")
            answers = handler(self, args)
        except MethodError as exc:
            answers = [("error", exc.as_json())]
        except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
            answers = [("error", {"type": "invalidArguments", "description": repr(exc)})]
        self.responses.extend([n, a, call_id] for n, a in answers)

    def _resolve(self, args: object) -> Json:
        if not isinstance(args, dict):
            raise MethodError("invalidArguments", "arguments must be an object")
        out: Json = {}
        for key, value in args.items():
            if not key.startswith("#"):
                out[key] = value
            elif key[1:] in args:
                raise MethodError("invalidArguments", f"both {key} and {key[1:]} given")
            else:
                out[key[1:]] = self._follow(value)
        return out

    def _follow(self, ref: Any) -> Any:
        try:
            for name, args, call_id in self.responses:
                if call_id == ref["resultOf"] and name == ref["name"]:
                    return pointer(args, ref["path"])
        except (KeyError, IndexError, ValueError, TypeError):
            pass
        raise MethodError("invalidResultReference", f"cannot resolve {ref!r}")

    def real_id(self, raw: object) -> str:
        if not isinstance(raw, str):
            raise MethodError("invalidArguments", f"not an id: {raw!r}")
        return self.created.get(raw[1:], raw) if raw.startswith("#") else raw

    def get(self, name: str, args: Json, records: Mapping[str, Any],
            render: Callable[[Any], Json]) -> Answer:  # fmt: skip
        ids = args.get("ids")
        ids = list(records) if ids is None else ids
        if not isinstance(ids, list):
            raise MethodError("invalidArguments", "ids must be a list or null")
        if len(ids) > self.s.limits["maxObjectsInGet"]:
            raise MethodError(
                "requestTooLarge", f"more than {self.s.limits['maxObjectsInGet']} ids"
            )
        found, missing = [], []
        for raw in ids:
            record = records.get(self.real_id(raw))
            if record is None:
                missing.append(raw)
            else:
                found.append(render(record))
        answer = {"accountId": self.s.account_id, "state": str(self.s.state), "list": found,
                  "notFound": missing}  # fmt: skip
        return [(name, answer)]

    def set_answer(self, name: str, old: str, results: Mapping[str, Any]) -> Answer:
        # Like Cyrus: empty maps are null, not absent.
        answer: Json = {"accountId": self.s.account_id, "oldState": old}
        answer["newState"] = str(self.s.state)
        answer.update({k: (v or None) for k, v in results.items()})
        return [(name, answer)]


def _is_request(request: object) -> bool:
    if not isinstance(request, dict) or not isinstance(request.get("using"), list):
        return False
    calls = request.get("methodCalls")
    return isinstance(calls, list) and all(
        isinstance(c, list) and len(c) == 3 and isinstance(c[0], str) and isinstance(c[2], str)
        for c in calls
    )


def changes(kind: str) -> Handler:
    def handler(api: Api, args: Json) -> Answer:
        since, most = args.get("sinceState"), args.get("maxChanges")
        if not isinstance(since, str):
            raise MethodError("invalidArguments", "sinceState must be a string")
        if most is not None and (not isinstance(most, int) or most < 1):
            raise MethodError("invalidArguments", "maxChanges must be a positive integer")
        out = api.s.logs[kind].since(since, most, api.s.state)
        if kind == "Mailbox":
            out["updatedProperties"] = None
        return [(f"{kind}/changes", {"accountId": api.s.account_id, **out})]

    return handler


def check_state(api: Api, args: Json) -> None:
    wanted = args.get("ifInState")
    if wanted is not None and wanted != str(api.s.state):
        raise MethodError("stateMismatch", f"state is {api.s.state}, not {wanted}")


def too_many(api: Api, args: Json) -> None:
    count = sum(len(args.get(k) or ()) for k in ("create", "update", "destroy"))
    if count > api.s.limits["maxObjectsInSet"]:
        raise MethodError("requestTooLarge", f"more than {api.s.limits['maxObjectsInSet']} objects")
