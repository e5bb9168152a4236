#!/usr/bin/env bash
# node.js https.createServer with requestCert (node's bundled or the system OpenSSL 3).
#
#   bash suite_node.sh /path/to/mtls-probe
#
# The server script is written into the temp dir: key server.key, cert server-chain.pem,
# ca client-ca-bundle.pem, requestCert: true, and
#   REJECT  rejectUnauthorized: true
#   ACCEPT  rejectUnauthorized: false — the handler answers 401 "Sorry, but you need a valid client
#           certificate: <req.socket.authorizationError>" when !req.client.authorized
# An authorized request gets 200 "hello <CN>", or 403 on /forbidden. Each listens on 127.0.0.1 port 0
# and prints the port it got.
#
# Observed on the wire (node v20, OpenSSL 3). CertificateRequest in the handshake, CA names = the
# subjects of `ca` (Test Root CA, Test Intermediate CA). node verifies the client certificate itself
# after OpenSSL's handshake (OpenSSL's verify callback accepts everything) and, with
# rejectUnauthorized, destroys the socket: no alert.
#
#   server  client cert       TLS 1.3                                     TLS 1.2
#   REJECT  none              alert certificate_required (116)            alert handshake_failure (40)
#                             (OpenSSL's SSL_VERIFY_FAIL_IF_NO_PEER_CERT)
#   REJECT  other CA          handshake completes on our side (no         close during the handshake
#                             NewSessionTicket); request sent; EOF, no     (after our Finished, before
#                             alert, no response                           the server's), no alert
#   REJECT  expired           same as other CA                            same as other CA
#   REJECT  good              200 "hello good-client"                     200
#   REJECT  good /forbidden   403                                         403
#   ACCEPT  none              401 "...: UNABLE_TO_GET_ISSUER_CERT" (node's authorizationError for a
#                             missing certificate)                        same
#   ACCEPT  other CA          401 "...: SELF_SIGNED_CERT_IN_CHAIN" (our .p12 carries the other root)
#   ACCEPT  expired           401 "...: CERT_HAS_EXPIRED"
#   ACCEPT  good              200; /forbidden 403
# node logs tlsClientError "peer did not return a certificate" for REJECT/none and "socket hang up"
# for the silent closes.
#
# Targets (issue 9): the TLS 1.3 silent close after our unverifiable certificate is
# client-cert-rejected with tls.alert null; the 401s whose body names a certificate error after our
# certificate (other CA: issuer not in the CA list; expired) are client-cert-rejected.
# shellcheck disable=SC2119  # assert_no_password takes an optional argument
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"
# shellcheck source=lib_stacks.sh
source "$INTEG_DIR/lib_stacks.sh"

need_binary NODE node /usr/bin/node /usr/bin/nodejs /usr/local/bin/node
make_tmp
gen_pki

cat >"$TMP/server.js" <<'JS'
'use strict';
const fs = require('fs');
const https = require('https');
const [pki, mode] = process.argv.slice(2);
const server = https.createServer({
  key: fs.readFileSync(pki + '/server.key'),
  cert: fs.readFileSync(pki + '/server-chain.pem'),
  ca: fs.readFileSync(pki + '/client-ca-bundle.pem'),
  requestCert: true,
  rejectUnauthorized: mode === 'reject',
}, (req, res) => {
  if (!req.client.authorized) {
    res.writeHead(401, {'Content-Type': 'text/plain'});
    res.end('Sorry, but you need a valid client certificate: ' + req.socket.authorizationError + '\n');
  } else if (req.url.startsWith('/forbidden')) {
    res.writeHead(403, {'Content-Type': 'text/plain'});
    res.end('forbidden\n');
  } else {
    res.writeHead(200, {'Content-Type': 'text/plain'});
    res.end('hello ' + req.socket.getPeerCertificate().subject.CN + '\n');
  }
});
server.on('tlsClientError', (err) => console.error('tlsClientError: ' + err.message.trim()));
server.listen(0, '127.0.0.1', () => console.log('listening ' + server.address().port));
const stop = () => { server.close(); process.exit(0); };
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
JS

