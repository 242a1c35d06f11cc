/*
 * test-state.c: unit tests of the desired-state store (daemon/state.c).
 *
 * First the pure (de)serialisation functions, then the real module in a
 * private temporary directory with its own libuv loop: journal and group
 * commit, barriers, compaction, restart, corrupt and torn files, the
 * directory lock.  Cases in which state_init() must fail run in a forked
 * child, because a failed state_init() leaves module globals behind that
 * cannot be released (see the TODO case below).
 */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <uv.h>

#include "log.h"
#include "state.h"
#include "tap.h"
#include "tmptree.h"
#include "util.h"

#define COMPACT_MIN (256u << 10) /* state.c COMPACT_MIN_BYTES */

static char tmp[PATH_MAX];
static uv_loop_t loop;


/* Helpers. */

static char *pathf(const char *fmt, ...) _printf_(1, 2);
static char *pathf(const char *fmt, ...)
{
	char rel[PATH_MAX], *p;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(rel, sizeof(rel), fmt, ap);
	va_end(ap);
	if (asprintf(&p, "%s/%s", tmp, rel) < 0)
		abort();
	return p;
}

static void write_text(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (fd < 0 || write_all(fd, text, strlen(text)) < 0)
		abort();
	close(fd);
}

/* The file's content (malloc'd; NULL when missing). */
static char *slurp(const char *path)
{
	char *buf = NULL;

	if (read_small_file(path, 64u << 20, &buf) < 0)
		return NULL;
	return buf;
}

static long long file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) < 0 ? -1 : (long long)st.st_size;
}

/* Names in dir starting with prefix. */
static int count_prefix(const char *dir, const char *prefix, char *ret_name, size_t len)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	if (!d)
		return -1;
	while ((de = readdir(d)))
		if (!strncmp(de->d_name, prefix, strlen(prefix))) {
			n++;
			if (ret_name)
				snprintf(ret_name, len, "%s/%s", dir, de->d_name);
		}
	closedir(d);
	return n;
}

/* Every line of a journal parsed: an array of records, or NULL when one is bad. */
static json_t *journal_records(const char *path)
{
	_cleanup_(freep) char *buf = slurp(path);
	json_t *arr = json_array();
	char *line, *save = NULL;

	if (!buf) {
		json_decref(arr);
		return NULL;
	}
	if (buf[0] && buf[strlen(buf) - 1] != '\n') {
		json_decref(arr);
		return NULL;
	}
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		json_t *rec = json_loads(line, JSON_REJECT_DUPLICATES, NULL);

		if (!json_is_object(rec)) {
			json_decref(rec);
			json_decref(arr);
			return NULL;
		}
		json_array_append_new(arr, rec);
	}
	return arr;
}

struct waited {
	int calls, err;
};

static void on_durable(void *data, int err)
{
	struct waited *w = data;

	w->calls++;
	w->err = err;
}

/* One loop iteration that does not block. */
static void spin(void)
{
	uv_run(&loop, UV_RUN_NOWAIT);
}

/* state_exit() closes two handles: let the loop finish closing them. */
static void shutdown_state(void)
{
	state_exit();
	uv_run(&loop, UV_RUN_NOWAIT);
}

/* Do the named collections of the module equal those of the model? */
static bool same_as_model(json_t *model)
{
	const char *name;
	json_t *c;

	json_object_foreach(model, name, c)
		if (!json_equal(state_collection(name), c))
			return false;
	return true;
}

static void model_put(json_t *model, const char *coll, const char *key, json_t *v)
{
	json_t *c = json_object_get(model, coll);

	if (!c) {
		c = json_object();
		json_object_set_new(model, coll, c);
	}
	json_object_set(c, key, v);
}

/*
 * Run fn in a child with a fresh copy of everything; the child's exit code
 * is a bit mask of failed checks.  Returns it, or 0x100 | signal when the
 * child died of a signal.
 */
static int in_child(int (*fn)(void *), void *arg)
{
	pid_t pid;
	int status;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0)
		abort();
	if (pid == 0) {
		uv_loop_fork(&loop);
		_exit(fn(arg) & 0xff);
	}
	if (waitpid(pid, &status, 0) < 0)
		abort();
	if (WIFSIGNALED(status))
		return 0x100 | WTERMSIG(status);
	return WEXITSTATUS(status);
}

/* Pure: snapshots. */

