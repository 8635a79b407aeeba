/* http.c - the /metrics and /health server (see http.h). */
#include "http.h"
#include "af.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_CONNECTIONS 32
#define MAX_REQUEST 8192
#define READ_TIMEOUT_MS 5000

typedef struct conn conn;

struct af_http {
	uv_tcp_t server;
	uv_loop_t *loop;
	af_http_handler handler;
	void *data;
	int port;
	int connections;
	int closing;
	conn *all;
};

struct conn {
	uv_tcp_t tcp;
	uv_timer_t timer;
	uv_write_t write;
	af_http *http;
	conn *next, *prev;
	char req[MAX_REQUEST];
	size_t len;
	char *reply;
	int open_handles;
	int done;
};

static void maybe_free_server(af_http *h)
{
	if (h->closing && h->connections == 0 && h->closing == 2)
		free(h);
}

static void on_conn_closed(uv_handle_t *handle)
{
	conn *c = handle->data;
	af_http *h = c->http;

	if (--c->open_handles > 0)
		return;
	if (c->prev)
		c->prev->next = c->next;
	else
		h->all = c->next;
	if (c->next)
		c->next->prev = c->prev;
	free(c->reply);
	free(c);
	h->connections--;
	maybe_free_server(h);
}

static void close_conn(conn *c)
{
	if (c->done)
		return;
	c->done = 1;
	uv_close((uv_handle_t *)&c->timer, on_conn_closed);
	uv_close((uv_handle_t *)&c->tcp, on_conn_closed);
}

static void on_written(uv_write_t *w, int status)
{
	(void)status;
	close_conn(w->data);
}

static const char *reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 503: return "Service Unavailable";
	default: return "Error";
	}
}

static void reply(conn *c, int status, const char *type, const char *body, size_t len)
{
	char head[256];
	int n = snprintf(head, sizeof head,
			 "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
			 "Connection: close\r\n\r\n", status, reason(status), type, len);
	uv_buf_t buf;

	c->reply = malloc((size_t)n + len);
	if (!c->reply) {
		close_conn(c);
		return;
	}
	memcpy(c->reply, head, (size_t)n);
	memcpy(c->reply + n, body, len);
	buf = uv_buf_init(c->reply, (unsigned int)((size_t)n + len));
	uv_read_stop((uv_stream_t *)&c->tcp);
	c->write.data = c;
	if (uv_write(&c->write, (uv_stream_t *)&c->tcp, &buf, 1, on_written) != 0)
		close_conn(c);
}

static void error_reply(conn *c, int status)
{
	char body[64];
	int n = snprintf(body, sizeof body, "%d %s\n", status, reason(status));

	reply(c, status, "text/plain; charset=utf-8", body, (size_t)n);
}

/* A whole request line and headers have arrived: answer it. */
static void answer(conn *c)
{
	char method[16], target[2048], version[16], *q;
	af_http_response res = {404, "text/plain; charset=utf-8", NULL, 0};

	if (sscanf(c->req, "%15s %2047s %15s", method, target, version) != 3 ||
	    strncmp(version, "HTTP/1.", 7) != 0 || target[0] != '/') {
		error_reply(c, 400);
		return;
	}
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
		error_reply(c, 405);
		return;
	}
	if ((q = strchr(target, '?')))
		*q = 0;
	c->http->handler(method, target, &res, c->http->data);
	if (!res.body) {
		error_reply(c, res.status ? res.status : 404);
		return;
	}
	reply(c, res.status, res.content_type, res.body,
	      strcmp(method, "HEAD") == 0 ? 0 : res.body_len);
	free(res.body);
}

static void on_alloc(uv_handle_t *handle, size_t suggested, uv_buf_t *buf)
{
	conn *c = handle->data;

	(void)suggested;
	*buf = uv_buf_init(c->req + c->len, (unsigned int)(MAX_REQUEST - 1 - c->len));
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	conn *c = s->data;

	(void)buf;
	if (n < 0) {
		close_conn(c);
		return;
	}
	c->len += (size_t)n;
	c->req[c->len] = 0;
	if (strstr(c->req, "\r\n\r\n") || strstr(c->req, "\n\n"))
		answer(c);
	else if (c->len >= MAX_REQUEST - 1)
		error_reply(c, 400);
}

