/*
 * test-util.c: unit tests of daemon/util.c: name validation, RFC 3339 time
 * stamps and the small file helpers (run in a private mkdtemp directory).
 */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>

#include "tap.h"
#include "tmptree.h"
#include "util.h"

static char tmp[PATH_MAX];

static void test_netns_names(void)
{
	static const char *const good[] = {
		"a", "A", "0", "_", "blue", "a.b", "a-b", "a_b", "x-", "x.", "x..", "_.-",
		"0123456789", "ns.with.dots", "UPPER_lower-09",
	};
	static const char *const bad[] = {
		"", ".", "..", "...", "-x", ".x", "-", "a/b", "/a", "a/", "a b", " a", "a ",
		"a\tb", "a\nb", "a\x01", "a\x7f", "a:b", "a@b", "a\\b", "a*", "caf\xc3\xa9",
		"\xc3\xa9", "a\xff",
	};
	char name[80], desc[160];

	for (size_t i = 0; i < ELEMENTSOF(good); i++) {
		snprintf(desc, sizeof(desc), "netns_name_valid(\"%s\") accepts", good[i]);
		OK(netns_name_valid(good[i]), desc);
	}
	for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
		char shown[64] = "";

		for (const unsigned char *p = (const unsigned char *)bad[i]; *p; p++)
			snprintf(shown + strlen(shown), sizeof(shown) - strlen(shown),
				 *p >= 0x21 && *p < 0x7f ? "%c" : "\\x%02x", *p);
		snprintf(desc, sizeof(desc), "netns_name_valid(\"%s\") rejects", shown);
		OK(!netns_name_valid(bad[i]), desc);
	}
	OK(!netns_name_valid(NULL), "netns_name_valid(NULL) rejects");

	memset(name, 'a', sizeof(name));
	name[63] = '\0';
	OK(netns_name_valid(name), "netns_name_valid: 63 characters accepted");
	name[63] = 'b';
	name[64] = '\0';
	EQ_INT(strlen(name), NETNS_NAME_MAX, "netns_name_valid: NETNS_NAME_MAX is 64");
	OK(netns_name_valid(name), "netns_name_valid: 64 characters accepted");
	name[64] = 'c';
	name[65] = '\0';
	OK(!netns_name_valid(name), "netns_name_valid: 65 characters rejected");
	memset(name, 'a', sizeof(name));
	name[sizeof(name) - 1] = '\0';
	OK(!netns_name_valid(name), "netns_name_valid: 79 characters rejected");
	/* Every single byte as a one-character name and as a second character. */
	{
		int wrong = 0;

		for (int c = 1; c < 256; c++) {
			char one[2] = { (char)c, 0 }, two[3] = { 'a', (char)c, 0 };
			bool alnum_ = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
				      (c >= '0' && c <= '9') || c == '_';

			if (netns_name_valid(one) != alnum_)
				wrong++;
			if (netns_name_valid(two) != (alnum_ || c == '.' || c == '-'))
				wrong++;
		}
		EQ_INT(wrong, 0, "netns_name_valid: exactly [A-Za-z0-9_][A-Za-z0-9_.-]* over all bytes");
	}
}

