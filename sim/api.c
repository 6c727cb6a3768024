/* The API's endpoints (doc/api.md): create a task, query it, read the
 * balance, and the file host's images. */
#include "sim_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "create.h"
#include "png.h"

#define ANSWER_MAX (64u << 10)
#define FILE_NAME_LEN (SIM_TASK_ID_LEN + sizeof("-1.png") - 1)

/* A task as the create request describes it; the caller adds timings. */
static void task_from_request(struct sim_task *t, struct sim_create *c,
			      double scale)
{
	struct sim_directives d;

	memset(t, 0, sizeof(*t));
	sim_directives_parse(c->prompt, &d);
	t->price = c->price;
	t->outputs = d.outputs;
	memcpy(t->fail_code, d.fail_code, sizeof(t->fail_code));
	t->nonimage = d.nonimage;
	t->noise = d.noise;
	memcpy(t->output_url, d.output_url, sizeof(t->output_url));
	t->image_to_image = c->n_urls > 0;
	sim_image_size(c, scale, &t->width, &t->height);
	t->callback_url = c->callback_url;
	c->callback_url = NULL;
}

/* --duration-spread: processing time uniform in [(1-F)P, (1+F)P]. */
static double processing_time(struct sim *s)
{
	double u;

	if (s->duration_spread <= 0)
		return s->processing_s;
	u = sim_rng_uniform(&s->duration_rng);
	return s->processing_s * (1 + s->duration_spread * (2 * u - 1));
}

/* --max-tasks: with that many tasks unfinished, the seconds until the
 * earliest ends; else -1. */
static double tasks_wait(struct sim *s, double now)
{
	double next;

	sim_tasks_settle(&s->tasks, now);
	if (!s->max_tasks || s->tasks.unfinished < s->max_tasks ||
	    !sim_tasks_next_end(&s->tasks, &next))
		return -1;
	return next - now;
}

static void answer_task_id(struct sim_reply *rep, const char *id)
{
	struct buf b;

	buf_init(&b, ANSWER_MAX);
	buf_printf(&b,
		   "{\"code\":200,\"msg\":\"success\",\"data\":"
		   "{\"taskId\":\"%s\"}}",
		   id);
	sim_reply_json(rep, &b);
	buf_free(&b);
}

void sim_api_create(struct sim_req *r)
{
	struct sim *s = r->sim;
	struct sim_create c;
	struct sim_create_error e;
	struct sim_task tmpl;
	struct sim_task *task = NULL;
	char id[SIM_TASK_ID_LEN + 1], busy[96];
	bool insufficient = false;
	unsigned max_tasks;
	double wait;

	if (sim_create_parse(&c, buf_str(&r->body), r->body.len, &e) < 0) {
		sim_reply_error(&r->reply, e.status, e.code, e.message);
		return;
	}
	pthread_mutex_lock(&s->lock);
	task_from_request(&tmpl, &c, s->image_scale);
	tmpl.created = sim_monotonic();
	tmpl.created_at = time(NULL);
	tmpl.pending_s = s->pending_s;
	wait = tasks_wait(s, tmpl.created);
	max_tasks = s->max_tasks;
	if (wait < 0) {
		tmpl.processing_s = processing_time(s);
		task = sim_tasks_add(&s->tasks, &tmpl, &insufficient);
	}
	if (task) {
		memcpy(id, task->id, sizeof(id));
		s->record.count.creates++;
		sim_record_prompt(&s->record, c.prompt);
		pthread_cond_signal(&s->wake);
	}
	pthread_mutex_unlock(&s->lock);
	free(tmpl.callback_url); /* NULL when the task took it */
	sim_create_free(&c);
	if (task) {
		answer_task_id(&r->reply, id);
	} else if (wait >= 0) {
		snprintf(busy, sizeof(busy),
			 "Too many requests: %u tasks are unfinished.",
			 max_tasks);
		sim_throttle(r, wait, busy);
	} else if (insufficient) {
		sim_reply_error(
			&r->reply, 402, "insufficient_credits",
			"Your credit balance is too low. Please top up.");
	} else {
		sim_reply_error(&r->reply, 500, "internal_error",
				"The simulator cannot hold more tasks.");
	}
}

