/* gptimgfs: mount the job core as a filesystem. main() wires the parts:
 * config -> key check -> core (the store) -> FUSE session -> [simulator] ->
 * network thread -> notifier, then runs the FUSE loop until unmounted. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "config/config.h"
#include "core/jobs.h"
#include "fs/fs.h"
#include "net/net.h"
#include "sim/sim.h"
#include "util/log.h"

extern char **environ;

/* The in-process simulator's key: it never leaves this process. */
#define SIMULATE_KEY "sk-simulated-local-key"

/* The callback receiver's socket, bound before the fork, and the secret of
 * its path (gptimgfs(1), CALLBACKS). */
struct callbacks {
	int fd; /* -1: no callbacks */
	char token[CORE_CALLBACK_TOKEN_LEN + 1];
};

/* Core hooks: the mount and the network each take what concerns them. */
struct wiring {
	struct fs *fs;
	struct net *net;
};

static void hook_job_changed(void *ctx, const char *name)
{
	fs_hook_job_changed(((struct wiring *)ctx)->fs, name);
}

static void hook_outputs_changed(void *ctx)
{
	fs_hook_outputs_changed(((struct wiring *)ctx)->fs);
}

static void hook_task_ready(void *ctx, uint64_t seq)
{
	net_task_ready(((struct wiring *)ctx)->net, seq);
}

static void hook_credits_wanted(void *ctx)
{
	net_credits_wanted(((struct wiring *)ctx)->net);
}

static void hook_credits_changed(void *ctx)
{
	fs_hook_credits_changed(((struct wiring *)ctx)->fs);
}

static struct sim *start_simulator(char *url, size_t urlsz)
{
	struct sim_options so;
	struct sim *sim;
	char err[256];

	sim_options_default(&so);
	so.api_key = SIMULATE_KEY;
	so.pending_seconds = 1.0;
	so.processing_seconds = 2.0;
	sim = sim_start(&so, err, sizeof(err));
	if (!sim) {
		log_err("cannot start the simulator: %s", err);
		return NULL;
	}
	snprintf(url, urlsz, "http://127.0.0.1:%u", (unsigned)sim_port(sim));
	return sim;
}

/* Where the network goes: the simulator at sim_url, or the API. */
static void api_target(const struct config *cfg, const char *sim_url,
		       struct net_config *ncfg)
{
	ncfg->api_url = cfg->simulate ? sim_url : cfg->api_url;
	ncfg->api_key = cfg->simulate ? SIMULATE_KEY : cfg->api_key;
	ncfg->poll_interval = cfg->simulate ? 0.25 : cfg->poll_interval;
	ncfg->max_inflight = cfg->max_inflight;
	ncfg->max_rate = cfg->max_rate;
	ncfg->max_task_bytes = cfg->max_task_bytes;
	ncfg->callback_fd = -1;
	ncfg->callback_url = NULL;
	ncfg->callback_token = NULL;
}

/* Ask the API whether it takes the key, before anything is mounted, so
 * that a refusal reaches the caller as a message and an exit status. 0 to
 * go on (balance set when the API told it), -1 to stop. --simulate asks a
 * simulator of its own, stopped again at once: no thread may run across
 * the fork of fuse_daemonize. */
static int check_key(const struct config *cfg, double *balance)
{
	char sim_url[64] = "", source[PATH_MAX + 32], what[1024];
	enum net_key_verdict verdict;
	struct net_config ncfg;
	struct sim *sim = NULL;

	if (cfg->simulate && !(sim = start_simulator(sim_url, sizeof(sim_url))))
		return -1;
	api_target(cfg, sim_url, &ncfg);
	verdict = net_check_key(&ncfg, balance, what, sizeof(what));
	if (sim)
		sim_stop(sim);
	config_key_source(cfg, source, sizeof(source));
	switch (verdict) {
	case NET_KEY_ACCEPTED:
		return 0;
	case NET_KEY_UNCHECKED:
		fprintf(stderr,
			"gptimgfs: the key from %s was not checked: "
			"%s; mounting anyway\n",
			source, what);
		return 0;
	case NET_KEY_REFUSED:
		fprintf(stderr,
			"gptimgfs: the API refused the key from %s: "
			"%s\n",
			source, what);
		return -1;
	case NET_KEY_ERROR:
		fprintf(stderr, "gptimgfs: cannot check the key from %s: %s\n",
			source, what);
		return -1;
	}
	return -1;
}

