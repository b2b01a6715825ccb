# Delegated authorization in the demo (sourced by scripts/demo.sh, which
# provides RUN, STATE, URL, RUN_USER, REG and scripts/demo-lib.sh): a demo
# person in an htpasswd file for the Basic authentication that protects
# /oauth/authorize and /oauth/consents, a public demo web application with
# PKCE, and its callback page, which shows the person the curl that redeems
# the code it received.

delegated_setup() {
    # The demo person, with a password generated once.
    PERSON=demo
    PERSON_PWFILE=$RUN/person-password
    make_once "$PERSON_PWFILE" new_password
    PERSON_PASSWORD=$(cat "$PERSON_PWFILE")
    htpasswd -bcB "$STATE/conf/people.htpasswd" "$PERSON" \
        "$PERSON_PASSWORD" >/dev/null 2>&1
    chown "root:$RUN_USER" "$STATE/conf/people.htpasswd"
    chmod 640 "$STATE/conf/people.htpasswd"

    # The demo web application: public (no secret), PKCE, its callback on
    # this server. Registered once; the redirect URI follows the URL.
    CALLBACK=$URL/demo-app/callback
    WEB_FILE=$RUN/demo-web-client
    if [ ! -s "$WEB_FILE" ] || ! admin app show "$(cat "$WEB_FILE")" \
            >/dev/null 2>&1; then
        WEB_ID=$(admin app list | awk '$4 == "demo-web" {print $1}')
        if [ -z "$WEB_ID" ]; then
            WEB_ID=$(admin --json app add --name demo-web --type public \
                     --description "the demo's web application: it reads \
your orders" \
                     --grant authorization_code,refresh_token \
                     --scope orders:read --audience orders-api \
                     --redirect-uri "$CALLBACK" | json_member client_id)
        fi
        printf '%s\n' "$WEB_ID" > "$WEB_FILE"
    fi
    WEB_ID=$(cat "$WEB_FILE")
    admin app update "$WEB_ID" --redirect-uri "$CALLBACK" >/dev/null

    # A PKCE pair for the printed walk-through (RFC 7636: the challenge is
    # the verifier's SHA-256, base64url). prompt=consent: the consent page
    # shows every time, also once the demo person has allowed the
    # application.
    VERIFIER=$(openssl rand -base64 48 | tr -d '\n=' | tr '/+' '_-')
    CHALLENGE=$(printf '%s' "$VERIFIER" | openssl dgst -sha256 -binary \
                | openssl base64 -A | tr -d '=' | tr '/+' '_-')

    # The callback: plain text, only the code's own characters echoed.
    mkdir -p "$STATE/demo-app"
    cat > "$STATE/demo-app/callback" <<CGI
#!/bin/sh
code=\$(printf '%s' "\$QUERY_STRING" | tr '&' '\\n' \\
       | sed -n 's/^code=\\([A-Za-z0-9_-]*\\)\$/\\1/p')
error=\$(printf '%s' "\$QUERY_STRING" | tr '&' '\\n' \\
        | sed -n 's/^error=\\([a-z_]*\\)\$/\\1/p')
printf 'Content-Type: text/plain; charset=utf-8\\r\\n\\r\\n'
if [ -n "\$code" ]; then
    echo "demo-web received an authorization code for you. Redeem it within"
    echo "60 seconds (the PKCE verifier proves it is the same application):"
    echo
    echo "  curl -s ${CA:+--cacert $CA }-d grant_type=authorization_code \\\\"
    echo "      -d client_id=$WEB_ID \\\\"
    echo "      -d redirect_uri=$CALLBACK -d code_verifier=$VERIFIER \\\\"
    echo "      -d code=\$code $URL/oauth/token"
    echo
    echo "Your applications, with Revoke access: $URL/oauth/consents"
else
    echo "No code: \${error:-nothing was sent} (Deny gives access_denied)."
fi
CGI
    chmod 755 "$STATE/demo-app" "$STATE/demo-app/callback"
    AUTHORIZE_URL="$URL/oauth/authorize?response_type=code&client_id=$WEB_ID&redirect_uri=$(printf '%s' "$CALLBACK" | sed 's/:/%3A/g; s|/|%2F|g')&scope=openid%20orders%3Aread%20offline_access&state=demo&prompt=consent&code_challenge=$CHALLENGE&code_challenge_method=S256"
}

delegated_banner() {
    cat <<EOF2

A person lets an application act for them (code flow with PKCE, consent):
  open $AUTHORIZE_URL
  sign in as $PERSON / $PERSON_PASSWORD, press Allow: the page you land on
  shows the curl that redeems the code for tokens (sub: $PERSON).
  Discovery: $URL/.well-known/openid-configuration
EOF2
}
