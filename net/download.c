/* Downloading a completed task's outputs, one after the other, each into a
 * temporary file the core then moves into the store. Output URLs are
 * pre-signed and expire: a refusal (403, 404, 410, bytes that are not an
 * image) or a transient fault that outlasts its retries makes one poll for
 * fresh URLs; the second time the task fails with download_failed.
 * A URL comes from the API but its host may be anyone's: a download goes
 * over https only (http too when api_url is plain http, i.e. on
 * loopback), never to an address that is not global unless api_url has
 * one of that class, and a task stores at most max_task_bytes. */
#include <errno.h>
#include <inttypes.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "addr.h"
#include "internal.h"
#include "scheme.h"
#include "util/log.h"

/* The classes of api_url's addresses that are not global: downloads may
 * go there too (a simulator or a gateway on loopback or the LAN). */
void net_download_init(struct net *n)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res, *a;
	char host[256];
	size_t len;

	n->plain_http = net_scheme_plain_http(n->api_url);
	net_xfer_url_host(n->api_url, host, sizeof(host));
	len = strlen(host);
	if (len > 2 && host[0] == '[' && host[len - 1] == ']') {
		memmove(host, host + 1, len - 2); /* an IPv6 literal */
		host[len - 2] = '\0';
	}
	if (getaddrinfo(host, NULL, &hints, &res) != 0)
		return; /* then global addresses only */
	for (a = res; a; a = a->ai_next) {
		enum addr_class cls =
			net_addr_classify(a->ai_addr, a->ai_addrlen);

		if (cls != ADDR_GLOBAL)
			n->api_classes |= ADDR_BIT(cls);
	}
	freeaddrinfo(res);
}

/* The URL seems dead: ask for fresh ones, once. */
static void refresh(struct net *n, struct ntask *t, const char *why)
{
	char note[768];

	if (t->repolled) {
		net_fail(n, t, "download_failed", why);
		return;
	}
	t->repolled = true;
	snprintf(note, sizeof(note), "download: %s; asking for fresh URLs",
		 why);
	core_task_note(n->core, t->seq, note);
	net_schedule(n, t, STEP_POLL, 0);
}

/* Try again after a backoff, up to the attempt limit. */
static void again(struct net *n, struct ntask *t, const char *what,
		  double retry_after)
{
	const struct retry_limits *l = net_retry_limits(REQ_DOWNLOAD);
	char note[768];
	int64_t delay;

	if (l->attempts && ++t->download_failures >= l->attempts) {
		t->download_failures = 0;
		refresh(n, t, what);
		return;
	}
	delay = net_backoff(n, REQ_DOWNLOAD, t->download_failures - 1,
			    retry_after);
	snprintf(note, sizeof(note), "download: %s; retrying in %lld s", what,
		 (long long)((delay + 999) / 1000));
	core_task_note(n->core, t->seq, note);
	net_schedule(n, t, STEP_DOWNLOAD, delay);
}

/* The data directory cannot take the image now (disk full, read-only):
 * the image is paid for and still at the API, so keep trying with the
 * polls' unbounded backoff, and say why in the status. The URL was not at
 * fault, so it keeps its one refresh for when it expires. */
static void store_trouble(struct net *n, struct ntask *t, const char *why)
{
	int64_t delay = net_backoff(n, REQ_POLL, t->store_failures++, 0);
	char note[768];

	t->repolled = false;
	snprintf(note, sizeof(note),
		 "download: %s; the image waits at the "
		 "API, retrying in %lld s",
		 why, (long long)((delay + 999) / 1000));
	log_warn("%s #%" PRIu64 ": %s", t->name, t->seq, note);
	core_task_note(n->core, t->seq, note);
	net_schedule(n, t, STEP_DOWNLOAD, delay);
}

/* A download the rules forbid: no retry, no fresh URLs. */
static void refused(struct net *n, struct ntask *t, const char *why)
{
	log_warn("%s #%" PRIu64 ": download of output %zu: %s", t->name, t->seq,
		 t->output + 1, why);
	net_fail(n, t, "download_failed", why);
}

static void over_cap(struct net *n, struct ntask *t)
{
	char why[160];

	snprintf(why, sizeof(why),
		 "the images of the task are larger than "
		 "%" PRIu64 " bytes in all",
		 n->max_task_bytes);
	refused(n, t, why);
}

static void completed(struct net *n, struct ntask *t)
{
	if (core_task_completed(n->core, t->seq) == 0)
		log_info("%s #%" PRIu64 ": completed", t->name, t->seq);
	net_drop(n, t);
}

/* A scheme net_scheme_check refuses: the task fails. The message names the
 * host when the URL has one (file:///etc/passwd has none). */
static void bad_scheme(struct net *n, struct ntask *t, const char *url,
		       const char *reason)
{
	const char *slashes = strstr(url, "://");
	char host[256], why[640];

	if (slashes && slashes[3] && !strchr("/?#", slashes[3])) {
		net_xfer_url_host(url, host, sizeof(host));
		snprintf(why, sizeof(why), "%s: %s", host, reason);
		refused(n, t, why);
	} else {
		refused(n, t, reason);
	}
}

/* The scheme and the bytes the task may still store allow a download of
 * url: fill in its rules. Else the task fails and false. */
static bool download_allowed(struct net *n, struct ntask *t, const char *url,
			     struct xfer_rules *rules)
{
	char reason[128];

	if (net_scheme_check(n->api_url, url, reason, sizeof(reason)) < 0) {
		bad_scheme(n, t, url, reason);
		return false;
	}
	if (t->task_bytes >= n->max_task_bytes) {
		over_cap(n, t);
		return false;
	}
	rules->allowed = n->api_classes;
	rules->plain_http = n->plain_http;
	rules->max_bytes = (curl_off_t)(n->max_task_bytes - t->task_bytes);
	return true;
}

