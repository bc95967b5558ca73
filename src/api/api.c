#include "api/api.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "config/vmconfig.h"
#include "microvm/log.h"

/* Connections served at once; one more is told 503 and closed. */
#define API_CONNS_MAX 16
/* From a request's first byte to its last: a slow client loses its connection (408). */
#define API_REQUEST_TIMEOUT_MS 5000
/* A connection with no request under way, kept for the client's next one. */
#define API_IDLE_TIMEOUT_MS 60000
#define API_EVENTS 8
#define API_LISTEN_TAG UINT64_MAX

struct api_conn {
	int fd;               /* -1: a free slot */
	char *in;             /* HTTP_REQUEST_MAX bytes, while the connection lives */
	size_t in_len;
	char *out;            /* the answer not yet sent */
	size_t out_len, out_off;
	uint64_t deadline_ms;
	bool continue_sent;   /* the 100 Continue of the request under way */
	bool close_after;     /* once the answer is out */
};

struct api_server {
	int listen_fd, epfd;
	pthread_t thread;
	const struct sandbox *sb;
	struct api_handler handler;
	struct api_conn conns[API_CONNS_MAX];
};

int api_listen(struct api_server **out, const char *path, struct diag *d)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	struct api_server *s;
	struct stat st;

	if (strlen(path) >= sizeof(addr.sun_path))
		return diag_fail(d, "--api-sock %s: longer than a Unix socket path may be (%zu bytes)",
				 path, sizeof(addr.sun_path) - 1);
	memcpy(addr.sun_path, path, strlen(path));
	/* A socket left by an earlier run (the sandbox cannot unlink it at exit); nothing else. */
	if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode) && unlink(path) < 0)
		return diag_fail_errno(d, -errno, "--api-sock %s: cannot remove the old socket: %s", path,
				       strerror(errno));
	s = calloc(1, sizeof(*s));
	if (!s)
		return diag_fail_errno(d, -ENOMEM, "out of memory");
	s->epfd = -1;
	for (size_t i = 0; i < API_CONNS_MAX; i++)
		s->conns[i].fd = -1;
	s->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->listen_fd < 0 || bind(s->listen_fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
	    listen(s->listen_fd, API_CONNS_MAX) < 0) {
		int err = errno;

		if (s->listen_fd >= 0)
			close(s->listen_fd);
		free(s);
		return diag_fail_errno(d, -err, "--api-sock %s: %s", path, strerror(err));
	}
	*out = s;
	return 0;
}

