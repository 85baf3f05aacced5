#include "clients/ctl/table.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "lib/xalloc.h"

#define TABLE_GAP 3

struct table {
    size_t ncols, nrows, cap;
    char **cells; /* (nrows + 1) * ncols: the header row first */
};

struct table *table_new(size_t ncols, const char *const *headers)
{
    struct table *t = xcalloc(1, sizeof(*t));
    assert(ncols > 0);
    t->ncols = ncols;
    t->cap = 16 * ncols;
    t->cells = xcalloc(t->cap, sizeof(*t->cells));
    table_add(t, headers);
    t->nrows = 0; /* the header is row "-1": cells[0..ncols) */
    return t;
}

void table_free(struct table *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < (t->nrows + 1) * t->ncols; i++)
        free(t->cells[i]);
    free(t->cells);
    free(t);
}

void table_add(struct table *t, const char *const *cells)
{
    /* The header row goes in first, while nrows is 0 and cells[0] is still empty. */
    size_t used = t->cells[0] ? (t->nrows + 1) * t->ncols : 0;
    if (used + t->ncols > t->cap) {
        t->cap *= 2;
        while (t->cap < used + t->ncols)
            t->cap *= 2;
        t->cells = xrealloc(t->cells, t->cap * sizeof(*t->cells));
    }
    for (size_t c = 0; c < t->ncols; c++)
        t->cells[used + c] = xstrdup(cells[c] && cells[c][0] ? cells[c] : "<none>");
    if (used > 0)
        t->nrows++;
}

size_t table_rows(const struct table *t)
{
    return t->nrows;
}

void table_print(const struct table *t, FILE *f)
{
    table_print_indented(t, f, 0);
}

void table_print_indented(const struct table *t, FILE *f, int indent)
{
    size_t *width = xcalloc(t->ncols, sizeof(*width));
    for (size_t r = 0; r <= t->nrows; r++)
        for (size_t c = 0; c < t->ncols; c++) {
            size_t w = strlen(t->cells[r * t->ncols + c]);
            if (w > width[c])
                width[c] = w;
        }
    for (size_t r = 0; r <= t->nrows; r++) {
        fprintf(f, "%*s", indent, "");
        for (size_t c = 0; c < t->ncols; c++) {
            const char *cell = t->cells[r * t->ncols + c];
            if (c + 1 == t->ncols)
                fprintf(f, "%s\n", cell);
            else
                fprintf(f, "%-*s", (int)(width[c] + TABLE_GAP), cell);
        }
    }
    free(width);
}
