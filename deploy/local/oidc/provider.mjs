// A real OpenID provider (npm oidc-provider, a certified implementation) for ./deploy/local/up
// and the tests, set up like ProConnect: authorization code flow with PKCE (S256) required, the
// claims email (with email_verified), given_name, usual_name, uid, siret, idp_id, organizational_unit, a userinfo
// answer signed as a JWT (application/jwt), an acr of "eidas1", RP-initiated logout through
// end_session_endpoint. People come from a JSON file (email + password); the sign-in page is a
// plain form. Development only: keys are made at start, state is in memory.
//
//   node provider.mjs --port 9400 --client-id pepiniere --client-secret-file F \
//     --redirect-uri http://127.0.0.1:8080/auth/callback \
//     --post-logout-redirect-uri http://127.0.0.1:8080/ [--people people.json[,more.json]]
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Provider from 'oidc-provider';

const args = {};
for (let i = 2; i < process.argv.length; i += 2) args[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];
const here = dirname(fileURLToPath(import.meta.url));
const port = Number(args.port || 9400);
const issuer = `http://127.0.0.1:${port}`;
// --people: one file, or a comma list (the tests add people with odd claims to the demo's).
const people = String(args.people || join(here, 'people.json')).split(',')
  .flatMap((f) => JSON.parse(readFileSync(f, 'utf8')));
const secret = args['client-secret-file'] ? readFileSync(args['client-secret-file'], 'utf8').trim() : 'dev-secret';
const list = (v) => String(v || '').split(',').filter(Boolean);

const SCOPES = ['email', 'given_name', 'usual_name', 'uid', 'siret', 'idp_id', 'organizational_unit'];
const signing = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });

const provider = new Provider(issuer, {
  clients: [{
    client_id: args['client-id'] || 'pepiniere',
    client_secret: secret,
    redirect_uris: list(args['redirect-uri'] || 'http://127.0.0.1:8080/auth/callback'),
    post_logout_redirect_uris: list(args['post-logout-redirect-uri'] || 'http://127.0.0.1:8080/'),
    response_types: ['code'],
    grant_types: ['authorization_code'],
    token_endpoint_auth_method: 'client_secret_post',
    id_token_signed_response_alg: 'RS256',
    userinfo_signed_response_alg: 'RS256',
  }],
  jwks: { keys: [{ ...signing, kid: `dev-${randomBytes(4).toString('hex')}`, alg: 'RS256', use: 'sig' }] },
  cookies: { keys: [randomBytes(32).toString('hex')] },
  pkce: { required: () => true },
  acrValues: ['eidas1'],
  // email_verified rides with email, as the provider's word on the address (the gateway grants
  // by e-mail only what a verified address, or a trusted idp_id, vouches for).
  claims: Object.fromEntries([['openid', ['sub']], ...SCOPES.map((s) => [s, s === 'email' ? [s, 'email_verified'] : [s]])]),
  scopes: ['openid', ...SCOPES],
  features: {
    devInteractions: { enabled: false },
    jwtUserinfo: { enabled: true },
    rpInitiatedLogout: {
      enabled: true,
      // The confirmation page, in French; `form` carries the provider's own xsrf field.
      async logoutSource(ctx, form) {
        ctx.body = `<!doctype html><html lang="fr"><head><meta charset="utf-8">
<title>Déconnexion — fournisseur d'identité de développement</title></head><body><main>
<h1>Se déconnecter du fournisseur d'identité ?</h1>${form}
<button type="submit" form="op.logoutForm" name="logout" value="yes">Oui, me déconnecter</button>
<button type="submit" form="op.logoutForm">Non, rester connecté</button></main></body></html>`;
      },
    },
  },
  async findAccount(ctx, sub) {
    const p = people.find((x) => x.sub === sub);
    if (!p) return undefined;
    return {
      accountId: sub,
      async claims() {
        const { password, ...claims } = p;  // never the password
        return claims;
      },
    };
  },
  // Pépinière is the provider's own first-party client here: no consent page.
  async loadExistingGrant(ctx) {
    const id = ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (id) return ctx.oidc.provider.Grant.find(id);
    const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
    grant.addOIDCScope(ctx.oidc.params.scope || 'openid');
    await grant.save();
    return grant;
  },
  ttl: { Session: 12 * 3600, Interaction: 600, AuthorizationCode: 60, AccessToken: 600, IdToken: 600, Grant: 12 * 3600 },
});

const escape = (s) => String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
const page = (uid, error = '') => `<!doctype html><html lang="fr"><head><meta charset="utf-8">
<title>Connexion — fournisseur d'identité de développement</title></head><body>
<main><h1>Connexion (fournisseur de développement, comme ProConnect)</h1>
${error ? `<p role="alert">${escape(error)}</p>` : ''}
<form method="post" action="/interaction/${escape(uid)}/login">
<label for="email">Adresse électronique professionnelle</label> <input id="email" name="email" type="email" required autocomplete="username">
<label for="password">Mot de passe</label> <input id="password" name="password" type="password" required autocomplete="current-password">
<button type="submit">Se connecter</button></form></main></body></html>`;

const readBody = (req) => new Promise((resolve, reject) => {
  let data = '';
  req.on('data', (c) => { data += c; if (data.length > 65536) reject(new Error('body too large')); });
  req.on('end', () => resolve(data));
  req.on('error', reject);
});

const callback = provider.callback();
const server = http.createServer(async (req, res) => {
  const m = /^\/interaction\/([^/?]+)(\/login)?/.exec(req.url);
  if (!m) return callback(req, res);
  try {
    const details = await provider.interactionDetails(req, res);
    if (req.method === 'GET' && !m[2]) {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
      return res.end(page(details.uid));
    }
    if (req.method === 'POST' && m[2]) {
      const form = new URLSearchParams(await readBody(req));
      const who = people.find((p) => p.email === form.get('email') && p.password === form.get('password'));
      if (!who) {
        res.writeHead(401, { 'content-type': 'text/html; charset=utf-8' });
        return res.end(page(details.uid, 'Adresse ou mot de passe incorrect.'));
      }
      return await provider.interactionFinished(req, res,
        { login: { accountId: who.sub, acr: 'eidas1', amr: ['pwd'] } }, { mergeWithLastSubmission: false });
    }
    res.writeHead(405);
    return res.end();
  } catch (e) {
    res.writeHead(400, { 'content-type': 'text/plain; charset=utf-8' });
    return res.end(`interaction: ${e.message}`);
  }
});
server.listen(port, '127.0.0.1', () => console.log(`oidc provider ${issuer} ready`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
