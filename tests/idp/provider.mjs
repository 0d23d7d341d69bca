// Test-only OpenID provider for Causeway's integration tests.
//
// Wraps the real `oidc-provider` package (we did not write the OP; we only configure it).
// Protocol (see README.md next to this file):
//   * configuration: JSON in the env var IDP_CONFIG (every field optional);
//   * listens on 127.0.0.1, port 0 (ephemeral) unless `port` is given;
//   * once listening, prints exactly one line on stdout:
//       {"issuer":"http://127.0.0.1:PORT","port":PORT}
//     Everything else (oidc-provider notices, errors, debug logs) goes to stderr;
//   * exits when stdin reaches EOF (unless `exit_on_stdin_close` is false), on SIGTERM and SIGINT;
//   * POST /__admin/rotate replaces the signing keys and answers with the new public JWKS.

import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';

import { Provider } from 'oidc-provider';

// ---------------------------------------------------------------------------------------------
// stdout is reserved for the single "ready" line. oidc-provider prints notices with console.info
// (i.e. to stdout), so every console method is pointed at stderr before anything else runs.
const writeStderr = (...args) => process.stderr.write(`${args.map(String).join(' ')}\n`);
console.log = writeStderr;
console.info = writeStderr;
console.debug = writeStderr;
console.warn = writeStderr;
console.error = writeStderr;
const log = (...args) => writeStderr('[test-idp]', ...args);

function fail(message) {
  log(`fatal: ${message}`);
  process.exit(2);
}

// ---------------------------------------------------------------------------------------------
// Configuration

const SUPPORTED_ALGS = ['RS256', 'PS256', 'ES256', 'EdDSA'];
const AUTH_METHODS = ['client_secret_basic', 'client_secret_post'];
const STANDARD_ACCOUNT_FIELDS = [
  'email', 'email_verified', 'given_name', 'family_name', 'name', 'phone_number', 'phone_number_verified',
];
// Discovery members whose endpoint may be served from another loopback address (`hosts`).
const HOSTED_ENDPOINTS = ['authorization_endpoint', 'token_endpoint', 'userinfo_endpoint', 'jwks_uri', 'end_session_endpoint'];

const DEFAULT_CLIENT = {
  client_id: 'causeway',
  client_secret: 'causeway-secret',
  redirect_uris: ['http://127.0.0.1:8080/callback'],
  post_logout_redirect_uris: ['http://127.0.0.1:8080/'],
};

const DEFAULT_ACCOUNT = {
  sub: 'alice',
  email: 'alice@example.com',
  email_verified: true,
  given_name: 'Alice',
  family_name: 'Example',
  claims: {},
};

