/*
 * failpoint.h: named crash points for crash-consistency tests.
 *
 * A build configured with --enable-failpoints compiles a call at every point
 * where a crash matters: journal writes and syncs, the steps of an atomic file
 * replacement, kernel calls (netlink sends, mounts, unshare/setns) and the
 * hand-off to a process supervisor.  One of them may be armed at start-up
 * (NETNSD_FAILPOINT=NAME[:N] in netnsd's environment); its N-th hit (default 1)
 * writes "netnsd: failpoint NAME hit" to stderr and calls
 * _exit(FAILPOINT_EXIT_STATUS), as a power cut or kill -9 would stop it there.
 * Only the process that armed it stops: children (the shim, forks) never do.
 *
 * Without --enable-failpoints the macros compile to nothing, so a release
 * build pays nothing, not even a branch.
 */
#pragma once

#include <stdbool.h>

#define FAILPOINT_EXIT_STATUS 86

/* X(ID, "name", "where it stops"): the one list of failpoints, in the order they are listed. */
#define FAILPOINT_LIST(X)                                                                          \
	X(JOURNAL_WRITE, "state.journal.write", "before appending records to the journal")         \
	X(JOURNAL_TORN, "state.journal.torn", "after writing half of the records (a torn write)")  \
	X(JOURNAL_SYNC, "state.journal.sync", "after the journal write, before its fdatasync")     \
	X(JOURNAL_SYNCED, "state.journal.synced", "after the fdatasync, before any reply")         \
	X(COMPACT_TRUNCATE, "state.compact.truncate",                                              \
	  "after the new snapshot is in place, before the journal is emptied")                     \
	X(FILE_WRITE, "file.write", "atomic file replacement: before writing the temp file")       \
	X(FILE_FSYNC, "file.fsync", "atomic file replacement: before the temp file's fsync")       \
	X(FILE_RENAME, "file.rename", "atomic file replacement: before the rename")                \
	X(FILE_DIRSYNC, "file.dirsync", "atomic file replacement: before the directory's fsync")   \
	X(RUNTIME_RENAME, "runtime.rename", "runtime file (tmpfs, no fsync): before the rename")   \
	X(NL_SEND, "nl.send", "before a netlink request goes to the kernel")                       \
	X(NL_SENT, "nl.sent",                                                                      \
	  "after the kernel took a netlink request, before its answer is read")                    \
	X(NETNS_UNSHARE, "netns.unshare", "namespace creation: before unshare(CLONE_NEWNET)")      \
	X(NETNS_MOUNT, "netns.mount", "namespace creation: before the bind mount")                 \
	X(NETNS_MOUNTED, "netns.mounted", "namespace creation: after the bind mount")              \
	X(NETNS_UMOUNT, "netns.umount", "namespace removal: before the unmount")                   \
	X(NETNS_UMOUNTED, "netns.umounted", "namespace removal: after the unmount, before unlink") \
	X(NETNS_SETNS, "netns.setns", "before setns() into a namespace")                           \
	X(PROC_SPAWN, "proc.spawn", "direct launcher: before netnsd starts the supervisor itself") \
	X(PROC_SPAWNED, "proc.spawned",                                                            \
	  "direct launcher: after it started, before it is recorded")                              \
	X(PROC_TRANSIENT_START, "proc.transient.start",                                            \
	  "systemd launcher: before StartTransientUnit asks for the supervisor's unit")            \
	X(PROC_TRANSIENT_STARTED, "proc.transient.started",                                        \
	  "systemd launcher: after the unit's job is done, before its supervisor is recorded")     \
	X(PROC_STATUS, "proc.status", "before a supervisor's status file is read")

enum failpoint {
#define FAILPOINT_ENUM(id, name, what) FP_##id,
	FAILPOINT_LIST(FAILPOINT_ENUM)
#undef FAILPOINT_ENUM
	    FP_MAX
};

#if ENABLE_FAILPOINTS
/*
 * Arm the failpoint that spec ("NAME" or "NAME:N", N >= 1) names, for this
 * process only.  Returns 0, or -EINVAL for an unknown name or a bad count.
 */
int failpoint_arm(const char *spec);
/* True when this is the armed failpoint's N-th hit in the arming process. */
bool failpoint_fires(enum failpoint fp);
/* Stops the process (see above) when failpoint_fires(fp). */
void failpoint_hit(enum failpoint fp);
/* Print "NAME<TAB>where" for every failpoint, one per line. */
void failpoint_list(void);

#define FAILPOINT(id)	    failpoint_hit(FP_##id)
#define FAILPOINT_FIRES(id) failpoint_fires(FP_##id)
#else
#define FAILPOINT(id)                                                                              \
	do {                                                                                       \
	} while (0)
#define FAILPOINT_FIRES(id) false
#endif
