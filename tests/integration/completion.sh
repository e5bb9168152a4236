# completion.sh — sourced by suite_docs.sh and scripts/package-test.sh: runs a bash completion script the
# way bash's programmable completion does, without an interactive shell.
#
#   bash_complete SCRIPT WORD... — prints the candidates for the last WORD ("" = a new word) of the command
#                                 line "WORD...", one a line, as `complete -F` would offer them

bash_complete() {
  local script=$1
  shift
  # A fresh bash: nothing of this suite's shell leaks into the completion function, and its compopt calls
  # (which need a completion context) fail quietly as they are written to.
  bash --norc --noprofile -c '
    source "$1" || exit 2
    shift
    COMP_WORDS=("$@")
    COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
    COMP_LINE="${COMP_WORDS[*]}"
    COMP_POINT=${#COMP_LINE}
    _mtls_probe mtls-probe "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
    printf "%s\n" "${COMPREPLY[@]}"
  ' bash_complete "$script" "$@"
}
