// The eight-step ZITADEL session flow, driven through ZITADEL's official Node
// clients and connect-es transports against a running sessiond.
//
// scripts/clients-zitadel.sh starts the server and runs this with
// SESSIOND_URL (http://127.0.0.1:PORT) and SESSIOND_ADMIN_KEY set.
// ONLY=<substring> runs the clients whose name contains it.
//
// Each client is one "adapter" (adapters.mjs): the same calls made through a
// different library, wire protocol and service version. The steps below assert
// on what the adapter read from the library's own decoded messages.
import { createGrpcTransport } from "@connectrpc/connect-node";
import { adapters, bearer, connectEs } from "./adapters.mjs";
import { reflect } from "./reflection.mjs";

const base = process.env.SESSIOND_URL;
const adminKey = process.env.SESSIOND_ADMIN_KEY;
if (!base || !adminKey) {
  console.error("SESSIOND_URL and SESSIOND_ADMIN_KEY must be set");
  process.exit(2);
}
const only = process.env.ONLY ?? "";
// The admin REST API; the same port unless told otherwise.
const adminBase = process.env.SESSIOND_ADMIN_URL || base;

const enc = new TextEncoder();
const dec = new TextDecoder();
const GRPC = { INVALID_ARGUMENT: 3, NOT_FOUND: 5, UNAUTHENTICATED: 16 };

function check(cond, what) {
  if (!cond) throw new Error(what);
}
function eq(got, want, what) {
  const g = JSON.stringify(got, (_, v) => (typeof v === "bigint" ? `${v}n` : v));
  const w = JSON.stringify(want, (_, v) => (typeof v === "bigint" ? `${v}n` : v));
  if (g !== w) throw new Error(`${what}: got ${g}, want ${w}`);
}
function text(bytes) {
  check(bytes instanceof Uint8Array, `metadata value is not bytes: ${typeof bytes}`);
  return dec.decode(bytes);
}

