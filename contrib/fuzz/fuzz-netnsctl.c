/*
 * fuzz-netnsctl.c: libFuzzer harness for netnsctl's command line: the option
 * parser, the verb tables, every family's argument parsing into JSON-RPC
 * params, and the printing of whatever the daemon answers.
 *
 * netnsctl's sources are compiled in with main() renamed to netnsctl_main().
 * No daemon and no real socket: connect() is replaced here by a socketpair
 * whose other end already holds the "daemon's" answer and is then closed, so
 * every read ends at EOF and nothing blocks.
 *
 * Input: argv words separated by NUL bytes; an empty word (two NULs in a row)
 * ends them, and the rest of the input is the daemon's answer (NDJSON lines,
 * read as netnsctl reads any reply).  Words are capped at 48.
 *
 * Kept away from the host: `exec` (it needs a terminal and forwards
 * signals), words with '/' (file paths; relative ones resolve in an empty
 * temporary directory, and stdin is /dev/null).  stdout and stderr go to
 * /dev/null while netnsctl runs.  Checks: no crash, no sanitizer report, no
 * leak, an exit status of 0, 1 or 2 (or one of exec's, 124-127, which `proc
 * wait` and `call` may pass on), never a negative one.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_WORDS 48

int netnsctl_main(int argc, char **argv);
int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t *answer;
static size_t answer_len;
static int null_fd = -1;

/* Replaces libc's connect(): the daemon is a socketpair that already said everything. */
int connect(int fd, const struct sockaddr *addr, socklen_t len)
{
	int sv[2];

	(void)len;
	if (!addr || addr->sa_family != AF_UNIX) {
		errno = ECONNREFUSED;
		return -1;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return -1;
	for (size_t off = 0; off < answer_len;) {
		ssize_t n = write(sv[1], answer + off, answer_len - off);

		if (n <= 0)
			break;
		off += (size_t)n;
	}
	close(sv[1]);
	if (dup3(sv[0], fd, O_CLOEXEC) < 0) {
		close(sv[0]);
		return -1;
	}
	close(sv[0]);
	return 0;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char dir[] = "/tmp/fuzz-netnsctl.XXXXXX";

	(void)argc;
	(void)argv;
	signal(SIGPIPE, SIG_IGN);
	null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null_fd < 0 || dup2(null_fd, STDIN_FILENO) < 0)
		abort();
	/* Relative paths resolve in an empty directory; nothing is ever written there. */
	if (!mkdtemp(dir) || chdir(dir) < 0)
		abort();
	unsetenv("NETNSD_SOCKET");
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy, *argv[MAX_WORDS + 2];
	int argc = 0, out, err, status;
	size_t off = 0;

	copy = malloc(size + 1);
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	copy[size] = '\0';
	argv[argc++] = "netnsctl";
	while (off < size && argc <= MAX_WORDS) {
		char *w = copy + off;
		size_t len = strlen(w);

		off += len + 1;
		if (len == 0)
			break;
		if (!strcmp(w, "exec") || strchr(w, '/')) {
			free(copy);
			return 0;
		}
		argv[argc++] = w;
	}
	argv[argc] = NULL;
	answer = off < size ? data + off : NULL;
	answer_len = off < size ? size - off : 0;

	fflush(stdout);
	fflush(stderr);
	out = dup(STDOUT_FILENO);
	err = dup(STDERR_FILENO);
	dup2(null_fd, STDOUT_FILENO);
	dup2(null_fd, STDERR_FILENO);
	optind = 0; /* a fresh getopt for every run */
	status = netnsctl_main(argc, argv);
	fflush(stdout);
	fflush(stderr);
	dup2(out, STDOUT_FILENO);
	dup2(err, STDERR_FILENO);
	close(out);
	close(err);
	free(copy);
	if (status < 0 || status > 127 || (status > 2 && status < 124)) {
		fprintf(stderr, "netnsctl exited with %d\n", status);
		abort();
	}
	return 0;
}