static void test_snapshot_format(void)
{
	json_t *colls = json_pack("{s:{s:{s:i},s:{s:s}},s:{},s:{s:{s:[i,b,n]}}}", "netns", "blue",
				  "nsid", 5, "red", "created", "2024-01-01T00:00:00.000Z", "proc",
				  "link", "veth0", "x", 1, 1, NULL);
	json_t *back = NULL;
	unsigned long long seq = 0;
	char err[256] = "";
	size_t len = 0;
	char *s;
	int r;

	s = state_snapshot_dump(colls, 42, &len);
	OK(s && len == strlen(s), "snapshot: dump returns text and its length");
	r = state_snapshot_parse(s, len, &back, &seq, err, sizeof(err));
	EQ_INT(r, 0, "snapshot: dump output parses");
	EQ_INT(seq, 42, "snapshot: seq round trip");
	OK(back && json_equal(back, colls), "snapshot: collections round trip");
	{
		json_t *doc = json_loads(s, 0, NULL);

		EQ_INT(json_integer_value(json_object_get(doc, "format")), 1, "snapshot: format 1");
		json_decref(doc);
	}
	json_decref(back);
	free(s);

	/* A large seq survives. */
	s = state_snapshot_dump(colls, 1ull << 60, &len);
	back = NULL;
	r = state_snapshot_parse(s, len, &back, &seq, err, sizeof(err));
	OK(r == 0 && seq == 1ull << 60, "snapshot: seq 2^60 round trip");
	json_decref(back);
	free(s);

	/* Empty state. */
	{
		json_t *empty = json_object();

		s = state_snapshot_dump(empty, 0, &len);
		back = NULL;
		r = state_snapshot_parse(s, len, &back, &seq, err, sizeof(err));
		OK(r == 0 && seq == 0 && json_is_object(back) && json_object_size(back) == 0,
		   "snapshot: empty state round trip");
		json_decref(back);
		free(s);
		json_decref(empty);
	}
	json_decref(colls);

	static const struct {
		const char *text, *desc;
	} bad[] = {
		{ "", "empty file" },
		{ "{", "truncated" },
		{ "garbage", "garbage" },
		{ "\x89PNG\r\n", "binary" },
		{ "[]", "an array" },
		{ "{\"format\":2,\"seq\":1,\"collections\":{}}", "format 2" },
		{ "{\"format\":0,\"seq\":1,\"collections\":{}}", "format 0" },
		{ "{\"format\":\"1\",\"seq\":1,\"collections\":{}}", "format a string" },
		{ "{\"seq\":1,\"collections\":{}}", "format missing" },
		{ "{\"format\":1,\"collections\":{}}", "seq missing" },
		{ "{\"format\":1,\"seq\":-1,\"collections\":{}}", "negative seq" },
		{ "{\"format\":1,\"seq\":1.5,\"collections\":{}}", "fractional seq" },
		{ "{\"format\":1,\"seq\":1}", "collections missing" },
		{ "{\"format\":1,\"seq\":1,\"collections\":[]}", "collections an array" },
		{ "{\"format\":1,\"seq\":1,\"collections\":null}", "collections null" },
		{ "{\"format\":1,\"seq\":1,\"collections\":{\"netns\":[]}}", "collection an array" },
		{ "{\"format\":1,\"seq\":1,\"collections\":{\"netns\":\"x\"}}", "collection a string" },
		{ "{\"format\":1,\"seq\":1,\"collections\":{\"netns\":{\"a\":1}}}", "entry a number" },
		{ "{\"format\":1,\"seq\":1,\"collections\":{\"netns\":{\"a\":null}}}", "entry null" },
		{ "{\"format\":1,\"seq\":1,\"collections\":{\"netns\":{\"a\":[]}}}", "entry an array" },
		{ "{\"format\":1,\"seq\":1,\"collections\":{},\"extra\":1}", "unknown member" },
		{ "{\"format\":1,\"format\":1,\"seq\":1,\"collections\":{}}", "duplicate key" },
		{ "{\"format\":1,\"seq\":1,\"collections\":{\"n\":{\"a\":{},\"a\":{}}}}",
		  "duplicate entry" },
		{ "{\"format\":1,\"seq\":1,\"collections\":{}} x", "trailing garbage" },
		{ "{\"format\":1,\"seq\":1,\"collections\":{\"n\":{\"\xff\":{}}}}", "invalid UTF-8" },
	};
	for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
		char desc[160];

		back = (json_t *)0x1;
		seq = 777;
		err[0] = '\0';
		r = state_snapshot_parse(bad[i].text, strlen(bad[i].text), &back, &seq, err,
					 sizeof(err));
		snprintf(desc, sizeof(desc), "snapshot: parse rejects %s with -EBADMSG", bad[i].desc);
		EQ_INT(r, -EBADMSG, desc);
		snprintf(desc, sizeof(desc), "snapshot: %s: message, outputs untouched", bad[i].desc);
		OK(err[0] && back == (json_t *)0x1 && seq == 777, desc);
	}
}

/* Pure: journal records. */

static int apply(json_t *colls, const char *line, unsigned long long *seq)
{
	return state_journal_apply(colls, line, strlen(line), seq);
}

