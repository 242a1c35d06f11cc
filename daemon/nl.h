/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * nl: the rtnetlink kernel layer of netnsd.
 *
 * A struct nl is one NETLINK_ROUTE socket bound to one network namespace: the namespace the
 * socket was created in. Every operation on the handle acts in that namespace, whatever
 * namespace the calling thread is in. Opening a handle for another namespace switches the
 * calling thread into it for the socket() call only and switches back at once.
 *
 * This module knows nothing of JSON or RPC. Every function returns 0 (or a non-negative
 * count or id) on success and -errno on failure; ret_* parameters are written only on
 * success. When a call fails, nl_last_error() says why in words: the kernel's extended ack
 * message when it gave one, or this module's own reason for refusing the request before it
 * reached the kernel.
 *
 * Requests are synchronous: a call sends its request(s) and reads the answer before it
 * returns. Netlink to the local kernel answers within the send, so this does not stall the
 * loop in practice; a receive timeout (NL_TIMEOUT_MS) bounds the wait regardless.
 * For many changes in a row use a batch (nl_batch_begin()/nl_batch_end()): changes are
 * queued and sent many to one sendmsg(), and only failures are read back.
 *
 * Devices are named by a struct nl_dev: by ifindex when it is > 0, else by name. Operations
 * that the kernel can address by name (link set/delete) pass the name through; those that
 * need an ifindex (addresses, routes, master, parent, rename) look the name up first with one
 * RTM_GETLINK round trip. Callers that know the ifindex save that round trip.
 */

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct nl;

/* The longest a call waits for the kernel's answer. */
#define NL_TIMEOUT_MS 5000

/* Sizes of the text and byte fields in the structures below, including the terminating NUL.
 * (Spelled out so that this header needs neither <net/if.h> nor <linux/if.h>, which clash.) */
#define NL_IFNAMSIZ    16 /* IFNAMSIZ */
#define NL_ETH_ALEN    6  /* ETH_ALEN */
#define NL_ADDRSTRLEN  46 /* INET6_ADDRSTRLEN */
#define NL_KIND_MAX    32
#define NL_IFALIAS_MAX 256 /* IFALIASZ */
#define NL_HWADDR_MAX  32  /* MAX_ADDR_LEN */
#define NL_MACSTRLEN   (NL_HWADDR_MAX * 3)

/* ---- pure helpers (no kernel access) ------------------------------------------------------ */

/* An IPv4 or IPv6 address. family is AF_INET, AF_INET6, or 0 for "none". */
struct nl_addr {
	int family;
	union {
		struct in_addr in;
		struct in6_addr in6;
		uint8_t bytes[16];
	};
};

/* An address with a prefix length: "10.0.0.1/24", "fd00::/64". */
struct nl_prefix {
	int family;
	union {
		struct in_addr in;
		struct in6_addr in6;
		uint8_t bytes[16];
	};
	unsigned prefixlen;
};

/*
 * Parses a numeric IPv4 ("10.0.0.1") or IPv6 ("fd00::1") address, strictly: no surrounding
 * whitespace, no zone ("%eth0"), no leading zeros in IPv4 octets. Returns 0 or -EINVAL.
 */
int nl_parse_addr(const char *s, struct nl_addr *ret);

/*
 * Parses "ADDRESS/LEN" ("10.0.0.1/24", "fd00::1/64"). A plain address means a host prefix
 * (/32, /128). LEN is decimal without sign or leading zeros and at most 32 or 128. Host
 * bits may be set (an interface address); see nl_prefix_has_host_bits() for routes.
 * "default" is not a prefix: callers map it to prefixlen 0 themselves. Returns 0 or -EINVAL.
 */
int nl_parse_cidr(const char *s, struct nl_prefix *ret);

/* Returns true if bits beyond prefixlen are set ("10.0.0.1/24"): the kernel refuses such
 * a route destination. */
bool nl_prefix_has_host_bits(const struct nl_prefix *p);

