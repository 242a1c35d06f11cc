/*
 * links.c: ownership rules and stored-state bookkeeping shared by the link,
 * address and route families (see links.h).
 */
#include <string.h>

#include "links.h"
#include "log.h"
#include "netns.h"
#include "nlcache.h"
#include "spec.h"
#include "state.h"
#include "tc.h"

int links_netns_access(const char *netns)
{
	struct netns_id id;

	if (!netns)
		return 0;
	if (netns_stat(netns, &id) < 0)
		return -ENOENT;
	if (!state_get("netns", netns) || !netns_pinned_mounted(netns))
		return -EPERM;
	return 1;
}

static bool ns_equal(const char *a, const char *b)
{
	return a && b ? !strcmp(a, b) : a == b;
}

/*
 * A vxlan whose UDP socket stays in the host (the underlay) while the device
 * lives in d->netns: the kernel binds a vxlan's socket in the namespace it is
 * created in and keeps it there when the device moves.  So it is made in the
 * host under a temporary name derived from its VNI (unique per host), then
 * moved and renamed in one message; what a move resets (the IPv6 address
 * generation mode) and "up" are set once it is in place.
 */
static int create_underlay(struct nl *nl, const struct link_desc *d, bool deferred,
			   struct nl **ret_nl)
{
	struct nl_link_spec spec;
	struct nl *host_nl;
	char tmp[16];
	int r, fd;

	r = nlcache_get(NULL, &host_nl);
	if (r < 0)
		return r;
	fd = netns_open(d->netns);
	if (fd < 0)
		return fd;
	snprintf(tmp, sizeof(tmp), "nnvx%06llx", (unsigned long long)d->id & 0xffffff);
	spec_link_to_nl(d, &spec);
	spec.name = tmp;
	spec.ifalias = LINK_MARK;
	spec.up = false;
	spec.master = (struct nl_dev){ 0 };
	spec.addrgen = NL_ADDRGEN_KEEP;
	r = nl_link_add(host_nl, &spec);
	if (r < 0) {
		*ret_nl = host_nl;
		close(fd);
		return r;
	}
	r = nl_link_set(host_nl, NL_DEV(tmp),
			&(struct nl_link_change){ .move_netns = true, .netns_fd = fd,
						  .rename = d->name });
	close(fd);
	if (r < 0) {
		*ret_nl = host_nl;
		nl_link_del(host_nl, NL_DEV(tmp));
		return r;
	}
	r = nl_link_set(nl, NL_DEV(d->name),
			&(struct nl_link_change){
			    .master = d->master && !deferred ? NL_DEV(d->master)
							      : (struct nl_dev){ 0 },
			    .addrgen = spec_addrgen(d->ipv6_ll),
			    .up = d->up == 1 && !deferred ? NL_ON : NL_KEEP,
			});
	if (r < 0)
		nl_link_del(nl, NL_DEV(d->name));
	return r;
}

/* The link and its peer's own settings, without impairments. */
static int create(struct nl *nl, const struct link_desc *d, bool deferred, struct nl **ret_nl,
		  const char **ret_field)
{
	struct nl_link_spec spec;
	struct nl *peer_nl = NULL;
	int r, peer_fd = -1;

	*ret_nl = nl;
	*ret_field = NULL;
	if (d->underlay && d->netns && d->kind && !strcmp(d->kind, "vxlan"))
		return create_underlay(nl, d, deferred, ret_nl);
	spec_link_to_nl(d, &spec);
	spec.ifalias = LINK_MARK;
	if (deferred) {
		spec.up = false;
		spec.master = (struct nl_dev){ 0 };
	}
	if (d->peer.name) {
		r = nlcache_get(d->peer.netns, &peer_nl);
		if (r < 0)
			return r;
		if (!ns_equal(d->netns, d->peer.netns)) {
			peer_fd = d->peer.netns ? netns_open(d->peer.netns) : netns_host_fd();
			if (peer_fd < 0)
				return peer_fd;
			spec.peer.in_netns = true;
			spec.peer.netns_fd = peer_fd;
		}
	}
	/* The kernel creates the peer down; it comes up after its own settings below. */
	r = nl_link_add(nl, &spec);
	if (peer_fd >= 0 && d->peer.netns)
		close(peer_fd);
	if (r < 0 || !d->peer.name)
		return r;

	r = nl_link_set(peer_nl, NL_DEV(d->peer.name),
			&(struct nl_link_change){
				.ifalias = LINK_MARK,
				.master = d->peer.master && !deferred ? NL_DEV(d->peer.master)
								      : (struct nl_dev){ 0 },
				.addrgen = spec_addrgen(d->peer.ipv6_ll),
				.up = d->peer.up == 1 && !deferred ? NL_ON : NL_KEEP,
			});
	if (r < 0) {
		*ret_nl = peer_nl;
		*ret_field = "peer";
		nl_link_del(nl, NL_DEV(d->name));
	}
	return r;
}