static void test_journal_apply(void)
{
	json_t *colls = json_object(), *want;
	unsigned long long seq = 0;
	int r;

	r = apply(colls, "{\"seq\":1,\"op\":\"put\",\"c\":\"netns\",\"k\":\"a\",\"v\":{\"x\":1}}", &seq);
	EQ_INT(r, 0, "journal: put applies");
	EQ_INT(seq, 1, "journal: put returns its seq");
	r = apply(colls, "{\"seq\":2,\"op\":\"put\",\"c\":\"netns\",\"k\":\"b\",\"v\":{}}", &seq);
	r |= apply(colls, "{\"v\":{\"y\":2},\"k\":\"a\",\"c\":\"netns\",\"op\":\"put\",\"seq\":3}", &seq);
	r |= apply(colls, "{\"seq\":4,\"op\":\"put\",\"c\":\"link\",\"k\":\"e\\n\",\"v\":{\"z\":[]}}",
		   &seq);
	EQ_INT(r, 0, "journal: more puts (any member order) apply");
	want = json_pack("{s:{s:{s:i},s:{}},s:{s:{s:[]}}}", "netns", "a", "y", 2, "b", "link", "e\n",
			 "z");
	OK(json_equal(colls, want), "journal: put replaces, creates collections");
	json_decref(want);

	r = apply(colls, "{\"seq\":5,\"op\":\"del\",\"c\":\"netns\",\"k\":\"a\"}", &seq);
	EQ_INT(r, 0, "journal: del applies");
	EQ_INT(seq, 5, "journal: del returns its seq");
	OK(!json_object_get(json_object_get(colls, "netns"), "a"), "journal: del removed the key");
	r = apply(colls, "{\"seq\":6,\"op\":\"del\",\"c\":\"netns\",\"k\":\"nope\"}", &seq);
	EQ_INT(r, 0, "journal: del of a missing key is a no-op");
	r = apply(colls, "{\"seq\":7,\"op\":\"del\",\"c\":\"nocoll\",\"k\":\"x\"}", &seq);
	EQ_INT(r, 0, "journal: del in a missing collection is a no-op");
	OK(!json_object_get(colls, "nocoll"), "journal: del does not create a collection");

	static const struct {
		const char *line, *desc;
	} bad[] = {
		{ "", "empty line" },
		{ "{", "torn record" },
		{ "{\"seq\":1,\"op\":\"put\",\"c\":\"n\",\"k\":\"a\",\"v\":{}", "record missing its brace" },
		{ "[]", "an array" },
		{ "{\"op\":\"put\",\"c\":\"n\",\"k\":\"a\",\"v\":{}}", "seq missing" },
		{ "{\"seq\":0,\"op\":\"put\",\"c\":\"n\",\"k\":\"a\",\"v\":{}}", "seq 0" },
		{ "{\"seq\":-3,\"op\":\"put\",\"c\":\"n\",\"k\":\"a\",\"v\":{}}", "negative seq" },
		{ "{\"seq\":\"1\",\"op\":\"put\",\"c\":\"n\",\"k\":\"a\",\"v\":{}}", "seq a string" },
		{ "{\"seq\":1.0,\"op\":\"put\",\"c\":\"n\",\"k\":\"a\",\"v\":{}}", "seq a real" },
		{ "{\"seq\":1,\"op\":\"frob\",\"c\":\"n\",\"k\":\"a\",\"v\":{}}", "unknown op" },
		{ "{\"seq\":1,\"op\":\"put\",\"c\":\"n\",\"k\":\"a\"}", "put without v" },
		{ "{\"seq\":1,\"op\":\"put\",\"c\":\"n\",\"k\":\"a\",\"v\":1}", "put with v a number" },
		{ "{\"seq\":1,\"op\":\"put\",\"c\":\"n\",\"k\":\"a\",\"v\":null}", "put with v null" },
		{ "{\"seq\":1,\"op\":\"del\",\"c\":\"n\",\"k\":\"a\",\"v\":{}}", "del with v" },
		{ "{\"seq\":1,\"op\":\"put\",\"k\":\"a\",\"v\":{}}", "c missing" },
		{ "{\"seq\":1,\"op\":\"put\",\"c\":1,\"k\":\"a\",\"v\":{}}", "c a number" },
		{ "{\"seq\":1,\"op\":\"put\",\"c\":\"n\",\"v\":{}}", "k missing" },
		{ "{\"seq\":1,\"op\":\"put\",\"c\":\"n\",\"k\":null,\"v\":{}}", "k null" },
		{ "{\"seq\":1,\"seq\":2,\"op\":\"del\",\"c\":\"n\",\"k\":\"a\"}", "duplicate member" },
		{ "{\"seq\":1,\"op\":\"del\",\"c\":\"n\",\"k\":\"a\"} {}", "two values" },
	};
	for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
		json_t *before = json_deep_copy(colls);
		char desc[160];

		seq = 999;
		r = apply(colls, bad[i].line, &seq);
		snprintf(desc, sizeof(desc), "journal: %s -> -EBADMSG", bad[i].desc);
		EQ_INT(r, -EBADMSG, desc);
		snprintf(desc, sizeof(desc), "journal: %s: nothing changed", bad[i].desc);
		OK(json_equal(before, colls) && seq == 999, desc);
		json_decref(before);
	}
	/* The length bounds the record: a valid prefix is what counts. */
	{
		const char *line = "{\"seq\":9,\"op\":\"del\",\"c\":\"netns\",\"k\":\"b\"}GARBAGE";

		r = state_journal_apply(colls, line, strlen(line) - 7, &seq);
		EQ_INT(r, 0, "journal: only len bytes are parsed");
	}
	json_decref(colls);
}

/* The module: the everyday path. */

