/*
 * cmd_exec.c: netnsctl exec: run a command in a namespace here and now, on
 * the caller's stdio (passed with SCM_RIGHTS) or, on a terminal, through a
 * pty that netnsctl relays; proc.spawn, proc.wait and proc.delete on one
 * connection in one poll() loop that also takes signals.
 */

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "netnsctl.h"

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Write all of data to fd, waiting when it is non-blocking; 0 or -errno. */
static int write_full(int fd, const char *data, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, data, len);

		if (n < 0) {
			struct pollfd p = { .fd = fd, .events = POLLOUT };

			if (errno == EINTR)
				continue;
			if (errno != EAGAIN)
				return -errno;
			(void)poll(&p, 1, -1);
			continue;
		}
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * exec: proc.spawn, proc.wait and proc.delete on one connection, answered in
 * one poll() loop that also takes signals and, on a terminal, relays between
 * the terminal and a pty whose other side is the program's.
 */

/* After SIGTERM or SIGHUP, the program gets this long to end before SIGKILL. */
#define EXEC_KILL_GRACE_MS 3000
/* Once the process is deleted, how long the pty may take to hang up. */
#define EXEC_DRAIN_MS 2000
#define RELAY_CHUNK   16384

struct exec_run {
	struct ctx *c;
	bool tty;   /* relaying through a pty */
	int master; /* the pty master, -1 if none */
	int sigfd;
	struct termios saved; /* the terminal's settings, restored on the way out */
	bool raw;	      /* the terminal is in raw mode now */
	char id[80];	      /* the process, once spawned */
	json_int_t spawn_req, wait_req, delete_req;
	unsigned kills;	     /* proc.kill requests not yet answered */
	uint64_t early_sigs; /* signals that came before the process was known */
	bool spawned, waited, deleted, master_open, stdin_open, out_broken;
	int status;		       /* the program's exit status, once waited */
	uint64_t kill_at, drain_until; /* now_ms() deadlines; 0 = none */
	char in[RELAY_CHUNK];	       /* typed, not yet written to the pty */
	size_t in_len, in_off;
};

static void exec_raw(struct exec_run *x, bool on)
{
	struct termios t;

	if (!x->tty || x->raw == on)
		return;
	if (on) {
		t = x->saved;
		cfmakeraw(&t);
		if (tcsetattr(STDIN_FILENO, TCSADRAIN, &t) == 0)
			x->raw = true;
	} else {
		(void)tcsetattr(STDIN_FILENO, TCSADRAIN, &x->saved);
		x->raw = false;
	}
}

/* The terminal's window size onto the pty (the kernel signals the program's foreground). */
static void exec_winsize(struct exec_run *x)
{
	struct winsize ws;

	if (x->master >= 0 && ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0)
		(void)ioctl(x->master, TIOCSWINSZ, &ws);
}

static int exec_send(struct exec_run *x, const char *method, json_t *params, json_int_t *ret_id)
{
	if (!params) {
		errorf("out of memory");
		return EXIT_FAIL;
	}
	return rpc_send(x->c, method, params, NULL, 0, ret_id);
}

static int exec_kill(struct exec_run *x, int sig)
{
	json_int_t id;
	int r = exec_send(x, "proc.kill", json_pack("{s:s,s:i}", "id", x->id, "signal", sig), &id);

	if (r == 0)
		x->kills++;
	return r;
}

/* A signal to netnsctl: passed on, or acted on for the terminal.  0 or EXIT_FAIL. */
static int exec_signal(struct exec_run *x, int sig)
{
	bool running = x->spawned && !x->waited;

	switch (sig) {
	case SIGWINCH:
		exec_winsize(x);
		return 0;
	case SIGTSTP:
		/* Stopped from outside (^Z is a character in raw mode): give the terminal
		 * back while stopped.  Without a pty the program is stopped along. */
		if (!x->tty && running && exec_kill(x, SIGTSTP))
			return EXIT_FAIL;
		exec_raw(x, false);
		kill(getpid(), SIGSTOP);
		exec_raw(x, true);
		exec_winsize(x);
		return 0;
	case SIGCONT:
		exec_raw(x, true);
		exec_winsize(x);
		return !x->tty && running ? exec_kill(x, SIGCONT) : 0;
	}
	if (x->waited)
		return 0;
	if (sig == SIGTERM || sig == SIGHUP) {
		/* We are asked to go: the program goes too, by force if it must. */
		if (x->kill_at)
			sig = SIGKILL;
		else
			x->kill_at = now_ms() + EXEC_KILL_GRACE_MS;
	}
	if (!x->spawned) {
		x->early_sigs |= UINT64_C(1) << (sig - 1);
		return 0;
	}
	return exec_kill(x, sig);
}

