// A partner's journey through openapi-fetch, typed by openapi-typescript from Causeway's
// served OpenAPI document (./schema.d.ts, generated next to this file by the test).
//
// Run by tests/it/generated_clients.rs: compiled with tsc (which fails on any type error,
// including an unused @ts-expect-error), then run with node. CAUSEWAY_URL, APP_ID and
// APP_TOKEN come from the environment; the last line printed is a JSON object the Rust
// test verifies against the database.

import createClient from "openapi-fetch";
import type { components, paths } from "./schema.js";

type Schemas = components["schemas"];

function check(condition: boolean, what: string, seen?: unknown): asserts condition {
  if (!condition) {
    throw new Error(`${what}: ${JSON.stringify(seen)}`);
  }
}

const env = (name: string): string => {
  const value = process.env[name];
  check(value !== undefined, `${name} is set`);
  return value;
};

// What a partner writes once: the three headers every call carries.
const headers = { "App-Id": env("APP_ID"), "App-Token": env("APP_TOKEN"), "Api-Version": "3.0" };
const client = createClient<paths, "application/json">({ baseUrl: env("CAUSEWAY_URL"), headers });

// Enums are types: a role or a kind that does not exist does not compile.
// @ts-expect-error "admin" is not a Role
const notARole: Schemas["Role"] = "admin";
// @ts-expect-error "saml" is not an IdmKind
const notAKind: Schemas["IdmKind"] = "saml";
void notARole;
void notAKind;

const key = `ts-${crypto.randomUUID()}`;
const body: Schemas["LegalEntityCreate"] = {
  country: "US",
  controller: { email: "owner@ts-shop.example", email_is_verified: true },
  terms_of_service: { acceptance_time: Math.floor(Date.now() / 1000) - 60, original_ip: "198.51.100.4" },
};

// Create, then the same request again: the first answer, marked as a replay.
const first = await client.POST("/legal_entities", { body, params: { header: { "Unique-Key": key } } });
check(first.response.status === 201 && first.data !== undefined, "created", first.error);
const entity = first.data;
check(entity.resource === "legal_entities", "resource", entity);
check(first.response.headers.get("Idempotent-Replayed") === null, "the first answer is no replay");
const again = await client.POST("/legal_entities", { body, params: { header: { "Unique-Key": key } } });
check(again.data?.id === entity.id, "replayed the first answer", again.data);
check(again.response.headers.get("Idempotent-Replayed") === "true", "marked as a replay");

const read = await client.GET("/legal_entities/{id}", { params: { path: { id: entity.id } } });
check(read.data?.controller.email === "owner@ts-shop.example", "read back", read.data);

// The same key with another body: a typed 409.
const conflict = await client.POST("/legal_entities", { body: { ...body, country: "FR" }, params: { header: { "Unique-Key": key } } });
check(conflict.response.status === 409, "409", conflict.error);
const conflictCode: Schemas["ErrorCode"] | undefined = conflict.error?.error_code;
check(conflictCode === "IDEMPOTENCY_CONFLICT", "IDEMPOTENCY_CONFLICT", conflict.error);

// An account; null for the optional description means "not set".
const account = await client.POST("/accounts", { body: { legal_entity_id: entity.id, name: "TS Shop", description: null } });
check(account.data !== undefined && account.data.resource === "accounts", "account", account.error);
check(account.data.description === undefined, "no description", account.data);
const accountId: string = account.data.id;

// A validation error, read through the typed error body.
const invalid = await client.POST("/accounts", { body: { legal_entity_id: entity.id, name: " " } });
check(invalid.response.status === 400 && invalid.error !== undefined, "400", invalid.error);
const detail: Schemas["ErrorDetail"] | undefined = invalid.error.details[0];
check(detail?.target.join(".") === "name" && detail.reason_code === "INVALID_LENGTH", "names the field", invalid.error);

// Another id: 404. A wrong token: 401.
const missing = await client.GET("/accounts/{id}", { params: { path: { id: crypto.randomUUID() } } });
check(missing.response.status === 404 && missing.error?.error_code === "NOT_FOUND", "404", missing.error);
const stranger = createClient<paths, "application/json">({ baseUrl: env("CAUSEWAY_URL"), headers: { ...headers, "App-Token": "cwt_not-the-token" } });
const refused = await stranger.GET("/accounts/{id}", { params: { path: { id: accountId } } });
check(refused.response.status === 401 && refused.error?.error_code === "NOT_AUTHORIZED", "401", refused.error);

// Access for a clerk, and the account's users.
const role: Schemas["Role"] = "moderator";
const granted = await client.POST("/accounts/{id}/users", { params: { path: { id: accountId } }, body: { email: "clerk@ts-shop.example", role } });
check(granted.response.status === 201 && granted.data?.source === "grant", "granted", granted.error);
const users = await client.GET("/accounts/{id}/users", { params: { path: { id: accountId } } });
check(users.data?.users.map((u) => u.email).join() === "clerk@ts-shop.example", "users", users.data);

// A deep link to the business details.
const target: Schemas["LinkTarget"] = "kyc";
const link = await client.POST("/accounts/{id}/links", { params: { path: { id: accountId } }, body: { target } });
check(link.response.status === 201 && (link.data?.url ?? "").includes("/links/") && typeof link.data?.expires_at === "number", "deep link", link.error);

// The Partner API: branding and the IdM configuration.
const branding = await client.PUT("/partner/branding", { body: { display_name: "TS Pay", brand_color: "#0E7490", support_label: null } });
check(branding.data?.brand_color === "#0E7490", "branding", branding.error);
const idm = await client.PUT("/partner/idm", {
  body: {
    kind: "oidc",
    issuer: "http://127.0.0.1:9/",
    client_id: "causeway",
    client_secret: "from-the-idm",
    token_endpoint_auth_method: "client_secret_basic",
    userinfo: "always",
    domain: "ts-shop.example",
    logout_url: "https://ts-shop.example/signed-out",
  },
});
check(idm.data?.client_secret_set === true && idm.data.config?.userinfo === "always", "IdM stored", idm.error);
const events = await client.GET("/partner/sso_events", { params: { query: { limit: 5 } } });
check(Array.isArray(events.data?.events), "events", events.error);

console.log(JSON.stringify({ legal_entity_id: entity.id, account_id: accountId, branding: branding.data.display_name }));
