/*
 * methods.c: assembles the method table from the families' tables (see
 * methods.h and method_families.h).  It only assembles: what the families
 * share lives below them in method_ctx.c.
 */
#include "method_families.h"
#include "methods.h"

static const struct method *const tables[] = {
	daemon_methods, netns_methods,	link_methods, addr_methods,
	route_methods,	events_methods, proc_methods, topology_methods,
	peer_methods,
};
static size_t sizes[ELEMENTSOF(tables)];

int methods_init(const struct method_ctx *ctx)
{
	sizes[0] = daemon_methods_count;
	sizes[1] = netns_methods_count;
	sizes[2] = link_methods_count;
	sizes[3] = addr_methods_count;
	sizes[4] = route_methods_count;
	sizes[5] = events_methods_count;
	sizes[6] = proc_methods_count;
	sizes[7] = topology_methods_count;
	sizes[8] = peer_methods_count;
	method_ctx_init(ctx);
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
