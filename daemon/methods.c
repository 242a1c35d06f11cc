/*
 * methods.c: assembles the method table (see methods.h).
 */
#include <string.h>

#include "links.h"
#include "log.h"
#include "methods.h"
#include "nlcache.h"

extern const char netnsd_openrpc_json[];

static const struct method *const tables[] = {
	daemon_methods, netns_methods,	link_methods, addr_methods,
	route_methods,	events_methods, proc_methods,
};
static size_t sizes[ELEMENTSOF(tables)];
static struct methods_context context;

int methods_init(const struct methods_context *ctx)
{
	sizes[0] = daemon_methods_count;
	sizes[1] = netns_methods_count;
	sizes[2] = link_methods_count;
	sizes[3] = addr_methods_count;
	sizes[4] = route_methods_count;
	sizes[5] = events_methods_count;
	sizes[6] = proc_methods_count;
	if (ctx)
		context = *ctx;
	dispatch_init(tables, sizes, ELEMENTSOF(tables));
	events_methods_init();
	return 0;
}

void methods_exit(void)
{
	events_methods_exit();
	proc_methods_exit();
	daemon_methods_exit();
	netns_methods_exit();
	dispatch_exit();
}

const struct methods_context *methods_context(void)
{
	return &context;
}

void methods_set_socket_activated(bool b)
{
	context.socket_activated = b;
}

const char *methods_openrpc_text(void)
{
	return netnsd_openrpc_json;
}

const char *methods_ns_str(const char *netns)
{
	return netns ? netns : "the host";
}

int methods_netns_writable(struct call *c, const char *netns, const char *field)
{
	int r = links_netns_access(netns);

	if (r == -ENOENT)
		call_fail(c, RPC_KIND_NOT_FOUND, ENOENT, field, "No namespace named '%s'", netns);
	else if (r == -EPERM)
		call_fail(c, RPC_KIND_PERMISSION, EPERM, field,
			  "Namespace '%s' was not created by netnsd; netnsd does not change it",
			  netns);
	return r < 0 ? -1 : r;
}

struct nl *methods_nl(struct call *c, const char *netns, const char *field)
{
	struct nl *nl;
	int r = nlcache_get(netns, &nl);

	if (r == -ENOENT) {
		call_fail(c, RPC_KIND_NOT_FOUND, ENOENT, field, "No namespace named '%s'", netns);
		return NULL;
	}
	if (r < 0) {
		call_fail_errno(c, r, field, "Failed to reach %s: %s", methods_ns_str(netns),
				strerror(-r));
		return NULL;
	}
	return nl;
}