static void test_module_basic(void)
{
	_cleanup_(freep) char *dir = pathf("basic/sub"), *journal = pathf("basic/sub/journal.jsonl"),
			      *snap = pathf("basic/sub/state.json"), *lock = pathf("basic/sub/lock");
	json_t *model = json_object(), *recs, *v;
	struct state_stats ss, ss2;
	struct waited w1 = { 0 }, w2 = { 0 }, w3 = { 0 };
	struct stat st;
	int r;

	r = state_init(&loop, dir, false);
	EQ_INT(r, 0, "module: state_init on a missing directory");
	OK(stat(dir, &st) == 0 && S_ISDIR(st.st_mode) && (st.st_mode & 07777) == 0700,
	   "module: state directory created 0700");
	OK(access(lock, F_OK) == 0, "module: lock file exists");
	EQ_INT(file_size(journal), 0, "module: empty journal created");
	OK(access(snap, F_OK) < 0, "module: no snapshot yet");
	OK(json_is_object(state_collection("netns")) && json_object_size(state_collection("netns")) == 0,
	   "module: unknown collection is an empty object");
	OK(state_get("netns", "a") == NULL, "module: state_get of a missing key is NULL");
	OK(!state_pending(), "module: nothing pending after init");
	state_get_stats(&ss);
	EQ_STR(ss.journal_path, journal, "module: stats name the journal");
	EQ_STR(ss.snapshot_path, snap, "module: stats name the snapshot");

	state_barrier(on_durable, &w1);
	EQ_INT(w1.calls, 1, "module: barrier with nothing pending calls back at once");
	EQ_INT(w1.err, 0, "module: ... with 0");
	w1 = (struct waited){ 0 };

	v = json_pack("{s:i}", "x", 1);
	model_put(model, "netns", "a", v);
	EQ_INT(state_put("netns", "a", v), 0, "module: put a");
	v = json_pack("{s:s}", "y", "z");
	model_put(model, "netns", "b", v);
	EQ_INT(state_put("netns", "b", v), 0, "module: put b");
	OK(state_pending(), "module: pending after put");
	OK(same_as_model(model), "module: puts visible at once");
	EQ_INT(file_size(journal), 0, "module: nothing written before the loop runs");
	state_barrier(on_durable, &w1);
	EQ_INT(w1.calls, 0, "module: barrier does not call back synchronously");
	spin();
	EQ_INT(w1.calls, 1, "module: barrier fires after one loop iteration");
	EQ_INT(w1.err, 0, "module: barrier reports success");
	OK(!state_pending(), "module: nothing pending after the commit");
	recs = journal_records(journal);
	EQ_INT(json_array_size(recs), 2, "module: journal has two records");
	{
		json_t *want = json_pack("[{s:i,s:s,s:s,s:s,s:{s:i},s:b},{s:i,s:s,s:s,s:s,s:{s:s}}]",
					 "seq", 1, "op", "put", "c", "netns", "k", "a", "v", "x", 1,
					 "more", 1, "seq", 2, "op", "put", "c", "netns", "k", "b", "v",
					 "y", "z");

		OK(json_equal(recs, want),
		   "module: journal records are {seq,op,c,k,v}, more:true on all but a commit's last");
		json_decref(want);
	}
	json_decref(recs);
	state_get_stats(&ss);
	EQ_INT(ss.commits, 1, "module: one commit");
	EQ_INT(ss.records, 2, "module: two records");
	EQ_INT(ss.journal_bytes, file_size(journal), "module: journal_bytes is the file size");

	/* Deletes. */
	EQ_INT(state_del("netns", "a"), 0, "module: del a");
	json_object_del(json_object_get(model, "netns"), "a");
	EQ_INT(state_del("netns", "a"), -ENOENT, "module: del a again -> -ENOENT");
	EQ_INT(state_del("nosuch", "a"), -ENOENT, "module: del in a missing collection -> -ENOENT");
	OK(state_get("netns", "a") == NULL, "module: deleted key is gone");
	/* A second collection, an overwrite, and awkward keys. */
	v = json_pack("{s:s}", "kind", "veth");
	model_put(model, "link", "eth0", v);
	EQ_INT(state_put("link", "eth0", v), 0, "module: put in a second collection");
	v = json_pack("{s:s}", "y", "new");
	model_put(model, "netns", "b", v);
	EQ_INT(state_put("netns", "b", v), 0, "module: overwrite b");
	v = json_pack("{s:s}", "text", "line\nbreak \"quoted\" \xc3\xa9");
	model_put(model, "netns", "k\n\"\xc3\xa9", v);
	EQ_INT(state_put("netns", "k\n\"\xc3\xa9", v), 0, "module: key with newline, quote, UTF-8");
	state_barrier(on_durable, &w2);
	spin();
	EQ_INT(w2.calls, 1, "module: second barrier fired");
	recs = journal_records(journal);
	EQ_INT(json_array_size(recs), 6, "module: journal has six well-formed lines");
	EQ_STR(json_string_value(json_object_get(json_array_get(recs, 2), "op")), "del",
	       "module: third record is the del");
	OK(json_object_get(json_array_get(recs, 2), "v") == NULL, "module: del record has no v");
	EQ_INT(json_integer_value(json_object_get(json_array_get(recs, 5), "seq")), 6,
	       "module: seq counts every change");
	json_decref(recs);

	/* Group commit: 100 puts and three waiters share one write. */
	state_get_stats(&ss);
	w1 = w2 = w3 = (struct waited){ 0 };
	for (int i = 0; i < 100; i++) {
		char key[16];

		snprintf(key, sizeof(key), "k%03d", i);
		v = json_pack("{s:i}", "i", i);
		model_put(model, "netns", key, v);
		r |= state_put("netns", key, v);
		if (i == 10)
			state_barrier(on_durable, &w1);
		if (i == 50)
			state_barrier(on_durable, &w2);
	}
	state_barrier(on_durable, &w3);
	EQ_INT(r, 0, "group: 100 puts");
	EQ_INT(w1.calls + w2.calls + w3.calls, 0, "group: no waiter called before the loop runs");
	spin();
	state_get_stats(&ss2);
	EQ_INT(ss2.commits, ss.commits + 1, "group: 100 puts in one loop iteration -> one commit");
	EQ_INT(ss2.records, ss.records + 100, "group: ... of 100 records");
	OK(w1.calls == 1 && w2.calls == 1 && w3.calls == 1 && !w1.err && !w2.err && !w3.err,
	   "group: every waiter called once with 0");
	recs = journal_records(journal);
	EQ_INT(json_array_size(recs), 106, "group: journal has 106 lines");
	json_decref(recs);
	EQ_INT(ss2.compactions, 0, "group: small journal: no compaction");
	spin();
	state_get_stats(&ss);
	EQ_INT(ss.commits, ss2.commits, "group: an idle iteration commits nothing");

	/* state_flush: synchronous. */
	v = json_pack("{s:b}", "flushed", 1);
	model_put(model, "netns", "f", v);
	state_put("netns", "f", v);
	w1 = (struct waited){ 0 };
	state_barrier(on_durable, &w1);
	EQ_INT(state_flush(), 0, "flush: state_flush succeeds");
	OK(!state_pending(), "flush: nothing pending");
	EQ_INT(w1.calls, 1, "flush: waiters called by state_flush");
	recs = journal_records(journal);
	EQ_INT(json_array_size(recs), 107, "flush: record written synchronously");
	json_decref(recs);

	/* Exit compacts; the next start reads the same state. */
	v = json_pack("{s:i}", "last", 1);
	model_put(model, "netns", "unflushed", v);
	state_put("netns", "unflushed", v);
	shutdown_state();
	EQ_INT(file_size(journal), 0, "exit: journal emptied");
	{
		_cleanup_(freep) char *text = slurp(snap);
		unsigned long long seq = 0;
		json_t *colls = NULL;
		char err[256];

		r = text ? state_snapshot_parse(text, strlen(text), &colls, &seq, err, sizeof(err))
			 : -1;
		EQ_INT(r, 0, "exit: state.json written and parses");
		EQ_INT(seq, 108, "exit: snapshot seq is the last change");
		OK(colls && json_equal(colls, model), "exit: snapshot holds exactly the state");
		json_decref(colls);
		OK(stat(snap, &st) == 0 && (st.st_mode & 0077) == 0, "exit: snapshot not group/world readable");
	}
	OK(access(lock, F_OK) == 0, "exit: lock file stays (lock is the flock)");

	r = state_init(&loop, dir, false);
	EQ_INT(r, 0, "restart: state_init again");
	OK(same_as_model(model), "restart: same collections");
	state_get_stats(&ss);
	EQ_INT(ss.snapshot_bytes, file_size(snap), "restart: snapshot_bytes is the file size");
	EQ_INT(ss.journal_bytes, 0, "restart: empty journal");
	/* seq continues after the snapshot's. */
	v = json_pack("{}");
	model_put(model, "netns", "after", v);
	state_put("netns", "after", v);
	state_flush();
	recs = journal_records(journal);
	EQ_INT(json_integer_value(json_object_get(json_array_get(recs, 0), "seq")), 109,
	       "restart: seq continues after the snapshot");
	json_decref(recs);
	shutdown_state();

	r = state_init(&loop, dir, false);
	OK(r == 0 && same_as_model(model), "restart: second restart, same state");
	shutdown_state();
	json_decref(model);
}

