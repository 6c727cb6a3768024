#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ops.h"

int dirlist_add(struct dirlist *dl, const char *name, mode_t type)
{
	char **names = realloc(dl->names, (dl->n + 1) * sizeof(*names));
	mode_t *types;

	if (!names)
		return -ENOMEM;
	dl->names = names;
	types = realloc(dl->types, (dl->n + 1) * sizeof(*types));
	if (!types)
		return -ENOMEM;
	dl->types = types;
	dl->names[dl->n] = strdup(name);
	if (!dl->names[dl->n])
		return -ENOMEM;
	dl->types[dl->n] = type;
	dl->n++;
	return 0;
}

void dirlist_free(struct dirlist *dl)
{
	size_t i;

	for (i = 0; i < dl->n; i++)
		free(dl->names[i]);
	free(dl->names);
	free(dl->types);
	memset(dl, 0, sizeof(*dl));
}
