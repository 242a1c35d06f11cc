/* SPDX-License-Identifier: GPL-2.0-or-later */

/*
 * nl: rtnetlink requests for links, addresses, routes and namespace ids, one socket per
 * network namespace (see nl.h for the contract).
 *
 * How a handle talks to the kernel: requests are built one after another into one buffer
 * embedded in the handle and sent with one send() per flush. Only the last request of a
 * flush asks for an ack (NLM_F_ACK); the others are answered only if they fail. Because
 * rtnetlink runs every request synchronously inside the send() and in order, the last
 * request's answer arrives after every earlier failure, so it marks the end of the flush:
 * a flush of N requests costs one send() and 1 + (failures) receives. The same buffer then
 * receives the answers, so a handle needs no other memory. Answers are matched by sequence
 * number, and anything not from the kernel or not for the outstanding requests (a late
 * answer after a timeout) is skipped.
 */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* setns() */
#endif

#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/if_addr.h>
#include <linux/if_ether.h>
#include <linux/if_link.h>
#include <linux/net_namespace.h>
#include <linux/nsfs.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <libmnl/libmnl.h>
#include <net/if.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "failpoint.h"
#include "nl.h"
#include "util.h"

static_assert(NL_IFNAMSIZ == IFNAMSIZ, "NL_IFNAMSIZ");
static_assert(NL_ETH_ALEN == ETH_ALEN, "NL_ETH_ALEN");
static_assert(NL_ADDRSTRLEN == INET6_ADDRSTRLEN, "NL_ADDRSTRLEN");

/* The buffer: queued requests, then their answers and dump parts. The kernel sizes dump
 * parts to the reader's buffer but never beyond 32 KiB, so this also holds any dump part. */
#define NL_BUF_SIZE (32 * 1024)
/* No request built here is longer (the largest, a link change with a full ifalias, is
 * under 700 bytes); a request is only started with this much room left. */
#define NL_MSG_MAX 2048
/* At most this many requests per flush, so that even if all fail their error answers fit
 * in the default socket receive buffer (about 1 KiB of kernel memory each). */
#define NL_MAX_QUEUED 128
/* How often a dump interrupted by concurrent changes (NLM_F_DUMP_INTR) is restarted. */
#define NL_DUMP_TRIES 5

#define NL_VXLAN_PORT 4789

/* From <linux/if.h>, which cannot be included together with <net/if.h>. */
#define NL_IFF_LOWER_UP (1u << 16)
enum {
	NL_OPER_UNKNOWN,
	NL_OPER_NOTPRESENT,
	NL_OPER_DOWN,
	NL_OPER_LOWERLAYERDOWN,
	NL_OPER_TESTING,
	NL_OPER_DORMANT,
	NL_OPER_UP,
};

struct nl {
	struct mnl_socket *sock;
	int fd;
	uint32_t portid;
	uint32_t seq; /* sequence number of the next request */

	size_t len;	 /* bytes queued in buf */
	size_t last_off; /* offset of the last queued request */
	unsigned nqueued;
	uint32_t seq_first;	      /* sequence number of the first queued request */
	size_t msg_op[NL_MAX_QUEUED]; /* operation index of each queued request */
	int msg_err[NL_MAX_QUEUED];   /* answer to each request of the last flush */

	bool batching;
	size_t nops;   /* operations started in this batch */
	size_t cur_op; /* index of the operation being built */

	int first_err; /* first failure of this operation, or of the batch */
	size_t first_err_op;
	bool has_errmsg;
	char errmsg[256];

	uint8_t buf[NL_BUF_SIZE] __attribute__((aligned(8)));
};

/* ---- pure helpers ------------------------------------------------------------------------- */

static size_t family_len(int family)
{
	return family == AF_INET ? 4 : family == AF_INET6 ? 16 : 0;
}

static unsigned family_bits(int family)
{
	return family_len(family) * 8;
}

int nl_parse_addr(const char *s, struct nl_addr *ret)
{
	struct nl_addr a = {};

	if (!s)
		return -EINVAL;
	if (strchr(s, ':')) {
		if (inet_pton(AF_INET6, s, &a.in6) != 1)
			return -EINVAL;
		a.family = AF_INET6;
	} else {
		if (inet_pton(AF_INET, s, &a.in) != 1)
			return -EINVAL;
		a.family = AF_INET;
	}
	*ret = a;
	return 0;
}

int nl_parse_cidr(const char *s, struct nl_prefix *ret)
{
	char buf[NL_ADDRSTRLEN];
	struct nl_addr a;
	const char *slash;
	unsigned len;
	size_t n;
	int r;

	if (!s)
		return -EINVAL;
	slash = strchr(s, '/');
	n = slash ? (size_t)(slash - s) : strlen(s);
	if (n == 0 || n >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, n);
	buf[n] = '\0';
	r = nl_parse_addr(buf, &a);
	if (r < 0)
		return r;

	if (!slash)
		len = family_bits(a.family);
	else {
		const char *p = slash + 1;
		size_t digits = strspn(p, "0123456789");

		/* Decimal only: no sign, no spaces, no leading zeros, no trailing text. */
		if (digits == 0 || digits > 3 || p[digits] != '\0' || (p[0] == '0' && digits > 1))
			return -EINVAL;
		len = (unsigned)strtoul(p, NULL, 10);
		if (len > family_bits(a.family))
			return -EINVAL;
	}

	*ret = (struct nl_prefix){ .family = a.family, .prefixlen = len };
	memcpy(ret->bytes, a.bytes, sizeof(ret->bytes));
	return 0;
}

bool nl_prefix_has_host_bits(const struct nl_prefix *p)
{
	unsigned bits = family_bits(p->family);

	for (unsigned i = p->prefixlen; i < bits; i++)
		if (p->bytes[i / 8] & (0x80 >> (i % 8)))
			return true;
	return false;
}

void nl_prefix_mask(struct nl_prefix *p)
{
	unsigned bits = family_bits(p->family);

	for (unsigned i = p->prefixlen; i < bits; i++)
		p->bytes[i / 8] &= (uint8_t) ~(0x80 >> (i % 8));
}

