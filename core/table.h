#ifndef GPTIMGFS_TABLE_H
#define GPTIMGFS_TABLE_H

#include "internal.h"

struct task *table_find(const struct core *c, uint64_t seq);
int table_insert(struct core *c, struct task *t);
void table_remove(struct core *c, struct task *t);
struct task *table_current(const struct core *c, const char *name);
bool table_is_current(const struct core *c, const struct task *t);
struct task *table_visible(const struct core *c, const char *name);

#endif
