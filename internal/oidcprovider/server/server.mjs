// Minimal loopback OIDC/OAuth2 provider for credmon tests (panva/oidc-provider v9).
// Enables: authorization_code, refresh_token (always rotated), device_code (RFC 8628),
// client_credentials, dynamic client registration (RFC 7591/7592), resource indicators
// (RFC 8707) with JWT access tokens whose aud = resource, introspection, revocation,
// plus a custom RFC 8693 token-exchange grant.
// Usage: PORT=9080 node server.mjs
//
// Source: Appendix A of the credmon test-infra spec, with two changes made for credmon/credtest:
//  - AT_TTL now sets the access-token lifetime. In the appendix ttl.AccessToken was the constant 600, which
//    overrides the resource server's accessTokenTTL, so AT_TTL was silently ignored (expires_in stayed 600).
//  - STRICT_CLIENT_AUTH=1 (off by default) rejects a client that authenticates with a method other than its
//    registered token_endpoint_auth_method. oidc-provider itself treats client_secret_basic and
//    client_secret_post as interchangeable for any secret-based client, so without this a credmon that uses
//    the wrong method is never caught.
//  - REFRESH_DELAY_MS (0 by default) holds every refresh_token grant that long before it is processed: the round
//    trip to a remote IdP, without spending this machine's CPU (benchmarks compare clients under WAN-like latency).
// Other env: HOST, ISSUER, DEFAULT_AUD, AT_ALG (RS256|ES256), NO_ROTATE, FRESH_GRANT, STORE_SIZE, DEBUG_REQ.
import Provider, { errors } from 'oidc-provider';
import * as jose from 'jose';
// The built-in dev MemoryAdapter is an LRU capped at 1000 entries: many users/tokens => silent eviction
// => spurious invalid_grant in load tests. Reuse its code with a much larger LRU.
import MemoryAdapter from 'oidc-provider/lib/adapters/memory_adapter.js';
import LRU from 'oidc-provider/lib/helpers/lru.js';
const store = new LRU({ maxSize: Number(process.env.STORE_SIZE || 1_000_000) });

const PORT = Number(process.env.PORT || 9080);
const HOST = process.env.HOST || '127.0.0.1';
const ISSUER = process.env.ISSUER || `http://${HOST}:${PORT}`;
const DEFAULT_AUD = process.env.DEFAULT_AUD || 'https://wlcg.cern.ch/jwt/v1/any';
const BASE_SCOPES = ['storage.read:/', 'storage.modify:/', 'storage.create:/', 'compute.read', 'compute.create', 'compute.modify', 'compute.cancel', 'wlcg.groups'];
const TE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const AT_TTL = Number(process.env.AT_TTL || 600);
const STRICT_CLIENT_AUTH = !!process.env.STRICT_CLIENT_AUTH;
const REFRESH_DELAY_MS = Number(process.env.REFRESH_DELAY_MS || 0);
// Endpoints where a client authenticates with a form body (checked when STRICT_CLIENT_AUTH is set).
const CLIENT_AUTH_PATHS = ['/token', '/device/auth', '/token/revocation', '/token/introspection'];

const t0 = Date.now();
// Signing keys generated at start (RS256 + ES256); JWKS published at /jwks.
const rsa = await jose.generateKeyPair('RS256', { extractable: true });
const ec = await jose.generateKeyPair('ES256', { extractable: true });
const jwks = { keys: [
  { ...(await jose.exportJWK(rsa.privateKey)), kid: 'rsa1', use: 'sig', alg: 'RS256' },
  { ...(await jose.exportJWK(ec.privateKey)), kid: 'ec1', use: 'sig', alg: 'ES256' },
] };
const localJWKS = jose.createLocalJWKSet({ keys: jwks.keys.map(({ d, p, q, dp, dq, qi, ...pub }) => pub) });