static void test_ifnames(void)
{
	static const char *const good[] = {
		"a", "eth0", "veth-x", "br.10", "a_b", "...", ".a", "-a", "a@b", "caf\xc3\xa9",
		"123456789012345",
	};
	static const char *const bad[] = {
		"", ".", "..", "a/b", "/", "a:b", ":", "a b", " a", "a ", "a\tb", "a\nb", "a\rb",
		"a\x0b", "a\x01", "a\x7f", "1234567890123456", "12345678901234567890",
	};
	char desc[160];

	for (size_t i = 0; i < ELEMENTSOF(good); i++) {
		snprintf(desc, sizeof(desc), "ifname_valid(\"%s\") accepts", good[i]);
		OK(ifname_valid(good[i]), desc);
	}
	for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
		char shown[64] = "";

		for (const unsigned char *p = (const unsigned char *)bad[i]; *p; p++)
			snprintf(shown + strlen(shown), sizeof(shown) - strlen(shown),
				 *p >= 0x21 && *p < 0x7f ? "%c" : "\\x%02x", *p);
		snprintf(desc, sizeof(desc), "ifname_valid(\"%s\") rejects", shown);
		OK(!ifname_valid(bad[i]), desc);
	}
	OK(!ifname_valid(NULL), "ifname_valid(NULL) rejects");
	EQ_INT(strlen("123456789012345"), 15, "ifname_valid: the 15-byte case really is 15 bytes");
	/* 15 bytes that are 8 characters: the limit is in bytes (IFNAMSIZ - 1). */
	OK(ifname_valid("\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9x"),
	   "ifname_valid: 15 bytes of UTF-8 accepted");
	OK(!ifname_valid("\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"),
	   "ifname_valid: 16 bytes of UTF-8 (8 characters) rejected");
}

static void test_rfc3339(void)
{
	char buf[32];
	const char *r;

	r = format_rfc3339(0, buf);
	OK(r == buf, "format_rfc3339 returns buf");
	EQ_STR(buf, "1970-01-01T00:00:00.000Z", "format_rfc3339: epoch");
	EQ_STR(format_rfc3339(1700000000123456ull, buf), "2023-11-14T22:13:20.123Z",
	       "format_rfc3339: milliseconds, truncated not rounded");
	EQ_STR(format_rfc3339(1700000000999999ull, buf), "2023-11-14T22:13:20.999Z",
	       "format_rfc3339: .999999 stays in its second");
	EQ_STR(format_rfc3339(951782400000000ull, buf), "2000-02-29T00:00:00.000Z",
	       "format_rfc3339: leap day");
	EQ_STR(format_rfc3339(4102444799001000ull, buf), "2099-12-31T23:59:59.001Z",
	       "format_rfc3339: end of 2099");
	EQ_STR(format_rfc3339(253402300799999000ull, buf), "9999-12-31T23:59:59.999Z",
	       "format_rfc3339: year 9999 fits the buffer");
	/* Now: sane shape. */
	format_rfc3339(realtime_usec(), buf);
	EQ_INT(strlen(buf), 24, "format_rfc3339(now) has 24 characters");
	OK(buf[4] == '-' && buf[10] == 'T' && buf[19] == '.' && buf[23] == 'Z',
	   "format_rfc3339(now) has the RFC 3339 shape");
	{
		uint64_t a = now_usec(), b = now_usec();

		OK(b >= a && a > 0, "now_usec is monotonic");
	}
}

static char *path_in(const char *name)
{
	char *p;

	if (asprintf(&p, "%s/%s", tmp, name) < 0)
		abort();
	return p;
}

static void write_plain(const char *path, const char *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (fd < 0 || write_all(fd, data, len) < 0)
		abort();
	close(fd);
}

static int count_entries(const char *dir, const char *suffix)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	if (!d)
		return -1;
	while ((de = readdir(d))) {
		size_t l = strlen(de->d_name), s = strlen(suffix);

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (l >= s && !strcmp(de->d_name + l - s, suffix))
			n++;
	}
	closedir(d);
	return n;
}

