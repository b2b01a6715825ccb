"""requests-oauthlib against the demo, as its documentation shows the
client credentials ("backend application") flow: BackendApplicationClient,
OAuth2Session.fetch_token, then the protected API through the session.
TLS is checked by requests against REQUESTS_CA_BUNDLE (the demo's CA);
oauthlib itself refuses plain http. Input: DEMO_URL, DEMO_CLIENT_ID,
DEMO_CLIENT_SECRET. Output: one JSON line; exit 1 with the error."""
import json
import os
import sys

from oauthlib.oauth2 import BackendApplicationClient
from requests_oauthlib import OAuth2Session


def main():
    base = os.environ["DEMO_URL"]
    cid = os.environ["DEMO_CLIENT_ID"]
    client = BackendApplicationClient(client_id=cid)
    session = OAuth2Session(client=client)
    token = session.fetch_token(
        token_url=base + "/oauth/token", client_id=cid,
        client_secret=os.environ["DEMO_CLIENT_SECRET"],
        scope=["orders:read"])
    r = session.get(base + "/api/orders.json", timeout=10)
    print(json.dumps({"token_type": token["token_type"],
                      "scope": token.get("scope"),
                      "api_status": r.status_code,
                      "api_body": r.json() if r.ok else r.text}))


if __name__ == "__main__":
    try:
        main()
    except Exception as e:  # one line for the test to show
        print("%s: %s" % (type(e).__name__, e), file=sys.stderr)
        sys.exit(1)
