// Names for the generated types the flow uses, taken from the generated
// `paths` exactly as a client would (`["content"]["application/json"]`), plus
// compile-time checks of properties of the documents that a client relies on.
// Nothing here is emitted at run time except the constants at the bottom.

import type { paths as AdminPaths, components as AdminComponents } from "../generated/admin-v1.js";
import type { paths as OamPaths, components as OamComponents } from "../generated/oam-session-v1.js";
import type { paths as ZitadelPaths, components as ZitadelComponents } from "../generated/zitadel-session-v2alpha.js";

export type { AdminPaths, OamPaths, ZitadelPaths };

// --- admin -------------------------------------------------------------------

export type CreateUserBody = AdminPaths["/admin/v1/users"]["post"]["requestBody"]["content"]["application/json"];
export type CreateUserCreated = AdminPaths["/admin/v1/users"]["post"]["responses"][201]["content"]["application/json"];
export type CreateKeyBody = AdminPaths["/admin/v1/keys"]["post"]["requestBody"]["content"]["application/json"];
export type CreateKeyCreated = AdminPaths["/admin/v1/keys"]["post"]["responses"][201]["content"]["application/json"];
export type AdminUser = AdminPaths["/admin/v1/users/{userId}"]["get"]["responses"][200]["content"]["application/json"];
export type AdminError = AdminPaths["/admin/v1/users"]["post"]["responses"][409]["content"]["application/json"];
export type Permission = AdminComponents["schemas"]["CreateKeyRequest"]["permissions"][number];

// --- ZITADEL -----------------------------------------------------------------

export type CreateSessionBody =
  ZitadelPaths["/v2alpha/sessions"]["post"]["requestBody"]["content"]["application/json"];
export type CreateSessionCreated =
  ZitadelPaths["/v2alpha/sessions"]["post"]["responses"][201]["content"]["application/json"];
export type GetSessionOk =
  ZitadelPaths["/v2alpha/sessions/{sessionId}"]["get"]["responses"][200]["content"]["application/json"];
export type SetSessionBody =
  ZitadelPaths["/v2alpha/sessions/{sessionId}"]["patch"]["requestBody"]["content"]["application/json"];
export type SetSessionOk =
  ZitadelPaths["/v2alpha/sessions/{sessionId}"]["patch"]["responses"][200]["content"]["application/json"];
export type ListSessionsBody =
  ZitadelPaths["/v2alpha/sessions/search"]["post"]["requestBody"]["content"]["application/json"];
export type ListSessionsOk =
  ZitadelPaths["/v2alpha/sessions/search"]["post"]["responses"][200]["content"]["application/json"];
export type RpcStatus =
  ZitadelPaths["/v2alpha/sessions/{sessionId}"]["get"]["responses"][404]["content"]["application/json"];
export type ZitadelSession = ZitadelComponents["schemas"]["v2alphaSession"];
export type Checks = NonNullable<CreateSessionBody["checks"]>;
export type CheckUser = NonNullable<Checks["user"]>;

// --- OAM ---------------------------------------------------------------------

export type OamSessionData = OamComponents["schemas"]["SessionData"];
export type OamCreateBody =
  OamPaths["/oam/services/rest/access/api/v1/session"]["post"]["requestBody"]["content"]["application/json"];
export type OamCreateOk =
  OamPaths["/oam/services/rest/access/api/v1/session"]["post"]["responses"][200]["content"]["application/json"];
export type OamSearchBody = NonNullable<
  OamPaths["/oam/services/rest/access/api/v1/sessions"]["post"]["requestBody"]
>["content"]["application/json"];
export type OamSearchOk =
  OamPaths["/oam/services/rest/access/api/v1/sessions"]["post"]["responses"][200]["content"]["application/json"];
export type OamDeleteOk =
  OamPaths["/oam/services/rest/access/api/v1/session"]["delete"]["responses"][200]["content"]["application/json"];
export type OamError =
  OamPaths["/oam/services/rest/access/api/v1/session/{sessionId}"]["get"]["responses"][404]["content"]["application/json"];

// --- compile-time checks of the documents ------------------------------------
// Each constant only compiles when the generated types say what the server
// does; a document change that breaks one fails `tsc --strict --noEmit`.

type IsOptional<T, K extends keyof T> = {} extends Pick<T, K> ? true : false;
type Assignable<From, To> = [From] extends [To] ? true : false;
/** "ok" when the condition holds; otherwise the message, so tsc prints it. */
type Expect<Holds extends boolean, Message extends string> = [Holds] extends [true] ? "ok" : Message;

export const listSessionsIsOptional: Expect<IsOptional<ListSessionsOk, "sessions">, "ZITADEL ListSessionsResponse.sessions must be optional (omitted when nothing matches)"> = "ok";
export const rpcDetailsIsOptional: Expect<IsOptional<RpcStatus, "details">, "ZITADEL rpcStatus.details must be optional (absent on errors raised before the service)"> = "ok";
export const checkUserById: Expect<Assignable<{ userId: string }, CheckUser>, "ZITADEL checks.user must accept { userId }"> = "ok";
export const checkUserByLoginName: Expect<Assignable<{ loginName: string }, CheckUser>, "ZITADEL checks.user must accept { loginName }"> = "ok";
export const checkUserNeedsOne: Expect<Assignable<{}, CheckUser> extends false ? true : false, "ZITADEL checks.user must require userId or loginName"> = "ok";
export const oamCreateMinimal: Expect<Assignable<{ userId: string }, OamCreateBody>, "OAM create must accept { userId } alone"> = "ok";
export const oamCreateNeedsUserId: Expect<Assignable<{ clientIp: string }, OamCreateBody> extends false ? true : false, "OAM create must require userId"> = "ok";
export const permissionIsEnum: Expect<Assignable<string, Permission> extends false ? true : false, "admin permissions must be an enum"> = "ok";
