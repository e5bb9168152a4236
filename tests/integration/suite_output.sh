#!/usr/bin/env bash
# curl's output options against nginx with client auth, over HTTP/1.1 and HTTP/2: -o writes the whole body
# (sha256 equal to the served file), --max-filesize stops it (announced by Content-Length: nothing is
# downloaded; chunked / unannounced: reading stops at the limit), -I sends HEAD and does not wait for the
# announced body, -i shows the headers, -w prints curl's variables (monotone timings, %{json}, stderr with
# --json), and -o of a large body does not grow memory with the body.
#
#   bash suite_output.sh /path/to/mtls-probe
# shellcheck disable=SC2119  # assert_no_password takes an optional argument
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"

make_tmp
gen_pki

WWW="$TMP/www"
DL="$TMP/downloads"  # outside the probe's working directory, which must stay empty
mkdir -p "$WWW" "$DL"
chmod 755 "$TMP" "$WWW"
head -c 1048576 /dev/urandom >"$WWW/1m.bin"
head -c 3145728 /dev/urandom >"$WWW/3m.bin"
head -c 20971520 /dev/urandom >"$WWW/20m.bin"
chmod 644 "$WWW"/*.bin

read -r P_H1 P_H2 < <(free_port 2)
# /gz/ serves the same files gzip-encoded for a client that accepts it: chunked over HTTP/1.1, without
# Content-Length over HTTP/2, so --max-filesize is found while reading.
tls_common="
$NGINX_TLS
    ssl_verify_client on;
    root $WWW;
    location /gz/ {
      alias $WWW/;
      gzip on;
      gzip_types *;
      gzip_min_length 0;
      gzip_comp_level 1;
    }"
start_nginx output "
  server {
    listen 127.0.0.1:$P_H1 ssl;
    $tls_common
  }
  server {
    listen 127.0.0.1:$P_H2 ssl http2;
    $tls_common
  }
" "$P_H1"
wait_port "$P_H2" "$LAST_PID" || die "nginx HTTP/2 server not listening"

H1="https://localhost:$P_H1"
H2="https://localhost:$P_H2"
# no_response_header NAME — the last probe's http.headers has no field NAME (case-insensitive)
no_response_header() {
  local i
  for ((i = 0; ; i++)); do
    [[ -n ${J[http.headers.$i.name]+x} ]] || break
    [[ ${J[http.headers.$i.name],,} == *"$1"* ]] && return 1
  done
  ((i > 0))  # and there were headers to look at
}
sha() { sha256sum "$1" | cut -d' ' -f1; }
size_of() { stat -c %s "$1"; }
# run_direct ARGS... — the probe without the wrapper's --json/-v: stdout $DOUT, stderr $DERR, exit $DRC
DOUT="$TMP/direct.out"
DERR="$TMP/direct.err"
run_direct() {
  (cd "$TMP" && timeout -k 2 60 "$PROBE" "$@" >"$DOUT" 2>"$DERR" </dev/null)
  DRC=$?
}

for base in "$H1" "$H2"; do
  v=1.1 want_version=1.1
  [[ $base == "$H2" ]] && v=2 want_version='"2"'

  scenario "-o over HTTP/$v: the whole 3 MiB body, sha256 equal to the served file"
  rm -f "$DL/3m.bin"
  probe -o "$DL/3m.bin" "${CACERT[@]}" "${ID_GOOD[@]}" "$base/3m.bin"
  expect_verdict ok 0
  expect_json http.version "$want_version"
  expect_json http.body_file "$DL/3m.bin"
  expect_json http.body_bytes 3145728
  expect_json http.max_filesize_exceeded false
  check "file equals the served one (sha256)" test "$(sha "$DL/3m.bin")" == "$(sha "$WWW/3m.bin")"
  assert_no_password

  scenario "--max-filesize 1M over HTTP/$v, Content-Length 3 MiB: not downloaded at all (as curl)"
  probe -o "$DL/cl.bin" --max-filesize 1M "${CACERT[@]}" "${ID_GOOD[@]}" "$base/3m.bin"
  expect_verdict http-error 10
  expect_json http.status 200
  expect_json http.max_filesize 1048576
  expect_json http.max_filesize_exceeded true
  expect_json http.oversize_content_length 3145728
  expect_json http.body_bytes 0
  expect_json_contains summary "above --max-filesize 1048576"
  check "the file is empty" test "$(size_of "$DL/cl.bin")" == 0

  scenario "--max-filesize 1M over HTTP/$v, gzip without Content-Length: stops at 1 MiB, keeps it"
  probe -o "$DL/gz.bin" --max-filesize 1M -H "Accept-Encoding: gzip" "${CACERT[@]}" "${ID_GOOD[@]}" \
    "$base/gz/3m.bin"
  expect_verdict http-error 10
  expect_json_contains summary "exceeded --max-filesize at 1048576 bytes"
  expect_json http.max_filesize_exceeded true
  expect_json http.oversize_content_length null
  expect_json http.body_bytes 1048576
  check "no Content-Length among the response headers" no_response_header content-length
  check "the file keeps the first 1 MiB" test "$(size_of "$DL/gz.bin")" == 1048576

  scenario "--max-filesize at the exact size over HTTP/$v: downloaded (only more than the limit stops)"
  probe -o "$DL/exact.bin" --max-filesize 1048576 "${CACERT[@]}" "${ID_GOOD[@]}" "$base/1m.bin"
  expect_verdict ok 0
  check "file equals the served one (sha256)" test "$(sha "$DL/exact.bin")" == "$(sha "$WWW/1m.bin")"

  scenario "-I over HTTP/$v: HEAD, the announced 20 MiB body not waited for, headers in the report"
  run_direct -I --max-time 5 "${CACERT[@]}" "${ID_GOOD[@]}" "$base/20m.bin"
  check "exit 0 (ok) within --max-time (got $DRC)" test "$DRC" == 0
  check "request line is HEAD" grep -q "HEAD /20m.bin HTTP/$v" "$DOUT"
  check "Content-Length of the file shown (-I implies -i)" grep -qi "^ *content-length: 20971520" "$DOUT"
  check "Server header shown" grep -qi "^ *server: nginx" "$DOUT"
  probe -I --max-time 5 "${CACERT[@]}" "${ID_GOOD[@]}" "$base/20m.bin"
  expect_verdict ok 0
  expect_json http.body_bytes 0
  expect_json_contains http.request_line "HEAD /20m.bin"

  scenario "-i over HTTP/$v: every response header in the text report; without -i none"
  run_direct -i "${CACERT[@]}" "${ID_GOOD[@]}" "$base/1m.bin"
  check "exit 0 (got $DRC)" test "$DRC" == 0
  check "Content-Type shown" grep -qi "^ *content-type: text/plain" "$DOUT"
  check "ETag shown" grep -qi "^ *etag: " "$DOUT"
  run_direct "${CACERT[@]}" "${ID_GOOD[@]}" "$base/1m.bin"
  check "without -i: no header lines" bash -c "! grep -qi '^ *etag: ' '$DOUT'"
done

scenario "-w: curl's timings are monotone non-decreasing, codes and sizes as curl prints them"
run_direct -o "$DL/w.bin" -w '\n%{http_code} %{size_download} %{time_namelookup} %{time_connect} %{time_appconnect} %{time_starttransfer} %{time_total}\n' \
  "${CACERT[@]}" "${ID_GOOD[@]}" "$H1/1m.bin"
line=$(tail -n 1 "$DOUT")
echo "  (write-out: $line)"
check "http_code 200 and size_download 1048576" test "$(cut -d' ' -f1-2 <<<"$line")" == "200 1048576"
check "namelookup <= connect <= appconnect <= starttransfer <= total, all > 0" \
  awk '{ for (i = 3; i <= 7; ++i) if ($i !~ /^[0-9]+\.[0-9][0-9][0-9][0-9][0-9][0-9]$/) exit 1;
         if (!($3 > 0 && $3 <= $4 && $4 <= $5 && $5 <= $6 && $6 <= $7)) exit 1 }' <<<"$line"

scenario "-w %{json} (to stderr by %{stderr}) parses, with curl's names"
run_direct -w '%{stderr}%{json}' "${CACERT[@]}" "${ID_GOOD[@]}" "$H2/1m.bin"
check "stderr is one JSON object with http_code 200, http_version 2, remote_port $P_H2" \
  "$PY" -c "import json,sys; j=json.load(open(sys.argv[1])); assert j['http_code']==200 and j['http_version']=='2' and j['remote_port']==int(sys.argv[2]) and j['client_cert_sent'] is True, j" "$DERR" "$P_H2"

scenario "-w with --json: stdout stays exactly one JSON object, write-out on stderr; unknown variable warns"
probe -w 'code=%{http_code} %{stdout}ip=%{remote_ip} %{nope}\n' "${CACERT[@]}" "${ID_GOOD[@]}" "$H1/1m.bin"
expect_verdict ok 0
check "write-out on stderr" grep -q "^code=200 ip=127.0.0.1 $" "$ERR"
check "unknown variable warned about" grep -q "unknown --write-out variable: 'nope'" "$ERR"

scenario "-w @FILE"
printf '%%{verdict}:%%{response_code}\\n' >"$TMP/format.txt"
run_direct -w "@$TMP/format.txt" "${CACERT[@]}" "${ID_GOOD[@]}" "$H1/1m.bin"
check "last line ok:200" test "$(tail -n 1 "$DOUT")" == "ok:200"

scenario "-o -: the body alone on stdout, the report on stderr"
run_direct -o - "${CACERT[@]}" "${ID_GOOD[@]}" "$H2/1m.bin"
check "exit 0 (got $DRC)" test "$DRC" == 0
check "stdout is the file (sha256)" test "$(sha "$DOUT")" == "$(sha "$WWW/1m.bin")"
check "report on stderr" grep -q "ok (exit 0)" "$DERR"

scenario "-o into a directory that does not exist: usage error before any network"
probe -o "$DL/no/such/dir/x.bin" "${CACERT[@]}" "${ID_GOOD[@]}" "$H1/1m.bin"
expect_verdict usage-error 1
expect_json connect.attempted false
expect_json_contains summary "cannot open"

scenario "memory: -o of 20 MiB peaks within 8 MiB of -o of 1 MiB (the body is streamed, not held)"
rss() {  # rss URL OUTFILE — peak RSS (KiB) of one -o download
  (cd "$TMP" && /usr/bin/time -f %M -o "$TMP/rss.txt" "$PROBE" -o "$2" "${CACERT[@]}" "${ID_GOOD[@]}" "$1" \
    >/dev/null 2>&1)
  cat "$TMP/rss.txt"
}
for base in "$H1" "$H2"; do
  small=$(rss "$base/1m.bin" "$DL/m1.bin")
  big=$(rss "$base/20m.bin" "$DL/m20.bin")
  echo "  (peak RSS $base: 1 MiB body ${small} KiB, 20 MiB body ${big} KiB)"
  check "20 MiB download complete (sha256)" test "$(sha "$DL/m20.bin")" == "$(sha "$WWW/20m.bin")"
  check "peak RSS grows by less than 8 MiB ($small -> $big KiB)" test $((big - small)) -lt 8192
done

finish
