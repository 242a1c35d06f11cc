/*
 * topology_methods.c: topology.plan, topology.apply, topology.get,
 * topology.list, topology.destroy and topology.export.  Translates params
 * into calls of the topology module and its errors into JSON-RPC errors:
 * data.field is "doc." followed by the path in the document ("doc.links[3].
 * ends[1].node"), or the param's name.
 */
#include <string.h>

#include "log.h"
#include "method_ctx.h"
#include "multihost.h"
#include "topology.h"

static void fail(struct call *c, const struct topology_error *e)
{
	char field[300];
	enum rpc_kind kind;

	if (e->path[0] && strcmp(e->path, "name"))
		snprintf(field, sizeof(field), "doc%s%s", e->path[0] == '[' ? "" : ".", e->path);
	else
		snprintf(field, sizeof(field), "%s", e->path[0] ? e->path : "doc");
	if (e->unsupported)
		return call_fail(c, RPC_KIND_UNSUPPORTED, EOPNOTSUPP, field, "%s: %s", field, e->msg);
	switch (e->err) {
	case -EINVAL:
		return call_fail_params(c, field, "Invalid params: %s: %s", field, e->msg);
	case -EEXIST:
		kind = RPC_KIND_EXISTS;
		break;
	case -EBUSY:
		kind = RPC_KIND_BUSY;
		break;
	case -ENOENT:
		kind = RPC_KIND_NOT_FOUND;
		break;
	case -ENOSPC:
		kind = RPC_KIND_LIMIT;
		break;
	default:
		return call_fail_errno(c, e->err, field, "%s", e->msg);
	}
	call_fail(c, kind, -e->err, field, "%s", e->msg);
}

static const char *param_name(json_t *params)
{
	return json_string_value(json_object_get(params, "name"));
}

static void on_done(void *userdata, json_t *result, const struct topology_error *e);

/* The topology a plan or apply names: the param, else the document's name. */
static const char *doc_name(json_t *params)
{
	return param_name(params)
		?: json_string_value(json_object_get(json_object_get(params, "doc"), "name"));
}

static void method_plan(struct call *c, json_t *params)
{
	struct topology_error e;
	json_t *plan;

	topology_set_max_namespaces(method_ctx_get()->max_namespaces);
	if (multihost_doc_spans(json_object_get(params, "doc")) || multihost_known(doc_name(params))) {
		if (multihost_plan(json_object_get(params, "doc"), param_name(params), on_done, c,
				   &e) < 0)
			fail(c, &e);
		return;
	}
	if (topology_plan(json_object_get(params, "doc"), param_name(params), &plan, &e) < 0)
		return fail(c, &e);
	call_reply(c, plan);
}

static void on_done(void *userdata, json_t *result, const struct topology_error *e)
{
	struct call *c = userdata;

	if (!result)
		return fail(c, e);
	call_reply(c, result);
}

static void method_apply(struct call *c, json_t *params)
{
	struct topology_error e;

	topology_set_max_namespaces(method_ctx_get()->max_namespaces);
	if (multihost_doc_spans(json_object_get(params, "doc")) || multihost_known(doc_name(params))) {
		if (multihost_apply(json_object_get(params, "doc"), param_name(params), on_done, c,
				    &e) < 0)
			fail(c, &e);
		return;
	}
	if (topology_apply(json_object_get(params, "doc"), param_name(params), on_done, c, &e) < 0)
		fail(c, &e);
}

static void method_destroy(struct call *c, json_t *params)
{
	struct topology_error e;

	if (multihost_known(param_name(params))) {
		if (multihost_destroy(param_name(params), on_done, c, &e) < 0)
			fail(c, &e);
		return;
	}
	if (topology_destroy(param_name(params), on_done, c, &e) < 0)
		fail(c, &e);
}

static void method_get(struct call *c, json_t *params)
{
	json_t *o = topology_get(param_name(params));

	if (!o)
		return call_fail(c, RPC_KIND_NOT_FOUND, ENOENT, "name", "No topology named '%s'",
				 param_name(params));
	if (multihost_known(param_name(params)))
		json_object_set_new(o, "multihost", multihost_info(param_name(params)));
	call_reply(c, o);
}

static void method_export(struct call *c, json_t *params)
{
	json_t *doc = topology_export(param_name(params));

	if (!doc)
		return call_fail(c, RPC_KIND_NOT_FOUND, ENOENT, "name", "No topology named '%s'",
				 param_name(params));
	call_reply(c, json_pack("{s:s,s:o}", "name", param_name(params), "doc", doc));
}

static void method_list(struct call *c, json_t *params)
{
	call_reply(c, json_pack("{s:o}", "topologies", topology_list()));
}

static const struct param p_doc[] = {
	{ .name = "doc", .type = P_OBJECT, .required = true },
	{ .name = "name", .type = P_NETNS },
	{ 0 },
};

static const struct param p_name[] = {
	{ .name = "name", .type = P_NETNS, .required = true },
	{ 0 },
};

static const struct param p_none[] = { { 0 } };

const struct method topology_methods[] = {
	{ .name = "topology.plan", .fn = method_plan, .params = p_doc, .access = ACCESS_ADMIN },
	{ .name = "topology.apply",
	  .fn = method_apply,
	  .params = p_doc,
	  .access = ACCESS_ADMIN,
	  .mutates = true },
	{ .name = "topology.destroy",
	  .fn = method_destroy,
	  .params = p_name,
	  .access = ACCESS_ADMIN,
	  .mutates = true },
	{ .name = "topology.get", .fn = method_get, .params = p_name, .access = ACCESS_ADMIN },
	{ .name = "topology.list", .fn = method_list, .params = p_none, .access = ACCESS_ADMIN },
	{ .name = "topology.export",
	  .fn = method_export,
	  .params = p_name,
	  .access = ACCESS_ADMIN },
};
const size_t topology_methods_count = ELEMENTSOF(topology_methods);
