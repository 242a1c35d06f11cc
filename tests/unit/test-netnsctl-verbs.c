/*
 * test-netnsctl-verbs.c: netnsctl's verb tables, linked from the client's own
 * code.  Without arguments, TAP checks that every table is complete (names,
 * handlers, synopses, help, defaults that resolve, no name twice).  With
 * --json, prints the verb tree (names, aliases, synopses, completion words)
 * for tests/unit/test_netnsctl_tables.py, which checks the man page and the
 * bash completion against it.
 */
#include <stdio.h>
#include <string.h>

#include "netnsctl.h"
#include "tap.h"

/* The aliases or words of a verb as a JSON array of strings. */
static json_t *split_words(const char *list)
{
	json_t *a = json_array();

	while (list && *list) {
		size_t n = strcspn(list, " ");

		if (n)
			json_array_append_new(a, json_stringn(list, n));
		list += n;
		list += strspn(list, " ");
	}
	return a;
}

static json_t *verb_json(const struct verb *v)
{
	json_t *o = json_pack("{s:s,s:o,s:s?,s:o}", "name", v->name, "aliases",
			      split_words(v->alias), "args", v->args, "words",
			      split_words(v->words));
	json_t *words = json_object_get(o, "words");

	for (const struct arg *a = v->keywords; a && a->word; a++)
		json_array_append_new(words, json_string(a->word));
	if (v->sub) {
		json_t *subs = json_array();

		for (const struct verb *s = v->sub; s->name; s++)
			json_array_append_new(subs, verb_json(s));
		json_object_set_new(o, "sub", subs);
		json_object_set_new(o, "default", json_string(v->default_sub));
	}
	return o;
}

static int dump(void)
{
	json_t *top = json_array();

	for (const struct verb *const *v = top_verbs; *v; v++)
		json_array_append_new(top, verb_json(*v));
	json_dumpf(top, stdout, JSON_INDENT(1));
	fputc('\n', stdout);
	json_decref(top);
	return 0;
}

/* Whether name is the name or an alias of another row of table than v. */
static bool taken_elsewhere(const struct verb *const *table, size_t n, const struct verb *v,
			    const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (table[i] != v && (!strcmp(table[i]->name, name) || word_in(table[i]->alias, name)))
			return true;
	return false;
}

static void check_table(const char *what, const struct verb *const *rows, size_t n)
{
	char desc[256];

	for (size_t i = 0; i < n; i++) {
		const struct verb *v = rows[i];

		snprintf(desc, sizeof(desc), "%s %s: has a summary and help", what, v->name);
		OK(v->summary && *v->summary && v->help && *v->help, desc);
		snprintf(desc, sizeof(desc), "%s %s: runs, or has subcommands", what, v->name);
		OK(!!v->run != !!v->sub, desc);
		snprintf(desc, sizeof(desc), "%s %s: its names are its own", what, v->name);
		OK(!taken_elsewhere(rows, n, v, v->name), desc);
		for (const char *a = v->alias; a && *a;) {
			char word[32];
			size_t len = strcspn(a, " ");

			snprintf(word, sizeof(word), "%.*s", (int)len, a);
			snprintf(desc, sizeof(desc), "%s %s: alias %s is its own", what, v->name,
				 word);
			OK(!taken_elsewhere(rows, n, v, word), desc);
			a += len;
			a += strspn(a, " ");
		}
		if (v->sub) {
			const struct verb *subs[32];
			size_t k = 0;

			for (const struct verb *s = v->sub; s->name && k < ELEMENTSOF(subs); s++)
				subs[k++] = s;
			snprintf(desc, sizeof(desc), "%s %s: the default subcommand exists", what,
				 v->name);
			OK(!v->default_sub || verb_find(v->sub, v->default_sub), desc);
			snprintf(desc, sizeof(desc), "%s %s", what, v->name);
			check_table(desc, subs, k);
		}
	}
}

int main(int argc, char **argv)
{
	size_t n = 0;

	if (argc > 1 && !strcmp(argv[1], "--json"))
		return dump();
	while (top_verbs[n])
		n++;
	check_table("netnsctl", top_verbs, n);
	EQ_INT(top_find("help") == &verb_help, 1, "help is found at the top");
	OK(!top_find("bogus"), "an unknown command is not found");
	return tap_done();
}