/* Clears the bits beyond prefixlen ("10.0.0.1/24" becomes "10.0.0.0/24"). */
void nl_prefix_mask(struct nl_prefix *p);

/* Formats an address of family AF_INET or AF_INET6 into buf; returns buf ("" on a bad family). */
const char *nl_format_addr(int family, const void *bytes, char buf[static NL_ADDRSTRLEN]);

/* Parses "aa:bb:cc:dd:ee:ff" (hex digits, either case, exactly six octets). Returns 0 or
 * -EINVAL. Multicast addresses are refused (-EINVAL): no device may carry one. */
int nl_parse_mac(const char *s, uint8_t ret[static NL_ETH_ALEN]);

/* Formats len bytes of a hardware address as "aa:bb:..."; returns buf. */
const char *nl_format_mac(const uint8_t *mac, size_t len, char buf[static NL_MACSTRLEN]);

/* Every call below checks interface names with util.h's ifname_valid() (the kernel's rules). */

/* ---- handle ------------------------------------------------------------------------------- */

/*
 * Opens a handle in the namespace netns_fd refers to, or in the calling thread's current
 * namespace when netns_fd < 0. host_fd is the namespace the thread must be in afterwards
 * (usually the daemon's own, opened once at start); it is only used when netns_fd >= 0.
 * The thread is switched back to host_fd on every path; if that ever fails the process
 * aborts, because continuing in the wrong namespace would silently act on the wrong one.
 * The fds are only borrowed. The socket is close-on-exec. Returns 0 or -errno.
 */
int nl_open(int netns_fd, int host_fd, struct nl **ret);

/* Closes the handle (sending nothing still queued). Accepts NULL. */
void nl_close(struct nl *nl);


/*
 * The reason for the most recent failure on this handle: the kernel's extended ack message
 * ("Unknown device type"), or this module's own ("interface name 'x' is invalid"), or NULL
 * when the kernel gave no text (then strerror() of the returned error is all there is).
 * Valid until the next call on the handle. Calls that succeed clear it, except inside a
 * batch, where it describes the batch's first failure.
 */
const char *nl_last_error(const struct nl *nl);

/* ---- batches ------------------------------------------------------------------------------ */

/*
 * Starts a batch. Until nl_batch_end(), every changing call (nl_link_add/del/set*,
 * nl_addr_add/del, nl_route_add/del, nl_nsid_set) only queues its request(s) and returns 0,
 * or returns an error at once if it refuses the request locally (bad name, device lookup
 * failed). Queued requests go to the kernel many per sendmsg(), whenever the buffer fills
 * and at nl_batch_end(). Each changing call gets the next operation index, 0, 1, 2..., in
 * call order, whether or not it was queued.
 *
 * A batch is not a transaction: the kernel executes every queued request, in order, even
 * after one failed, so a request that depends on an earlier one (set up a link that failed
 * to be created) fails as well, or worse acts on an object of the same name that already
 * existed; callers that need "stop at first error" use one call at a time. Calls that read
 * (lists, gets, device-name lookups) first send what is queued, so they see its effect.
 * Returns 0, or -EBUSY if a batch is already open.
 */
int nl_batch_begin(struct nl *nl);

/*
 * Sends what is still queued and ends the batch. Returns 0 if every queued request
 * succeeded, else the first failure's -errno; then *failed_op (if not NULL) receives that
 * operation's index and nl_last_error() its reason. Undoing the operations that did
 * succeed is the caller's job. Returns -EINVAL if no batch is open.
 */
int nl_batch_end(struct nl *nl, size_t *failed_op);

/* ---- links -------------------------------------------------------------------------------- */

/* A device: by ifindex when ifindex > 0, else by name. */
struct nl_dev {
	int ifindex;
	const char *name;
};

#define NL_DEV(n)     ((struct nl_dev){ .name = (n) })
#define NL_IFINDEX(i) ((struct nl_dev){ .ifindex = (i) })

