/*
 * nlcache.c: per-namespace rtnetlink handles (see nlcache.h).  A small array
 * with least-recently-used eviction: labs touch namespaces in bursts, and
 * each handle costs one fd.
 */
#include <string.h>

#include "netns.h"
#include "nlcache.h"
#include "util.h"

#define NLCACHE_MAX 128

struct entry {
	char name[NETNS_NAME_MAX + 1];
	struct netns_id id;
	struct nl *nl;
	uint64_t used;
};

static struct entry cache[NLCACHE_MAX];
static struct nl *host_nl;
static uint64_t tick;

static void entry_drop(struct entry *e)
{
	nl_close(e->nl);
	memset(e, 0, sizeof(*e));
}

int nlcache_get(const char *netns, struct nl **ret)
{
	struct entry *slot = NULL;
	struct netns_id id;
	int r, fd;

	if (!netns) {
		if (!host_nl) {
			r = nl_open(-1, netns_host_fd(), &host_nl);
			if (r < 0)
				return r;
		}
		*ret = host_nl;
		return 0;
	}
	r = netns_stat(netns, &id);
	if (r < 0)
		return r == -ENOTCONN ? -ENOENT : r;
	for (size_t i = 0; i < NLCACHE_MAX; i++) {
		struct entry *e = &cache[i];

		if (e->nl && !strcmp(e->name, netns)) {
			if (netns_id_equal(&e->id, &id)) {
				e->used = ++tick;
				*ret = e->nl;
				return 0;
			}
			entry_drop(e);
		}
		if (!e->nl && !slot)
			slot = e;
	}
	if (!slot) {
		slot = &cache[0];
		for (size_t i = 1; i < NLCACHE_MAX; i++)
			if (cache[i].used < slot->used)
				slot = &cache[i];
		entry_drop(slot);
	}
	fd = netns_open(netns);
	if (fd < 0)
		return fd;
	r = nl_open(fd, netns_host_fd(), &slot->nl);
	close(fd);
	if (r < 0) {
		slot->nl = NULL;
		return r;
	}
	snprintf(slot->name, sizeof(slot->name), "%s", netns);
	slot->id = id;
	slot->used = ++tick;
	*ret = slot->nl;
	return 0;
}

void nlcache_forget(const char *netns)
{
	for (size_t i = 0; netns && i < NLCACHE_MAX; i++)
		if (cache[i].nl && !strcmp(cache[i].name, netns))
			entry_drop(&cache[i]);
}

void nlcache_exit(void)
{
	for (size_t i = 0; i < NLCACHE_MAX; i++)
		if (cache[i].nl)
			entry_drop(&cache[i]);
	nl_close(host_nl);
	host_nl = NULL;
}