static uint64_t api_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void api_close(struct api_server *s, struct api_conn *c)
{
	epoll_ctl(s->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	free(c->in);
	free(c->out);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

/* Watch c for input, or for room to send while an answer is out: one request at a time. */
static void api_arm(struct api_server *s, struct api_conn *c)
{
	struct epoll_event ev = {
		.events = c->out ? EPOLLOUT : EPOLLIN,
		.data.u64 = (uint64_t)(c - s->conns),
	};

	if (epoll_ctl(s->epfd, EPOLL_CTL_MOD, c->fd, &ev) < 0)
		api_close(s, c);
}

/* Sends what it can of c's answer: true once it is all out; false while blocked or closed. */
static bool api_send(struct api_server *s, struct api_conn *c)
{
	while (c->out_off < c->out_len) {
		ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			api_arm(s, c);
			return false;
		}
		if (n <= 0) {
			api_close(s, c);
			return false;
		}
		c->out_off += (size_t)n;
	}
	free(c->out);
	c->out = NULL;
	if (c->close_after) {
		api_close(s, c);
		return false;
	}
	return true;
}

static bool api_parse(struct api_server *s, struct api_conn *c);

/* Sends the answer under way, then answers what else was received, one request at a time. */
static void api_serve(struct api_server *s, struct api_conn *c)
{
	do {
		if (c->out && !api_send(s, c))
			return;
	} while (c->in_len && api_parse(s, c));
	c->deadline_ms = api_now_ms() + (c->in_len ? API_REQUEST_TIMEOUT_MS : API_IDLE_TIMEOUT_MS);
	api_arm(s, c);
}

/* Queues an answer: status, and body (JSON text) when not NULL. */
static void api_answer(struct api_conn *c, enum http_status status, const char *body, bool keep_alive)
{
	size_t body_len = body ? strlen(body) : 0;
	char head[256];
	size_t head_len = http_response_head(head, sizeof(head), status, body_len, keep_alive);

	c->out = malloc(head_len + body_len);
	if (!c->out || !head_len) {
		free(c->out);
		c->out = NULL;
		c->close_after = true;
		return;
	}
	memcpy(c->out, head, head_len);
	if (body_len)
		memcpy(c->out + head_len, body, body_len);
	c->out_len = head_len + body_len;
	c->out_off = 0;
	c->close_after = !keep_alive;
}

/* An error answer: {"fault_message": ...}. */
static void api_fault(struct api_conn *c, enum http_status status, const char *msg, bool keep_alive)
{
	char ascii[sizeof(((struct diag *)0)->msg) + HTTP_PATH_MAX + 32];
	json_t *v = json_pack("{s:s}", "fault_message", msg);
	char *body;

	/* A reason cut inside a UTF-8 character is no JSON string: its ASCII then. */
	if (!v) {
		snprintf(ascii, sizeof(ascii), "%s", msg);
		for (char *p = ascii; *p; p++)
			*p = (unsigned char)*p >= 0x80 ? '?' : *p;
		v = json_pack("{s:s}", "fault_message", ascii);
	}
	body = v ? json_dumps(v, JSON_COMPACT) : NULL;

	api_answer(c, status, body ? body : "{\"fault_message\": \"out of memory\"}", keep_alive);
	free(body);
	json_decref(v);
}

static void api_count(struct api_server *s, int op, bool failed)
{
	struct api_stats *st = s->handler.stats;

	atomic_fetch_add_explicit(&st->requests[op], 1, memory_order_relaxed);
	if (failed)
		atomic_fetch_add_explicit(&st->errors[op], 1, memory_order_relaxed);
}

/* One whole request: routed, its body parsed here, run on the VMM thread, answered. */
static void api_request(struct api_server *s, struct api_conn *c, const struct http_request *req)
{
	char id[HTTP_PATH_MAX + 1], msg[sizeof(((struct diag *)0)->msg) + HTTP_PATH_MAX + 32];
	enum http_status status = HTTP_BAD_REQUEST;
	struct api_call call;
	json_t *body = NULL;
	struct diag d;
	int ret = routes_match(req, &call, id, sizeof(id), &status, &d);

	if (ret) {
		api_count(s, API_OP_COUNT, true);
		return api_fault(c, status, d.msg, req->keep_alive);
	}
	if (req->body && vmconfig_parse(req->body, req->body_len, &body, &d)) {
		api_count(s, (int)call.op, true);
		snprintf(msg, sizeof(msg), "%s %s: %s", req->method_name, req->path, d.msg);
		return api_fault(c, HTTP_BAD_REQUEST, msg, req->keep_alive);
	}
	call.body = body;
	ret = mailbox_call(s->handler.mailbox, s->handler.handle, s->handler.ctx, &call);
	json_decref(body);
	if (ret == -ESHUTDOWN) {
		call.status = HTTP_SERVICE_UNAVAILABLE;
		diag_fail(&call.d, "the VM has ended");
	}
	api_count(s, (int)call.op, call.status >= HTTP_BAD_REQUEST);
	if (call.status >= HTTP_BAD_REQUEST) {
		snprintf(msg, sizeof(msg), "%s %s: %s", req->method_name, req->path, call.d.msg);
		api_fault(c, call.status, msg, req->keep_alive);
	} else {
		api_answer(c, call.status, call.answer, req->keep_alive);
	}
	free(call.answer);
}

/* Parses what c has received: true when an answer is queued (or 100 Continue). */
static bool api_parse(struct api_server *s, struct api_conn *c)
{
	struct http_request req;
	enum http_status status;
	const char *reason;

	switch (http_parse(c->in, c->in_len, &req, &status, &reason)) {
	case HTTP_PARSE_DONE:
		api_request(s, c, &req);
		/* Pipelined bytes stay for the next request, read once this answer is out. */
		memmove(c->in, c->in + req.consumed, c->in_len - req.consumed);
		c->in_len -= req.consumed;
		c->continue_sent = false;
		break;
	case HTTP_PARSE_ERROR:
		api_count(s, API_OP_COUNT, true);
		api_fault(c, status, reason, false);
		break;
	case HTTP_PARSE_INCOMPLETE:
	default:
		if (!req.headers_done || !req.expect_continue || c->continue_sent)
			return false;
		c->continue_sent = true;
		api_answer(c, HTTP_CONTINUE, NULL, true);
		break;
	}
	return true;
}

static void api_read(struct api_server *s, struct api_conn *c)
{
	ssize_t n;

	if (c->in_len == 0)
		c->deadline_ms = api_now_ms() + API_REQUEST_TIMEOUT_MS;
	/* Never full here: http_parse fails a request before it fills the buffer. */
	n = read(c->fd, c->in + c->in_len, HTTP_REQUEST_MAX - c->in_len);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0)
		return api_close(s, c);
	c->in_len += (size_t)n;
	if (api_parse(s, c))
		api_serve(s, c);
}

