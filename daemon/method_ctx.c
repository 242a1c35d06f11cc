/*
 * method_ctx.c: the context and helpers the method families share (see
 * method_ctx.h).
 */
#include <errno.h>
#include <string.h>

#include "links.h"
#include "method_ctx.h"
#include "nlcache.h"

extern const char netnsd_openrpc_json[];

static struct method_ctx context;

void method_ctx_init(const struct method_ctx *ctx)
{
	if (ctx)
		context = *ctx;
}

const struct method_ctx *method_ctx_get(void)
{
	return &context;
}

void method_ctx_set_socket_activated(bool b)
{
	context.socket_activated = b;
}

const char *method_ctx_openrpc_text(void)
{
	return netnsd_openrpc_json;
}

const char *method_ctx_ns_str(const char *netns)
{
	return netns ? netns : "the host";
}

int method_ctx_netns_writable(struct call *c, const char *netns, const char *field)
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

struct nl *method_ctx_nl(struct call *c, const char *netns, const char *field)
{
	struct nl *nl;
	int r = nlcache_get(netns, &nl);

	if (r == -ENOENT) {
		call_fail(c, RPC_KIND_NOT_FOUND, ENOENT, field, "No namespace named '%s'", netns);
		return NULL;
	}
	if (r < 0) {
		call_fail_errno(c, r, field, "Failed to reach %s: %s", method_ctx_ns_str(netns),
				strerror(-r));
		return NULL;
	}
	return nl;
}

json_t *method_ctx_attach_fd(struct call *c, int fd)
{
	json_t *idx = call_attach_fd(c, fd);

	if (idx)
		return idx;
	if (errno == ENOBUFS)
		call_fail(c, RPC_KIND_LIMIT, ENOBUFS, NULL,
			  "Too many descriptors waiting for this connection: the limit is %d; read "
			  "the replies that carry them first",
			  DISPATCH_MAX_PEER_FDS);
	else if (errno == EOPNOTSUPP)
		call_fail(c, RPC_KIND_UNSUPPORTED, EOPNOTSUPP, NULL,
			  "This connection cannot receive descriptors");
	else
		call_fail_errno(c, -errno, NULL, "Failed to pass a descriptor: %s",
				strerror(errno));
	return NULL;
}
