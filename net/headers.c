/* The headers every API request carries, the key among them, and their
 * disposal: the key is zeroed before the memory goes back to the heap. */
#include <stdio.h>
#include <string.h>

#include "internal.h"

#define NET_HEADER_MAX 4096

void net_free_headers(struct curl_slist *list)
{
	struct curl_slist *l;

	for (l = list; l; l = l->next)
		explicit_bzero(l->data, strlen(l->data));
	curl_slist_free_all(list);
}

struct curl_slist *net_api_headers(const char *key, char *err, size_t errlen)
{
	static const char *const fixed[] = {
		"Content-Type: application/json", "Accept: application/json",
		"Expect:", /* no 100-continue round trip on POST */
	};
	char line[NET_HEADER_MAX];
	struct curl_slist *list = NULL, *l;
	size_t i;
	int len;

	if (!key || !key[0]) {
		snprintf(err, errlen, "no API key");
		return NULL;
	}
	for (i = 0; key[i]; i++) {
		if ((unsigned char)key[i] < 0x20 || key[i] == 0x7f) {
			snprintf(err, errlen,
				 "the API key holds a control "
				 "character");
			return NULL;
		}
	}
	len = snprintf(line, sizeof(line), "Authorization: Bearer %s", key);
	if (len < 0 || (size_t)len >= sizeof(line)) {
		snprintf(err, errlen, "the API key is too long");
		return NULL;
	}
	list = curl_slist_append(NULL, line);
	explicit_bzero(line, sizeof(line));
	for (i = 0; list && i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		l = curl_slist_append(list, fixed[i]);
		if (!l)
			break;
		list = l;
	}
	if (!list || i < sizeof(fixed) / sizeof(fixed[0])) {
		snprintf(err, errlen, "out of memory");
		net_free_headers(list);
		return NULL;
	}
	return list;
}
