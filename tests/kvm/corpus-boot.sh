#!/bin/sh
# Under real KVM: every image of the boot corpus (tests/corpus/images.txt) that
# loads and has a first output to wait for boots with its command line until it
# prints that (its own first words on the serial console: Linux's banner,
# memtest86+'s title); then SIGTERM ends the VM. The VMM logs no error and no
# PVM path, and exits 0.
# Usage: corpus-boot.sh MICROVM MANIFEST (images from MICROVM_TEST_CORPUS)
set -eu
microvm=$1 manifest=$2
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../corpus/manifest.sh"
if [ -z "${MICROVM_TEST_CORPUS:-}" ]; then
    echo "1..0 # SKIP MICROVM_TEST_CORPUS is not set: run scripts/test, which fetches the boot corpus"
    exit 0
fi
skip_all_unless_kvm "the corpus cannot boot"
if [ "${MICROVM_REAL_KVM:-}" != hardware ] && [ "${MICROVM_REAL_KVM:-}" != nested ]; then
    echo "Bail out! run this test through tests/kvm/run-kvm, which gives it a real KVM"
    exit 1
fi

# Under TCG a distribution kernel takes a while to reach its first line.
wait_seconds=240
booted=0
while manifest_next; do
    case $verdict in load:*) ;; *) continue ;; esac
    [ "$first_output" != - ] || continue
    t=$id
    start=$(date +%s%N)
    if [ "$cmdline" = - ]; then
        boot_bg "$t" "$microvm" --kernel "$MICROVM_TEST_CORPUS/$id" --mem 512
    else
        boot_bg "$t" "$microvm" --kernel "$MICROVM_TEST_CORPUS/$id" --mem 512 --cmdline "$cmdline"
    fi
    if wait_for "$tap_tmp/$t.raw" "$first_output" "$wait_seconds"; then seen=1; else seen=0; fi
    took=$(( ($(date +%s%N) - start) / 1000000 ))
    kill -TERM "$vmm_pid" 2>/dev/null || true
    finish_bg "$t"
    echo "# $t: first output after $took ms: $(grep -m 1 -E "$first_output" "$tap_tmp/$t.out" | cut -c1-100)"
    check "$t ($built_by): printed '$first_output' under KVM, entered at its ${verdict#load:} entry" [ "$seen" -eq 1 ]
    check "$t: the VMM exited 0, without an error or a PVM path" sh -c "[ $rc -eq 0 ] &&
        ! grep -q -e 'error:' -e PVM '$tap_tmp/$t.err'"
    [ "$seen" -eq 1 ] && [ "$rc" -eq 0 ] || show "$t"
    booted=$((booted + 1))
done <"$manifest"
echo "# corpus-boot: $booted images booted"
check "at least 3 images booted" [ "$booted" -ge 3 ]

tap_done