const char *nl_format_addr(int family, const void *bytes, char buf[static NL_ADDRSTRLEN])
{
	if (!family_len(family) || !inet_ntop(family, bytes, buf, NL_ADDRSTRLEN))
		buf[0] = '\0';
	return buf;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int nl_parse_mac(const char *s, uint8_t ret[static NL_ETH_ALEN])
{
	uint8_t mac[ETH_ALEN];
	bool zero = true;

	if (!s || strlen(s) != ETH_ALEN * 3 - 1)
		return -EINVAL;
	for (unsigned i = 0; i < ETH_ALEN; i++) {
		const char *p = s + i * 3;
		int hi = hexval(p[0]), lo = hexval(p[1]);

		if (hi < 0 || lo < 0 || (i < ETH_ALEN - 1 && p[2] != ':'))
			return -EINVAL;
		mac[i] = (uint8_t)(hi << 4 | lo);
		if (mac[i])
			zero = false;
	}
	/* The kernel refuses these on an Ethernet device; say so before asking it. */
	if (zero || (mac[0] & 1))
		return -EINVAL;
	memcpy(ret, mac, ETH_ALEN);
	return 0;
}

const char *nl_format_mac(const uint8_t *mac, size_t len, char buf[static NL_MACSTRLEN])
{
	static const char hex[] = "0123456789abcdef";
	char *p = buf;

	if (len > NL_HWADDR_MAX)
		len = NL_HWADDR_MAX;
	for (size_t i = 0; i < len; i++) {
		if (i)
			*p++ = ':';
		*p++ = hex[mac[i] >> 4];
		*p++ = hex[mac[i] & 15];
	}
	*p = '\0';
	return buf;
}

const char *nl_operstate_to_string(uint8_t operstate)
{
	switch (operstate) {
	case NL_OPER_NOTPRESENT:
		return "notpresent";
	case NL_OPER_DOWN:
		return "down";
	case NL_OPER_LOWERLAYERDOWN:
		return "lowerlayerdown";
	case NL_OPER_TESTING:
		return "testing";
	case NL_OPER_DORMANT:
		return "dormant";
	case NL_OPER_UP:
		return "up";
	default:
		return "unknown";
	}
}

/* ---- errors ------------------------------------------------------------------------------- */

const char *nl_last_error(const struct nl *nl)
{
	return nl && nl->has_errmsg ? nl->errmsg : NULL;
}

/* Notes a failure of operation op. Only the first failure of an operation (outside a
 * batch) or of the batch counts; later ones, such as those of a cleanup, leave it. */
static void record(struct nl *nl, size_t op, int err, const char *msg)
{
	if (nl->first_err)
		return;
	nl->first_err = err;
	nl->first_err_op = op;
	nl->has_errmsg = msg && *msg;
	if (nl->has_errmsg)
		snprintf(nl->errmsg, sizeof(nl->errmsg), "%s", msg);
}

/* Refuses the current operation locally with a reason. Returns err. */
static int __attribute__((format(printf, 3, 4))) fail(struct nl *nl, int err, const char *fmt, ...)
{
	char msg[sizeof(nl->errmsg)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	record(nl, nl->cur_op, err, msg);
	return err;
}

/* Starts an operation: a changing call, or a query outside a batch. */
static void op_start(struct nl *nl, bool changing)
{
	if (nl->batching) {
		if (changing)
			nl->cur_op = nl->nops++;
		return;
	}
	nl->cur_op = 0;
	nl->first_err = 0;
	nl->has_errmsg = false;
}

/* ---- socket ------------------------------------------------------------------------------- */

int nl_open(int netns_fd, int host_fd, struct nl **ret)
{
	struct timeval tv = { .tv_sec = NL_TIMEOUT_MS / 1000,
			      .tv_usec = NL_TIMEOUT_MS % 1000 * 1000 };
	struct mnl_socket *sock;
	struct nl *nl;
	int one = 1, r;

	if (netns_fd >= 0) {
		/* Make sure the way back exists before leaving: a failed return would leave the
		 * thread, and so the whole daemon, in the other namespace. */
		r = ioctl(host_fd, NS_GET_NSTYPE);
		if (r < 0)
			return -errno;
		if (r != CLONE_NEWNET)
			return -EINVAL;
		FAILPOINT(NETNS_SETNS);
		if (setns(netns_fd, CLONE_NEWNET) < 0)
			return -errno;
	}

	/* The socket belongs to the namespace it is created in; nothing else needs to run
	 * there. */
	sock = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	r = sock ? 0 : -errno;

	if (netns_fd >= 0 && setns(host_fd, CLONE_NEWNET) < 0) {
		static const char m[] = "nl: cannot return to the host network namespace\n";
		(void)!write(STDERR_FILENO, m, sizeof(m) - 1);
		abort();
	}
	if (r < 0)
		return r;

	if (mnl_socket_bind(sock, 0, MNL_SOCKET_AUTOPID) < 0) {
		r = -errno;
		mnl_socket_close(sock);
		return r;
	}

	nl = calloc(1, sizeof(*nl));
	if (!nl) {
		mnl_socket_close(sock);
		return -ENOMEM;
	}
	/* Zeroed as a whole: valgrind would see unwritten padding go out in send(). */
	nl->sock = sock;
	nl->fd = mnl_socket_get_fd(sock);
	nl->portid = mnl_socket_get_portid(sock);
	nl->seq = 1;

	/* Error texts and short acks (without a copy of the request) are only wanted, not
	 * needed: older kernels lack them. Strict checking lets the kernel filter dumps. */
	(void)setsockopt(nl->fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	(void)setsockopt(nl->fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	(void)setsockopt(nl->fd, SOL_NETLINK, NETLINK_GET_STRICT_CHK, &one, sizeof(one));
	if (setsockopt(nl->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0) {
		r = -errno;
		nl_close(nl);
		return r;
	}

	*ret = nl;
	return 0;
}

void nl_close(struct nl *nl)
{
	if (!nl)
		return;
	if (nl->sock)
		mnl_socket_close(nl->sock);
	free(nl);
}

/* Receives one datagram from the kernel into buf. Returns its length or -errno. */
static ssize_t nl_recv(struct nl *nl)
{
	struct sockaddr_nl addr;
	struct iovec iov = { .iov_base = nl->buf, .iov_len = sizeof(nl->buf) };
	struct msghdr mh = {
		.msg_name = &addr, .msg_namelen = sizeof(addr), .msg_iov = &iov, .msg_iovlen = 1
	};
	ssize_t n;

	for (;;) {
		mh.msg_namelen = sizeof(addr);
		n = recvmsg(nl->fd, &mh, 0);
		if (n >= 0)
			break;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return -ETIMEDOUT;
		return -errno;
	}
	if (mh.msg_flags & MSG_TRUNC)
		return -EMSGSIZE;
	if (mh.msg_namelen != sizeof(addr) || addr.nl_pid != 0)
		return 0; /* not from the kernel: ignore */
	return n;
}

static int nl_send(struct nl *nl, size_t len)
{
	FAILPOINT(NL_SEND);
	for (;;) {
		if (mnl_socket_sendto(nl->sock, nl->buf, len) >= 0) {
			FAILPOINT(NL_SENT);
			return 0;
		}
		if (errno != EINTR)
			return -errno;
	}
}

/* Decodes an NLMSG_ERROR answer: returns its error (0 for an ack) and points *msg at the
 * extended ack text, if any. */
static int parse_error(const struct nlmsghdr *nlh, const char **msg)
{
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
	size_t plen = mnl_nlmsg_get_payload_len(nlh), off;
	const struct nlattr *a;

	*msg = NULL;
	if (plen < sizeof(*e))
		return -EBADMSG;
	if (nlh->nlmsg_flags & NLM_F_ACK_TLVS) {
		off = sizeof(*e);
		if (!(nlh->nlmsg_flags & NLM_F_CAPPED) && e->msg.nlmsg_len >= NLMSG_HDRLEN)
			off += e->msg.nlmsg_len - NLMSG_HDRLEN;
		off = MNL_ALIGN(off);
		for (a = (const struct nlattr *)((const uint8_t *)e + off);
		     off < plen && mnl_attr_ok(a, (int)(plen - off)); a = mnl_attr_next(a)) {
			off += MNL_ALIGN(a->nla_len);
			if (mnl_attr_get_type(a) == NLMSGERR_ATTR_MSG &&
			    mnl_attr_validate(a, MNL_TYPE_NUL_STRING) >= 0)
				*msg = mnl_attr_get_str(a);
		}
	}
	return e->error > 0 ? -e->error : e->error;
}

/*
 * Sends the queued requests and reads their answers; msg_err[] gets each request's result
 * and each failure is recorded against its operation. Returns the first failure or 0.
 */
static int nl_flush(struct nl *nl)
{
	unsigned n = nl->nqueued;
	uint32_t first = nl->seq_first;
	bool done = false;
	int r;

	if (n == 0)
		return 0;

	((struct nlmsghdr *)(nl->buf + nl->last_off))->nlmsg_flags |= NLM_F_ACK;
	for (unsigned i = 0; i < n; i++)
		nl->msg_err[i] = 0;
	r = nl_send(nl, nl->len);
	nl->len = 0;
	nl->nqueued = 0;
	if (r < 0) {
		for (unsigned i = 0; i < n; i++)
			nl->msg_err[i] = r;
		record(nl, nl->msg_op[0], r, "sending to the kernel failed");
		return r;
	}

	while (!done) {
		const struct nlmsghdr *nlh;
		int len = (int)nl_recv(nl);

		if (len < 0) {
			/* The answers are lost; count the requests without one as failed. */
			record(nl, nl->msg_op[n - 1], len,
			       len == -ETIMEDOUT ? "no answer from the kernel in time"
						 : "receiving from the kernel failed");
			for (unsigned i = 0; i < n; i++)
				if (!nl->msg_err[i])
					nl->msg_err[i] = len;
			break;
		}
		for (nlh = (const struct nlmsghdr *)nl->buf; mnl_nlmsg_ok(nlh, len);
		     nlh = mnl_nlmsg_next(nlh, &len)) {
			uint32_t idx = nlh->nlmsg_seq - first;
			const char *msg;
			int err;

			if (idx >= n || nlh->nlmsg_pid != nl->portid ||
			    nlh->nlmsg_type != NLMSG_ERROR)
				continue;
			err = parse_error(nlh, &msg);
			if (err < 0) {
				nl->msg_err[idx] = err;
				record(nl, nl->msg_op[idx], err, msg);
			}
			if (idx == n - 1)
				done = true;
		}
	}

	for (unsigned i = 0; i < n; i++)
		if (nl->msg_err[i] < 0)
			return nl->msg_err[i];
	return 0;
}

/* Starts a request at the end of the queue, flushing first if the queue is full. */
static struct nlmsghdr *msg_begin(struct nl *nl, uint16_t type, uint16_t flags)
{
	struct nlmsghdr *nlh;

	if (nl->len + NL_MSG_MAX > sizeof(nl->buf) || nl->nqueued >= NL_MAX_QUEUED)
		(void)nl_flush(nl);
	/* Older libmnl leaves attribute padding as it finds it; send zeros, not old answers. */
	memset(nl->buf + nl->len, 0, NL_MSG_MAX);
	nlh = mnl_nlmsg_put_header(nl->buf + nl->len);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	return nlh;
}

/* Appends the request started by msg_begin() to the queue. */
static void msg_queue(struct nl *nl, struct nlmsghdr *nlh)
{
	assert(nlh->nlmsg_len <= NL_MSG_MAX);
	nlh->nlmsg_seq = nl->seq++;
	if (nl->nqueued == 0)
		nl->seq_first = nlh->nlmsg_seq;
	nl->msg_op[nl->nqueued++] = nl->cur_op;
	nl->last_off = nl->len;
	nl->len += NLMSG_ALIGN(nlh->nlmsg_len);
}

/* Ends a changing operation: outside a batch, sends it and returns its result. */
static int op_finish(struct nl *nl)
{
	if (nl->batching)
		return 0;
	return nl_flush(nl);
}

int nl_batch_begin(struct nl *nl)
{
	if (nl->batching)
		return -EBUSY;
	(void)nl_flush(nl);
	nl->batching = true;
	nl->nops = 0;
	nl->first_err = 0;
	nl->has_errmsg = false;
	return 0;
}

int nl_batch_end(struct nl *nl, size_t *failed_op)
{
	if (!nl->batching)
		return -EINVAL;
	(void)nl_flush(nl);
	nl->batching = false;
	if (nl->first_err) {
		if (failed_op)
			*failed_op = nl->first_err_op;
		return nl->first_err;
	}
	return 0;
}

typedef int (*reply_cb)(const struct nlmsghdr *nlh, void *data);

/*
 * Sends one read request (a get, or a dump when NLM_F_DUMP is set) and passes each answer
 * to cb. The queue must be empty. A dump is always read to its end, even after cb failed,
 * so that the kernel does not keep a half-finished dump on the socket; so is a get with
 * NLM_F_ACK, up to its ack (some gets may be answered with nothing but the ack).
 * Returns 0, the first error of cb or the kernel, or -EAGAIN if the dump was interrupted
 * by changes.
 */
static int nl_query(struct nl *nl, struct nlmsghdr *nlh, reply_cb cb, void *data)
{
	bool dump = nlh->nlmsg_flags & (NLM_F_DUMP | NLM_F_ACK), intr = false;
	uint32_t seq;
	int r = 0;

	assert(nl->nqueued == 0 && (uint8_t *)nlh == nl->buf);
	nlh->nlmsg_seq = seq = nl->seq++;
	r = nl_send(nl, nlh->nlmsg_len);
	if (r < 0)
		return r;

	for (;;) {
		int len = (int)nl_recv(nl);

		if (len < 0)
			return len;
		for (nlh = (struct nlmsghdr *)nl->buf; mnl_nlmsg_ok(nlh, len);
		     nlh = mnl_nlmsg_next(nlh, &len)) {
			if (nlh->nlmsg_seq != seq || nlh->nlmsg_pid != nl->portid)
				continue;
			if (nlh->nlmsg_flags & NLM_F_DUMP_INTR)
				intr = true;
			if (nlh->nlmsg_type == NLMSG_ERROR) {
				const char *msg;
				int err = parse_error(nlh, &msg);

				/* Only a kernel text is worth keeping here; the caller words the rest. */
				if (err < 0 && msg && !nl->batching)
					record(nl, 0, err, msg);
				return r < 0 ? r : err;
			}
			if (nlh->nlmsg_type == NLMSG_DONE) {
				if (r == 0 && mnl_nlmsg_get_payload_len(nlh) >= sizeof(int)) {
					int err = *(const int *)mnl_nlmsg_get_payload(nlh);
					if (err < 0)
						r = err;
				}
				if (r == 0 && intr)
					r = -EAGAIN;
				return r;
			}
			if (nlh->nlmsg_type == NLMSG_NOOP || nlh->nlmsg_type == NLMSG_OVERRUN)
				continue;
			if (r == 0)
				r = cb(nlh, data);
			if (!dump)
				return r;
		}
	}
}

/* Checks a device name given by the caller. */
static int check_name(struct nl *nl, const char *name, const char *what)
{
	if (!ifname_valid(name))
		return fail(nl, -EINVAL, "%s name '%s' is not a valid interface name", what,
			    name ? name : "");
	return 0;
}

static int getlink_ifindex_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);

	if (nlh->nlmsg_type != RTM_NEWLINK || mnl_nlmsg_get_payload_len(nlh) < sizeof(*ifi))
		return -EBADMSG;
	*(int *)data = ifi->ifi_index;
	return 0;
}

/* Puts an RTM_GETLINK request for one device into the empty queue. */
static struct nlmsghdr *getlink_request(struct nl *nl, int ifindex, const char *name)
{
	struct nlmsghdr *nlh = msg_begin(nl, RTM_GETLINK, 0);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));

	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	if (ifindex <= 0)
		mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	mnl_attr_put_u32(nlh, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
	return nlh;
}

/*
 * Resolves a device to its ifindex for the current operation. Sends what is queued first,
 * so the lookup sees its effect. Returns the ifindex or -errno (recorded).
 */
static int resolve(struct nl *nl, struct nl_dev dev, const char *what)
{
	int ifindex = 0, r;

	if (dev.ifindex > 0)
		return dev.ifindex;
	r = check_name(nl, dev.name, what);
	if (r < 0)
		return r;
	(void)nl_flush(nl);
	r = nl_query(nl, getlink_request(nl, 0, dev.name), getlink_ifindex_cb, &ifindex);
	if (r == -ENODEV)
		return fail(nl, r, "%s '%s' does not exist", what, dev.name);
	if (r < 0)
		return fail(nl, r, "cannot look up %s '%s'", what, dev.name);
	return ifindex;
}

int nl_link_ifindex(struct nl *nl, const char *name)
{
	op_start(nl, false);
	return resolve(nl, NL_DEV(name), "device");
}

/* ---- links: changes ----------------------------------------------------------------------- */

/* Our enums and the kernel's numbers, each way; a number we do not know reads
 * as the entry at index 'fallback'. */
static const uint32_t addrgen_kernel[] = {
	[NL_ADDRGEN_KEEP] = UINT32_MAX, /* never sent, never read */
	[NL_ADDRGEN_EUI64] = IN6_ADDR_GEN_MODE_EUI64,
	[NL_ADDRGEN_NONE] = IN6_ADDR_GEN_MODE_NONE,
	[NL_ADDRGEN_STABLE_PRIVACY] = IN6_ADDR_GEN_MODE_STABLE_PRIVACY,
	[NL_ADDRGEN_RANDOM] = IN6_ADDR_GEN_MODE_RANDOM,
};

static const uint32_t macvlan_mode_kernel[] = {
	[NL_MACVLAN_BRIDGE] = MACVLAN_MODE_BRIDGE,
	[NL_MACVLAN_PRIVATE] = MACVLAN_MODE_PRIVATE,
	[NL_MACVLAN_VEPA] = MACVLAN_MODE_VEPA,
	[NL_MACVLAN_PASSTHRU] = MACVLAN_MODE_PASSTHRU,
};

static unsigned from_kernel(const uint32_t *table, size_t n, uint32_t v, unsigned fallback)
{
	for (size_t i = 0; i < n; i++)
		if (table[i] == v)
			return i;
	return fallback;
}

static bool is_macvlan_kind(const char *kind)
{
	return !strcmp(kind, "macvlan") || !strcmp(kind, "macvtap");
}

/* Starts an RTM_NEWLINK/RTM_DELLINK request naming an existing device. */
static struct nlmsghdr *link_request(struct nl *nl, uint16_t type, int ifindex, const char *name,
				     struct ifinfomsg **ret_ifi)
{
	struct nlmsghdr *nlh = msg_begin(nl, type, 0);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));

	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex > 0 ? ifindex : 0;
	if (ifindex <= 0)
		mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	if (ret_ifi)
		*ret_ifi = ifi;
	return nlh;
}

