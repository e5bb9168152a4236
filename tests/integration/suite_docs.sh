#!/usr/bin/env bash
# suite_docs.sh PATH/TO/mtls-probe — the generated documents next to the binary (BUILD/docs, made by
# mtls-probe-docgen from the command line definition): the man page renders without a warning and names every
# option --help names; the bash completion completes options, subcommands and file names; the zsh completion
# parses. No network at all.
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"
# shellcheck source=completion.sh
source "$INTEG_DIR/completion.sh"

if [[ -z $PROBE || ! -x $PROBE ]]; then
  echo "FATAL: mtls-probe binary not found: '${PROBE}'" >&2
  echo "0 passed, 1 failed"
  exit 1
fi
DOCS=$(dirname "$PROBE")/docs
MAN=$DOCS/mtls-probe.1
BASH_COMPLETION=$DOCS/mtls-probe.bash
ZSH_COMPLETION=$DOCS/_mtls-probe
make_tmp

scenario "man page"
check "generated next to the binary" test -s "$MAN" -a -s "$MAN.gz"
groff -man -ww -z "$MAN" >"$TMP/groff.err" 2>&1
check "groff -man -ww: no warning" test ! -s "$TMP/groff.err"
[[ -s $TMP/groff.err ]] && head -5 "$TMP/groff.err"
MANWIDTH=120 man --warnings -E UTF-8 -l "$MAN" >"$TMP/man.txt" 2>"$TMP/man.err"
check "man --warnings -l: renders, no warning" test -s "$TMP/man.txt" -a ! -s "$TMP/man.err"
[[ -s $TMP/man.err ]] && head -5 "$TMP/man.err"
for section in NAME SYNOPSIS DESCRIPTION OPTIONS COMMANDS "EXIT STATUS" ENVIRONMENT EXAMPLES "SEE ALSO"; do
  check "section $section" grep -qx "$section" "$TMP/man.txt"
done
check "the version in the footer" grep -qF "mtls-probe $("$PROBE" --version | head -1 | cut -d' ' -f2)" "$TMP/man.txt"
# The one source: every option the --help of each command names is in the man page (a flag added to the
# command line is documented without an edit).
missing=()
for cmd in "" serve inspect batch; do
  # shellcheck disable=SC2086  # $cmd is one word or none
  while read -r opt; do
    # as an option's name in bold in the troff source (\fB\-\-junit\fR), not merely mentioned in prose
    grep -qF -- "\\fB${opt//-/\\-}\\fR" "$MAN" || missing+=("${cmd:-probe} $opt")
  done < <("$PROBE" $cmd --help | grep -oE '(^|[ ,])--[a-z0-9][a-z0-9.-]*' | sed 's/^[ ,]//' | sort -u)
done
check "every option of every --help is in the man page (missing: ${missing[*]:-none})" test ${#missing[@]} -eq 0
check "EXIT STATUS lists client-cert-rejected as 9" grep -qE '^ +9 +client-cert-rejected: ' "$TMP/man.txt"
check "an example with inspect" grep -qE '^ +mtls-probe inspect ' "$TMP/man.txt"
check "the same examples as --help" bash -c "'$PROBE' --help | grep -F 'mtls-probe batch -j 16' >/dev/null && grep -qF 'mtls-probe batch -j 16' '$TMP/man.txt'"

scenario "bash completion"
mkdir -p "$TMP/cwd" && cd "$TMP/cwd" && touch alice.p12 alpha.txt && mkdir cadir
check "bash -n" bash -n "$BASH_COMPLETION"
got=$(bash_complete "$BASH_COMPLETION" mtls-probe --p1)
check "--p1 completes to --p12 and its password options" test "$got" = $'--p12\n--p12-password-env\n--p12-password-file'
got=$(bash_complete "$BASH_COMPLETION" mtls-probe --p12 al | sort)
check "--p12 completes file names" test "$got" = $'alice.p12\nalpha.txt'
got=$(bash_complete "$BASH_COMPLETION" mtls-probe --capath "")
check "--capath completes directories" test "$got" = "cadir"
got=$(bash_complete "$BASH_COMPLETION" mtls-probe --connect-timeout "")
check "--connect-timeout offers nothing" test -z "$got"
got=$(bash_complete "$BASH_COMPLETION" mtls-probe se)
check "subcommand: se -> serve" test "$got" = serve
got=$(bash_complete "$BASH_COMPLETION" mtls-probe -k serve --pki)
check "serve's own options after serve" test "$got" = "--pki-dir"
got=$(bash_complete "$BASH_COMPLETION" mtls-probe --cacert batch batch --par)
check "an option's value is not taken for a subcommand" test "$got" = "--parallel"
got=$(bash_complete "$BASH_COMPLETION" mtls-probe inspect al | sort)
check "inspect's FILE completes file names" test "$got" = $'alice.p12\nalpha.txt'
got=$(bash_complete "$BASH_COMPLETION" mtls-probe --p12 = al)  # bash splits --p12=al at the =
check "--p12=FILE completes file names" bash -c "grep -qx alice.p12 <<<'$got'"
cd "$TMP"

scenario "zsh completion"
check "#compdef line" grep -qx '#compdef mtls-probe' "$ZSH_COMPLETION"
if command -v zsh >/dev/null; then
  check "zsh -n" zsh -n "$ZSH_COMPLETION"
else
  echo "  (zsh is not installed: syntax not checked)"
fi
finish
