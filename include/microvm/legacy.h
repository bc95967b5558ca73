/* Legacy ports Linux pokes that need no model: POST codes (0x80) and the speaker (0x61). */
#ifndef MICROVM_LEGACY_H
#define MICROVM_LEGACY_H

#include "microvm/bus.h"

#define LEGACY_POST_PORT 0x80
#define LEGACY_SPEAKER_PORT 0x61

/* Reads return 0, writes are dropped: present but inert, unlike an open bus. */
extern const struct bus_ops legacy_inert_ops;

#endif
