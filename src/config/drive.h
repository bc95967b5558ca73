/* --drive: a virtio-blk disk over a raw image (the device: src/dev/virtio_blk.c). */
#ifndef MICROVM_CONFIG_DRIVE_H
#define MICROVM_CONFIG_DRIVE_H

#include <stdbool.h>

#define DRIVES_MAX 16
#define DRIVE_ID_MAX 20 /* VIRTIO_BLK_ID_BYTES: GET_ID's answer */

struct drive_config {
	char *path;
	bool read_only;
	bool root;          /* the guest's root file system: root=/dev/vdX on its command line */
	char id[DRIVE_ID_MAX + 1];  /* default "driveN", N its place among the drives */
};

#endif
