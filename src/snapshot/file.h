/* A vmstate file read whole (bounded by SNAPFMT_MAX_SIZE), parsed and decoded. */
#ifndef MICROVM_SNAPSHOT_FILE_H
#define MICROVM_SNAPSHOT_FILE_H

#include "microvm/compiler.h"
#include "microvm/diag.h"
#include "snapshot/state.h"

/* *out is malloc'd (snapstate_free, then free); d starts with the path. */
MUST_CHECK int snapshot_read(const char *path, struct snapshot **out, struct diag *d);
/* The same over len bytes in memory (the fuzz harness, the unit tests). */
MUST_CHECK int snapshot_decode(const uint8_t *buf, size_t len, struct snapshot **out,
			       struct diag *d);

#endif
