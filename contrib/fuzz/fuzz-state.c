/*
 * fuzz-state.c: libFuzzer harness for the persistence formats of the
 * desired state (daemon/state.c): the snapshot (state.json) and journal
 * records (journal.jsonl lines).  These are read back at every start, so a
 * damaged or hostile file must be rejected cleanly, never crash netnsd.
 *
 * Each input is used as:
 *  1. A snapshot: state_snapshot_parse().  When accepted, dumping the
 *     collections and parsing the dump must give the same collections and
 *     seq (the format round-trips).
 *  2. A journal: every line goes through state_journal_apply(), as
 *     state_init() does.  A rejected line must leave the collections
 *     untouched; the collections built from the accepted lines must be a
 *     valid snapshot that round-trips too.
 * Any violation aborts, which libFuzzer reports as a crash.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "state.h"
#include "fuzz.h"


static void round_trip(json_t *colls, unsigned long long seq)
{
	unsigned long long seq2 = 0;
	json_t *back = NULL;
	char err[256];
	size_t len = 0;
	char *text;
	int r;

	text = state_snapshot_dump(colls, seq, &len);
	CHECK(text != NULL);
	CHECK(strlen(text) == len);
	r = state_snapshot_parse(text, len, &back, &seq2, err, sizeof(err));
	if (r != 0)
		fprintf(stderr, "re-parse failed: %s\n", err);
	CHECK(r == 0);
	CHECK(seq2 == seq);
	CHECK(json_equal(back, colls));
	json_decref(back);
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned long long seq = 12345, last = 0;
	json_t *colls = (json_t *)0x1;
	const char *buf = (const char *)data;
	size_t off = 0;
	char err[256] = "";
	int r;

	log_set_level(LOG_CRIT);

	/* 1. Snapshot. */
	r = state_snapshot_parse(buf, size, &colls, &seq, err, sizeof(err));
	if (r == 0) {
		CHECK(json_is_object(colls));
		round_trip(colls, seq);
		json_decref(colls);
	} else {
		CHECK(r == -EBADMSG);
		CHECK(err[0] != '\0');
		CHECK(colls == (json_t *)0x1 && seq == 12345);
	}

	/* 2. Journal lines, applied to an empty state. */
	colls = json_object();
	while (off < size) {
		const char *nl = memchr(buf + off, '\n', size - off);
		size_t len = nl ? (size_t)(nl - (buf + off)) : size - off;
		json_t *before = json_deep_copy(colls);
		unsigned long long s = 0;

		r = state_journal_apply(colls, buf + off, len, &s);
		if (r == 0) {
			CHECK(s > 0);
			last = s;
		} else {
			CHECK(r == -EBADMSG);
			CHECK(json_equal(before, colls));
		}
		json_decref(before);
		off += len + 1;
	}
	round_trip(colls, last);
	json_decref(colls);
	return 0;
}
