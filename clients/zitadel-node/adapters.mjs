// One adapter per client library x wire protocol x service version. Each makes
// the flow's calls through that library and hands back what the library decoded.
//
// connect-es family (messages from @zitadel/proto, protobuf-es v2):
//   zitadel-client/grpc        @zitadel/client/node createServerTransport: gRPC over h2c
//   zitadel-client/grpc-web    @zitadel/client/web createClientTransport: gRPC-Web over fetch
//   connect-node/connect-binary  Connect protocol, protobuf binary, HTTP/2 cleartext
//   connect-node/connect-json    Connect protocol, JSON, HTTP/1.1
//   connect-node/grpc-web        gRPC-Web, protobuf binary, HTTP/1.1
// nice-grpc family (messages from @zitadel/node, ts-proto + @grpc/grpc-js):
//   zitadel-node/grpc          createSessionClient (v2beta) and the v2 definition
// Each runs against zitadel.session.v2 and zitadel.session.v2beta.
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { createServerTransport } from "@zitadel/client/node";
import { createClientTransport } from "@zitadel/client/web";
import { SessionService as SessionServiceV2 } from "@zitadel/proto/zitadel/session/v2/session_service_pb.js";
import { SessionService as SessionServiceV2beta } from "@zitadel/proto/zitadel/session/v2beta/session_service_pb.js";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { createAccessTokenInterceptor, createSessionClient } from "@zitadel/node/dist/api/index.js";
import { SessionServiceDefinition as NiceSessionServiceV2 } from "@zitadel/node/dist/api/generated/zitadel/session/v2/session_service.js";
import { ClientError, createChannel, createClientFactory } from "nice-grpc";

export const bearer = (token) => (next) => (req) => {
  req.header.set("Authorization", `Bearer ${token}`);
  return next(req);
};

// ---- connect-es (protobuf-es messages) ----
export function connectEs(service, transportFor) {
  return (token) => {
    const c = createClient(service, transportFor(token));
    return {
      code: (e) => (e instanceof ConnectError ? e.code : `not a ConnectError: ${e}`),
      async create({ loginName, password, metadata, lifetimeSeconds }) {
        const checks = { user: { search: { case: "loginName", value: loginName } } };
        if (password !== undefined) checks.password = { password };
        const r = await c.createSession({ checks, metadata, lifetime: { seconds: BigInt(lifetimeSeconds), nanos: 0 } });
        return { sessionId: r.sessionId, sessionToken: r.sessionToken };
      },
      async get({ sessionId, sessionToken }) {
        const { session: s } = await c.getSession({ sessionId, sessionToken });
        if (!s) throw new Error("GetSessionResponse without session");
        return {
          id: s.id,
          loginName: s.factors?.user?.loginName,
          userId: s.factors?.user?.id,
          passwordVerified: s.factors?.password?.verifiedAt !== undefined,
          metadata: s.metadata,
          expirationDate: s.expirationDate ? timestampDate(s.expirationDate) : undefined,
        };
      },
      async set({ sessionId, sessionToken, metadata }) {
        const r = await c.setSession({ sessionId, sessionToken, metadata });
        return { sessionToken: r.sessionToken };
      },
      async list({ ids, userId, limit, offset }) {
        const queries = [];
        if (ids) queries.push({ query: { case: "idsQuery", value: { ids } } });
        if (userId) queries.push({ query: { case: "userIdQuery", value: { id: userId } } });
        const query = limit === undefined ? undefined : { limit, offset: BigInt(offset ?? 0) };
        const r = await c.listSessions({ query, queries });
        if (typeof r.details?.totalResult !== "bigint") throw new Error(`details.totalResult is ${r.details?.totalResult}`);
        return { total: Number(r.details.totalResult), ids: r.sessions.map((s) => s.id) };
      },
      async delete({ sessionId, sessionToken }) {
        await c.deleteSession({ sessionId, sessionToken });
      },
    };
  };
}

// ---- nice-grpc (ts-proto messages) ----
function niceGrpc(clientFor) {
  return (token) => {
    const { client: c, close } = clientFor(token);
    return {
      close,
      code: (e) => (e instanceof ClientError ? e.code : `not a ClientError: ${e}`),
      async create({ loginName, password, metadata, lifetimeSeconds }) {
        const checks = { user: { loginName } };
        if (password !== undefined) checks.password = { password };
        const r = await c.createSession({ checks, metadata, lifetime: { seconds: lifetimeSeconds, nanos: 0 } });
        return { sessionId: r.sessionId, sessionToken: r.sessionToken };
      },
      async get({ sessionId, sessionToken }) {
        const { session: s } = await c.getSession({ sessionId, sessionToken });
        if (!s) throw new Error("GetSessionResponse without session");
        return {
          id: s.id,
          loginName: s.factors?.user?.loginName,
          userId: s.factors?.user?.id,
          passwordVerified: s.factors?.password?.verifiedAt instanceof Date,
          metadata: s.metadata,
          expirationDate: s.expirationDate,
        };
      },
      async set({ sessionId, sessionToken, metadata }) {
        const r = await c.setSession({ sessionId, sessionToken, metadata });
        return { sessionToken: r.sessionToken };
      },
      async list({ ids, userId, limit, offset }) {
        const queries = [];
        if (ids) queries.push({ idsQuery: { ids } });
        if (userId) queries.push({ userIdQuery: { id: userId } });
        const query = limit === undefined ? undefined : { limit, offset: offset ?? 0 };
        const r = await c.listSessions({ query, queries });
        const total = r.details?.totalResult;
        if (!total || typeof total.toNumber !== "function") throw new Error(`details.totalResult is ${total}`);
        return { total: total.toNumber(), ids: r.sessions.map((s) => s.id) };
      },
      async delete({ sessionId, sessionToken }) {
        await c.deleteSession({ sessionId, sessionToken });
      },
    };
  };
}

export function adapters(baseUrl) {
  const hostPort = new URL(baseUrl).host;
  const services = { v2: SessionServiceV2, v2beta: SessionServiceV2beta };
  const out = {};
  for (const [version, service] of Object.entries(services)) {
    out[`zitadel-client/grpc/${version}`] = connectEs(service, (token) => createServerTransport(token, { baseUrl }));
    out[`zitadel-client/grpc-web/${version}`] = connectEs(service, (token) => createClientTransport(token, { baseUrl }));
    out[`connect-node/connect-binary/${version}`] = connectEs(service, (token) =>
      createConnectTransport({ baseUrl, httpVersion: "2", useBinaryFormat: true, interceptors: [bearer(token)] }),
    );
    out[`connect-node/connect-json/${version}`] = connectEs(service, (token) =>
      createConnectTransport({ baseUrl, httpVersion: "1.1", useBinaryFormat: false, interceptors: [bearer(token)] }),
    );
    out[`connect-node/grpc-web/${version}`] = connectEs(service, (token) =>
      createGrpcWebTransport({ baseUrl, httpVersion: "1.1", interceptors: [bearer(token)] }),
    );
  }
  // @zitadel/node's own helper builds the v2beta client; v2 goes through the
  // v2 definition it ships, on a nice-grpc channel built the same way.
  out["zitadel-node/grpc/v2beta"] = niceGrpc((token) => {
    const client = createSessionClient(hostPort, createAccessTokenInterceptor(token));
    return { client, close: undefined };
  });
  out["zitadel-node/grpc/v2"] = niceGrpc((token) => {
    const channel = createChannel(hostPort);
    const client = createClientFactory().use(createAccessTokenInterceptor(token)).create(NiceSessionServiceV2, channel);
    return { client, close: () => channel.close() };
  });
  return out;
}

export { Code };