static inline bool nl_dev_is_set(struct nl_dev d)
{
	return d.ifindex > 0 || d.name;
}

/* IPv6 link-local address generation (IFLA_INET6_ADDR_GEN_MODE). KEEP leaves it alone;
 * NONE means the link gets no automatic IPv6 link-local address. */
enum nl_addrgen {
	NL_ADDRGEN_KEEP = 0,
	NL_ADDRGEN_EUI64,
	NL_ADDRGEN_NONE,
	NL_ADDRGEN_STABLE_PRIVACY,
	NL_ADDRGEN_RANDOM,
};

enum nl_macvlan_mode {
	NL_MACVLAN_BRIDGE = 0, /* the default */
	NL_MACVLAN_PRIVATE,
	NL_MACVLAN_VEPA,
	NL_MACVLAN_PASSTHRU,
};

/* Three-valued switch for changes: zero means "leave as it is". */
enum nl_switch {
	NL_KEEP = 0,
	NL_ON,
	NL_OFF,
};

/*
 * A link to create. Zero means "kernel default" for every field, so designated initializers
 * name only what matters. kind is the kernel's kind string; the kinds below have options,
 * any other kind ("dummy", "ifb", ...) is passed through without options, and the kernel
 * refuses kinds it does not know with -EOPNOTSUPP ("Unknown device type").
 */
struct nl_link_spec {
	const char *name; /* required */
	const char *kind; /* required: "veth", "bridge", "dummy", "vlan", "macvlan", "vxlan", ... */
	int ifindex;	  /* > 0: ask for this ifindex (-EBUSY if taken) */
	uint32_t mtu;
	const uint8_t *mac; /* NL_ETH_ALEN bytes */
	bool up;
	struct nl_dev master;	 /* a bridge to enslave the new link to */
	const char *ifalias;	 /* < NL_IFALIAS_MAX bytes */
	enum nl_addrgen addrgen; /* applied before the link goes up */
	struct nl_dev parent;	 /* vlan, macvlan: the lower device; vxlan: the underlay device */

	struct {
		const char *name; /* required for veth */
		bool in_netns; /* create the peer in netns_fd instead of the handle's namespace */
		int netns_fd;
		uint32_t mtu; /* 0: the same as mtu */
		const uint8_t *mac;
	} peer;

	struct {
		bool stp; /* off by default; forward delay is 0 while STP is off */
		bool vlan_filtering;
	} bridge;

	struct {
		uint16_t id;	   /* 1..4094 */
		uint16_t protocol; /* ETH_P_8021Q (default) or ETH_P_8021AD, host byte order */
	} vlan;

	struct {
		enum nl_macvlan_mode mode;
	} macvlan;

	struct {
		uint32_t vni; /* 0..2^24-1 */
		struct nl_addr
		    remote; /* unicast remote or multicast group (needs parent); optional */
		struct nl_addr local; /* optional; same family as remote */
		uint16_t port;	      /* UDP destination port; 0 means 4789 (IANA) */
	} vxlan;
};

/*
 * Creates a link. The kernel creates it, its kind options, and for a veth both ends, even
 * with the peer in another namespace, in one message: either all of it exists afterwards or
 * none. Without ifalias/addrgen that is the whole operation, "up" and "master" included.
 * ifalias and addrgen cannot be given at creation (the kernel ignores the one and refuses
 * the other), so they follow in a second message and "up" in a third; outside a batch, if
 * those fail the link is deleted again, so the call still creates all or nothing. Inside a
 * batch such a call sends the queue up to its creation request and queues the follow-ups
 * only if the link was created (never touching a same-named link that already existed); if
 * a follow-up fails the link stays and nl_batch_end() reports it.
 * The veth peer is created down (the kernel cannot bring it up before the pair is joined:
 * -ENOTCONN) and without ifalias or addrgen: set those, and up, with a handle in the peer's
 * namespace.
 * Returns 0 or -errno (-EEXIST, -EOPNOTSUPP for an unknown kind, -ENODEV for a missing
 * master or parent, -EINVAL for a bad spec).
 */
