"""End-to-end flow through the Python clients generated from openapi/.

scripts/clients-python.sh generates one package per document into
clients/python/generated/, starts the server, and runs this with
SESSIOND_BASE_URL and SESSIOND_ADMIN_KEY set. Every call goes through the
generated clients, unmodified; every step asserts the status code and that
`parsed` is the generated model the document names for it.
"""

from __future__ import annotations

import base64
import datetime
import os
import secrets
import sys
import traceback
from typing import Any

import admin_v1
import oam_session_v1 as oam
import zitadel_session_v2alpha as zitadel
from admin_v1.api.keys import (
    admin_service_create_key,
    admin_service_list_keys,
    admin_service_revoke_key,
)
from admin_v1.api.users import (
    admin_service_create_user,
    admin_service_delete_user,
    admin_service_get_user,
)
from admin_v1.models import (
    AdminError,
    AdminErrorCode,
    ApiKeyList,
    CreateKeyRequest,
    CreateKeyResponse,
    CreateUserRequest,
    CreateUserResponse,
    PermissionName,
    User,
    UserStateName,
)
from oam_session_v1.api.session_management import (
    oam_create_session,
    oam_delete_sessions,
    oam_get_session,
    oam_search_sessions,
)
from oam_session_v1.models import (
    Error,
    ErrorCode,
    NameValueAttribute,
    SessionData,
    SessionDataUserAttributes,
    SessionResults,
    SessionSearchQuery,
    SessionSearchQueryUserAttributes,
)
from zitadel_session_v2alpha.api.session_service import (
    session_service_create_session,
    session_service_delete_session,
    session_service_get_session,
    session_service_list_sessions,
    session_service_list_sessions_legacy,
    session_service_set_session,
)
from zitadel_session_v2alpha.models import (
    RpcStatus,
    SessionServiceSetSessionBody,
    SessionServiceSetSessionBodyMetadata,
    V2AlphaCheckPassword,
    V2AlphaChecks,
    V2AlphaCheckUserById,
    V2AlphaCheckUserByLoginName,
    V2AlphaCreateSessionRequest,
    V2AlphaCreateSessionRequestMetadata,
    V2AlphaCreateSessionResponse,
    V2AlphaDeleteSessionResponse,
    V2AlphaGetSessionResponse,
    V2AlphaIDsQuery,
    V2AlphaListQuery,
    V2AlphaListSessionsRequest,
    V2AlphaListSessionsResponse,
    V2AlphaSearchQuery,
    V2AlphaSetSessionResponse,
)

BASE_URL = os.environ["SESSIOND_BASE_URL"]
ADMIN_KEY = os.environ["SESSIOND_ADMIN_KEY"]
ERROR_DETAIL_TYPE = "type.googleapis.com/zitadel.v1.ErrorDetail"
PASSWORD = "correct horse battery staple"

passed = 0


def step(name: str):
    """Runs a flow step; counts it, or reports where it failed and stops."""

    def run(fn):
        global passed
        print(f"-- {name}", flush=True)
        fn()
        passed += 1
        return fn

    return run


def expect(response: Any, status: int, model: type) -> Any:
    assert response.status_code == status, (
        f"expected {status}, got {int(response.status_code)}: {response.content!r}"
    )
    assert isinstance(response.parsed, model), (
        f"expected a {model.__name__}, got {type(response.parsed).__name__}: {response.content!r}"
    )
    return response.parsed


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def is_utc(value: Any) -> bool:
    return isinstance(
        value, datetime.datetime
    ) and value.utcoffset() == datetime.timedelta(0)


def rpc_error(response: Any, status: int, code: int) -> RpcStatus:
    err = expect(response, status, RpcStatus)
    assert err.code == code, err
    assert err.message, err
    return err


