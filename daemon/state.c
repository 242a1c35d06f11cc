/*
 * state.c: the desired state, its journal and its snapshot (see state.h).
 *
 * Files in the state directory:
 *   state.json     snapshot: {"format":1,"seq":N,"collections":{...}}
 *   journal.jsonl  changes after the snapshot, one per line:
 *                  {"seq":N,"op":"put","c":COLL,"k":KEY,"v":{...}}
 *                  {"seq":N,"op":"del","c":COLL,"k":KEY}
 *   lock           flock()ed while a netnsd uses the directory (holds its pid)
 *   identity       a random id of this state, made once: netnsd marks what it leaves in
 *                  its runtime directory with it, so that records another state made are
 *                  never taken for its own
 *   intents/N      a change under way in the kernel, not yet durable here
 * A journal line whose seq is not above the snapshot's was already folded in
 * (a crash between the snapshot's rename and the journal's truncation).
 *
 * One commit (one write and sync) is all-or-nothing: every record of it but
 * the last carries "more":true, and at load a commit whose last record is
 * missing (a torn write) is dropped whole.  Otherwise a torn netns.delete,
 * which deletes many records, would come back half done.
 */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>

#include "failpoint.h"
#include "log.h"
#include "state.h"
#include "util.h"

#define STATE_FORMAT	  1
#define STATE_MAX_FILE	  (256u << 20)
#define COMPACT_MIN_BYTES (256u << 10)
#define STATE_ID_LEN	  32
#define MORE_TAIL	  ",\"more\":true}"

struct waiter {
	void (*cb)(void *data, int err);
	void *data;
};

static struct {
	uv_loop_t *loop;
	char *dir, *snapshot_path, *journal_path;
	json_t *colls;
	int journal_fd, lock_fd, intents_fd;
	int intent_seq;
	unsigned long long seq;
	char *pending;
	size_t pending_len, pending_cap;
	struct waiter *waiters;
	size_t nwaiters, waiters_cap;
	uv_check_t check;
	uv_idle_t idle;
	bool armed;
	struct state_stats stats;
	char identity[STATE_ID_LEN + 1];
} st = { .journal_fd = -1, .lock_fd = -1, .intents_fd = -1 };

/* Pure (de)serialisation. */

char *state_snapshot_dump(json_t *collections, unsigned long long seq, size_t *ret_len)
{
	json_t *doc = json_pack("{s:i,s:I,s:O}", "format", STATE_FORMAT, "seq", (json_int_t)seq,
				"collections", collections);
	char *s;

	if (!doc)
		return NULL;
	s = json_dumps(doc, JSON_INDENT(1) | JSON_SORT_KEYS);
	json_decref(doc);
	if (s)
		*ret_len = strlen(s);
	return s;
}

int state_snapshot_parse(const char *buf, size_t len, json_t **ret_collections,
			 unsigned long long *ret_seq, char *err, size_t errlen)
{
	json_t *doc, *colls, *c;
	json_int_t format, seq;
	json_error_t jerr;
	const char *name;

	doc = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!doc) {
		snprintf(err, errlen, "%s (line %d, column %d)", jerr.text, jerr.line, jerr.column);
		return -EBADMSG;
	}
	if (json_unpack_ex(doc, &jerr, JSON_STRICT, "{s:I,s:I,s:o}", "format", &format, "seq", &seq,
			   "collections", &colls) < 0) {
		snprintf(err, errlen, "%s", jerr.text);
		json_decref(doc);
		return -EBADMSG;
	}
	if (format != STATE_FORMAT || seq < 0 || !json_is_object(colls)) {
		snprintf(err, errlen, "unsupported format %lld", (long long)format);
		json_decref(doc);
		return -EBADMSG;
	}
	json_object_foreach(colls, name, c) {
		const char *key;
		json_t *v;

		if (!json_is_object(c)) {
			snprintf(err, errlen, "collection '%s' is not an object", name);
			json_decref(doc);
			return -EBADMSG;
		}
		json_object_foreach(c, key, v) {
			if (!json_is_object(v)) {
				snprintf(err, errlen, "entry '%s' of '%s' is not an object", key,
					 name);
				json_decref(doc);
				return -EBADMSG;
			}
		}
	}
	*ret_collections = json_incref(colls);
	*ret_seq = (unsigned long long)seq;
	json_decref(doc);
	return 0;
}

