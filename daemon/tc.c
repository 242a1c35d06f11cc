/* SPDX-License-Identifier: GPL-2.0-or-later */

/*
 * tc: link impairments as root qdiscs (see tc.h), built with nl's request machinery.
 *
 * tbf is given its bucket in bytes (TCA_TBF_BURST) and a link-layer-aware rate, so the
 * kernel needs no rate table; netem gets every option in every message, because the kernel
 * keeps an option that a change leaves out (a corrupt probability would survive its removal).
 */

#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "tc.h"
#include "util.h"

/* The kernel's scheduler clock: one tick is 2^6 ns (PSCHED_SHIFT), in every kernel since 2.6.31. */
#define TC_TICK_SHIFT 6
/* netem's queue, in packets (tc(8)'s default). */
#define TC_NETEM_LIMIT 1000
/* tbf: the bucket holds 10 ms of traffic, at least four full frames; the queue 100 ms more. */
#define TC_TBF_BURST_MS	 10
#define TC_TBF_BURST_PKTS 4
#define TC_TBF_QUEUE_MS	 100

bool tc_impair_is_set(const struct tc_impair *imp)
{
	return tc_impair_needs_netem(imp) || imp->rate;
}

bool tc_impair_needs_netem(const struct tc_impair *imp)
{
	return imp->delay_ns || imp->jitter_ns || imp->loss || imp->duplicate || imp->reorder ||
	       imp->corrupt;
}

static uint32_t ns_to_ticks(uint64_t ns)
{
	uint64_t t = ns >> TC_TICK_SHIFT;

	return t > UINT32_MAX ? UINT32_MAX : (uint32_t)t;
}

static uint32_t clamp_u32(uint64_t v)
{
	return v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
}

/* A root qdisc request for ifindex. */
static struct nlmsghdr *qdisc_msg(struct nl *nl, uint16_t type, uint16_t flags, int ifindex)
{
	struct nlmsghdr *nlh = nl_op_msg(nl, type, flags);
	struct tcmsg *tcm = mnl_nlmsg_put_extra_header(nlh, sizeof(*tcm));

	tcm->tcm_family = AF_UNSPEC;
	tcm->tcm_ifindex = ifindex;
	tcm->tcm_parent = TC_H_ROOT;
	tcm->tcm_handle = 0; /* the kernel picks one */
	return nlh;
}

static void put_tbf(struct nlmsghdr *nlh, uint32_t mtu, uint64_t rate)
{
	uint64_t frame = (uint64_t)(mtu ? mtu : 1500) + 14;
	uint64_t burst = rate * TC_TBF_BURST_MS / 1000, limit;
	struct tc_tbf_qopt q = { 0 };
	struct nlattr *opts;

	if (burst < TC_TBF_BURST_PKTS * frame)
		burst = TC_TBF_BURST_PKTS * frame;
	burst = clamp_u32(burst);
	limit = clamp_u32(burst + rate * TC_TBF_QUEUE_MS / 1000);
	q.rate.rate = clamp_u32(rate);
	q.rate.linklayer = TC_LINKLAYER_ETHERNET;
	q.limit = (uint32_t)limit;
	/* The bucket as time at the rate, for readers of buffer; TCA_TBF_BURST is what counts. */
	q.buffer = ns_to_ticks(burst * 1000000000ull / rate);

	mnl_attr_put_strz(nlh, TCA_KIND, "tbf");
	opts = mnl_attr_nest_start(nlh, TCA_OPTIONS);
	mnl_attr_put(nlh, TCA_TBF_PARMS, sizeof(q), &q);
	if (rate > UINT32_MAX)
		mnl_attr_put_u64(nlh, TCA_TBF_RATE64, rate);
	mnl_attr_put_u32(nlh, TCA_TBF_BURST, (uint32_t)burst);
	mnl_attr_nest_end(nlh, opts);
}

