/*
 * The vmstate's ACPI section as hostile input: the machine its tables describe (vCPU
 * and device counts that match the machine's, each slot a virtio window on a virtio
 * line, nothing beyond the devices), the power button's state, the reserved bytes, a
 * missing or repeated section; and the restore's check that its own devices sit where
 * the saved tables put them.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "snapshot_fixture.h"

/* Three devices, two vCPUs, the power button pressed. */
static const struct platform_config three = {
	.vcpus = 2,
	.nr_virtio = 3,
	.virtio = { { .base = LAYOUT_VIRTIO_MMIO_START, .irq = LAYOUT_VIRTIO_IRQ_FIRST },
		    { .base = LAYOUT_VIRTIO_MMIO_START + LAYOUT_VIRTIO_MMIO_SIZE, .irq = LAYOUT_VIRTIO_IRQ_FIRST + 1 },
		    { .base = LAYOUT_MMIO_GAP_END - LAYOUT_VIRTIO_MMIO_SIZE, .irq = LAYOUT_VIRTIO_IRQ_LAST } },
};

static void test_roundtrip(void **state)
{
	struct snapshot *s = make_snapshot(), *back = NULL;
	struct diag d;
	size_t len;
	uint8_t *buf;

	(void)state;
	s->machine.nr_vcpus = 2;
	s->machine.nr_devices = 3;
	s->devices[1] = s->devices[2] = s->devices[0];
	snapstate_describe(&s->acpi, &three, true);
	buf = encode(s, &len);
	assert_int_equal(snapshot_decode(buf, len, &back, &d), 0);
	assert_memory_equal(&back->acpi, &s->acpi, sizeof(s->acpi));
	assert_int_equal(back->acpi.button_pressed, 1);
	assert_int_equal(back->acpi.slots[2].base, LAYOUT_MMIO_GAP_END - LAYOUT_VIRTIO_MMIO_SIZE);
	assert_int_equal(snapstate_check_platform(&back->acpi, &three, &d), 0);
	free_snapshot(back);
	free_snapshot(s);
	free(buf);
}

#define EDIT(field, value)                                                                      \
	edit_section(buf, len, SNAP_ACPI, 0, offsetof(struct snap_acpi, field),                 \
		     &(__typeof__(((struct snap_acpi *)0)->field)){ value },                      \
		     sizeof(((struct snap_acpi *)0)->field), &d)

static void test_refused(void **state)
{
	struct snapshot *s = make_snapshot();
	struct diag d;
	size_t len;
	uint8_t *buf = encode(s, &len);

	(void)state;
	assert_int_equal(decode(buf, len, &d), 0);
	assert_int_equal(EDIT(nr_vcpus, 2), -EINVAL);
	assert_non_null(strstr(d.msg, "tables for 2 vCPUs and 1 devices, but the machine has 1 and 1"));
	assert_int_equal(EDIT(nr_slots, 0), -EINVAL);
	assert_int_equal(EDIT(nr_slots, UINT32_MAX), -EINVAL);
	/* The GED's line, a line past the IOAPIC's, and line 0. */
	assert_int_equal(EDIT(slots[0].irq, LAYOUT_ACPI_GED_IRQ), -EINVAL);
	assert_non_null(strstr(d.msg, "slot 0 at 0xd0000000 IRQ 3: not a virtio-mmio window and line"));
	assert_int_equal(EDIT(slots[0].irq, LAYOUT_VIRTIO_IRQ_LAST + 1), -EINVAL);
	assert_int_equal(EDIT(slots[0].irq, 0), -EINVAL);
	/* Below the gap, at its end, unaligned, and where base + size would wrap. */
	assert_int_equal(EDIT(slots[0].base, LAYOUT_MMIO_GAP_START - LAYOUT_VIRTIO_MMIO_SIZE), -EINVAL);
	assert_int_equal(EDIT(slots[0].base, LAYOUT_MMIO_GAP_END), -EINVAL);
	assert_int_equal(EDIT(slots[0].base, LAYOUT_VIRTIO_MMIO_START + 0x800), -EINVAL);
	assert_int_equal(EDIT(slots[0].base, UINT64_MAX - LAYOUT_VIRTIO_MMIO_SIZE + 1), -EINVAL);
	assert_int_equal(EDIT(slots[0].reserved, 1), -EINVAL);
	/* A slot beyond the machine's one device. */
	assert_int_equal(EDIT(slots[1].irq, LAYOUT_VIRTIO_IRQ_FIRST + 1), -EINVAL);
	assert_non_null(strstr(d.msg, "slot 1 at 0x0 IRQ 6: beyond the devices, not zero"));
	assert_int_equal(EDIT(slots[SNAP_MAX_DEVICES - 1].base, LAYOUT_VIRTIO_MMIO_START), -EINVAL);
	assert_int_equal(EDIT(button_pressed, 2), -EINVAL);
	assert_non_null(strstr(d.msg, "power button state or reserved bytes out of range"));
	assert_int_equal(EDIT(reserved[6], 1), -EINVAL);
	/* The edits themselves are sound: the original values decode. */
	assert_int_equal(EDIT(button_pressed, 1), 0);
	assert_int_equal(EDIT(slots[0].base, LAYOUT_MMIO_GAP_END - LAYOUT_VIRTIO_MMIO_SIZE), 0);
	assert_int_equal(EDIT(slots[0].irq, LAYOUT_VIRTIO_IRQ_LAST), 0);
	free_snapshot(s);
	free(buf);
}