// Resource server: audience == resource indicator; scopes accepted = base + whatever was requested
// (so arbitrary WLCG path scopes like storage.read:/foo work).
function rsInfo(ctx, resource) {
  let granted = '';
  try { granted = ctx?.oidc?.entities?.Grant?.getResourceScope(resource) || ''; } catch { /* no grant in context */ }
  const requested = `${ctx?.oidc?.params?.scope || ''} ${granted}`.split(' ').filter((s) => s && !['openid', 'offline_access', 'profile', 'email'].includes(s));
  return {
    scope: [...new Set([...BASE_SCOPES, ...requested])].join(' '),
    audience: resource,
    accessTokenTTL: AT_TTL,
    accessTokenFormat: 'jwt',
    jwt: { sign: { alg: process.env.AT_ALG || 'RS256' } },
  };
}

const configuration = {
  clients: [
    { client_id: 'credmon', client_secret: 'credmon-secret',
      grant_types: ['authorization_code', 'refresh_token', 'urn:ietf:params:oauth:grant-type:device_code', 'client_credentials', TE],
      redirect_uris: ['http://127.0.0.1:8765/callback'], response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic' },
    { client_id: 'credmon-post', client_secret: 'credmon-secret',
      grant_types: ['authorization_code', 'refresh_token', 'urn:ietf:params:oauth:grant-type:device_code', 'client_credentials', TE],
      redirect_uris: ['http://127.0.0.1:8765/callback'], response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_post' },
    { client_id: 'public-device', grant_types: ['refresh_token', 'urn:ietf:params:oauth:grant-type:device_code'],
      redirect_uris: [], response_types: [], token_endpoint_auth_method: 'none' },
  ],
  jwks,
  adapter: (model) => new MemoryAdapter(model, store),
  // native => custom-scheme + loopback redirect URIs accepted at DCR (oidc-gen registers edu.kit.data.oidc-agent:/redirect)
  clientDefaults: { application_type: 'native', grant_types: ['authorization_code'], id_token_signed_response_alg: 'RS256', response_types: ['code'], token_endpoint_auth_method: 'client_secret_basic' },
  cookies: { keys: ['test-cookie-key-1'] },
  scopes: ['openid', 'offline_access', 'profile', 'email', ...BASE_SCOPES],
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name', 'preferred_username'] },
  extraParams: ['audience'],
  async findAccount(ctx, sub) {
    return { accountId: sub, async claims() { return { sub, email: `${sub}@example.test`, email_verified: true, name: sub, preferred_username: sub }; } };
  },
  // Auto-grant everything requested so flows only need a login step (no consent screen).
  async loadExistingGrant(ctx) {
    const { client, params, session, result } = ctx.oidc;
    const existing = result?.consent?.grantId || session?.grantIdFor(client.clientId);
    if (existing && !process.env.FRESH_GRANT) { const g = await ctx.oidc.provider.Grant.find(existing); if (g) return g; }
    const accountId = result?.login?.accountId || session?.accountId;
    if (!accountId) return undefined;
    const grant = new ctx.oidc.provider.Grant({ clientId: client.clientId, accountId });
    const scope = String(params?.scope || '');
    grant.addOIDCScope(`openid offline_access profile email ${scope}`);
    for (const r of [params?.resource, params?.audience, DEFAULT_AUD].flat().filter(Boolean)) grant.addResourceScope(r, scope + ' ' + BASE_SCOPES.join(' '));
    await grant.save();
    return grant;
  },
  issueRefreshToken: async (ctx, client, code) => client.grantTypeAllowed('refresh_token') && (code.scopes.has('offline_access') || ctx.oidc.params?.requested_token_type === 'urn:ietf:params:oauth:token-type:refresh_token'),
  rotateRefreshToken: () => process.env.NO_ROTATE ? false : true,
  ttl: { AccessToken: AT_TTL, ClientCredentials: AT_TTL, RefreshToken: 14 * 24 * 3600, DeviceCode: 600, Grant: 14 * 24 * 3600, Session: 3600, Interaction: 600, IdToken: 600, AuthorizationCode: 60 },
  pkce: { required: () => false },
  features: {
    devInteractions: { enabled: true },
    deviceFlow: { enabled: true },
    clientCredentials: { enabled: true },
    introspection: { enabled: true },
    revocation: { enabled: true },
    registration: { enabled: true, initialAccessToken: false },
    registrationManagement: { enabled: true, rotateRegistrationAccessToken: false },
    resourceIndicators: {
      enabled: true,
      // oneOf = resources granted to a refresh token; pick the default audience (or the first) when several
      defaultResource: async (ctx, client, oneOf) => (Array.isArray(oneOf) ? (oneOf.includes(DEFAULT_AUD) ? DEFAULT_AUD : oneOf[0]) : oneOf) || ctx.oidc.params?.audience || DEFAULT_AUD,
      useGrantedResource: async () => true,
      getResourceServerInfo: async (ctx, resource) => rsInfo(ctx, resource),
    },
  },
};

const provider = new Provider(ISSUER, configuration);
provider.proxy = false;

// RFC 8693 token exchange (custom grant): subject_token = one of our JWT access tokens (or a refresh token).
provider.registerGrantType(TE, async (ctx) => {
  const p = ctx.oidc.params;
  if (!p.subject_token) throw new errors.InvalidRequest('missing subject_token');
  let accountId;
  if (p.subject_token_type === 'urn:ietf:params:oauth:token-type:refresh_token') {
    const rt = await provider.RefreshToken.find(p.subject_token);
    if (!rt) throw new errors.InvalidGrant('subject_token invalid');
    accountId = rt.accountId;
  } else {
    try { ({ payload: { sub: accountId } } = await jose.jwtVerify(p.subject_token, localJWKS, { issuer: ISSUER })); } catch (e) { throw new errors.InvalidGrant(`subject_token invalid: ${e.message}`); }
  }
  const client = ctx.oidc.client;
  const aud = [p.audience, p.resource].flat().filter(Boolean)[0] || DEFAULT_AUD;
  const reqScopes = String(p.scope || '').split(' ').filter(Boolean);
  const grant = new provider.Grant({ accountId, clientId: client.clientId });
  grant.addOIDCScope('openid offline_access');
  grant.addResourceScope(aud, reqScopes.join(' '));
  const grantId = await grant.save();
  const at = new provider.AccessToken({ accountId, client, grantId, gty: 'token_exchange', scope: reqScopes.filter((s) => !['openid', 'offline_access'].includes(s)).join(' ') || undefined });
  at.resourceServer = new provider.ResourceServer(aud, rsInfo(ctx, aud));
  ctx.oidc.entity('AccessToken', at);
  const body = { access_token: await at.save(), issued_token_type: 'urn:ietf:params:oauth:token-type:access_token', token_type: 'Bearer', expires_in: at.expiration, scope: at.scope };
  if (p.requested_token_type === 'urn:ietf:params:oauth:token-type:refresh_token' || reqScopes.includes('offline_access')) {
    const rt = new provider.RefreshToken({ accountId, client, grantId, gty: 'token_exchange', scope: reqScopes.join(' '), resource: aud });
    body.refresh_token = await rt.save();
  }
  ctx.body = body;
}, ['subject_token', 'subject_token_type', 'actor_token', 'actor_token_type', 'requested_token_type', 'audience', 'resource', 'scope'], ['resource', 'audience']);

// oidc-gen (oidc-agent 4.x) registers application_type=web together with a custom-scheme redirect URI,
// which oidc-provider rejects; real IdPs (INDIGO IAM, Keycloak) accept it. Rewrite to native before parsing.
provider.use(async (ctx, next) => {
  if (ctx.method === 'POST' && ctx.path === '/reg' && ctx.is('application/json')) {
    const chunks = []; for await (const c of ctx.req) chunks.push(c);
    const body = JSON.parse(Buffer.concat(chunks).toString() || '{}');
    if ((body.application_type || 'web') === 'web' && (body.redirect_uris || []).some((u) => !/^https?:/.test(u))) body.application_type = 'native';
    ctx.request.body = body;
  }
  // Non-RFC8707 "audience" parameter at the token endpoint (IAM/CILogon/oidc-agent style): map to resource,
  // and for refresh_token grants widen the underlying grant so the new audience is allowed.
  if (STRICT_CLIENT_AUTH && ctx.method === 'POST' && CLIENT_AUTH_PATHS.includes(ctx.path) && ctx.path !== '/token' && ctx.is('application/x-www-form-urlencoded')) {
    const chunks = []; for await (const c of ctx.req) chunks.push(c);
    const body = Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString()));
    ctx.request.body = body;
    if (await rejectClientAuthMismatch(ctx, body)) return;
  }
  if (ctx.method === 'POST' && ctx.path === '/token' && ctx.is('application/x-www-form-urlencoded')) {
    const chunks = []; for await (const c of ctx.req) chunks.push(c);
    const body = Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString()));
    if (REFRESH_DELAY_MS > 0 && body.grant_type === 'refresh_token') await new Promise((r) => setTimeout(r, REFRESH_DELAY_MS));
    // Checked before anything else touches the request, so a refused request cannot consume a refresh token.
    if (STRICT_CLIENT_AUTH && await rejectClientAuthMismatch(ctx, body)) return;
    const aud = body.audience;
    if (aud && !body.resource && body.grant_type !== TE) {
      const auds = aud.split(' ').filter(Boolean);
      body.resource = auds[0];
      if (body.grant_type === 'refresh_token' && body.refresh_token) {
        const rt = await provider.RefreshToken.find(body.refresh_token, { ignoreExpiration: true }).catch(() => undefined);
        const grant = rt && await provider.Grant.find(rt.grantId).catch(() => undefined);
        if (grant) {
          grant.addResourceScope(body.resource, [...new Set(`${rt.scope || ''} ${BASE_SCOPES.join(' ')}`.split(' ').filter((x) => x && !grant.getResourceScope(body.resource).split(' ').includes(x)))].join(' ')); await grant.save();
          const res = [rt.resource].flat().filter(Boolean);
          if (!res.includes(body.resource)) { rt.resource = [...res, body.resource]; await rt.save(); }
        }
      }
    }
    ctx.request.body = body;
  }
  await next();
});
// STRICT_CLIENT_AUTH: answer 401 invalid_client when the method used (Basic header, client_secret in the form,
// or neither) differs from the client's registered token_endpoint_auth_method. Returns true if it answered.
async function rejectClientAuthMismatch(ctx, form) {
  let used; let clientId;
  const auth = ctx.headers.authorization || '';
  if (/^basic /i.test(auth)) {
    used = 'client_secret_basic';
    try { clientId = decodeURIComponent(Buffer.from(auth.slice(6).trim(), 'base64').toString().split(':')[0].replace(/\+/g, ' ')); } catch { return false; }
  } else if (form.client_secret) {
    used = 'client_secret_post'; clientId = form.client_id;
  } else if (form.client_assertion) {
    return false; // JWT-based methods: oidc-provider checks these itself
  } else {
    used = 'none'; clientId = form.client_id;
  }
  if (!clientId) return false;
  const client = await provider.Client.find(String(clientId)).catch(() => undefined);
  if (!client || client.clientAuthMethod === used) return false;
  ctx.status = 401;
  ctx.set('Cache-Control', 'no-store');
  ctx.body = { error: 'invalid_client', error_description: `client authentication method ${used} does not match the registered ${client.clientAuthMethod}` };
  return true;
}
if (process.env.DEBUG_REQ) provider.use(async (ctx, next) => { await next(); if (ctx.method === 'POST') console.log(ctx.method, ctx.path, ctx.status, JSON.stringify(ctx.oidc?.body || {}), JSON.stringify(ctx.body)?.slice(0, 300)); });
provider.on('server_error', (ctx, err) => console.error('server_error', err));
provider.listen(PORT, HOST, () => console.log(`oidc-provider ${ISSUER} ready in ${Date.now() - t0}ms (process uptime ${Math.round(process.uptime() * 1000)}ms)`));
