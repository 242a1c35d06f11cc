#!/usr/bin/env python3
"""netnsctl's man page and bash completion against its verb tables.

The verb tables in client/cmd_*.c are the one description of netnsctl's
commands: --help is generated from them, and this test keeps the two texts
that cannot be generated at run time in step with them.  The tables come from
tests/unit/test-netnsctl-verbs --json (linked from the client's own code).

netnsctl.8: the SYNOPSIS names every command, and COMMANDS has an entry for
every verb whose synopsis is the table's, with the table's aliases.
bash completion: the command and subcommand lists are the tables' names and
aliases; the options offered after each verb are its table's options; every
keyword and word of a verb is offered in that verb's branch.  TAP, no daemon.
"""

import json
import os
import re
import subprocess
import sys

TOP = os.environ.get("TOP_SRCDIR", os.path.abspath("."))
DUMPER = os.environ.get("NETNSCTL_VERBS", os.path.abspath("tests/unit/test-netnsctl-verbs"))
MAN = os.path.join(TOP, "client", "netnsctl.8.in")
COMPLETION = os.path.join(TOP, "contrib", "bash-completion", "netnsctl")

# Options every command takes (netnsctl strips them before the verb sees them),
# and the separator before a command line.
COMMON = {"--json", "--help", "--"}

results = []


def check(cond, desc, detail=""):
    results.append(bool(cond))
    print("%sok %d - %s" % ("" if cond else "not ", len(results), desc))
    if not cond and detail:
        for line in str(detail).splitlines():
            print("# " + line)
    sys.stdout.flush()


def names(v):
    return [v["name"]] + v["aliases"]


# --- man page ---

def roff_plain(s):
    s = re.sub(r"\\f[BIRP]", "", s)
    for a, b in (("\\-", "-"), ("\\(dq", '"'), ("\\&", ""), ("\\e", "\\")):
        s = s.replace(a, b)
    return s.strip()


def man_entries(lines):
    """The .TP entries of COMMANDS: {plain first line: [aliases]}."""
    entries = {}
    in_commands = False
    for i, line in enumerate(lines):
        if line.startswith(".SH "):
            in_commands = line == ".SH COMMANDS"
        if not in_commands or line != ".TP" or i + 1 >= len(lines):
            continue
        head = lines[i + 1]
        if head.startswith(".B "):
            head = head[3:]
        head = roff_plain(head)
        aliases = []
        if i + 2 < len(lines) and lines[i + 2] == "(also":
            for ln in lines[i + 3:]:
                m = re.match(r"\.BR? (\S+)", ln)
                if not m:
                    break
                aliases.append(m.group(1).rstrip(",)"))
                if ln.rstrip().endswith(")"):
                    break
        entries[head] = aliases
    return entries


def check_man(top):
    with open(MAN) as f:
        text = f.read()
    lines = text.splitlines()
    synopsis = "\n".join(lines[lines.index(".SH SYNOPSIS"):lines.index(".SH DESCRIPTION")])
    entries = man_entries(lines)
    for v in top:
        check(re.search(r"(^|[ {|])%s( |$)" % re.escape(v["name"]), synopsis, re.M),
              "netnsctl.8: the SYNOPSIS names '%s'" % v["name"], synopsis)
        verbs = [("%s %s" % (v["name"], s["name"]), s) for s in v.get("sub", [])] or \
            [(v["name"], v)]
        for shown, s in verbs:
            want = shown + (" " + " ".join(s["args"].split()) if s.get("args") else "")
            check(want in entries, "netnsctl.8: an entry '%s'" % want,
                  "entries:\n" + "\n".join(entries))
            if want in entries:
                check(entries[want] == s["aliases"],
                      "netnsctl.8: '%s' has the aliases %s" % (shown, s["aliases"]),
                      "man page: %s" % entries[want])


# --- bash completion ---

def bash_vars(text):
    """local NAME='words' assignments, as word lists."""
    return {m.group(1): m.group(2).split()
            for m in re.finditer(r"\blocal (\w+)='([^']*)'", text)}


