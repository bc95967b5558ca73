/* The seed writer's pieces shared by its source files (seeds.c is the program). */
#ifndef TESTS_FUZZ_SEEDS_H
#define TESTS_FUZZ_SEEDS_H

#include <stddef.h>

/* Writes OUTDIR/target/name; exits on any error. */
void write_seed(const char *target, const char *name, const void *data, size_t size);

/* The virtqueue and virtio device harnesses' seeds (seeds_virtio.c). */
void synthetic_virtq(void);
void synthetic_virtio(void);

/* The guest_insn harness's seeds (seeds_guest.c). */
void synthetic_guest_insn(void);

/* The snapshot harness's seeds (seeds_snapshot.c). */
void synthetic_snapshot(void);

#endif
