# Firecracker's API with curl, for the tests that drive it (sourced, POSIX sh, after
# tap.sh): skips the whole test without curl; api and expect use the socket $sock.

if ! command -v curl >/dev/null; then
    echo "1..0 # SKIP curl is not installed (scripts/setup installs it)"
    exit 0
fi

# api METHOD PATH [BODY]: one request as Firecracker's docs write it; sets code and
# leaves the answer's body in $tap_tmp/body.
api() {
    if [ $# -ge 3 ]; then
        code=$(curl -s --unix-socket "$sock" -X "$1" "http://localhost$2" -H 'Accept: application/json' \
            -H 'Content-Type: application/json' -d "$3" -o "$tap_tmp/body" -w '%{http_code}') || code=000
    else
        code=$(curl -s --unix-socket "$sock" -X "$1" "http://localhost$2" -H 'Accept: application/json' \
            -o "$tap_tmp/body" -w '%{http_code}') || code=000
    fi
}

# expect DESCRIPTION CODE [TEXT]: the last answer had CODE and holds TEXT.
expect() {
    if [ "$code" = "$2" ] && { [ $# -lt 3 ] || grep -qF -- "$3" "$tap_tmp/body"; }; then
        ok "$1"
    else
        not_ok "$1"
        echo "# got $code: $(cat "$tap_tmp/body" 2>/dev/null)"
    fi
}

# wait_for_socket PATH: until a socket is at PATH (at most 10 s); false if none came.
wait_for_socket() {
    i=0
    while [ ! -S "$1" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
    [ -S "$1" ]
}