static void api_accept(struct api_server *s)
{
	static const char busy[] = "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n"
				   "Connection: close\r\n\r\n";
	int fd = accept4(s->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	struct api_conn *c = NULL;
	struct epoll_event ev = { .events = EPOLLIN };

	if (fd < 0)
		return;
	for (size_t i = 0; i < API_CONNS_MAX && !c; i++)
		c = s->conns[i].fd < 0 ? &s->conns[i] : NULL;
	if (c)
		c->in = malloc(HTTP_REQUEST_MAX);
	if (!c || !c->in) {
		if (send(fd, busy, sizeof(busy) - 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
			log_debug("API: %s", strerror(errno));
		close(fd);
		return;
	}
	c->fd = fd;
	c->deadline_ms = api_now_ms() + API_IDLE_TIMEOUT_MS;
	ev.data.u64 = (uint64_t)(c - s->conns);
	if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		api_close(s, c);
}

/* Ends connections past their deadline: 408 to one mid-request, silence to an idle one. */
static int api_expire(struct api_server *s)
{
	uint64_t now = api_now_ms(), next = UINT64_MAX;

	for (size_t i = 0; i < API_CONNS_MAX; i++) {
		struct api_conn *c = &s->conns[i];

		if (c->fd < 0)
			continue;
		if (c->deadline_ms <= now) {
			if (c->in_len && !c->out) {
				api_count(s, API_OP_COUNT, true);
				api_fault(c, HTTP_REQUEST_TIMEOUT, "the request took too long to arrive", false);
				c->deadline_ms = now + API_REQUEST_TIMEOUT_MS;
				api_serve(s, c);
			} else {
				api_close(s, c);
			}
			if (c->fd < 0)
				continue;
		}
		next = c->deadline_ms < next ? c->deadline_ms : next;
	}
	return next == UINT64_MAX ? -1 : (int)(next > now ? next - now : 0);
}

static void *api_thread(void *arg)
{
	struct api_server *s = arg;
	struct epoll_event events[API_EVENTS];
	struct diag d;

	/* Named for /proc (tests, operators); then the filter, before a byte from a client is read. */
	prctl(PR_SET_NAME, "api", 0, 0, 0);
	if (sandbox_enter(s->sb, "api", &d))
		die("API thread: %s", d.msg);
	for (;;) {
		int n = epoll_wait(s->epfd, events, API_EVENTS, api_expire(s));

		if (n < 0 && errno != EINTR) {
			log_error("API thread: epoll_wait: %s; the API stops serving", strerror(errno));
			return NULL;
		}
		for (int i = 0; i < n; i++) {
			struct api_conn *c;

			if (events[i].data.u64 == API_LISTEN_TAG) {
				api_accept(s);
				continue;
			}
			c = &s->conns[events[i].data.u64];
			if (c->fd < 0)
				continue;
			if (c->out)
				api_serve(s, c);
			else
				api_read(s, c);
		}
	}
}

static const int api_fault_signals[] = { SIGSYS, SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT };

int api_start(struct api_server *s, const struct sandbox *sb, const struct api_handler *h,
	      struct diag *d)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = API_LISTEN_TAG };
	sigset_t all, old;
	int ret;

	s->sb = sb;
	s->handler = *h;
	s->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (s->epfd < 0 || epoll_ctl(s->epfd, EPOLL_CTL_ADD, s->listen_fd, &ev) < 0)
		return diag_fail_errno(d, -errno, "API: epoll: %s", strerror(errno));
	/*
	 * Every signal blocked but the ones a fault raises in this thread (SIGSYS from its
	 * filter, whose handler names the syscall): the stop signals are the VMM thread's.
	 */
	sigfillset(&all);
	for (size_t i = 0; i < ARRAY_SIZE(api_fault_signals); i++)
		sigdelset(&all, api_fault_signals[i]);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	ret = pthread_create(&s->thread, NULL, api_thread, s);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (ret)
		return diag_fail_errno(d, -ret, "API: cannot start its thread: %s", strerror(ret));
	return 0;
}