static void on_timeout(uv_timer_t *t)
{
	close_conn(t->data);
}

static void on_connection(uv_stream_t *server, int status)
{
	af_http *h = server->data;
	conn *c;

	if (status < 0 || h->closing)
		return;
	c = calloc(1, sizeof *c);
	if (!c)
		return;
	c->http = h;
	uv_tcp_init(h->loop, &c->tcp);
	uv_timer_init(h->loop, &c->timer);
	c->tcp.data = c->timer.data = c;
	c->open_handles = 2;
	c->next = h->all;
	if (h->all)
		h->all->prev = c;
	h->all = c;
	h->connections++;
	if (uv_accept(server, (uv_stream_t *)&c->tcp) != 0) {
		close_conn(c);
		return;
	}
	uv_unref((uv_handle_t *)&c->tcp);
	uv_unref((uv_handle_t *)&c->timer);
	if (h->connections > MAX_CONNECTIONS) { /* bounded: refuse politely */
		error_reply(c, 503);
		return;
	}
	uv_timer_start(&c->timer, on_timeout, READ_TIMEOUT_MS, 0);
	uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
}

/* Split "host:port", "[v6]:port" or ":port". */
static int parse_addr(const char *addr, char host[256], int *port)
{
	const char *colon = strrchr(addr, ':');
	char *end;
	long p;

	if (!colon)
		return -1;
	p = strtol(colon + 1, &end, 10);
	if (*end || end == colon + 1 || p < 0 || p > 65535)
		return -1;
	*port = (int)p;
	if (colon == addr) {
		strcpy(host, "0.0.0.0");
	} else if (addr[0] == '[' && colon[-1] == ']') {
		snprintf(host, 256, "%.*s", (int)(colon - addr - 2), addr + 1);
	} else {
		snprintf(host, 256, "%.*s", (int)(colon - addr), addr);
	}
	return 0;
}

static void on_server_closed(uv_handle_t *handle)
{
	af_http *h = handle->data;

	h->closing = 2;
	maybe_free_server(h);
}

int af_http_listen(af_http **out, uv_loop_t *loop, const char *addr, af_http_handler handler,
		   void *data)
{
	struct sockaddr_storage sa;
	char host[256];
	int port, rc, len = sizeof sa;
	af_http *h;

	*out = NULL;
	if (parse_addr(addr, host, &port) != 0 ||
	    (uv_ip4_addr(host, port, (struct sockaddr_in *)&sa) != 0 &&
	     uv_ip6_addr(host, port, (struct sockaddr_in6 *)&sa) != 0))
		return af_error_set(AF_EINVAL, "bad address '%s' (HOST:PORT expected, like 127.0.0.1:9464)", addr);
	if (!(h = calloc(1, sizeof *h)))
		return af_error_set(AF_ENOMEM, "out of memory");
	h->loop = loop;
	h->handler = handler;
	h->data = data;
	uv_tcp_init(loop, &h->server);
	h->server.data = h;
	if ((rc = uv_tcp_bind(&h->server, (struct sockaddr *)&sa, 0)) == 0)
		rc = uv_listen((uv_stream_t *)&h->server, 64, on_connection);
	if (rc != 0) {
		h->closing = 1; /* freed by on_server_closed once the loop lets go */
		uv_close((uv_handle_t *)&h->server, on_server_closed);
		return af_error_set(AF_EIO, "cannot listen on %s: %s", addr, uv_strerror(rc));
	}
	uv_tcp_getsockname(&h->server, (struct sockaddr *)&sa, &len);
	h->port = ntohs(sa.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&sa)->sin6_port
						 : ((struct sockaddr_in *)&sa)->sin_port);
	uv_unref((uv_handle_t *)&h->server);
	*out = h;
	return AF_OK;
}

int af_http_port(const af_http *h)
{
	return h->port;
}

void af_http_close(af_http *h)
{
	if (!h || h->closing)
		return;
	h->closing = 1;
	for (conn *c = h->all; c; c = c->next)
		close_conn(c);
	uv_close((uv_handle_t *)&h->server, on_server_closed);
}
