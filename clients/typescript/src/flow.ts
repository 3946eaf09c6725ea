// End-to-end flow against a running sessiond, through openapi-fetch clients
// typed only by the openapi-typescript output of the checked-in documents.
//
// Environment: SESSIOND_URL (base URL), SESSIOND_ADMIN_KEY (admin API key).

import { Buffer } from "node:buffer";
import { randomUUID } from "node:crypto";
import createClient from "openapi-fetch";

import { CheckFailed, check, deepEqual, equal, expectData, expectEmpty, expectError, present, summary } from "./check.js";
import type {
  AdminError,
  AdminPaths,
  AdminUser,
  CheckUser,
  CreateKeyBody,
  CreateKeyCreated,
  CreateSessionBody,
  CreateSessionCreated,
  CreateUserBody,
  CreateUserCreated,
  GetSessionOk,
  ListSessionsBody,
  ListSessionsOk,
  OamCreateBody,
  OamCreateOk,
  OamDeleteOk,
  OamError,
  OamPaths,
  OamSearchBody,
  OamSearchOk,
  OamSessionData,
  Permission,
  RpcStatus,
  SetSessionBody,
  SetSessionOk,
  ZitadelPaths,
  ZitadelSession,
} from "./types.js";

function env(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === "") {
    throw new Error(`${name} is not set`);
  }
  return value;
}

const baseUrl = env("SESSIOND_URL");
const adminKey = env("SESSIOND_ADMIN_KEY");

const b64 = (text: string): string => Buffer.from(text, "utf8").toString("base64");
const OAM = "/oam/services/rest/access/api/v1";

function sessionIds(sessions: ZitadelSession[] | undefined): (string | undefined)[] {
  return (sessions ?? []).map((s) => s.id);
}

function oamIds(sessions: OamSessionData[]): (string | undefined)[] {
  return sessions.map((s) => s.sessionId).sort();
}

