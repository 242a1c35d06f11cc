/*
 * jsonrpc.c: JSON-RPC 2.0 envelope handling (pure; see jsonrpc.h).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonrpc.h"
#include "util.h"

static const char *const kind_names[_RPC_KIND_MAX] = {
	[RPC_KIND_NONE] = "internal",
	[RPC_KIND_NOT_FOUND] = "not_found",
	[RPC_KIND_EXISTS] = "exists",
	[RPC_KIND_BUSY] = "busy",
	[RPC_KIND_INVALID] = "invalid",
	[RPC_KIND_PERMISSION] = "permission",
	[RPC_KIND_KERNEL] = "kernel",
	[RPC_KIND_IO] = "io",
	[RPC_KIND_LIMIT] = "limit",
	[RPC_KIND_SHUTTING_DOWN] = "shutting_down",
	[RPC_KIND_UNSUPPORTED] = "unsupported",
	[RPC_KIND_TIMEOUT] = "timeout",
};

const char *jsonrpc_kind_name(enum rpc_kind kind)
{
	if (kind < 0 || kind >= _RPC_KIND_MAX)
		return "internal";
	return kind_names[kind];
}

enum rpc_kind jsonrpc_kind_from_errno(int errnum)
{
	switch (errnum < 0 ? -errnum : errnum) {
	case ENOENT:
	case ENODEV:
	case ESRCH:
	case ENXIO:
		return RPC_KIND_NOT_FOUND;
	case EEXIST:
	case ENOTEMPTY:
		return RPC_KIND_EXISTS;
	case EBUSY:
	case EAGAIN:
		return RPC_KIND_BUSY;
	case EINVAL:
	case ERANGE:
	case ENAMETOOLONG:
		return RPC_KIND_INVALID;
	case EPERM:
	case EACCES:
		return RPC_KIND_PERMISSION;
	case EIO:
	case ENOSPC:
	case EROFS:
	case EDQUOT:
		return RPC_KIND_IO;
	case EMFILE:
	case ENFILE:
	case ENOMEM:
	case ENOBUFS:
		return RPC_KIND_LIMIT;
	case EOPNOTSUPP:
	case EAFNOSUPPORT:
	case EPROTONOSUPPORT:
		return RPC_KIND_UNSUPPORTED;
	case ETIMEDOUT:
		return RPC_KIND_TIMEOUT;
	default:
		return RPC_KIND_KERNEL;
	}
}

/*
 * jansson decodes U+0000 in string values (JSON_ALLOW_NUL) but never in member names.
 * RFC 8259 allows both, and refusing the whole frame would lose the id.  So when that is
 * the only trouble, each \u0000 escape inside a member name is rewritten to \uffff (same
 * length, so error positions stay right) and the copy decoded: the names then hold
 * JSONRPC_NUL_MARK, which the envelope and the params checks refuse.  Values are left
 * alone.  Returns a malloc'd copy, or NULL when there was nothing to rewrite.
 */
static char *mark_nul_in_names(const char *buf, size_t len)
{
	size_t i = 0, marks[64], nmarks = 0;
	bool in_string = false, changed = false;
	char *copy = malloc(len ? len : 1);

	if (!copy)
		return NULL;
	memcpy(copy, buf, len);
	while (i < len) {
		char ch = copy[i];

		if (!in_string) {
			if (ch == '"') {
				in_string = true;
				nmarks = 0;
			}
			i++;
		} else if (ch == '\\' && i + 1 < len) {
			if (copy[i + 1] == 'u' && i + 6 <= len &&
			    !memcmp(copy + i + 2, "0000", 4) && nmarks < ELEMENTSOF(marks))
				marks[nmarks++] = i + 2;
			i += copy[i + 1] == 'u' ? 6 : 2;
		} else if (ch == '"') {
			size_t j = i + 1;

			while (j < len && copy[j] && strchr(" \t\r\n", copy[j]))
				j++;
			if (j < len && copy[j] == ':')
				for (size_t k = 0; k < nmarks; k++) {
					memcpy(copy + marks[k], "ffff", 4);
					changed = true;
				}
			in_string = false;
			i++;
		} else {
			i++;
		}
	}
	if (!changed) {
		free(copy);
		return NULL;
	}
	return copy;
}

