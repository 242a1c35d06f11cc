/*
 * nlcache.h: one rtnetlink handle (struct nl) per network namespace, opened
 * on first use and kept, so a burst of changes in one namespace pays for the
 * namespace switch once.  A handle is checked against the namespace's
 * identity on every lookup: a namespace deleted and made again under the same
 * name gets a new handle.
 */
#pragma once

#include "nl.h"

void nlcache_exit(void);

/*
 * A borrowed handle for namespace netns (NULL: the host).  Returns 0,
 * -ENOENT when no namespace of that name is mounted, or another -errno.
 */
int nlcache_get(const char *netns, struct nl **ret);

/* Close the handle of netns, if any (before the namespace goes away). */
void nlcache_forget(const char *netns);