static json_t *collection(json_t *colls, const char *coll, bool create)
{
	json_t *c = json_object_get(colls, coll);

	if (!c && create) {
		c = json_object();
		json_object_set_new(colls, coll, c);
	}
	return c;
}

int state_journal_apply(json_t *collections, const char *line, size_t len,
			unsigned long long *ret_seq)
{
	json_t *rec, *v = NULL;
	const char *op, *coll, *key;
	json_int_t seq;
	int r = -EBADMSG;

	rec = json_loadb(line, len, JSON_REJECT_DUPLICATES, NULL);
	if (!rec)
		return -EBADMSG;
	if (json_unpack(rec, "{s:I,s:s,s:s,s:s,s?o}", "seq", &seq, "op", &op, "c", &coll, "k", &key,
			"v", &v) < 0 ||
	    seq <= 0)
		goto out;
	if (!strcmp(op, "put") && json_is_object(v)) {
		json_object_set(collection(collections, coll, true), key, v);
	} else if (!strcmp(op, "del") && !v) {
		json_t *c = collection(collections, coll, false);

		if (c)
			json_object_del(c, key);
	} else {
		goto out;
	}
	*ret_seq = (unsigned long long)seq;
	r = 0;
out:
	json_decref(rec);
	return r;
}

/* Loading. */

static int path_join(char **ret, const char *dir, const char *name)
{
	return asprintf(ret, "%s/%s", dir, name) < 0 ? -ENOMEM : 0;
}

static int move_aside(const char *path)
{
	char aside[PATH_MAX], ts[32];

	snprintf(aside, sizeof(aside), "%s.corrupt-%s", path, format_rfc3339(realtime_usec(), ts));
	if (rename(path, aside) < 0)
		return errno == ENOENT ? 0 : -errno;
	log_warning("Moved unreadable state file '%s' aside to '%s'", path, aside);
	return 0;
}

static int load_snapshot(unsigned long long *ret_seq)
{
	_cleanup_(freep) char *buf = NULL;
	char err[256];
	int r;

	r = read_small_file(st.snapshot_path, STATE_MAX_FILE, &buf);
	if (r == -ENOENT) {
		st.colls = json_object();
		*ret_seq = 0;
		return 0;
	}
	if (r < 0) {
		log_error("Failed to read state file '%s': %s", st.snapshot_path, strerror(-r));
		return r;
	}
	st.stats.snapshot_bytes = (size_t)r;
	r = state_snapshot_parse(buf, (size_t)r, &st.colls, ret_seq, err, sizeof(err));
	if (r < 0)
		log_error("State file '%s' is corrupt: %s", st.snapshot_path, err);
	return r;
}

/* True when a journal record says that more records of its commit follow. */
static bool record_has_more(const char *line, size_t len)
{
	json_t *rec = json_loadb(line, len, 0, NULL);
	bool more = json_is_true(json_object_get(rec, "more"));

	json_decref(rec);
	return more;
}

static int load_journal(unsigned long long snapshot_seq)
{
	_cleanup_(freep) char *buf = NULL;
	size_t off = 0, len, group = 0; /* where the commit being read started */
	bool in_group = false;
	unsigned lineno = 0;
	int r;

	r = read_small_file(st.journal_path, STATE_MAX_FILE, &buf);
	if (r == -ENOENT)
		return 0;
	if (r < 0) {
		log_error("Failed to read state journal '%s': %s", st.journal_path, strerror(-r));
		return r;
	}
	len = (size_t)r;
	st.seq = snapshot_seq;
	while (off < len) {
		char *nl = memchr(buf + off, '\n', len - off);
		unsigned long long seq = 0;
		json_t *scratch;

		lineno++;
		if (!in_group)
			group = off;
		if (!nl) {
			/*
			 * A last line without its newline is a write cut short by a
			 * crash; it was never acknowledged, so dropping it (and the
			 * records of its commit before it) loses nothing anyone was
			 * told about.
			 */
			log_warning("Dropping a torn last commit (%zu bytes) of '%s'", len - group,
				    st.journal_path);
			if (truncate(st.journal_path, (off_t)group) < 0)
				return -errno;
			len = group;
			in_group = false;
			break;
		}
		/* Every record is checked as it is read; a commit is applied once complete. */
		scratch = json_object();
		r = state_journal_apply(scratch, buf + off, (size_t)(nl - buf) - off, &seq);
		json_decref(scratch);
		if (r < 0) {
			log_error("State journal '%s' is corrupt at line %u", st.journal_path,
				  lineno);
			return r;
		}
		in_group = record_has_more(buf + off, (size_t)(nl - buf) - off);
		off = (size_t)(nl - buf) + 1;
		if (in_group)
			continue;
		/* The commit is complete: apply its records. */
		for (const char *p = buf + group; p < buf + off;) {
			const char *e = memchr(p, '\n', (size_t)(buf + off - p));

			/* Records already folded into the snapshot are not applied again. */
			scratch = json_object();
			state_journal_apply(scratch, p, (size_t)(e - p), &seq);
			json_decref(scratch);
			if (seq > snapshot_seq) {
				state_journal_apply(st.colls, p, (size_t)(e - p), &seq);
				st.seq = seq;
			}
			p = e + 1;
		}
	}
	if (in_group) {
		log_warning("Dropping an incomplete last commit (%zu bytes) of '%s'", len - group,
			    st.journal_path);
		if (truncate(st.journal_path, (off_t)group) < 0)
			return -errno;
		len = group;
	}
	st.stats.journal_bytes = len;
	return 0;
}

