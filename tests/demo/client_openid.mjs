// openid-client (5.x, runs on Node 18) against the demo, as an OAuth
// client would use it: discovery from the RFC 8414 metadata, the
// client_credentials grant, a call to the protected API with the token,
// introspection and revocation. TLS is checked against the system store
// plus NODE_EXTRA_CA_CERTS (the demo's CA); nothing here turns checks off.
// Input: DEMO_URL, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET. Output: one JSON
// line of what happened; exit 1 with the error on any failure.
import { Issuer } from 'openid-client';

const base = process.env.DEMO_URL;
const out = {};
try {
  const issuer = await Issuer.discover(
    `${base}/.well-known/oauth-authorization-server`);
  out.issuer = issuer.issuer;
  const client = new issuer.Client({
    client_id: process.env.DEMO_CLIENT_ID,
    client_secret: process.env.DEMO_CLIENT_SECRET,
    token_endpoint_auth_method: 'client_secret_basic',
  });
  const tokens = await client.grant({
    grant_type: 'client_credentials',
    scope: 'orders:read',
  });
  out.token_type = tokens.token_type;
  out.scope = tokens.scope;
  const res = await client.requestResource(`${base}/api/orders.json`,
                                           tokens.access_token);
  out.api_status = res.statusCode;
  out.api_body = JSON.parse(res.body.toString());
  const info = await client.introspect(tokens.access_token);
  out.introspected_active = info.active;
  await client.revoke(tokens.access_token, 'access_token');
  out.revoked = true;
  console.log(JSON.stringify(out));
} catch (e) {
  console.error(`${e.name}: ${e.message}${e.code ? ` (${e.code})` : ''}`);
  process.exit(1);
}