async function main(): Promise<void> {
  const run = randomUUID().slice(0, 8);
  const loginName = `ts-${run}@example.com`;
  const password = "correct horse battery staple";

  // --- admin: a user and a limited key --------------------------------------
  console.log("== admin");
  const admin = createClient<AdminPaths>({ baseUrl, headers: { Authorization: `Bearer ${adminKey}` } });

  const userBody: CreateUserBody = { loginName, password, displayName: "TS Alice" };
  const createdUser: CreateUserCreated = expectData(
    "admin create user",
    await admin.POST("/admin/v1/users", { body: userBody }),
    201,
  );
  const userId = createdUser.userId;
  check("admin create user: userId", userId.length > 0);

  const user: AdminUser = expectData(
    "admin get user",
    await admin.GET("/admin/v1/users/{userId}", { params: { path: { userId } } }),
    200,
  );
  equal("admin get user: loginName", user.loginName, loginName);
  equal("admin get user: displayName", user.displayName, "TS Alice");
  equal("admin get user: state", user.state, "active");
  equal("admin get user: failedAttempts", user.failedAttempts, 0);

  const duplicate: AdminError = expectError(
    "admin create duplicate user",
    await admin.POST("/admin/v1/users", { body: userBody }),
    409,
  );
  check("admin duplicate: code", duplicate.code.length > 0, () => duplicate.code);
  check("admin duplicate: message", duplicate.message.length > 0);

  const unknownUser: AdminError = expectError(
    "admin get unknown user",
    await admin.GET("/admin/v1/users/{userId}", { params: { path: { userId: "01unknownunknownunknown000" } } }),
    404,
  );
  equal("admin unknown user: code", unknownUser.code, "USER_NOT_FOUND");

  const permissions: Permission[] = ["session.read", "session.write", "session.delete"];
  const keyBody: CreateKeyBody = { name: `ts-flow-${run}`, permissions };
  const key: CreateKeyCreated = expectData("admin create key", await admin.POST("/admin/v1/keys", { body: keyBody }), 201);
  check("admin create key: keyId", key.keyId.length > 0);
  check("admin create key: secret", key.secret.length > 0);

  const keys = expectData("admin list keys", await admin.GET("/admin/v1/keys"), 200);
  const listed = present("admin list keys: new key", keys.keys.find((k) => k.keyId === key.keyId));
  deepEqual("admin list keys: permissions", [...listed.permissions].sort(), [...permissions].sort());
  equal("admin list keys: not revoked", listed.revokedAt, undefined);

  const limitedAdmin = createClient<AdminPaths>({ baseUrl, headers: { Authorization: `Bearer ${key.secret}` } });
  const forbidden: AdminError = expectError(
    "admin create user with a session-only key",
    await limitedAdmin.POST("/admin/v1/users", { body: { loginName: `x-${loginName}`, password } }),
    403,
  );
  equal("admin forbidden: code", forbidden.code, "PERMISSION_DENIED");

  // --- ZITADEL ---------------------------------------------------------------
  console.log("== zitadel");
  const zitadel = createClient<ZitadelPaths>({ baseUrl, headers: { Authorization: `Bearer ${key.secret}` } });

  const byLoginName: CheckUser = { loginName };
  const createBody: CreateSessionBody = {
    checks: { user: byLoginName, password: { password } },
    metadata: { device: b64("laptop"), team: b64("blue") },
  };
  const created: CreateSessionCreated = expectData(
    "zitadel create session (by loginName)",
    await zitadel.POST("/v2alpha/sessions", { body: createBody }),
    201,
  );
  const sessionId = created.sessionId;
  const firstToken = created.sessionToken;
  check("zitadel create: sessionId", sessionId.length > 0);
  check("zitadel create: sessionToken", firstToken.length > 0);
  equal("zitadel create: details.sequence", created.details.sequence, "1");

  const got: GetSessionOk = expectData(
    "zitadel get session with its token",
    await zitadel.GET("/v2alpha/sessions/{sessionId}", {
      params: { path: { sessionId }, query: { sessionToken: firstToken } },
    }),
    200,
  );
  equal("zitadel get: id", got.session.id, sessionId);
  equal("zitadel get: sequence", got.session.sequence, "1");
  const userFactor = present("zitadel get: factors.user", got.session.factors?.user);
  equal("zitadel get: factors.user.id", userFactor.id, userId);
  equal("zitadel get: factors.user.loginName", userFactor.loginName, loginName);
  equal("zitadel get: factors.user.displayName", userFactor.displayName, "TS Alice");
  present("zitadel get: factors.password.verifiedAt", got.session.factors?.password?.verifiedAt);
  deepEqual("zitadel get: metadata", got.session.metadata, { device: b64("laptop"), team: b64("blue") });

  const setBody: SetSessionBody = { sessionToken: firstToken, metadata: { device: b64("phone"), team: "" } };
  const updated: SetSessionOk = expectData(
    "zitadel update session metadata",
    await zitadel.PATCH("/v2alpha/sessions/{sessionId}", { params: { path: { sessionId } }, body: setBody }),
    200,
  );
  const secondToken = updated.sessionToken;
  check("zitadel update: new token", secondToken.length > 0 && secondToken !== firstToken);
  equal("zitadel update: details.sequence", updated.details.sequence, "2");

  const staleUpdate: RpcStatus = expectError(
    "zitadel update with the old token",
    await zitadel.PATCH("/v2alpha/sessions/{sessionId}", {
      params: { path: { sessionId } },
      body: { sessionToken: firstToken, metadata: { device: b64("tablet") } },
    }),
    403,
  );
  equal("zitadel old token (update): code 7", staleUpdate.code, 7);
  check("zitadel old token (update): message", staleUpdate.message.length > 0);
  equal(
    "zitadel old token (update): detail @type",
    staleUpdate.details?.[0]?.["@type"],
    "type.googleapis.com/zitadel.v1.ErrorDetail",
  );

  const staleGet: RpcStatus = expectError(
    "zitadel get with the old token",
    await zitadel.GET("/v2alpha/sessions/{sessionId}", {
      params: { path: { sessionId }, query: { sessionToken: firstToken } },
    }),
    403,
  );
  equal("zitadel old token (get): code 7", staleGet.code, 7);

  const afterUpdate = expectData(
    "zitadel get session with the new token",
    await zitadel.GET("/v2alpha/sessions/{sessionId}", {
      params: { path: { sessionId }, query: { sessionToken: secondToken } },
    }),
    200,
  );
  equal("zitadel get after update: sequence", afterUpdate.session.sequence, "2");
  deepEqual("zitadel get after update: metadata", afterUpdate.session.metadata, { device: b64("phone") });

  // A second session, checked by user id, for ordering and paging.
  const byUserId: CheckUser = { userId };
  const second = expectData(
    "zitadel create session (by userId)",
    await zitadel.POST("/v2alpha/sessions", { body: { checks: { user: byUserId, password: { password } } } }),
    201,
  );
  const ids = [sessionId, second.sessionId];

  const searchAsc: ListSessionsBody = { query: { offset: "0", limit: 10, asc: true }, queries: [{ idsQuery: { ids } }] };
  const asc: ListSessionsOk = expectData(
    "zitadel search by ids asc",
    await zitadel.POST("/v2alpha/sessions/search", { body: searchAsc }),
    200,
  );
  deepEqual("zitadel search asc: order", sessionIds(asc.sessions), [sessionId, second.sessionId]);
  equal("zitadel search asc: totalResult", asc.details.totalResult, "2");

  const desc = expectData(
    "zitadel search by ids desc",
    await zitadel.POST("/v2alpha/sessions/search", {
      body: { query: { limit: 10, asc: false }, queries: [{ idsQuery: { ids } }] },
    }),
    200,
  );
  deepEqual("zitadel search desc: order", sessionIds(desc.sessions), [second.sessionId, sessionId]);

  const page = expectData(
    "zitadel search by ids offset 1 limit 1",
    await zitadel.POST("/v2alpha/sessions/search", {
      body: { query: { offset: "1", limit: 1, asc: true }, queries: [{ idsQuery: { ids } }] },
    }),
    200,
  );
  deepEqual("zitadel search page: sessions", sessionIds(page.sessions), [second.sessionId]);
  equal("zitadel search page: totalResult counts before paging", page.details.totalResult, "2");

  const empty: ListSessionsOk = expectData(
    "zitadel search with no match",
    await zitadel.POST("/v2alpha/sessions/search", {
      body: { query: { limit: 10 }, queries: [{ idsQuery: { ids: ["01nosuchsession0000000000"] } }] },
    }),
    200,
  );
  equal("zitadel empty search: sessions omitted", empty.sessions, undefined);
  equal("zitadel empty search: no sessions", sessionIds(empty.sessions).length, 0);
  equal("zitadel empty search: totalResult zero (omitted)", empty.details.totalResult ?? "0", "0");

  const deleted = expectData(
    "zitadel delete session",
    await zitadel.DELETE("/v2alpha/sessions/{sessionId}", {
      params: { path: { sessionId } },
      body: { sessionToken: secondToken },
    }),
    200,
  );
  present("zitadel delete: details.changeDate", deleted.details.changeDate);

  const gone: RpcStatus = expectError(
    "zitadel get deleted session",
    await zitadel.GET("/v2alpha/sessions/{sessionId}", { params: { path: { sessionId } } }),
    404,
  );
  equal("zitadel deleted: code 5", gone.code, 5);

  const unknown: RpcStatus = expectError(
    "zitadel get unknown session",
    await zitadel.GET("/v2alpha/sessions/{sessionId}", { params: { path: { sessionId: "01nosuchsession0000000000" } } }),
    404,
  );
  equal("zitadel unknown: code 5", unknown.code, 5);
  equal("zitadel unknown: detail id", unknown.details?.[0]?.id, "QUERY-SFeaa");
  check("zitadel unknown: message names the id", unknown.message.endsWith("(QUERY-SFeaa)"), () => unknown.message);

  const badKey = createClient<ZitadelPaths>({ baseUrl, headers: { Authorization: "Bearer not-a-key" } });
  const unauthenticated: RpcStatus = expectError(
    "zitadel with an invalid key",
    await badKey.GET("/v2alpha/sessions/{sessionId}", { params: { path: { sessionId: second.sessionId } } }),
    401,
  );
  equal("zitadel invalid key: code 16", unauthenticated.code, 16);

  // --- OAM (HTTP Basic with the limited key) --------------------------------
  console.log("== oam");
  const basic = `Basic ${Buffer.from(`${key.keyId}:${key.secret}`, "utf8").toString("base64")}`;
  const oam = createClient<OamPaths>({ baseUrl, headers: { Authorization: basic } });

  const oamBody: OamCreateBody = {
    userId: loginName,
    clientIp: "192.0.2.10",
    userAttributes: { mail: { attrName: "mail", attrValue: loginName }, role: { attrValue: "tester" } },
  };
  const oamCreated: OamCreateOk = expectData(
    "oam create session",
    await oam.POST(`${OAM}/session`, { body: oamBody }),
    200,
  );
  const oamSessionId = present("oam create: sessionId", oamCreated.sessionId);
  present("oam create: sessionIndex", oamCreated.sessionIndex);
  check("oam create: sessionIndex differs from sessionId", oamCreated.sessionIndex !== oamSessionId);
  equal("oam create: userId", oamCreated.userId, loginName);
  equal("oam create: clientIp", oamCreated.clientIp, "192.0.2.10");
  equal("oam create: idStoreName", oamCreated.idStoreName, "UserIdentityStore");
  const createTime = Date.parse(present("oam create: createTime", oamCreated.createTime));
  const expiryTime = Date.parse(present("oam create: expiryTime", oamCreated.expiryTime));
  equal("oam create: expiry = create + 1440 min", expiryTime - createTime, 1440 * 60 * 1000);

  const oamGot: OamSessionData = expectData(
    "oam get session",
    await oam.GET(`${OAM}/session/{sessionId}`, { params: { path: { sessionId: oamSessionId } } }),
    200,
  );
  equal("oam get: sessionId", oamGot.sessionId, oamSessionId);
  equal("oam get: userId", oamGot.userId, loginName);
  equal("oam get: mail attribute", oamGot.userAttributes?.["mail"]?.attrValue, loginName);
  equal("oam get: attrName set from the key", oamGot.userAttributes?.["role"]?.attrName, "role");
  equal("oam get: isImpersonating", oamGot.isImpersonating, false);

  // Cross-dialect: OAM → ZITADEL, and ZITADEL → OAM.
  const oamAsZitadel = expectData(
    "cross: oam session via zitadel get",
    await zitadel.GET("/v2alpha/sessions/{sessionId}", { params: { path: { sessionId: oamSessionId } } }),
    200,
  );
  equal("cross oam→zitadel: id", oamAsZitadel.session.id, oamSessionId);
  deepEqual("cross oam→zitadel: metadata (base64)", oamAsZitadel.session.metadata, {
    mail: b64(loginName),
    role: b64("tester"),
  });
  equal("cross oam→zitadel: factors.user.loginName", oamAsZitadel.session.factors?.user?.loginName, loginName);
  equal("cross oam→zitadel: factors.user.id", oamAsZitadel.session.factors?.user?.id, userId);

  const zitadelAsOam = expectData(
    "cross: zitadel session via oam get",
    await oam.GET(`${OAM}/session/{sessionId}`, { params: { path: { sessionId: second.sessionId } } }),
    200,
  );
  equal("cross zitadel→oam: userId", zitadelAsOam.userId, loginName);

  // A second OAM session from another address.
  const oamSecond = expectData(
    "oam create second session",
    await oam.POST(`${OAM}/session`, { body: { userId: loginName, clientIp: "198.51.100.7" } }),
    200,
  );
  const oamSecondId = present("oam second: sessionId", oamSecond.sessionId);

  const searchBody: OamSearchBody = { clientIp: "192.0.2.10" };
  const found: OamSearchOk = expectData(
    "oam search by user with a body filter",
    await oam.POST(`${OAM}/sessions`, { params: { query: { userId: loginName } }, body: searchBody }),
    200,
  );
  equal("oam search: totalRecords", found.totalRecords, 1);
  deepEqual("oam search: sessions", oamIds(found.sessions.sessionData), [oamSessionId]);

  const byAttribute = expectData(
    "oam search by attribute",
    await oam.POST(`${OAM}/sessions`, {
      params: { query: { userId: loginName } },
      body: { userAttributes: { role: { attrValue: "tester" } } },
    }),
    200,
  );
  deepEqual("oam search by attribute: sessions", oamIds(byAttribute.sessions.sessionData), [oamSessionId]);

  const allOfUser = expectData(
    "oam search all of the user's sessions",
    await oam.POST(`${OAM}/sessions`, { params: { query: { userId: loginName } } }),
    200,
  );
  equal("oam search all: totalRecords", allOfUser.totalRecords, 3);

  const deletedOne: OamDeleteOk = expectData(
    "oam delete by sessionId",
    await oam.DELETE(`${OAM}/session`, { params: { query: { sessionId: oamSessionId } } }),
    200,
  );
  deepEqual("oam delete one: returned", oamIds(deletedOne), [oamSessionId]);

  const oamGone: OamError = expectError(
    "oam get deleted session",
    await oam.GET(`${OAM}/session/{sessionId}`, { params: { path: { sessionId: oamSessionId } } }),
    404,
  );
  equal("oam deleted: code", oamGone.code, "NOT_FOUND");
  check("oam deleted: message", oamGone.message.length > 0);

  const deletedAll: OamDeleteOk = expectData(
    "oam delete all of the user's sessions",
    await oam.DELETE(`${OAM}/session`, { params: { query: { userId: loginName } } }),
    200,
  );
  deepEqual("oam delete all: returned", oamIds(deletedAll), [oamSecondId, second.sessionId].sort());

  const nothingLeft: OamError = expectError(
    "oam search after delete all",
    await oam.POST(`${OAM}/sessions`, { params: { query: { userId: loginName } } }),
    404,
  );
  equal("oam search after delete all: code", nothingLeft.code, "NOT_FOUND");

  const zitadelGone: RpcStatus = expectError(
    "cross: zitadel get of a session deleted through oam",
    await zitadel.GET("/v2alpha/sessions/{sessionId}", { params: { path: { sessionId: second.sessionId } } }),
    404,
  );
  equal("cross deleted: code 5", zitadelGone.code, 5);

  const oamUnknown: OamError = expectError(
    "oam get unknown session",
    await oam.GET(`${OAM}/session/{sessionId}`, { params: { path: { sessionId: "01nosuchsession0000000000" } } }),
    404,
  );
  equal("oam unknown: code", oamUnknown.code, "NOT_FOUND");

  // --- revoke the key; both dialects refuse it --------------------------------
  console.log("== revoke");
  expectEmpty(
    "admin revoke key",
    await admin.DELETE("/admin/v1/keys/{keyId}", { params: { path: { keyId: key.keyId } } }),
    204,
  );
  const revoked = await oam.GET(`${OAM}/session/{sessionId}`, { params: { path: { sessionId: oamSecondId } } });
  const revokedError: OamError = expectError("oam with a revoked key", revoked, 401);
  equal("oam revoked: code", revokedError.code, "UNAUTHORIZED");
  equal("oam revoked: WWW-Authenticate", revoked.response.headers.get("www-authenticate"), 'Basic realm="sessiond"');
  expectError(
    "zitadel with a revoked key",
    await zitadel.GET("/v2alpha/sessions/{sessionId}", { params: { path: { sessionId: oamSecondId } } }),
    401,
  );

  expectEmpty(
    "admin delete user",
    await admin.DELETE("/admin/v1/users/{userId}", { params: { path: { userId } } }),
    204,
  );
}

try {
  await main();
} catch (err) {
  if (!(err instanceof CheckFailed)) {
    console.error(err);
  }
  process.exitCode = 1;
} finally {
  const { passed, failed } = summary();
  const crashed = process.exitCode === 1 && failed === 0 ? 1 : 0;
  console.log(`clients-typescript: ${passed} passed, ${failed + crashed} failed`);
}
