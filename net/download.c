/* Downloading a completed task's outputs, one after the other, each into a
 * temporary file the core then moves into the store. Output URLs are
 * pre-signed and expire: a refusal (403, 404, 410, bytes that are not an
 * image) or a transient fault that outlasts its retries makes one poll for
 * fresh URLs; the second time the task fails with download_failed. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "internal.h"

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
	const struct retry_limits *l = retry_limits(REQ_DOWNLOAD);
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
	snprintf(note, sizeof(note), "download: %s; the image waits at the "
		 "API, retrying in %lld s", why,
		 (long long)((delay + 999) / 1000));
	log_warn("%s #%" PRIu64 ": %s", t->name, t->seq, note);
	core_task_note(n->core, t->seq, note);
	net_schedule(n, t, STEP_DOWNLOAD, delay);
}

static void completed(struct net *n, struct ntask *t)
{
	if (core_task_completed(n->core, t->seq) == 0)
		log_info("%s #%" PRIu64 ": completed", t->name, t->seq);
	net_drop(n, t);
}

void download_start(struct net *n, struct ntask *t,
		    const struct core_task *ct)
{
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
	fd = core_tmpfile(n->core, t->tmp_path, sizeof(t->tmp_path));
	if (fd < 0) {
		char why[300];

		snprintf(why, sizeof(why), "cannot make a temporary file: %s",
			 strerror(-fd));
		store_trouble(n, t, why);
		return;
	}
	x = xfer_download(&n->pool, ct->urls[i], fd);
	if (!x || net_launch(n, x, t) < 0) {
		xfer_free(&n->pool, x);
		close(fd);
		unlink(t->tmp_path);
		again(n, t, "cannot start the download", 0);
		return;
	}
	t->output = i;
	log_debug("%s #%" PRIu64 ": downloading output %zu", t->name, t->seq,
		  i + 1);
}

/* A whole body arrived: the core checks and stores it. */
static void store(struct net *n, struct ntask *t, const char *host)
{
	char why[640];
	int rc = core_task_output(n->core, t->seq, t->output, t->tmp_path);

	if (rc == 0) {
		t->download_failures = 0;
		t->store_failures = 0;
		net_schedule(n, t, STEP_DOWNLOAD, 0);
	} else if (rc == -EBADMSG) {
		snprintf(why, sizeof(why), "%s answered with something that "
			 "is not an image", host);
		refresh(n, t, why);
	} else if (rc == -ENOENT) {
		net_drop(n, t);
	} else {	/* the core removed the file */
		snprintf(why, sizeof(why), "cannot store the image: %s",
			 strerror(-rc));
		store_trouble(n, t, why);
	}
}

void download_done(struct net *n, struct ntask *t, struct xfer *x,
		   const struct xfer_result *r)
{
	char host[256], why[640], *url = NULL;

	curl_easy_getinfo(x->easy, CURLINFO_EFFECTIVE_URL, &url);
	xfer_url_host(url ? url : "", host, sizeof(host));
	close(x->fd);
	x->fd = -1;
	if (net_answer_ok(r)) {
		store(n, t, host);
		return;
	}
	unlink(t->tmp_path);
	if (x->write_errno) {
		store_trouble(n, t, r->what);
		return;
	}
	if (r->transport == TRANSPORT_OK)
		snprintf(why, sizeof(why), "%s answered %ld", host, r->status);
	else
		snprintf(why, sizeof(why), "%s: %s", host, r->what);
	log_info("%s #%" PRIu64 ": download of output %zu: %s", t->name,
		 t->seq, t->output + 1, why);
	if (r->transport == TRANSPORT_OK &&
	    (r->status == 403 || r->status == 404 || r->status == 410))
		refresh(n, t, why);
	else if (retry_classify(REQ_DOWNLOAD, r->transport, r->request_sent,
				r->status, NULL) == RETRY_YES)
		again(n, t, why, r->retry_after);
	else if (r->transport == TRANSPORT_OK)
		refresh(n, t, why);
	else	/* too big, not http(s), ... */
		net_fail(n, t, "download_failed", why);
}

void download_abort(struct ntask *t, struct xfer *x)
{
	close(x->fd);
	x->fd = -1;
	unlink(t->tmp_path);
}
