/*
 * spec.h: the desired state's JSON documents <-> the domain modules' C specs.
 * Pure functions (no I/O), shared by the methods that accept a spec and by
 * reconcile, which re-applies stored specs.  The stored document of an
 * object uses the same member names as the method that created it.
 */
#pragma once

#include <jansson.h>

#include "netns.h"

/* A netns spec borrowing from a JSON document; free with spec_netns_done(). */
struct netns_spec_buf {
	struct netns_spec spec;
	struct netns_sysctl *sysctls;
	char **values; /* sysctl values printed as strings */
};

/*
 * Fill buf from doc ({nsid?, sysctls?, resolv_conf?, hosts?}, the members of
 * netns.add and of the stored state).  doc must outlive buf.  Returns 0 or
 * -EINVAL/-ENOMEM.
 */
int spec_netns_from_json(const char *name, json_t *doc, struct netns_spec_buf *buf);
void spec_netns_done(struct netns_spec_buf *buf);

/*
 * The stored document of a namespace: its spec, when it was created
 * ("created", RFC 3339) and the identity it had when netnsd last mounted or
 * adopted it ({"identity": {"dev", "ino", "boot_id"}}).
 */
json_t *spec_netns_to_json(const struct netns_spec *spec, const struct netns_id *id,
			   const char *boot_id, const char *created);
/* The identity recorded in a stored document; false when it has none. */
bool spec_netns_identity(json_t *doc, struct netns_id *ret);

/*
 * Check a sysctls object: keys under "net." (dots or slashes, no ".."), values
 * strings, integers or booleans.  Returns NULL or a message; *ret_key names
 * the offending key.
 */
const char *spec_sysctls_check(json_t *v, const char **ret_key);

/* Links. */

#include "nl.h"

enum link_origin {
	LINK_CREATED,  /* netnsd made it; deleting it deletes it */
	LINK_BORROWED, /* moved in from elsewhere; deleting it gives it back */
	LINK_EXISTING, /* was there (lo, or made by others in a managed namespace) */
};

/*
 * Impairments of one link end (the doc member "impair"), in the units of the protocol:
 * milliseconds (fractions allowed), percent (0..100, fractions allowed), kbit/s (1000 bit/s).
 * Zero means "none" for every member.
 */
struct link_impair {
	double delay_ms, jitter_ms;
	double loss_pct, duplicate_pct, reorder_pct, corrupt_pct;
	long long rate_kbit;
};

#define SPEC_IMPAIR_MAX_MS   60000.0	   /* one minute of delay or jitter */
#define SPEC_IMPAIR_MAX_KBIT 1000000000LL /* 1 Tbit/s */

/*
 * Read an "impair" object ({delay_ms?, jitter_ms?, loss_pct?, duplicate_pct?, reorder_pct?,
 * corrupt_pct?, rate_kbit?}; null or {} is no impairment), checking types, ranges, unknown
 * members and what netem needs (jitter and reorder need a delay).  Returns 0, or -EINVAL
 * with *ret_member naming the member (NULL: the object itself) and *ret_msg saying why.
 */
int spec_impair_from_json(json_t *v, struct link_impair *ret, const char **ret_member,
			  const char **ret_msg);
/* The same as a dispatch param check (see struct param). */
const char *spec_impair_check(json_t *v, const char **ret_sub);
/* Whether imp asks for anything. */
bool spec_impair_is_set(const struct link_impair *imp);
/* The members that are set (an empty object for none). */
json_t *spec_impair_to_json(const struct link_impair *imp);

#include "tc.h"

/* Protocol units <-> the kernel's (tc.h); the way back rounds to what the protocol shows. */
void spec_impair_to_tc(const struct link_impair *imp, struct tc_impair *ret);
void spec_impair_from_tc(const struct tc_impair *t, struct link_impair *ret);

/*
 * One link of the desired state, as C.  Strings borrow from the JSON document
 * it was read from.  The same shape serves link.add params and stored docs.
 */
struct link_desc {
	const char *netns; /* NULL: the host */
	const char *name;
	const char *kind; /* NULL for borrowed and existing links */
	enum link_origin origin;
	const char *from_netns, *from_name; /* borrowed: where to give it back */