/* Exit status for a failed proc.spawn: 127 not found, 126 not executable, else 125. */
static int spawn_failure_status(json_t *error)
{
	json_t *data = json_object_get(error, "data");
	const char *field = json_string_value(json_object_get(data, "field"));
	json_int_t err = json_integer_value(json_object_get(data, "errno"));

	if (!field || strcmp(field, "argv") != 0)
		return EXIT_EXEC_FAIL;
	return err == ENOENT || err == ENOTDIR ? EXIT_NOT_FOUND : EXIT_CANNOT_EXEC;
}

/*
 * One message from netnsd.  Returns 0 to go on, or an exit status (> 0) to
 * stop at once (the start failed, or the connection is no longer usable).
 */
static int exec_reply(struct exec_run *x, json_t *msg)
{
	json_int_t id = reply_id(msg);
	json_t *result = NULL, *error = NULL;
	int r;

	if (!json_object_get(msg, "id"))
		return 0; /* a notification: not ours to read */
	if (id == x->spawn_req) {
		r = reply_result(msg, id, false, &result, &error);
		if (r) {
			r = error ? spawn_failure_status(error) : EXIT_EXEC_FAIL;
			json_decref(error);
			return r;
		}
		snprintf(x->id, sizeof(x->id), "%s",
			 json_string_value(json_object_get(result, "id")) ?: "");
		json_decref(result);
		x->spawned = true;
		r = exec_send(x, "proc.wait", json_pack("{s:s}", "id", x->id), &x->wait_req);
		for (int sig = 1; r == 0 && sig <= 64; sig++)
			if (x->early_sigs & (UINT64_C(1) << (sig - 1)))
				r = exec_kill(x, sig);
		return r ? EXIT_EXEC_FAIL : 0;
	}
	if (x->spawned && id == x->wait_req && !x->waited) {
		r = reply_result(msg, id, false, &result, NULL);
		x->status = r ? EXIT_EXEC_FAIL : proc_exit_status(result);
		json_decref(result);
		x->waited = true;
		x->kill_at = 0;
		/* Leave nothing behind: the record goes, and with it netnsd's hold on our pty. */
		r = exec_send(x, "proc.delete", json_pack("{s:s,s:i}", "id", x->id, "grace_ms", 0),
			      &x->delete_req);
		return r ? EXIT_EXEC_FAIL : 0;
	}
	if (x->waited && id == x->delete_req && !x->deleted) {
		if (reply_result(msg, id, false, &result, NULL) == 0)
			json_decref(result);
		x->deleted = true;
		x->drain_until = now_ms() + EXEC_DRAIN_MS;
		return 0;
	}
	if (x->kills > 0 && id > 0) {
		/* A signal for a program that has just ended is no error worth telling. */
		if (reply_result(msg, id, true, &result, &error) == 0)
			json_decref(result);
		json_decref(error);
		x->kills--;
		return 0;
	}
	if (json_object_get(msg, "error") && json_is_null(json_object_get(msg, "id")))
		return print_rpc_error(json_object_get(msg, "error")) ? EXIT_EXEC_FAIL : 0;
	errorf("netnsd sent a reply to another request (protocol error)");
	return EXIT_EXEC_FAIL;
}

static bool exec_done(const struct exec_run *x)
{
	if (!x->waited || !x->deleted || x->kills > 0)
		return false;
	return !x->tty || !x->master_open || now_ms() >= x->drain_until;
}

/* Relay what the pty master has to standard output; false once it hung up. */
static bool relay_out(struct exec_run *x)
{
	char buf[RELAY_CHUNK];
	ssize_t n = read(x->master, buf, sizeof(buf));

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return true;
	if (n <= 0)
		return false; /* EIO: every descriptor of the other side is closed */
	if (!x->out_broken && write_full(STDOUT_FILENO, buf, (size_t)n) < 0)
		x->out_broken = true; /* keep draining, so the program never blocks on us */
	return true;
}