void sim_api_task(struct sim_req *r, const char *id)
{
	struct sim *s = r->sim;
	struct sim_task *task;
	struct buf b;
	double now;
	int rc = -1;

	buf_init(&b, ANSWER_MAX);
	pthread_mutex_lock(&s->lock);
	now = sim_monotonic();
	sim_tasks_settle(&s->tasks, now);
	task = sim_tasks_find(&s->tasks, id);
	if (task)
		rc = sim_task_json(&b, task, now, s->file_base);
	pthread_mutex_unlock(&s->lock);
	if (rc == 0)
		sim_reply_json(&r->reply, &b);
	else if (!task)
		sim_reply_error(&r->reply, 404, "task_not_found",
				"No task with that id.");
	else
		sim_reply_error(&r->reply, 500, "internal_error",
				"Out of memory.");
	buf_free(&b);
}

void sim_api_credits(struct sim_req *r)
{
	struct sim *s = r->sim;
	struct sim_ledger l;
	char balance[32], purchased[32], consumed[32];
	struct buf b;

	pthread_mutex_lock(&s->lock);
	sim_tasks_settle(&s->tasks, sim_monotonic());
	l = s->tasks.ledger;
	pthread_mutex_unlock(&s->lock);
	sim_credits_format(balance, sizeof(balance), l.balance);
	sim_credits_format(purchased, sizeof(purchased), l.purchased);
	sim_credits_format(consumed, sizeof(consumed), l.consumed);
	buf_init(&b, ANSWER_MAX);
	buf_printf(&b,
		   "{\"code\":200,\"msg\":\"success\",\"data\":"
		   "{\"balance\":%s,\"total_purchased\":%s,"
		   "\"total_consumed\":%s}}",
		   balance, purchased, consumed);
	sim_reply_json(&r->reply, &b);
	buf_free(&b);
}

/* FNV-1a: a seed that differs from file to file. */
static uint32_t seed_of(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

/* "<taskId>-<n>.png": the task's id into id, n as the result (0: bad). */
static int parse_file_name(const char *name, char *id)
{
	if (strlen(name) != FILE_NAME_LEN || name[SIM_TASK_ID_LEN] != '-' ||
	    name[SIM_TASK_ID_LEN + 1] < '1' ||
	    name[SIM_TASK_ID_LEN + 1] > '0' + SIM_OUTPUTS_MAX ||
	    strcmp(name + SIM_TASK_ID_LEN + 2, ".png") != 0)
		return 0;
	memcpy(id, name, SIM_TASK_ID_LEN);
	id[SIM_TASK_ID_LEN] = '\0';
	return name[SIM_TASK_ID_LEN + 1] - '0';
}

/* 200 with bytes that are no image: what an expired pre-signed link may
 * give, or what a hostile file host may. */
static void serve_nonimage(struct sim_req *r, enum sim_nonimage kind)
{
	/* "hi\n", gzipped */
	static const char gzip[] =
		"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00"
		"\x03\xcb\xc8\xe4\x02\x00\x7a\x7a\x6f\xed\x03\x00\x00\x00";
	static const char zeros[4096];

	r->reply.status = 200;
	r->reply.content_type = "application/octet-stream";
	if (kind == SIM_NONIMAGE_ZEROS) {
		buf_add(&r->reply.body, zeros, sizeof(zeros));
	} else if (kind == SIM_NONIMAGE_GZIP) {
		buf_add(&r->reply.body, gzip, sizeof(gzip) - 1);
	} else {
		buf_addstr(&r->reply.body, "<html>expired</html>");
		r->reply.content_type = "text/html";
	}
}

void sim_api_file(struct sim_req *r, const char *name)
{
	struct sim *s = r->sim;
	char id[SIM_TASK_ID_LEN + 1];
	int n = parse_file_name(name, id);
	struct sim_task *task = NULL;
	uint32_t width = 0, height = 0;
	enum sim_nonimage nonimage = SIM_IMAGE;
	bool found = false, noise = false;

	pthread_mutex_lock(&s->lock);
	if (n)
		task = sim_tasks_find(&s->tasks, id);
	if (task && n <= task->outputs &&
	    sim_task_state(task, sim_monotonic()) == SIM_COMPLETED) {
		found = true;
		nonimage = task->nonimage;
		noise = task->noise;
		width = task->width;
		height = task->height;
	}
	pthread_mutex_unlock(&s->lock);
	if (!found) {
		sim_reply_error(&r->reply, 404, "not_found", "No such file.");
	} else if (nonimage) {
		serve_nonimage(r, nonimage);
	} else if (sim_png_encode(&r->reply.body, width, height, seed_of(name),
				  noise) == 0) {
		r->reply.status = 200;
		r->reply.content_type = "image/png";
	} else {
		sim_reply_error(&r->reply, 500, "internal_error",
				"Out of memory.");
	}
}
