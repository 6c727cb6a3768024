#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "util/array.h"

/* Entries of one directory; a bound far beyond any jobs/ or out/. */
#define DIRLIST_MAX ((size_t)1 << 24)

/* Room for one more entry in both arrays, which share dl->cap. */
static int dirlist_grow(struct dirlist *dl)
{
	size_t cap = dl->cap;
	char **names = array_reserve(dl->names, dl->n, &cap, sizeof(*names),
				     DIRLIST_MAX);
	mode_t *types;

	if (!names)
		return -ENOMEM;
	dl->names = names;
	cap = dl->cap;
	types = array_reserve(dl->types, dl->n, &cap, sizeof(*types),
			      DIRLIST_MAX);
	if (!types)
		return -ENOMEM;
	dl->types = types;
	dl->cap = cap;
	return 0;
}

int fs_dirlist_add(struct dirlist *dl, const char *name, mode_t type)
{
	if (dirlist_grow(dl) < 0)
		return -ENOMEM;
	dl->names[dl->n] = strdup(name);
	if (!dl->names[dl->n])
		return -ENOMEM;
	dl->types[dl->n] = type;
	dl->n++;
	return 0;
}

int fs_dirlist_add_names(struct dirlist *dl, char **names, size_t n)
{
	size_t i;
	int rc = names ? 0 : -ENOMEM;

	for (i = 0; rc == 0 && i < n; i++)
		rc = fs_dirlist_add(dl, names[i], S_IFREG);
	core_free_names(names, n);
	return rc;
}

void fs_dirlist_free(struct dirlist *dl)
{
	size_t i;

	for (i = 0; i < dl->n; i++)
		free(dl->names[i]);
	free(dl->names);
	free(dl->types);
	memset(dl, 0, sizeof(*dl));
}
