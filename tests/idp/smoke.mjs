// End-to-end smoke test of provider.mjs, written the way a relying party would drive it:
// discovery, authorization code + PKCE S256 + state + nonce, redirects followed by hand with a
// cookie jar, the provider's HTML login / consent forms submitted, the code read from the
// Location header at the redirect_uri (nothing listens there), token exchange, ID token
// signature + claims checks, pairwise subjects, key rotation, RP-initiated logout, lifecycle.
//
// Usage: node tests/idp/smoke.mjs      (needs `npm ci --prefix tests/idp` first)
// Node built-ins and fetch only. Prints PASS/FAIL per check; exits non-zero on any failure.

import { spawn } from 'node:child_process';
import * as crypto from 'node:crypto';
import { fileURLToPath } from 'node:url';

const PROVIDER = fileURLToPath(new URL('./provider.mjs', import.meta.url));
const CUSTOM_CLAIM = 'https://partner.example/wepay_account_id';

// ---------------------------------------------------------------------------------------------
// Reporting

let passed = 0;
let failed = 0;

function check(name, ok, detail) {
  if (ok) {
    passed += 1;
    console.log(`PASS  ${name}`);
  } else {
    failed += 1;
    console.log(`FAIL  ${name}${detail === undefined ? '' : ` -- ${typeof detail === 'string' ? detail : JSON.stringify(detail)}`}`);
  }
  return ok;
}

function section(title) {
  console.log(`\n== ${title}`);
}

// ---------------------------------------------------------------------------------------------
// Provider process

