/* The API's HTTP parser and router: whole, partial, pipelined, hostile and oversized requests. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "api/api.h"
#include "api/http.h"

static enum http_parse_result parse(const char *text, struct http_request *req,
				    enum http_status *status)
{
	const char *reason = NULL;
	enum http_parse_result r = http_parse(text, strlen(text), req, status, &reason);

	if (r == HTTP_PARSE_ERROR)
		assert_non_null(reason);
	return r;
}

static void whole_request(void **state)
{
	const char *text = "PUT /machine-config HTTP/1.1\r\nHost: localhost\r\n"
			   "Content-Type: application/json\r\nContent-Length: 13\r\n\r\n"
			   "{\"smt\":false}GET / HTTP/1.1\r\n\r\n";
	struct http_request req;
	enum http_status status;

	(void)state;
	assert_int_equal(parse(text, &req, &status), HTTP_PARSE_DONE);
	assert_int_equal(req.method, HTTP_PUT);
	assert_string_equal(req.path, "/machine-config");
	assert_int_equal(req.body_len, 13);
	assert_memory_equal(req.body, "{\"smt\":false}", 13);
	assert_true(req.keep_alive);
	/* The pipelined GET is left for the next parse. */
	assert_int_equal(req.consumed, strlen(text) - strlen("GET / HTTP/1.1\r\n\r\n"));
	assert_int_equal(parse(text + req.consumed, &req, &status), HTTP_PARSE_DONE);
	assert_int_equal(req.method, HTTP_GET);
	assert_null(req.body);
}

/* Every prefix of a whole request needs more bytes: none is taken for a request. */
static void every_prefix_incomplete(void **state)
{
	const char *text = "PATCH /vm HTTP/1.1\r\nContent-Length: 19\r\nExpect: 100-continue\r\n\r\n"
			   "{\"state\":\"Paused\"}\n";
	size_t len = strlen(text);
	char *copy = malloc(len);
	struct http_request req;
	enum http_status status;
	const char *reason;

	(void)state;
	assert_non_null(copy);
	memcpy(copy, text, len);
	for (size_t n = 0; n < len; n++) {
		/* An exact-size buffer each time: ASan sees any read past n. */
		char *p = malloc(n ? n : 1);

		assert_non_null(p);
		memcpy(p, copy, n);
		assert_int_equal(http_parse(p, n, &req, &status, &reason), HTTP_PARSE_INCOMPLETE);
		/* The client waits for 100 Continue once the headers are in. */
		assert_int_equal(req.headers_done, n >= len - 19);
		if (req.headers_done)
			assert_true(req.expect_continue);
		free(p);
	}
	assert_int_equal(http_parse(copy, len, &req, &status, &reason), HTTP_PARSE_DONE);
	free(copy);
}

