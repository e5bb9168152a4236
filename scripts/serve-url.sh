# Sourced helper: serve_url OUTFILE — prints the URL of `mtls-probe serve`'s "listening on" line once it
# appears in OUTFILE (serve's stdout), polling every 0.1 s for up to 10 s; fails when it never does.
serve_url() {
  local url=""
  for _ in $(seq 100); do
    url=$(sed -n 's/^listening on \(https:[^ ]*\)$/\1/p' "$1")
    if [ -n "$url" ]; then
      echo "$url"
      return 0
    fi
    sleep 0.1
  done
  return 1
}
