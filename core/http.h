/*
 * http.h - a small HTTP/1.1 server on the event loop, for /metrics and
 * /health: GET only, one request per connection, no bodies in requests.
 *
 * The handles do not keep the loop alive (they are unreferenced), so a
 * run ends when its work ends, whether or not a scraper is connected.
 * Connections are bounded; a request that is malformed, too long or too
 * slow gets 400 or is closed. Nothing a client sends can stop the run.
 */
#ifndef AF_HTTP_H
#define AF_HTTP_H

#include <stddef.h>
#include <uv.h>

typedef struct af_http af_http;

/* The answer to a request, filled by the handler. */
typedef struct af_http_response {
	int status;              /* 200, 404, ... */
	const char *content_type;
	char *body;              /* malloc'd; the server frees it */
	size_t body_len;
} af_http_response;

/* Answer `method` `path` (the query string removed) into `res`. */
typedef void (*af_http_handler)(const char *method, const char *path, af_http_response *res,
				void *data);

/*
 * Listen on `addr` ("127.0.0.1:9464", "[::1]:9464", ":9464" for all
 * addresses). Port 0 picks a free one: af_http_port says which. Returns
 * AF_OK, AF_EINVAL for a bad address, AF_EIO when it cannot listen.
 */
int af_http_listen(af_http **out, uv_loop_t *loop, const char *addr, af_http_handler handler,
		   void *data);

/* The port listened on. */
int af_http_port(const af_http *h);

/* Stop listening, close every connection; freed once the loop has closed them. */
void af_http_close(af_http *h);

#endif