static int run_loop(struct fuse_session *se, const struct fuse_cmdline_opts *o)
{
	struct fuse_loop_config *lc;
	int rc;

	if (o->singlethread)
		return fuse_session_loop(se);
	lc = fuse_loop_cfg_create();
	if (!lc)
		return -ENOMEM;
	fuse_loop_cfg_set_clone_fd(lc, o->clone_fd);
	if (o->max_idle_threads != UINT_MAX) /* UINT_MAX: not given */
		fuse_loop_cfg_set_idle_threads(lc, o->max_idle_threads);
	fuse_loop_cfg_set_max_threads(lc, o->max_threads);
	rc = fuse_session_loop_mt(se, lc);
	fuse_loop_cfg_destroy(lc);
	return rc;
}

static void wire_hooks(struct core *core, struct wiring *wiring)
{
	struct core_hooks hooks = {
		.ctx = wiring,
		.job_changed = hook_job_changed,
		.outputs_changed = hook_outputs_changed,
		.task_ready = hook_task_ready,
		.credits_wanted = hook_credits_wanted,
		.credits_changed = hook_credits_changed,
	};

	core_set_hooks(core, &hooks);
}

/* Everything that runs threads, so after fuse_daemonize (which forks):
 * the simulator, the network thread, the notifier, the FUSE loop. */
static int serve(const struct config *cfg, struct core *core, struct fs *fs,
		 const struct fuse_cmdline_opts *fopts, struct callbacks *cb)
{
	static const struct core_hooks no_hooks;
	struct wiring wiring = { .fs = fs };
	struct net_config ncfg;
	struct sim *sim = NULL;
	char err[512], sim_url[64];
	int ret = 1;

	if (cfg->simulate) {
		sim = start_simulator(sim_url, sizeof(sim_url));
		if (!sim)
			return 1;
		log_info("simulated API at %s", sim_url);
	}
	api_target(cfg, sim_url, &ncfg);
	if (cb->fd >= 0) {
		ncfg.callback_fd = cb->fd;
		ncfg.callback_url = cfg->callback_url;
		ncfg.callback_token = cb->token;
		/* the token is a secret: the log shows where it goes */
		log_info(
			"callbacks: receiving on %s, asked for at %s" NET_CB_LOG,
			cfg->callback_listen, cfg->callback_url);
	}
	cb->fd = -1; /* net_start's now, whatever it does */
	wiring.net = net_start(core, &ncfg, err, sizeof(err));
	if (!wiring.net) {
		log_err("%s", err);
		goto out;
	}
	wire_hooks(core, &wiring);
	if (fs_start_publisher(fs, cfg->mountpoint) < 0)
		log_warn("no publisher thread: watchers of out/ (inotify) "
			 "will not see new images");
	if (fs_start_notifier(fs) == 0) {
		core_start(core);
		log_info("mounted %s (data in %s)", cfg->mountpoint,
			 cfg->data_dir);
		/* an unmount or a signal (SIGTERM, SIGINT, SIGHUP) is a clean
		 * end */
		ret = run_loop(fs->se, fopts) >= 0 ? 0 : 1;
		fs_loop_ended(fs);
	}
	net_stop(wiring.net);
	/* nothing may call the hooks once their targets are gone; the
	 * notifier goes last: a creation answered during net_stop still
	 * tells it about the job */
	core_set_hooks(core, &no_hooks);
	fs_stop_notifier(fs);
out:
	if (sim)
		sim_stop(sim);
	return ret;
}

/* Bind the receiver's socket before anything is mounted or forked, so
 * that an address in use or not ours fails the start with a message. */
static int listen_callbacks(const struct config *cfg, struct core *core,
			    struct callbacks *cb)
{
	char err[256];

	if (!cfg->callback_listen)
		return 0;
	if (core_callback_token(core, cb->token) < 0) {
		fprintf(stderr, "gptimgfs: callback_listen=%s: out of memory\n",
			cfg->callback_listen);
		return -1;
	}
	cb->fd = net_callback_listen(cfg->callback_listen, err, sizeof(err));
	if (cb->fd < 0) {
		fprintf(stderr,
			"gptimgfs: %s%scallback_listen=%s: cannot listen: %s\n",
			cfg->callback_listen_from ? cfg->callback_listen_from :
						    "",
			cfg->callback_listen_from ? ": " : "",
			cfg->callback_listen, err);
		return -1;
	}
	return 0;
}

static struct core *open_core(const struct config *cfg)
{
	struct core_defaults defaults = {
		.aspect_ratio = cfg->aspect_ratio,
		.resolution = cfg->resolution,
		.nsfw_checker = cfg->nsfw_checker,
	};
	struct core *core;
	char err[512];

	core = core_open(cfg->data_dir, &defaults, err, sizeof(err));
	if (!core)
		fprintf(stderr, "gptimgfs: %s\n", err);
	if (core) {
		core_set_daily_budget(core, cfg->daily_budget);
		core_set_embed_metadata(core,
					cfg->embed_metadata ? NET_MODEL : NULL);
	}
	return core;
}