int nl_link_add(struct nl *nl, const struct nl_link_spec *spec);

/* Deletes a link (a veth with its peer). Returns 0 or -errno (-ENODEV). */
int nl_link_del(struct nl *nl, struct nl_dev dev);

/*
 * Changes to an existing link; zero fields are left alone. The kernel applies one message in
 * this order: move to netns, mac, mtu, rename, ifalias, up/down, master, addrgen. When
 * addrgen and up are both asked for, up goes in a second message so that the mode is in
 * force before the link comes up.
 */
struct nl_link_change {
	enum nl_switch up;
	uint32_t mtu;
	const uint8_t *mac;   /* NL_ETH_ALEN bytes */
	struct nl_dev master; /* attach to this bridge */
	bool nomaster;	      /* detach from its master */
	const char *rename;   /* new name; with move_netns, the name in the target namespace */
	bool move_netns;      /* move to the namespace netns_fd refers to */
	int netns_fd;
	const char *ifalias; /* "" clears it */
	enum nl_addrgen addrgen;
};

/*
 * Applies a change to a link. With move_netns, everything else in the change applies to the
 * link in its new namespace (a moved link comes up there if up = NL_ON); master cannot be
 * combined with a move (-EINVAL), nor addrgen with up (the link has left this handle's
 * namespace before it could be brought up). Returns 0 or -errno.
 */
int nl_link_set(struct nl *nl, struct nl_dev dev, const struct nl_link_change *change);

/* Shorthand: brings a link up or down ("lo" in a new namespace). */
int nl_link_set_up(struct nl *nl, struct nl_dev dev, bool up);

/* What the kernel says about a link. */
struct nl_link_info {
	int ifindex;
	char name[NL_IFNAMSIZ];
	char kind[NL_KIND_MAX];	      /* IFLA_INFO_KIND; "" for physical devices and lo */
	char slave_kind[NL_KIND_MAX]; /* "bridge" for a bridge port, else "" */
	uint32_t mtu;
	uint8_t mac[NL_HWADDR_MAX];
	size_t mac_len;
	unsigned flags;	    /* IFF_* */
	bool up;	    /* IFF_UP: administratively up */
	bool carrier;	    /* IFF_LOWER_UP */
	uint8_t operstate;  /* IF_OPER_*; see nl_operstate_to_string() */
	int master_ifindex; /* 0: none */
	char master[NL_IFNAMSIZ];
	char ifalias[NL_IFALIAS_MAX];
	int link_ifindex;	     /* veth peer, vlan/macvlan parent (IFLA_LINK); 0: none */
	int link_netnsid;	     /* namespace of link_ifindex as an nsid; -1: this one */
	char link_name[NL_IFNAMSIZ]; /* set when the link is in this namespace */
	enum nl_addrgen addrgen;     /* KEEP when the link has no IPv6 */
	uint16_t vlan_id;
	uint16_t vlan_protocol; /* host byte order */
	enum nl_macvlan_mode macvlan_mode;
	uint32_t vxlan_vni;
	uint16_t vxlan_port;
	int vxlan_link; /* underlay ifindex, 0: none */
	bool bridge_vlan_filtering;
	bool bridge_stp;
};

/* Returns "up", "down", "lowerlayerdown", "dormant", "testing", "notpresent" or "unknown". */
const char *nl_operstate_to_string(uint8_t operstate);

/*
 * Lists the links of the handle's namespace. On success *ret is an array of the returned
 * count of entries (NULL for none), owned by the caller, freed with free(). Returns the
 * count or -errno.
 */
int nl_link_list(struct nl *nl, struct nl_link_info **ret);

/* Reads one link. Returns 0 or -errno (-ENODEV if there is none). */
int nl_link_get(struct nl *nl, struct nl_dev dev, struct nl_link_info *ret);