static void test_read_small_file(void)
{
	_cleanup_(freep) char *p10 = path_in("ten"), *pempty = path_in("empty"),
			      *pmissing = path_in("missing");
	char *buf = NULL;
	int r;

	write_plain(p10, "0123456789", 10);
	write_plain(pempty, "", 0);

	r = read_small_file(p10, 100, &buf);
	EQ_INT(r, 10, "read_small_file: returns the length");
	EQ_STR(buf, "0123456789", "read_small_file: content, NUL-terminated");
	free(buf);
	buf = NULL;

	r = read_small_file(p10, 10, &buf);
	EQ_INT(r, 10, "read_small_file: exactly max bytes is fine");
	EQ_STR(buf, "0123456789", "read_small_file: exactly max: content");
	free(buf);
	buf = NULL;

	buf = (char *)"untouched";
	r = read_small_file(p10, 9, &buf);
	EQ_INT(r, -EFBIG, "read_small_file: one byte past max -> -EFBIG");
	EQ_STR(buf, "untouched", "read_small_file: ret untouched on failure");
	r = read_small_file(p10, 1, &buf);
	EQ_INT(r, -EFBIG, "read_small_file: far past max -> -EFBIG");
	r = read_small_file(pmissing, 10, &buf);
	EQ_INT(r, -ENOENT, "read_small_file: missing -> -ENOENT");
	r = read_small_file(tmp, 10, &buf);
	EQ_INT(r, -EISDIR, "read_small_file: a directory -> -EISDIR");
	buf = NULL;

	r = read_small_file(pempty, 10, &buf);
	EQ_INT(r, 0, "read_small_file: empty file -> 0");
	EQ_STR(buf, "", "read_small_file: empty file -> empty string");
	free(buf);
	buf = NULL;

	r = read_small_file(pempty, 0, &buf);
	EQ_INT(r, 0, "read_small_file: empty file with max 0 -> 0");
	free(buf);
	buf = NULL;

	/* A file whose size the kernel does not know up front. */
	r = read_small_file("/proc/self/status", 1 << 20, &buf);
	OK(r > 0 && buf && strstr(buf, "Pid:"), "read_small_file: /proc file read completely");
	free(buf);
}

static void test_write_file_atomic(void)
{
	_cleanup_(freep) char *p = path_in("atomic"), *ptmp = path_in("atomic.tmp"),
			      *nodir = path_in("nodir/x");
	_cleanup_(freep) char *big = malloc(300000);
	char *buf = NULL;
	struct stat st;
	int r;

	r = write_file_atomic(p, "hello\n", 6, 0640);
	EQ_INT(r, 0, "write_file_atomic: new file");
	r = read_small_file(p, 100, &buf);
	EQ_STR(buf, "hello\n", "write_file_atomic: content");
	free(buf);
	buf = NULL;
	OK(stat(p, &st) == 0 && (st.st_mode & 07777) == 0640 && S_ISREG(st.st_mode),
	   "write_file_atomic: mode 0640");
	OK(access(ptmp, F_OK) < 0 && errno == ENOENT, "write_file_atomic: no .tmp left");

	/* Replacing: the inode changes (rename), the content is the new one. */
	{
		ino_t before = st.st_ino;

		r = write_file_atomic(p, "x", 1, 0600);
		EQ_INT(r, 0, "write_file_atomic: replace");
		OK(stat(p, &st) == 0 && st.st_ino != before, "write_file_atomic: replaced by rename");
		OK((st.st_mode & 07777) == 0600, "write_file_atomic: replacement has the new mode");
		r = read_small_file(p, 100, &buf);
		EQ_STR(buf, "x", "write_file_atomic: replaced content");
		free(buf);
		buf = NULL;
	}

	/* A stale temp file from a crash is overwritten, not appended to. */
	write_plain(ptmp, "stale stale stale", 17);
	r = write_file_atomic(p, "new", 3, 0600);
	EQ_INT(r, 0, "write_file_atomic: over a stale .tmp");
	r = read_small_file(p, 100, &buf);
	EQ_STR(buf, "new", "write_file_atomic: stale .tmp content not kept");
	free(buf);
	buf = NULL;
	OK(access(ptmp, F_OK) < 0, "write_file_atomic: stale .tmp gone");

	/* Empty and large contents. */
	r = write_file_atomic(p, "", 0, 0600);
	OK(r == 0 && stat(p, &st) == 0 && st.st_size == 0, "write_file_atomic: empty content");
	for (size_t i = 0; i < 300000; i++)
		big[i] = (char)('a' + i % 26);
	r = write_file_atomic(p, big, 300000, 0600);
	OK(r == 0 && stat(p, &st) == 0 && st.st_size == 300000, "write_file_atomic: 300000 bytes");
	r = read_small_file(p, 400000, &buf);
	OK(r == 300000 && !memcmp(buf, big, 300000), "write_file_atomic: large content intact");
	free(buf);
	buf = NULL;

	r = write_file_atomic(nodir, "x", 1, 0600);
	EQ_INT(r, -ENOENT, "write_file_atomic: missing directory -> -ENOENT");

	/* The temp file is opened O_NOFOLLOW: a symlink planted there is not followed. */
	{
		_cleanup_(freep) char *victim = path_in("victim"), *p2 = path_in("sym"),
				      *p2tmp = path_in("sym.tmp");

		write_plain(victim, "keep", 4);
		if (symlink(victim, p2tmp) < 0)
			abort();
		r = write_file_atomic(p2, "evil", 4, 0600);
		OK(r < 0, "write_file_atomic: refuses a symlink at the .tmp path");
		r = read_small_file(victim, 100, &buf);
		EQ_STR(buf, "keep", "write_file_atomic: symlink target untouched");
		free(buf);
		buf = NULL;
		OK(access(p2, F_OK) < 0, "write_file_atomic: nothing created on failure");
		unlink(p2tmp);
	}
	EQ_INT(count_entries(tmp, ".tmp"), 0, "write_file_atomic: no .tmp files in the directory");
}

