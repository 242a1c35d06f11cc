/*
 * state.h: the desired state and its persistence.
 *
 * The desired state is a set of collections ("netns", later "link", "addr",
 * "route", "proc"), each mapping a key to a JSON object that describes what a
 * user asked for.  Every change is appended to a journal (one JSON line per
 * change); the journal is folded into a snapshot (state.json: written to a
 * temp file, fsynced, renamed, directory fsynced) once it grows larger than
 * the snapshot, so the cost of one change does not grow with the state.
 * Changes made during one loop iteration share one write and one fdatasync
 * (group commit); state_barrier() tells a caller when its change is durable.
 *
 * JSON here is the storage format only: state knows nothing of JSON-RPC.
 */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <uv.h>

/*
 * Load the snapshot and the journal from dir (created if missing).  A corrupt
 * or unreadable file makes this fail with -EBADMSG (or the errno) and a log
 * line naming the file, unless reset_corrupt is set: then the bad files are
 * renamed aside (FILE.corrupt-TIMESTAMP), never overwritten, and netnsd starts
 * empty.
 */
int state_init(uv_loop_t *loop, const char *dir, bool reset_corrupt);
/*
 * This state's identity: 32 hex digits, made once and kept in the directory
 * (file "identity"), so that what netnsd leaves elsewhere (supervised
 * processes in the runtime directory) can be told apart from what another
 * state made.  NULL before state_init().
 */
const char *state_identity(void);
/* Flush, compact into a snapshot, close. */
void state_exit(void);

/* Borrowed: the value of key in collection, or NULL. */
json_t *state_get(const char *coll, const char *key);
/* Borrowed: the whole collection (an object; empty when unknown). */
json_t *state_collection(const char *coll);
/* Set key to value (stolen).  Returns 0 or -errno. */
int state_put(const char *coll, const char *key, json_t *value);
/* Remove key.  Returns 0, or -ENOENT when absent. */
int state_del(const char *coll, const char *key);

/* The number of the last change: it moves whenever anything in the state changes. */
unsigned long long state_seq(void);

/* True while changes wait to be written. */
bool state_pending(void);
/*
 * Call cb(data, 0) once everything changed so far is durable, or
 * cb(data, -errno) when writing it failed.  Never calls cb synchronously
 * unless nothing is pending.
 */
void state_barrier(void (*cb)(void *data, int err), void *data);
/* Write and fsync what is pending now, synchronously (shutdown path). */
int state_flush(void);

/*
 * Intents: what a change is about to do in the kernel, written to
 * DIR/intents/ before the kernel call and removed once the change is durable
 * in the state (or was undone).  A crash in between leaves the intent behind,
 * and the next start undoes whatever the kernel kept of a change the state
 * does not have, so no object netnsd made is left unknown to it.  The files
 * are written without fsync: they protect against a crash of netnsd, which
 * keeps the page cache; after a power cut the kernel objects are gone too.
 *
 * state_intent_begin() takes the reference to what and returns an id > 0,
 * or -errno (the caller goes on without one: crash safety degrades, the
 * change does not fail).  state_intent_end() drops it at once (the change
 * failed and was undone); state_intent_commit() drops it once the state
 * holds the change durably (kept if that write fails).  Ids <= 0 are ignored.
 */
int state_intent_begin(json_t *what);
void state_intent_end(int id);
void state_intent_commit(int id);
/*
 * Call fn for every intent a previous run left behind (oldest first); once
 * they are dealt with, state_intent_clear() removes them (a crash before that
 * deals with them again).  Only during start-up, before any
 * state_intent_begin().
 */
void state_intent_recover(void (*fn)(json_t *what, void *data), void *data);
void state_intent_clear(void);

struct state_stats {
	unsigned long long commits, records, compactions;
	size_t journal_bytes, snapshot_bytes;
	const char *snapshot_path, *journal_path;
};
void state_get_stats(struct state_stats *ret);

/* Serialise/parse the snapshot format (pure; used by tests and the fuzzer). */
char *state_snapshot_dump(json_t *collections, unsigned long long seq, size_t *ret_len);
int state_snapshot_parse(const char *buf, size_t len, json_t **ret_collections,
			 unsigned long long *ret_seq, char *err, size_t errlen);
/* Apply one journal line to collections; -EBADMSG if malformed. */
int state_journal_apply(json_t *collections, const char *line, size_t len,
			unsigned long long *ret_seq);
