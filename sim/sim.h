/* The simulated GPT Image 2 API (gptimgfs(1), SIMULATION): the endpoints,
 * validation, bodies and status codes of doc/api.md, served by
 * libmicrohttpd on loopback, with fault injection and introspection for
 * tests. Used in-process by `gptimgfs --simulate` and by the standalone
 * `gptimgfs-sim`. */
#ifndef GPTIMGFS_SIM_H
#define GPTIMGFS_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sim_options {
	const char *bind_addr;	   /* IPv4 loopback address, "127.0.0.1" */
	uint16_t port;		   /* 0: an ephemeral port */
	const char *api_key;	   /* the one Bearer key accepted */
	double pending_seconds;	   /* a new task stays pending this long */
	double processing_seconds; /* then processing this long */
	double balance;		   /* starting credit balance */
	const char *file_host;	   /* host name in output URLs ("localhost":
					 * another host than the API's) */
	double image_scale;	   /* scales both sides of the images
					 * (0, 1]: 1k is 1024 px long at 1 */
	double max_rate;	   /* API requests a second, 0: no limit */
	unsigned max_tasks;	   /* unfinished tasks at once, 0: no limit */
	double duration_spread;	   /* processing times vary by this share */
	double callback_drop;	   /* chance that a callback is not sent */
	uint64_t seed;		   /* for the spread and the drops */
	bool verbose;		   /* one line per request on stderr */
};

struct sim;

void sim_options_default(struct sim_options *o);
/* Start serving. NULL (and a message in err) on failure. */
struct sim *sim_start(const struct sim_options *o, char *err, size_t errlen);
uint16_t sim_port(const struct sim *s);
void sim_stop(struct sim *s);

#endif
