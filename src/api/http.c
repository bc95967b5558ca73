#include "api/http.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "microvm/strparse.h"

/* A line's bounds inside the header section. */
struct http_line {
	const char *p;
	size_t len;
};

/* RFC 9110 tchar: what header names and methods are made of. */
static bool http_tchar(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* A request target byte: visible ASCII, no '%' (nothing here needs decoding) and no query. */
static bool http_path_char(char c)
{
	return c > ' ' && c < 0x7f && c != '%' && c != '?' && c != '#';
}

static enum http_parse_result http_fail(enum http_status *status, const char **reason,
					enum http_status s, const char *why)
{
	*status = s;
	*reason = why;
	return HTTP_PARSE_ERROR;
}

/* Takes the next CRLF-terminated line from [*p, end); false when no CRLF is there. */
static bool http_next_line(const char **p, const char *end, struct http_line *line)
{
	for (const char *q = *p; q + 1 < end; q++) {
		if (q[0] == '\r' && q[1] == '\n') {
			line->p = *p;
			line->len = (size_t)(q - *p);
			*p = q + 2;
			return true;
		}
	}
	return false;
}

/* "METHOD SP /path SP HTTP/1.x". */
static enum http_parse_result http_request_line(const struct http_line *l, struct http_request *req,
						enum http_status *status, const char **reason)
{
	const char *sp1 = memchr(l->p, ' ', l->len), *target, *sp2, *version;
	size_t mlen, tlen, vlen;

	if (!sp1)
		return http_fail(status, reason, HTTP_BAD_REQUEST, "malformed request line");
	mlen = (size_t)(sp1 - l->p);
	target = sp1 + 1;
	sp2 = memchr(target, ' ', l->len - mlen - 1);
	if (!sp2 || mlen == 0 || mlen >= sizeof(req->method_name))
		return http_fail(status, reason, HTTP_BAD_REQUEST, "malformed request line");
	for (size_t i = 0; i < mlen; i++)
		if (!http_tchar(l->p[i]))
			return http_fail(status, reason, HTTP_BAD_REQUEST, "malformed method");
	memcpy(req->method_name, l->p, mlen);
	req->method_name[mlen] = '\0';
	req->method = !strcmp(req->method_name, "GET")	   ? HTTP_GET
		      : !strcmp(req->method_name, "PUT")   ? HTTP_PUT
		      : !strcmp(req->method_name, "PATCH") ? HTTP_PATCH
							   : HTTP_OTHER;
	tlen = (size_t)(sp2 - target);
	if (tlen == 0 || target[0] != '/')
		return http_fail(status, reason, HTTP_BAD_REQUEST, "the target must be a path");
	if (tlen > HTTP_PATH_MAX)
		return http_fail(status, reason, HTTP_BAD_REQUEST, "the path is too long");
	for (size_t i = 0; i < tlen; i++)
		if (!http_path_char(target[i]))
			return http_fail(status, reason, HTTP_BAD_REQUEST,
					 "the path holds a byte the API does not use (space, control, %, ?, #)");
	memcpy(req->path, target, tlen);
	req->path[tlen] = '\0';
	version = sp2 + 1;
	vlen = l->len - (size_t)(version - l->p);
	if (vlen != 8 || memcmp(version, "HTTP/1.", 7) || (version[7] != '0' && version[7] != '1'))
		return http_fail(status, reason, HTTP_VERSION_NOT_SUPPORTED, "only HTTP/1.0 and HTTP/1.1");
	req->keep_alive = version[7] == '1';
	return HTTP_PARSE_DONE;
}

/* value (trimmed) equals word, case-insensitively. */
static bool http_value_is(const char *value, size_t len, const char *word)
{
	return strlen(word) == len && !strncasecmp(value, word, len);
}

/* One "Name: value" line: the headers this server acts on, the others checked and skipped. */
static enum http_parse_result http_header(const struct http_line *l, struct http_request *req,
					  bool *have_length, enum http_status *status,
					  const char **reason)
{
	const char *colon = memchr(l->p, ':', l->len), *v, *end = l->p + l->len;
	size_t nlen, vlen;
	char digits[16];
	uint64_t n;

	if (!colon || colon == l->p)
		return http_fail(status, reason, HTTP_BAD_REQUEST, "malformed header line");
	nlen = (size_t)(colon - l->p);
	for (size_t i = 0; i < nlen; i++)
		if (!http_tchar(l->p[i]))
			return http_fail(status, reason, HTTP_BAD_REQUEST, "malformed header name");
	for (v = colon + 1; v < end && (*v == ' ' || *v == '\t'); v++)
		;
	while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	vlen = (size_t)(end - v);
	for (size_t i = 0; i < vlen; i++)
		if ((unsigned char)v[i] < ' ' && v[i] != '\t')
			return http_fail(status, reason, HTTP_BAD_REQUEST, "control byte in a header value");
	if (http_value_is(l->p, nlen, "content-length")) {
		/* Twice (even equal) is how request smuggling starts: refused. */
		if (*have_length || vlen == 0 || vlen >= sizeof(digits))
			return http_fail(status, reason, HTTP_BAD_REQUEST, "bad Content-Length");
		memcpy(digits, v, vlen);
		digits[vlen] = '\0';
		if (!parse_decimal_u64(digits, 0, UINT64_MAX, &n))
			return http_fail(status, reason, HTTP_BAD_REQUEST, "bad Content-Length");
		if (n > HTTP_BODY_MAX)
			return http_fail(status, reason, HTTP_PAYLOAD_TOO_LARGE,
					 "the body is larger than 51200 bytes");
		req->body_len = (size_t)n;
		*have_length = true;
	} else if (http_value_is(l->p, nlen, "transfer-encoding")) {
		return http_fail(status, reason, HTTP_NOT_IMPLEMENTED,
				 "Transfer-Encoding is not supported: send Content-Length");
	} else if (http_value_is(l->p, nlen, "connection")) {
		if (http_value_is(v, vlen, "close"))
			req->keep_alive = false;
		else if (http_value_is(v, vlen, "keep-alive"))
			req->keep_alive = true;
	} else if (http_value_is(l->p, nlen, "expect")) {
		if (!http_value_is(v, vlen, "100-continue"))
			return http_fail(status, reason, HTTP_BAD_REQUEST, "unknown expectation");
		req->expect_continue = true;
	}
	return HTTP_PARSE_DONE;
}

enum http_parse_result http_parse(const char *buf, size_t len, struct http_request *req,
				  enum http_status *status, const char **reason)
{
	const char *p = buf, *end = buf + (len < HTTP_HEADER_MAX ? len : HTTP_HEADER_MAX);
	bool have_length = false;
	struct http_line line;
	enum http_parse_result r;

	memset(req, 0, sizeof(*req));
	/* A blank line before the request line is tolerated (RFC 9112 2.2), one only. */
	if (len >= 2 && buf[0] == '\r' && buf[1] == '\n')
		p += 2;
	if (!http_next_line(&p, end, &line))
		goto incomplete;
	r = http_request_line(&line, req, status, reason);
	if (r != HTTP_PARSE_DONE)
		return r;
	for (;;) {
		if (!http_next_line(&p, end, &line))
			goto incomplete;
		if (line.len == 0)
			break;
		if (line.p[0] == ' ' || line.p[0] == '\t')
			return http_fail(status, reason, HTTP_BAD_REQUEST, "folded header lines are obsolete");
		r = http_header(&line, req, &have_length, status, reason);
		if (r != HTTP_PARSE_DONE)
			return r;
	}
	req->headers_done = true;
	if ((req->method == HTTP_PUT || req->method == HTTP_PATCH) && !have_length)
		return http_fail(status, reason, HTTP_BAD_REQUEST, "a body needs Content-Length");
	/* p is at most HTTP_HEADER_MAX bytes in; the body is at most HTTP_BODY_MAX. */
	if (len - (size_t)(p - buf) < req->body_len)
		return HTTP_PARSE_INCOMPLETE;
	req->body = req->body_len ? p : NULL;
	req->consumed = (size_t)(p - buf) + req->body_len;
	return HTTP_PARSE_DONE;
incomplete:
	if (len >= HTTP_HEADER_MAX)
		return http_fail(status, reason, HTTP_HEADERS_TOO_LARGE,
				 "the header section is larger than 8192 bytes");
	return HTTP_PARSE_INCOMPLETE;
}

const char *http_status_text(enum http_status status)
{
	switch (status) {
	case HTTP_CONTINUE: return "Continue";
	case HTTP_OK: return "OK";
	case HTTP_NO_CONTENT: return "No Content";
	case HTTP_BAD_REQUEST: return "Bad Request";
	case HTTP_NOT_FOUND: return "Not Found";
	case HTTP_METHOD_NOT_ALLOWED: return "Method Not Allowed";
	case HTTP_REQUEST_TIMEOUT: return "Request Timeout";
	case HTTP_PAYLOAD_TOO_LARGE: return "Payload Too Large";
	case HTTP_HEADERS_TOO_LARGE: return "Request Header Fields Too Large";
	case HTTP_INTERNAL_ERROR: return "Internal Server Error";
	case HTTP_NOT_IMPLEMENTED: return "Not Implemented";
	case HTTP_SERVICE_UNAVAILABLE: return "Service Unavailable";
	case HTTP_VERSION_NOT_SUPPORTED: return "HTTP Version Not Supported";
	default: return "Unknown";
	}
}

size_t http_response_head(char *buf, size_t size, enum http_status status, size_t body_len,
			  bool keep_alive)
{
	int n;

	if (status == HTTP_CONTINUE)
		n = snprintf(buf, size, "HTTP/1.1 100 Continue\r\n\r\n");
	else if (body_len)
		n = snprintf(buf, size,
			     "HTTP/1.1 %d %s\r\nServer: microvm\r\nContent-Type: application/json\r\n"
			     "Content-Length: %zu\r\n%s\r\n",
			     (int)status, http_status_text(status), body_len,
			     keep_alive ? "" : "Connection: close\r\n");
	else
		n = snprintf(buf, size, "HTTP/1.1 %d %s\r\nServer: microvm\r\n%s%s\r\n", (int)status,
			     http_status_text(status),
			     status == HTTP_NO_CONTENT ? "" : "Content-Length: 0\r\n",
			     keep_alive ? "" : "Connection: close\r\n");
	return n > 0 && (size_t)n < size ? (size_t)n : 0;
}