static void put_flags_up(struct ifinfomsg *ifi, bool up)
{
	ifi->ifi_change |= IFF_UP;
	if (up)
		ifi->ifi_flags |= IFF_UP;
	else
		ifi->ifi_flags &= ~IFF_UP;
}

static void put_addrgen(struct nlmsghdr *nlh, enum nl_addrgen g)
{
	struct nlattr *spec = mnl_attr_nest_start(nlh, IFLA_AF_SPEC);
	struct nlattr *in6 = mnl_attr_nest_start(nlh, AF_INET6);

	mnl_attr_put_u8(nlh, IFLA_INET6_ADDR_GEN_MODE, (uint8_t)addrgen_kernel[g]);
	mnl_attr_nest_end(nlh, in6);
	mnl_attr_nest_end(nlh, spec);
}

static void put_addr(struct nlmsghdr *nlh, uint16_t type4, uint16_t type6, const struct nl_addr *a)
{
	if (a->family == AF_INET)
		mnl_attr_put(nlh, type4, 4, a->bytes);
	else if (a->family == AF_INET6)
		mnl_attr_put(nlh, type6, 16, a->bytes);
}

static int check_link_spec(struct nl *nl, const struct nl_link_spec *s)
{
	int r;

	r = check_name(nl, s->name, "link");
	if (r < 0)
		return r;
	if (!s->kind || !*s->kind || strlen(s->kind) >= NL_KIND_MAX)
		return fail(nl, -EINVAL, "link kind is missing or too long");
	if (s->ifalias && strlen(s->ifalias) >= NL_IFALIAS_MAX)
		return fail(nl, -EINVAL, "ifalias is longer than %d bytes", NL_IFALIAS_MAX - 1);
	if (s->addrgen > NL_ADDRGEN_RANDOM)
		return fail(nl, -EINVAL, "unknown addrgen mode");

	if (!strcmp(s->kind, "veth")) {
		r = check_name(nl, s->peer.name, "peer");
		if (r < 0)
			return r;
		if (s->peer.in_netns && s->peer.netns_fd < 0)
			return fail(nl, -EBADF, "peer namespace fd is invalid");
	} else if (s->peer.name)
		return fail(nl, -EINVAL, "only a veth has a peer");

	if (!strcmp(s->kind, "vlan")) {
		if (s->vlan.id < 1 || s->vlan.id > 4094)
			return fail(nl, -EINVAL, "VLAN id %u is out of range 1..4094", s->vlan.id);
		if (s->vlan.protocol && s->vlan.protocol != ETH_P_8021Q &&
		    s->vlan.protocol != ETH_P_8021AD)
			return fail(nl, -EINVAL, "VLAN protocol must be 802.1Q or 802.1ad");
		if (!nl_dev_is_set(s->parent))
			return fail(nl, -EINVAL, "a vlan needs a parent device");
	}
	if (is_macvlan_kind(s->kind)) {
		if (s->macvlan.mode > NL_MACVLAN_PASSTHRU)
			return fail(nl, -EINVAL, "unknown macvlan mode");
		if (!nl_dev_is_set(s->parent))
			return fail(nl, -EINVAL, "a %s needs a parent device", s->kind);
	}
	if (!strcmp(s->kind, "vxlan")) {
		if (s->vxlan.vni >= 1u << 24)
			return fail(nl, -EINVAL, "VXLAN id %u is out of range 0..16777215",
				    s->vxlan.vni);
		if ((s->vxlan.remote.family && !family_len(s->vxlan.remote.family)) ||
		    (s->vxlan.local.family && !family_len(s->vxlan.local.family)))
			return fail(nl, -EINVAL, "VXLAN addresses must be IPv4 or IPv6");
		if (s->vxlan.remote.family && s->vxlan.local.family &&
		    s->vxlan.remote.family != s->vxlan.local.family)
			return fail(nl, -EINVAL,
				    "VXLAN remote and local must be of the same family");
	}
	return 0;
}

