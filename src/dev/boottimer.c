#include "microvm/boottimer.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "microvm/log.h"

static uint64_t boottimer_start_ns;

static uint64_t boottimer_now_ns(void)
{
	struct timespec ts;

	/* CLOCK_BOOTTIME shares its origin with /proc/self/stat's starttime. */
	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

void boottimer_mark_process_start(void)
{
	boottimer_start_ns = boottimer_now_ns();
}

/* Field 22 of /proc/self/stat, in clock ticks since boot; 0 when unreadable. */
static uint64_t boottimer_stat_start_ns(void)
{
	char buf[1024];
	unsigned long long ticks;
	long hz = sysconf(_SC_CLK_TCK);
	FILE *f = fopen("/proc/self/stat", "re");
	size_t n;
	char *p;

	if (!f)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* The command name may hold spaces and parentheses: fields resume after the last ')'. */
	p = strrchr(buf, ')');
	if (!p || hz <= 0)
		return 0;
	if (sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %*d %*d %llu",
		   &ticks) != 1)
		return 0;
	return ticks * (1000000000ULL / (uint64_t)hz);
}

uint64_t boottimer_process_start_ns(void)
{
	return boottimer_start_ns ? boottimer_start_ns : boottimer_stat_start_ns();
}

void boottimer_init(struct boottimer *t)
{
	t->start_ns = boottimer_process_start_ns();
	atomic_init(&t->fired, false);
}

static void boottimer_read(void *dev, uint64_t offset, uint8_t *data, uint32_t len)
{
	(void)dev;
	(void)offset;
	memset(data, 0xff, len);
}

static void boottimer_write(void *dev, uint64_t offset, const uint8_t *data, uint32_t len)
{
	struct boottimer *t = dev;
	uint64_t now = boottimer_now_ns();

	if (offset != 0 || len != 1 || data[0] != BOOTTIMER_MAGIC)
		return;
	/* Only the first write counts: later ones come from a rebooted or chatty guest. */
	if (atomic_exchange(&t->fired, true))
		return;
	log_info("boot-timer: guest first instruction after %" PRIu64 " us since process start",
		 now > t->start_ns ? (now - t->start_ns) / 1000 : 0);
}

const struct bus_ops boottimer_bus_ops = { .read = boottimer_read, .write = boottimer_write };