/* Start from hand-written files. */

static void test_module_files(void)
{
	_cleanup_(freep) char *dir = pathf("files"), *journal = pathf("files/journal.jsonl"),
			      *snap = pathf("files/state.json");
	json_t *want;
	int r;

	mkdir(dir, 0700);
	/* A journal alone. */
	write_text(journal, "{\"seq\":1,\"op\":\"put\",\"c\":\"netns\",\"k\":\"a\",\"v\":{\"n\":1}}\n"
			    "{\"seq\":2,\"op\":\"put\",\"c\":\"netns\",\"k\":\"b\",\"v\":{\"n\":2}}\n"
			    "{\"seq\":3,\"op\":\"del\",\"c\":\"netns\",\"k\":\"a\"}\n");
	r = state_init(&loop, dir, false);
	EQ_INT(r, 0, "files: journal without snapshot loads");
	want = json_pack("{s:{s:i}}", "b", "n", 2);
	OK(json_equal(state_collection("netns"), want), "files: journal replayed");
	json_decref(want);
	shutdown_state();

	/* Records already in the snapshot are skipped; later ones applied. */
	write_text(snap, "{\"format\":1,\"seq\":5,\"collections\":{\"netns\":{\"s\":{\"v\":5}}}}");
	write_text(journal, "{\"seq\":4,\"op\":\"put\",\"c\":\"netns\",\"k\":\"old\",\"v\":{}}\n"
			    "{\"seq\":5,\"op\":\"del\",\"c\":\"netns\",\"k\":\"s\"}\n"
			    "{\"seq\":6,\"op\":\"put\",\"c\":\"netns\",\"k\":\"new\",\"v\":{}}\n");
	r = state_init(&loop, dir, false);
	EQ_INT(r, 0, "files: snapshot + overlapping journal loads");
	want = json_pack("{s:{s:i},s:{}}", "s", "v", 5, "new");
	OK(json_equal(state_collection("netns"), want),
	   "files: records with seq <= snapshot seq are not applied again");
	json_decref(want);
	state_put("netns", "next", json_object());
	state_flush();
	{
		json_t *recs = journal_records(journal);

		EQ_INT(json_integer_value(json_object_get(json_array_get(recs, 3), "seq")), 7,
		       "files: next seq follows the highest seen");
		json_decref(recs);
	}
	shutdown_state();

	/* A torn last line (a crash mid-write) is dropped and cut off. */
	unlink(snap);
	{
		const char *good = "{\"seq\":1,\"op\":\"put\",\"c\":\"netns\",\"k\":\"a\",\"v\":{}}\n"
				   "{\"seq\":2,\"op\":\"put\",\"c\":\"netns\",\"k\":\"b\",\"v\":{}}\n";
		char text[512];
		json_t *recs;

		snprintf(text, sizeof(text), "%s{\"seq\":3,\"op\":\"put\",\"c\":\"ne", good);
		write_text(journal, text);
		r = state_init(&loop, dir, false);
		EQ_INT(r, 0, "torn: state_init succeeds");
		want = json_pack("{s:{},s:{}}", "a", "b");
		OK(json_equal(state_collection("netns"), want), "torn: the complete records count");
		json_decref(want);
		EQ_INT(file_size(journal), strlen(good), "torn: the torn tail is cut off the file");
		state_put("netns", "c", json_object());
		state_flush();
		recs = journal_records(journal);
		OK(recs && json_array_size(recs) == 3, "torn: the next record starts on its own line");
		EQ_INT(json_integer_value(json_object_get(json_array_get(recs, 2), "seq")), 3,
		       "torn: the torn record's seq is reused");
		json_decref(recs);
		shutdown_state();
	}
	unlink(snap);

	/*
	 * A commit cut short: its complete records (more:true) go with the torn one,
	 * whether the tear is inside a line or between lines.
	 */
	for (int between = 0; between < 2; between++) {
		const char *good = "{\"seq\":1,\"op\":\"put\",\"c\":\"netns\",\"k\":\"a\",\"v\":{},"
				   "\"more\":true}\n"
				   "{\"seq\":2,\"op\":\"put\",\"c\":\"netns\",\"k\":\"b\",\"v\":{}}\n";
		const char *half = "{\"seq\":3,\"op\":\"del\",\"c\":\"netns\",\"k\":\"a\","
				   "\"more\":true}\n";
		char text[512];

		snprintf(text, sizeof(text), "%s%s%s", good, half,
			 between ? "" : "{\"seq\":4,\"op\":\"del\",\"c\":\"ne");
		write_text(journal, text);
		r = state_init(&loop, dir, false);
		EQ_INT(r, 0, "torn commit: state_init succeeds");
		want = json_pack("{s:{},s:{}}", "a", "b");
		OK(json_equal(state_collection("netns"), want),
		   between ? "torn commit (between lines): no record of it is applied"
			   : "torn commit (inside a line): no record of it is applied");
		json_decref(want);
		EQ_INT(file_size(journal), strlen(good), "torn commit: the whole commit is cut off");
		shutdown_state();
		unlink(snap);
	}
	unlink(journal);
}