/* Move typed bytes on to the pty master. */
static void relay_in(struct exec_run *x, bool readable)
{
	ssize_t n;

	if (readable && x->in_len == 0) {
		n = read(STDIN_FILENO, x->in, sizeof(x->in));
		if (n <= 0 && !(n < 0 && errno == EINTR)) {
			x->stdin_open = false;
			return;
		}
		x->in_len = n > 0 ? (size_t)n : 0;
		x->in_off = 0;
	}
	if (x->in_len == 0 || !x->master_open)
		return;
	n = write(x->master, x->in + x->in_off, x->in_len - x->in_off);
	if (n < 0) {
		if (errno != EAGAIN && errno != EINTR)
			x->in_len = 0; /* the other side is gone: what was typed is lost */
		return;
	}
	x->in_off += (size_t)n;
	if (x->in_off == x->in_len)
		x->in_len = x->in_off = 0;
}

/* The pty for a terminal: the master in x, the slave returned (or -1 after saying why). */
static int exec_open_pty(struct exec_run *x)
{
	struct winsize ws;
	char name[64];
	int slave;

	x->master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (x->master < 0 || grantpt(x->master) < 0 || unlockpt(x->master) < 0 ||
	    ptsname_r(x->master, name, sizeof(name)) != 0) {
		errorf("cannot allocate a pseudo-terminal: %s", strerror(errno));
		return -1;
	}
	slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (slave < 0) {
		errorf("cannot open %s: %s", name, strerror(errno));
		return -1;
	}
	/* The program's terminal starts as ours is: same settings, same size. */
	(void)tcsetattr(slave, TCSANOW, &x->saved);
	if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0)
		(void)ioctl(x->master, TIOCSWINSZ, &ws);
	(void)fcntl(x->master, F_SETFL, fcntl(x->master, F_GETFL) | O_NONBLOCK);
	x->master_open = true;
	x->stdin_open = true;
	return slave;
}

/* netnsctl's environment as the env param: exec runs the command as ip netns exec would. */
static json_t *environ_json(void)
{
	extern char **environ;
	json_t *env = json_object();

	for (char **e = environ; env && e && *e; e++) {
		const char *eq = strchr(*e, '=');
		_cleanup_(freep) char *key = NULL;
		json_t *v;

		if (!eq || eq == *e)
			continue;
		key = strndup(*e, (size_t)(eq - *e));
		v = json_string(eq + 1);
		if (!key || !v) { /* not UTF-8: JSON cannot carry it */
			json_decref(v);
			continue;
		}
		json_object_set_new(env, key, v);
	}
	return env;
}

