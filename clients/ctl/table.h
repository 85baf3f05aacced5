/* table.h - kubectl-like aligned tables: upper-case headers, columns three spaces apart,
 * the last column unpadded. Cells are copied; an empty or NULL cell prints as "<none>"
 * unless the caller passes "-" or text of its own. Output to any FILE (tests use memstreams).
 */
#ifndef LBIPAM_CTL_TABLE_H
#define LBIPAM_CTL_TABLE_H

#include <stdio.h>

struct table;

/* headers: ncols strings. */
struct table *table_new(size_t ncols, const char *const *headers);
void table_free(struct table *t);
/* Appends a row of ncols cells (NULL cells allowed). */
void table_add(struct table *t, const char *const *cells);
size_t table_rows(const struct table *t);
/* Prints headers and rows; nothing but the headers when there is no row. */
void table_print(const struct table *t, FILE *f);
/* The same, every line indented by `indent` spaces (tables inside describe). */
void table_print_indented(const struct table *t, FILE *f, int indent);

#endif