static void refused(void **state)
{
	static const struct {
		const char *text;
		enum http_status status;
	} cases[] = {
		{ "GET /\r\n\r\n", HTTP_BAD_REQUEST },
		{ "GET / HTTP/2.0\r\n\r\n", HTTP_VERSION_NOT_SUPPORTED },
		{ "GET / HTTP/1.1 x\r\n\r\n", HTTP_VERSION_NOT_SUPPORTED },
		{ "GET  / HTTP/1.1\r\n\r\n", HTTP_BAD_REQUEST },
		{ "GET http://x/ HTTP/1.1\r\n\r\n", HTTP_BAD_REQUEST },
		{ "GET /a%2e HTTP/1.1\r\n\r\n", HTTP_BAD_REQUEST },
		{ "GET /?x=1 HTTP/1.1\r\n\r\n", HTTP_BAD_REQUEST },
		{ "G(T / HTTP/1.1\r\n\r\n", HTTP_BAD_REQUEST },
		{ "GET / HTTP/1.1\r\nNo colon\r\n\r\n", HTTP_BAD_REQUEST },
		{ "GET / HTTP/1.1\r\nA: b\r\n folded\r\n\r\n", HTTP_BAD_REQUEST },
		{ "GET / HTTP/1.1\r\nBad name: x\r\n\r\n", HTTP_BAD_REQUEST },
		{ "GET / HTTP/1.1\r\nA: b\x01\r\n\r\n", HTTP_BAD_REQUEST },
		{ "PUT /vm HTTP/1.1\r\n\r\n", HTTP_BAD_REQUEST },
		{ "PUT /vm HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx", HTTP_BAD_REQUEST },
		{ "PUT /vm HTTP/1.1\r\nContent-Length: -1\r\n\r\n", HTTP_BAD_REQUEST },
		{ "PUT /vm HTTP/1.1\r\nContent-Length: 1x\r\n\r\n", HTTP_BAD_REQUEST },
		{ "PUT /vm HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n", HTTP_BAD_REQUEST },
		{ "PUT /vm HTTP/1.1\r\nContent-Length: 51201\r\n\r\n", HTTP_PAYLOAD_TOO_LARGE },
		{ "PUT /vm HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", HTTP_NOT_IMPLEMENTED },
		{ "PUT /vm HTTP/1.1\r\nExpect: magic\r\n\r\n", HTTP_BAD_REQUEST },
	};
	struct http_request req;
	enum http_status status;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		print_error("case %zu: %s\n", i, cases[i].text);
		assert_int_equal(parse(cases[i].text, &req, &status), HTTP_PARSE_ERROR);
		assert_int_equal(status, cases[i].status);
	}
}

static void body_limit_exact(void **state)
{
	char *text = malloc(HTTP_REQUEST_MAX);
	struct http_request req;
	enum http_status status;
	const char *reason;
	int n;

	(void)state;
	assert_non_null(text);
	n = snprintf(text, 128, "PUT /vm HTTP/1.1\r\nContent-Length: %d\r\n\r\n", HTTP_BODY_MAX);
	memset(text + n, 'x', HTTP_BODY_MAX);
	assert_int_equal(http_parse(text, (size_t)n + HTTP_BODY_MAX, &req, &status, &reason), HTTP_PARSE_DONE);
	assert_int_equal(req.body_len, HTTP_BODY_MAX);
	free(text);
}

static void header_section_bounded(void **state)
{
	char *text = malloc(HTTP_HEADER_MAX + 64);
	struct http_request req;
	enum http_status status;
	const char *reason;
	size_t n = (size_t)snprintf(text, 64, "GET / HTTP/1.1\r\nX: ");

	(void)state;
	memset(text + n, 'a', HTTP_HEADER_MAX + 64 - n);
	/* Short of the limit it may still end; at the limit it is refused. */
	assert_int_equal(http_parse(text, HTTP_HEADER_MAX - 1, &req, &status, &reason), HTTP_PARSE_INCOMPLETE);
	assert_int_equal(http_parse(text, HTTP_HEADER_MAX, &req, &status, &reason), HTTP_PARSE_ERROR);
	assert_int_equal(status, HTTP_HEADERS_TOO_LARGE);
	free(text);
}

static void connection_header(void **state)
{
	struct http_request req;
	enum http_status status;

	(void)state;
	assert_int_equal(parse("GET / HTTP/1.1\r\nConnection: close\r\n\r\n", &req, &status), HTTP_PARSE_DONE);
	assert_false(req.keep_alive);
	assert_int_equal(parse("GET / HTTP/1.0\r\n\r\n", &req, &status), HTTP_PARSE_DONE);
	assert_false(req.keep_alive);
	assert_int_equal(parse("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", &req, &status), HTTP_PARSE_DONE);
	assert_true(req.keep_alive);
}