/* Failing starts, each in a child. */

struct bad_start {
	const char *dir, *file, *content, *other, *other_content, *log;
	bool reset;
	int want;
};

static int child_bad_start(void *data)
{
	const struct bad_start *b = data;
	int fails = 0, fd, r;

	fd = open(b->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd >= 0) {
		dup2(fd, STDERR_FILENO);
		close(fd);
	}
	r = state_init(&loop, b->dir, b->reset);
	if (r != b->want) {
		fprintf(stderr, "state_init returned %d, expected %d\n", r, b->want);
		fails |= 1;
	}
	return fails;
}

static void bad_start(const char *name, const char *file, const char *content,
		      const char *other, const char *other_content, int want)
{
	_cleanup_(freep) char *dir = pathf("bad-%s", name), *path = NULL, *opath = NULL,
			      *log = pathf("bad-%s.log", name), *after = NULL, *oafter = NULL,
			      *logtext = NULL;
	struct bad_start b = { dir, file, content, other, other_content, log, false, want };
	char desc[200];
	int res;

	mkdir(dir, 0700);
	if (asprintf(&path, "%s/%s", dir, file) < 0)
		abort();
	write_text(path, content);
	if (other) {
		if (asprintf(&opath, "%s/%s", dir, other) < 0)
			abort();
		write_text(opath, other_content);
	}
	res = in_child(child_bad_start, &b);
	snprintf(desc, sizeof(desc), "refuse: %s -> state_init fails with %s", name,
		 strerrorname_np(-want));
	EQ_INT(res, 0, desc);
	after = slurp(path);
	snprintf(desc, sizeof(desc), "refuse: %s: %s left exactly as it was", name, file);
	EQ_STR(after, content, desc);
	if (other) {
		oafter = slurp(opath);
		snprintf(desc, sizeof(desc), "refuse: %s: %s left exactly as it was", name, other);
		EQ_STR(oafter, other_content, desc);
	}
	snprintf(desc, sizeof(desc), "refuse: %s: nothing moved aside", name);
	EQ_INT(count_prefix(dir, "state.json.corrupt", NULL, 0) +
		       count_prefix(dir, "journal.jsonl.corrupt", NULL, 0),
	       0, desc);
	logtext = slurp(log);
	snprintf(desc, sizeof(desc), "refuse: %s: the log names %s", name, file);
	OK(logtext && strstr(logtext, path), desc);
	if (logtext && !strstr(logtext, path))
		printf("# log: %s\n", logtext);
}

static const char good_journal[] =
	"{\"seq\":1,\"op\":\"put\",\"c\":\"netns\",\"k\":\"a\",\"v\":{}}\n"
	"{\"seq\":2,\"op\":\"put\",\"c\":\"netns\",\"k\":\"b\",\"v\":{}}\n";

static void test_refuse(void)
{
	bad_start("garbage-snapshot", "state.json", "{\"format\":1,\"seq\":3,\"collec", NULL, NULL,
		  -EBADMSG);
	bad_start("format-2", "state.json", "{\"format\":2,\"seq\":3,\"collections\":{}}",
		  "journal.jsonl", good_journal, -EBADMSG);
	bad_start("entry-not-object", "state.json",
		  "{\"format\":1,\"seq\":3,\"collections\":{\"netns\":{\"a\":7}}}", NULL, NULL,
		  -EBADMSG);
	bad_start("corrupt-middle-line", "journal.jsonl",
		  "{\"seq\":1,\"op\":\"put\",\"c\":\"netns\",\"k\":\"a\",\"v\":{}}\n"
		  "this is not json\n"
		  "{\"seq\":3,\"op\":\"put\",\"c\":\"netns\",\"k\":\"b\",\"v\":{}}\n",
		  "state.json", "{\"format\":1,\"seq\":0,\"collections\":{}}", -EBADMSG);
	/* A bad last line that ends in '\n' was complete when written: not torn. */
	bad_start("corrupt-last-line", "journal.jsonl",
		  "{\"seq\":1,\"op\":\"put\",\"c\":\"netns\",\"k\":\"a\",\"v\":{}}\n{\"seq\":2,\"op\n",
		  NULL, NULL, -EBADMSG);
}

static int child_reset(void *data)
{
	const char *dir = data;
	int fails = 0;

	if (state_init(&loop, dir, true) != 0)
		return 1;
	if (json_object_size(state_collection("netns")) != 1 || !state_get("netns", "fresh"))
		fails |= 2;
	return fails;
}

