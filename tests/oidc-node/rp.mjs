// openid-client (v5, runs on Node 18) as a relying party of the issuer,
// configured by discovery only. Two steps, with the person's browser
// (the Python test) in between:
//   node rp.mjs start  ISSUER CLIENT_ID REDIRECT_URI
//       -> {"url", "code_verifier", "nonce", "state"}
//   node rp.mjs finish ISSUER CLIENT_ID REDIRECT_URI CALLBACK_URL VERIFIER NONCE STATE
//       -> {"claims", "userinfo", "scope", "refreshed"}
// Every check is openid-client's own: state, iss in the response (RFC
// 9207), the ID token's signature (from jwks_uri), iss, aud, exp, iat and
// nonce, PKCE by sending the verifier.
import { Issuer, generators } from 'openid-client';

const [step, issuerUrl, clientId, redirectUri, ...rest] = process.argv.slice(2);

async function client() {
  const issuer = await Issuer.discover(issuerUrl);
  if (issuer.issuer !== issuerUrl) {
    throw new Error(`discovered issuer ${issuer.issuer}, not ${issuerUrl}`);
  }
  return new issuer.Client({
    client_id: clientId,
    token_endpoint_auth_method: 'none',
    redirect_uris: [redirectUri],
    response_types: ['code'],
    id_token_signed_response_alg: issuer.id_token_signing_alg_values_supported[0],
  });
}

async function start() {
  const c = await client();
  const codeVerifier = generators.codeVerifier();
  const nonce = generators.nonce();
  const state = generators.state();
  const url = c.authorizationUrl({
    scope: 'openid email offline_access',
    code_challenge: generators.codeChallenge(codeVerifier),
    code_challenge_method: 'S256',
    nonce,
    state,
  });
  return { url, code_verifier: codeVerifier, nonce, state };
}

async function finish() {
  const [callbackUrl, codeVerifier, nonce, state] = rest;
  const c = await client();
  const params = c.callbackParams(callbackUrl);
  const tokenSet = await c.callback(redirectUri, params, {
    code_verifier: codeVerifier,
    nonce,
    state,
    response_type: 'code',
  });
  const userinfo = await c.userinfo(tokenSet);
  const refreshed = await c.refresh(tokenSet);
  return {
    claims: tokenSet.claims(),
    userinfo,
    scope: tokenSet.scope,
    refreshed: {
      has_access_token: Boolean(refreshed.access_token),
      rotated: refreshed.refresh_token !== tokenSet.refresh_token,
    },
  };
}

try {
  const out = step === 'start' ? await start() : await finish();
  process.stdout.write(JSON.stringify(out) + '\n');
} catch (e) {
  process.stderr.write(`${e.name}: ${e.message}\n`);
  process.exit(1);
}
