/*
 * neighget.c - what lib/neigh.c answers for an address, both ways: the
 * one-entry request (fb_neigh_get_one) and the full lookup
 * (fb_neigh_lookup, which reads the whole table when the first has
 * nothing). Many times over with -n, for timing.
 *
 *   neighget [-n COUNT] ADDRESS
 *
 * Prints "one MAC|none" and "lookup MAC|none" (and the time per call of
 * each with -n); exits 0 if the lookup found the address, 1 if not.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "neigh.h"

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void show(const char *what, int rc, const uint8_t mac[6], int n, double s)
{
	if (rc == 0)
		printf("%s %02x:%02x:%02x:%02x:%02x:%02x", what, mac[0], mac[1], mac[2], mac[3],
		       mac[4], mac[5]);
	else
		printf("%s none", what);
	if (n > 1)
		printf(" (%.1f us per call)", s * 1e6 / n);
	printf("\n");
}

int main(int argc, char **argv)
{
	int n = 1, opt;
	while ((opt = getopt(argc, argv, "n:")) != -1) {
		if (opt != 'n')
			goto usage;
		n = atoi(optarg);
	}
	struct in_addr ip;
	if (optind + 1 != argc || n < 1 || inet_pton(AF_INET, argv[optind], &ip) != 1)
		goto usage;
	uint8_t mac[6] = {0};
	int rc = 0;
	double t = now_s();
	for (int i = 0; i < n; i++)
		rc = fb_neigh_get_one(ip, mac);
	show("one", rc, mac, n, now_s() - t);
	t = now_s();
	for (int i = 0; i < n; i++)
		rc = fb_neigh_lookup(ip, mac);
	show("lookup", rc, mac, n, now_s() - t);
	return rc == 0 ? 0 : 1;
usage:
	fprintf(stderr, "usage: neighget [-n COUNT] ADDRESS\n");
	return 2;
}