/* Delete a link made in nl again, keeping the reason why on failed_nl.  Returns err. */
static int undo_create(struct nl *nl, const char *name, struct nl *failed_nl, int err)
{
	char why[256];

	snprintf(why, sizeof(why), "%s", nl_last_error(failed_nl) ?: strerror(-err));
	nl_link_del(nl, NL_DEV(name));
	return nl_op_fail(failed_nl, err, "%s", why);
}

int links_create(struct nl *nl, const struct link_desc *d, bool deferred, struct nl **ret_nl,
		 const char **ret_field)
{
	struct nl *peer_nl = NULL;
	int r;

	r = create(nl, d, deferred, ret_nl, ret_field);
	if (r < 0 || deferred)
		return r;
	if (spec_impair_is_set(&d->impair)) {
		r = links_impair_apply(nl, d->name, &d->impair);
		if (r < 0) {
			*ret_field = "impair";
			goto fail;
		}
	}
	if (d->peer.name && spec_impair_is_set(&d->peer.impair)) {
		r = nlcache_get(d->peer.netns, &peer_nl);
		if (r == 0)
			r = links_impair_apply(peer_nl, d->peer.name, &d->peer.impair);
		if (r < 0) {
			*ret_nl = peer_nl ?: nl;
			*ret_field = "peer.impair";
			goto fail;
		}
	}
	return 0;
fail:
	return undo_create(nl, d->name, *ret_nl, r);
}

int links_impair_apply(struct nl *nl, const char *name, const struct link_impair *imp)
{
	struct nl_link_info info;
	struct tc_impair t;
	int r;

	r = nl_link_get(nl, NL_DEV(name), &info);
	if (r < 0)
		return r;
	spec_impair_to_tc(imp, &t);
	return tc_impair_set(nl, NL_IFINDEX(info.ifindex), info.mtu, &t);
}

json_t *links_get(const char *netns, const char *name)
{
	_cleanup_(freep) char *key = NULL;

	if (spec_link_key(netns, name, &key) < 0)
		return NULL;
	return state_get(LINK_COLL, key);
}

bool links_dev_managed(const char *netns, const char *name)
{
	json_t *rec = links_get(netns, name);
	const char *origin = json_string_value(json_object_get(rec, "origin"));

	if (netns && links_netns_access(netns) == 1)
		return true;
	return rec && origin && strcmp(origin, "existing");
}

static bool same_ns(json_t *v, const char *netns)
{
	const char *s = json_string_value(v);

	return netns ? s && !strcmp(s, netns) : !s;
}

/* Keys of a collection whose doc matches, collected first: deleting while iterating is unsafe. */
static size_t collect(const char *coll, bool (*match)(json_t *doc, void *data), void *data,
		      char ***ret)
{
	json_t *c = state_collection(coll), *doc;
	const char *key;
	char **v = calloc(json_object_size(c) + 1, sizeof(char *));
	size_t n = 0;

	if (!v) {
		*ret = NULL;
		return 0;
	}
	json_object_foreach(c, key, doc)
		if (match(doc, data))
			v[n++] = strdup(key);
	*ret = v;
	return n;
}

struct dev_ref {
	const char *netns, *dev;
};

static bool on_dev(json_t *doc, void *data)
{
	struct dev_ref *r = data;
	const char *dev = json_string_value(json_object_get(doc, "dev"));

	return same_ns(json_object_get(doc, "netns"), r->netns) && dev && !strcmp(dev, r->dev);
}

static size_t forget_matching(const char *coll, bool (*match)(json_t *, void *), void *data)
{
	char **keys;
	size_t n = collect(coll, match, data, &keys);

	for (size_t i = 0; i < n; i++) {
		state_del(coll, keys[i]);
		free(keys[i]);
	}
	free(keys);
	return n;
}

size_t links_forget_dev(const char *netns, const char *dev)
{
	struct dev_ref r = { netns, dev };

	return forget_matching(ADDR_COLL, on_dev, &r) + forget_matching(ROUTE_COLL, on_dev, &r);
}

static void rename_in(const char *coll, const char *netns, const char *from, const char *to,
		      int (*key_of)(json_t *doc, char **ret))
{
	struct dev_ref r = { netns, from };
	char **keys;
	size_t n = collect(coll, on_dev, &r, &keys);

	for (size_t i = 0; i < n; i++) {
		json_t *doc = json_deep_copy(state_get(coll, keys[i]));
		_cleanup_(freep) char *key = NULL;

		json_object_set_new(doc, "dev", json_string(to));
		state_del(coll, keys[i]);
		if (key_of(doc, &key) == 0)
			state_put(coll, key, doc);
		else
			json_decref(doc);
		free(keys[i]);
	}
	free(keys);
}

