/*
 * netnsctl.h: what the parts of netnsctl share.
 *
 * netnsctl is a verb table and an output table, nothing more: it parses argv,
 * makes one or a few JSON-RPC calls over the daemon's Unix socket with plain
 * blocking I/O, and prints the results as aligned tables, "key: value" lines
 * or (with --json) the result object itself.  It holds no business logic: every
 * check that matters is the daemon's, and its error message is what the user
 * sees.
 *
 * The parts: netnsctl.c (global options, the dispatcher over the verb tables,
 * the help generated from them), common.c (messages, argument parsing,
 * signals), conn.c (the connection and the JSON-RPC envelope), output.c (JSON,
 * tables, "key: value" lines, shared labels), and one cmd_FAMILY.c per verb
 * family, each holding its handlers and the one table of its verbs.
 *
 * To add a command family, write cmd_FAMILY.c with its handlers and a
 * `const struct verb verb_FAMILY` whose sub table lists its verbs (name,
 * handler, synopsis, help, completion words), declare it below and add it to
 * top_verbs[] in verbs.c; the dispatcher, the help texts and the checks of
 * the man page and the bash completion are driven by those tables.
 */
#pragma once

#include <jansson.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "util.h"

#define DEFAULT_SOCKET "/run/netnsd/netnsd.sock"
#define SOCKET_ENV     "NETNSD_SOCKET"

/* Exit status: the daemon (or the connection, or a local file) failed; usage error. */
#define EXIT_FAIL  1
#define EXIT_USAGE 2

/* Exit status of exec and proc wait, whose own is the program's: netnsd or netnsctl
 * failed, the program could not be executed or found (as env(1) and the shells say), the
 * wait timed out (as timeout(1) says). */
#define EXIT_EXEC_FAIL	  125
#define EXIT_CANNOT_EXEC  126
#define EXIT_NOT_FOUND	  127
#define EXIT_WAIT_TIMEOUT 124

/* json_decrefp() for _cleanup_ comes with jansson (2.9 and later, GCC and clang). */

struct verb;
struct arg;

/* Everything one invocation needs: options, the connection, the current verb. */
struct ctx {
	const char *socket_path;
	const char *netns; /* -n: for families that act inside a namespace */
	bool json;
	int fd;
	char *buf; /* received bytes not yet consumed */
	size_t len, cap;
	json_int_t next_id;
	const struct verb *family; /* the verb chosen at the top level */
	const struct verb *verb;   /* the subcommand, or the family itself for leaves */
	char cmd[64];		   /* "family subcommand" as typed, for messages */
};

/*
 * One row of a verb table.  A family has subcommands (sub) and maybe a default
 * one; a leaf has run().  run() gets argv starting at the verb's own name, with
 * --json and --help already taken out, and returns the exit status.
 */
struct verb {
	const char *name;
	const char *alias; /* other names, separated by spaces */
	int (*run)(struct ctx *c, int argc, char **argv);
	const struct verb *sub;
	const char *default_sub;
	bool uses_netns;     /* accepts the global -n NAME (on a family: all its subcommands) */
	const char *args;    /* synopsis after the name */
	const char *summary; /* one line for the parent's list */
	const char *help;    /* paragraphs for the verb's own help */
	const char *examples;
	const char *exit_status; /* replaces the common "Exit status" section */
	/*
	 * What may follow the verb, for completion: the keywords of its ip-style
	 * arguments (keywords, the table it parses them with) and its other words
	 * and options (words, space-separated).  The bash completion offers them;
	 * tests/unit/test_netnsctl_tables.py checks that it does, and that the man
	 * page has an entry for every verb with the same synopsis.
	 */
	const struct arg *keywords;
	const char *words;
};

/* The verb families and leaves (cmd_*.c, and help in verbs.c). */
extern const struct verb verb_netns, verb_link, verb_addr, verb_route, verb_proc, verb_lab;
extern const struct verb verb_peer;
extern const struct verb verb_exec, verb_monitor, verb_info, verb_ping, verb_call, verb_help;