function readConfig() {
  const raw = process.env.IDP_CONFIG;
  if (raw === undefined || raw.trim() === '') return {};
  let parsed;
  try {
    parsed = JSON.parse(raw);
  } catch (err) {
    return fail(`IDP_CONFIG is not valid JSON: ${err.message}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    return fail('IDP_CONFIG must be a JSON object');
  }
  return parsed;
}

function normalizeClient(input, index) {
  if (input === null || typeof input !== 'object') fail(`clients[${index}] must be an object`);
  const client = {
    token_endpoint_auth_method: 'client_secret_basic',
    id_token_signed_response_alg: 'RS256',
    grant_types: ['authorization_code'],
    response_types: ['code'],
    post_logout_redirect_uris: [],
    // Any other client metadata oidc-provider recognises is passed through as given.
    ...input,
  };
  for (const field of ['client_id', 'client_secret']) {
    if (typeof client[field] !== 'string' || client[field] === '') {
      fail(`clients[${index}].${field} must be a non-empty string`);
    }
  }
  if (!Array.isArray(client.redirect_uris) || client.redirect_uris.length === 0) {
    fail(`clients[${index}].redirect_uris must be a non-empty array`);
  }
  if (!AUTH_METHODS.includes(client.token_endpoint_auth_method)) {
    fail(`clients[${index}].token_endpoint_auth_method must be one of ${AUTH_METHODS.join(', ')}`);
  }
  if (!SUPPORTED_ALGS.includes(client.id_token_signed_response_alg)) {
    fail(`clients[${index}].id_token_signed_response_alg must be one of ${SUPPORTED_ALGS.join(', ')}`);
  }
  return client;
}

function normalizeAccount(input, index) {
  if (input === null || typeof input !== 'object') fail(`accounts[${index}] must be an object`);
  if (typeof input.sub !== 'string' || input.sub === '') fail(`accounts[${index}].sub must be a non-empty string`);
  const claims = input.claims ?? {};
  if (claims === null || typeof claims !== 'object' || Array.isArray(claims)) {
    fail(`accounts[${index}].claims must be an object`);
  }
  return { ...input, claims };
}

// `hosts`: discovery member -> loopback address (e.g. {"token_endpoint": "127.0.0.3"}). The
// provider also listens on each address named (its own ephemeral port) and discovery points the
// member there: an IdM whose endpoints live on several hosts, as some real ones do.
function readHosts(raw) {
  if (raw === undefined) return {};
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) fail('hosts must be an object');
  for (const [member, address] of Object.entries(raw)) {
    if (!HOSTED_ENDPOINTS.includes(member)) fail(`hosts: ${member} is not one of ${HOSTED_ENDPOINTS.join(', ')}`);
    if (typeof address !== 'string' || !/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(address)) {
      fail(`hosts.${member} must be a 127.x.y.z address`);
    }
  }
  return raw;
}

function loadSettings() {
  const config = readConfig();

  const clients = (config.clients ?? [DEFAULT_CLIENT]).map(normalizeClient);
  const accounts = (config.accounts ?? [DEFAULT_ACCOUNT]).map(normalizeAccount);

  const clientAlgs = clients.map((c) => c.id_token_signed_response_alg);
  const algorithms = [...new Set(config.algorithms ?? ['RS256', ...clientAlgs])];
  for (const alg of algorithms) {
    if (!SUPPORTED_ALGS.includes(alg)) fail(`algorithms: ${alg} is not one of ${SUPPORTED_ALGS.join(', ')}`);
  }
  for (const alg of clientAlgs) {
    if (!algorithms.includes(alg)) fail(`a client uses ${alg} but algorithms does not list it`);
  }

  const port = config.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) fail('port must be an integer in 0..65535');

  return {
    port,
    clients,
    accounts,
    algorithms,
    pairwise: config.pairwise === true,
    pairwiseSalt: String(config.pairwise_salt ?? 'causeway-test-idp'),
    claimsScope: String(config.claims_scope ?? 'profile'),
    issuerOverride: config.issuer_override,
    conformIdTokenClaims: config.conform_id_token_claims === true,
    backchannelLogout: config.backchannel_logout === true,
    hosts: readHosts(config.hosts),
    exitOnStdinClose: config.exit_on_stdin_close !== false,
    debug: config.debug === true,
  };
}

// ---------------------------------------------------------------------------------------------
// Signing keys

// Pre-generated (keys.json, written by make-keys.mjs): a start generates no key. Each rotation
// takes the next generation of every algorithm's key.
const KEYS = JSON.parse(fs.readFileSync(new URL('./keys.json', import.meta.url), 'utf8'));

function signingKey(alg, generation) {
  const generations = KEYS[alg];
  if (!generations) throw new Error(`unsupported algorithm ${alg}`);
  return generations[generation % generations.length];
}

const keySet = (algorithms, generation) => algorithms.map((alg) => signingKey(alg, generation));

// ---------------------------------------------------------------------------------------------
// Storage
//
// oidc-provider's built-in memory adapter keeps a separate store per Provider instance, and key
// rotation builds a new instance. This adapter (the documented adapter interface over one
// process-wide Map) lets sessions, grants, interactions and codes survive a rotation.

const GRANTABLE = new Set([
  'AccessToken', 'AuthorizationCode', 'RefreshToken', 'DeviceCode', 'BackchannelAuthenticationRequest',
]);

class SharedMemoryAdapter {
  static #store = new Map(); // key -> { value, expiresAt (ms epoch) | undefined }

  static #get(key) {
    const entry = SharedMemoryAdapter.#store.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt !== undefined && entry.expiresAt <= Date.now()) {
      SharedMemoryAdapter.#store.delete(key);
      return undefined;
    }
    return entry.value;
  }

  static #set(key, value, expiresIn) {
    const expiresAt = typeof expiresIn === 'number' ? Date.now() + expiresIn * 1000 : undefined;
    SharedMemoryAdapter.#store.set(key, { value, expiresAt });
  }

  constructor(model) {
    this.model = model;
  }

  key(id) {
    return `${this.model}:${id}`;
  }

  async upsert(id, payload, expiresIn) {
    const key = this.key(id);
    SharedMemoryAdapter.#set(key, payload, expiresIn);
    if (this.model === 'Session') SharedMemoryAdapter.#set(`sessionUid:${payload.uid}`, id, expiresIn);
    if (payload.userCode) SharedMemoryAdapter.#set(`userCode:${payload.userCode}`, id, expiresIn);
    if (payload.grantId && GRANTABLE.has(this.model)) {
      const grantKey = `grant:${payload.grantId}`;
      const members = SharedMemoryAdapter.#get(grantKey) ?? new Set();
      members.add(key);
      SharedMemoryAdapter.#set(grantKey, members);
    }
  }

  async find(id) {
    return SharedMemoryAdapter.#get(this.key(id));
  }

  async findByUid(uid) {
    const id = SharedMemoryAdapter.#get(`sessionUid:${uid}`);
    return id === undefined ? undefined : this.find(id);
  }

  async findByUserCode(userCode) {
    const id = SharedMemoryAdapter.#get(`userCode:${userCode}`);
    return id === undefined ? undefined : this.find(id);
  }

  async consume(id) {
    const payload = SharedMemoryAdapter.#get(this.key(id));
    if (payload) payload.consumed = Math.floor(Date.now() / 1000);
  }

  async destroy(id) {
    SharedMemoryAdapter.#store.delete(this.key(id));
  }

  async revokeByGrantId(grantId) {
    const grantKey = `grant:${grantId}`;
    for (const key of SharedMemoryAdapter.#get(grantKey) ?? []) SharedMemoryAdapter.#store.delete(key);
    SharedMemoryAdapter.#store.delete(grantKey);
  }
}

// ---------------------------------------------------------------------------------------------
// Provider

const htmlEscape = (value) => String(value)
  .replaceAll('&', '&amp;')
  .replaceAll('<', '&lt;')
  .replaceAll('>', '&gt;')
  .replaceAll('"', '&quot;')
  .replaceAll("'", '&#39;');

function page(title, body) {
  return `<!DOCTYPE html>
<html>
<head><meta charset="utf-8"><title>${htmlEscape(title)}</title></head>
<body>
${body}
</body>
</html>`;
}

function accountClaims(account) {
  const claims = { sub: account.sub };
  for (const field of STANDARD_ACCOUNT_FIELDS) {
    // Present in the account config => emitted exactly as given (any JSON value, e.g. a string
    // "true" for email_verified in negative tests); absent => the claim is absent.
    if (Object.hasOwn(account, field)) claims[field] = account[field];
  }
  return { ...claims, ...account.claims, sub: account.sub };
}

function buildProvider(issuer, settings, state) {
  const accountsBySub = new Map(settings.accounts.map((a) => [a.sub, a]));

  // Claim names must be known up front: oidc-provider only emits claims that a granted scope
  // lists in `claims`. Custom (URL-named) claims go under `claims_scope` (default "profile").
  const customClaimNames = [...new Set(settings.accounts.flatMap((a) => Object.keys(a.claims)))];
  const claims = {
    acr: null,
    sid: null,
    auth_time: null,
    iss: null,
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['given_name', 'family_name', 'name'],
    phone: ['phone_number', 'phone_number_verified'],
  };
  claims[settings.claimsScope] = [...new Set([...(claims[settings.claimsScope] ?? []), ...customClaimNames])];

  const provider = new Provider(issuer, {
    adapter: SharedMemoryAdapter,
    clients: settings.clients,
    jwks: { keys: state.keys.map((k) => k.privateJwk) },
    cookies: { keys: state.cookieKeys },

    async findAccount(ctx, id) {
      const account = accountsBySub.get(id);
      if (!account) {
        log(`findAccount: no account with sub ${JSON.stringify(id)}`);
        return undefined;
      }
      return {
        accountId: account.sub,
        async claims() {
          return accountClaims(account);
        },
      };
    },

    claims,
    // false (the default here): the scope-requested claims go into the ID token itself. true (the
    // library's default): with an access token issued, the ID token carries only `sub` and the
    // protocol claims, and the profile is read at userinfo, as many real IdMs do.
    conformIdTokenClaims: settings.conformIdTokenClaims,

    // oidc-provider 9 only *requires* PKCE for public clients and FAPI profiles by default; we
    // require it for every client. Only S256 is accepted (the library's default method list).
    pkce: { required: () => true },

    subjectTypes: settings.pairwise ? ['pairwise'] : ['public'],
    async pairwiseIdentifier(ctx, accountId, client) {
      return crypto.createHash('sha256')
        .update(`${client.sectorIdentifier}\0${accountId}\0${settings.pairwiseSalt}`)
        .digest('hex');
    },

    // With back-channel logout on, the provider posts logout tokens to the relying party.
    // Its outgoing requests refuse special-use addresses (an SSRF guard); the relying party
    // under test listens on 127.0.0.1, so this test-only provider lets them through.
    ...(settings.backchannelLogout ? {
      fetch: (url, options) => {
        const { dispatcher, ...rest } = options ?? {};
        return globalThis.fetch(url, rest);
      },
    } : {}),

    features: {
      // The library's own development login / consent pages (plain HTML forms).
      devInteractions: { enabled: true },
      // OpenID Connect Back-Channel Logout 1.0 (`backchannel_logout: true`): discovery
      // advertises it, and clients may register backchannel_logout_uri (and
      // backchannel_logout_session_required, which also puts `sid` in ID tokens).
      backchannelLogout: { enabled: settings.backchannelLogout },
      rpInitiatedLogout: {
        enabled: true,
        // The confirmation page carries `logout=yes` as a hidden input, so a non-browser client
        // completes the logout by submitting the form's hidden inputs as they are.
        async logoutSource(ctx, form) {
          if (!form.includes('</form>')) throw new Error('unexpected logout form markup');
          const confirmForm = form.replace('</form>', '<input type="hidden" name="logout" value="yes"/></form>');
          ctx.type = 'html';
          ctx.body = page('Sign out', `<h1>Sign out of ${htmlEscape(ctx.host)}?</h1>
${confirmForm}
<button type="submit" form="op.logoutForm">Yes, sign me out</button>`);
        },
        async postLogoutSuccessSource(ctx) {
          ctx.type = 'html';
          ctx.body = page('Signed out', '<h1>Signed out</h1>');
        },
      },
    },

    async renderError(ctx, out) {
      ctx.type = 'html';
      ctx.body = page('Error', Object.entries(out)
        .map(([key, value]) => `<pre><strong>${htmlEscape(key)}</strong>: ${htmlEscape(value)}</pre>`)
        .join('\n'));
    },

    // Explicit lifetimes (the library warns when left at its defaults).
    ttl: {
      AccessToken: 3600,
      AuthorizationCode: 60,
      ClientCredentials: 600,
      IdToken: 3600,
      Interaction: 3600,
      Grant: 14 * 24 * 3600,
      Session: 14 * 24 * 3600,
      RefreshToken: 14 * 24 * 3600,
    },
  });

  // Log every error event to stderr (authorization.error, grant.error, end_session.error, ...).
  const emit = provider.emit.bind(provider);
  provider.emit = (name, ...args) => {
    if (typeof name === 'string' && name.endsWith('error')) {
      const err = args.find((a) => a instanceof Error);
      log(`${name}: ${err ? `${err.name}: ${err.message}${err.error_description ? ` (${err.error_description})` : ''}` : ''}`);
    }
    return emit(name, ...args);
  };

  provider.use(async (ctx, next) => {
    await next();
    if (settings.debug) log(`${ctx.method} ${ctx.originalUrl} -> ${ctx.status}`);
    if (ctx.oidc?.route === 'discovery' && ctx.body) {
      const body = { ...ctx.body };
      if (settings.issuerOverride !== undefined) body.issuer = settings.issuerOverride;
      for (const [member, origin] of Object.entries(state.hostOrigins ?? {})) {
        if (typeof body[member] === 'string') {
          const moved = new URL(body[member]);
          body[member] = `${origin}${moved.pathname}${moved.search}`;
        }
      }
      ctx.body = body;
    }
  });

  return provider;
}

// ---------------------------------------------------------------------------------------------
// Server, admin endpoint, lifecycle

function sendJson(res, status, body) {
  const payload = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(payload),
    'cache-control': 'no-store',
  });
  res.end(payload);
}

async function readBody(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

// devInteractions accepts any login and only finds out later that no such account exists (a
// server_error). A login form naming an unknown `sub` ends the authorization request instead
// with error=access_denied at the client's redirect_uri; everything else goes on to
// oidc-provider, which takes the already-read body from req.body.
async function submitInteraction(req, res, settings, state) {
  const body = await readBody(req);
  const form = new URLSearchParams(body);
  if (form.get('prompt') === 'login' && !settings.accounts.some((a) => a.sub === form.get('login'))) {
    log(`login rejected: no account with sub ${JSON.stringify(form.get('login'))}`);
    await state.provider.interactionFinished(req, res, {
      error: 'access_denied',
      error_description: 'unknown login',
    }, { mergeWithLastSubmission: false });
    return;
  }
  req.body = body;
  state.handler(req, res);
}

function install(state, provider) {
  state.provider = provider;
  state.handler = provider.callback();
}

function main() {
  const settings = loadSettings();
  const state = {
    generation: 0,
    keys: keySet(settings.algorithms, 0),
    // Cookie signing keys stay the same across key rotations so sessions survive them.
    cookieKeys: [crypto.randomBytes(32).toString('base64url')],
    provider: null,
    handler: null,
  };

  const handle = (req, res) => {
    const path = req.url.split('?')[0];
    if (path === '/__admin/rotate') {
      if (req.method !== 'POST') {
        res.setHeader('allow', 'POST');
        sendJson(res, 405, { error: 'method_not_allowed' });
        return;
      }
      req.resume(); // ignore any request body
      req.on('end', () => {
        try {
          const oldKids = state.keys.map((k) => k.publicJwk.kid);
          state.generation += 1;
          state.keys = keySet(settings.algorithms, state.generation);
          // A new Provider instance with the new keystore replaces the old one. Sessions, grants
          // and interactions live in SharedMemoryAdapter, which every instance in this process
          // shares, and the cookie keys are unchanged: logins survive the rotation.
          install(state, buildProvider(state.issuer, settings, state));
          const jwks = { keys: state.keys.map((k) => k.publicJwk) };
          log(`rotated signing keys: ${oldKids.join(',')} -> ${jwks.keys.map((k) => k.kid).join(',')}`);
          sendJson(res, 200, jwks);
        } catch (err) {
          log(`rotation failed: ${err.stack}`);
          sendJson(res, 500, { error: 'rotation_failed', error_description: err.message });
        }
      });
      return;
    }
    if (path.startsWith('/__admin/')) {
      sendJson(res, 404, { error: 'not_found' });
      return;
    }
    if (req.method === 'POST' && /^\/interaction\/[^/]+$/.test(path)) {
      submitInteraction(req, res, settings, state).catch((err) => {
        log(`interaction submit failed: ${err.stack}`);
        if (!res.headersSent) sendJson(res, 500, { error: 'server_error' });
      });
      return;
    }
    state.handler(req, res);
  };
  const server = http.createServer(handle);
  const extraServers = [];

  const shutdown = (why) => {
    log(`shutting down (${why})`);
    for (const s of [server, ...extraServers]) {
      s.close();
      s.closeAllConnections();
    }
    process.exit(0);
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  if (settings.exitOnStdinClose) {
    process.stdin.on('end', () => shutdown('stdin closed'));
    process.stdin.on('error', () => shutdown('stdin error'));
    process.stdin.resume();
  }

  server.on('error', (err) => fail(`cannot listen: ${err.message}`));
  const listen = (srv, port, address) => new Promise((resolve) => {
    srv.listen(port, address, () => resolve(srv.address().port));
  });
  (async () => {
    const port = await listen(server, settings.port, '127.0.0.1');
    state.issuer = `http://127.0.0.1:${port}`;
    // One more listener per other address in `hosts`, serving the same provider.
    const origins = new Map();
    state.hostOrigins = {};
    for (const [member, address] of Object.entries(settings.hosts)) {
      if (!origins.has(address)) {
        const extra = http.createServer(handle);
        extra.on('error', (err) => fail(`cannot listen on ${address}: ${err.message}`));
        extraServers.push(extra);
        origins.set(address, `http://${address}:${await listen(extra, 0, address)}`);
      }
      state.hostOrigins[member] = origins.get(address);
    }
    try {
      install(state, buildProvider(state.issuer, settings, state));
    } catch (err) {
      fail(`invalid provider configuration: ${err.message}`);
    }
    log(`listening on ${state.issuer} ${[...origins.values()].join(' ')} (signing keys: ${state.keys.map((k) => k.publicJwk.kid).join(', ')})`);
    process.stdout.write(`${JSON.stringify({ issuer: state.issuer, port, hosts: state.hostOrigins })}\n`);
  })();
}

main();
