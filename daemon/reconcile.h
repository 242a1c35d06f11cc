/*
 * reconcile.h: make the kernel match the desired state at start-up.
 *
 * For every stored namespace: adopt it when the same namespace is still
 * mounted (a daemon restart), recreate it from its spec when it is gone (a
 * reboot), and report it when neither works.  A failure never stops the
 * rest.  The report is kept for daemon.info.
 */
#pragma once

#include <jansson.h>
#include <stddef.h>

enum reconcile_action {
	RECONCILE_ADOPTED,
	RECONCILE_RECREATED,
	RECONCILE_FAILED,
};

struct reconcile_item {
	char *kind; /* "netns" */
	char *name;
	enum reconcile_action action;
	int err;       /* -errno, for RECONCILE_FAILED */
	char *message; /* why it failed */
};

/*
 * Restore the state; first undo what the kernel kept of changes that a crash
 * stopped before they were recorded (state_intent_recover()).
 */
int reconcile_run(void);
/*
 * The intent record (for state_intent_begin()) of a change to the object
 * kind/key (a state collection and key; a namespace's key is its name): doc
 * names it in the kernel ({"netns", "name"} for a link, the stored doc of an
 * address or route).  Takes the reference to doc.
 */
json_t *reconcile_intent(const char *kind, const char *key, json_t *doc);
/* The doc of a link's intent: {"netns", "name", "peer"?: {"netns", "name"}}. */
struct link_desc;
json_t *reconcile_link_intent(const struct link_desc *d);
/*
 * The doc of a link's rename or move (link.set) from netns/name, the link's ifindex there,
 * to to_ns/to_name: {"netns", "name", "ifindex", "moved_to": {"netns", "name"}}.  Its
 * intent's key is the link's old key; at start, unless the state holds the new key, the
 * link is put back under its old name and namespace.
 */
json_t *reconcile_link_move_intent(const char *netns, const char *name, int ifindex,
				   const char *to_ns, const char *to_name);
const struct reconcile_item *reconcile_report(size_t *ret_n);
const char *reconcile_action_name(enum reconcile_action a);
void reconcile_exit(void);
