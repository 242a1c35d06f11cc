/*
 * spec.h: the desired state's JSON documents <-> the domain modules' C specs.
 * Pure functions (no I/O), shared by the methods that accept a spec and by
 * reconcile, which re-applies stored specs.  The stored document of an
 * object uses the same member names as the method that created it.
 */
#pragma once

#include <jansson.h>

#include "netns.h"

/* A netns spec borrowing from a JSON document; free with spec_netns_done(). */
struct netns_spec_buf {
	struct netns_spec spec;
	struct netns_sysctl *sysctls;
	char **values; /* sysctl values printed as strings */
};

/*
 * Fill buf from doc ({nsid?, sysctls?, resolv_conf?, hosts?}, the members of
 * netns.add and of the stored state).  doc must outlive buf.  Returns 0 or
 * -EINVAL/-ENOMEM.
 */
int spec_netns_from_json(const char *name, json_t *doc, struct netns_spec_buf *buf);
void spec_netns_done(struct netns_spec_buf *buf);

/*
 * The stored document of a namespace: its spec, when it was created
 * ("created", RFC 3339) and the identity it had when netnsd last mounted or
 * adopted it ({"identity": {"dev", "ino", "boot_id"}}).
 */
json_t *spec_netns_to_json(const struct netns_spec *spec, const struct netns_id *id,
			   const char *boot_id, const char *created);
/* The identity recorded in a stored document; false when it has none. */
bool spec_netns_identity(json_t *doc, struct netns_id *ret);

/*
 * Check a sysctls object: keys under "net." (dots or slashes, no ".."), values
 * strings, integers or booleans.  Returns NULL or a message; *ret_key names
 * the offending key.
 */
const char *spec_sysctls_check(json_t *v, const char **ret_key);
