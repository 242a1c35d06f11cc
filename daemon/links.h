/*
 * links.h: what the link, address and route families share: the rules of
 * ownership, the desired-state keys and the bookkeeping that keeps the
 * stored links, addresses and routes consistent when a device is deleted,
 * renamed or moved, or its namespace goes away.  Used by the *_methods of
 * those families, by netns.delete and by reconcile.
 */
#pragma once

#include <jansson.h>
#include <stdbool.h>

#include "nl.h"

#define LINK_COLL  "link"
#define ADDR_COLL  "addr"
#define ROUTE_COLL "route"

/* The ifalias netnsd gives every link it creates: the kernel's own record of ownership. */
#define LINK_MARK "netnsd"

/*
 * Whether netnsd may change things inside namespace netns: 1 for a managed
 * namespace that is mounted, 0 for the host (NULL), -ENOENT when no such
 * namespace is mounted, -EPERM when it is not netnsd's.
 */
int links_netns_access(const char *netns);

/*
 * Desired-state keys of an address doc ({netns, dev, address}) and of a
 * route doc ({netns, dst, table?, metric?}); *ret is malloc'd.
 */
int links_addr_key(json_t *doc, char **ret);
int links_route_key(json_t *doc, char **ret);

struct link_desc;

/*
 * Create link d in the namespace of nl, marked as netnsd's (LINK_MARK), all
 * or nothing.  A veth's peer is made in d->peer.netns in the same message
 * and then gets its own settings there: the mark, ipv6_ll, and unless
 * deferred its master and up.  deferred also leaves the link's own master,
 * up and impairments for later (reconcile applies them once every link
 * exists); otherwise both ends get their impairments, and a failure deletes
 * the link again.
 * Returns 0, or -errno with *ret_nl the handle whose nl_last_error() says
 * why and *ret_field the part of d that failed: NULL (the link itself),
 * "peer" (the peer's settings), "impair" or "peer.impair".
 */
int links_create(struct nl *nl, const struct link_desc *d, bool deferred, struct nl **ret_nl,
		 const char **ret_field);

struct link_impair;

/*
 * Make imp the impairment of link name in nl's namespace (tc.h): a tbf or netem root qdisc,
 * or none when imp asks for nothing.  Returns 0 or -errno (-EOPNOTSUPP: the kernel lacks
 * the qdisc; nothing changed), with nl_last_error(nl) saying why.
 */
int links_impair_apply(struct nl *nl, const char *name, const struct link_impair *imp);

/* The stored doc of a link, or NULL. */
json_t *links_get(const char *netns, const char *name);

/*
 * Whether a device may carry changes: links netnsd created or borrowed
 * anywhere, and every device of a managed namespace.
 */
bool links_dev_managed(const char *netns, const char *name);

/*
 * Forget the stored addresses and routes of a device (the kernel dropped
 * them: the device was deleted or moved).  Returns how many were forgotten.
 */
size_t links_forget_dev(const char *netns, const char *dev);

/* Point stored addresses and routes of a renamed device at its new name. */
void links_rename_dev(const char *netns, const char *from, const char *to);

/*
 * Before namespace netns goes: give borrowed devices back under their
 * original names and forget every stored link, address and route of the
 * namespace (and the other ends of its veths).  Returns the veth ends that
 * live outside it ([{"netns", "name"}]; the caller owns the array): the
 * kernel deletes them with the namespace, and the caller waits for that.
 */
json_t *links_release_netns(const char *netns);