/* Appends the kind-specific IFLA_INFO_DATA. */
static void put_info_data(struct nlmsghdr *nlh, const struct nl_link_spec *s, int parent)
{
	struct nlattr *data, *peer;
	struct ifinfomsg *ifi;

	if (!strcmp(s->kind, "veth")) {
		data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
		peer = mnl_attr_nest_start(nlh, VETH_INFO_PEER);
		ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
		ifi->ifi_family = AF_UNSPEC;
		mnl_attr_put_strz(nlh, IFLA_IFNAME, s->peer.name);
		if (s->peer.in_netns)
			mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, (uint32_t)s->peer.netns_fd);
		if (s->peer.mtu || s->mtu)
			mnl_attr_put_u32(nlh, IFLA_MTU, s->peer.mtu ? s->peer.mtu : s->mtu);
		if (s->peer.mac)
			mnl_attr_put(nlh, IFLA_ADDRESS, ETH_ALEN, s->peer.mac);
		mnl_attr_nest_end(nlh, peer);
		mnl_attr_nest_end(nlh, data);
	} else if (!strcmp(s->kind, "bridge")) {
		data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
		/* A bridge that forwards at once: the namespaces it joins are ours, loops are
		 * not expected, and a 15 s listening delay would make every new link look dead. */
		if (!s->bridge.stp)
			mnl_attr_put_u32(nlh, IFLA_BR_FORWARD_DELAY, 0);
		mnl_attr_put_u32(nlh, IFLA_BR_STP_STATE, s->bridge.stp ? 1 : 0);
		if (s->bridge.vlan_filtering)
			mnl_attr_put_u8(nlh, IFLA_BR_VLAN_FILTERING, 1);
		mnl_attr_nest_end(nlh, data);
	} else if (!strcmp(s->kind, "vlan")) {
		data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
		mnl_attr_put_u16(nlh, IFLA_VLAN_ID, s->vlan.id);
		mnl_attr_put_u16(nlh, IFLA_VLAN_PROTOCOL,
				 htons(s->vlan.protocol ? s->vlan.protocol : ETH_P_8021Q));
		mnl_attr_nest_end(nlh, data);
	} else if (is_macvlan_kind(s->kind)) {
		data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
		mnl_attr_put_u32(nlh, IFLA_MACVLAN_MODE, macvlan_mode_kernel[s->macvlan.mode]);
		mnl_attr_nest_end(nlh, data);
	} else if (!strcmp(s->kind, "vxlan")) {
		data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
		mnl_attr_put_u32(nlh, IFLA_VXLAN_ID, s->vxlan.vni);
		put_addr(nlh, IFLA_VXLAN_GROUP, IFLA_VXLAN_GROUP6, &s->vxlan.remote);
		put_addr(nlh, IFLA_VXLAN_LOCAL, IFLA_VXLAN_LOCAL6, &s->vxlan.local);
		mnl_attr_put_u16(nlh, IFLA_VXLAN_PORT,
				 htons(s->vxlan.port ? s->vxlan.port : NL_VXLAN_PORT));
		if (parent > 0)
			mnl_attr_put_u32(nlh, IFLA_VXLAN_LINK, (uint32_t)parent);
		mnl_attr_nest_end(nlh, data);
	}
}

int nl_link_add(struct nl *nl, const struct nl_link_spec *s)
{
	bool follow = s->ifalias || s->addrgen != NL_ADDRGEN_KEEP;
	int master = 0, parent = 0, r;
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifi;
	struct nlattr *info;
	unsigned idx;

	op_start(nl, true);
	r = check_link_spec(nl, s);
	if (r < 0)
		return r;
	if (nl_dev_is_set(s->master)) {
		master = resolve(nl, s->master, "master");
		if (master < 0)
			return master;
	}
	if (nl_dev_is_set(s->parent)) {
		parent = resolve(nl, s->parent, "parent");
		if (parent < 0)
			return parent;
	}

	nlh = msg_begin(nl, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = s->ifindex > 0 ? s->ifindex : 0;
	if (s->up && !follow)
		put_flags_up(ifi, true);
	mnl_attr_put_strz(nlh, IFLA_IFNAME, s->name);
	if (s->mtu)
		mnl_attr_put_u32(nlh, IFLA_MTU, s->mtu);
	if (s->mac)
		mnl_attr_put(nlh, IFLA_ADDRESS, ETH_ALEN, s->mac);
	if (master > 0)
		mnl_attr_put_u32(nlh, IFLA_MASTER, (uint32_t)master);
	if (parent > 0 && strcmp(s->kind, "vxlan"))
		mnl_attr_put_u32(nlh, IFLA_LINK, (uint32_t)parent);
	info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, s->kind);
	put_info_data(nlh, s, parent);
	mnl_attr_nest_end(nlh, info);
	msg_queue(nl, nlh);
	if (!follow)
		return op_finish(nl);

	/* The follow-ups name the link by name, so they may only be sent once the creation
	 * is known to have succeeded: else they would change a same-named link that was there
	 * before. */
	idx = nl->nqueued - 1;
	(void)nl_flush(nl);
	r = nl->msg_err[idx];
	if (r < 0)
		return nl->batching ? 0 : r;

	nlh = link_request(nl, RTM_NEWLINK, 0, s->name, NULL);
	if (s->ifalias)
		mnl_attr_put_strz(nlh, IFLA_IFALIAS, s->ifalias);
	if (s->addrgen != NL_ADDRGEN_KEEP)
		put_addrgen(nlh, s->addrgen);
	msg_queue(nl, nlh);
	if (s->up) {
		/* Separate, because the kernel applies IFLA_AF_SPEC after the flags. */
		nlh = link_request(nl, RTM_NEWLINK, 0, s->name, &ifi);
		put_flags_up(ifi, true);
		msg_queue(nl, nlh);
	}
	if (nl->batching)
		return 0;

	r = nl_flush(nl);
	if (r < 0) {
		/* Keep the promise of all or nothing; the first failure stays the reported one. */
		msg_queue(nl, link_request(nl, RTM_DELLINK, 0, s->name, NULL));
		(void)nl_flush(nl);
	}
	return r;
}

