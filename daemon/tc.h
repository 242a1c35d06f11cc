/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * tc: link impairments as the root queueing discipline of a link, over rtnetlink (no tc(8)
 * subprocess), through an nl handle (see nl.h: same namespace rules, errors and batches).
 *
 * An impairment is what netem and tbf do: delay with jitter, loss, duplication, reordering
 * and corruption (netem), and a rate limit (tbf alone, or netem's own rate option when netem
 * is needed anyway). One root qdisc carries all of it, so a link has exactly one of: the
 * kernel's default, a tbf, a netem. Changes replace the root qdisc in one message
 * (RTM_NEWQDISC with NLM_F_CREATE | NLM_F_REPLACE): the kernel either changes or grafts it
 * whole, or leaves the old one in place.
 *
 * This module knows nothing of JSON; units are the kernel's where they are exact.
 */

#include <stdbool.h>
#include <stdint.h>

#include "nl.h"

/* A probability as the kernel stores it: 0 is never, UINT32_MAX always. */
#define TC_PROB_MAX UINT32_MAX

struct tc_impair {
	uint64_t delay_ns, jitter_ns; /* jitter needs delay */
	uint32_t loss, duplicate, reorder, corrupt; /* probabilities; reorder needs delay */
	uint64_t rate;				    /* bytes per second; 0: unlimited */
};

/* Whether imp asks for anything at all; and whether it needs netem (more than a rate). */
bool tc_impair_is_set(const struct tc_impair *imp);
bool tc_impair_needs_netem(const struct tc_impair *imp);

/*
 * Makes imp the impairment of dev: replaces the root qdisc with a tbf or a netem, or, when
 * imp asks for nothing, deletes a tbf or netem root qdisc (back to the kernel's default;
 * another root qdisc is left alone). mtu sizes the tbf bucket (0: 1500). Returns 0 or
 * -errno: -EOPNOTSUPP when the kernel lacks the qdisc (sch_netem): nothing changed then,
 * -EINVAL for what netem refuses (jitter or reorder without delay). Inside a batch the
 * change is queued like any other, and a missing qdisc shows at nl_batch_end() as the
 * kernel's -ENOENT ("Specified qdisc kind is unknown").
 */
int tc_impair_set(struct nl *nl, struct nl_dev dev, uint32_t mtu, const struct tc_impair *imp);

/* The root qdisc of one link as the kernel reports it. */
struct tc_root {
	int ifindex;
	char kind[NL_KIND_MAX];	 /* "tbf", "netem", "noqueue", "fq_codel", ... */
	bool impair;		 /* kind is tbf or netem: imp holds its settings */
	struct tc_impair imp;
};

/*
 * Reads the root qdisc of dev (kind "" when the kernel reports none). Returns 0 or -errno.
 */
int tc_root_get(struct nl *nl, struct nl_dev dev, struct tc_root *ret);

/*
 * Reads the root qdiscs of every link of the handle's namespace in one dump: *ret is an
 * array sorted by ifindex, the caller's to free() (NULL for none). Returns the count or
 * -errno.
 */
int tc_root_list(struct nl *nl, struct tc_root **ret);

/* The entry for ifindex in a list from tc_root_list(), or NULL. */
const struct tc_root *tc_root_find(const struct tc_root *roots, int n, int ifindex);

/*
 * Parse an RTM_NEWQDISC or RTM_DELQDISC as it arrives on a multicast socket (RTNLGRP_TC).
 * Returns 0, -EAGAIN for a qdisc that is not a link's root, or -EBADMSG.
 */
struct nlmsghdr;
int tc_msg_root(const struct nlmsghdr *nlh, struct tc_root *ret);