/* Looks up a link's ifindex by name. Returns the ifindex (> 0) or -errno (-ENODEV). */
int nl_link_ifindex(struct nl *nl, const char *name);

/* ---- addresses ---------------------------------------------------------------------------- */

enum {
	NL_ADDR_NODAD = 1 << 0,		/* IPv6: usable at once, no duplicate detection */
	NL_ADDR_NOPREFIXROUTE = 1 << 1, /* no automatic route for the prefix */
};

/*
 * Adds an address to a link: IFA_LOCAL and IFA_ADDRESS, and for IPv4 prefixes up to /30 the
 * broadcast address. flags are NL_ADDR_*. Returns 0 or -errno (-EEXIST if present).
 */
int nl_addr_add(struct nl *nl, struct nl_dev dev, const struct nl_prefix *p, unsigned flags);

/* Removes an address from a link. Returns 0 or -errno (-EADDRNOTAVAIL if absent). */
int nl_addr_del(struct nl *nl, struct nl_dev dev, const struct nl_prefix *p);

struct nl_addr_info {
	int ifindex;
	char dev[NL_IFNAMSIZ];
	struct nl_prefix prefix;
	char address[NL_ADDRSTRLEN]; /* prefix's address as text, without "/len" */
	uint8_t scope;		     /* RT_SCOPE_* */
	uint32_t flags;		     /* IFA_F_* (IFA_F_TENTATIVE, IFA_F_PERMANENT, ...) */
};

/*
 * Lists addresses; family AF_UNSPEC for both, dev unset (NL_DEV(NULL)) for every link.
 * *ret as for nl_link_list(). Returns the count or -errno.
 */
int nl_addr_list(struct nl *nl, int family, struct nl_dev dev, struct nl_addr_info **ret);

/* ---- routes ------------------------------------------------------------------------------- */

/* Route tables: 0 in a spec means main; in nl_route_list() it means all but local. */
#define NL_TABLE_MAIN  254u
#define NL_TABLE_LOCAL 255u
#define NL_TABLE_ALL   0xffffffffu /* nl_route_list(): every table, local included */

struct nl_route_spec {
	struct nl_prefix dst;	/* prefixlen 0 = default; family 0 = the gateway's */
	struct nl_addr gateway; /* family 0 = none (a route on the link) */
	struct nl_dev dev;
	uint32_t metric;  /* RTA_PRIORITY; 0 = the kernel's default (0 v4, 1024 v6) */
	uint32_t table;	  /* 0 = main */
	uint8_t type;	  /* RTN_*: 0 = unicast; blackhole, unreachable, prohibit */
	uint8_t protocol; /* RTPROT_*: 0 = RTPROT_STATIC; ignored by delete */
	bool replace;	  /* add: replace a route with the same key instead of -EEXIST */
};

/*
 * Adds a route. The destination must have no host bits (-EINVAL). IPv4 routes without a
 * gateway get link scope. Returns 0 or -errno (-EEXIST, -ENETUNREACH for a gateway not
 * on any link, -ENODEV).
 */
int nl_route_add(struct nl *nl, const struct nl_route_spec *r);

/*
 * Deletes the first route matching dst/prefixlen in the table and, where given, gateway,
 * dev, metric and type. Returns 0 or -errno (-ESRCH or -ENOENT if none matches).
 */
int nl_route_del(struct nl *nl, const struct nl_route_spec *r);

struct nl_route_info {
	struct nl_prefix dst; /* prefixlen 0: default */
	char dst_str[NL_ADDRSTRLEN];
	struct nl_addr gateway; /* family 0: none */
	char gateway_str[NL_ADDRSTRLEN];
	int ifindex; /* 0: none */
	char dev[NL_IFNAMSIZ];
	uint32_t metric;
	uint32_t table;
	uint8_t type, protocol, scope;
};

