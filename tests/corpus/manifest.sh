# Reads tests/corpus/images.txt (sourced, POSIX sh): manifest_next reads the next
# image's line from standard input into id, package, path, transform, built_by,
# verdict, cmdline, first_output and why (columns separated by "|", blanks around
# them trimmed); comments and blank lines are skipped. Returns 1 at the end.
manifest_trim() {
    printf '%s' "$1" | sed 's/^[[:space:]]*//; s/[[:space:]]*$//'
}

manifest_next() {
    while IFS='|' read -r id package path transform built_by verdict cmdline first_output why; do
        id=$(manifest_trim "$id")
        case $id in
            '' | '#'*) continue ;;
        esac
        package=$(manifest_trim "$package")
        path=$(manifest_trim "$path")
        transform=$(manifest_trim "$transform")
        built_by=$(manifest_trim "$built_by")
        verdict=$(manifest_trim "$verdict")
        cmdline=$(manifest_trim "$cmdline")
        first_output=$(manifest_trim "$first_output")
        why=$(manifest_trim "$why")
        return 0
    done
    return 1
}
