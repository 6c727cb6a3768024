/* core_task_sending when its record cannot be written: the record of a
 * task about to be sent is written without the core lock held, so the
 * prompt may be removed or rewritten meanwhile. A task that then cannot
 * be recorded is never sent later for a prompt nobody wants.
 * fdatasync is replaced here: its first call after arming waits for the
 * test, then fails ENOSPC. */
#include <errno.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "check.h"
#include "core/internal.h" /* white box: the task's flags, the lock */
#include "core/table.h"
#include "core_fixture.h"

static pthread_mutex_t gate_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cond = PTHREAD_COND_INITIALIZER;
static bool armed, held, released;

int fdatasync(int fd)
{
	bool fail = false;

	pthread_mutex_lock(&gate_lock);
	if (armed) {
		armed = false;
		held = true;
		pthread_cond_broadcast(&gate_cond);
		while (!released)
			pthread_cond_wait(&gate_cond, &gate_lock);
		fail = true;
	}
	pthread_mutex_unlock(&gate_lock);
	if (fail) {
		errno = ENOSPC;
		return -1;
	}
	return (int)syscall(SYS_fdatasync, fd);
}

static void gate_wait_held(void)
{
	pthread_mutex_lock(&gate_lock);
	while (!held)
		pthread_cond_wait(&gate_cond, &gate_lock);
	pthread_mutex_unlock(&gate_lock);
}

static void gate_release(void)
{
	pthread_mutex_lock(&gate_lock);
	released = true;
	pthread_cond_broadcast(&gate_cond);
	pthread_mutex_unlock(&gate_lock);
}

static void gate_arm(void)
{
	pthread_mutex_lock(&gate_lock);
	armed = true;
	held = released = false;
	pthread_mutex_unlock(&gate_lock);
}

struct sending {
	struct core *c;
	uint64_t seq;
	int rc;
};

static void *send_task(void *arg)
{
	struct sending *s = arg;

	s->rc = core_task_sending(s->c, s->seq);
	return NULL;
}

struct change {
	struct fx *f;
	bool rewrite; /* else remove */
};

static void *change_prompt(void *arg)
{
	struct change *ch = arg;

	if (ch->rewrite)
		CHECK(fx_submit(ch->f, "cat", "a black cat") != 0);
	else
		core_prompt_removed(ch->f->c, "cat");
	return NULL;
}

/* Has the change reached the core (task seq forgotten, or no longer its
 * job's current task)? Read under the core lock, as the core does. */
static bool changed(struct core *c, uint64_t seq, bool rewrite)
{
	struct task *t;
	bool yes;

	core_lock(c);
	t = core_table_find(c, seq);
	yes = t && (rewrite ? !core_table_is_current(c, t) : t->forgotten);
	core_unlock(c);
	return yes;
}

static void test_changed_while_recording(bool rewrite)
{
	struct sending s;
	struct change ch;
	pthread_t sender, changer;
	struct fx f;

	if (!fx_open(&f)) {
		CHECK(0);
		return;
	}
	s = (struct sending){ f.c, fx_submit(&f, "cat", "a cat"), 0 };
	CHECK(s.seq != 0);
	if (!rewrite)
		CHECK(unlinkat(core_jobs_dirfd(f.c), "cat.txt", 0) == 0);
	gate_arm();
	CHECK(pthread_create(&sender, NULL, send_task, &s) == 0);
	gate_wait_held(); /* the sending record is being synced */
	ch = (struct change){ &f, rewrite };
	CHECK(pthread_create(&changer, NULL, change_prompt, &ch) == 0);
	while (!changed(f.c, s.seq, rewrite))
		sched_yield();
	gate_release(); /* ... and fails */
	pthread_join(sender, NULL);
	pthread_join(changer, NULL);
	/* not sent, and never sent later */
	CHECK(s.rc == -ENOENT);
	CHECK(!fx_task_exists(&f, s.seq));
	CHECK(core_task_sending(f.c, s.seq) == -ENOENT);
	fx_close(&f);
}

int main(void)
{
	test_changed_while_recording(false);
	test_changed_while_recording(true);
	return check_result("test_core_sending");
}