static int cmd_exec(struct ctx *c, int argc, char **argv)
{
	static const int sigs[] = { SIGINT,  SIGTERM,  SIGHUP,	SIGQUIT, SIGUSR1,
				    SIGUSR2, SIGWINCH, SIGTSTP, SIGCONT, 0 };
	_cleanup_(json_decrefp) json_t *params = json_object();
	struct exec_run x = { .c = c, .master = -1, .sigfd = -1 };
	_cleanup_(closep) int slave = -1;
	struct sigaction ign = { .sa_handler = SIG_IGN }, old_pipe;
	json_t *opts, *env;
	sigset_t old_mask;
	int fds[3], nfds = 0, r, status = EXIT_EXEC_FAIL;

	if (c->json)
		return bad_args(c, "--json does not apply: the output is the command's own");
	if (!params) {
		errorf("out of memory");
		return EXIT_EXEC_FAIL;
	}
	r = parse_spawn_args(c, argc, argv, true, params);
	if (r)
		return r;
	/* As ip netns exec: our environment (--env on top), directory and identity. */
	opts = json_object_get(params, "env");
	env = environ_json();
	if (!env) {
		errorf("out of memory");
		return EXIT_EXEC_FAIL;
	}
	json_object_update(env, opts);
	json_object_set_new(params, "env", env);
	json_object_set_new(params, "env_replace", json_true());
	if (!json_object_get(params, "cwd")) {
		_cleanup_(freep) char *cwd = getcwd(NULL, 0);
		json_t *v = cwd ? json_string(cwd) : NULL;

		if (v)
			json_object_set_new(params, "cwd", v);
	}
	if (getuid() != 0 && !json_object_get(params, "user")) {
		json_object_set_new(params, "user", json_integer(getuid()));
		if (!json_object_get(params, "group"))
			json_object_set_new(params, "group", json_integer(getgid()));
	}
	json_object_set_new(params, "restart", json_string("no"));

	x.tty = isatty(STDIN_FILENO);
	if (x.tty && tcgetattr(STDIN_FILENO, &x.saved) < 0)
		x.tty = false;
	if (x.tty) {
		slave = exec_open_pty(&x);
		if (slave < 0)
			goto out;
		fds[nfds++] = slave;
		json_object_set_new(params, "stdin", json_pack("{s:i}", "fd", 0));
		json_object_set_new(params, "stdout", json_pack("{s:i}", "fd", 0));
		json_object_set_new(params, "stderr", json_pack("{s:i}", "fd", 0));
		json_object_set_new(params, "tty", json_true());
	} else {
		static const char *const names[] = { "stdin", "stdout", "stderr" };

		/* Our own stdio, as they are; a closed one becomes /dev/null. */
		for (int i = 0; i < 3; i++) {
			if (fcntl(i, F_GETFD) < 0) {
				json_object_set_new(params, names[i], json_string("null"));
				continue;
			}
			json_object_set_new(params, names[i], json_pack("{s:i}", "fd", nfds));
			fds[nfds++] = i;
		}
	}

	/* The record is ours: if we are killed before we delete it, netnsd forgets it once
	 * the program ends (the program itself runs on, as ip netns exec's would). */
	json_object_set_new(params, "ephemeral", json_true());

	sigaction(SIGPIPE, &ign, &old_pipe);
	x.sigfd = signals_take(sigs, &old_mask);
	if (x.sigfd < 0) {
		sigaction(SIGPIPE, &old_pipe, NULL);
		goto out;
	}
	r = rpc_send(c, "proc.spawn", TAKE_PTR(params), fds, (size_t)nfds, &x.spawn_req);
	slave = safe_close(slave); /* netnsd has its own now; the pty hangs up when all are gone */
	if (r)
		goto restore;
	exec_raw(&x, true);

	while (!exec_done(&x)) {
		struct pollfd p[4];
		int n = 0, i_sock, i_sig, i_master = -1, i_stdin = -1, timeout = -1;
		uint64_t now = now_ms(), deadline = 0;
		char *line;
		size_t len;

		i_sock = n;
		p[n++] = (struct pollfd){ .fd = c->fd, .events = POLLIN };
		i_sig = n;
		p[n++] = (struct pollfd){ .fd = x.sigfd, .events = POLLIN };
		if (x.tty && x.master_open) {
			i_master = n;
			p[n++] = (struct pollfd){ .fd = x.master,
						  .events = POLLIN | (x.in_len ? POLLOUT : 0) };
		}
		if (x.tty && x.stdin_open && x.in_len == 0 && x.master_open) {
			i_stdin = n;
			p[n++] = (struct pollfd){ .fd = STDIN_FILENO, .events = POLLIN };
		}
		if (x.kill_at)
			deadline = x.kill_at;
		if (x.deleted && x.tty && (!deadline || x.drain_until < deadline))
			deadline = x.drain_until;
		if (deadline)
			timeout = deadline > now ? (int)(deadline - now) : 0;
		if (poll(p, (nfds_t)n, timeout) < 0) {
			if (errno == EINTR)
				continue;
			errorf("poll: %s", strerror(errno));
			goto restore;
		}
		if (p[i_sig].revents) {
			int sig;

			while ((sig = signal_next(x.sigfd)) > 0)
				if (exec_signal(&x, sig))
					goto restore;
		}
		if (i_master >= 0 && (p[i_master].revents & (POLLIN | POLLHUP | POLLERR)))
			x.master_open = relay_out(&x);
		if (i_master >= 0 && x.master_open && (p[i_master].revents & POLLOUT))
			relay_in(&x, false);
		if (i_stdin >= 0 && p[i_stdin].revents)
			relay_in(&x, true);
		if (p[i_sock].revents) {
			ssize_t got = conn_recv_some(c);

			if (got == 0)
				errorf("netnsd at %s closed the connection", c->socket_path);
			if (got <= 0)
				goto restore;
			while (conn_line(c, &line, &len)) {
				_cleanup_(json_decrefp) json_t *msg = take_json_line(c, line, len);

				if (!msg)
					goto restore;
				r = exec_reply(&x, msg);
				if (r) {
					status = r;
					goto restore;
				}
			}
		}
		if (x.kill_at && now_ms() >= x.kill_at) {
			x.kill_at = 0;
			if (exec_kill(&x, SIGKILL))
				goto restore;
		}
	}
	status = x.status;
restore:
	exec_raw(&x, false);
	sigaction(SIGPIPE, &old_pipe, NULL);
	sigprocmask(SIG_SETMASK, &old_mask, NULL);
out:
	safe_close(x.sigfd);
	safe_close(x.master);
	return status;
}