static int lock_dir(void)
{
	_cleanup_(freep) char *path = NULL;
	pid_t holder;
	int r;

	r = path_join(&path, st.dir, "lock");
	if (r < 0)
		return r;
	/*
	 * A netnsd killed while it started a shim leaves the lock with the shim for
	 * the moment before its exec; a restart right away must not fail on that.
	 */
	r = lock_file(path, &holder);
	for (int i = 0; i < 40 && r == -EBUSY; i++) {
		usleep(50 * 1000);
		r = lock_file(path, &holder);
	}
	if (r == -EBUSY && holder > 0)
		log_error("State directory '%s' is in use by another netnsd (pid %d)", st.dir,
			  (int)holder);
	else if (r == -EBUSY)
		log_error("State directory '%s' is in use by another netnsd", st.dir);
	else if (r < 0)
		log_error("Failed to lock state directory '%s': %s", st.dir, strerror(-r));
	if (r < 0)
		return r;
	st.lock_fd = r;
	return 0;
}

static bool identity_valid(const char *s)
{
	return strlen(s) == STATE_ID_LEN && strspn(s, "0123456789abcdef") == STATE_ID_LEN;
}

/* Read STATE_DIR/identity, or make one (durably: it names this state from now on). */
static int load_identity(void)
{
	_cleanup_(freep) char *path = NULL, *text = NULL;
	uint8_t b[STATE_ID_LEN / 2];
	int r;

	r = path_join(&path, st.dir, "identity");
	if (r < 0)
		return r;
	r = read_small_file(path, 256, &text);
	if (r >= 0) {
		text[strcspn(text, "\n")] = '\0';
		if (!identity_valid(text)) {
			log_error(
			    "State identity file '%s' is unreadable; remove it to get a new one",
			    path);
			return -EBADMSG;
		}
		memcpy(st.identity, text, STATE_ID_LEN + 1);
		return 0;
	}
	if (r != -ENOENT) {
		log_error("Failed to read '%s': %s", path, strerror(-r));
		return r;
	}
	if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b)) {
		r = -errno;
		log_error("Failed to make a state identity: %s", strerror(-r));
		return r;
	}
	for (size_t i = 0; i < sizeof(b); i++)
		snprintf(st.identity + 2 * i, 3, "%02x", b[i]);
	st.identity[STATE_ID_LEN] = '\n';
	r = write_file_atomic(path, st.identity, STATE_ID_LEN + 1, 0600);
	st.identity[STATE_ID_LEN] = '\0';
	if (r < 0)
		log_error("Failed to write '%s': %s", path, strerror(-r));
	return r;
}

const char *state_identity(void)
{
	return st.identity[0] ? st.identity : NULL;
}

static void on_check(uv_check_t *h);
static void on_idle(uv_idle_t *h)
{
	/* Only here to keep the loop from sleeping while a commit is due. */
}

