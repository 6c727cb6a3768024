/* gptimgfs-sim: the simulated GPT Image 2 API as a program, for tests and
 * experiments. Prints the port it listens on, then serves until SIGINT or
 * SIGTERM. The accepted key comes from GPTIMGFS_SIM_KEY, never argv. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/sim.h"

#define DEFAULT_KEY "sk-sim-0000000000000000"

static const char usage[] =
	"usage: gptimgfs-sim [--port N] [--bind ADDR] [--pending SECONDS]\n"
	"                    [--processing SECONDS] [--balance N] [--image-scale F]\n"
	"                    [--file-host HOST] [--max-rate R] [--max-tasks N]\n"
	"                    [--duration-spread F] [--callback-drop F] [--seed N]\n"
	"                    [--verbose] [--help]\n"
	"\n"
	"Serves the GPT Image 2 API (POST /v1/images/generations, GET /v1/tasks/ID,\n"
	"GET /v1/credits) on ADDR (an IPv4 loopback address, default 127.0.0.1) and\n"
	"port N (default 0: any free port, printed on stdout). Images are served\n"
	"under /files/ and their URLs name HOST (default localhost) instead.\n"
	"The accepted key is $GPTIMGFS_SIM_KEY (default " DEFAULT_KEY ").\n"
	"\n"
	"  --pending S       a new task is pending S seconds, 0..1000000 (default 1)\n"
	"  --processing S    then processing S seconds, 0..1000000 (default 2)\n"
	"  --balance N       starting credits, 0..1e12 (default 10000)\n"
	"  --image-scale F   scale images by F in (0, 1] (1k = 1024 px at 1)\n"
	"  --max-rate R      at most R requests a second under /v1/ (creations, polls,\n"
	"                    credits; not /files/ or /_sim/), 0..1000000 (default 0:\n"
	"                    no limit): a token bucket filled R a second holding\n"
	"                    B = max(1, floor(R/10)), so R a second on average, at\n"
	"                    most B at once and R + B in any one second; past it\n"
	"                    429 rate_limit_exceeded, Retry-After: seconds until the\n"
	"                    next token (rounded up, at least 1)\n"
	"  --max-tasks N     at most N unfinished (pending or processing) tasks,\n"
	"                    0..100000 (default 0: no limit): past it a creation gets\n"
	"                    429 rate_limit_exceeded, Retry-After: seconds until the\n"
	"                    earliest unfinished task ends (rounded up, at least 1)\n"
	"  --duration-spread F  each task's processing time is drawn uniformly in\n"
	"                    [(1-F)P, (1+F)P], F in [0, 1] (default 0)\n"
	"  --callback-drop F a task's callback is silently not sent with chance F in\n"
	"                    [0, 1] (default 0)\n"
	"  --seed N          seeds the draws of the last two (default 1: the same\n"
	"                    run draws the same, request order permitting)\n"
	"  --verbose         one line per request on stderr\n"
	"\n"
	"Test directives in a prompt:\n"
	"  [sim:fail=CODE]   the task fails after processing with error CODE\n"
	"                    (message \"simulated failure\"); credits are refunded\n"
	"  [sim:outputs=N]   N output images (1..4)\n"
	"  [sim:nonimage]    the image URLs answer 200 with <html>expired</html>\n"
	"  [sim:nonimage=zeros], [sim:nonimage=gzip]\n"
	"                    ... with 4096 zero bytes, or a gzip stream\n"
	"  [sim:noise]       images of random pixels, which do not compress\n"
	"  [sim:url=URL]     every output URL is URL, whatever its scheme (printable,\n"
	"                    no spaces, quotes or backslashes)\n"
	"\n"
	"Control endpoints (no key): GET /_sim/stats, /_sim/requests,\n"
	"/_sim/prompts; POST /_sim/faults (a rule), DELETE /_sim/faults,\n"
	"POST /_sim/reset, POST /_sim/config (pending_seconds, processing_seconds,\n"
	"balance, image_scale, max_rate, max_tasks, duration_spread, callback_drop).\n"
	"/_sim/stats counts creates, creates_429, polls, answers_429 (every 429),\n"
	"callbacks_delivered, callbacks_failed, callbacks_dropped, unfinished and\n"
	"peak_unfinished tasks, among others.\n";

static int bad(const char *what, const char *value)
{
	fprintf(stderr, "gptimgfs-sim: %s: '%s'\n", what, value);
	return -1;
}

/* A refused number says what the option takes, e.g. "gptimgfs-sim: bad
 * --max-rate: '-1' (a number from 0 to 1000000)"; keep each range with
 * its parse_number call and with the usage above. */