static void test_section_shape(void **state)
{
	struct snapshot *s = make_snapshot();
	struct snapfmt_writer w;
	const uint8_t *out;
	struct diag d;
	size_t len;
	uint8_t *buf = encode(s, &len);
	size_t off = section_offset(buf, len, SNAP_ACPI, 0);
	uint32_t v;

	(void)state;
	/* Index 1 of a section the machine has once. */
	v = 1;
	memcpy(buf + off + 4, &v, 4);
	reseal(buf, len);
	assert_int_equal(decode(buf, len, &d), -EINVAL);
	assert_non_null(strstr(d.msg, "section acpi 1 at offset"));
	assert_non_null(strstr(d.msg, "index beyond the machine's 1"));
	free(buf);

	/* One byte short, and missing: the sections of encode, but the ACPI one shorter or absent. */
	for (int missing = 0; missing < 2; missing++) {
		snapfmt_writer_init(&w);
		add_sections(&w, s, SNAP_ACPI);
		if (!missing)
			snapfmt_add(&w, SNAP_ACPI, 0, &s->acpi, sizeof(s->acpi) - 1);
		assert_int_equal(snapfmt_finish(&w, &out, &len), 0);
		assert_int_equal(decode(out, len, &d), -EINVAL);
		if (missing)
			assert_string_equal(d.msg, "section acpi 0 is missing");
		else
			assert_non_null(strstr(d.msg, "bytes, expected"));
		snapfmt_writer_free(&w);
	}
	free_snapshot(s);
}

/* The restore's own devices against the saved tables: any difference is named. */
static void test_check_platform(void **state)
{
	struct snap_acpi saved;
	struct platform_config now;
	struct diag d;

	(void)state;
	snapstate_describe(&saved, &three, false);
	assert_int_equal(saved.nr_vcpus, 2);
	assert_int_equal(saved.nr_slots, 3);
	assert_int_equal(snapstate_check_platform(&saved, &three, &d), 0);
	now = three;
	now.vcpus = 3;
	assert_int_equal(snapstate_check_platform(&saved, &now, &d), -EINVAL);
	assert_string_equal(d.msg, "the snapshot's ACPI tables describe 2 vCPUs and 3 devices, its configuration makes 3 and 3");
	now = three;
	now.nr_virtio = 2;
	assert_int_equal(snapstate_check_platform(&saved, &now, &d), -EINVAL);
	for (unsigned int i = 0; i < three.nr_virtio; i++) {
		now = three;
		now.virtio[i].irq++;
		assert_int_equal(snapstate_check_platform(&saved, &now, &d), -EINVAL);
		now = three;
		now.virtio[i].base -= LAYOUT_VIRTIO_MMIO_SIZE;
		assert_int_equal(snapstate_check_platform(&saved, &now, &d), -EINVAL);
	}
	now = three;
	now.virtio[1].irq = 9;
	assert_int_equal(snapstate_check_platform(&saved, &now, &d), -EINVAL);
	assert_string_equal(d.msg, "the snapshot's ACPI tables put device 1 at 0xd0001000 IRQ 6, its configuration at 0xd0001000 IRQ 9");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_section_shape),
		cmocka_unit_test(test_check_platform),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
