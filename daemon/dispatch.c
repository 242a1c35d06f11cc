/*
 * dispatch.c: method lookup, parameter validation, access control and the
 * life of a call (see dispatch.h).
 */
#include <stdarg.h>
#include <string.h>
#include <unistd.h>

#include "dispatch.h"
#include "log.h"
#include "state.h"

/* Descriptors attached to one reply, and the result members that index them. */
struct reply_fds {
	int fds[DISPATCH_MAX_CALL_FDS];
	json_t *idx[DISPATCH_MAX_CALL_FDS];
	unsigned n;
};

struct batch {
	struct dispatch_peer *peer;
	json_t *replies; /* slots in request order; null for notifications */
	struct reply_fds *fds; /* per slot, allocated when a reply carries any */
	size_t pending;
};

struct call {
	struct dispatch_peer *peer;
	const struct method *method;
	json_t *id;	     /* NULL: notification */
	struct batch *batch; /* NULL: single request */
	size_t index;
	json_t *response; /* held while waiting for durability */
	struct reply_fds fds;
};

static const struct method *const *method_tables;
static const size_t *method_sizes;
static size_t method_ntables;
static size_t max_batch = 1024;
static bool shutting_down;
static struct dispatch_stats stats;
static json_t *empty_params;

void dispatch_init(const struct method *const *tables, const size_t *sizes, size_t ntables)
{
	method_tables = tables;
	method_sizes = sizes;
	method_ntables = ntables;
}

void dispatch_exit(void)
{
	json_decref(TAKE_PTR(empty_params));
	method_tables = NULL;
	method_ntables = 0;
}

const struct method *dispatch_method_at(size_t i)
{
	for (size_t t = 0; t < method_ntables; t++) {
		if (i < method_sizes[t])
			return &method_tables[t][i];
		i -= method_sizes[t];
	}
	return NULL;
}

const struct method *dispatch_method_find(const char *name)
{
	const struct method *m;

	for (size_t i = 0; (m = dispatch_method_at(i)); i++)
		if (!strcmp(m->name, name))
			return m;
	return NULL;
}

void dispatch_set_max_batch(size_t n)
{
	max_batch = n;
}

size_t dispatch_get_max_batch(void)
{
	return max_batch;
}

void dispatch_set_shutting_down(bool b)
{
	shutting_down = b;
}

void dispatch_get_stats(struct dispatch_stats *ret)
{
	*ret = stats;
}

/* Peers. */

void dispatch_peer_init(struct dispatch_peer *p, const struct dispatch_peer_ops *ops)
{
	memset(p, 0, sizeof(*p));
	p->ops = ops;
	p->refs = 1;
}

void dispatch_peer_ref(struct dispatch_peer *p)
{
	p->refs++;
}

void dispatch_peer_unref(struct dispatch_peer *p)
{
	if (--p->refs == 0)
		p->ops->release(p);
}

static void (*gone_hooks[4])(struct dispatch_peer *p);

void dispatch_on_peer_gone(void (*fn)(struct dispatch_peer *p))
{
	for (size_t i = 0; i < ELEMENTSOF(gone_hooks); i++)
		if (!gone_hooks[i] || gone_hooks[i] == fn) {
			gone_hooks[i] = fn;
			return;
		}
	abort(); /* a programming error: raise the array size */
}

void dispatch_peer_gone(struct dispatch_peer *p)
{
	p->gone = true;
	for (size_t i = 0; i < ELEMENTSOF(gone_hooks) && gone_hooks[i]; i++)
		gone_hooks[i](p);
	dispatch_peer_unref(p);
}

int dispatch_peer_send(struct dispatch_peer *p, json_t *msg)
{
	size_t len;
	char *frame;

	if (p->gone) {
		json_decref(msg);
		return -EPIPE;
	}
	frame = jsonrpc_encode(msg, &len);
	json_decref(msg);
	if (!frame)
		return -ENOMEM;
	return p->ops->send(p, frame, len);
}

static void reply_fds_drop(struct dispatch_peer *p, struct reply_fds *f)
{
	for (unsigned i = 0; i < f->n; i++) {
		close(f->fds[i]);
		json_decref(f->idx[i]);
	}
	p->fds_attached -= f->n;
	f->n = 0;
}

