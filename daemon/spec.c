/*
 * spec.c: JSON documents of the desired state <-> C specs (see spec.h).
 */
#include <string.h>

#include "spec.h"
#include "util.h"

const char *spec_sysctls_check(json_t *v, const char **ret_key)
{
	const char *key;
	json_t *val;

	json_object_foreach(v, key, val) {
		size_t n = strlen(key);

		*ret_key = key;
		if (strncmp(key, "net.", 4) && strncmp(key, "net/", 4))
			return "only per-namespace sysctls under net. can be set";
		if (n > 200 || strstr(key, "..") || strstr(key, "//") || key[n - 1] == '.' ||
		    key[n - 1] == '/')
			return "malformed sysctl name";
		for (size_t i = 0; i < n; i++) {
			char c = key[i];

			if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			      (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.' ||
			      c == '/'))
				return "malformed sysctl name";
		}
		if (json_is_string(val)) {
			const char *s = json_string_value(val);

			if (json_string_length(val) > 4096 || strlen(s) != json_string_length(val))
				return "sysctl value too long or contains NUL";
		} else if (!json_is_integer(val) && !json_is_boolean(val)) {
			return "sysctl value must be a string, an integer or a boolean";
		}
	}
	*ret_key = NULL;
	return NULL;
}

void spec_netns_done(struct netns_spec_buf *buf)
{
	for (size_t i = 0; buf->values && i < buf->spec.n_sysctls; i++)
		free(buf->values[i]);
	free(buf->values);
	free(buf->sysctls);
	memset(buf, 0, sizeof(*buf));
}

int spec_netns_from_json(const char *name, json_t *doc, struct netns_spec_buf *buf)
{
	json_t *v, *sysctls;
	const char *key;
	size_t i = 0, n;

	memset(buf, 0, sizeof(*buf));
	buf->spec.name = name;
	buf->spec.nsid = -1;
	v = json_object_get(doc, "nsid");
	if (json_is_integer(v))
		buf->spec.nsid = (int)json_integer_value(v);
	v = json_object_get(doc, "resolv_conf");
	if (json_is_string(v))
		buf->spec.resolv_conf = json_string_value(v);
	v = json_object_get(doc, "hosts");
	if (json_is_string(v))
		buf->spec.hosts = json_string_value(v);
	sysctls = json_object_get(doc, "sysctls");
	if (!json_is_object(sysctls) || (n = json_object_size(sysctls)) == 0)
		return 0;
	buf->sysctls = calloc(n, sizeof(*buf->sysctls));
	buf->values = calloc(n, sizeof(char *));
	if (!buf->sysctls || !buf->values)
		goto oom;
	json_object_foreach(sysctls, key, v) {
		if (json_is_string(v))
			buf->values[i] = strdup(json_string_value(v));
		else if (json_is_integer(v))
			asprintf(&buf->values[i], "%lld", (long long)json_integer_value(v));
		else if (json_is_boolean(v))
			buf->values[i] = strdup(json_is_true(v) ? "1" : "0");
		else
			return spec_netns_done(buf), -EINVAL;
		if (!buf->values[i])
			goto oom;
		buf->sysctls[i] = (struct netns_sysctl){ key, buf->values[i] };
		buf->spec.n_sysctls = ++i;
	}
	buf->spec.sysctls = buf->sysctls;
	return 0;
oom:
	spec_netns_done(buf);
	return -ENOMEM;
}

json_t *spec_netns_to_json(const struct netns_spec *spec, const struct netns_id *id,
			   const char *boot_id, const char *created)
{
	json_t *doc = json_object();

	if (spec->nsid >= 0)
		json_object_set_new(doc, "nsid", json_integer(spec->nsid));
	if (spec->n_sysctls) {
		json_t *s = json_object();

		for (size_t i = 0; i < spec->n_sysctls; i++)
			json_object_set_new(s, spec->sysctls[i].key,
					    json_string(spec->sysctls[i].value));
		json_object_set_new(doc, "sysctls", s);
	}
	if (spec->resolv_conf)
		json_object_set_new(doc, "resolv_conf", json_string(spec->resolv_conf));
	if (spec->hosts)
		json_object_set_new(doc, "hosts", json_string(spec->hosts));
	json_object_set_new(doc, "created", json_string(created));
	json_object_set_new(doc, "identity",
			    json_pack("{s:I,s:I,s:s}", "dev", (json_int_t)id->dev, "ino",
				      (json_int_t)id->ino, "boot_id", boot_id));
	return doc;
}

bool spec_netns_identity(json_t *doc, struct netns_id *ret)
{
	json_t *ident = json_object_get(doc, "identity");
	json_t *dev = json_object_get(ident, "dev"), *ino = json_object_get(ident, "ino");

	if (!json_is_integer(dev) || !json_is_integer(ino))
		return false;
	*ret = (struct netns_id){ (uint64_t)json_integer_value(dev),
				  (uint64_t)json_integer_value(ino) };
	return true;
}