/* log= (gptimgfs(1), OPTIONS): syslog is the default once detached. */
static bool logs_to_syslog(const struct config *cfg, bool foreground)
{
	return cfg->log ? strcmp(cfg->log, "syslog") == 0 : !foreground;
}

/* A log file is opened now, so that an error shows on the terminal; in
 * the background, stderr goes nowhere. -1 to stop. */
static int open_log(const struct config *cfg, bool foreground, int *fd)
{
	*fd = -1;
	if (cfg->log && strcmp(cfg->log, "stderr") == 0 && !foreground) {
		fprintf(stderr, "gptimgfs: log=stderr: in the background "
				"stderr goes nowhere; add -f, or give "
				"log=syslog or log=FILE\n");
		return -1;
	}
	if (!cfg->log || cfg->log[0] != '/')
		return 0;
	*fd = open(cfg->log,
		   O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
		   0600);
	if (*fd < 0) {
		fprintf(stderr, "gptimgfs: log=%s: %s\n", cfg->log,
			strerror(errno));
		return -1;
	}
	return 0;
}

/* Before going to the background: where the log will be, and a warning
 * when that is a syslog nobody runs. */
static void say_where_logs_go(const struct config *cfg, bool foreground)
{
	if (foreground && !cfg->log)
		return;
	if (!logs_to_syslog(cfg, foreground)) {
		log_info("logging to %s", cfg->log);
		return;
	}
	if (access("/dev/log", W_OK) != 0)
		log_warn("logging to syslog, but this machine has none "
			 "(/dev/log: %s): nothing will be logged; give "
			 "-o log=FILE",
			 strerror(errno));
	else
		log_info("logging to syslog (journalctl -t gptimgfs)");
}

int main(int argc, char **argv)
{
	struct config cfg = { 0 };
	struct fuse_cmdline_opts fopts = { 0 };
	struct fuse_session *se = NULL;
	struct core *core = NULL;
	struct callbacks cb = { .fd = -1 };
	struct fs fs;
	char err[512];
	double balance;
	int ret = 1, log_fd = -1;

	/* the key lives in this process's memory: no core dumps, no ptrace
	 * by other processes of the user */
	prctl(PR_SET_DUMPABLE, 0);
	switch (config_load(&cfg, argc, argv, environ, err, sizeof(err))) {
	case CONFIG_DONE:
		return 0;
	case CONFIG_ERROR:
		fprintf(stderr, "%s\n", err);
		return 1;
	case CONFIG_OK:
		break;
	}
	if (fuse_parse_cmdline(&cfg.fuse_args, &fopts) != 0)
		goto out_config;
	log_set_debug(cfg.debug);
	if (open_log(&cfg, fopts.foreground, &log_fd) < 0)
		goto out_config;
	if (check_key(&cfg, &balance) < 0)
		goto out_config;
	core = open_core(&cfg);
	if (!core)
		goto out_config;
	if (!isnan(balance)) /* `cat credits` need not ask again at once */
		core_credits_update(core, balance, NULL, NULL);
	if (listen_callbacks(&cfg, core, &cb) < 0)
		goto out_core;
	if (fs_init(&fs, core) < 0)
		goto out_core;
	fs.allow_other = cfg.allow_other;
	fs_set_request_timeout(&fs, fs_request_timeout_s());
	se = fuse_session_new(&cfg.fuse_args, &fs_ops, sizeof(fs_ops), &fs);
	if (!se)
		goto out_fs;
	fs.se = se;
	if (fuse_set_signal_handlers(se) != 0)
		goto out_session;
	if (fuse_session_mount(se, cfg.mountpoint) != 0)
		goto out_signals;
	say_where_logs_go(&cfg, fopts.foreground);
	if (fuse_daemonize(fopts.foreground) != 0)
		goto out_unmount;
	if (log_fd >= 0)
		log_to_fd(log_fd);
	else
		log_to_syslog(logs_to_syslog(&cfg, fopts.foreground));
	core_note_pid(core);
	ret = serve(&cfg, core, &fs, &fopts, &cb);
out_unmount:
	fuse_session_unmount(se);
out_signals:
	fuse_remove_signal_handlers(se);
out_session:
	fuse_session_destroy(se);
out_fs:
	fs_destroy(&fs);
out_core:
	if (cb.fd >= 0)
		close(cb.fd);
	explicit_bzero(cb.token, sizeof(cb.token));
	core_close(core);
out_config:
	if (log_fd >= 0)
		close(log_fd);
	free(fopts.mountpoint);
	config_free(&cfg);
	return ret;
}