static void test_mkdir_p(void)
{
	_cleanup_(freep) char *deep = path_in("a/b/c/d"), *trail = path_in("t/u/"),
			      *file = path_in("plainfile"), *under = path_in("plainfile/x"),
			      *mid = path_in("a/b");
	struct stat st;
	int r;

	r = mkdir_p(deep, 0750);
	EQ_INT(r, 0, "mkdir_p: creates every component");
	OK(stat(deep, &st) == 0 && S_ISDIR(st.st_mode), "mkdir_p: leaf is a directory");
	OK((st.st_mode & 07777) == 0750, "mkdir_p: leaf has the mode");
	OK(stat(mid, &st) == 0 && (st.st_mode & 07777) == 0750, "mkdir_p: middle has the mode");
	EQ_INT(mkdir_p(deep, 0750), 0, "mkdir_p: existing path is fine");
	EQ_INT(mkdir_p(tmp, 0700), 0, "mkdir_p: existing absolute base is fine");
	EQ_INT(mkdir_p(trail, 0700), 0, "mkdir_p: trailing slash");
	OK(stat(trail, &st) == 0 && S_ISDIR(st.st_mode), "mkdir_p: trailing slash: created");

	write_plain(file, "", 0);
	EQ_INT(mkdir_p(under, 0700), -ENOTDIR, "mkdir_p: below a regular file -> -ENOTDIR");
	{
		char longp[PATH_MAX + 10];

		memset(longp, 'x', sizeof(longp));
		longp[0] = '/';
		longp[sizeof(longp) - 1] = '\0';
		EQ_INT(mkdir_p(longp, 0700), -ENAMETOOLONG, "mkdir_p: over PATH_MAX -> -ENAMETOOLONG");
	}
	/*
	 * `mkdir -p FILE` fails when FILE is not a directory; mkdir_p() treats
	 * EEXIST as success whatever the existing object is.
	 */
	{
		int rr = mkdir_p(file, 0700);

		EQ_INT(rr, -ENOTDIR, "mkdir_p: an existing regular file is an error");
	}
}

/* Remove the private directory (small, two levels of our own making). */
int main(void)
{
	const char *base = getenv("TMPDIR") ?: "/tmp";

	snprintf(tmp, sizeof(tmp), "%s/netnsd-test-util-XXXXXX", base);
	if (!mkdtemp(tmp)) {
		printf("1..0 # SKIP cannot create a temporary directory under %s\n", base);
		return 0; /* a TAP skip; exit 77 would be an error under tap-driver */
	}
	umask(022);

	test_netns_names();
	test_ifnames();
	test_rfc3339();
	test_read_small_file();
	test_write_file_atomic();
	test_mkdir_p();

	rm_rf(tmp);
	return tap_done();
}
