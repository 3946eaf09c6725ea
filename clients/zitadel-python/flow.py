"""The eight-step ZITADEL session flow through ZITADEL's Python SDK (zitadel-client).

scripts/clients-zitadel.sh starts sessiond and runs this with SESSIOND_URL
(http://127.0.0.1:PORT) and SESSIOND_ADMIN_KEY set. The SDK posts Connect JSON
(unary, application/json) to /zitadel.session.<version>.SessionService/<Method>;
it is pointed at the plain-HTTP base URL with Zitadel.with_access_token (a
personal access token, sent as `Authorization: Bearer`). The flow runs once
through `zitadel.sessions` (v2) and once through `zitadel.beta_sessions` (v2beta).

Every step prints one PASS/FAIL line; the exit code is 1 if any step failed.
"""

from __future__ import annotations

import base64
import datetime
import json
import os
import secrets
import sys
import traceback
import urllib.request
from typing import Any, Callable

import warnings

# zitadel-client imports authlib.jose, which warns (filter "always") that it is
# deprecated; that is the SDK's business, not this flow's.
from authlib.deprecate import AuthlibDeprecationWarning

warnings.filterwarnings("ignore", category=AuthlibDeprecationWarning)

import zitadel_client.models as m  # noqa: E402
from zitadel_client import Zitadel  # noqa: E402
from zitadel_client.exceptions import ApiError  # noqa: E402
from zitadel_client.version import Version  # noqa: E402

BASE = os.environ["SESSIOND_URL"]
ADMIN_KEY = os.environ["SESSIOND_ADMIN_KEY"]

# Connect error codes, with the HTTP status the Connect protocol maps each to.
INVALID_ARGUMENT = ("invalid_argument", 400)
NOT_FOUND = ("not_found", 404)
UNAUTHENTICATED = ("unauthenticated", 401)


def b64(text: str) -> str:
    """proto3 JSON writes `bytes` as standard base64."""
    return base64.b64encode(text.encode()).decode()


def unb64(value: Any) -> str:
    assert isinstance(value, str), f"metadata value is not a base64 string: {value!r}"
    return base64.b64decode(value, validate=True).decode()


def create_user(login_name: str, password: str) -> str:
    """A user of its own, through sessiond's admin REST API (not a ZITADEL API)."""
    req = urllib.request.Request(
        f"{BASE}/admin/v1/users",
        method="POST",
        data=json.dumps({"loginName": login_name, "password": password, "displayName": "Flow"}).encode(),
        headers={"content-type": "application/json", "authorization": f"Bearer {ADMIN_KEY}"},
    )
    with urllib.request.urlopen(req) as res:
        body = json.loads(res.read())
    assert body.get("userId"), body
    return body["userId"]