int nl_link_del(struct nl *nl, struct nl_dev dev)
{
	int r;

	op_start(nl, true);
	if (dev.ifindex <= 0 && (r = check_name(nl, dev.name, "link")) < 0)
		return r;
	msg_queue(nl, link_request(nl, RTM_DELLINK, dev.ifindex, dev.name, NULL));
	return op_finish(nl);
}

int nl_link_set(struct nl *nl, struct nl_dev dev, const struct nl_link_change *c)
{
	bool up_later = c->addrgen != NL_ADDRGEN_KEEP && c->up == NL_ON;
	int ifindex = dev.ifindex > 0 ? dev.ifindex : 0, master = 0, r;
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifi;

	op_start(nl, true);
	if (!ifindex && (r = check_name(nl, dev.name, "link")) < 0)
		return r;
	if (c->rename && (r = check_name(nl, c->rename, "new")) < 0)
		return r;
	if (c->ifalias && strlen(c->ifalias) >= NL_IFALIAS_MAX)
		return fail(nl, -EINVAL, "ifalias is longer than %d bytes", NL_IFALIAS_MAX - 1);
	if (c->up > NL_OFF || c->addrgen > NL_ADDRGEN_RANDOM)
		return fail(nl, -EINVAL, "invalid up or addrgen value");
	if (nl_dev_is_set(c->master) && c->nomaster)
		return fail(nl, -EINVAL, "master and nomaster contradict each other");
	if (c->move_netns) {
		if (c->netns_fd < 0)
			return fail(nl, -EBADF, "target namespace fd is invalid");
		if (nl_dev_is_set(c->master))
			return fail(nl, -EINVAL,
				    "cannot attach to a master while moving to another namespace");
		if (up_later)
			return fail(nl, -EINVAL,
				    "cannot set addrgen and bring a link up while moving it");
	}

	/* A rename must name the device by ifindex: IFLA_IFNAME is then the new name. */
	if (c->rename && !ifindex) {
		ifindex = resolve(nl, dev, "link");
		if (ifindex < 0)
			return ifindex;
	}
	if (nl_dev_is_set(c->master)) {
		master = resolve(nl, c->master, "master");
		if (master < 0)
			return master;
	}

	nlh = link_request(nl, RTM_NEWLINK, ifindex, dev.name, &ifi);
	if (c->rename)
		mnl_attr_put_strz(nlh, IFLA_IFNAME, c->rename);
	if (c->move_netns)
		mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, (uint32_t)c->netns_fd);
	if (c->mac)
		mnl_attr_put(nlh, IFLA_ADDRESS, ETH_ALEN, c->mac);
	if (c->mtu)
		mnl_attr_put_u32(nlh, IFLA_MTU, c->mtu);
	if (c->ifalias)
		mnl_attr_put_strz(nlh, IFLA_IFALIAS, c->ifalias);
	if (c->up != NL_KEEP && !up_later)
		put_flags_up(ifi, c->up == NL_ON);
	if (master > 0 || c->nomaster)
		mnl_attr_put_u32(nlh, IFLA_MASTER, (uint32_t)master);
	if (c->addrgen != NL_ADDRGEN_KEEP)
		put_addrgen(nlh, c->addrgen);
	msg_queue(nl, nlh);

	if (up_later) {
		nlh =
		    link_request(nl, RTM_NEWLINK, ifindex, c->rename ? c->rename : dev.name, &ifi);
		put_flags_up(ifi, true);
		msg_queue(nl, nlh);
	}
	return op_finish(nl);
}

int nl_link_set_up(struct nl *nl, struct nl_dev dev, bool up)
{
	return nl_link_set(nl, dev, &(struct nl_link_change){ .up = up ? NL_ON : NL_OFF });
}

/* ---- links: reading ----------------------------------------------------------------------- */

static void copy_str(char *dst, size_t size, const struct nlattr *a)
{
	size_t n = mnl_attr_get_payload_len(a);
	const char *s = mnl_attr_get_payload(a);

	n = strnlen(s, n);
	if (n >= size)
		n = size - 1;
	memcpy(dst, s, n);
	dst[n] = '\0';
}

static bool attr_ok(const struct nlattr *a, size_t min)
{
	return mnl_attr_get_payload_len(a) >= min;
}

static void parse_info_data(const struct nlattr *data, struct nl_link_info *l)
{
	const struct nlattr *a;

	mnl_attr_for_each_nested(a, data) {
		uint16_t t = mnl_attr_get_type(a);

		if (!strcmp(l->kind, "vlan")) {
			if (t == IFLA_VLAN_ID && attr_ok(a, 2))
				l->vlan_id = mnl_attr_get_u16(a);
			else if (t == IFLA_VLAN_PROTOCOL && attr_ok(a, 2))
				l->vlan_protocol = ntohs(mnl_attr_get_u16(a));
		} else if (is_macvlan_kind(l->kind)) {
			if (t == IFLA_MACVLAN_MODE && attr_ok(a, 4))
				l->macvlan_mode = from_kernel(
				    macvlan_mode_kernel, ELEMENTSOF(macvlan_mode_kernel),
				    mnl_attr_get_u32(a), NL_MACVLAN_BRIDGE);
		} else if (!strcmp(l->kind, "vxlan")) {
			if (t == IFLA_VXLAN_ID && attr_ok(a, 4))
				l->vxlan_vni = mnl_attr_get_u32(a);
			else if (t == IFLA_VXLAN_PORT && attr_ok(a, 2))
				l->vxlan_port = ntohs(mnl_attr_get_u16(a));
			else if (t == IFLA_VXLAN_LINK && attr_ok(a, 4))
				l->vxlan_link = (int)mnl_attr_get_u32(a);
		} else if (!strcmp(l->kind, "bridge")) {
			if (t == IFLA_BR_VLAN_FILTERING && attr_ok(a, 1))
				l->bridge_vlan_filtering = mnl_attr_get_u8(a);
			else if (t == IFLA_BR_STP_STATE && attr_ok(a, 4))
				l->bridge_stp = mnl_attr_get_u32(a) != 0;
		}
	}
}

static int parse_link(const struct nlmsghdr *nlh, struct nl_link_info *l)
{
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *a, *b, *c;

	if ((nlh->nlmsg_type != RTM_NEWLINK && nlh->nlmsg_type != RTM_DELLINK) ||
	    mnl_nlmsg_get_payload_len(nlh) < sizeof(*ifi))
		return -EBADMSG;
	*l = (struct nl_link_info){
		.ifindex = ifi->ifi_index,
		.flags = ifi->ifi_flags,
		.up = ifi->ifi_flags & IFF_UP,
		.carrier = ifi->ifi_flags & NL_IFF_LOWER_UP,
		.link_netnsid = -1,
	};

	/* The kind first: the kind data is read according to it. */
	mnl_attr_for_each(a, nlh, sizeof(*ifi)) {
		if (mnl_attr_get_type(a) != IFLA_LINKINFO)
			continue;
		mnl_attr_for_each_nested(b, a) {
			if (mnl_attr_get_type(b) == IFLA_INFO_KIND)
				copy_str(l->kind, sizeof(l->kind), b);
			else if (mnl_attr_get_type(b) == IFLA_INFO_SLAVE_KIND)
				copy_str(l->slave_kind, sizeof(l->slave_kind), b);
		}
		mnl_attr_for_each_nested(b, a)
			if (mnl_attr_get_type(b) == IFLA_INFO_DATA)
				parse_info_data(b, l);
	}

	mnl_attr_for_each(a, nlh, sizeof(*ifi)) {
		switch (mnl_attr_get_type(a)) {
		case IFLA_IFNAME:
			copy_str(l->name, sizeof(l->name), a);
			break;
		case IFLA_MTU:
			if (attr_ok(a, 4))
				l->mtu = mnl_attr_get_u32(a);
			break;
		case IFLA_ADDRESS:
			l->mac_len = mnl_attr_get_payload_len(a);
			if (l->mac_len > sizeof(l->mac))
				l->mac_len = sizeof(l->mac);
			memcpy(l->mac, mnl_attr_get_payload(a), l->mac_len);
			break;
		case IFLA_OPERSTATE:
			if (attr_ok(a, 1))
				l->operstate = mnl_attr_get_u8(a);
			break;
		case IFLA_MASTER:
			if (attr_ok(a, 4))
				l->master_ifindex = (int)mnl_attr_get_u32(a);
			break;
		case IFLA_IFALIAS:
			copy_str(l->ifalias, sizeof(l->ifalias), a);
			break;
		case IFLA_LINK:
			if (attr_ok(a, 4))
				l->link_ifindex = (int)mnl_attr_get_u32(a);
			break;
		case IFLA_LINK_NETNSID:
			if (attr_ok(a, 4))
				l->link_netnsid = (int)mnl_attr_get_u32(a);
			break;
		case IFLA_AF_SPEC:
			mnl_attr_for_each_nested(b, a) {
				if (mnl_attr_get_type(b) != AF_INET6)
					continue;
				mnl_attr_for_each_nested(c, b)
					if (mnl_attr_get_type(c) == IFLA_INET6_ADDR_GEN_MODE &&
					    attr_ok(c, 1))
						l->addrgen = from_kernel(
						    addrgen_kernel, ELEMENTSOF(addrgen_kernel),
						    mnl_attr_get_u8(c), NL_ADDRGEN_KEEP);
			}
			break;
		}
	}
	return 0;
}

