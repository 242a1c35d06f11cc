/*
 * reconcile.c: start-up reconciliation of the desired state (see reconcile.h).
 */
#include <stdarg.h>
#include <string.h>

#include "log.h"
#include "netns.h"
#include "reconcile.h"
#include "spec.h"
#include "state.h"

static struct reconcile_item *items;
static size_t nitems;

const char *reconcile_action_name(enum reconcile_action a)
{
	static const char *const names[] = { "adopted", "recreated", "failed" };

	return names[a];
}

static void report(const char *kind, const char *name, enum reconcile_action a, int err,
		   const char *fmt, ...) _printf_(5, 6);
static void report(const char *kind, const char *name, enum reconcile_action a, int err,
		   const char *fmt, ...)
{
	struct reconcile_item *n = realloc(items, (nitems + 1) * sizeof(*items));
	char *msg = NULL;
	va_list ap;

	if (!n)
		return;
	items = n;
	if (fmt) {
		va_start(ap, fmt);
		if (vasprintf(&msg, fmt, ap) < 0)
			msg = NULL;
		va_end(ap);
	}
	items[nitems++] = (struct reconcile_item){ strdup(kind), strdup(name), a, err, msg };
	if (a == RECONCILE_FAILED)
		log_error("Failed to restore %s '%s': %s", kind, name, msg ? msg : strerror(-err));
	else
		log_info("%s %s '%s'", a == RECONCILE_ADOPTED ? "Adopted" : "Recreated", kind, name);
}

static void netns_restore(const char *name, json_t *doc)
{
	struct netns_id id, rec;
	struct netns_spec_buf buf;
	struct netns_failure fail;
	json_t *created;
	bool same_boot;
	int r;

	r = netns_stat(name, &id);
	same_boot = !strcmp(json_string_value(json_object_get(
				    json_object_get(doc, "identity"), "boot_id")) ?: "",
			    netns_boot_id());
	if (r == 0) {
		if (spec_netns_identity(doc, &rec) && netns_id_equal(&id, &rec))
			return report("netns", name, RECONCILE_ADOPTED, 0, NULL);
		if (same_boot)
			/* Ours was deleted and someone else mounted another one there. */
			return report("netns", name, RECONCILE_FAILED, -EEXIST,
				      "a namespace netnsd did not create is mounted on "
				      NETNS_RUN_DIR "/%s; left alone",
				      name);
		/*
		 * After a reboot no inode can match; the name was claimed during
		 * boot, most likely by a script that predates netnsd.  Adopting it
		 * would take ownership of something we did not make.
		 */
		return report("netns", name, RECONCILE_FAILED, -EEXIST,
			      NETNS_RUN_DIR "/%s was created by someone else after the reboot; "
			      "left alone",
			      name);
	}
	if (r == -ENOTCONN)
		netns_remove(name); /* our stale placeholder */
	else if (r != -ENOENT)
		return report("netns", name, RECONCILE_FAILED, r, "%s", strerror(-r));

	r = spec_netns_from_json(name, doc, &buf);
	if (r < 0)
		return report("netns", name, RECONCILE_FAILED, r, "unreadable spec");
	r = netns_create(&buf.spec, &id, &fail);
	if (r == 0) {
		created = json_object_get(doc, "created");
		r = state_put("netns", name,
			      spec_netns_to_json(&buf.spec, &id, netns_boot_id(),
						 json_string_value(created) ?: ""));
		if (r < 0) {
			netns_etc_remove(name);
			netns_remove(name);
		}
	}
	spec_netns_done(&buf);
	if (r < 0)
		return report("netns", name, RECONCILE_FAILED, r, "%s", strerror(-r));
	report("netns", name, RECONCILE_RECREATED, 0, NULL);
}

int reconcile_run(void)
{
	json_t *coll = state_collection("netns"), *doc;
	size_t adopted = 0, recreated = 0, failed = 0;
	const char *name;

	json_object_foreach(coll, name, doc)
		netns_restore(name, doc);
	for (size_t i = 0; i < nitems; i++) {
		adopted += items[i].action == RECONCILE_ADOPTED;
		recreated += items[i].action == RECONCILE_RECREATED;
		failed += items[i].action == RECONCILE_FAILED;
	}
	if (nitems)
		log_notice("Restored state: %zu adopted, %zu recreated, %zu failed", adopted,
			   recreated, failed);
	return (int)failed;
}

const struct reconcile_item *reconcile_report(size_t *ret_n)
{
	*ret_n = nitems;
	return items;
}

void reconcile_exit(void)
{
	for (size_t i = 0; i < nitems; i++) {
		free(items[i].kind);
		free(items[i].name);
		free(items[i].message);
	}
	free(TAKE_PTR(items));
	nitems = 0;
}