/* dispatch_peer_send() with descriptors on the frame's first byte; steals msg and fds. */
static int peer_send_fds(struct dispatch_peer *p, json_t *msg, int *fds, unsigned n)
{
	size_t len;
	char *frame;

	if (n == 0 || p->gone || !p->ops->send_fds) {
		for (unsigned i = 0; i < n; i++)
			close(fds[i]);
		return dispatch_peer_send(p, msg);
	}
	frame = jsonrpc_encode(msg, &len);
	json_decref(msg);
	if (!frame) {
		for (unsigned i = 0; i < n; i++)
			close(fds[i]);
		return -ENOMEM;
	}
	return p->ops->send_fds(p, frame, len, fds, n);
}

/* Parameter validation. */

static const char *type_word(enum param_type t)
{
	switch (t) {
	case P_STRING:
		return "a string";
	case P_NETNS:
		return "a namespace name";
	case P_IFNAME:
		return "an interface name";
	case P_INT:
		return "an integer";
	case P_BOOL:
		return "a boolean";
	case P_OBJECT:
		return "an object";
	case P_ARRAY:
		return "an array";
	default:
		return "a value";
	}
}

static void join_field(char *out, size_t outlen, const char *prefix, const char *name)
{
	if (prefix && prefix[0])
		snprintf(out, outlen, "%s.%s", prefix, name);
	else
		snprintf(out, outlen, "%s", name);
}

static const char *validate_value(const struct param *p, json_t *v, char *field, size_t fieldlen);

static const char *validate_object(const struct param *spec, json_t *obj, char *field,
				   size_t fieldlen)
{
	char prefix[256];
	const char *key, *err;
	json_t *v;

	snprintf(prefix, sizeof(prefix), "%s", field);
	json_object_foreach(obj, key, v) {
		const struct param *p;

		for (p = spec; p->name; p++)
			if (!strcmp(p->name, key))
				break;
		if (!p->name) {
			join_field(field, fieldlen, prefix, key);
			return "unknown parameter";
		}
	}
	for (const struct param *p = spec; p->name; p++) {
		v = json_object_get(obj, p->name);
		join_field(field, fieldlen, prefix, p->name);
		if (!v || (json_is_null(v) && !p->required)) {
			if (p->required)
				return "missing required parameter";
			continue;
		}
		err = validate_value(p, v, field, fieldlen);
		if (err)
			return err;
	}
	field[0] = '\0';
	return NULL;
}

static const char *validate_value(const struct param *p, json_t *v, char *field, size_t fieldlen)
{
	static char msg[128];
	bool ok;

	switch (p->type) {
	case P_STRING:
	case P_NETNS:
	case P_IFNAME:
		ok = json_is_string(v);
		break;
	case P_INT:
		ok = json_is_integer(v);
		break;
	case P_BOOL:
		ok = json_is_boolean(v);
		break;
	case P_OBJECT:
		ok = json_is_object(v);
		break;
	case P_ARRAY:
		ok = json_is_array(v);
		break;
	default:
		ok = true;
	}
	if (!ok) {
		snprintf(msg, sizeof(msg), "must be %s", type_word(p->type));
		return msg;
	}
	if (p->type == P_NETNS && !netns_name_valid(json_string_value(v)))
		return "invalid namespace name: 1-64 characters of [A-Za-z0-9_.-], "
		       "not starting with '.' or '-'";
	if (p->type == P_IFNAME && !ifname_valid(json_string_value(v)))
		return "invalid interface name: 1-15 bytes, no '/', ':' or whitespace";
	if (p->min || p->max) {
		long long n = p->type == P_INT	   ? json_integer_value(v)
			      : p->type == P_ARRAY ? (long long)json_array_size(v)
						   : (long long)json_string_length(v);

		if (n < p->min || n > p->max) {
			snprintf(msg, sizeof(msg), "%s %s %lld..%lld",
				 p->type == P_INT ? "must be in" : "length must be in", "the range",
				 p->min, p->max);
			return msg;
		}
	}
	if (p->type == P_OBJECT && p->fields) {
		char here[256];
		const char *err;

		snprintf(here, sizeof(here), "%s", field);
		err = validate_object(p->fields, v, field, fieldlen);
		if (err)
			return err;
		snprintf(field, fieldlen, "%s", here); /* restore for check() */
	}
	if (p->check) {
		const char *sub = NULL, *err = p->check(v, &sub);

		if (err) {
			if (sub) {
				char base[256];

				snprintf(base, sizeof(base), "%s", field);
				join_field(field, fieldlen, base, sub);
			}
			return err;
		}
	}
	return NULL;
}