start_node reject "$TMP/server.js" "$PKI" reject
REJECT="https://localhost:$NODE_PORT"
start_node accept "$TMP/server.js" "$PKI" accept
ACCEPT="https://localhost:$NODE_PORT"

for v in 1.3 1.2; do
  T=(--tls-max "$v")
  if [[ $v == 1.3 ]]; then noalert=certificate_required; else noalert=handshake_failure; fi

  # --- REJECT: rejectUnauthorized: true ----------------------------------------------------------------
  stack_case "node rejectUnauthorized, TLS $v: no certificate -> client-cert-required (alert $noalert)" \
    client-cert-required 8 "$noalert" null true false -- "${CACERT[@]}" "${T[@]}" "$REJECT/"
  expect_json tls.version "TLSv$v"
  expect_json_any_contains tls.acceptable_ca_names "mtls-probe Test Root CA"
  expect_json_any_contains tls.acceptable_ca_names "mtls-probe Test Intermediate CA"

  if [[ $v == 1.3 ]]; then
    what="silent close after the handshake [issue 9]"
  else
    what="close in the handshake, no alert"
  fi
  stack_case "node rejectUnauthorized, TLS $v: other CA -> client-cert-rejected ($what)" \
    client-cert-rejected 9 null null true true -- "${CACERT[@]}" "${T[@]}" "${ID_OTHER[@]}" "$REJECT/"
  expect_json client_cert.issuer_in_acceptable_ca_names false
  if [[ $v == 1.3 ]]; then
    expect_json tls.handshake_completed true
    expect_json http.request_sent true
    expect_json http.closed_before_response true
  else
    expect_json tls.peer_closed_during_handshake true
  fi
  assert_no_password

  stack_case "node rejectUnauthorized, TLS $v: expired -> client-cert-rejected ($what)" \
    client-cert-rejected 9 null null true true -- "${CACERT[@]}" "${T[@]}" "${ID_EXPIRED[@]}" "$REJECT/"

  stack_case "node rejectUnauthorized, TLS $v: good certificate -> ok" \
    ok 0 null 200 true true -- "${CACERT[@]}" "${T[@]}" "${ID_GOOD[@]}" "$REJECT/"
  expect_json_contains http.body_excerpt "hello good-client"
  assert_no_password

  stack_case "node rejectUnauthorized, TLS $v: good certificate, 403 path -> http-error" \
    http-error 10 null 403 true true -- "${CACERT[@]}" "${T[@]}" "${ID_GOOD[@]}" "$REJECT/forbidden"

  # --- ACCEPT: rejectUnauthorized: false, 401 from the handler ------------------------------------------
  stack_case "node 401 handler, TLS $v: no certificate -> client-cert-required" \
    client-cert-required 8 null 401 true false -- "${CACERT[@]}" "${T[@]}" "$ACCEPT/"
  expect_json_contains http.body_excerpt "you need a valid client certificate"

  stack_case "node 401 handler, TLS $v: other CA, 401 SELF_SIGNED_CERT_IN_CHAIN -> client-cert-rejected [issue 9]" \
    client-cert-rejected 9 null 401 true true -- "${CACERT[@]}" "${T[@]}" "${ID_OTHER[@]}" "$ACCEPT/"
  expect_json_contains http.body_excerpt "SELF_SIGNED_CERT_IN_CHAIN"
  expect_json client_cert.issuer_in_acceptable_ca_names false

  stack_case "node 401 handler, TLS $v: expired, 401 CERT_HAS_EXPIRED -> client-cert-rejected [issue 9]" \
    client-cert-rejected 9 null 401 true true -- "${CACERT[@]}" "${T[@]}" "${ID_EXPIRED[@]}" "$ACCEPT/"
  expect_json_contains http.body_excerpt "CERT_HAS_EXPIRED"

  stack_case "node 401 handler, TLS $v: good certificate -> ok" \
    ok 0 null 200 true true -- "${CACERT[@]}" "${T[@]}" "${ID_GOOD[@]}" "$ACCEPT/"

  stack_case "node 401 handler, TLS $v: good certificate, 403 path -> http-error" \
    http-error 10 null 403 true true -- "${CACERT[@]}" "${T[@]}" "${ID_GOOD[@]}" "$ACCEPT/forbidden"
done

finish