class Api:
    """The SDK's service object for one version, and that version's models."""

    def __init__(self, version: str, token: str) -> None:
        self.version = version
        self.client = Zitadel.with_access_token(BASE, token)
        self.svc = self.client.sessions if version == "v2" else self.client.beta_sessions
        self.prefix = "SessionService" if version == "v2" else "BetaSessionService"

    def model(self, name: str) -> Any:
        return getattr(m, self.prefix + name)

    def checks(self, login_name: str, password: str | None) -> Any:
        checks = self.model("Checks")(user=self.model("CheckUser")(login_name=login_name))
        if password is not None:
            checks.password = self.model("CheckPassword")(password=password)
        return checks

    def create(self, login_name: str, password: str | None, metadata: dict[str, str]) -> Any:
        req = self.model("CreateSessionRequest")(
            checks=self.checks(login_name, password),
            metadata={k: b64(v) for k, v in metadata.items()},
            lifetime="300s",
        )
        res = self.svc.create_session(req)
        assert isinstance(res, self.model("CreateSessionResponse")), type(res)
        return res

    def get(self, session_id: str, token: str) -> Any:
        res = self.svc.get_session(self.model("GetSessionRequest")(session_id=session_id, session_token=token))
        assert isinstance(res, self.model("GetSessionResponse")), type(res)
        assert res.session is not None, res
        return res.session

    def set(self, session_id: str, token: str, metadata: dict[str, str]) -> Any:
        req = self.model("SetSessionRequest")(
            session_id=session_id, session_token=token, metadata={k: b64(v) for k, v in metadata.items()}
        )
        res = self.svc.set_session(req)
        assert isinstance(res, self.model("SetSessionResponse")), type(res)
        return res

    def list(self, ids: list[str] | None = None, user_id: str | None = None, limit: int | None = None, offset: int = 0) -> tuple[int, list[str]]:
        queries = []
        if ids is not None:
            queries.append(self.model("SearchQuery")(ids_query=self.model("IDsQuery")(ids=ids)))
        if user_id is not None:
            queries.append(self.model("SearchQuery")(user_id_query=self.model("UserIDQuery")(id=user_id)))
        query = None if limit is None else self.model("ListQuery")(limit=limit, offset=offset)
        res = self.svc.list_sessions(self.model("ListSessionsRequest")(query=query, queries=queries))
        assert isinstance(res, self.model("ListSessionsResponse")), type(res)
        assert res.details is not None and res.details.total_result is not None, f"no details.totalResult: {res}"
        # int64 in proto3 JSON is a decimal string.
        assert isinstance(res.details.total_result, str), f"totalResult is not a string: {res.details.total_result!r}"
        return int(res.details.total_result), [s.id for s in (res.sessions or [])]

    def delete(self, session_id: str, token: str) -> Any:
        res = self.svc.delete_session(self.model("DeleteSessionRequest")(session_id=session_id, session_token=token))
        assert isinstance(res, self.model("DeleteSessionResponse")), type(res)
        return res


def expect_error(fn: Callable[[], Any], want: tuple[str, int], what: str) -> None:
    try:
        value = fn()
    except ApiError as e:
        body = e.response_body
        code = body.get("code") if isinstance(body, dict) else None
        assert (code, e.code) == want, f"{what}: got HTTP {e.code} {body!r}, want {want[1]} with code {want[0]!r}"
        assert isinstance(body.get("message"), str), f"{what}: error without a message: {body!r}"
        return
    raise AssertionError(f"{what}: succeeded ({value!r}), want {want}")