static int init(uv_loop_t *loop, const char *dir, bool reset_corrupt)
{
	unsigned long long snapshot_seq = 0;
	int r;

	st.dir = strdup(dir);
	if (!st.dir || path_join(&st.snapshot_path, dir, "state.json") < 0 ||
	    path_join(&st.journal_path, dir, "journal.jsonl") < 0)
		return -ENOMEM;
	st.stats.snapshot_path = st.snapshot_path;
	st.stats.journal_path = st.journal_path;
	r = mkdir_p(dir, 0700);
	if (r < 0) {
		log_error("Failed to create state directory '%s': %s", dir, strerror(-r));
		return r;
	}
	r = lock_dir();
	if (r < 0)
		return r;
	{
		_cleanup_(freep) char *idir = NULL;

		if (path_join(&idir, dir, "intents") < 0)
			return -ENOMEM;
		if (mkdir(idir, 0700) < 0 && errno != EEXIST) {
			r = -errno;
			log_error("Failed to create '%s': %s", idir, strerror(-r));
			return r;
		}
		st.intents_fd = open(idir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (st.intents_fd < 0) {
			r = -errno;
			log_error("Failed to open '%s': %s", idir, strerror(-r));
			return r;
		}
	}
	r = load_identity();
	if (r < 0)
		return r;

	r = load_snapshot(&snapshot_seq);
	if (r == 0)
		r = load_journal(snapshot_seq);
	if (r < 0) {
		if (!reset_corrupt) {
			log_error(
			    "Refusing to start with unreadable state in '%s'; repair or remove "
			    "the file, or start once with --reset-corrupt-state to move it aside",
			    dir);
			return r;
		}
		json_decref(TAKE_PTR(st.colls));
		if (move_aside(st.snapshot_path) < 0 || move_aside(st.journal_path) < 0)
			return -errno;
		st.colls = json_object();
		st.seq = 0;
		st.stats.journal_bytes = st.stats.snapshot_bytes = 0;
	}
	if (st.seq < snapshot_seq)
		st.seq = snapshot_seq;

	st.journal_fd = open(st.journal_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (st.journal_fd < 0) {
		r = -errno;
		log_error("Failed to open state journal '%s': %s", st.journal_path, strerror(-r));
		return r;
	}
	uv_check_init(loop, &st.check);
	uv_idle_init(loop, &st.idle);
	uv_unref((uv_handle_t *)&st.check);
	st.loop = loop;
	return 0;
}

int state_init(uv_loop_t *loop, const char *dir, bool reset_corrupt)
{
	int r = init(loop, dir, reset_corrupt);

	/* Leave nothing half set up: no memory, no lock, no handle. */
	if (r < 0)
		state_exit();
	return r;
}

/* Commit. */

static int compact(void)
{
	_cleanup_(freep) char *buf = NULL;
	size_t len;
	int r;

	buf = state_snapshot_dump(st.colls, st.seq, &len);
	if (!buf)
		return -ENOMEM;
	r = write_file_atomic(st.snapshot_path, buf, len, 0600);
	if (r < 0)
		return r;
	st.stats.snapshot_bytes = len;
	/* The snapshot now covers every journal record: drop them. */
	FAILPOINT(COMPACT_TRUNCATE);
	if (ftruncate(st.journal_fd, 0) < 0 || fdatasync(st.journal_fd) < 0)
		return -errno;
	st.stats.journal_bytes = 0;
	st.stats.compactions++;
	return 0;
}

static int commit(void)
{
	int r;

	if (st.pending_len == 0)
		return 0;
	/* The last record ends the commit: ",\"more\":true}\n" becomes "}\n". */
	if (st.pending_len >= sizeof(MORE_TAIL) &&
	    !memcmp(st.pending + st.pending_len - sizeof(MORE_TAIL), MORE_TAIL,
		    sizeof(MORE_TAIL) - 1)) {
		st.pending_len -= strlen(MORE_TAIL) - 1;
		memcpy(st.pending + st.pending_len - 2, "}\n", 2);
	}
	FAILPOINT(JOURNAL_WRITE);
	if (FAILPOINT_FIRES(JOURNAL_TORN)) {
		(void)write_all(st.journal_fd, st.pending, st.pending_len / 2);
		_exit(FAILPOINT_EXIT_STATUS);
	}
	r = write_all(st.journal_fd, st.pending, st.pending_len);
	FAILPOINT(JOURNAL_SYNC);
	if (r == 0 && fdatasync(st.journal_fd) < 0)
		r = -errno;
	FAILPOINT(JOURNAL_SYNCED);
	if (r < 0) {
		/* Cut a partial record off so the journal stays well-formed. */
		if (ftruncate(st.journal_fd, (off_t)st.stats.journal_bytes) < 0)
			log_warning("Failed to trim state journal '%s': %m", st.journal_path);
		log_error("Failed to write state journal '%s': %s", st.journal_path, strerror(-r));
		return r;
	}
	st.stats.journal_bytes += st.pending_len;
	st.stats.commits++;
	st.pending_len = 0;
	if (st.stats.journal_bytes > COMPACT_MIN_BYTES &&
	    st.stats.journal_bytes > st.stats.snapshot_bytes) {
		int c = compact();

		if (c < 0)
			log_warning("Failed to compact state into '%s': %s", st.snapshot_path,
				    strerror(-c));
	}
	return 0;
}

static void run_commit(void)
{
	struct waiter *w = st.waiters;
	size_t n = st.nwaiters;
	int r;

	r = commit();
	st.waiters = NULL;
	st.nwaiters = st.waiters_cap = 0;
	if (st.armed) {
		uv_check_stop(&st.check);
		uv_idle_stop(&st.idle);
		st.armed = false;
	}
	for (size_t i = 0; i < n; i++)
		w[i].cb(w[i].data, r);
	free(w);
}

static void on_check(uv_check_t *h)
{
	run_commit();
}

static void arm(void)
{
	if (st.armed || !st.loop)
		return;
	uv_check_start(&st.check, on_check);
	uv_idle_start(&st.idle, on_idle);
	st.armed = true;
}

static int append_record(json_t *rec)
{
	char *s = json_dumps(rec, JSON_COMPACT);
	size_t len;

	json_decref(rec);
	if (!s)
		return -ENOMEM;
	len = strlen(s);
	/* Every record says more follow; commit() takes it off the last (see the top). */
	s[--len] = '\0';
	if (st.pending_len + len + sizeof(MORE_TAIL) > st.pending_cap) {
		size_t cap = (st.pending_cap ?: 4096);
		char *p;

		while (cap < st.pending_len + len + sizeof(MORE_TAIL))
			cap *= 2;
		p = realloc(st.pending, cap);
		if (!p) {
			free(s);
			return -ENOMEM;
		}
		st.pending = p;
		st.pending_cap = cap;
	}
	memcpy(st.pending + st.pending_len, s, len);
	memcpy(st.pending + st.pending_len + len, MORE_TAIL, strlen(MORE_TAIL));
	len += strlen(MORE_TAIL);
	st.pending[st.pending_len + len] = '\n';
	st.pending_len += len + 1;
	st.stats.records++;
	free(s);
	arm();
	return 0;
}

json_t *state_get(const char *coll, const char *key)
{
	return json_object_get(collection(st.colls, coll, false), key);
}

json_t *state_collection(const char *coll)
{
	return collection(st.colls, coll, true);
}

int state_put(const char *coll, const char *key, json_t *value)
{
	json_t *rec;
	int r;

	rec = json_pack("{s:I,s:s,s:s,s:s,s:O}", "seq", (json_int_t)(st.seq + 1), "op", "put", "c",
			coll, "k", key, "v", value);
	if (!rec) {
		json_decref(value);
		return -ENOMEM;
	}
	r = append_record(rec);
	if (r < 0) {
		json_decref(value);
		return r;
	}
	st.seq++;
	json_object_set_new(collection(st.colls, coll, true), key, value);
	return 0;
}

int state_del(const char *coll, const char *key)
{
	json_t *c = collection(st.colls, coll, false);
	json_t *rec;
	int r;

	if (!c || !json_object_get(c, key))
		return -ENOENT;
	rec = json_pack("{s:I,s:s,s:s,s:s}", "seq", (json_int_t)(st.seq + 1), "op", "del", "c",
			coll, "k", key);
	if (!rec)
		return -ENOMEM;
	r = append_record(rec);
	if (r < 0)
		return r;
	st.seq++;
	json_object_del(c, key);
	return 0;
}

unsigned long long state_seq(void)
{
	return st.seq;
}

bool state_pending(void)
{
	return st.pending_len > 0;
}

void state_barrier(void (*cb)(void *data, int err), void *data)
{
	if (!state_pending()) {
		cb(data, 0);
		return;
	}
	if (st.nwaiters == st.waiters_cap) {
		size_t cap = st.waiters_cap ? st.waiters_cap * 2 : 16;
		struct waiter *w = realloc(st.waiters, cap * sizeof(*w));

		if (!w) {
			cb(data, -ENOMEM);
			return;
		}
		st.waiters = w;
		st.waiters_cap = cap;
	}
	st.waiters[st.nwaiters++] = (struct waiter){ cb, data };
	arm();
}

int state_flush(void)
{
	int r = commit();

	if (st.nwaiters)
		run_commit();
	return r;
}

/* Intents. */

int state_intent_begin(json_t *what)
{
	_cleanup_(freep) char *text = NULL;
	char name[16];
	int id, r;

	if (!what)
		return -ENOMEM;
	text = json_dumps(what, JSON_COMPACT);
	json_decref(what);
	if (!text)
		return -ENOMEM;
	if (st.intents_fd < 0)
		return -EBADF;
	id = ++st.intent_seq;
	if (id <= 0)
		id = st.intent_seq = 1;
	snprintf(name, sizeof(name), "%d", id);
	r = write_at_atomic(st.intents_fd, name, text, 0600);
	if (r < 0) {
		log_debug("Failed to write intent %s: %s", name, strerror(-r));
		return r;
	}
	return id;
}

void state_intent_end(int id)
{
	char name[16];

	if (id <= 0 || st.intents_fd < 0)
		return;
	snprintf(name, sizeof(name), "%d", id);
	(void)unlinkat(st.intents_fd, name, 0);
}

static void intent_durable(void *data, int err)
{
	/* A failed write keeps the change in memory only: keep its intent too. */
	if (err == 0)
		state_intent_end((int)(intptr_t)data);
}

void state_intent_commit(int id)
{
	if (id > 0)
		state_barrier(intent_durable, (void *)(intptr_t)id);
}

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

/* A fresh listing of the intents directory (its own fd), or NULL. */
static DIR *intents_open(void)
{
	int fd = st.intents_fd < 0 ? -1 : openat(st.intents_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);

	if (!d && fd >= 0)
		close(fd);
	return d;
}

void state_intent_recover(void (*fn)(json_t *what, void *data), void *data)
{
	_cleanup_(freep) int *ids = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	DIR *d = intents_open();

	if (!d)
		return;
	while ((de = readdir(d))) {
		char *end;
		long v = strtol(de->d_name, &end, 10);

		if (*end || v <= 0 || v > INT_MAX)
			continue;
		if (n == cap) {
			int *p = realloc(ids, (cap = cap ? cap * 2 : 16) * sizeof(*ids));

			if (!p)
				break;
			ids = p;
		}
		ids[n++] = (int)v;
	}
	closedir(d);
	if (n)
		qsort(ids, n, sizeof(*ids), cmp_int);
	for (size_t i = 0; i < n; i++) {
		char name[16], buf[4096];
		json_t *what;

		snprintf(name, sizeof(name), "%d", ids[i]);
		if (read_at(st.intents_fd, name, buf, sizeof(buf)) > 0 &&
		    (what = json_loads(buf, 0, NULL))) {
			fn(what, data);
			json_decref(what);
		}
	}
}

void state_intent_clear(void)
{
	struct dirent *de;
	DIR *d = intents_open();

	if (!d)
		return;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			(void)unlinkat(st.intents_fd, de->d_name, 0);
	closedir(d);
}

void state_get_stats(struct state_stats *ret)
{
	*ret = st.stats;
}

void state_exit(void)
{
	if (st.journal_fd >= 0) {
		run_commit();
		if (st.stats.journal_bytes > 0) {
			int r = compact();

			if (r < 0)
				log_warning("Failed to compact state into '%s': %s",
					    st.snapshot_path, strerror(-r));
		}
		close(st.journal_fd);
		st.journal_fd = -1;
	}
	if (st.loop) {
		uv_close((uv_handle_t *)&st.check, NULL);
		uv_close((uv_handle_t *)&st.idle, NULL);
		st.loop = NULL;
	}
	if (st.lock_fd >= 0)
		close(TAKE_FD(st.lock_fd));
	if (st.intents_fd >= 0)
		close(TAKE_FD(st.intents_fd));
	st.intent_seq = 0;
	json_decref(TAKE_PTR(st.colls));
	free(TAKE_PTR(st.pending));
	free(TAKE_PTR(st.waiters));
	free(TAKE_PTR(st.dir));
	free(TAKE_PTR(st.snapshot_path));
	free(TAKE_PTR(st.journal_path));
	memset(&st.stats, 0, sizeof(st.stats));
	st.pending_len = st.pending_cap = st.nwaiters = st.waiters_cap = 0;
	st.seq = 0;
	st.armed = false;
	st.identity[0] = '\0';
}
