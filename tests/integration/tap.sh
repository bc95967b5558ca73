# Minimal TAP helpers for the integration scripts (sourced, POSIX sh).
tap_n=0
tap_failed=0

ok() {
    tap_n=$((tap_n + 1))
    echo "ok $tap_n - $1"
}

not_ok() {
    tap_n=$((tap_n + 1))
    tap_failed=$((tap_failed + 1))
    echo "not ok $tap_n - $1"
}

# check DESCRIPTION COMMAND...: one test point from a command's exit status.
check() {
    desc=$1
    shift
    if "$@"; then ok "$desc"; else not_ok "$desc"; fi
}

# Runs a command, keeping its exit status, stdout and stderr for assertions.
run() {
    set +e
    "$@" >"$tap_tmp/out" 2>"$tap_tmp/err" </dev/null
    rc=$?
    set -e
}

# has_line LINE: the last run's stdout has exactly LINE.
has_line() { grep -qxF -- "$1" "$tap_tmp/out"; }

diag_output() {
    sed 's/^/# stdout: /' "$tap_tmp/out" | head -n 40
    sed 's/^/# stderr: /' "$tap_tmp/err" | head -n 40
}

# attacks FILE [PREFIX]: one test point per "attack WHAT: ..." line jail_probe wrote to
# FILE; each attempt must have been refused.
attacks() {
    while IFS= read -r line; do
        case $line in
            "attack "*": refused ("*) ok "${2-}${line#attack }" ;;
            "attack "*) not_ok "${2-}${line#attack }" ;;
        esac
    done <"$1"
}

# skip_all_unless_kvm WHAT: a whole-file skip, said loudly, only where /dev/kvm is absent.
skip_all_unless_kvm() {
    if [ ! -c /dev/kvm ]; then
        echo "1..0 # SKIP /dev/kvm is absent: no KVM on this machine, $1"
        exit 0
    fi
}

tap_done() {
    echo "1..$tap_n"
    [ "$tap_failed" -eq 0 ]
}

tap_tmp=$(mktemp -d)
trap 'rm -rf "$tap_tmp"' EXIT
