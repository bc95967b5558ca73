/*
 * The virtio-vsock device in three parts, and what they share (its struct and public
 * side are include/microvm/virtio_vsock.h):
 *   device.c  the queue glue: packets from the transmit queue, packets into the receive
 *             queue, notifications, reset, the device's ops;
 *   conn.c    the connections: slots, the state machine, credit, what each owes the
 *             guest, and their bytes between the guest's packets and their sockets;
 *   uds.c     the host's Unix sockets: the listening one, connections to PATH_PORT,
 *             and the CONNECT and OK lines of Firecracker's host protocol.
 * All of it runs under the transport's lock, in the I/O thread.
 */
#ifndef MICROVM_DEV_VSOCK_VSOCK_H
#define MICROVM_DEV_VSOCK_VSOCK_H

#include <stdint.h>

#include "microvm/virtio_vsock.h"

#define VSOCK_HOST_CID 2
#define VSOCK_HDR_LEN ((uint32_t)sizeof(struct virtio_vsock_hdr))

enum { VSOCK_RXQ = 0, VSOCK_TXQ = 1, VSOCK_EVQ = 2 };

/* Control packets a connection owes the guest. */
enum {
	VSOCK_OWE_REQUEST = 1u << 0,
	VSOCK_OWE_RESPONSE = 1u << 1,
	VSOCK_OWE_CREDIT = 1u << 2,
	VSOCK_OWE_SHUTDOWN = 1u << 3,
	VSOCK_OWE_RST = 1u << 4,
};

enum vsock_send_result { VSOCK_SENT, VSOCK_NO_BUFFER, VSOCK_BAD_BUFFER };

/* Layered: device.c calls into conn.c and uds.c, conn.c into uds.c, uds.c into neither. */

/* device.c */
/*
 * One packet into the next receive buffer. For OP_RW, *len is the most to send and
 * becomes what fit. c is NULL for a reset answering no connection.
 */
enum vsock_send_result vsock_send(struct virtio_vsock *v, const struct vsock_conn *c,
				  uint32_t src_port, uint32_t dst_port, uint16_t op,
				  const uint8_t *payload, uint32_t *len);
/* Fills the receive queue: resets for strangers first, then the connections in turn. */
void vsock_rx_pump(struct virtio_vsock *v);

/* conn.c */
/* A free slot for a connection on host socket fd (taken over), watched; NULL if none. */
struct vsock_conn *vsock_conn_new(struct virtio_vsock *v, int fd, enum vsock_conn_state state);
struct vsock_conn *vsock_conn_find(struct virtio_vsock *v, uint32_t guest_port, uint32_t host_port);
/* Closes the host socket and frees the slot (its buffers stay for the next connection). */
void vsock_conn_free(struct vsock_conn *c);
/* Resets a connection: the guest is told, then the slot is freed. */
void vsock_conn_reset(struct vsock_conn *c);
/* How many bytes the guest can take now on this connection. */
uint32_t vsock_credit(const struct vsock_conn *c);
/* Owes the guest a credit update once its view of our free space falls below half. */
void vsock_credit_check(struct vsock_conn *c);
/* The next packet this connection should send the guest, or OP_INVALID for none. */
uint16_t vsock_next_op(struct vsock_conn *c);
/* The guest has packet op, with len bytes of the stage for OP_RW: what it changes. */
void vsock_conn_sent(struct vsock_conn *c, uint16_t op, uint32_t len);
/* Owes the guest a reset for a packet that matches no connection (dropped when too many). */
void vsock_orphan_rst(struct virtio_vsock *v, uint32_t src_port, uint32_t dst_port);
/* The guest connects to host port P: a connection to the socket PATH_P, or a reset. */
void vsock_guest_connect(struct virtio_vsock *v, const struct virtio_vsock_hdr *hdr);
/* A well-formed packet from the guest on connection c. */
void vsock_conn_packet(struct vsock_conn *c, const struct virtio_vsock_hdr *hdr,
		       const struct virtq_chain *ch);
/* The connection's socket reported events (epoll's). */
void vsock_conn_event(struct vsock_conn *c, uint32_t events);

/* uds.c */
void vsock_host_error(struct virtio_vsock *v, const char *what, int err);
/* The listening socket at uds, which must not exist; -errno with the reason. */
int vsock_uds_listen(const char *uds, struct diag *d);
/* A connection the host made to the listening socket, or -1 when none waits. */
int vsock_uds_accept(struct virtio_vsock *v);
/* A connection to the socket PATH_port, or -1 when nobody listens there. */
int vsock_uds_connect(struct virtio_vsock *v, uint32_t port);
/* The host program's first line "CONNECT PORT\n": 1 with *port, 0 until it is whole, -1 if bad. */
int vsock_uds_connect_line(struct vsock_conn *c, uint32_t *port);
/* Tells the host program its port: "OK PORT\n". */
int vsock_uds_send_ok(struct vsock_conn *c);

#endif