static void test_reset_corrupt(void)
{
	_cleanup_(freep) char *dir = pathf("reset"), *snap = pathf("reset/state.json"),
			      *journal = pathf("reset/journal.jsonl");
	static const char bad[] = "{\"format\":1,\"seq\":1,\"collections\":{\"netns\":[]}}";
	char aside[PATH_MAX], jaside[PATH_MAX];
	int r;

	mkdir(dir, 0700);
	write_text(snap, bad);
	write_text(journal, good_journal);
	r = state_init(&loop, dir, true);
	EQ_INT(r, 0, "reset: state_init with reset_corrupt starts");
	EQ_INT(json_object_size(state_collection("netns")), 0, "reset: starts empty");
	OK(access(snap, F_OK) < 0, "reset: corrupt state.json no longer in place");
	EQ_INT(count_prefix(dir, "state.json.corrupt-", aside, sizeof(aside)), 1,
	       "reset: state.json moved aside to state.json.corrupt-TIME");
	{
		_cleanup_(freep) char *text = slurp(aside);

		EQ_STR(text, bad, "reset: the moved file is the original, unmodified");
	}
	EQ_INT(count_prefix(dir, "journal.jsonl.corrupt-", jaside, sizeof(jaside)), 1,
	       "reset: the journal moved aside with it");
	{
		_cleanup_(freep) char *text = slurp(jaside);

		EQ_STR(text, good_journal, "reset: the moved journal is unmodified");
	}
	EQ_INT(file_size(journal), 0, "reset: a fresh empty journal");
	state_put("netns", "fresh", json_object());
	shutdown_state();
	r = state_init(&loop, dir, false);
	OK(r == 0 && state_get("netns", "fresh") && json_object_size(state_collection("netns")) == 1,
	   "reset: the new state persists");
	shutdown_state();

	/* A valid state with reset_corrupt set: nothing is moved. */
	EQ_INT(in_child(child_reset, dir), 0, "reset: valid state is loaded, not reset");
	EQ_INT(count_prefix(dir, "state.json.corrupt-", NULL, 0), 1,
	       "reset: valid state: nothing more moved aside");
}

/* Compaction. */

static void commit_now(void)
{
	struct waited w = { 0 };

	state_barrier(on_durable, &w);
	spin();
	if (w.calls != 1 || w.err)
		printf("# commit: %d calls, err %d\n", w.calls, w.err);
}

static void test_compaction(void)
{
	_cleanup_(freep) char *dir = pathf("compact"), *snap = pathf("compact/state.json"),
			      *journal = pathf("compact/journal.jsonl");
	_cleanup_(freep) char *blob = malloc(4001);
	json_t *model = json_object();
	struct state_stats ss, prev;
	bool invariant = true, deferred_by_snapshot = false, snapshot_matches = true;
	int r, round;

	memset(blob, 'x', 4000);
	blob[4000] = '\0';
	r = state_init(&loop, dir, false);
	EQ_INT(r, 0, "compact: init");

	/* One big commit: 100 distinct keys, ~400 KB, over the minimum -> compaction. */
	for (int i = 0; i < 100; i++) {
		char key[16];
		json_t *v = json_pack("{s:i,s:s}", "round", 0, "blob", blob);

		snprintf(key, sizeof(key), "big%03d", i);
		model_put(model, "netns", key, v);
		state_put("netns", key, v);
	}
	commit_now();
	state_get_stats(&ss);
	EQ_INT(ss.compactions, 1, "compact: a 400 KB journal over an empty snapshot compacts");
	EQ_INT(ss.journal_bytes, 0, "compact: journal_bytes reset");
	EQ_INT(file_size(journal), 0, "compact: journal file truncated");
	EQ_INT(ss.snapshot_bytes, file_size(snap), "compact: snapshot_bytes is the file size");
	OK(ss.snapshot_bytes > COMPACT_MIN, "compact: the snapshot is larger than the minimum");

	/*
	 * Rewrite 10 keys per commit (~40 KB).  Compaction must wait until the
	 * journal outgrows the (~400 KB) snapshot, not merely the minimum.
	 */
	for (round = 1; round <= 30; round++) {
		prev = ss;
		for (int i = 0; i < 10; i++) {
			char key[16];
			json_t *v = json_pack("{s:i,s:s}", "round", round, "blob", blob);

			snprintf(key, sizeof(key), "big%03d", (round * 10 + i) % 100);
			model_put(model, "netns", key, v);
			state_put("netns", key, v);
		}
		commit_now();
		state_get_stats(&ss);
		if (ss.compactions == prev.compactions + 1) {
			/* Compacted: the journal was larger than both limits. */
			_cleanup_(freep) char *text = slurp(snap);
			unsigned long long seq;
			json_t *colls = NULL;
			char err[128];

			if (ss.journal_bytes != 0 || file_size(journal) != 0)
				invariant = false;
			if (!text ||
			    state_snapshot_parse(text, strlen(text), &colls, &seq, err, sizeof(err)) < 0 ||
			    !json_equal(colls, model) || seq != ss.records)
				snapshot_matches = false;
			json_decref(colls);
		} else if (ss.compactions == prev.compactions) {
			if (ss.journal_bytes > COMPACT_MIN && ss.journal_bytes > ss.snapshot_bytes)
				invariant = false; /* should have compacted */
			if (ss.journal_bytes > COMPACT_MIN)
				deferred_by_snapshot = true;
			if ((long long)ss.journal_bytes != file_size(journal))
				invariant = false;
		} else {
			invariant = false;
		}
	}
	OK(invariant, "compact: compacts exactly when the journal outgrows 256 KiB and the snapshot");
	OK(deferred_by_snapshot, "compact: a journal over 256 KiB but under the snapshot waits");
	OK(ss.compactions >= 2, "compact: rewrites compacted again");
	OK(snapshot_matches, "compact: every snapshot equals the state at that moment");
	OK(same_as_model(model), "compact: in-memory state unchanged by compaction");
	shutdown_state();

	r = state_init(&loop, dir, false);
	OK(r == 0 && same_as_model(model), "compact: restart reads the identical state");
	shutdown_state();
	json_decref(model);
}

