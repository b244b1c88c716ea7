/* listing.c - what `list` subcommands share: gather items as JSON
 * objects (--json) or as table rows, print them, free them (cli.h). */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

void cli_list_begin(struct cli_list *l, int json, int ncols)
{
	memset(l, 0, sizeof(*l));
	l->ncols = ncols;
	if (json && !(l->arr = json_array()))
		l->failed = 1;
}

int cli_list_add(struct cli_list *l, json_t *obj, const char *const *cols)
{
	if (l->failed) {
		json_decref(obj);
		return 1;
	}
	if (l->arr) {
		if (!obj || json_array_append_new(l->arr, obj) < 0)
			return l->failed = 1;
		return 0;
	}
	json_decref(obj);
	if (l->n == l->cap) {
		int cap = l->cap ? l->cap * 2 : 32;
		char ***nr = realloc(l->rows, (size_t)cap * sizeof(*l->rows));
		if (!nr)
			return l->failed = 1;
		l->rows = nr;
		l->cap = cap;
	}
	char **r = calloc((size_t)l->ncols, sizeof(char *));
	if (!r)
		return l->failed = 1;
	l->rows[l->n++] = r;
	for (int c = 0; c < l->ncols; c++)
		if (!(r[c] = strdup(cols[c] ? cols[c] : "")))
			return l->failed = 1;
	return 0;
}

int cli_list_end(struct cli_list *l, const char *const *header, int ok)
{
	int rc = CLI_OK;
	if (ok && l->failed) {
		rc = cli_error("out of memory");
	} else if (ok && l->arr) {
		json_dumpf(l->arr, stdout, JSON_INDENT(2));
		fputc('\n', stdout);
	} else if (ok) {
		cli_table(stdout, header, l->ncols, l->rows, l->n);
	}
	json_decref(l->arr);
	for (int i = 0; i < l->n; i++) {
		for (int c = 0; c < l->ncols; c++)
			free(l->rows[i][c]);
		free(l->rows[i]);
	}
	free(l->rows);
	memset(l, 0, sizeof(*l));
	return rc;
}