static void put_netem(struct nlmsghdr *nlh, const struct tc_impair *imp)
{
	struct tc_netem_qopt q = {
		.latency = ns_to_ticks(imp->delay_ns),
		.jitter = ns_to_ticks(imp->jitter_ns),
		.limit = TC_NETEM_LIMIT,
		.loss = imp->loss,
		.duplicate = imp->duplicate,
		/* As tc(8): reordering sends every packet as a candidate (gap 1). */
		.gap = imp->reorder ? 1 : 0,
	};
	struct tc_netem_reorder reorder = { .probability = imp->reorder };
	struct tc_netem_corrupt corrupt = { .probability = imp->corrupt };
	struct tc_netem_rate rate = { .rate = clamp_u32(imp->rate) };
	struct tc_netem_corr corr = { 0 };
	struct nlattr *opts;

	mnl_attr_put_strz(nlh, TCA_KIND, "netem");
	/* netem's options are its struct followed by attributes, in one TCA_OPTIONS. */
	opts = mnl_attr_nest_start(nlh, TCA_OPTIONS);
	memcpy(mnl_nlmsg_get_payload_tail(nlh), &q, sizeof(q));
	nlh->nlmsg_len += MNL_ALIGN(sizeof(q));
	mnl_attr_put(nlh, TCA_NETEM_CORR, sizeof(corr), &corr);
	mnl_attr_put(nlh, TCA_NETEM_REORDER, sizeof(reorder), &reorder);
	mnl_attr_put(nlh, TCA_NETEM_CORRUPT, sizeof(corrupt), &corrupt);
	mnl_attr_put(nlh, TCA_NETEM_RATE, sizeof(rate), &rate);
	if (imp->rate > UINT32_MAX)
		mnl_attr_put_u64(nlh, TCA_NETEM_RATE64, imp->rate);
	mnl_attr_put_u64(nlh, TCA_NETEM_LATENCY64, imp->delay_ns);
	mnl_attr_put_u64(nlh, TCA_NETEM_JITTER64, imp->jitter_ns);
	mnl_attr_nest_end(nlh, opts);
}

int tc_impair_set(struct nl *nl, struct nl_dev dev, uint32_t mtu, const struct tc_impair *imp)
{
	bool netem = tc_impair_needs_netem(imp);
	struct tc_root cur;
	struct nlmsghdr *nlh;
	int ifindex, r;

	if (!tc_impair_is_set(imp)) {
		r = tc_root_get(nl, dev, &cur);
		if (r < 0 || !cur.impair)
			return r;
		nl_op_start(nl, true);
		nlh = qdisc_msg(nl, RTM_DELQDISC, 0, cur.ifindex);
		r = nl_op_send(nl, nlh);
		return r == -ENOENT ? 0 : r; /* gone meanwhile */
	}

	nl_op_start(nl, true);
	if ((imp->jitter_ns || imp->reorder) && !imp->delay_ns)
		return nl_op_fail(nl, -EINVAL, "netem needs a delay for %s",
				  imp->jitter_ns ? "jitter" : "reordering");
	ifindex = nl_op_ifindex(nl, dev, "device");
	if (ifindex < 0)
		return ifindex;
	nlh = qdisc_msg(nl, RTM_NEWQDISC, NLM_F_CREATE | NLM_F_REPLACE, ifindex);
	if (netem)
		put_netem(nlh, imp);
	else
		put_tbf(nlh, mtu, imp->rate);
	r = nl_op_send(nl, nlh);
	/* The kernel answers ENOENT ("Specified qdisc kind is unknown") for a missing module. */
	if (r == -ENOENT)
		return nl_op_fail(nl, -EOPNOTSUPP, "the kernel has no %s qdisc (sch_%s)",
				  netem ? "netem" : "tbf", netem ? "netem" : "tbf");
	return r;
}

/* ---- reading ------------------------------------------------------------------------------ */

static uint64_t ticks_to_ns(uint32_t t)
{
	return (uint64_t)t << TC_TICK_SHIFT;
}

