/*
 * The console's output side: a line goes to stdout whole, at its end; a line left open
 * goes out on flush_fd's timer or at console_close, never blocking on a full stdout.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include "microvm/console.h"

struct fixture {
	struct console c;
	int in_fd, rd, wr; /* stdin: /dev/null; stdout: a pipe's write end, read at rd */
};

static int setup(void **state)
{
	static struct fixture f;
	int p[2];

	f.in_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (f.in_fd < 0 || pipe2(p, O_CLOEXEC))
		return -1;
	f.rd = p[0];
	f.wr = p[1];
	/* The test reads without waiting; the console writes as it would to any stdout. */
	if (fcntl(f.rd, F_SETFL, O_NONBLOCK) || console_open(&f.c, f.in_fd, f.wr))
		return -1;
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	console_close(&f->c);
	close(f->in_fd);
	close(f->rd);
	close(f->wr);
	return 0;
}

/* What the pipe holds now, as a string ("" when empty). */
static const char *drain(struct fixture *f)
{
	static char buf[CONSOLE_OUT_SIZE + 1];
	ssize_t n = read(f->rd, buf, sizeof(buf) - 1);

	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

static void put(struct fixture *f, const char *s)
{
	while (*s)
		console_put(&f->c, (uint8_t)*s++);
}

/* flush_fd fires within a second: the open line is due. */
static bool timer_fires(struct fixture *f)
{
	struct pollfd p = { .fd = f->c.flush_fd, .events = POLLIN };

	return poll(&p, 1, 1000) == 1;
}

static void test_line_goes_out_at_its_end(void **state)
{
	struct fixture *f = *state;

	/* After a quiet spell a byte goes at once: the guest's first output is seen when it comes. */
	put(f, "Linux version");
	assert_string_equal(drain(f), "L");
	put(f, " 6.1\r\n");
	assert_string_equal(drain(f), "inux version 6.1\r\n");
	/* In a stream of lines, each waits for its end. */
	put(f, "Command line:");
	assert_string_equal(drain(f), "");
	put(f, " console=ttyS0\n");
	assert_string_equal(drain(f), "Command line: console=ttyS0\n");
}

static void test_open_line_goes_out_on_the_timer(void **state)
{
	struct fixture *f = *state;

	put(f, "login: ");
	assert_string_equal(drain(f), "l");
	assert_true(timer_fires(f));
	console_flush_due(&f->c);
	assert_string_equal(drain(f), "ogin: ");
	/* Nothing left open: the timer stays quiet. */
	assert_false(f->c.flush_armed);
}

static void test_full_buffer_goes_out(void **state)
{
	struct fixture *f = *state;
	char expect[CONSOLE_OUT_SIZE + 1];

	memset(expect, 'x', CONSOLE_OUT_SIZE);
	expect[CONSOLE_OUT_SIZE] = '\0';
	console_put(&f->c, '>');
	assert_string_equal(drain(f), ">");
	for (size_t i = 0; i < CONSOLE_OUT_SIZE; i++)
		console_put(&f->c, 'x');
	assert_int_equal(f->c.out_len, 0);
	assert_string_equal(drain(f), expect);
}

/* Fills the pipe to the brim, its end blocking again as a stdout is; returns the bytes in it. */
static size_t fill_stdout(struct fixture *f)
{
	char junk[4096];
	size_t filled = 0;
	ssize_t n;

	memset(junk, '.', sizeof(junk));
	assert_int_equal(fcntl(f->wr, F_SETFL, O_NONBLOCK), 0);
	while ((n = write(f->wr, junk, sizeof(junk))) > 0)
		filled += (size_t)n;
	assert_int_equal(errno, EAGAIN);
	assert_int_equal(fcntl(f->wr, F_SETFL, 0), 0);
	return filled;
}

static void empty_stdout(struct fixture *f, size_t filled)
{
	char junk[4096];

	while (filled) {
		ssize_t n = read(f->rd, junk, filled < sizeof(junk) ? filled : sizeof(junk));

		assert_true(n > 0);
		filled -= (size_t)n;
	}
}

static void test_full_stdout_keeps_the_line_and_retries(void **state)
{
	struct fixture *f = *state;
	size_t filled;

	put(f, "#");
	assert_string_equal(drain(f), "#");
	filled = fill_stdout(f);
	put(f, " $");
	assert_true(timer_fires(f));
	console_flush_due(&f->c); /* returns: the event loop never waits on stdout */
	assert_int_equal(f->c.out_len, 2);
	assert_true(timer_fires(f)); /* armed again */

	empty_stdout(f, filled);
	console_flush_due(&f->c);
	assert_string_equal(drain(f), " $");
	assert_false(atomic_load(&f->c.out_broken));
}

/*
 * A vCPU that ends a line while the VM stops, stdout full, does not block: the stop's
 * kick, which would end a blocked write, may have come and gone while it waited for the
 * lock. The line goes out at console_close if stdout takes it then.
 */
static void test_stopping_never_blocks_on_stdout(void **state)
{
	struct fixture *f = *state;
	size_t filled = fill_stdout(f);

	atomic_store(&f->c.stopping, true);
	put(f, "bye\n");
	assert_int_equal(f->c.out_len, 4);
	empty_stdout(f, filled);
	console_close(&f->c);
	assert_string_equal(drain(f), "bye\n");
}

/*
 * While the VM stops a vCPU writes nothing, even to a stdout with room: checking for
 * room takes poll, which the vCPU's filter does not allow (a VMM stopped while its
 * guest printed was killed for it). console_close writes it.
 */
static void test_stopping_vcpu_leaves_the_writing_to_close(void **state)
{
	struct fixture *f = *state;

	atomic_store(&f->c.stopping, true);
	put(f, "bye\n");
	assert_string_equal(drain(f), "");
	console_close(&f->c);
	assert_string_equal(drain(f), "bye\n");
}

static void test_close_writes_the_open_line(void **state)
{
	struct fixture *f = *state;

	put(f, "reboot: Power down");
	console_close(&f->c);
	assert_int_equal(f->c.flush_fd, -1);
	assert_string_equal(drain(f), "reboot: Power down");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_line_goes_out_at_its_end, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_line_goes_out_on_the_timer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_full_buffer_goes_out, setup, teardown),
		cmocka_unit_test_setup_teardown(test_full_stdout_keeps_the_line_and_retries, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_stopping_never_blocks_on_stdout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stopping_vcpu_leaves_the_writing_to_close, setup, teardown),
		cmocka_unit_test_setup_teardown(test_close_writes_the_open_line, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