/*
 * A member name as a field path element: a NUL in it (decoded as JSONRPC_NUL_MARK) is
 * written as the escape the client sent.
 */
static void name_for_field(char *out, size_t outlen, const char *key)
{
	size_t n = 0;

	for (const char *k = key; *k && n + 7 < outlen;) {
		if (!strncmp(k, JSONRPC_NUL_MARK, strlen(JSONRPC_NUL_MARK))) {
			memcpy(out + n, "\\u0000", 6);
			n += 6;
			k += strlen(JSONRPC_NUL_MARK);
		} else {
			out[n++] = *k++;
		}
	}
	out[n] = '\0';
}

/*
 * Every string below v, names and values, at any depth: none may hold U+0000, which
 * each C string API (paths, names, argv, the environment) would cut short.  Checked here,
 * once for every method, before any spec or handler looks at the values.
 */
static const char *find_nul(json_t *v, char *field, size_t fieldlen)
{
	size_t plen = strlen(field), sep = plen ? 1 : 0, i;
	const char *key, *err;
	json_t *m;

	if (json_is_string(v))
		return jsonrpc_has_nul(json_string_value(v), json_string_length(v))
			   ? "must not contain NUL characters (U+0000)"
			   : NULL;
	if (json_is_object(v)) {
		json_object_foreach(v, key, m) {
			/* No buffer per level: params may nest as deep as the parser allows. */
			if (plen + sep + 1 < fieldlen) {
				field[plen] = '.';
				name_for_field(field + plen + sep, fieldlen - plen - sep, key);
			}
			if (jsonrpc_has_nul(key, strlen(key)))
				return "member names must not contain NUL characters (U+0000)";
			err = find_nul(m, field, fieldlen);
			if (err)
				return err;
		}
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, m) {
			snprintf(field + plen, fieldlen - plen, "%s%zu", plen ? "." : "", i);
			err = find_nul(m, field, fieldlen);
			if (err)
				return err;
		}
	}
	field[plen] = '\0';
	return NULL;
}

const char *dispatch_validate(const struct param *spec, json_t *params, char *field,
			      size_t fieldlen)
{
	static const struct param none[] = { { 0 } };
	const char *err;

	field[0] = '\0';
	err = find_nul(params, field, fieldlen);
	if (err)
		return err;
	return validate_object(spec ? spec : none, params, field, fieldlen);
}

/* Calls. */

static struct call *call_new(struct dispatch_peer *peer, json_t *id, struct batch *b, size_t index)
{
	struct call *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->peer = peer;
	dispatch_peer_ref(peer);
	peer->inflight++;
	c->id = json_incref(id);
	c->batch = b;
	c->index = index;
	stats.inflight++;
	stats.requests++;
	return c;
}

static void batch_finish(struct batch *b)
{
	json_t *out = json_array(), *item;
	int fds[DISPATCH_MAX_PEER_FDS];
	unsigned nfds = 0;
	size_t i;

	json_array_foreach(b->replies, i, item) {
		struct reply_fds *f = b->fds ? &b->fds[i] : NULL;

		if (json_is_null(item))
			continue;
		json_array_append(out, item);
		/* The line's descriptors, in the order of the replies. */
		for (unsigned k = 0; f && k < f->n; k++) {
			json_integer_set(f->idx[k], (json_int_t)nfds);
			json_decref(f->idx[k]);
			fds[nfds++] = f->fds[k];
		}
		if (f) {
			b->peer->fds_attached -= f->n;
			f->n = 0;
		}
	}
	if (json_array_size(out) > 0)
		peer_send_fds(b->peer, out, fds, nfds);
	else
		json_decref(out);
	free(b->fds);
	json_decref(b->replies);
	dispatch_peer_unref(b->peer);
	free(b);
}