static void parse_tbf(const struct nlattr *opts, struct tc_impair *imp)
{
	const struct nlattr *a;

	mnl_attr_for_each_nested(a, opts) {
		switch (mnl_attr_get_type(a)) {
		case TCA_TBF_PARMS:
			if (mnl_attr_get_payload_len(a) >= sizeof(struct tc_tbf_qopt)) {
				const struct tc_tbf_qopt *q = mnl_attr_get_payload(a);

				if (imp->rate <= UINT32_MAX)
					imp->rate = q->rate.rate;
			}
			break;
		case TCA_TBF_RATE64:
			if (mnl_attr_get_payload_len(a) >= sizeof(uint64_t))
				imp->rate = mnl_attr_get_u64(a);
			break;
		}
	}
}

static void parse_netem(const struct nlattr *opts, struct tc_impair *imp)
{
	const struct tc_netem_qopt *q = mnl_attr_get_payload(opts);
	size_t len = mnl_attr_get_payload_len(opts), off = MNL_ALIGN(sizeof(*q));
	uint64_t rate64 = 0;
	const struct nlattr *a;

	if (len < sizeof(*q))
		return;
	imp->delay_ns = ticks_to_ns(q->latency);
	imp->jitter_ns = ticks_to_ns(q->jitter);
	imp->loss = q->loss;
	imp->duplicate = q->duplicate;
	for (a = (const struct nlattr *)((const uint8_t *)q + off);
	     off < len && mnl_attr_ok(a, (int)(len - off)); a = mnl_attr_next(a)) {
		size_t plen = mnl_attr_get_payload_len(a);

		off += MNL_ALIGN(a->nla_len);
		switch (mnl_attr_get_type(a)) {
		case TCA_NETEM_REORDER:
			if (plen >= sizeof(struct tc_netem_reorder))
				imp->reorder = ((const struct tc_netem_reorder *)mnl_attr_get_payload(a))
						   ->probability;
			break;
		case TCA_NETEM_CORRUPT:
			if (plen >= sizeof(struct tc_netem_corrupt))
				imp->corrupt = ((const struct tc_netem_corrupt *)mnl_attr_get_payload(a))
						   ->probability;
			break;
		case TCA_NETEM_RATE:
			if (plen >= sizeof(struct tc_netem_rate))
				imp->rate =
				    ((const struct tc_netem_rate *)mnl_attr_get_payload(a))->rate;
			break;
		case TCA_NETEM_RATE64:
			if (plen >= sizeof(uint64_t))
				rate64 = mnl_attr_get_u64(a);
			break;
		case TCA_NETEM_LATENCY64:
			if (plen >= sizeof(uint64_t))
				imp->delay_ns = mnl_attr_get_u64(a);
			break;
		case TCA_NETEM_JITTER64:
			if (plen >= sizeof(uint64_t))
				imp->jitter_ns = mnl_attr_get_u64(a);
			break;
		}
	}
	if (rate64 > imp->rate)
		imp->rate = rate64;
	/* Without reordering the kernel reports a gap of 0 and its probability as it was given. */
	if (!q->gap)
		imp->reorder = 0;
}

/* Parses one RTM_NEWQDISC (or DELQDISC); -EAGAIN for qdiscs that are not a link's root. */
static int parse_qdisc(const struct nlmsghdr *nlh, struct tc_root *ret)
{
	const struct tcmsg *tcm = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *a, *opts = NULL;
	struct tc_root t = { 0 };

	if ((nlh->nlmsg_type != RTM_NEWQDISC && nlh->nlmsg_type != RTM_DELQDISC) ||
	    mnl_nlmsg_get_payload_len(nlh) < sizeof(*tcm))
		return -EBADMSG;
	if (tcm->tcm_parent != TC_H_ROOT)
		return -EAGAIN;
	t.ifindex = tcm->tcm_ifindex;
	mnl_attr_for_each(a, nlh, sizeof(*tcm)) {
		switch (mnl_attr_get_type(a)) {
		case TCA_KIND:
			if (mnl_attr_validate(a, MNL_TYPE_NUL_STRING) >= 0)
				snprintf(t.kind, sizeof(t.kind), "%s", mnl_attr_get_str(a));
			break;
		case TCA_OPTIONS:
			opts = a;
			break;
		}
	}
	if (!strcmp(t.kind, "tbf")) {
		t.impair = true;
		if (opts)
			parse_tbf(opts, &t.imp);
	} else if (!strcmp(t.kind, "netem")) {
		t.impair = true;
		if (opts)
			parse_netem(opts, &t.imp);
	}
	*ret = t;
	return 0;
}