/*
 * Lists routes of family (AF_UNSPEC for both) in table: 0 for every table but local (where
 * the kernel keeps its own local/broadcast/multicast entries), NL_TABLE_ALL for every table,
 * else that table. Cached clones are skipped. Multipath routes show their first hop only.
 * *ret as for nl_link_list(). Returns the count or -errno.
 */
int nl_route_list(struct nl *nl, int family, uint32_t table, struct nl_route_info **ret);

/* ---- namespace ids ------------------------------------------------------------------------ */

/*
 * Assigns, in the handle's namespace, the id nsid to the namespace netns_fd refers to
 * (RTM_NEWNSID); nsid < 0 lets the kernel pick. Returns the id (>= 0) or -errno (-EEXIST
 * if that namespace already has an id or the id is taken). Inside a batch it returns 0 and
 * a kernel-picked id is only known by reading it with nl_nsid_get() afterwards.
 */
int nl_nsid_set(struct nl *nl, int netns_fd, int nsid);

/* Reads the id the handle's namespace has for netns_fd's namespace: -1 when none. */
int nl_nsid_get(struct nl *nl, int netns_fd, int *ret_nsid);

/* ---- messages ----------------------------------------------------------------------------- */

/*
 * Parse one rtnetlink message as it arrives on a multicast socket (the monitor): RTM_NEWLINK
 * and RTM_DELLINK, RTM_NEWADDR and RTM_DELADDR, RTM_NEWROUTE and RTM_DELROUTE. Names that
 * need another lookup (a link's master and peer names, an address's or route's dev) are left
 * empty. Return 0, -EBADMSG, -EAFNOSUPPORT (a family other than IPv4/IPv6) or, for routes,
 * -EAGAIN (a cached clone, not a route).
 */
struct nlmsghdr;
int nl_msg_link(const struct nlmsghdr *nlh, struct nl_link_info *ret);
int nl_msg_addr(const struct nlmsghdr *nlh, struct nl_addr_info *ret);
int nl_msg_route(const struct nlmsghdr *nlh, struct nl_route_info *ret);

/* ---- requests, for kernel modules built on this one (tc.c) -------------------------------- */

/*
 * The request machinery above, for modules that speak other rtnetlink families through the
 * same handle, with the same errors, batches and sequence matching. An operation is:
 * nl_op_start(); checks that may refuse it with nl_op_fail() or look devices up with
 * nl_op_ifindex(); then either a change (nl_op_msg(), fill it, nl_op_send()) or a read
 * (nl_op_query_msg(), fill it, nl_op_query()). A message has room for NL_OP_MSG_MAX bytes.
 */
#define NL_OP_MSG_MAX 2048

void nl_op_start(struct nl *nl, bool changing);
/* Refuses the current operation with a reason for nl_last_error(), replacing the kernel's
 * outside a batch; also puts a reason back after a cleanup call cleared it. Returns err. */
int nl_op_fail(struct nl *nl, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* A device's ifindex (one lookup when named). Returns it (> 0) or -errno (recorded). */
int nl_op_ifindex(struct nl *nl, struct nl_dev dev, const char *what);
/* A changing request: queued by nl_op_send(), which outside a batch sends it and returns
 * the kernel's answer (0 or -errno). */
struct nlmsghdr *nl_op_msg(struct nl *nl, uint16_t type, uint16_t flags);
int nl_op_send(struct nl *nl, struct nlmsghdr *nlh);
/* A read (NLM_F_DUMP in flags for a dump; NLM_F_ACK for a get whose answer may be nothing
 * but the ack): what is queued is sent first. nl_op_query() passes each answer to cb
 * and returns 0, cb's or the kernel's first error, or -EAGAIN when a dump was interrupted by
 * changes (start again). */
struct nlmsghdr *nl_op_query_msg(struct nl *nl, uint16_t type, uint16_t flags);
int nl_op_query(struct nl *nl, struct nlmsghdr *nlh,
		int (*cb)(const struct nlmsghdr *nlh, void *data), void *data);