/* Deliver a response (or nothing, for a notification) and free the call. */
static void call_deliver(struct call *c, json_t *response)
{
	/* Descriptors go with results only: never with errors or to notifications. */
	if (c->fds.n && !(response && c->id && json_object_get(response, "result")))
		reply_fds_drop(c->peer, &c->fds);
	if (c->batch) {
		struct batch *b = c->batch;

		if (c->fds.n && !b->fds)
			b->fds = calloc(json_array_size(b->replies), sizeof(*b->fds));
		if (c->fds.n && !b->fds)
			reply_fds_drop(c->peer, &c->fds);
		if (c->fds.n) {
			b->fds[c->index] = c->fds; /* counted in fds_attached until sent */
			c->fds.n = 0;
		}
		if (response && c->id)
			json_array_set_new(b->replies, c->index, response);
		else
			json_decref(response);
		if (--b->pending == 0)
			batch_finish(b);
	} else if (response && c->id) {
		unsigned n = c->fds.n;

		for (unsigned k = 0; k < n; k++)
			json_decref(c->fds.idx[k]);
		c->peer->fds_attached -= n;
		c->fds.n = 0;
		peer_send_fds(c->peer, response, c->fds.fds, n);
	} else {
		json_decref(response);
	}
	stats.inflight--;
	if (--c->peer->inflight == 0 && !c->peer->gone && c->peer->ops->settled)
		c->peer->ops->settled(c->peer);
	dispatch_peer_unref(c->peer);
	json_decref(c->id);
	free(c);
}

static void call_durable(void *data, int err)
{
	struct call *c = data;
	json_t *response = TAKE_PTR(c->response);

	if (err < 0) {
		json_decref(response);
		stats.errors++;
		response = jsonrpc_error(c->id, RPC_KIND_IO,
					 "The change was made but could not be persisted",
					 jsonrpc_error_data(RPC_KIND_IO, -err, NULL));
	}
	call_deliver(c, response);
}

void call_reply(struct call *c, json_t *result)
{
	json_t *response = jsonrpc_result(c->id, result);

	if (c->method && c->method->mutates && state_pending()) {
		c->response = response;
		state_barrier(call_durable, c);
		return;
	}
	call_deliver(c, response);
}

static void call_fail_v(struct call *c, int code, enum rpc_kind kind, int errnum, const char *field,
			const char *fmt, va_list ap)
{
	char msg[512];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	stats.errors++;
	call_deliver(c, jsonrpc_error(c->id, code, msg, jsonrpc_error_data(kind, errnum, field)));
}

void call_fail(struct call *c, enum rpc_kind kind, int errnum, const char *field, const char *fmt,
	       ...)
{
	va_list ap;

	va_start(ap, fmt);
	call_fail_v(c, kind == RPC_KIND_NONE ? JSONRPC_INTERNAL_ERROR : (int)kind, kind,
		    errnum < 0 ? -errnum : errnum, field, fmt, ap);
	va_end(ap);
}

void call_fail_errno(struct call *c, int errnum, const char *field, const char *fmt, ...)
{
	enum rpc_kind kind = jsonrpc_kind_from_errno(errnum);
	va_list ap;

	va_start(ap, fmt);
	call_fail_v(c, (int)kind, kind, errnum < 0 ? -errnum : errnum, field, fmt, ap);
	va_end(ap);
}

void call_fail_params(struct call *c, const char *field, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	call_fail_v(c, JSONRPC_INVALID_PARAMS, RPC_KIND_INVALID, 0, field, fmt, ap);
	va_end(ap);
}

struct dispatch_peer *call_peer(struct call *c)
{
	return c->peer;
}

int call_take_fd(struct call *c)
{
	if (c->peer->gone || !c->peer->ops->take_fd)
		return -EBADF;
	return c->peer->ops->take_fd(c->peer);
}

unsigned call_fd_room(struct call *c)
{
	struct dispatch_peer *p = c->peer;
	unsigned waiting = p->fds_attached + (p->ops->pending_fds ? p->ops->pending_fds(p) : 0);

	if (p->gone || !p->ops->send_fds || waiting >= DISPATCH_MAX_PEER_FDS)
		return 0;
	waiting = DISPATCH_MAX_PEER_FDS - waiting;
	return waiting < DISPATCH_MAX_CALL_FDS - c->fds.n ? waiting
							  : DISPATCH_MAX_CALL_FDS - c->fds.n;
}