/* verbs.c: the top level (NULL-terminated, in the order --help lists it), lookups by name
 * or alias (NULL when none matches), and the help texts. */
extern const struct verb *const top_verbs[];
const struct verb *top_find(const char *name);
const struct verb *verb_find(const struct verb *table, const char *name);
void help_main(void);
/* The help of a top-level verb (family or leaf), or of its subcommand sub when not NULL. */
void help_verb(const struct verb *v, const struct verb *sub);

/* common.c: messages.  usage_error() and bad_args() return EXIT_USAGE. */
_printf_(1, 2) void errorf(const char *fmt, ...);
_printf_(2, 3) int usage_error(const struct ctx *c, const char *fmt, ...);
_printf_(2, 3) int bad_args(const struct ctx *c, const char *fmt, ...);

/* common.c: argument helpers. */
int safe_close(int fd);
bool parse_int(const char *s, long long min, long long max, long long *ret);
bool word_in(const char *list, const char *word);
int read_all(const char *path, char **ret, size_t *ret_len);
int file_param(json_t *params, const char *key, const char *path);
int long_opt(const struct ctx *c, char **argv, int *i, const char *opt, bool takes_value,
	     const char **ret_val);
const char *signal_name(json_int_t sig);
int signal_parse(const char *s);
int signals_take(const int *sigs, sigset_t *ret_old);
int signal_next(int sigfd);

/*
 * Keyword arguments, as ip takes them: "mtu 1400 master br0 up".  A table of
 * struct arg says which param each keyword sets and how its value is read.
 * netnsctl only checks the syntax (a number is a number, on is on); ranges,
 * kinds and addresses are the daemon's to judge.
 */

/* The types before ARG_TRUE take a value (the next word); arg_set() relies on the order. */
enum arg_type {
	ARG_STRING, /* KEYWORD TEXT */
	ARG_NETNS,  /* KEYWORD NAME, where "host" means null: the host */
	ARG_INT,    /* KEYWORD N, a number from 0 to 2^32-1 */
	ARG_TABLE,  /* KEYWORD N, or main, local, default */
	ARG_ONOFF,  /* KEYWORD on|off: a boolean */
	ARG_MS,	    /* KEYWORD TIME (10ms, 1.5s, 250us): milliseconds in the "impair" member */
	ARG_PCT,    /* KEYWORD PERCENT (1%, 0.5): percent in the "impair" member */
	ARG_KBIT,   /* KEYWORD RATE (1mbit, 100kbit): kbit/s in the "impair" member */
	ARG_TRUE,   /* KEYWORD alone: true */
	ARG_FALSE,  /* KEYWORD alone: false */
	ARG_NULL,   /* KEYWORD alone: null */
	ARG_CONST,  /* KEYWORD alone: the string in value */
};

struct arg {
	const char *word;
	const char *key; /* the param it sets */
	enum arg_type type;
	const char *value; /* for ARG_CONST */
};

const struct arg *arg_find(const struct arg *args, const char *word);
int arg_set(const struct ctx *c, const struct arg *a, json_t *obj, char **argv, int *i);
int word_set(const struct ctx *c, json_t *obj, const char *key, const char *what, const char *word);
const char *next_word(char **argv, int *i);
int operand_word(const struct ctx *c, json_t *params, const char *keyword, const char *key,
		 const char *what, char **argv, int *i);
/*
 * Parse the words after the verb (argv[1] on) into params: the keywords of
 * args (may be NULL) by arg_set(), any other word by operand_word() into key
 * (or, when key is NULL, an unknown argument).  Returns 0 or EXIT_USAGE.
 */
int parse_args(const struct ctx *c, int argc, char **argv, const struct arg *args, json_t *params,
	       const char *keyword, const char *key, const char *what);
json_t *ns_params(const struct ctx *c);

