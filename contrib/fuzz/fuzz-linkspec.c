/*
 * fuzz-linkspec.c: libFuzzer harness for the link docs of the desired state
 * (daemon/spec.c): link.add params and the stored docs reconcile reads back
 * at every start, impairments included.
 *
 * Each input is parsed as JSON and:
 *  1. read as a link doc, spec_link_from_json().  A rejected doc must name
 *     a field and say why.  An accepted one must write a stored doc
 *     (spec_link_to_json()) that reads back, and writes again to the same
 *     doc (the stored form is a fixed point).
 *  2. read as an impair object, spec_impair_from_json().  A rejected one
 *     must say why, and the dispatch check must agree; an accepted one
 *     written back must read back equal, and through the kernel's units
 *     (spec_impair_to_tc(), spec_impair_from_tc()) must stay within the
 *     protocol's ranges and rules.
 * Any violation aborts, which libFuzzer reports as a crash.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "spec.h"
#include "fuzz.h"


static void link_doc(json_t *doc)
{
	struct link_desc d, d2;
	const char *field = NULL, *msg = NULL;
	json_t *out, *out2;

	if (spec_link_from_json(doc, &d, &field, &msg) < 0) {
		CHECK(field && *field && msg && *msg);
		return;
	}
	out = spec_link_to_json(&d);
	CHECK(out != NULL);
	field = msg = NULL;
	if (spec_link_from_json(out, &d2, &field, &msg) < 0) {
		fprintf(stderr, "stored doc rejected: %s: %s\n", field, msg);
		CHECK(0);
	}
	out2 = spec_link_to_json(&d2);
	CHECK(json_equal(out, out2));
	json_decref(out2);
	json_decref(out);
}

static void impair(json_t *v)
{
	struct link_impair imp, back, k;
	const char *member = NULL, *msg = NULL, *sub = NULL, *err;
	struct tc_impair t;
	json_t *out;

	err = spec_impair_check(v, &sub);
	if (spec_impair_from_json(v, &imp, &member, &msg) < 0) {
		CHECK(msg && *msg && err && !strcmp(err, msg));
		return;
	}
	CHECK(err == NULL && member == NULL);
	out = spec_impair_to_json(&imp);
	CHECK(spec_impair_from_json(out, &back, &member, &msg) == 0);
	CHECK(!memcmp(&imp, &back, sizeof(imp)));
	json_decref(out);

	spec_impair_to_tc(&imp, &t);
	/* Nothing too fine for the kernel's units is accepted: nothing vanishes. */
	CHECK(tc_impair_is_set(&t) == spec_impair_is_set(&imp));
	CHECK(!imp.delay_ms == !t.delay_ns && !imp.jitter_ms == !t.jitter_ns);
	CHECK(!imp.loss_pct == !t.loss && !imp.reorder_pct == !t.reorder);
	CHECK(!imp.rate_kbit == !t.rate);
	spec_impair_from_tc(&t, &k);
	/* What the kernel holds reads back as a valid impair object. */
	out = spec_impair_to_json(&k);
	if (spec_impair_from_json(out, &back, &member, &msg) < 0) {
		fprintf(stderr, "read-back rejected: %s: %s\n", member, msg);
		CHECK(0);
	}
	json_decref(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *v;

	log_set_level(LOG_CRIT);
	v = json_loadb((const char *)data, size, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, NULL);
	if (!v)
		return 0;
	if (json_is_object(v)) {
		link_doc(v);
		impair(json_object_get(v, "impair") ?: v);
	}
	impair(v);
	json_decref(v);
	return 0;
}