def expand(s, variables):
    return re.sub(r"\$(\w+)", lambda m: " ".join(variables.get(m.group(1), [m.group(0)])), s)


def dash_branches(text, variables):
    """The options offered when the word being completed starts with '-':
    {'cmd/sub': set of words} from the case after [[ $cur == -* ]]."""
    block = text[text.index("case $cmd/$sub in"):]
    block = block[:block.index("\tesac\n")]
    out = {}
    for m in re.finditer(r"^\t\t([^\n()]+)\)\s*_netnsctl_reply ['\"]([^'\"]*)['\"]", block,
                         re.M):
        words = set(expand(m.group(2), variables).split())
        for label in m.group(1).split("|"):
            out[label.strip()] = words
    return out


def branch(text, cmd, sub):
    """The text of the completion's branch for cmd (and sub): the case items
    "\tcmd)" and, inside it, "\t\t... sub ...)"."""
    m = re.search(r"^\t%s\)\n(.*?)\n\t\t;;\n" % re.escape(cmd), text, re.M | re.S)
    if not m:
        return None
    body = m.group(1)
    if sub is None:
        return body
    for m2 in re.finditer(r"^\t\t([^\n()]+)\)\n(.*?)\n\t\t\t;;\n", body, re.M | re.S):
        labels = [x.strip() for x in m2.group(1).split("|")]
        if sub in labels:
            return m2.group(2)
    return None


def check_completion(top):
    with open(COMPLETION) as f:
        text = f.read()
    variables = bash_vars(text)
    # Functions the branches call for their words.
    for fn in re.finditer(r"^(_netnsctl_\w+)\(\)\n\{\n(.*?)\n\}", text, re.M | re.S):
        variables[fn.group(1)] = fn.group(2).split()

    check(variables.get("commands") == [v["name"] for v in top],
          "completion: the commands are the top-level verbs",
          "%s vs %s" % (variables.get("commands"), [v["name"] for v in top]))
    dash = dash_branches(text, variables)
    for v in top:
        subs = v.get("sub")
        if subs:
            var = "%s_cmds" % v["name"]
            want = [n for s in subs for n in names(s)]
            check(sorted(variables.get(var, [])) == sorted(want),
                  "completion: %s lists the %s subcommands and aliases" % (var, v["name"]),
                  "%s vs %s" % (variables.get(var), want))
        verbs = [(s, n) for s in subs for n in names(s)] if subs else [(v, None)]
        for s, sub in verbs:
            label = "%s/%s" % (v["name"], sub or "")
            opts = {w for w in s["words"] if w.startswith("-")} - COMMON
            offered = dash.get(label, dash.get("*")) - COMMON
            if subs and sub == v.get("default") and ("%s/" % v["name"]) in dash:
                check(dash["%s/" % v["name"]] - COMMON == opts,
                      "completion: '%s' without a subcommand offers the options of '%s'" %
                      (v["name"], sub), "%s vs %s" % (dash["%s/" % v["name"]], opts))
            check(offered == opts, "completion: '%s' offers the options %s" %
                  (label.rstrip("/"), sorted(opts)), "offered: %s" % sorted(offered))
            keywords = [w for w in s["words"] if not w.startswith("-")]
            if not keywords:
                continue
            body = branch(text, v["name"], sub)
            check(body is not None, "completion: '%s' has a branch" % label.rstrip("/"))
            if body is None:
                continue
            used = [" ".join(ws) for fn, ws in variables.items()
                    if fn.startswith("_netnsctl_") and fn in body]
            offered = set(re.split(r"[\s'\"()|;]+", expand(" ".join([body] + used), variables)))
            missing = [w for w in keywords if w not in offered]
            check(not missing, "completion: '%s' knows its words" % label.rstrip("/"),
                  "missing: %s" % missing)


def main():
    try:
        out = subprocess.run([DUMPER, "--json"], capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError) as e:
        print("1..0 # SKIP %s is not built or failed: %s" % (DUMPER, e))
        return 0
    top = json.loads(out.stdout)
    check_man(top)
    check_completion(top)
    print("1..%d" % len(results))
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