int jsonrpc_decode(const char *buf, size_t len, json_t **ret, char *errbuf, size_t errlen)
{
	const size_t flags = JSON_REJECT_DUPLICATES | JSON_DECODE_ANY | JSON_ALLOW_NUL;
	json_error_t jerr;
	json_t *msg;

	msg = json_loadb(buf, len, flags, &jerr);
	if (!msg && json_error_code(&jerr) == json_error_null_byte_in_key) {
		_cleanup_(freep) char *marked = mark_nul_in_names(buf, len);

		if (marked)
			msg = json_loadb(marked, len, flags, &jerr);
	}
	if (!msg) {
		snprintf(errbuf, errlen, "Parse error: %s at line %d column %d", jerr.text,
			 jerr.line, jerr.column);
		return JSONRPC_PARSE_ERROR;
	}
	if (json_is_array(msg) && json_array_size(msg) == 0) {
		json_decref(msg);
		snprintf(errbuf, errlen, "Invalid Request: empty batch");
		return JSONRPC_INVALID_REQUEST;
	}
	if (!json_is_array(msg) && !json_is_object(msg)) {
		json_decref(msg);
		snprintf(errbuf, errlen, "Invalid Request: expected an object or an array");
		return JSONRPC_INVALID_REQUEST;
	}
	*ret = msg;
	return 0;
}

bool jsonrpc_has_nul(const char *s, size_t len)
{
	return memchr(s, '\0', len) || memmem(s, len, JSONRPC_NUL_MARK, strlen(JSONRPC_NUL_MARK));
}

static void invalid(struct jsonrpc_request *r, const char *msg)
{
	r->error_code = JSONRPC_INVALID_REQUEST;
	r->error_message = msg;
}

void jsonrpc_request_parse(json_t *item, struct jsonrpc_request *r)
{
	json_t *v, *id;
	const char *key;

	memset(r, 0, sizeof(*r));
	if (!json_is_object(item))
		return invalid(r, "Invalid Request: a request must be an object");

	/* Decide the id first so that every later error can echo it. */
	id = json_object_get(item, "id");
	if (id && (json_is_string(id) || json_is_number(id) || json_is_null(id)))
		r->id = id;
	else if (id)
		return invalid(r, "Invalid Request: id must be a string, a number or null");

	v = json_object_get(item, "jsonrpc");
	if (!json_is_string(v) || json_string_length(v) != 3 || strcmp(json_string_value(v), "2.0"))
		return invalid(r, "Invalid Request: jsonrpc must be \"2.0\"");
	v = json_object_get(item, "method");
	if (!json_is_string(v))
		return invalid(r, "Invalid Request: method must be a string");
	/* A C string would end at the NUL: "daemon.ping\u0000x" must not run daemon.ping. */
	if (jsonrpc_has_nul(json_string_value(v), json_string_length(v)))
		return invalid(r, "Invalid Request: method must not contain NUL characters");
	r->method = json_string_value(v);
	v = json_object_get(item, "params");
	if (v && !json_is_object(v) && !json_is_array(v))
		return invalid(r, "Invalid Request: params must be an object or an array");
	r->params = v;
	json_object_foreach(item, key, v) {
		if (strcmp(key, "jsonrpc") && strcmp(key, "method") && strcmp(key, "params") &&
		    strcmp(key, "id"))
			return invalid(r, jsonrpc_has_nul(key, strlen(key))
					      ? "Invalid Request: member names must not contain "
						"NUL characters"
					      : "Invalid Request: unknown member in request");
	}
}

static json_t *envelope(json_t *id)
{
	json_t *m = json_object();

	json_object_set_new(m, "jsonrpc", json_string("2.0"));
	json_object_set(m, "id", id ? id : json_null());
	return m;
}

json_t *jsonrpc_result(json_t *id, json_t *result)
{
	json_t *m = envelope(id);

	json_object_set_new(m, "result", result ? result : json_object());
	return m;
}

/*
 * A message may quote the peer's bytes (a parse error "near ..."), which need
 * not be UTF-8; a JSON string must be.  Such bytes become '?'.
 */