async function startProvider(config) {
  const child = spawn(process.execPath, [PROVIDER], {
    env: { ...process.env, IDP_CONFIG: JSON.stringify(config) },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk) => { stdout += chunk; });
  child.stderr.setEncoding('utf8').on('data', (chunk) => { stderr += chunk; });
  const exited = new Promise((resolve) => {
    child.on('exit', (code, signal) => resolve({ code, signal }));
  });

  const deadline = Date.now() + 20_000;
  while (!stdout.includes('\n')) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`provider did not become ready; stderr:\n${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  const ready = JSON.parse(stdout.slice(0, stdout.indexOf('\n')));
  return {
    ...ready,
    child,
    exited,
    stdout: () => stdout,
    stderr: () => stderr,
  };
}

async function exitsWithin(op, ms) {
  const timeout = new Promise((resolve) => setTimeout(() => resolve(null), ms));
  return Promise.race([op.exited, timeout]);
}

// ---------------------------------------------------------------------------------------------
// A minimal "browser": cookie jar (name + path scoped) and manual redirects.

class Browser {
  #cookies = new Map(); // `${name}\0${path}` -> { name, value, path }

  #store(url, response) {
    for (const header of response.headers.getSetCookie()) {
      const [pair, ...attrs] = header.split(';').map((s) => s.trim());
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq);
      const value = pair.slice(eq + 1);
      let path = '/';
      let expired = value === '';
      for (const attr of attrs) {
        const [k, v = ''] = attr.split('=');
        const key = k.toLowerCase();
        if (key === 'path') path = v;
        if (key === 'expires' && Date.parse(v) <= Date.now()) expired = true;
        if (key === 'max-age' && Number(v) <= 0) expired = true;
      }
      const id = `${name}\0${path}`;
      if (expired) this.#cookies.delete(id);
      else this.#cookies.set(id, { name, value, path });
    }
  }

  #header(url) {
    const { pathname } = new URL(url);
    return [...this.#cookies.values()]
      .filter((c) => pathname === c.path || pathname.startsWith(c.path.endsWith('/') ? c.path : `${c.path}/`))
      .map((c) => `${c.name}=${c.value}`)
      .join('; ');
  }

  async request(url, { method = 'GET', form } = {}) {
    const headers = { accept: 'text/html,application/json' };
    const cookie = this.#header(url);
    if (cookie) headers.cookie = cookie;
    let body;
    if (form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(form).toString();
    }
    const response = await fetch(url, {
      method, headers, body, redirect: 'manual',
    });
    this.#store(url, response);
    const location = response.headers.get('location');
    return {
      url: String(url),
      status: response.status,
      location: location ? new URL(location, url).href : undefined,
      text: await response.text(),
    };
  }
}

// ---------------------------------------------------------------------------------------------
// HTML form parsing (what the Rust side does with its own parser)

const unescapeHtml = (s) => s
  .replace(/&quot;/g, '"').replace(/&#39;|&#x27;/g, "'")
  .replace(/&lt;/g, '<').replace(/&gt;/g, '>')
  .replace(/&amp;/g, '&');

function parseAttributes(source) {
  const attrs = {};
  for (const m of source.matchAll(/([^\s=/]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+)))?/g)) {
    attrs[m[1].toLowerCase()] = unescapeHtml(m[2] ?? m[3] ?? m[4] ?? '');
  }
  return attrs;
}

function parseForms(html) {
  return [...html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/gi)].map((m) => {
    const attrs = parseAttributes(m[1]);
    const inputs = [...m[2].matchAll(/<input\b([^>]*?)\/?>/gi)].map((i) => parseAttributes(i[1]));
    return {
      id: attrs.id, action: attrs.action, method: (attrs.method ?? 'get').toLowerCase(), inputs,
    };
  });
}

const hiddenFields = (form) => Object.fromEntries(
  form.inputs.filter((i) => i.type === 'hidden' && i.name).map((i) => [i.name, i.value ?? '']),
);

// ---------------------------------------------------------------------------------------------
// Relying-party helpers

const b64url = (buf) => Buffer.from(buf).toString('base64url');
const formEncode = (s) => new URLSearchParams({ x: s }).toString().slice(2);

async function discover(issuer) {
  const res = await fetch(`${issuer}/.well-known/openid-configuration`);
  if (res.status !== 200) throw new Error(`discovery returned ${res.status}`);
  return res.json();
}

async function getJwks(discovery) {
  const res = await fetch(discovery.jwks_uri);
  if (res.status !== 200) throw new Error(`jwks_uri returned ${res.status}`);
  return res.json();
}

// Runs one authorization request to completion. Returns the callback URL (code or error), the
// PKCE verifier / state / nonce used, and the list of provider forms that had to be submitted.
async function authorize(browser, discovery, client, { login, pkce = true, scope = 'openid email profile' } = {}) {
  const verifier = b64url(crypto.randomBytes(32));
  const state = b64url(crypto.randomBytes(16));
  const nonce = b64url(crypto.randomBytes(16));
  const redirectUri = client.redirect_uris[0];

  const url = new URL(discovery.authorization_endpoint);
  url.searchParams.set('client_id', client.client_id);
  url.searchParams.set('response_type', 'code');
  url.searchParams.set('scope', scope);
  url.searchParams.set('redirect_uri', redirectUri);
  url.searchParams.set('state', state);
  url.searchParams.set('nonce', nonce);
  if (pkce) {
    url.searchParams.set('code_challenge', b64url(crypto.createHash('sha256').update(verifier).digest()));
    url.searchParams.set('code_challenge_method', 'S256');
  }

  const forms = [];
  let res = await browser.request(url);
  for (let step = 0; step < 20; step += 1) {
    if ([301, 302, 303, 307, 308].includes(res.status)) {
      const target = new URL(res.location);
      if (`${target.origin}${target.pathname}` === redirectUri) {
        return {
          callback: target, verifier, state, nonce, forms, redirectUri,
        };
      }
      res = await browser.request(target);
    } else if (res.status === 200) {
      const [form] = parseForms(res.text);
      if (!form) throw new Error(`page without a form at ${res.url}: ${res.text.slice(0, 300)}`);
      const fields = hiddenFields(form);
      forms.push(fields.prompt ?? form.id ?? 'form');
      if (form.inputs.some((i) => i.name === 'login')) {
        fields.login = login;
        fields.password = 'any password at all';
      }
      res = await browser.request(new URL(form.action, res.url), { method: form.method, form: fields });
    } else {
      throw new Error(`unexpected ${res.status} at ${res.url}: ${res.text.slice(0, 300)}`);
    }
  }
  throw new Error('too many steps in the authorization flow');
}

async function exchangeCode(discovery, client, code, verifier, redirectUri) {
  const body = new URLSearchParams({
    grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: verifier,
  });
  const headers = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };
  if (client.token_endpoint_auth_method === 'client_secret_post') {
    body.set('client_id', client.client_id);
    body.set('client_secret', client.client_secret);
  } else {
    const credentials = `${formEncode(client.client_id)}:${formEncode(client.client_secret)}`;
    headers.authorization = `Basic ${Buffer.from(credentials).toString('base64')}`;
  }
  const res = await fetch(discovery.token_endpoint, { method: 'POST', headers, body });
  return { status: res.status, json: await res.json() };
}

function decodeJwt(jwt) {
  const [h, p, s] = jwt.split('.');
  return {
    header: JSON.parse(Buffer.from(h, 'base64url')),
    payload: JSON.parse(Buffer.from(p, 'base64url')),
    signingInput: Buffer.from(`${h}.${p}`),
    signature: Buffer.from(s, 'base64url'),
  };
}

function verifySignature(decoded, jwks) {
  const jwk = jwks.keys.find((k) => k.kid === decoded.header.kid);
  if (!jwk) return false;
  const key = crypto.createPublicKey({ key: jwk, format: 'jwk' });
  switch (decoded.header.alg) {
    case 'RS256':
      return crypto.verify('sha256', decoded.signingInput, key, decoded.signature);
    case 'PS256':
      return crypto.verify('sha256', decoded.signingInput, {
        key, padding: crypto.constants.RSA_PKCS1_PSS_PADDING, saltLength: 32,
      }, decoded.signature);
    case 'ES256':
      return crypto.verify('sha256', decoded.signingInput, { key, dsaEncoding: 'ieee-p1363' }, decoded.signature);
    case 'EdDSA':
      return crypto.verify(null, decoded.signingInput, key, decoded.signature);
    default:
      return false;
  }
}

// Login (or SSO) + code exchange + ID token decode; returns everything for assertions.
async function loginAndGetIdToken(browser, discovery, client, login) {
  const flow = await authorize(browser, discovery, client, { login });
  const code = flow.callback.searchParams.get('code');
  if (!code) throw new Error(`no code at redirect_uri: ${flow.callback}`);
  const token = await exchangeCode(discovery, client, code, flow.verifier, flow.redirectUri);
  if (token.status !== 200 || !token.json.id_token) {
    throw new Error(`token endpoint: ${token.status} ${JSON.stringify(token.json)}`);
  }
  return { flow, token, idToken: decodeJwt(token.json.id_token) };
}

// ---------------------------------------------------------------------------------------------
// Scenario 1: confidential client, client_secret_basic, RS256; rotation; logout; lifecycle.

async function scenarioBasic() {
  section('provider A: client_secret_basic + RS256, public subjects');
  const wepayId = crypto.randomUUID();
  const client = {
    client_id: 'rp-basic',
    client_secret: 's3cret:basic/+&',
    redirect_uris: ['http://127.0.0.1:9/callback'],
    post_logout_redirect_uris: ['http://127.0.0.1:9/logged-out'],
    token_endpoint_auth_method: 'client_secret_basic',
    id_token_signed_response_alg: 'RS256',
  };
  const op = await startProvider({
    clients: [client],
    accounts: [{
      sub: 'alice',
      email: 'alice@example.com',
      email_verified: true,
      given_name: 'Alice',
      family_name: 'Liddell',
      claims: { [CUSTOM_CLAIM]: wepayId },
    }],
    algorithms: ['RS256'],
  });
  try {
    check('ready line is {"issuer":"http://127.0.0.1:PORT","port":PORT}',
      Number.isInteger(op.port) && op.port > 0 && op.issuer === `http://127.0.0.1:${op.port}`
        && Object.keys(op).includes('issuer'), op.stdout());

    const discovery = await discover(op.issuer);
    check('discovery issuer equals the issuer URL', discovery.issuer === op.issuer, discovery.issuer);
    check('discovery: authorization_response_iss_parameter_supported is true',
      discovery.authorization_response_iss_parameter_supported === true);
    check('discovery: code_challenge_methods_supported is ["S256"]',
      JSON.stringify(discovery.code_challenge_methods_supported) === '["S256"]');
    check('discovery: end_session_endpoint advertised', typeof discovery.end_session_endpoint === 'string');
    check('discovery: custom URL-named claim listed in claims_supported',
      discovery.claims_supported.includes(CUSTOM_CLAIM), discovery.claims_supported);

    const browser = new Browser();

    const noPkce = await authorize(browser, discovery, client, { pkce: false });
    check('authorization request without PKCE is rejected (error=invalid_request at redirect_uri)',
      noPkce.callback.searchParams.get('error') === 'invalid_request'
        && /PKCE/.test(noPkce.callback.searchParams.get('error_description') ?? ''),
      noPkce.callback.href);

    const first = await loginAndGetIdToken(browser, discovery, client, 'alice');
    check('first login submits the login form, then the consent form',
      JSON.stringify(first.flow.forms) === '["login","consent"]', first.flow.forms);
    check('callback carries state unchanged', first.flow.callback.searchParams.get('state') === first.flow.state);
    check('callback carries iss = issuer (RFC 9207)', first.flow.callback.searchParams.get('iss') === op.issuer,
      first.flow.callback.href);
    check('token response is Bearer with an access_token',
      first.token.json.token_type === 'Bearer' && typeof first.token.json.access_token === 'string', first.token.json);

    let jwks = await getJwks(discovery);
    const { header, payload } = first.idToken;
    check('ID token header: alg RS256 and a kid present in the JWKS',
      header.alg === 'RS256' && jwks.keys.some((k) => k.kid === header.kid), header);
    check('ID token signature verifies with the JWKS key', verifySignature(first.idToken, jwks));
    check('ID token iss / aud / sub', payload.iss === op.issuer && payload.aud === client.client_id
      && payload.sub === 'alice', payload);
    check('ID token nonce matches the request', payload.nonce === first.flow.nonce, payload.nonce);
    check('ID token email', payload.email === 'alice@example.com', payload.email);
    check('ID token email_verified === true', payload.email_verified === true, payload.email_verified);
    check('ID token given_name / family_name', payload.given_name === 'Alice' && payload.family_name === 'Liddell', payload);
    check(`ID token custom claim ${CUSTOM_CLAIM}`, payload[CUSTOM_CLAIM] === wepayId, payload);

    const sso = await authorize(browser, discovery, client, { login: 'alice' });
    check('second authorization with the same cookies needs no form (SSO session)', sso.forms.length === 0, sso.forms);
    const wrong = await exchangeCode(discovery, client, sso.callback.searchParams.get('code'),
      b64url(crypto.randomBytes(32)), sso.redirectUri);
    check('code exchange with a wrong code_verifier fails with invalid_grant',
      wrong.status === 400 && wrong.json.error === 'invalid_grant', wrong);

    section('provider A: key rotation via POST /__admin/rotate');
    const oldKids = jwks.keys.map((k) => k.kid);
    const rotateRes = await fetch(`${op.issuer}/__admin/rotate`, { method: 'POST' });
    const rotated = await rotateRes.json();
    const newKids = rotated.keys?.map((k) => k.kid) ?? [];
    check('rotate answers 200 with a JWKS of new kids only',
      rotateRes.status === 200 && newKids.length === 1 && !newKids.some((k) => oldKids.includes(k)), rotated);
    check('rotated JWKS holds public keys only', rotated.keys.every((k) => k.d === undefined), rotated);
    jwks = await getJwks(discovery);
    check('jwks_uri now lists exactly the new kids (old kid removed)',
      JSON.stringify(jwks.keys.map((k) => k.kid).sort()) === JSON.stringify([...newKids].sort()), jwks.keys.map((k) => k.kid));

    const afterRotation = await loginAndGetIdToken(browser, discovery, client, 'alice');
    check('login session survives the rotation (no form needed)', afterRotation.flow.forms.length === 0,
      afterRotation.flow.forms);
    check('new ID token kid is the new key and is in the JWKS',
      newKids.includes(afterRotation.idToken.header.kid) && verifySignature(afterRotation.idToken, jwks),
      afterRotation.idToken.header);
    check('old ID token kid is gone from the JWKS', !jwks.keys.some((k) => k.kid === header.kid));
    const getRotate = await fetch(`${op.issuer}/__admin/rotate`);
    check('GET /__admin/rotate is refused with 405', getRotate.status === 405, getRotate.status);

    section('provider A: RP-initiated logout');
    const staleHint = new URL(discovery.end_session_endpoint);
    staleHint.searchParams.set('id_token_hint', first.token.json.id_token);
    staleHint.searchParams.set('post_logout_redirect_uri', client.post_logout_redirect_uris[0]);
    const stale = await browser.request(staleHint);
    check('id_token_hint signed by a rotated-out key is rejected (400)', stale.status === 400, stale.status);

    const logoutState = b64url(crypto.randomBytes(8));
    const endSession = new URL(discovery.end_session_endpoint);
    endSession.searchParams.set('id_token_hint', afterRotation.token.json.id_token);
    endSession.searchParams.set('post_logout_redirect_uri', client.post_logout_redirect_uris[0]);
    endSession.searchParams.set('state', logoutState);
    const confirmPage = await browser.request(endSession);
    const [logoutForm] = parseForms(confirmPage.text);
    const logoutFields = logoutForm ? hiddenFields(logoutForm) : {};
    check('end_session GET shows the confirm form (id op.logoutForm, hidden xsrf + logout=yes)',
      confirmPage.status === 200 && logoutForm?.id === 'op.logoutForm' && logoutForm.method === 'post'
        && typeof logoutFields.xsrf === 'string' && logoutFields.logout === 'yes', logoutForm ?? confirmPage.text.slice(0, 300));
    const done = await browser.request(new URL(logoutForm.action, confirmPage.url), { method: 'POST', form: logoutFields });
    const expected = `${client.post_logout_redirect_uris[0]}?state=${logoutState}`;
    check('submitting it redirects (303) to post_logout_redirect_uri?state=...',
      done.status === 303 && done.location === expected, { status: done.status, location: done.location });
    const relogin = await authorize(browser, discovery, client, { login: 'alice' });
    check('after logout a new authorization asks for login again',
      relogin.forms[0] === 'login' && relogin.callback.searchParams.has('code'), relogin.forms);

    section('provider A: lifecycle');
    op.child.stdin.end();
    const exit = await exitsWithin(op, 5000);
    check('provider exits (code 0) when its stdin is closed', exit?.code === 0, exit);
    check('provider printed exactly one line on stdout', op.stdout().split('\n').filter(Boolean).length === 1,
      op.stdout());
  } finally {
    op.child.kill('SIGKILL');
    if (failed) console.log(`--- provider A stderr ---\n${op.stderr()}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Scenario 2: client_secret_post + ES256 + pairwise subjects (two sectors) + issuer_override.

async function scenarioPairwise() {
  section('provider B: client_secret_post + ES256, pairwise subjects, issuer_override');
  const wepayId = crypto.randomUUID();
  const mkClient = (id, port) => ({
    client_id: id,
    client_secret: `secret-of-${id}`,
    redirect_uris: [`http://127.0.0.1:${port}/cb`],
    token_endpoint_auth_method: 'client_secret_post',
    id_token_signed_response_alg: 'ES256',
  });
  const clientA = mkClient('rp-sector-a', 9101);
  const clientB = mkClient('rp-sector-b', 9102);
  const op = await startProvider({
    clients: [clientA, clientB],
    accounts: [{
      sub: 'bob',
      email: 'bob@example.com',
      email_verified: 'yes', // passed through as given, whatever the JSON type
      given_name: 'Bob',
      family_name: 'Builder',
      claims: { [CUSTOM_CLAIM]: wepayId, 'https://partner.example/tier': { level: 3 } },
    }, {
      sub: 'carol', // no email / names: those claims stay absent; null passes through as null
      email_verified: null,
    }],
    algorithms: ['ES256'],
    pairwise: true,
    issuer_override: 'https://not-the-issuer.example',
  });
  try {
    const discovery = await discover(op.issuer);
    check('issuer_override: discovery advertises the override', discovery.issuer === 'https://not-the-issuer.example',
      discovery.issuer);
    check('discovery: subject_types_supported is ["pairwise"]',
      JSON.stringify(discovery.subject_types_supported) === '["pairwise"]', discovery.subject_types_supported);

    const browser = new Browser();
    const jwks = await getJwks(discovery);
    const a = await loginAndGetIdToken(browser, discovery, clientA, 'bob');
    check('client_secret_post exchange works; ID token alg ES256 and signature verifies',
      a.idToken.header.alg === 'ES256' && verifySignature(a.idToken, jwks), a.idToken.header);
    check('ID token iss is the real issuer (override only affects discovery)', a.idToken.payload.iss === op.issuer);
    check('pairwise sub is not the account id', a.idToken.payload.sub !== 'bob' && /^[0-9a-f]{64}$/.test(a.idToken.payload.sub),
      a.idToken.payload.sub);
    check('email_verified passed through as given ("yes")', a.idToken.payload.email_verified === 'yes',
      a.idToken.payload.email_verified);
    check('custom claims present (string and object valued)', a.idToken.payload[CUSTOM_CLAIM] === wepayId
      && a.idToken.payload['https://partner.example/tier']?.level === 3, a.idToken.payload);

    const b = await loginAndGetIdToken(browser, discovery, clientB, 'bob');
    check('second client reuses the session but needs its own consent',
      JSON.stringify(b.flow.forms) === '["consent"]', b.flow.forms);
    check('different sectors get different pairwise subs', b.idToken.payload.sub !== a.idToken.payload.sub,
      [a.idToken.payload.sub, b.idToken.payload.sub]);
    const again = await loginAndGetIdToken(browser, discovery, clientA, 'bob');
    check('same sector gets the same pairwise sub again', again.idToken.payload.sub === a.idToken.payload.sub);

    const carol = await loginAndGetIdToken(new Browser(), discovery, clientA, 'carol');
    check('account fields left out stay out of the ID token; null is passed through',
      carol.idToken.payload.email_verified === null && !('email' in carol.idToken.payload)
        && !('given_name' in carol.idToken.payload) && !(CUSTOM_CLAIM in carol.idToken.payload), carol.idToken.payload);

    const unknown = await authorize(new Browser(), discovery, clientA, { login: 'nobody' });
    check('an unknown login ends at redirect_uri with error=access_denied',
      JSON.stringify(unknown.forms) === '["login"]' && unknown.callback.searchParams.get('error') === 'access_denied'
        && unknown.callback.searchParams.get('state') === unknown.state, unknown.callback.href);

    section('provider B: lifecycle');
    op.child.kill('SIGTERM');
    const exit = await exitsWithin(op, 5000);
    check('provider exits (code 0) on SIGTERM', exit?.code === 0, exit);
  } finally {
    op.child.kill('SIGKILL');
    if (failed) console.log(`--- provider B stderr ---\n${op.stderr()}`);
  }
}

// ---------------------------------------------------------------------------------------------

for (const scenario of [scenarioBasic, scenarioPairwise]) {
  try {
    await scenario();
  } catch (err) {
    check(`${scenario.name} ran to completion`, false, err.stack);
  }
}
console.log(`\nsmoke: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