int nl_msg_link(const struct nlmsghdr *nlh, struct nl_link_info *ret)
{
	return parse_link(nlh, ret);
}

static int link_get_cb(const struct nlmsghdr *nlh, void *data)
{
	return parse_link(nlh, data);
}

/* A growing array of dump results. */
struct vec {
	void *items;
	size_t n, cap, size;
};

static void *vec_push(struct vec *v)
{
	if (v->n == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 16;
		void *p = realloc(v->items, cap * v->size);

		if (!p)
			return NULL;
		v->items = p;
		v->cap = cap;
	}
	return memset((char *)v->items + v->n++ * v->size, 0, v->size);
}

static int link_dump_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nl_link_info *l = vec_push(data);

	if (!l)
		return -ENOMEM;
	return parse_link(nlh, l);
}

static int cmp_ifindex(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

static const struct nl_link_info *find_link(const struct nl_link_info *links, size_t n, int ifindex)
{
	return bsearch(&ifindex, links, n, sizeof(*links), cmp_ifindex);
}

/* Dumps all links, sorted by ifindex, with master and link names filled in. */
static int link_dump(struct nl *nl, struct nl_link_info **ret)
{
	struct vec v = { .size = sizeof(struct nl_link_info) };
	struct nl_link_info *links;
	int r = -EAGAIN;

	(void)nl_flush(nl);
	for (int try = 0; try < NL_DUMP_TRIES && r == -EAGAIN; try++) {
		struct nlmsghdr *nlh = msg_begin(nl, RTM_GETLINK, NLM_F_DUMP);
		struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));

		ifi->ifi_family = AF_UNSPEC;
		mnl_attr_put_u32(nlh, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
		v.n = 0;
		r = nl_query(nl, nlh, link_dump_cb, &v);
	}
	if (r < 0) {
		free(v.items);
		return r;
	}

	links = v.items;
	qsort(links, v.n, sizeof(*links), cmp_ifindex);
	for (size_t i = 0; i < v.n; i++) {
		const struct nl_link_info *o;

		if (links[i].master_ifindex > 0 &&
		    (o = find_link(links, v.n, links[i].master_ifindex)))
			memcpy(links[i].master, o->name, NL_IFNAMSIZ);
		if (links[i].link_ifindex > 0 && links[i].link_netnsid < 0 &&
		    (o = find_link(links, v.n, links[i].link_ifindex)))
			memcpy(links[i].link_name, o->name, NL_IFNAMSIZ);
	}
	*ret = v.n ? links : (free(links), NULL);
	return (int)v.n;
}

int nl_link_list(struct nl *nl, struct nl_link_info **ret)
{
	op_start(nl, false);
	return link_dump(nl, ret);
}

/* Reads the name of ifindex into name (NL_IFNAMSIZ), or leaves it empty. */
static void name_of(struct nl *nl, int ifindex, char *name)
{
	struct nl_link_info other;

	if (nl_query(nl, getlink_request(nl, ifindex, NULL), link_get_cb, &other) >= 0)
		memcpy(name, other.name, NL_IFNAMSIZ);
}

int nl_link_get(struct nl *nl, struct nl_dev dev, struct nl_link_info *ret)
{
	struct nl_link_info l;
	int r;

	op_start(nl, false);
	if (dev.ifindex <= 0 && (r = check_name(nl, dev.name, "link")) < 0)
		return r;
	(void)nl_flush(nl);
	r = nl_query(nl, getlink_request(nl, dev.ifindex, dev.name), link_get_cb, &l);
	if (r == -ENODEV && dev.ifindex > 0)
		return fail(nl, r, "link with ifindex %d does not exist", dev.ifindex);
	if (r == -ENODEV)
		return fail(nl, r, "link '%s' does not exist", dev.name);
	if (r < 0)
		return r;
	if (l.master_ifindex > 0)
		name_of(nl, l.master_ifindex, l.master);
	if (l.link_ifindex > 0 && l.link_netnsid < 0)
		name_of(nl, l.link_ifindex, l.link_name);
	*ret = l;
	return 0;
}

/* ---- addresses ---------------------------------------------------------------------------- */

static int check_prefix(struct nl *nl, const struct nl_prefix *p)
{
	if (!family_len(p->family) || p->prefixlen > family_bits(p->family))
		return fail(nl, -EINVAL, "address family or prefix length is invalid");
	return 0;
}

static int addr_change(struct nl *nl, uint16_t type, struct nl_dev dev, const struct nl_prefix *p,
		       unsigned flags)
{
	struct nlmsghdr *nlh;
	struct ifaddrmsg *ifa;
	size_t alen;
	int ifindex, r;

	op_start(nl, true);
	r = check_prefix(nl, p);
	if (r < 0)
		return r;
	ifindex = resolve(nl, dev, "device");
	if (ifindex < 0)
		return ifindex;
	alen = family_len(p->family);

	nlh = msg_begin(nl, type, type == RTM_NEWADDR ? NLM_F_CREATE | NLM_F_EXCL : 0);
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = (uint8_t)p->family;
	ifa->ifa_prefixlen = (uint8_t)p->prefixlen;
	ifa->ifa_index = (uint32_t)ifindex;
	/* As ip(8) does: 127.0.0.0/8 is host scope; the kernel derives IPv6 scopes itself. */
	ifa->ifa_scope =
	    p->family == AF_INET && p->bytes[0] == 127 ? RT_SCOPE_HOST : RT_SCOPE_UNIVERSE;
	mnl_attr_put(nlh, IFA_LOCAL, alen, p->bytes);
	mnl_attr_put(nlh, IFA_ADDRESS, alen, p->bytes);
	if (type == RTM_NEWADDR) {
		uint32_t f = 0;

		if (p->family == AF_INET && p->prefixlen <= 30) {
			struct in_addr brd = p->in;
			uint32_t host = p->prefixlen ? 0xffffffffu >> p->prefixlen : 0xffffffffu;

			brd.s_addr |= htonl(host);
			mnl_attr_put(nlh, IFA_BROADCAST, 4, &brd);
		}
		if (flags & NL_ADDR_NODAD)
			f |= IFA_F_NODAD;
		if (flags & NL_ADDR_NOPREFIXROUTE)
			f |= IFA_F_NOPREFIXROUTE;
		if (f) {
			ifa->ifa_flags = (uint8_t)(f & 0xff);
			mnl_attr_put_u32(nlh, IFA_FLAGS, f);
		}
	}
	msg_queue(nl, nlh);
	return op_finish(nl);
}

int nl_addr_add(struct nl *nl, struct nl_dev dev, const struct nl_prefix *p, unsigned flags)
{
	return addr_change(nl, RTM_NEWADDR, dev, p, flags);
}

int nl_addr_del(struct nl *nl, struct nl_dev dev, const struct nl_prefix *p)
{
	return addr_change(nl, RTM_DELADDR, dev, p, 0);
}

struct addr_dump {
	struct vec v;
	int family, ifindex;
};

