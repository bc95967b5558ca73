/*
 * HTTP/1.1 requests as the API socket receives them: pure and bounded. The parser looks
 * at the bytes received so far and says whether they hold one whole request, need more,
 * or can never be one (with the status to answer). It never allocates and never reads
 * past len; the header section is at most HTTP_HEADER_MAX bytes and a body at most
 * HTTP_BODY_MAX (Firecracker's payload limit), given by Content-Length alone. One
 * request at a time: the caller answers it, drops req.consumed bytes and parses again.
 */
#ifndef MICROVM_API_HTTP_H
#define MICROVM_API_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include "microvm/compiler.h"

#define HTTP_HEADER_MAX 8192
#define HTTP_BODY_MAX 51200
#define HTTP_REQUEST_MAX (HTTP_HEADER_MAX + HTTP_BODY_MAX)
#define HTTP_PATH_MAX 256

enum http_method { HTTP_GET, HTTP_PUT, HTTP_PATCH, HTTP_OTHER };

enum http_status {
	HTTP_CONTINUE = 100,
	HTTP_OK = 200,
	HTTP_NO_CONTENT = 204,
	HTTP_BAD_REQUEST = 400,
	HTTP_NOT_FOUND = 404,
	HTTP_METHOD_NOT_ALLOWED = 405,
	HTTP_REQUEST_TIMEOUT = 408,
	HTTP_PAYLOAD_TOO_LARGE = 413,
	HTTP_HEADERS_TOO_LARGE = 431,
	HTTP_INTERNAL_ERROR = 500,
	HTTP_NOT_IMPLEMENTED = 501,
	HTTP_SERVICE_UNAVAILABLE = 503,
	HTTP_VERSION_NOT_SUPPORTED = 505,
};

struct http_request {
	enum http_method method;
	char method_name[16];          /* as sent, for messages */
	char path[HTTP_PATH_MAX + 1];
	const char *body;              /* into the parsed buffer; NULL when empty */
	size_t body_len;
	bool keep_alive;               /* else the connection closes after the answer */
	bool headers_done;             /* the header section is complete (even if the body is not) */
	bool expect_continue;          /* the client waits for 100 Continue before its body */
	size_t consumed;               /* bytes of this request: headers and body */
};

enum http_parse_result {
	HTTP_PARSE_INCOMPLETE,  /* need more bytes (req->headers_done may already be set) */
	HTTP_PARSE_DONE,        /* *req holds one whole request */
	HTTP_PARSE_ERROR,       /* never a request: answer *status with reason, then close */
};

/* The buffer's first request; on an error, *status and reason say what to answer. */
MUST_CHECK enum http_parse_result http_parse(const char *buf, size_t len, struct http_request *req,
					     enum http_status *status, const char **reason);
/*
 * The status line and headers of an answer with body_len bytes of JSON (none when 0),
 * into buf; returns their length, or 0 when size is too small.
 */
MUST_CHECK size_t http_response_head(char *buf, size_t size, enum http_status status,
				     size_t body_len, bool keep_alive);
const char *http_status_text(enum http_status status);

#endif
