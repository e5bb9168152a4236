#!/usr/bin/env bash
# -L/--location against real nginx: each hop a whole probe with its own client authentication, the verdict
# the last hop's, every hop in the evidence. Three vhosts: P1 asks for no certificate and redirects, P2 has
# ssl_verify_client on (the suite's client CA bundle), P3 trusts only the "other" CA and redirects to P2.
#
#   bash suite_redirect.sh /path/to/mtls-probe
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"

make_tmp
gen_pki

read -r P1 P2 P3 < <(free_port 3)
start_nginx redirect "
  server {
    listen 127.0.0.1:$P1 ssl;
    $NGINX_TLS
    location = / { return 302 https://127.0.0.1:$P2/x; }
    location = /post307 { return 307 https://127.0.0.1:$P2/method; }
    location = /post302 { return 302 https://127.0.0.1:$P2/method; }
    location = /a/rel { return 302 ../x?from=rel#frag; }
    location = /x { return 302 https://127.0.0.1:$P2/x; }
    location = /loop { return 302 /loop; }
    location = /plain { return 301 http://127.0.0.1:$P1/; }
  }
  server {
    listen 127.0.0.1:$P2 ssl;
    $NGINX_TLS
    ssl_verify_client on;
    location = /x { return 200 \"x ok \$args\n\"; }
    location = /method { return 200 \"\$request_method len=\$content_length\n\"; }
  }
  server {
    listen 127.0.0.1:$P3 ssl;
    ${NGINX_TLS//client-ca-bundle.pem/other-ca.crt}
    ssl_verify_client on;
    location / { return 302 https://127.0.0.1:$P2/x; }
  }" "$P1"
wait_port "$P2" "$LAST_PID" && wait_port "$P3" "$LAST_PID" || die "nginx did not listen on all ports"

scenario "without -L a 302 stays the verdict, with a hint that -L follows it"
probe "${CACERT[@]}" "${ID_GOOD[@]}" "https://127.0.0.1:$P1/"
expect_verdict ok 0
expect_json http.status 302
expect_json redirects "[]"
expect_json_any_contains hints "-L/--location follows the redirect"

scenario "-L: hop 1 without client auth, hop 2 with (the verdict is hop 2's)"
probe "${CACERT[@]}" "${ID_GOOD[@]}" -L -H "Authorization: Bearer tok" -H "X-Trace: 1" "https://127.0.0.1:$P1/"
expect_verdict ok 0
expect_json url_effective "https://127.0.0.1:$P2/x"
expect_json http.status 200
expect_json tls.client_cert_requested true
expect_json redirects.0.url "https://127.0.0.1:$P1/"
expect_json redirects.0.status 302
expect_json redirects.0.location "https://127.0.0.1:$P2/x"
expect_json redirects.0.verdict ok
expect_json redirects.0.client_cert_requested false
expect_json redirects.0.client_cert_sent false
expect_json redirects.0.auth_headers_dropped true  # another port: Authorization is not sent on
expect_json_contains summary "At hop 2"
expect_json redirects.0.connected_address "127.0.0.1:$P1"  # each hop its own connection
expect_json connect.address "127.0.0.1:$P2"

scenario "-L text report: a Redirects section names every hop"
OUT_TEXT="$TMP/redirect.txt"
"$PROBE" "${CACERT[@]}" "${ID_GOOD[@]}" -L "https://127.0.0.1:$P1/" >"$OUT_TEXT" 2>/dev/null
check "text: Redirects section" grep -q '^  Redirects' "$OUT_TEXT"
check "text: hop 1 line" grep -q "1\. GET https://127.0.0.1:$P1/ -> 302 https://127.0.0.1:$P2/x" "$OUT_TEXT"
check "text: hop 2 is this report" grep -q "2\. https://127.0.0.1:$P2/x (this report)" "$OUT_TEXT"

scenario "-L -o FILE: the file holds the last hop's body only, not the 302's page"
BODY_FILE="$TMP/last-hop.body"
probe "${CACERT[@]}" "${ID_GOOD[@]}" -L -o "$BODY_FILE" "https://127.0.0.1:$P1/"
expect_verdict ok 0
check "-o file is hop 2's body (x ok)" grep -qx "x ok " "$BODY_FILE"
check "-o file has no 302 page" bash -c "! grep -qi '302 Found' '$BODY_FILE'"

scenario "-L: 307 keeps POST and its body, 302 turns it into a GET without one"
probe "${CACERT[@]}" "${ID_GOOD[@]}" -L -d "a=12345" "https://127.0.0.1:$P1/post307"
expect_verdict ok 0
expect_json redirects.0.status 307
expect_json redirects.0.method POST
expect_json_contains http.body_excerpt "POST len=7"
probe "${CACERT[@]}" "${ID_GOOD[@]}" -L -d "a=12345" "https://127.0.0.1:$P1/post302"
expect_verdict ok 0
expect_json redirects.0.method POST
expect_json_contains http.body_excerpt "GET len="
expect_json_contains http.request_line "GET /method"

scenario "-L: a relative Location is resolved against the hop's URL, the fragment dropped"
probe "${CACERT[@]}" "${ID_GOOD[@]}" -L "https://127.0.0.1:$P1/a/rel"
expect_json redirects.0.location "../x?from=rel#frag"
expect_json redirects.0.next_url "https://127.0.0.1:$P1/x?from=rel"
expect_json redirects.1.url "https://127.0.0.1:$P1/x?from=rel"
expect_json url_effective "https://127.0.0.1:$P2/x"
expect_verdict ok 0

scenario "-L: a loop ends at --max-redirs with http-error"
probe "${CACERT[@]}" "${ID_GOOD[@]}" -L --max-redirs 3 "https://127.0.0.1:$P1/loop"
expect_verdict http-error 10
expect_json max_redirs_exceeded 3
expect_json redirects.2.url "https://127.0.0.1:$P1/loop"
check "three hops followed, no fourth" test -z "${J[redirects.3]+x}"
expect_json_contains summary "Stopped after 3 redirects (--max-redirs 3)"
expect_json_any_contains hints "loop"
probe "${CACERT[@]}" "${ID_GOOD[@]}" -L --max-redirs 0 "https://127.0.0.1:$P1/"
expect_verdict http-error 10
expect_json redirects "[]"

scenario "-L: a redirect to plain http:// is not followed"
probe "${CACERT[@]}" "${ID_GOOD[@]}" -L "https://127.0.0.1:$P1/plain"
expect_verdict ok 0
expect_json http.status 301
expect_json redirect_not_followed "it leads to plain HTTP"
expect_json_any_contains hints "redirects to plain HTTP (http://127.0.0.1:$P1/): no client certificate"

scenario "-L: hop 1 accepts the certificate, hop 2 (another CA) rejects it: the hop is named"
probe "${CACERT[@]}" "${ID_OTHER[@]}" -L "https://127.0.0.1:$P3/"
expect_verdict client-cert-rejected 9
expect_json redirects.0.verdict ok
expect_json redirects.0.client_cert_sent true
expect_json_contains summary "At hop 2 (https://127.0.0.1:$P2/x, after a 302 from https://127.0.0.1:$P3/)"
expect_json_any_contains hints "hop 1 (https://127.0.0.1:$P3/) accepted your certificate; hop 2 (127.0.0.1:$P2)"
assert_no_password

finish