static int bad_number(const char *opt, const char *value, const char *range)
{
	fprintf(stderr, "gptimgfs-sim: bad %s: '%s' (%s)\n", opt, value, range);
	return -1;
}

static int parse_number(const char *s, double min, double max, double *out)
{
	char *end;

	errno = 0;
	*out = strtod(s, &end);
	return errno || end == s || *end || !isfinite(*out) || *out < min ||
			       *out > max ?
		       -1 :
		       0;
}

static int parse_args(int argc, char **argv, struct sim_options *o)
{
	static const struct option longopts[] = {
		{ "port", required_argument, NULL, 'p' },
		{ "bind", required_argument, NULL, 'b' },
		{ "pending", required_argument, NULL, 'P' },
		{ "processing", required_argument, NULL, 'R' },
		{ "balance", required_argument, NULL, 'B' },
		{ "image-scale", required_argument, NULL, 's' },
		{ "file-host", required_argument, NULL, 'f' },
		{ "max-rate", required_argument, NULL, 'r' },
		{ "max-tasks", required_argument, NULL, 't' },
		{ "duration-spread", required_argument, NULL, 'd' },
		{ "callback-drop", required_argument, NULL, 'c' },
		{ "seed", required_argument, NULL, 'S' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	double v;
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'p':
			if (parse_number(optarg, 0, 65535, &v) < 0 ||
			    v != floor(v))
				return bad_number(
					"--port", optarg,
					"a whole number from 0 to 65535");
			o->port = (uint16_t)v;
			break;
		case 'b':
			o->bind_addr = optarg;
			break;
		case 'P':
			if (parse_number(optarg, 0, 1e6, &o->pending_seconds) <
			    0)
				return bad_number("--pending", optarg,
						  "seconds, 0 to 1000000");
			break;
		case 'R':
			if (parse_number(optarg, 0, 1e6,
					 &o->processing_seconds) < 0)
				return bad_number("--processing", optarg,
						  "seconds, 0 to 1000000");
			break;
		case 'B':
			if (parse_number(optarg, 0, 1e12, &o->balance) < 0)
				return bad_number(
					"--balance", optarg,
					"credits, 0 to 1000000000000");
			break;
		case 's':
			if (parse_number(optarg, 1e-6, 1, &o->image_scale) < 0)
				return bad_number(
					"--image-scale", optarg,
					"a number from 0.000001 to 1");
			break;
		case 'f':
			o->file_host = optarg;
			break;
		case 'r':
			if (parse_number(optarg, 0, 1e6, &o->max_rate) < 0)
				return bad_number("--max-rate", optarg,
						  "a number from 0 to 1000000");
			break;
		case 't':
			if (parse_number(optarg, 0, 100000, &v) < 0 ||
			    v != floor(v))
				return bad_number(
					"--max-tasks", optarg,
					"a whole number from 0 to 100000");
			o->max_tasks = (unsigned)v;
			break;
		case 'd':
			if (parse_number(optarg, 0, 1, &o->duration_spread) < 0)
				return bad_number("--duration-spread", optarg,
						  "a number from 0 to 1");
			break;
		case 'c':
			if (parse_number(optarg, 0, 1, &o->callback_drop) < 0)
				return bad_number("--callback-drop", optarg,
						  "a number from 0 to 1");
			break;
		case 'S':
			/* 2^53: every integer below is a double */
			if (parse_number(optarg, 0, 9007199254740992.0, &v) <
				    0 ||
			    v != floor(v))
				return bad_number(
					"--seed", optarg,
					"a whole number from 0 to 2^53");
			o->seed = (uint64_t)v;
			break;
		case 'v':
			o->verbose = true;
			break;
		case 'h':
			fputs(usage, stdout);
			exit(0);
		default:
			return bad("unknown option or missing value",
				   argv[optind - 1]);
		}
	}
	if (optind < argc)
		return bad("unexpected argument", argv[optind]);
	return 0;
}

int main(int argc, char **argv)
{
	struct sim_options o;
	struct sim *s;
	sigset_t stop;
	char err[256];
	int sig;

	sim_options_default(&o);
	o.api_key = getenv("GPTIMGFS_SIM_KEY");
	if (!o.api_key || !*o.api_key)
		o.api_key = DEFAULT_KEY;
	if (parse_args(argc, argv, &o) < 0)
		return 2;
	/* blocked before any thread starts, so only sigwait() sees them */
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);
	s = sim_start(&o, err, sizeof(err));
	if (!s) {
		fprintf(stderr, "gptimgfs-sim: %s\n", err);
		return 1;
	}
	printf("%u\n", sim_port(s));
	fflush(stdout);
	while (sigwait(&stop, &sig) != 0)
		;
	sim_stop(s);
	return 0;
}