static json_t *message_string(const char *message)
{
	json_t *s = json_string(message ? message : "Error");
	char *copy;

	if (s)
		return s;
	copy = strdup(message);
	if (!copy)
		return json_string("Error");
	for (char *p = copy; *p; p++)
		if ((unsigned char)*p >= 0x80 || (unsigned char)*p < 0x20)
			*p = '?';
	s = json_string(copy);
	free(copy);
	return s ? s : json_string("Error");
}

json_t *jsonrpc_error(json_t *id, int code, const char *message, json_t *data)
{
	json_t *m = envelope(id), *e = json_object();

	json_object_set_new(e, "code", json_integer(code));
	json_object_set_new(e, "message", message_string(message));
	if (data)
		json_object_set_new(e, "data", data);
	json_object_set_new(m, "error", e);
	return m;
}

json_t *jsonrpc_error_data(enum rpc_kind kind, int errnum, const char *field)
{
	json_t *d = json_object();

	json_object_set_new(d, "kind", json_string(jsonrpc_kind_name(kind)));
	if (errnum > 0)
		json_object_set_new(d, "errno", json_integer(errnum));
	if (field)
		json_object_set_new(d, "field", json_string(field));
	return d;
}

/* The fewest significant digits (1..17) that print d so it reads back equal. */
static int shortest_precision(double d)
{
	char buf[64];

	for (int p = 1; p < 17; p++) {
		snprintf(buf, sizeof(buf), "%.*g", p, d);
		if (strtod(buf, NULL) == d)
			return p;
	}
	return 17;
}

/*
 * A fractional id is printed with the fewest digits that read back as the
 * same double.  JSON_REAL_PRECISION would apply to every real in the message,
 * so the message is encoded without its id and the id written in by hand:
 * envelope() puts "jsonrpc" first, and jansson keeps insertion order.
 */
static char *encode_one(json_t *msg)
{
	static const char head[] = "{\"jsonrpc\":\"2.0\",";
	json_t *id = json_object_get(msg, "id");
	char idtext[64], *s, *out, *p;
	size_t n;

	if (!json_is_real(id) || !isfinite(json_real_value(id)))
		return json_dumps(msg, JSON_COMPACT);
	snprintf(idtext, sizeof(idtext), "%.*g", shortest_precision(json_real_value(id)),
		 json_real_value(id));
	/* As jansson prints reals: "1e20", "-2.25e-7" (no '+', no leading zeros), "3.0". */
	if ((p = strchr(idtext, 'e'))) {
		char *q = p + 1, *d;

		if (*q == '+')
			memmove(q, q + 1, strlen(q));
		else if (*q == '-')
			q++;
		for (d = q; *d == '0' && d[1]; d++)
			;
		memmove(q, d, strlen(d) + 1);
	} else if (!strchr(idtext, '.')) {
		strcat(idtext, ".0"); /* a real stays a real */
	}
	json_incref(id);
	json_object_del(msg, "id");
	s = json_dumps(msg, JSON_COMPACT);
	json_object_set_new(msg, "id", id);
	if (!s || strncmp(s, head, sizeof(head) - 1)) {
		free(s);
		return json_dumps(msg, JSON_COMPACT);
	}
	n = strlen(s) + strlen(idtext) + 8;
	out = malloc(n);
	if (out)
		snprintf(out, n, "%s\"id\":%s,%s", head, idtext, s + sizeof(head) - 1);
	free(s);
	return out;
}

/*
 * A batch reply is encoded item by item so that each fractional id gets its
 * own precision.
 */
char *jsonrpc_encode(json_t *msg, size_t *ret_len)
{
	char *out = NULL;
	size_t len = 0, i;
	FILE *f;
	json_t *item;

	f = open_memstream(&out, &len);
	if (!f)
		return NULL;
	if (json_is_array(msg)) {
		fputc('[', f);
		json_array_foreach(msg, i, item) {
			_cleanup_(freep) char *s = encode_one(item);

			if (!s)
				goto fail;
			fprintf(f, "%s%s", i ? "," : "", s);
		}
		fputc(']', f);
	} else {
		_cleanup_(freep) char *s = encode_one(msg);

		if (!s)
			goto fail;
		fputs(s, f);
	}
	fputc('\n', f);
	if (fclose(f) != 0) {
		free(out);
		return NULL;
	}
	*ret_len = len;
	return out;
fail:
	fclose(f);
	free(out);
	return NULL;
}