int tc_msg_root(const struct nlmsghdr *nlh, struct tc_root *ret)
{
	return parse_qdisc(nlh, ret);
}

struct root_dump {
	struct tc_root *v;
	size_t n, cap;
};

static int root_dump_cb(const struct nlmsghdr *nlh, void *data)
{
	struct root_dump *d = data;
	struct tc_root t;
	int r = parse_qdisc(nlh, &t);

	if (r == -EAGAIN)
		return 0;
	if (r < 0)
		return r;
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 16;
		struct tc_root *p = realloc(d->v, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		d->v = p;
		d->cap = cap;
	}
	d->v[d->n++] = t;
	return 0;
}

static int root_dump(struct nl *nl, struct root_dump *d)
{
	int r = -EAGAIN;

	for (int try = 0; try < 5 && r == -EAGAIN; try++) {
		struct nlmsghdr *nlh = nl_op_query_msg(nl, RTM_GETQDISC, NLM_F_DUMP);
		struct tcmsg *tcm = mnl_nlmsg_put_extra_header(nlh, sizeof(*tcm));

		tcm->tcm_family = AF_UNSPEC;
		d->n = 0;
		r = nl_op_query(nl, nlh, root_dump_cb, d);
	}
	return r;
}

static int cmp_root(const void *a, const void *b)
{
	int x = ((const struct tc_root *)a)->ifindex, y = ((const struct tc_root *)b)->ifindex;

	return (x > y) - (x < y);
}

static int root_get_cb(const struct nlmsghdr *nlh, void *data)
{
	int r = parse_qdisc(nlh, data);

	return r == -EAGAIN ? -EBADMSG : r;
}

int tc_root_get(struct nl *nl, struct nl_dev dev, struct tc_root *ret)
{
	struct tc_root t = { 0 };
	struct nlmsghdr *nlh;
	struct tcmsg *tcm;
	int ifindex, r;

	nl_op_start(nl, false);
	ifindex = nl_op_ifindex(nl, dev, "device");
	if (ifindex < 0)
		return ifindex;
	/*
	 * A get, not a dump: the kernel's qdisc dumps walk every link of the namespace. The
	 * kernel answers a get as a notification, to the asker only with NLM_F_ECHO; the ack
	 * ends the answer whatever came before it.
	 */
	nlh = nl_op_query_msg(nl, RTM_GETQDISC, NLM_F_ECHO | NLM_F_ACK);
	tcm = mnl_nlmsg_put_extra_header(nlh, sizeof(*tcm));
	tcm->tcm_family = AF_UNSPEC;
	tcm->tcm_ifindex = ifindex;
	tcm->tcm_parent = TC_H_ROOT;
	r = nl_op_query(nl, nlh, root_get_cb, &t);
	if (r == -ENOENT) /* no root qdisc at all */
		t = (struct tc_root){ .ifindex = ifindex };
	else if (r < 0)
		return r;
	*ret = t;
	return 0;
}

int tc_root_list(struct nl *nl, struct tc_root **ret)
{
	struct root_dump d = { 0 };
	int r;

	nl_op_start(nl, false);
	r = root_dump(nl, &d);
	if (r < 0) {
		free(d.v);
		return r;
	}
	qsort(d.v, d.n, sizeof(*d.v), cmp_root);
	*ret = d.n ? d.v : (free(d.v), NULL);
	return (int)d.n;
}

const struct tc_root *tc_root_find(const struct tc_root *roots, int n, int ifindex)
{
	struct tc_root key = { .ifindex = ifindex };

	return n > 0 ? bsearch(&key, roots, (size_t)n, sizeof(*roots), cmp_root) : NULL;
}