static void response_head(void **state)
{
	char buf[256];
	size_t n;

	(void)state;
	n = http_response_head(buf, sizeof(buf), HTTP_NO_CONTENT, 0, true);
	assert_int_equal(n, strlen("HTTP/1.1 204 No Content\r\nServer: microvm\r\n\r\n"));
	assert_memory_equal(buf, "HTTP/1.1 204 No Content\r\nServer: microvm\r\n\r\n", n);
	n = http_response_head(buf, sizeof(buf), HTTP_BAD_REQUEST, 17, false);
	buf[n] = '\0';
	assert_non_null(strstr(buf, "Content-Length: 17\r\n"));
	assert_non_null(strstr(buf, "Connection: close\r\n"));
	assert_int_equal(http_response_head(buf, 10, HTTP_OK, 1, true), 0);
}

/* Method and path to call: every route, ids checked, wrong methods and paths refused. */
static void routes(void **state)
{
	static const struct {
		const char *text;
		int op; /* -1: refused */
	} cases[] = {
		{ "GET / HTTP/1.1\r\n\r\n", API_DESCRIBE },
		{ "GET /version HTTP/1.1\r\n\r\n", API_VERSION },
		{ "GET /vm/config HTTP/1.1\r\n\r\n", API_VM_CONFIG },
		{ "GET /machine-config HTTP/1.1\r\n\r\n", API_MACHINE_GET },
		{ "PUT /machine-config HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}", API_MACHINE_PUT },
		{ "PATCH /machine-config HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}", API_MACHINE_PATCH },
		{ "PUT /boot-source HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}", API_BOOT_SOURCE },
		{ "PUT /drives/rootfs HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}", API_DRIVE_PUT },
		{ "PATCH /drives/a.b_c-1 HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}", API_DRIVE_PATCH },
		{ "PUT /network-interfaces/eth0 HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}", API_NET_PUT },
		{ "PUT /vsock HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}", API_VSOCK },
		{ "PUT /entropy HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}", API_ENTROPY },
		{ "PUT /logger HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}", API_LOGGER },
		{ "PUT /metrics HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}", API_METRICS },
		{ "PUT /actions HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}", API_ACTION },
		{ "PATCH /vm HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}", API_VM_STATE },
		{ "PUT /actions HTTP/1.1\r\nContent-Length: 0\r\n\r\n", -1 },
		{ "PUT /version HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}", -1 },
		{ "DELETE /vm HTTP/1.1\r\n\r\n", -1 },
		{ "GET /drives/ HTTP/1.1\r\n\r\n", -1 },
		{ "PUT /drives/ HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}", -1 },
		{ "PUT /drives/a/b HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}", -1 },
		{ "PUT /drives/../x HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}", -1 },
		{ "GET /machine-config/ HTTP/1.1\r\n\r\n", -1 },
		{ "GET /nope HTTP/1.1\r\n\r\n", -1 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct http_request req;
		enum http_status status = HTTP_OK;
		struct api_call call;
		char id[HTTP_PATH_MAX + 1];
		struct diag d = { "" };

		print_error("case %zu: %s\n", i, cases[i].text);
		assert_int_equal(parse(cases[i].text, &req, &status), HTTP_PARSE_DONE);
		if (cases[i].op < 0) {
			assert_int_not_equal(routes_match(&req, &call, id, sizeof(id), &status, &d), 0);
			assert_int_equal(status, HTTP_BAD_REQUEST);
			assert_non_null(strstr(d.msg, req.path));
			continue;
		}
		assert_int_equal(routes_match(&req, &call, id, sizeof(id), &status, &d), 0);
		assert_int_equal(call.op, cases[i].op);
		if (call.id)
			assert_string_equal(call.id, strrchr(req.path, '/') + 1);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(whole_request),
		cmocka_unit_test(every_prefix_incomplete),
		cmocka_unit_test(refused),
		cmocka_unit_test(body_limit_exact),
		cmocka_unit_test(header_section_bounded),
		cmocka_unit_test(connection_header),
		cmocka_unit_test(response_head),
		cmocka_unit_test(routes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
