// A real OpenID Connect provider (panva's certified oidc-provider) for Checkoff's single sign-on tests.
// tests/sso/providers.py starts it as `node server.mjs --port N ...`; it is a test program, never a server.
//
// Command-line arguments (all required unless a default is given):
//   --port N                    port on 127.0.0.1; the issuer is http://127.0.0.1:N (the caller picks a
//                               free port: node cannot report one back before the issuer must be known)
//   --client-id ID              the one confidential client, Checkoff
//   --client-secret SECRET
//   --redirect-uri URI          repeat for each of the client's redirect URIs
//   --accounts FILE             JSON object of accounts keyed by lower-case email, each
//                               {"email", "password", "email_verified", "given_name", "family_name"}
//                               and optionally "id" (the stable `sub`; else the email's sha256 hex).
//                               Read again on every look-up, so a test may add people while it runs.
//   --token-auth-method M       client_secret_post (default) or client_secret_basic. Discovery
//                               advertises only this one, so a relying party that chooses from
//                               discovery (allauth does) always uses the method the client holds.
//
// Prints `READY <issuer>` on stdout once it listens. Signing keys (RS256) are made at start, in memory.
//
// The login is the provider's own interaction flow with a page of ours that checks the password against
// the accounts file; consent is granted without a page, since the one client is the school's own app.

