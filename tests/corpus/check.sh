#!/bin/sh
# The boot corpus (images.txt): `microvm --check` gives every real image the
# verdict its line says: a loading image exits 0 and says which entry a boot
# uses; a rejected one exits 1 with one error line that names the image and the
# checklist rule. Then the corpus itself: at least 12 images, from at least
# three build systems.
# Usage: check.sh MICROVM MANIFEST (images from MICROVM_TEST_CORPUS, which
# scripts/test sets from scripts/fetch-boot-corpus)
set -eu
microvm=$1 manifest=$2
. "$(dirname "$0")/../integration/tap.sh"
. "$(dirname "$0")/manifest.sh"

if [ -z "${MICROVM_TEST_CORPUS:-}" ]; then
    echo "1..0 # SKIP MICROVM_TEST_CORPUS is not set: run scripts/test, which fetches the boot corpus"
    exit 0
fi

images=0 loads=0 pvh=0 rejects=0
: >"$tap_tmp/builders"
while manifest_next; do
    image=$MICROVM_TEST_CORPUS/$id
    images=$((images + 1))
    echo "$built_by" | sed 's/ (.*//; s/,.*//' >>"$tap_tmp/builders"
    run "$microvm" --check --kernel "$image"
    case $verdict in
        load:pvh) want='^boot: PVH entry at 0x' ; loads=$((loads + 1)) pvh=$((pvh + 1)) ;;
        load:64) want='^boot: 64-bit entry at 0x' ; loads=$((loads + 1)) ;;
        reject:*) want="^microvm: error: $image: .*(${verdict#reject:})\$" rejects=$((rejects + 1)) ;;
        *) want='' ;;
    esac
    case $verdict in
        load:*) check "$id ($built_by): loads, $verdict" sh -c "[ $rc -eq 0 ] && grep -q '$want' '$tap_tmp/out'" ;;
        reject:*) check "$id ($built_by): refused for ${verdict#reject:}, one line naming it" sh -c "[ $rc -eq 1 ] &&
            [ \$(wc -l <'$tap_tmp/err') -eq 1 ] && grep -q '$want' '$tap_tmp/err'" ;;
        *) not_ok "$id: verdict '$verdict' is neither load:64, load:pvh nor reject:RULE" ;;
    esac
    case "$rc ${verdict%%:*}" in
        "0 load" | "1 reject") ;;
        *) diag_output ;;
    esac
done <"$manifest"

builders=$(sort -u "$tap_tmp/builders" | wc -l)
echo "# corpus: $images images, $loads load ($pvh through PVH), $rejects refused; $builders build systems: $(sort -u "$tap_tmp/builders" | tr '\n' ';')"
check "the corpus holds at least 12 images" [ "$images" -ge 12 ]
check "... made by at least 3 build systems" [ "$builders" -ge 3 ]

tap_done