/* The directory lock. */

static int child_lock_free(void *data)
{
	return state_init(&loop, data, false) == 0 ? 0 : 1;
}

static void test_lock(void)
{
	_cleanup_(freep) char *dir = pathf("locked");
	int go[2], status = -1, r;
	pid_t pid;
	char c;

	/*
	 * The child is forked before the parent takes the lock, so that its
	 * copy of the module is pristine; it tries once the parent holds it.
	 */
	if (pipe2(go, O_CLOEXEC) < 0)
		abort();
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		abort();
	if (pid == 0) {
		int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);

		dup2(fd, STDERR_FILENO);
		close(go[1]);
		uv_loop_fork(&loop);
		if (read(go[0], &c, 1) != 1)
			_exit(2);
		_exit(state_init(&loop, dir, false) == -EBUSY ? 0 : 1);
	}
	close(go[0]);
	r = state_init(&loop, dir, false);
	EQ_INT(r, 0, "lock: first state_init");
	if (write(go[1], "x", 1) != 1)
		abort();
	close(go[1]);
	waitpid(pid, &status, 0);
	OK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	   "lock: state_init on a directory locked by another process -> -EBUSY");
	shutdown_state();
	EQ_INT(in_child(child_lock_free, dir), 0, "lock: released by state_exit");
}

/* A failing journal write (file size limit) reaches the waiter; the journal stays well-formed. */

static int child_write_error(void *data)
{
	const char *dir = data;
	_cleanup_(freep) char *journal = NULL;
	struct waited w = { 0 };
	struct rlimit rl, old;
	long long before;
	json_t *recs;
	int fails = 0;

	if (asprintf(&journal, "%s/journal.jsonl", dir) < 0)
		return 0x7f;
	signal(SIGXFSZ, SIG_IGN);
	if (state_init(&loop, dir, false) != 0)
		return 0x7f;
	state_put("netns", "small", json_object());
	state_flush();
	before = file_size(journal);
	getrlimit(RLIMIT_FSIZE, &old);
	rl = old;
	rl.rlim_cur = (rlim_t)before + 20;
	if (setrlimit(RLIMIT_FSIZE, &rl) < 0)
		return 0x7f;
	state_put("netns", "large", json_pack("{s:s}", "pad", "0123456789012345678901234567890123456789"));
	state_barrier(on_durable, &w);
	spin();
	if (w.calls != 1 || w.err != -EFBIG)
		fails |= 1; /* the waiter hears of the failure */
	if (file_size(journal) != before)
		fails |= 2; /* the partial record was cut off */
	setrlimit(RLIMIT_FSIZE, &old);
	/* The change is still pending and goes out with the next commit. */
	if (!state_pending())
		fails |= 4;
	w = (struct waited){ 0 };
	state_put("netns", "later", json_object());
	state_barrier(on_durable, &w);
	spin();
	if (w.calls != 1 || w.err != 0)
		fails |= 8;
	recs = journal_records(journal);
	if (!recs || json_array_size(recs) != 3)
		fails |= 16;
	json_decref(recs);
	return fails;
}

static void test_write_error(void)
{
	_cleanup_(freep) char *dir = pathf("fsize");
	int res = in_child(child_write_error, dir);

	if (res == 0x7f) {
		OK(1, "write error: # SKIP cannot set up RLIMIT_FSIZE");
		return;
	}
	OK(!(res & 0x100), "write error: no crash");
	OK(!(res & 1), "write error: the barrier reports -EFBIG");
	OK(!(res & 2), "write error: the partial record is trimmed off the journal");
	OK(!(res & 4), "write error: the change stays pending");
	OK(!(res & 8), "write error: the next commit succeeds");
	OK(!(res & 16), "write error: the journal holds every record once, well-formed");
	if (res)
		printf("# child result 0x%x\n", res);
}

/*
 * Destructors must accept half-built objects (STYLE.md).  Known bug:
 * state_exit() after a failed state_init() calls uv_close() on handles that
 * were never initialised, and a failed state_init() leaks its allocations
 * and keeps the directory locked.
 */
static int child_exit_after_failure(void *data)
{
	int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);

	dup2(fd, STDERR_FILENO);
	if (state_init(&loop, data, false) == 0)
		return 1;
	state_exit();
	uv_run(&loop, UV_RUN_NOWAIT);
	return 0;
}

static void test_exit_after_failure(void)
{
	_cleanup_(freep) char *dir = pathf("halfbuilt"), *snap = pathf("halfbuilt/state.json");

	mkdir(dir, 0700);
	write_text(snap, "corrupt");
	tap_ok(in_child(child_exit_after_failure, dir) == 0,
	     "state_exit after a failed state_init does not crash",
	     "state.c: state_init error paths leave st half set; state_exit uv_close()s "
	     "uninitialised handles");
}

int main(void)
{
	const char *base = getenv("TMPDIR") ?: "/tmp";
	int r;

	snprintf(tmp, sizeof(tmp), "%s/netnsd-test-state-XXXXXX", base);
	if (!mkdtemp(tmp)) {
		printf("1..0 # SKIP cannot create a temporary directory under %s\n", base);
		return 0; /* a TAP skip; exit 77 would be an error under tap-driver */
	}
	umask(022);
	log_set_level(LOG_WARNING);
	uv_loop_init(&loop);

	test_snapshot_format();
	test_journal_apply();
	test_module_basic();
	test_module_files();
	test_refuse();
	test_reset_corrupt();
	test_compaction();
	test_lock();
	test_write_error();
	test_exit_after_failure();

	r = uv_loop_close(&loop);
	EQ_INT(r, 0, "every libuv handle of the state module was closed");
	rm_rf(tmp);
	return tap_done();
}