const struct verb verb_exec = {
	.name = "exec",
	.run = cmd_exec,
	.words = "--user --group --cwd --env --",
	.uses_netns = true,
	.args = "NS [OPTION]... -- CMD [ARG]...",
	.summary = "run a command in a namespace, here and now",
	.help = "Run CMD in namespace NS ('host' for the host) the way 'ip netns exec NS\n"
		"CMD' would, and exit with its status: its exit code, or 128 + N when\n"
		"signal N killed it.  netnsd starts it (proc.spawn) in the namespace and\n"
		"an 'ip netns exec' mount context (/sys of the namespace, /etc/netns/NS\n"
		"over /etc), with netnsctl's environment (plus --env), its current\n"
		"directory and, for a caller other than root, the caller's user and\n"
		"group.  When it has ended netnsctl deletes its record: exec leaves\n"
		"nothing behind.  Options:\n"
		"\n"
		"  --user USER        run as USER (name or number), with its groups\n"
		"  --group GROUP      run with primary group GROUP (default: USER's)\n"
		"  --cwd DIR          working directory, absolute (default: netnsctl's)\n"
		"  --env KEY=VALUE    set a variable (repeatable)\n"
		"\n"
		"When standard input is a terminal, the command gets a terminal of its\n"
		"own (a pseudo-terminal netnsctl allocates, with the settings and window\n"
		"size of yours, as its controlling terminal) and netnsctl relays between\n"
		"the two with your terminal in raw mode, so an interactive shell there\n"
		"has job control: ^C, ^Z and ^\\ reach the command, and window size\n"
		"changes follow.  Otherwise the command gets netnsctl's own standard\n"
		"input, output and error (passed to netnsd with SCM_RIGHTS), so pipes and\n"
		"redirections work as with any command.\n"
		"\n"
		"SIGINT, SIGQUIT, SIGUSR1 and SIGUSR2 sent to netnsctl are passed on to\n"
		"the command; SIGTERM and SIGHUP as well, and if the command still runs\n"
		"3 seconds later (or at a second one) it is killed: netnsctl never leaves\n"
		"it running behind.  Your terminal's settings are restored on every way\n"
		"out.  Put '--' before CMD.",
	.exit_status = "Exit status:\n"
		       "  N    the command's exit status, or 128 + N when signal N killed it\n"
		       "  2    usage error: unknown option, missing '--' or command ...\n"
		       "  125  netnsctl or netnsd failed: no such namespace, netnsd could not\n"
		       "       be reached ...\n"
		       "  126  CMD was found but cannot be executed\n"
		       "  127  CMD was not found\n",
	.examples = "  netnsctl exec blue -- ping -c1 10.1.1.2\n"
		    "  netnsctl exec blue -- bash                     # an interactive shell\n"
		    "  netnsctl exec blue -- ip -j addr | jq .        # pipes work\n"
		    "  echo 'GET /' | netnsctl exec red -- nc 10.2.0.2 80\n"
		    "  netnsctl exec blue --user nobody --cwd /tmp -- sh -c 'id; pwd'\n"
		    "  netnsctl exec host -- ip link\n",
};