/* Parses an RTM_NEWADDR/RTM_DELADDR message (dev is left empty). */
static int parse_addr(const struct nlmsghdr *nlh, struct nl_addr_info *ai)
{
	const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *a, *local = NULL, *address = NULL;
	size_t alen;

	if ((nlh->nlmsg_type != RTM_NEWADDR && nlh->nlmsg_type != RTM_DELADDR) ||
	    mnl_nlmsg_get_payload_len(nlh) < sizeof(*ifa))
		return -EBADMSG;
	alen = family_len(ifa->ifa_family);
	if (!alen)
		return -EAFNOSUPPORT;
	memset(ai, 0, sizeof(*ai));
	ai->ifindex = (int)ifa->ifa_index;
	ai->prefix.family = ifa->ifa_family;
	ai->prefix.prefixlen = ifa->ifa_prefixlen;
	ai->scope = ifa->ifa_scope;
	ai->flags = ifa->ifa_flags;
	mnl_attr_for_each(a, nlh, sizeof(*ifa)) {
		switch (mnl_attr_get_type(a)) {
		case IFA_LOCAL:
			local = a;
			break;
		case IFA_ADDRESS:
			address = a;
			break;
		case IFA_FLAGS:
			if (attr_ok(a, 4))
				ai->flags = mnl_attr_get_u32(a);
			break;
		}
	}
	/* IFA_ADDRESS is the peer on point-to-point links; IFA_LOCAL, when present, is ours. */
	a = local ? local : address;
	if (a && attr_ok(a, alen))
		memcpy(ai->prefix.bytes, mnl_attr_get_payload(a), alen);
	nl_format_addr(ai->prefix.family, ai->prefix.bytes, ai->address);
	return 0;
}

int nl_msg_addr(const struct nlmsghdr *nlh, struct nl_addr_info *ret)
{
	return parse_addr(nlh, ret);
}

static int addr_dump_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
	struct addr_dump *d = data;
	struct nl_addr_info tmp, *ai;
	int r;

	r = parse_addr(nlh, &tmp);
	if (r == -EAFNOSUPPORT)
		return 0;
	if (r < 0)
		return r;
	if ((d->family && ifa->ifa_family != d->family) ||
	    (d->ifindex > 0 && (int)ifa->ifa_index != d->ifindex))
		return 0;
	ai = vec_push(&d->v);
	if (!ai)
		return -ENOMEM;
	*ai = tmp;
	return 0;
}

int nl_addr_list(struct nl *nl, int family, struct nl_dev dev, struct nl_addr_info **ret)
{
	struct addr_dump d = { .v.size = sizeof(struct nl_addr_info), .family = family };
	struct nl_link_info *links = NULL;
	struct nl_addr_info *addrs;
	int nlinks, r = -EAGAIN;

	op_start(nl, false);
	if (family != AF_UNSPEC && !family_len(family))
		return fail(nl, -EAFNOSUPPORT, "address family must be IPv4, IPv6 or both");
	if (nl_dev_is_set(dev)) {
		d.ifindex = resolve(nl, dev, "device");
		if (d.ifindex < 0)
			return d.ifindex;
	}
	(void)nl_flush(nl);
	for (int try = 0; try < NL_DUMP_TRIES && r == -EAGAIN; try++) {
		struct nlmsghdr *nlh = msg_begin(nl, RTM_GETADDR, NLM_F_DUMP);
		struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));

		ifa->ifa_family = (uint8_t)family;
		ifa->ifa_index = (uint32_t)(d.ifindex > 0 ? d.ifindex : 0);
		d.v.n = 0;
		r = nl_query(nl, nlh, addr_dump_cb, &d);
	}
	if (r < 0)
		goto fail;

	/* Device names: IFA_LABEL is only there for IPv4 and may be an old-style label. */
	nlinks = link_dump(nl, &links);
	if (nlinks < 0) {
		r = nlinks;
		goto fail;
	}
	addrs = d.v.items;
	for (size_t i = 0; i < d.v.n; i++) {
		const struct nl_link_info *l = find_link(links, (size_t)nlinks, addrs[i].ifindex);

		if (l)
			memcpy(addrs[i].dev, l->name, NL_IFNAMSIZ);
	}
	free(links);
	*ret = d.v.n ? addrs : (free(addrs), NULL);
	return (int)d.v.n;

fail:
	free(d.v.items);
	return r;
}

/* ---- routes ------------------------------------------------------------------------------- */

static int route_change(struct nl *nl, uint16_t type, const struct nl_route_spec *rs)
{
	int family = rs->dst.family ? rs->dst.family : rs->gateway.family;
	uint32_t table = rs->table ? rs->table : NL_TABLE_MAIN;
	struct nl_prefix dst = rs->dst;
	struct nlmsghdr *nlh;
	struct rtmsg *rtm;
	int ifindex = 0;

	op_start(nl, true);
	if (!family_len(family))
		return fail(nl, -EINVAL,
			    "route family is unknown: give a destination or a gateway");
	if (rs->dst.family && rs->dst.prefixlen > family_bits(family))
		return fail(nl, -EINVAL, "route prefix length is invalid");
	if (rs->gateway.family && rs->gateway.family != family)
		return fail(nl, -EINVAL, "gateway and destination are of different families");
	if (!rs->dst.family) {
		dst = (struct nl_prefix){ .family = family };
	}
	if (nl_prefix_has_host_bits(&dst))
		return fail(nl, -EINVAL, "route destination has bits set beyond its prefix length");
	if (table == RT_TABLE_UNSPEC || table == NL_TABLE_ALL)
		return fail(nl, -EINVAL, "route table %u is reserved", table);
	if (type == RTM_NEWROUTE &&
	    (rs->type == RTN_LOCAL || rs->type == RTN_BROADCAST || rs->type == RTN_MULTICAST ||
	     rs->type == RTN_ANYCAST || rs->type > RTN_MAX))
		return fail(nl, -EINVAL, "route type %u is not supported", rs->type);
	if (nl_dev_is_set(rs->dev)) {
		ifindex = resolve(nl, rs->dev, "device");
		if (ifindex < 0)
			return ifindex;
	}

	nlh = msg_begin(
	    nl, type,
	    type == RTM_NEWROUTE ? (NLM_F_CREATE | (rs->replace ? NLM_F_REPLACE : NLM_F_EXCL)) : 0);
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = (uint8_t)family;
	rtm->rtm_dst_len = (uint8_t)dst.prefixlen;
	rtm->rtm_table = table < 256 ? (uint8_t)table : RT_TABLE_UNSPEC;
	if (type == RTM_NEWROUTE) {
		rtm->rtm_protocol = rs->protocol ? rs->protocol : RTPROT_STATIC;
		rtm->rtm_type = rs->type ? rs->type : RTN_UNICAST;
		/* As ip(8) does: an IPv4 unicast route without a gateway is on the link. */
		rtm->rtm_scope =
		    family == AF_INET && rtm->rtm_type == RTN_UNICAST && !rs->gateway.family
			? RT_SCOPE_LINK
			: RT_SCOPE_UNIVERSE;
	} else {
		/* Match any protocol and scope; the type only when given. */
		rtm->rtm_scope = RT_SCOPE_NOWHERE;
		rtm->rtm_type = rs->type;
	}
	if (dst.prefixlen > 0)
		mnl_attr_put(nlh, RTA_DST, family_len(family), dst.bytes);
	if (rs->gateway.family)
		mnl_attr_put(nlh, RTA_GATEWAY, family_len(family), rs->gateway.bytes);
	if (ifindex > 0)
		mnl_attr_put_u32(nlh, RTA_OIF, (uint32_t)ifindex);
	if (rs->metric)
		mnl_attr_put_u32(nlh, RTA_PRIORITY, rs->metric);
	mnl_attr_put_u32(nlh, RTA_TABLE, table);
	msg_queue(nl, nlh);
	return op_finish(nl);
}

int nl_route_add(struct nl *nl, const struct nl_route_spec *r)
{
	return route_change(nl, RTM_NEWROUTE, r);
}

int nl_route_del(struct nl *nl, const struct nl_route_spec *r)
{
	return route_change(nl, RTM_DELROUTE, r);
}

struct route_dump {
	struct vec v;
	int family;
	uint32_t table;
};