# Each client class is the generated one of its package; they are distinct.
admin = admin_v1.AuthenticatedClient(
    base_url=BASE_URL, token=ADMIN_KEY, raise_on_unexpected_status=True
)
suffix = secrets.token_hex(4)
login = f"alice-{suffix}@example.com"
state: dict[str, Any] = {}


def main() -> None:
    @step("admin: create a user")
    def _():
        body = CreateUserRequest(
            login_name=login, password=PASSWORD, display_name="Alice"
        )
        created = expect(
            admin_service_create_user.sync_detailed(client=admin, body=body),
            201,
            CreateUserResponse,
        )
        assert created.user_id
        state["user_id"] = created.user_id

        user = expect(
            admin_service_get_user.sync_detailed(created.user_id, client=admin),
            200,
            User,
        )
        assert (user.user_id, user.login_name, user.display_name) == (
            created.user_id,
            login,
            "Alice",
        ), user
        assert user.state is UserStateName.ACTIVE and user.failed_attempts == 0, user
        assert is_utc(user.created_at) and is_utc(user.changed_at), user

    @step("admin: create a limited API key")
    def _():
        perms = [
            PermissionName.SESSION_READ,
            PermissionName.SESSION_WRITE,
            PermissionName.SESSION_DELETE,
        ]
        body = CreateKeyRequest(name=f"python-client-{suffix}", permissions=perms)
        key = expect(
            admin_service_create_key.sync_detailed(client=admin, body=body),
            201,
            CreateKeyResponse,
        )
        assert key.key_id and key.secret, key
        state["key_id"], state["secret"] = key.key_id, key.secret

        keys = expect(
            admin_service_list_keys.sync_detailed(client=admin), 200, ApiKeyList
        )
        mine = [k for k in keys.keys if k.key_id == key.key_id]
        assert len(mine) == 1, keys
        assert set(mine[0].permissions) == set(perms), mine[0]
        assert is_utc(mine[0].created_at), mine[0]

    @step(
        "admin: documented errors (404 unknown user, 409 login name taken, 403 limited key)"
    )
    def _():
        err = expect(
            admin_service_get_user.sync_detailed("no-such-user", client=admin),
            404,
            AdminError,
        )
        assert err.code is AdminErrorCode.USER_NOT_FOUND and err.message, err

        body = CreateUserRequest(login_name=login.upper(), password=PASSWORD)
        err = expect(
            admin_service_create_user.sync_detailed(client=admin, body=body),
            409,
            AdminError,
        )
        assert err.code is AdminErrorCode.LOGIN_NAME_TAKEN and err.message, err

        limited = admin_v1.AuthenticatedClient(base_url=BASE_URL, token=state["secret"])
        err = expect(
            admin_service_get_user.sync_detailed(state["user_id"], client=limited),
            403,
            AdminError,
        )
        assert err.code is AdminErrorCode.PERMISSION_DENIED, err

    # ZITADEL, Bearer with the limited key.
    zc = zitadel.AuthenticatedClient(
        base_url=BASE_URL, token=state["secret"], raise_on_unexpected_status=True
    )

    @step("zitadel: create a session (loginName + password checks, metadata)")
    def _():
        metadata = V2AlphaCreateSessionRequestMetadata.from_dict(
            {"device": b64("laptop")}
        )
        body = V2AlphaCreateSessionRequest(
            checks=V2AlphaChecks(
                user=V2AlphaCheckUserByLoginName(login_name=login),
                password=V2AlphaCheckPassword(password=PASSWORD),
            ),
            metadata=metadata,
        )
        created = expect(
            session_service_create_session.sync_detailed(client=zc, body=body),
            201,
            V2AlphaCreateSessionResponse,
        )
        assert created.session_id and created.session_token, created
        assert created.details.sequence == "1" and is_utc(
            created.details.change_date
        ), created
        state["sid"], state["token"] = created.session_id, created.session_token

    @step("zitadel: get it with its token")
    def _():
        got = expect(
            session_service_get_session.sync_detailed(
                state["sid"], client=zc, session_token=state["token"]
            ),
            200,
            V2AlphaGetSessionResponse,
        )
        s = got.session
        assert s.id == state["sid"] and s.sequence == "1", s
        assert is_utc(s.creation_date) and is_utc(s.change_date), s
        user = s.factors.user
        assert (user.id, user.login_name, user.display_name) == (
            state["user_id"],
            login,
            "Alice",
        ), user
        assert is_utc(user.verified_at) and is_utc(s.factors.password.verified_at), (
            s.factors
        )
        assert s.metadata.to_dict() == {"device": b64("laptop")}, s.metadata

    @step("zitadel: update it (new metadata, new token; the old token is refused)")
    def _():
        old = state["token"]
        body = SessionServiceSetSessionBody(
            session_token=old,
            metadata=SessionServiceSetSessionBodyMetadata.from_dict(
                {"device": b64("phone")}
            ),
        )
        updated = expect(
            session_service_set_session.sync_detailed(
                state["sid"], client=zc, body=body
            ),
            200,
            V2AlphaSetSessionResponse,
        )
        assert updated.session_token and updated.session_token != old, updated
        assert updated.details.sequence == "2", updated
        state["token"] = updated.session_token

        err = rpc_error(
            session_service_get_session.sync_detailed(
                state["sid"], client=zc, session_token=old
            ),
            403,
            7,
        )
        assert (
            err.details
            and err.details[0].type_ == ERROR_DETAIL_TYPE
            and err.details[0].id
        ), err
        err = rpc_error(
            session_service_set_session.sync_detailed(
                state["sid"], client=zc, body=body
            ),
            403,
            7,
        )
        assert (
            err.details
            and err.details[0].type_ == ERROR_DETAIL_TYPE
            and err.details[0].id
        ), err

        got = expect(
            session_service_get_session.sync_detailed(
                state["sid"], client=zc, session_token=state["token"]
            ),
            200,
            V2AlphaGetSessionResponse,
        )
        assert got.session.sequence == "2" and got.session.metadata.to_dict() == {
            "device": b64("phone")
        }, got

    @step("zitadel: a second session, by userId")
    def _():
        body = V2AlphaCreateSessionRequest(
            checks=V2AlphaChecks(user=V2AlphaCheckUserById(user_id=state["user_id"]))
        )
        created = expect(
            session_service_create_session.sync_detailed(client=zc, body=body),
            201,
            V2AlphaCreateSessionResponse,
        )
        state["sid2"] = created.session_id
        got = expect(
            session_service_get_session.sync_detailed(created.session_id, client=zc),
            200,
            V2AlphaGetSessionResponse,
        )
        assert got.session.factors.user.id == state["user_id"], got
        assert isinstance(got.session.factors.password, zitadel.types.Unset), got

    @step("zitadel: search by ids with offset, limit and asc (and the legacy path)")
    def _():
        ids = [state["sid2"], state["sid"], "no-such-session"]

        def page(offset: str, asc: bool) -> V2AlphaListSessionsRequest:
            return V2AlphaListSessionsRequest(
                query=V2AlphaListQuery(offset=offset, limit=1, asc=asc),
                queries=[V2AlphaSearchQuery(ids_query=V2AlphaIDsQuery(ids=ids))],
            )

        for endpoint in (
            session_service_list_sessions,
            session_service_list_sessions_legacy,
        ):
            for offset, asc, want in (
                ("0", True, "sid"),
                ("1", True, "sid2"),
                ("0", False, "sid2"),
            ):
                found = expect(
                    endpoint.sync_detailed(client=zc, body=page(offset, asc)),
                    200,
                    V2AlphaListSessionsResponse,
                )
                assert found.details.total_result == "2", found
                assert [s.id for s in found.sessions] == [state[want]], (
                    offset,
                    asc,
                    found,
                )

        found = expect(
            session_service_list_sessions.sync_detailed(
                client=zc, body=page("2", True)
            ),
            200,
            V2AlphaListSessionsResponse,
        )
        assert found.details.total_result == "2" and isinstance(
            found.sessions, zitadel.types.Unset
        ), found

    @step("zitadel: delete, then get is 404 (code 5)")
    def _():
        deleted = expect(
            session_service_delete_session.sync_detailed(state["sid"], client=zc),
            200,
            V2AlphaDeleteSessionResponse,
        )
        assert int(deleted.details.sequence) >= 2 and is_utc(
            deleted.details.change_date
        ), deleted
        rpc_error(
            session_service_get_session.sync_detailed(state["sid"], client=zc), 404, 5
        )

    @step("zitadel: documented error: get of an unknown session, 404 rpcStatus code 5")
    def _():
        err = rpc_error(
            session_service_get_session.sync_detailed("no-such-session", client=zc),
            404,
            5,
        )
        assert len(err.details) == 1 and err.details[0].type_ == ERROR_DETAIL_TYPE, err
        assert err.message.endswith(f"({err.details[0].id})"), err

    # OAM, HTTP Basic with the same key: id as user name, secret as password.
    basic = base64.b64encode(f"{state['key_id']}:{state['secret']}".encode()).decode()
    oc = oam.AuthenticatedClient(
        base_url=BASE_URL, token=basic, prefix="Basic", raise_on_unexpected_status=True
    )

    def attrs(cls: type, **values: str) -> Any:
        out = cls()
        for name, value in values.items():
            out[name] = NameValueAttribute(attr_name=name, attr_value=value)
        return out

    @step("oam: create sessions with userAttributes and clientIp")
    def _():
        body = SessionData(
            user_id=login,
            client_ip="192.0.2.10",
            user_attributes=attrs(SessionDataUserAttributes, mail=login),
        )
        s = expect(
            oam_create_session.sync_detailed(client=oc, body=body), 200, SessionData
        )
        assert (
            s.session_id
            and s.session_index
            and s.user_id == login
            and s.client_ip == "192.0.2.10"
        ), s
        assert s.id_store_name == "UserIdentityStore" and s.is_impersonating is False, s
        assert (
            is_utc(s.create_time)
            and is_utc(s.update_time)
            and is_utc(s.last_access_time)
        ), s
        assert s.expiry_time - s.create_time == datetime.timedelta(minutes=1440), s
        assert s.user_attributes["mail"].attr_value == login, s
        state["osid"] = s.session_id

        body = SessionData(
            user_id=login,
            user_attributes=attrs(SessionDataUserAttributes, role="admin"),
        )
        s = expect(
            oam_create_session.sync_detailed(client=oc, body=body), 200, SessionData
        )
        state["osid2"] = s.session_id

    @step("oam: get")
    def _():
        s = expect(
            oam_get_session.sync_detailed(state["osid"], client=oc), 200, SessionData
        )
        assert (s.session_id, s.user_id, s.client_ip) == (
            state["osid"],
            login,
            "192.0.2.10",
        ), s
        assert s.user_attributes.to_dict() == {
            "mail": {"attrName": "mail", "attrValue": login}
        }, s

    @step("oam: search by user with a body filter")
    def _():
        body = SessionSearchQuery(
            user_id=login,
            user_attributes=attrs(SessionSearchQueryUserAttributes, role="admin"),
        )
        found = expect(
            oam_search_sessions.sync_detailed(client=oc, body=body), 200, SessionResults
        )
        assert found.total_records == 1, found
        assert [s.session_id for s in found.sessions.session_data] == [
            state["osid2"]
        ], found

        found = expect(
            oam_search_sessions.sync_detailed(client=oc, user_id=login),
            200,
            SessionResults,
        )
        ids = [s.session_id for s in found.sessions.session_data]
        assert found.total_records == len(ids) and {
            state["osid"],
            state["osid2"],
            state["sid2"],
        } <= set(ids), found

    @step("cross-dialect: OAM session via ZITADEL get, ZITADEL session via OAM get")
    def _():
        got = expect(
            session_service_get_session.sync_detailed(state["osid"], client=zc),
            200,
            V2AlphaGetSessionResponse,
        )
        assert got.session.id == state["osid"], got
        assert got.session.metadata.to_dict() == {"mail": b64(login)}, got
        assert (
            got.session.factors.user.login_name == login
            and got.session.factors.user.id == state["user_id"]
        ), got

        s = expect(
            oam_get_session.sync_detailed(state["sid2"], client=oc), 200, SessionData
        )
        assert s.user_id == login and s.session_id == state["sid2"], s

    @step("oam: documented errors (404 unknown session, 401 wrong secret)")
    def _():
        err = expect(
            oam_get_session.sync_detailed("no-such-session", client=oc), 404, Error
        )
        assert err.code is ErrorCode.NOT_FOUND and err.message, err
        wrong = base64.b64encode(f"{state['key_id']}:wrong".encode()).decode()
        bad = oam.AuthenticatedClient(base_url=BASE_URL, token=wrong, prefix="Basic")
        err = expect(
            oam_get_session.sync_detailed(state["osid"], client=bad), 401, Error
        )
        assert err.code is ErrorCode.UNAUTHORIZED, err

    @step("oam: delete one session by sessionId")
    def _():
        deleted = oam_delete_sessions.sync_detailed(client=oc, session_id=state["osid"])
        assert deleted.status_code == 200, deleted.content
        assert isinstance(deleted.parsed, list) and all(
            isinstance(s, SessionData) for s in deleted.parsed
        ), deleted
        assert [s.session_id for s in deleted.parsed] == [state["osid"]], deleted.parsed
        err = expect(
            oam_get_session.sync_detailed(state["osid"], client=oc), 404, Error
        )
        assert err.code is ErrorCode.NOT_FOUND, err

    @step("oam: delete all of a user's sessions by userId")
    def _():
        deleted = oam_delete_sessions.sync_detailed(client=oc, user_id=login)
        assert deleted.status_code == 200, deleted.content
        assert isinstance(deleted.parsed, list) and all(
            isinstance(s, SessionData) for s in deleted.parsed
        ), deleted
        assert {s.session_id for s in deleted.parsed} == {
            state["osid2"],
            state["sid2"],
        }, deleted.parsed
        err = expect(
            oam_search_sessions.sync_detailed(client=oc, user_id=login), 404, Error
        )
        assert err.code is ErrorCode.NOT_FOUND, err
        rpc_error(
            session_service_get_session.sync_detailed(state["sid2"], client=zc), 404, 5
        )

    @step("admin: revoke the key (then it is refused) and delete the user")
    def _():
        revoked = admin_service_revoke_key.sync_detailed(state["key_id"], client=admin)
        assert revoked.status_code == 204, revoked.content
        err = expect(
            oam_get_session.sync_detailed(state["osid"], client=oc), 401, Error
        )
        assert err.code is ErrorCode.UNAUTHORIZED, err
        rpc_error(
            session_service_get_session.sync_detailed(state["osid"], client=zc), 401, 16
        )

        deleted = admin_service_delete_user.sync_detailed(
            state["user_id"], client=admin
        )
        assert deleted.status_code == 204, deleted.content
        err = expect(
            admin_service_get_user.sync_detailed(state["user_id"], client=admin),
            404,
            AdminError,
        )
        assert err.code is AdminErrorCode.USER_NOT_FOUND, err


if __name__ == "__main__":
    try:
        main()
    except Exception:  # noqa: BLE001 - report the failed step, then fail
        traceback.print_exc()
        print(f"python-client: {passed} passed, 1 failed")
        sys.exit(1)
    print(f"python-client: {passed} passed, 0 failed")
