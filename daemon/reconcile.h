/*
 * reconcile.h: make the kernel match the desired state at start-up.
 *
 * For every stored namespace: adopt it when the same namespace is still
 * mounted (a daemon restart), recreate it from its spec when it is gone (a
 * reboot), and report it when neither works.  A failure never stops the
 * rest.  The report is kept for daemon.info.
 */
#pragma once

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

int reconcile_run(void);
const struct reconcile_item *reconcile_report(size_t *ret_n);
const char *reconcile_action_name(enum reconcile_action a);
void reconcile_exit(void);