/* Parses an RTM_NEWROUTE/RTM_DELROUTE message (dev is left empty); -EAGAIN for clones. */
static int parse_route(const struct nlmsghdr *nlh, struct nl_route_info *ri)
{
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *a, *b;
	struct nl_route_info tmp = {};
	size_t alen;

	if ((nlh->nlmsg_type != RTM_NEWROUTE && nlh->nlmsg_type != RTM_DELROUTE) ||
	    mnl_nlmsg_get_payload_len(nlh) < sizeof(*rtm))
		return -EBADMSG;
	alen = family_len(rtm->rtm_family);
	if (!alen)
		return -EAFNOSUPPORT;
	if (rtm->rtm_flags & RTM_F_CLONED)
		return -EAGAIN;

	tmp.dst.family = rtm->rtm_family;
	tmp.dst.prefixlen = rtm->rtm_dst_len;
	tmp.table = rtm->rtm_table;
	tmp.type = rtm->rtm_type;
	tmp.protocol = rtm->rtm_protocol;
	tmp.scope = rtm->rtm_scope;
	mnl_attr_for_each(a, nlh, sizeof(*rtm)) {
		switch (mnl_attr_get_type(a)) {
		case RTA_DST:
			if (attr_ok(a, alen))
				memcpy(tmp.dst.bytes, mnl_attr_get_payload(a), alen);
			break;
		case RTA_GATEWAY:
			if (attr_ok(a, alen)) {
				tmp.gateway.family = rtm->rtm_family;
				memcpy(tmp.gateway.bytes, mnl_attr_get_payload(a), alen);
			}
			break;
		case RTA_OIF:
			if (attr_ok(a, 4))
				tmp.ifindex = (int)mnl_attr_get_u32(a);
			break;
		case RTA_PRIORITY:
			if (attr_ok(a, 4))
				tmp.metric = mnl_attr_get_u32(a);
			break;
		case RTA_TABLE:
			if (attr_ok(a, 4))
				tmp.table = mnl_attr_get_u32(a);
			break;
		case RTA_MULTIPATH: {
			const struct rtnexthop *nh = mnl_attr_get_payload(a);
			size_t len = mnl_attr_get_payload_len(a);

			if (len < sizeof(*nh) || nh->rtnh_len < sizeof(*nh) || nh->rtnh_len > len ||
			    tmp.ifindex)
				break;
			tmp.ifindex = nh->rtnh_ifindex;
			len = nh->rtnh_len - RTNH_LENGTH(0);
			for (b = (const struct nlattr *)((const uint8_t *)nh + RTNH_LENGTH(0));
			     mnl_attr_ok(b, (int)len); b = mnl_attr_next(b)) {
				len -= (size_t)MNL_ALIGN(b->nla_len) < len
					   ? (size_t)MNL_ALIGN(b->nla_len)
					   : len;
				if (mnl_attr_get_type(b) == RTA_GATEWAY && attr_ok(b, alen)) {
					tmp.gateway.family = rtm->rtm_family;
					memcpy(tmp.gateway.bytes, mnl_attr_get_payload(b), alen);
				}
			}
			break;
		}
		}
	}

	*ri = tmp;
	nl_format_addr(ri->dst.family, ri->dst.bytes, ri->dst_str);
	if (ri->gateway.family)
		nl_format_addr(ri->gateway.family, ri->gateway.bytes, ri->gateway_str);
	return 0;
}

int nl_msg_route(const struct nlmsghdr *nlh, struct nl_route_info *ret)
{
	return parse_route(nlh, ret);
}

static int route_dump_cb(const struct nlmsghdr *nlh, void *data)
{
	struct route_dump *d = data;
	struct nl_route_info tmp, *ri;
	int r;

	r = parse_route(nlh, &tmp);
	if (r == -EAFNOSUPPORT || r == -EAGAIN)
		return 0;
	if (r < 0)
		return r;
	if (d->family && tmp.dst.family != d->family)
		return 0;
	if (d->table == 0 ? tmp.table == NL_TABLE_LOCAL
			  : d->table != NL_TABLE_ALL && tmp.table != d->table)
		return 0;
	ri = vec_push(&d->v);
	if (!ri)
		return -ENOMEM;
	*ri = tmp;
	return 0;
}

int nl_route_list(struct nl *nl, int family, uint32_t table, struct nl_route_info **ret)
{
	struct route_dump d = { .v.size = sizeof(struct nl_route_info),
				.family = family,
				.table = table };
	struct nl_link_info *links = NULL;
	struct nl_route_info *routes;
	int nlinks, r = -EAGAIN;

	op_start(nl, false);
	if (family != AF_UNSPEC && !family_len(family))
		return fail(nl, -EAFNOSUPPORT, "route family must be IPv4, IPv6 or both");
	(void)nl_flush(nl);
	for (int try = 0; try < NL_DUMP_TRIES && r == -EAGAIN; try++) {
		struct nlmsghdr *nlh = msg_begin(nl, RTM_GETROUTE, NLM_F_DUMP);
		struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));

		rtm->rtm_family = (uint8_t)family;
		/* Let the kernel filter one table; the callback filters again regardless. */
		if (table != 0 && table != NL_TABLE_ALL) {
			rtm->rtm_table = table < 256 ? (uint8_t)table : RT_TABLE_UNSPEC;
			mnl_attr_put_u32(nlh, RTA_TABLE, table);
		}
		d.v.n = 0;
		r = nl_query(nl, nlh, route_dump_cb, &d);
	}
	if (r < 0)
		goto fail;

	nlinks = link_dump(nl, &links);
	if (nlinks < 0) {
		r = nlinks;
		goto fail;
	}
	routes = d.v.items;
	for (size_t i = 0; i < d.v.n; i++) {
		const struct nl_link_info *l;

		if (routes[i].ifindex > 0 &&
		    (l = find_link(links, (size_t)nlinks, routes[i].ifindex)))
			memcpy(routes[i].dev, l->name, NL_IFNAMSIZ);
	}
	free(links);
	*ret = d.v.n ? routes : (free(routes), NULL);
	return (int)d.v.n;

fail:
	free(d.v.items);
	return r;
}

/* ---- namespace ids ------------------------------------------------------------------------ */

static struct nlmsghdr *nsid_request(struct nl *nl, uint16_t type, int netns_fd)
{
	struct nlmsghdr *nlh = msg_begin(nl, type, 0);
	struct rtgenmsg *g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));

	g->rtgen_family = AF_UNSPEC;
	mnl_attr_put_u32(nlh, NETNSA_FD, (uint32_t)netns_fd);
	return nlh;
}

static int nsid_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *a;

	if (nlh->nlmsg_type != RTM_NEWNSID)
		return -EBADMSG;
	*(int *)data = -1;
	mnl_attr_for_each(a, nlh, sizeof(struct rtgenmsg))
		if (mnl_attr_get_type(a) == NETNSA_NSID && attr_ok(a, 4))
			*(int *)data = (int)mnl_attr_get_u32(a);
	return 0;
}

static int nsid_get(struct nl *nl, int netns_fd, int *ret_nsid)
{
	int nsid = -1, r;

	(void)nl_flush(nl);
	r = nl_query(nl, nsid_request(nl, RTM_GETNSID, netns_fd), nsid_cb, &nsid);
	if (r < 0)
		return r;
	*ret_nsid = nsid < 0 ? -1 : nsid;
	return 0;
}

int nl_nsid_get(struct nl *nl, int netns_fd, int *ret_nsid)
{
	op_start(nl, false);
	if (netns_fd < 0)
		return fail(nl, -EBADF, "namespace fd is invalid");
	return nsid_get(nl, netns_fd, ret_nsid);
}

int nl_nsid_set(struct nl *nl, int netns_fd, int nsid)
{
	struct nlmsghdr *nlh;
	int r;

	op_start(nl, true);
	if (netns_fd < 0)
		return fail(nl, -EBADF, "namespace fd is invalid");
	nlh = nsid_request(nl, RTM_NEWNSID, netns_fd);
	mnl_attr_put_u32(nlh, NETNSA_NSID, (uint32_t)(nsid < 0 ? -1 : nsid));
	msg_queue(nl, nlh);
	r = op_finish(nl);
	if (r < 0 || nl->batching)
		return r;
	if (nsid >= 0)
		return nsid;
	r = nsid_get(nl, netns_fd, &nsid);
	return r < 0 ? r : nsid;
}

/* ---- requests, for kernel modules built on this one --------------------------------------- */

static_assert(NL_OP_MSG_MAX == NL_MSG_MAX, "NL_OP_MSG_MAX");

void nl_op_start(struct nl *nl, bool changing)
{
	op_start(nl, changing);
}

int nl_op_fail(struct nl *nl, int err, const char *fmt, ...)
{
	char msg[sizeof(nl->errmsg)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (!nl->batching)
		nl->first_err = 0; /* a better reason than the kernel's for this operation */
	return fail(nl, err, "%s", msg);
}

int nl_op_ifindex(struct nl *nl, struct nl_dev dev, const char *what)
{
	return resolve(nl, dev, what);
}

struct nlmsghdr *nl_op_msg(struct nl *nl, uint16_t type, uint16_t flags)
{
	return msg_begin(nl, type, flags);
}

int nl_op_send(struct nl *nl, struct nlmsghdr *nlh)
{
	msg_queue(nl, nlh);
	return op_finish(nl);
}

struct nlmsghdr *nl_op_query_msg(struct nl *nl, uint16_t type, uint16_t flags)
{
	(void)nl_flush(nl);
	return msg_begin(nl, type, flags);
}

int nl_op_query(struct nl *nl, struct nlmsghdr *nlh,
		int (*cb)(const struct nlmsghdr *nlh, void *data), void *data)
{
	return nl_query(nl, nlh, cb, data);
}