#define NS_PARAMS_OR_FAIL(c, p)                                                                    \
	do {                                                                                       \
		(p) = ns_params(c);                                                                \
		if (!(p))                                                                          \
			return usage_error(c, "-n/--netns: '%s' is not UTF-8 text", (c)->netns);   \
	} while (0)

/*
 * impair.c: tc's units.  impair_parse_ms() reads "10ms", "1.5s" or "250us"
 * (a unit is required but for 0), impair_parse_pct() "1%" or "0.5",
 * impair_parse_kbit() "1mbit", "100kbit", "1gbit", "125kbps" (bits or bytes
 * per second, k = 1000, ki = 1024) as whole kbit/s.  They return 0, -EINVAL
 * for what is not such a value, or (kbit) -ERANGE for a rate that is no whole
 * number of kbit/s.  impair_format(): an impair object as "delay 10ms loss 1%
 * rate 1mbit" ("" for none); malloc'd, NULL when memory ran out.
 */
int impair_parse_ms(const char *s, double *ret_ms);
int impair_parse_pct(const char *s, double *ret_pct);
int impair_parse_kbit(const char *s, long long *ret_kbit);
char *impair_format(json_t *impair);

/* conn.c: the connection and the JSON-RPC envelope. */
void conn_close(struct ctx *c);
ssize_t conn_recv_some(struct ctx *c);
bool conn_line(struct ctx *c, char **ret_line, size_t *ret_len);
json_t *take_json_line(struct ctx *c, char *line, size_t len);
int print_rpc_error(json_t *error);
int rpc_send(struct ctx *c, const char *method, json_t *params, const int *fds, size_t nfds,
	     json_int_t *ret_id);
json_int_t reply_id(json_t *reply);
int reply_result(json_t *reply, json_int_t id, bool quiet, json_t **ret_result, json_t **ret_error);
int rpc_call_fds(struct ctx *c, const char *method, json_t *params, const int *fds, size_t nfds,
		 json_t **ret_result, json_t **ret_error);
int rpc_call(struct ctx *c, const char *method, json_t *params, json_t **ret_result);

/* output.c */
void print_json(json_t *v);
int finish_json(struct ctx *c, json_t *result);
int call_quiet(struct ctx *c, const char *method, json_t *params);

/*
 * A listing, one description for both outputs: with --json the result as it
 * is; else a table with a header row and one row per object of the result's
 * array member, each cell a string member of the object ("-" when it has
 * none), an integer member, or made by cell() (a malloc'd string, NULL when
 * memory ran out; cell_printf() and cell_str() help).
 */
struct column {
	const char *header;
	const char *member;
	bool integer;
	char *(*cell)(json_t *obj);
};

struct listing {
	const char *member;	      /* the result's array of objects */
	const struct column *columns; /* up to one without a header */
};

/*
 * Print result (reference stolen) as listing l says, or only the "name" of
 * each object when names_only (and not --json).  Returns the exit status.
 */
int output_listing(struct ctx *c, json_t *result, const struct listing *l, bool names_only);
_printf_(1, 2) char *cell_printf(const char *fmt, ...);
char *cell_str(const char *s);

/* "key: value" lines: the key, its colon and padding so values start after WIDTH columns. */
#define KV_WIDTH 12

void print_key(const char *indent, const char *key, int width);
_printf_(2, 3) void kv(const char *key, const char *fmt, ...);
void print_scalar(json_t *v);
void print_int_list(json_t *arr);
void print_indented(const char *text, const char *indent);
void print_block(const char *key, const char *text);
void peer_label(json_t *peer, char *buf, size_t size);
const char *table_name(json_int_t table, char *buf, size_t size);
const char *ns_label(json_t *v);
void exit_label(json_t *p, char *buf, size_t size);

/* cmd_proc.c: what exec shares with proc run and proc wait. */
int parse_spawn_args(struct ctx *c, int argc, char **argv, bool for_exec, json_t *params);
int proc_exit_status(json_t *p);