	uint32_t mtu; /* 0: leave */
	bool has_mac;
	uint8_t mac[NL_ETH_ALEN];
	int up;	     /* -1: leave, 0: down, 1: up */
	int ipv6_ll; /* -1: leave, 0: no IPv6 link-local address, 1: EUI-64 */
	const char *master;
	struct link_impair impair;

	struct {
		const char *name, *netns;
		uint32_t mtu;
		bool has_mac;
		uint8_t mac[NL_ETH_ALEN];
		int up, ipv6_ll;
		const char *master;
		struct link_impair impair;
	} peer;

	const char *parent; /* vlan, macvlan */
	long long id;	    /* vlan id, vxlan vni; -1: none */
	uint16_t protocol;  /* vlan: ETH_P_8021Q or ETH_P_8021AD */
	enum nl_macvlan_mode mode;
	struct nl_addr remote, group, local;
	uint16_t port;
	const char *dev; /* vxlan underlay */
	bool underlay;	 /* vxlan in a namespace with its UDP socket in the host's (multihost) */
	bool stp, vlan_filtering;
};

/* ipv6_ll as a tri-state (-1 leave, 0 no link-local address, 1 EUI-64) for the kernel. */
enum nl_addrgen spec_addrgen(int ipv6_ll);
/* JSON: absent or null leaves it; true or false. */
static inline int spec_tristate(json_t *v)
{
	return json_is_boolean(v) ? json_is_true(v) : -1;
}

/* "bridge", "private", "vepa" or "passthru". */
const char *spec_macvlan_mode_name(enum nl_macvlan_mode m);

/*
 * Read a link doc (link.add params or a stored doc) into d, checking what
 * types alone cannot: the kind's required options, options that do not
 * apply to the kind, MAC and IP syntax.  Returns 0, or -EINVAL with
 * *ret_field naming the offending member and *ret_msg saying why.
 */
int spec_link_from_json(json_t *doc, struct link_desc *d, const char **ret_field,
			const char **ret_msg);

/*
 * The nl spec to create d.  Peer namespace fd and ifalias are the caller's:
 * they depend on the kernel, not on the doc.
 */
void spec_link_to_nl(const struct link_desc *d, struct nl_link_spec *ret);

/* The stored doc of d (only the members that are set). */
json_t *spec_link_to_json(const struct link_desc *d);

/* Key of a link, address or route in the desired state; *ret malloc'd. */
int spec_link_key(const char *netns, const char *name, char **ret);

/*
 * The settings of a veth's other end, read from that end's own stored doc
 * (mtu, MAC, ipv6_ll, master, up, impair), into d's peer.  Returns 0, or -EINVAL
 * when peer_doc is unreadable.
 */
int spec_link_peer_from_json(json_t *peer_doc, struct link_desc *d);

/* Routes and addresses. */

/*
 * A stored route doc ({dst, via?, dev?, metric?, table?, type?}) as the nl
 * spec that adds or deletes it (dev borrows from doc).  Returns 0 or -EINVAL.
 */
int spec_route_from_json(json_t *doc, struct nl_route_spec *ret);

/* A stored address doc ({dev, address, nodad?}): its prefix and nl flags.  0 or -EINVAL. */
int spec_addr_from_json(json_t *doc, struct nl_prefix *ret, unsigned *ret_flags);

#include "proc.h"

/*
 * A proc spawn spec borrowing from a JSON document (the params of proc.spawn,
 * a stored service, or a topology's service); free with spec_proc_done().
 */
struct spec_proc_buf {
	struct proc_spawn_params p;
	const char **argv;
	const char **env;
	char *envbuf;
	char ubuf[24], gbuf[24];
};

/*
 * Fill buf from spec ({netns?, argv, env?, env_replace?, cwd?, user?, group?,
 * stdin?, stdout?, stderr?, restart?, name?, tty?, log_max_bytes?,
 * log_files?}); {"fd": I} streams take fds[I] (borrowed).  ephemeral and
 * pidfd are the caller's.  spec must outlive buf.  Returns 0, -ENOMEM, or
 * -EINVAL/-EBADF with *ret_field naming the member and *ret_msg saying why.
 */
int spec_proc_from_json(json_t *spec, const int *fds, size_t nfds, struct spec_proc_buf *buf,
			const char **ret_field, const char **ret_msg);
void spec_proc_done(struct spec_proc_buf *buf);
