/*
 * The API server (Firecracker's, on a Unix socket): its own thread accepts connections,
 * reads one request at a time from each (src/api/http.c), routes it (routes.c), parses
 * its JSON body, and hands the call to whoever runs the VM through a mailbox: the call
 * runs on the VMM thread, which owns the VM and its resources, and the answer goes
 * back from here. The thread installs its own seccomp filter (policy/api.policy)
 * before it reads a byte; the socket is bound before any filter, by api_listen.
 * Hostile clients cost only themselves: bounded requests (413, 431), a deadline per
 * request (408), a bounded number of connections (503 beyond it), non-blocking I/O.
 */
#ifndef MICROVM_API_API_H
#define MICROVM_API_API_H

#include <jansson.h>
#include <stdatomic.h>

#include "api/http.h"
#include "microvm/compiler.h"
#include "microvm/diag.h"
#include "microvm/mailbox.h"
#include "microvm/sandbox.h"

/* Every route, in the order of routes.c's table. */
enum api_op {
	API_DESCRIBE,       /* GET / */
	API_VERSION,        /* GET /version */
	API_VM_CONFIG,      /* GET /vm/config */
	API_MACHINE_GET,    /* GET /machine-config */
	API_MACHINE_PUT,    /* PUT /machine-config */
	API_MACHINE_PATCH,  /* PATCH /machine-config */
	API_BOOT_SOURCE,    /* PUT /boot-source */
	API_DRIVE_PUT,      /* PUT /drives/{id} */
	API_DRIVE_PATCH,    /* PATCH /drives/{id} */
	API_NET_PUT,        /* PUT /network-interfaces/{id} */
	API_NET_PATCH,      /* PATCH /network-interfaces/{id} */
	API_VSOCK,          /* PUT /vsock */
	API_ENTROPY,        /* PUT /entropy */
	API_BALLOON_PUT,    /* PUT /balloon */
	API_BALLOON_PATCH,  /* PATCH /balloon */
	API_BALLOON_GET,    /* GET /balloon */
	API_BALLOON_STATS_PATCH, /* PATCH /balloon/statistics */
	API_BALLOON_STATS_GET,   /* GET /balloon/statistics */
	API_LOGGER,         /* PUT /logger */
	API_METRICS,        /* PUT /metrics */
	API_ACTION,         /* PUT /actions */
	API_VM_STATE,       /* PATCH /vm */
	API_SNAPSHOT_CREATE, /* PUT /snapshot/create */
	API_SNAPSHOT_LOAD,  /* PUT /snapshot/load */
	API_OP_COUNT,
};

/* One request, as the VMM thread sees it, and its answer. */
struct api_call {
	enum api_op op;
	const char *id;          /* {id} in the path, or NULL */
	const json_t *body;      /* the parsed body (a JSON object), or NULL */
	/* The answer: */
	enum http_status status; /* 200 with answer, 204, or an error with d's reason */
	char *answer;            /* 200: malloc'd JSON text */
	struct diag d;
};

/* Requests by route (API_OP_COUNT: those no route took), counted by the API thread. */
struct api_stats {
	atomic_ullong requests[API_OP_COUNT + 1];
	atomic_ullong errors[API_OP_COUNT + 1];
};

/* What runs calls: handle(ctx, struct api_call *) through the mailbox, on the VMM thread. */
struct api_handler {
	struct mailbox *mailbox;
	int (*handle)(void *ctx, void *call);
	void *ctx;
	struct api_stats *stats;
};

struct api_server;

/* Binds and listens on path (a stale socket file there is replaced), before any filter. */
MUST_CHECK int api_listen(struct api_server **out, const char *path, struct diag *d);
/* Starts the API thread, which serves until the process ends. */
MUST_CHECK int api_start(struct api_server *s, const struct sandbox *sb,
			 const struct api_handler *h, struct diag *d);

/* routes.c: the call a request asks for, or an error status and reason (pure). */
MUST_CHECK int routes_match(const struct http_request *req, struct api_call *call,
			    char *id, size_t id_size, enum http_status *status, struct diag *d);
/* "put_drives" ...: the op's name in metrics. */
const char *routes_op_name(enum api_op op);

#endif