// A user of its own for each client, through the admin REST API (not a ZITADEL API).
async function createUser(loginName, password) {
  const res = await fetch(`${adminBase}/admin/v1/users`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${adminKey}` },
    body: JSON.stringify({ loginName, password, displayName: `Flow ${loginName}` }),
  });
  const body = await res.text();
  if (res.status !== 200 && res.status !== 201) {
    throw new Error(`POST /admin/v1/users: ${res.status} ${body}`);
  }
  const { userId } = JSON.parse(body);
  check(typeof userId === "string" && userId, `no userId in ${body}`);
  return userId;
}

async function expectCode(promise, adapter, want, what) {
  let value;
  try {
    value = await promise;
  } catch (e) {
    const got = adapter.code(e);
    if (got !== want) {
      throw new Error(`${what}: got code ${got} (${e?.message ?? e}), want ${want}`);
    }
    return e;
  }
  throw new Error(`${what}: succeeded (${JSON.stringify(value, (_, v) => (typeof v === "bigint" ? `${v}` : v))}), want code ${want}`);
}

async function runFlow(name, make) {
  const tag = name;
  const rnd = Math.random().toString(36).slice(2, 10);
  const loginName = `zitadel-${name.replace(/[^a-z0-9]+/gi, "-")}-${rnd}@example.com`;
  const password = `pw-${rnd}-correct horse`;
  const st = {};
  let failed = 0;
  const step = async (n, title, fn) => {
    try {
      await fn();
      console.log(`PASS ${tag} ${n}: ${title}`);
    } catch (e) {
      failed++;
      console.log(`FAIL ${tag} ${n}: ${title}: ${e?.stack ?? e}`);
    }
  };

  let api;
  try {
    st.userId = await createUser(loginName, password);
    api = make(adminKey);
  } catch (e) {
    console.log(`FAIL ${tag} 0: setup: ${e?.stack ?? e}`);
    return 1;
  }

  await step(1, "create session (user + password checks, metadata, lifetime 300s)", async () => {
    const r = await api.create({ loginName, password, metadata: { k: enc.encode("v1") }, lifetimeSeconds: 300 });
    check(typeof r.sessionId === "string" && r.sessionId.length > 0, `no sessionId: ${JSON.stringify(r)}`);
    check(typeof r.sessionToken === "string" && r.sessionToken.length > 0, `no sessionToken: ${JSON.stringify(r)}`);
    st.s1 = r;
  });

  await step(2, "get with sessionToken: factors.user, metadata, expirationDate", async () => {
    const before = Date.now();
    const s = await api.get({ sessionId: st.s1.sessionId, sessionToken: st.s1.sessionToken });
    eq(s.id, st.s1.sessionId, "session.id");
    eq(s.loginName, loginName, "factors.user.loginName");
    eq(s.userId, st.userId, "factors.user.id");
    check(s.passwordVerified, "factors.password.verifiedAt is not set");
    eq(Object.keys(s.metadata).sort(), ["k"], "metadata keys");
    eq(text(s.metadata.k), "v1", "metadata.k");
    check(s.expirationDate instanceof Date && !Number.isNaN(s.expirationDate.getTime()), `expirationDate not set: ${s.expirationDate}`);
    const left = s.expirationDate.getTime() - before;
    check(left > 240_000 && left <= 305_000, `expirationDate is ${left} ms away, want about 300 s`);
  });

  await step(3, "set: new metadata key, new token, metadata merged", async () => {
    const r = await api.set({ sessionId: st.s1.sessionId, sessionToken: st.s1.sessionToken, metadata: { k2: enc.encode("v2") } });
    check(typeof r.sessionToken === "string" && r.sessionToken.length > 0, "no sessionToken in SetSession response");
    check(r.sessionToken !== st.s1.sessionToken, "SetSession returned the old token");
    st.s1.sessionToken = r.sessionToken;
    const s = await api.get({ sessionId: st.s1.sessionId, sessionToken: r.sessionToken });
    eq(Object.keys(s.metadata).sort(), ["k", "k2"], "metadata keys after set");
    eq([text(s.metadata.k), text(s.metadata.k2)], ["v1", "v2"], "metadata values after set");
  });

  await step(4, "list by idsQuery and userIdQuery, paging limit 1 offset 0/1", async () => {
    const r = await api.create({ loginName, password, metadata: { k: enc.encode("second") }, lifetimeSeconds: 300 });
    st.s2 = r;
    const both = [st.s1.sessionId, st.s2.sessionId].sort();
    const ids = { ids: [st.s1.sessionId, st.s2.sessionId] };
    const all = await api.list({ ...ids });
    eq(all.total, 2, "idsQuery details.totalResult");
    eq(all.ids.slice().sort(), both, "idsQuery sessions");
    const p0 = await api.list({ ...ids, limit: 1, offset: 0 });
    const p1 = await api.list({ ...ids, limit: 1, offset: 1 });
    eq([p0.total, p1.total], [2, 2], "paged idsQuery details.totalResult");
    eq([p0.ids.length, p1.ids.length], [1, 1], "page sizes with limit 1");
    eq([p0.ids[0], p1.ids[0]].sort(), both, "offset 0 and 1 pages together");
    const byUser = await api.list({ userId: st.userId });
    eq(byUser.total, 2, "userIdQuery details.totalResult");
    eq(byUser.ids.slice().sort(), both, "userIdQuery sessions");
    const u0 = await api.list({ userId: st.userId, limit: 1, offset: 0 });
    const u1 = await api.list({ userId: st.userId, limit: 1, offset: 1 });
    eq([u0.total, u1.total, u0.ids.length, u1.ids.length], [2, 2, 1, 1], "paged userIdQuery totals and sizes");
    eq([u0.ids[0], u1.ids[0]].sort(), both, "paged userIdQuery sessions");
    const both2 = await api.list({ ...ids, userId: st.userId, limit: 1, offset: 1 });
    eq([both2.total, both2.ids.length], [2, 1], "idsQuery AND userIdQuery, offset 1");
  });

  await step(5, "delete, then get -> not found (5)", async () => {
    await api.delete({ sessionId: st.s1.sessionId, sessionToken: st.s1.sessionToken });
    await expectCode(api.get({ sessionId: st.s1.sessionId, sessionToken: st.s1.sessionToken }), api, GRPC.NOT_FOUND, "get after delete");
    const left = await api.list({ userId: st.userId });
    eq([left.total, left.ids], [1, [st.s2.sessionId]], "sessions left after delete");
  });

  await step(6, "create with a wrong password -> invalid argument (3), nothing created", async () => {
    const before = await api.list({ userId: st.userId });
    await expectCode(
      api.create({ loginName, password: `${password}-wrong`, metadata: {}, lifetimeSeconds: 300 }),
      api,
      GRPC.INVALID_ARGUMENT,
      "create with wrong password",
    );
    const after = await api.list({ userId: st.userId });
    eq(after.total, before.total, "sessions of the user after the failed create");
    eq(after.ids.slice().sort(), before.ids.slice().sort(), "session ids after the failed create");
  });

  await step(7, "create for an unknown login name -> not found (5)", async () => {
    await expectCode(
      api.create({ loginName: `nobody-${rnd}@example.com`, password, metadata: {}, lifetimeSeconds: 300 }),
      api,
      GRPC.NOT_FOUND,
      "create for unknown loginName",
    );
  });

  await step(8, "bad bearer token -> unauthenticated (16)", async () => {
    const bad = make(`not-a-key-${rnd}`);
    await expectCode(bad.list({ userId: st.userId }), bad, GRPC.UNAUTHENTICATED, "ListSessions with a bad token");
    await expectCode(bad.get({ sessionId: st.s2.sessionId, sessionToken: st.s2.sessionToken }), bad, GRPC.UNAUTHENTICATED, "GetSession with a bad token");
    await expectCode(bad.create({ loginName, password, metadata: {}, lifetimeSeconds: 300 }), bad, GRPC.UNAUTHENTICATED, "CreateSession with a bad token");
    bad.close?.();
  });

  api.close?.();
  return failed;
}

let failedClients = 0;
const summary = [];
const all = adapters(base);

// grpcurl's part (grpcurl itself is not packaged by Debian 12): list the
// services through gRPC server reflection, then run the flow on a client built
// only from the descriptors that reflection served (reflection/grpc/*).
if (!only || "reflection".includes(only) || only.startsWith("reflection")) {
  const tag = "reflection";
  const found = {};
  for (const version of ["v1", "v1alpha"]) {
    try {
      found[version] = await reflect(base, { version, log: (l) => console.log(`     ${l}`) });
      console.log(`PASS ${tag}: grpc.reflection.${version}.ServerReflection lists services`);
    } catch (e) {
      console.log(`${version === "v1" ? "FAIL" : "INFO"} ${tag}: grpc.reflection.${version}.ServerReflection: ${e?.message ?? e}`);
    }
  }
  const r = found.v1 ?? found.v1alpha;
  let bad = found.v1 ? 0 : 1;
  // v2alpha too: no official Node client ships it, so only reflection reaches it.
  for (const version of ["v2", "v2beta", "v2alpha"]) {
    const name = `zitadel.session.${version}.SessionService`;
    try {
      if (!r) throw new Error("no reflection service answered");
      if (!r.services.includes(name)) throw new Error(`${name} not in ${JSON.stringify(r.services)}`);
      const desc = await r.service(name);
      const methods = desc.methods.map((m) => m.name).sort();
      for (const m of ["CreateSession", "DeleteSession", "GetSession", "ListSessions", "SetSession"]) {
        if (!methods.includes(m)) throw new Error(`${name} has no ${m} (has ${methods.join(", ")})`);
      }
      console.log(`PASS ${tag}: ${name} described (${methods.join(", ")})`);
      all[`reflection/grpc/${version}`] = connectEs(desc, (token) => createGrpcTransport({ baseUrl: base, interceptors: [bearer(token)] }));
    } catch (e) {
      bad++;
      console.log(`FAIL ${tag}: ${name}: ${e?.stack ?? e}`);
    }
  }
  summary.push(bad ? `FAIL reflection (${bad} check(s) failed)` : "PASS reflection");
  if (bad) failedClients++;
}

for (const [name, make] of Object.entries(all)) {
  if (only && !name.includes(only)) continue;
  const failed = await runFlow(name, make);
  summary.push(`${failed ? "FAIL" : "PASS"} ${name}${failed ? ` (${failed} step(s) failed)` : ""}`);
  if (failed) failedClients++;
}
console.log("== summary");
for (const line of summary) console.log(line);
console.log(`${summary.length - failedClients} passed, ${failedClients} failed`);
process.exit(failedClients ? 1 : 0);