void net_download_start(struct net *n, struct ntask *t,
			const struct core_task *ct)
{
	struct xfer_rules rules;
	struct xfer *x;
	size_t i;
	int fd;

	if (ct->state != TASK_DOWNLOADING) {
		net_schedule(n, t, STEP_POLL, 0);
		return;
	}
	for (i = 0; i < ct->n_urls && ct->stored[i]; i++)
		;
	if (i == ct->n_urls) {
		completed(n, t);
		return;
	}
	t->output = i;
	t->outputs = ct->n_urls;
	if (!download_allowed(n, t, ct->urls[i], &rules))
		return;
	fd = core_tmpfile(n->core, t->tmp_name, sizeof(t->tmp_name));
	if (fd < 0) {
		char why[300];

		snprintf(why, sizeof(why), "cannot make a temporary file: %s",
			 strerror(-fd));
		store_trouble(n, t, why);
		return;
	}
	x = net_xfer_download(&n->pool, ct->urls[i], fd, &rules);
	if (!x || net_launch(n, x, t) < 0) {
		net_xfer_free(&n->pool, x);
		close(fd);
		core_tmp_unlink(n->core, t->tmp_name);
		again(n, t, "cannot start the download", 0);
		return;
	}
	log_debug("%s #%" PRIu64 ": downloading output %zu", t->name, t->seq,
		  i + 1);
}

/* Bytes that are no image: maybe an expired link's error page. */
static void not_image(struct net *n, struct ntask *t, const struct xfer *x,
		      const char *host)
{
	char why[640];

	snprintf(why, sizeof(why), "not an image (%s sent %s)", host,
		 core_sniff_describe(x->head, x->head_len));
	refresh(n, t, why);
}

/* A whole body arrived: the core checks and stores it. */
static void store(struct net *n, struct ntask *t, const struct xfer *x,
		  const char *host)
{
	char why[640];
	int rc = core_task_output(n->core, t->seq, t->output, t->tmp_name);

	if (rc == 0) {
		t->task_bytes += (uint64_t)x->received;
		t->download_failures = 0;
		t->store_failures = 0;
		/* the last one (they are stored in order): the task completes
		 * in this turn's batch, its records written with the image's */
		if (t->output + 1 == t->outputs)
			completed(n, t);
		else
			net_schedule(n, t, STEP_DOWNLOAD, 0);
	} else if (rc == -EBADMSG) {
		not_image(n, t, x, host);
	} else if (rc == -ENOENT) {
		net_drop(n, t);
	} else { /* the core removed the file */
		snprintf(why, sizeof(why), "cannot store the image: %s",
			 strerror(-rc));
		store_trouble(n, t, why);
	}
}

/* curl refused the scheme of a redirect (CURLOPT_REDIR_PROTOCOLS_STR):
 * say which, as for an output URL. false when that was not it. */
static bool bad_redirect(struct net *n, struct ntask *t, const char *url,
			 const struct xfer_result *r)
{
	char reason[128], why[160];

	if (r->code != CURLE_UNSUPPORTED_PROTOCOL || !url ||
	    net_scheme_check(n->api_url, url, reason, sizeof(reason)) == 0)
		return false;
	snprintf(why, sizeof(why), "redirected: %s", reason);
	refused(n, t, why);
	return true;
}

void net_download_done(struct net *n, struct ntask *t, struct xfer *x,
		       const struct xfer_result *r)
{
	char host[256], why[640], *url = NULL;

	curl_easy_getinfo(x->easy, CURLINFO_EFFECTIVE_URL, &url);
	net_xfer_url_host(url ? url : "", host, sizeof(host));
	close(x->fd);
	x->fd = -1;
	if (net_answer_ok(r)) {
		store(n, t, x, host);
		return;
	}
	core_tmp_unlink(n->core, t->tmp_name);
	if (x->write_errno) {
		store_trouble(n, t, r->what);
		return;
	}
	if (bad_redirect(n, t, url, r))
		return;
	if (x->refused[0]) {
		snprintf(why, sizeof(why), "%s: refused before connecting: %s",
			 host, x->refused);
		refused(n, t, why);
		return;
	}
	if (x->disk_full) {
		/* as when it is full: the image waits at the API */
		snprintf(why, sizeof(why), "disk nearly full: %s",
			 strerror(ENOSPC));
		store_trouble(n, t, why);
		return;
	}
	if (x->not_image) {
		not_image(n, t, x, host);
		return;
	}
	if (x->too_big && x->rules.max_bytes < XFER_DOWNLOAD_MAX) {
		over_cap(n, t);
		return;
	}
	if (r->transport == TRANSPORT_OK)
		snprintf(why, sizeof(why), "%s answered %ld", host, r->status);
	else
		snprintf(why, sizeof(why), "%s: %s", host, r->what);
	log_info("%s #%" PRIu64 ": download of output %zu: %s", t->name, t->seq,
		 t->output + 1, why);
	if (r->transport == TRANSPORT_OK &&
	    (r->status == 403 || r->status == 404 || r->status == 410))
		refresh(n, t, why);
	else if (net_retry_classify(REQ_DOWNLOAD, r->transport, r->request_sent,
				    r->status, NULL) == RETRY_YES)
		again(n, t, why, r->retry_after);
	else if (r->transport == TRANSPORT_OK)
		refresh(n, t, why);
	else /* too big, not http(s), ... */
		net_fail(n, t, "download_failed", why);
}

void net_download_abort(struct net *n, struct ntask *t, struct xfer *x)
{
	close(x->fd);
	x->fd = -1;
	core_tmp_unlink(n->core, t->tmp_name);
}