def run(version: str) -> int:
    tag = f"zitadel-client(python)/connect-json/{version}"
    rnd = secrets.token_hex(4)
    login = f"zitadel-py-{version}-{rnd}@example.com"
    password = f"pw-{rnd}-correct horse"
    st: dict[str, Any] = {}
    failed = 0

    def step(n: int, title: str, fn: Callable[[], None]) -> None:
        nonlocal failed
        try:
            fn()
            print(f"PASS {tag} {n}: {title}", flush=True)
        except Exception as e:  # noqa: BLE001 - every failure is reported, then the next step runs
            failed += 1
            extra = f"response body: {e.response_body!r}\n" if isinstance(e, ApiError) else ""
            print(f"FAIL {tag} {n}: {title}:\n{traceback.format_exc()}{extra}", flush=True)

    try:
        st["user_id"] = create_user(login, password)
        api = Api(version, ADMIN_KEY)
    except Exception:  # noqa: BLE001
        print(f"FAIL {tag} 0: setup:\n{traceback.format_exc()}", flush=True)
        return 1

    def s1() -> None:
        res = api.create(login, password, {"k": "v1"})
        assert res.session_id and res.session_token, res
        st["sid"], st["tok"] = res.session_id, res.session_token

    def s2() -> None:
        before = datetime.datetime.now(datetime.timezone.utc)
        s = api.get(st["sid"], st["tok"])
        assert s.id == st["sid"], s
        assert s.factors and s.factors.user, f"no factors.user: {s}"
        assert s.factors.user.login_name == login, s.factors.user
        assert s.factors.user.id == st["user_id"], s.factors.user
        assert s.factors.password and s.factors.password.verified_at, f"no factors.password.verifiedAt: {s.factors}"
        assert sorted(s.metadata or {}) == ["k"], s.metadata
        assert unb64(s.metadata["k"]) == "v1", s.metadata
        assert isinstance(s.expiration_date, datetime.datetime), f"expirationDate not set: {s.expiration_date!r}"
        left = (s.expiration_date - before).total_seconds()
        assert 240 < left <= 305, f"expirationDate is {left}s away, want about 300s"

    def s3() -> None:
        res = api.set(st["sid"], st["tok"], {"k2": "v2"})
        assert res.session_token, res
        assert res.session_token != st["tok"], "SetSession returned the old token"
        st["tok"] = res.session_token
        s = api.get(st["sid"], st["tok"])
        assert sorted(s.metadata or {}) == ["k", "k2"], s.metadata
        assert (unb64(s.metadata["k"]), unb64(s.metadata["k2"])) == ("v1", "v2"), s.metadata

    def s4() -> None:
        res = api.create(login, password, {"k": "second"})
        st["sid2"], st["tok2"] = res.session_id, res.session_token
        both = sorted([st["sid"], st["sid2"]])
        total, ids = api.list(ids=both)
        assert (total, sorted(ids)) == (2, both), (total, ids)
        t0, p0 = api.list(ids=both, limit=1, offset=0)
        t1, p1 = api.list(ids=both, limit=1, offset=1)
        assert (t0, t1, len(p0), len(p1)) == (2, 2, 1, 1), (t0, p0, t1, p1)
        assert sorted(p0 + p1) == both, (p0, p1)
        total, ids = api.list(user_id=st["user_id"])
        assert (total, sorted(ids)) == (2, both), (total, ids)
        t0, p0 = api.list(user_id=st["user_id"], limit=1, offset=0)
        t1, p1 = api.list(user_id=st["user_id"], limit=1, offset=1)
        assert (t0, t1, len(p0), len(p1)) == (2, 2, 1, 1), (t0, p0, t1, p1)
        assert sorted(p0 + p1) == both, (p0, p1)

    def s5() -> None:
        api.delete(st["sid"], st["tok"])
        expect_error(lambda: api.get(st["sid"], st["tok"]), NOT_FOUND, "get after delete")
        left = api.list(user_id=st["user_id"])
        assert left == (1, [st["sid2"]]), f"sessions left after delete: {left}, want (1, [{st['sid2']!r}])"

    def s6() -> None:
        before = api.list(user_id=st["user_id"])
        expect_error(lambda: api.create(login, password + "-wrong", {}), INVALID_ARGUMENT, "create with wrong password")
        after = api.list(user_id=st["user_id"])
        assert after == before, f"sessions changed: {before} -> {after}"

    def s7() -> None:
        expect_error(lambda: api.create(f"nobody-{rnd}@example.com", password, {}), NOT_FOUND, "create for unknown loginName")

    def s8() -> None:
        bad = Api(version, f"not-a-key-{rnd}")
        expect_error(lambda: bad.list(user_id=st["user_id"]), UNAUTHENTICATED, "ListSessions with a bad token")
        expect_error(lambda: bad.get(st["sid2"], st["tok2"]), UNAUTHENTICATED, "GetSession with a bad token")
        expect_error(lambda: bad.create(login, password, {}), UNAUTHENTICATED, "CreateSession with a bad token")

    step(1, "create session (user + password checks, metadata, lifetime 300s)", s1)
    step(2, "get with sessionToken: factors.user, metadata, expirationDate", s2)
    step(3, "set: new metadata key, new token, metadata merged", s3)
    step(4, "list by idsQuery and userIdQuery, paging limit 1 offset 0/1", s4)
    step(5, "delete, then get -> not_found", s5)
    step(6, "create with a wrong password -> invalid_argument, nothing created", s6)
    step(7, "create for an unknown login name -> not_found", s7)
    step(8, "bad bearer token -> unauthenticated", s8)
    return failed


def main() -> int:
    print(f"== zitadel-client {Version.VERSION} against {BASE}", flush=True)
    results = {v: run(v) for v in ("v2", "v2beta")}
    bad = [v for v, f in results.items() if f]
    print(f"zitadel-python: {len(results) - len(bad)} passed, {len(bad)} failed", flush=True)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
