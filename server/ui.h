/* ui.h - the dashboard: GET / and GET /ui/{file}, plain HTML/CSS/JS from ui/ compiled into
 * the binary (cmake/embed.cmake), so lbipamd serves it with no file on disk and no CDN.
 *
 * The files are public (api.md §9): the page asks for a token and calls /v1 with it. Replies
 * carry a strong ETag and Cache-Control: no-cache, so a browser revalidates (304) and never
 * runs a stale script after an upgrade.
 */
#ifndef LBIPAM_UI_H
#define LBIPAM_UI_H

#include "api/api.h"

/* Sent with every text/html reply (request.c): the page uses its own origin only. */
#define UI_CONTENT_SECURITY_POLICY                                                                 \
    "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "               \
    "form-action 'self'; frame-ancestors 'none'"

void server_ui_index(struct api_call *call);
void server_ui_file(struct api_call *call);

#endif
