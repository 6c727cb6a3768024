#ifndef GPTIMGFS_CORE_TABLE_H
#define GPTIMGFS_CORE_TABLE_H

#include "internal.h"

struct task *core_table_find(const struct core *c, uint64_t seq);
int core_table_insert(struct core *c, struct task *t);
void core_table_remove(struct core *c, struct task *t);
/* At close: every task destroyed, the table and its index freed. */
void core_table_free(struct core *c);
struct task *core_table_current(const struct core *c, const char *name);
/* The task of t's job just older than t, or NULL: with core_table_current,
 * a walk of one job's tasks, newest first. */
struct task *core_table_older(const struct task *t);
bool core_table_is_current(const struct core *c, const struct task *t);
/* Refused before the API created it (invalid input, the daily budget, the
 * API's answer to the creation): it cost nothing. */
bool core_task_is_refused(const struct task *t);
/* The job's newest task that was not refused, or NULL. */
struct task *core_table_reference(const struct core *c, const char *name);
/* Does t still belong in the table? A task in flight does; a queued or
 * failed one only while it is its job's newest; a completed one until a
 * newer task of its job is sent (until then it may be the reference
 * again: a refused attempt never makes the same prompt cost twice). */
bool core_table_keeps(const struct core *c, const struct task *t);
struct task *core_table_visible(const struct core *c, const char *name);

#endif