import { createHash, generateKeyPairSync, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

import Provider, { errors } from 'oidc-provider';

const { values: args } = parseArgs({
  options: {
    port: { type: 'string' },
    'client-id': { type: 'string' },
    'client-secret': { type: 'string' },
    'redirect-uri': { type: 'string', multiple: true },
    accounts: { type: 'string' },
    'token-auth-method': { type: 'string', default: 'client_secret_post' },
  },
  strict: true,
});

for (const name of ['port', 'client-id', 'client-secret', 'redirect-uri', 'accounts']) {
  if (!args[name]) {
    console.error(`server.mjs: --${name} is required`);
    process.exit(2);
  }
}
if (!['client_secret_post', 'client_secret_basic'].includes(args['token-auth-method'])) {
  console.error('server.mjs: --token-auth-method is client_secret_post or client_secret_basic');
  process.exit(2);
}

const port = Number(args.port);
const issuer = `http://127.0.0.1:${port}`;
const SCOPES = ['openid', 'email', 'profile'];

// --- Accounts -----------------------------------------------------------------------------------

function readAccounts() {
  return JSON.parse(readFileSync(args.accounts, 'utf8'));
}

function subjectOf(account) {
  return account.id || createHash('sha256').update(account.email.toLowerCase()).digest('hex');
}

function claimsOf(account) {
  const givenName = account.given_name || '';
  const familyName = account.family_name || '';
  return {
    sub: subjectOf(account),
    email: account.email,
    email_verified: Boolean(account.email_verified),
    given_name: givenName,
    family_name: familyName,
    name: [givenName, familyName].filter(Boolean).join(' '),
  };
}

function sameSecret(given, expected) {
  // Both are hashed first so the comparison takes the same time whatever their lengths.
  const digest = (text) => createHash('sha256').update(String(text)).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

/** The account whose email and password these are, or null. */
function authenticate(email, password) {
  const account = readAccounts()[String(email || '').trim().toLowerCase()];
  if (!account || !sameSecret(password || '', account.password)) return null;
  return account;
}

async function findAccount(_ctx, sub) {
  const account = Object.values(readAccounts()).find((candidate) => subjectOf(candidate) === sub);
  if (!account) return undefined;
  return {
    accountId: sub,
    async claims() {
      return claimsOf(account);
    },
  };
}

// --- Pages --------------------------------------------------------------------------------------

function escapeHtml(text) {
  return String(text ?? '').replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);
}

function page(title, body) {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>
body { font-family: system-ui, sans-serif; max-width: 24rem; margin: 3rem auto; padding: 0 1rem; }
label { display: block; margin-top: 1rem; }
input { display: block; width: 100%; padding: .4rem; box-sizing: border-box; }
button { margin-top: 1.2rem; padding: .5rem 1.2rem; }
.error { color: #a00; border: 1px solid #a00; padding: .5rem; }
</style>
</head>
<body>
${body}
</body>
</html>`;
}

function loginPage(uid, { email = '', error = '' } = {}) {
  const alert = error ? `<p class="error" role="alert">${escapeHtml(error)}</p>` : '';
  return page('Sign in — Test OpenID Connect provider', `<h1>Test OpenID Connect provider</h1>
<p>Sign in to continue to Checkoff.</p>
${alert}
<form method="post" action="/interaction/${escapeHtml(uid)}/login" autocomplete="off">
<label for="email">Email</label>
<input id="email" name="email" type="email" value="${escapeHtml(email)}" required autofocus>
<label for="password">Password</label>
<input id="password" name="password" type="password" required>
<button type="submit">Sign in</button>
</form>`);
}

async function renderError(ctx, out) {
  ctx.type = 'html';
  const lines = Object.entries(out)
    .map(([key, value]) => `<p><strong>${escapeHtml(key)}</strong>: ${escapeHtml(value)}</p>`)
    .join('\n');
  ctx.body = page('Error — Test OpenID Connect provider', `<h1>Something went wrong</h1>\n${lines}`);
}

async function logoutSource(ctx, form) {
  ctx.body = page('Sign out — Test OpenID Connect provider', `<h1>Sign out of the test OpenID Connect provider?</h1>
${form}
<button type="submit" form="op.logoutForm" value="yes" name="logout">Yes, sign me out</button>
<button type="submit" form="op.logoutForm">No, stay signed in</button>`);
}

async function postLogoutSuccessSource(ctx) {
  ctx.body = page('Signed out — Test OpenID Connect provider', '<h1>You are signed out.</h1>');
}

// --- The provider -------------------------------------------------------------------------------

function signingKey() {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { ...privateKey.export({ format: 'jwk' }), kid: randomUUID(), alg: 'RS256', use: 'sig' };
}

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: args['client-id'],
      client_secret: args['client-secret'],
      redirect_uris: args['redirect-uri'],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: args['token-auth-method'],
      scope: SCOPES.join(' '),
    },
  ],
  clientAuthMethods: [args['token-auth-method']],
  scopes: SCOPES,
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['given_name', 'family_name', 'name'],
  },
  // The ID token carries the profile too, not only the userinfo endpoint: a relying party may read either.
  conformIdTokenClaims: false,
  findAccount,
  jwks: { keys: [signingKey()] },
  // Own names, so they never meet Checkoff's cookies: cookies belong to a host, whatever its port,
  // and both servers are on 127.0.0.1. Over plain HTTP the provider leaves `secure` off by itself.
  cookies: {
    keys: [randomBytes(32).toString('hex')],
    names: { session: 'op_session', interaction: 'op_interaction', resume: 'op_interaction_resume' },
  },
  features: {
    devInteractions: { enabled: false },
    rpInitiatedLogout: { enabled: true, logoutSource, postLogoutSuccessSource },
  },
  interactions: {
    url: (_ctx, interaction) => `/interaction/${interaction.uid}`,
  },
  renderError,
});

provider.on('server_error', (_ctx, error) => console.error('server_error', error));

async function formBody(ctx) {
  const chunks = [];
  for await (const chunk of ctx.req) chunks.push(chunk);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

/** Consent for the one client, given without asking: a grant of what the request is missing. */
async function grantConsent(details) {
  const { prompt, params, session } = details;
  const grant = details.grantId
    ? await provider.Grant.find(details.grantId)
    : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
  grant.addOIDCScope((prompt.details.missingOIDCScope || SCOPES).join(' '));
  if (prompt.details.missingOIDCClaims) grant.addOIDCClaims(prompt.details.missingOIDCClaims);
  for (const [indicator, scopes] of Object.entries(prompt.details.missingResourceScopes || {})) {
    grant.addResourceScope(indicator, scopes.join(' '));
  }
  const grantId = await grant.save();
  return details.grantId ? {} : { grantId };
}

provider.use(async (ctx, next) => {
  const match = /^\/interaction\/([\w-]+)(\/login)?$/.exec(ctx.path);
  if (!match) return next();
  ctx.set('cache-control', 'no-store');
  const [, uid, login] = match;
  try {
    const details = await provider.interactionDetails(ctx.req, ctx.res);
    if (details.uid !== uid) throw new errors.SessionNotFound('interaction does not match its cookie');

    if (!login && ctx.method === 'GET') {
      if (details.prompt.name === 'login') {
        ctx.type = 'html';
        ctx.body = loginPage(uid, { email: details.params.login_hint });
        return undefined;
      }
      if (details.prompt.name === 'consent') {
        const consent = await grantConsent(details);
        return provider.interactionFinished(ctx.req, ctx.res, { consent }, { mergeWithLastSubmission: true });
      }
      ctx.throw(400, `unexpected prompt ${details.prompt.name}`);
    }

    if (login && ctx.method === 'POST' && details.prompt.name === 'login') {
      const form = await formBody(ctx);
      const account = authenticate(form.get('email'), form.get('password'));
      if (!account) {
        ctx.type = 'html';
        ctx.body = loginPage(uid, { email: form.get('email'), error: 'Incorrect email or password.' });
        return undefined;
      }
      const result = { login: { accountId: subjectOf(account) } };
      return provider.interactionFinished(ctx.req, ctx.res, result, { mergeWithLastSubmission: false });
    }

    ctx.throw(405);
  } catch (error) {
    if (!(error instanceof errors.SessionNotFound)) throw error;
    ctx.status = error.status;
    return renderError(ctx, { error: error.message, error_description: error.error_description });
  }
  return undefined;
});

provider.listen(port, '127.0.0.1', () => {
  console.log(`READY ${issuer}`);
});

// Nothing is kept but in memory: a stop needs no draining of open connections.
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => process.exit(0));
}