json_t *call_attach_fd(struct call *c, int fd)
{
	struct dispatch_peer *p = c->peer;
	json_t *idx;

	if (p->gone || !p->ops->send_fds) {
		if (fd >= 0)
			close(fd);
		errno = EOPNOTSUPP;
		return NULL;
	}
	if (call_fd_room(c) == 0) {
		if (fd >= 0)
			close(fd);
		errno = ENOBUFS;
		return NULL;
	}
	idx = fd >= 0 ? json_integer((json_int_t)c->fds.n) : NULL;
	if (!idx) {
		if (fd >= 0)
			close(fd);
		errno = ENOMEM;
		return NULL;
	}
	c->fds.fds[c->fds.n] = fd;
	c->fds.idx[c->fds.n++] = json_incref(idx);
	p->fds_attached++;
	return idx;
}

/* Run one request (a frame, or an item of a batch). */
static void dispatch_item(struct dispatch_peer *peer, json_t *item, struct batch *b, size_t index)
{
	struct jsonrpc_request req;
	const struct method *m;
	struct call *c;
	char field[256];
	const char *err;

	jsonrpc_request_parse(item, &req);
	c = call_new(peer, req.error_code ? (req.id ?: json_null()) : req.id, b, index);
	if (!c) {
		log_error("Failed to allocate a call: out of memory");
		if (b && --b->pending == 0)
			batch_finish(b);
		return;
	}
	if (req.error_code) {
		stats.errors++;
		call_deliver(c, jsonrpc_error(c->id, req.error_code, req.error_message, NULL));
		return;
	}
	if (!peer->privileged)
		return call_fail(c, RPC_KIND_PERMISSION, EACCES, NULL,
				 "Permission denied: uid %u is neither root nor in the admin group",
				 (unsigned)peer->uid);
	if (shutting_down)
		return call_fail(c, RPC_KIND_SHUTTING_DOWN, 0, NULL, "netnsd is shutting down");
	m = dispatch_method_find(req.method);
	if (!m) {
		stats.errors++;
		call_deliver(c, jsonrpc_error(c->id, JSONRPC_METHOD_NOT_FOUND, "Method not found",
					      json_pack("{s:s}", "method", req.method)));
		return;
	}
	if (req.params && json_is_array(req.params))
		return call_fail_params(c, NULL,
					"Invalid params: params must be an object (by name)");
	if (!empty_params)
		empty_params = json_object();
	if (!req.params)
		req.params = empty_params;
	err = dispatch_validate(m->params, req.params, field, sizeof(field));
	if (err)
		return call_fail_params(c, field, "Invalid params: %s: %s", field, err);
	c->method = m;
	json_incref(req.params);
	m->fn(c, req.params);
	json_decref(req.params);
}

void dispatch_frame(struct dispatch_peer *peer, const char *buf, size_t len)
{
	json_t *msg = NULL, *item;
	char errbuf[256];
	size_t i;
	int code;

	code = jsonrpc_decode(buf, len, &msg, errbuf, sizeof(errbuf));
	if (code) {
		stats.requests++;
		stats.errors++;
		dispatch_peer_send(peer, jsonrpc_error(NULL, code, errbuf, NULL));
		return;
	}
	if (json_is_object(msg)) {
		dispatch_item(peer, msg, NULL, 0);
	} else if (json_array_size(msg) > max_batch) {
		stats.requests++;
		stats.errors++;
		snprintf(errbuf, sizeof(errbuf),
			 "Invalid Request: batch of %zu requests exceeds the limit of %zu",
			 json_array_size(msg), max_batch);
		dispatch_peer_send(peer,
				   jsonrpc_error(NULL, JSONRPC_INVALID_REQUEST, errbuf,
						 jsonrpc_error_data(RPC_KIND_LIMIT, 0, NULL)));
	} else {
		struct batch *b = calloc(1, sizeof(*b));

		if (!b) {
			json_decref(msg);
			return;
		}
		b->peer = peer;
		dispatch_peer_ref(peer);
		b->replies = json_array();
		b->pending = json_array_size(msg) + 1; /* +1 until every item started */
		json_array_foreach(msg, i, item)
			json_array_append_new(b->replies, json_null());
		json_array_foreach(msg, i, item)
			dispatch_item(peer, item, b, i);
		if (--b->pending == 0)
			batch_finish(b);
	}
	json_decref(msg);
}