static const char *ns_or_empty(json_t *doc)
{
	return json_string_value(json_object_get(doc, "netns")) ?: "";
}

int links_addr_key(json_t *doc, char **ret)
{
	const char *dev = json_string_value(json_object_get(doc, "dev"));
	const char *addr = json_string_value(json_object_get(doc, "address"));

	if (!dev || !addr)
		return -EINVAL;
	return asprintf(ret, "%s/%s/%s", ns_or_empty(doc), dev, addr) < 0 ? -ENOMEM : 0;
}

int links_route_key(json_t *doc, char **ret)
{
	const char *dst = json_string_value(json_object_get(doc, "dst"));
	json_t *table = json_object_get(doc, "table"), *metric = json_object_get(doc, "metric");

	if (!dst)
		return -EINVAL;
	return asprintf(ret, "%s/%lld/%s/%lld", ns_or_empty(doc),
			json_is_integer(table) ? (long long)json_integer_value(table) : 254LL, dst,
			json_is_integer(metric) ? (long long)json_integer_value(metric) : 0LL) < 0
		   ? -ENOMEM
		   : 0;
}

void links_rename_dev(const char *netns, const char *from, const char *to)
{
	rename_in(ADDR_COLL, netns, from, to, links_addr_key);
	rename_in(ROUTE_COLL, netns, from, to, links_route_key);
}

static bool in_ns(json_t *doc, void *data)
{
	return same_ns(json_object_get(doc, "netns"), data);
}

static bool peer_in_ns(json_t *doc, void *data)
{
	json_t *peer = json_object_get(doc, "peer");

	return peer && same_ns(json_object_get(peer, "netns"), data);
}

json_t *links_release_netns(const char *netns)
{
	json_t *c = state_collection(LINK_COLL), *doc, *outside = json_array();
	struct nl *nl = NULL;
	const char *key;
	int host_fd = netns_host_fd();

	if (nlcache_get(netns, &nl) < 0)
		nl = NULL;
	json_object_foreach(c, key, doc) {
		const char *origin = json_string_value(json_object_get(doc, "origin"));
		const char *name = json_string_value(json_object_get(doc, "name"));
		json_t *peer = json_object_get(doc, "peer");
		int r = 0;

		if (!nl || !same_ns(json_object_get(doc, "netns"), netns) || !origin || !name)
			continue;
		if (!strcmp(origin, "borrowed")) {
			json_t *from = json_object_get(doc, "from");
			const char *from_ns = json_string_value(json_object_get(from, "netns"));
			_cleanup_(closep) int fd = from_ns ? netns_open(from_ns) : -1;
			struct nl_link_change ch = {
				.move_netns = true,
				.netns_fd = from_ns ? fd : host_fd,
				.rename = json_string_value(json_object_get(from, "name")),
			};

			if (from_ns && fd < 0)
				r = fd;
			else
				r = nl_link_set(nl, NL_DEV(name), &ch);
			if (r < 0)
				log_warning("Failed to give '%s' back from namespace '%s': %s",
					    name, netns, nl_last_error(nl) ?: strerror(-r));
		} else if (!strcmp(origin, "created") && peer &&
			   !same_ns(json_object_get(peer, "netns"), netns)) {
			/*
			 * The kernel deletes the other end with the namespace, many
			 * at once (one RTM_DELLINK each costs an RCU grace period,
			 * ~20 ms); the caller waits for it to be gone.  Its ifindex
			 * says which device that is: another may take the name meanwhile.
			 */
			const char *pns = json_string_value(json_object_get(peer, "netns"));
			const char *pname = json_string_value(json_object_get(peer, "name"));
			struct nl_link_info info;
			struct nl *pnl;

			if (pname && nlcache_get(pns, &pnl) == 0 &&
			    nl_link_get(pnl, NL_DEV(pname), &info) == 0)
				json_array_append_new(
				    outside, json_pack("{s:O,s:s,s:i}", "netns",
						       json_object_get(peer, "netns") ?: json_null(),
						       "name", pname, "ifindex", info.ifindex));
		}
	}
	forget_matching(LINK_COLL, peer_in_ns, (void *)netns);
	forget_matching(LINK_COLL, in_ns, (void *)netns);
	forget_matching(ADDR_COLL, in_ns, (void *)netns);
	forget_matching(ROUTE_COLL, in_ns, (void *)netns);
	nlcache_forget(netns);
	return outside;
}
