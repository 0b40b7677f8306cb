// A real OpenID Connect provider for the web app's sign-in tests: oidc-provider (a certified
// implementation) with one confidential client that must use PKCE, a few test accounts, and
// JWT access tokens for the Café IA API carrying the claims its verifier reads (`aud`,
// `roles`, `territory`).
//
// Started by the test harness (`tests/src/oidc.rs`):
//   REDIRECT_URI=... POST_LOGOUT_REDIRECT_URI=... CLIENT_SECRET=... node server.mjs
// It listens on a free loopback port and prints one line, `listening <issuer>`, once ready.
// Sign-in goes through oidc-provider's development interactions: any password, and the login
// is one of the account keys below.

import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import Provider, { errors } from 'oidc-provider';

const need = (name) => {
  const value = process.env[name];
  if (!value) {
    console.error(`${name} is required`);
    process.exit(2);
  }
  return value;
};

const redirectUri = need('REDIRECT_URI');
const postLogoutRedirectUri = need('POST_LOGOUT_REDIRECT_URI');
const clientSecret = need('CLIENT_SECRET');
const clientId = process.env.CLIENT_ID || 'cafeia-web';
// What the gateway's verifier expects (`auth.audience`).
const audience = process.env.AUDIENCE || 'cafeia';
const API = 'urn:cafeia:api';

// The people of the tests: their identity (ID token) and their rights (access token).
const ACCOUNTS = {
  lea: {
    claims: { name: 'Léa Dupont', given_name: 'Léa', family_name: 'Dupont', email: 'lea.dupont@example.fr', email_verified: true },
    roles: ['citizen'],
  },
  camille: {
    claims: { name: 'Camille Martin', given_name: 'Camille', family_name: 'Martin', email: 'camille.martin@example.fr', email_verified: true },
    roles: ['facilitator'],
  },
  alex: {
    claims: { name: 'Alex Coordination', email: 'alex@example.fr', email_verified: true },
    roles: ['staff'],
    territory: 'region:84',
  },
};

// A fresh signing key each run: nothing to keep, nothing to leak.
const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const signing = { ...privateKey.export({ format: 'jwk' }), kid: randomUUID(), alg: 'RS256', use: 'sig' };

const server = createServer();
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address();
  const issuer = `http://127.0.0.1:${port}`;
  const provider = new Provider(issuer, {
    clients: [{
      client_id: clientId,
      client_secret: clientSecret,
      redirect_uris: [redirectUri],
      post_logout_redirect_uris: [postLogoutRedirectUri],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    }],
    jwks: { keys: [signing] },
    // PKCE for every client, confidential ones included (S256 only, the default).
    pkce: { required: () => true },
    claims: {
      openid: ['sub'],
      profile: ['name', 'given_name', 'family_name'],
      email: ['email', 'email_verified'],
    },
    // The identity claims go in the ID token itself: the app does not call userinfo.
    conformIdTokenClaims: false,
    cookies: { keys: [randomUUID()] },
    features: {
      devInteractions: { enabled: true },
      rpInitiatedLogout: {
        enabled: true,
        // oidc-provider's default page loads a web font from a third party.
        logoutSource(ctx, form) {
          ctx.body = `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Logout Request</title></head>
            <body><h1>Do you want to sign-out from ${ctx.host}?</h1>${form}
            <button autofocus type="submit" form="op.logoutForm" value="yes" name="logout">Yes, sign me out</button>
            <button type="submit" form="op.logoutForm">No, stay signed in</button></body></html>`;
        },
      },
      // The access token is a JWT for the API (RFC 8707 resource indicators), even when the
      // client asks for no resource: the app only asks for OpenID Connect scopes.
      resourceIndicators: {
        enabled: true,
        defaultResource: () => API,
        useGrantedResource: () => true,
        getResourceServerInfo(ctx, resource) {
          if (resource !== API) throw new errors.InvalidTarget();
          return {
            scope: 'cafeia',
            audience,
            accessTokenTTL: 3600,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: 'RS256' } },
          };
        },
      },
    },
    async findAccount(ctx, id) {
      const account = ACCOUNTS[id];
      if (!account) return undefined;
      return {
        accountId: id,
        async claims() {
          return { sub: id, ...account.claims };
        },
      };
    },
    // The claims the API's verifier reads: roles, and a staff member's territory.
    async extraTokenClaims(ctx, token) {
      if (token.kind !== 'AccessToken') return undefined;
      const account = ACCOUNTS[token.accountId];
      if (!account) return undefined;
      return account.territory
        ? { roles: account.roles, territory: account.territory }
        : { roles: account.roles };
    },
  });
  server.on('request', provider.callback());
  console.log(`listening ${issuer}`);
});

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
