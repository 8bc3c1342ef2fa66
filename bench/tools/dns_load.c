/* dns_load: validated per-domain lookup sets with libunbound, many at once.
 *
 * For each domain: MX; then for every MX host (at most 8; the domain itself when
 * there is no MX RRset) A, AAAA and TLSA _25._tcp.<host>. That is the DNS part
 * of a DANE check. libunbound recurses from the given root hints and validates
 * with the given trust anchor, from a cold cache (a new process per run).
 *
 *   dns_load -f DOMAINS -a TRUST_ANCHOR -r ROOT_HINTS [-w WINDOW] [-k CONTEXTS]
 *            [-T SECONDS] [-q QUERIES_PER_THREAD]
 *
 * WINDOW domains are in flight at once, spread over CONTEXTS libunbound contexts
 * (thread mode: one background resolver thread each, every context with its own
 * cache). Stops by itself when every domain is done or after SECONDS.
 * Prints one JSON object: sets done, lookups by security state, wall time, rate
 * and the process CPU (all threads, getrusage).
 */
#define _GNU_SOURCE
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unbound.h>
#include <unistd.h>

#define MAXCTX 16
#define MAXMX 8

struct dom {
  char *name;
  int pending;   /* lookups outstanding */
  int insecure;  /* some answer was not secure */
  int bogus;
  int failed;
  int done;
};

struct lk {
  int dom;
  int kind; /* 0 MX, 1 A/AAAA/TLSA */
};

static struct dom *doms;
static long ndoms, next_dom, inflight, sets_done;
static long lookups, n_secure, n_insecure, n_bogus, n_failed;
static long sets_all_secure;
static struct ub_ctx *ctxs[MAXCTX];
static int nctx;

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void cb(void *arg, int err, struct ub_result *res);

static void submit(int d, const char *name, int type, int kind) {
  struct lk *l = malloc(sizeof *l);
  l->dom = d;
  l->kind = kind;
  doms[d].pending++;
  lookups++;
  int rc = ub_resolve_async(ctxs[d % nctx], name, type, 1, l, cb, NULL);
  if (rc != 0) {
    /* counted as failed at once */
    doms[d].pending--;
    doms[d].failed++;
    n_failed++;
    free(l);
  }
}

static void host_lookups(int d, const char *host) {
  char tlsa[300];
  submit(d, host, 1, 1);
  submit(d, host, 28, 1);
  snprintf(tlsa, sizeof tlsa, "_25._tcp.%s", host);
  submit(d, tlsa, 52, 1);
}

/* uncompressed wire-format name -> text; returns 0 on error */
static int wire_name(const unsigned char *p, size_t len, char *out, size_t outlen) {
  size_t i = 0, o = 0;
  while (i < len) {
    unsigned l = p[i++];
    if (l == 0) break;
    if (l > 63 || i + l > len || o + l + 2 > outlen) return 0;
    memcpy(out + o, p + i, l);
    o += l;
    out[o++] = '.';
    i += l;
  }
  if (o == 0) {
    if (outlen < 2) return 0;
    out[o++] = '.';
  }
  out[o] = 0;
  return 1;
}

static void complete_if_done(int d) {
  struct dom *x = &doms[d];
  if (x->pending == 0 && !x->done) {
    x->done = 1;
    inflight--;
    sets_done++;
    if (!x->insecure && !x->bogus && !x->failed) sets_all_secure++;
  }
}

static void cb(void *arg, int err, struct ub_result *res) {
  struct lk *l = arg;
  int d = l->dom;
  struct dom *x = &doms[d];
  x->pending--;
  if (err != 0 || !res) {
    x->failed++;
    n_failed++;
  } else if (res->bogus) {
    x->bogus++;
    n_bogus++;
  } else if (res->secure) {
    n_secure++;
  } else {
    x->insecure++;
    n_insecure++;
  }
  if (l->kind == 0 && err == 0 && res && !res->bogus) {
    int hosts = 0;
    if (res->havedata) {
      for (int i = 0; res->data[i] && hosts < MAXMX; i++) {
        char host[300];
        if (res->len[i] < 3) continue;
        if (!wire_name((unsigned char *)res->data[i] + 2, (size_t)res->len[i] - 2, host, sizeof host)) continue;
        if (strcmp(host, ".") == 0) continue; /* null MX */
        host_lookups(d, host);
        hosts++;
      }
    } else if (!res->nxdomain) {
      host_lookups(d, x->name); /* implicit MX */
    }
  }
  if (res) ub_resolve_free(res);
  free(l);
  complete_if_done(d);
}

int main(int argc, char **argv) {
  const char *file = NULL, *ta = NULL, *hints = NULL, *qpt = "4096";
  long window = 500;
  double tlimit = 120;
  int opt;
  nctx = 1;
  while ((opt = getopt(argc, argv, "f:a:r:w:k:T:q:")) != -1) {
    switch (opt) {
      case 'f': file = optarg; break;
      case 'a': ta = optarg; break;
      case 'r': hints = optarg; break;
      case 'w': window = atol(optarg); break;
      case 'k': nctx = atoi(optarg); break;
      case 'T': tlimit = atof(optarg); break;
      case 'q': qpt = optarg; break;
      default:
        fprintf(stderr, "usage: dns_load -f DOMAINS -a TA -r HINTS [-w WINDOW] [-k CONTEXTS] [-T S] [-q N]\n");
        return 2;
    }
  }
  if (!file || !ta || !hints || window < 1 || nctx < 1 || nctx > MAXCTX) {
    fprintf(stderr, "dns_load: -f, -a and -r are required; 1 <= -k <= %d\n", MAXCTX);
    return 2;
  }
  FILE *f = fopen(file, "r");
  if (!f) { perror(file); return 2; }
  char line[512];
  long cap = 0;
  while (fgets(line, sizeof line, f)) {
    char name[300];
    if (sscanf(line, "%299s", name) != 1) continue;
    if (ndoms == cap) {
      cap = cap ? cap * 2 : 1024;
      doms = realloc(doms, (size_t)cap * sizeof *doms);
    }
    memset(&doms[ndoms], 0, sizeof doms[ndoms]);
    doms[ndoms++].name = strdup(name);
  }
  fclose(f);
  char range[32];
  snprintf(range, sizeof range, "%ld", 2 * atol(qpt));
  for (int i = 0; i < nctx; i++) {
    struct ub_ctx *c = ub_ctx_create();
    if (!c) { fprintf(stderr, "dns_load: ub_ctx_create failed\n"); return 2; }
    const char *opts[][2] = {{"do-not-query-localhost:", "no"}, {"root-hints:", hints},
                             {"trust-anchor-signaling:", "no"}, {"num-queries-per-thread:", qpt},
                             {"outgoing-range:", range}, {"use-syslog:", "no"}};
    for (size_t k = 0; k < sizeof opts / sizeof opts[0]; k++) {
      int rc = ub_ctx_set_option(c, opts[k][0], opts[k][1]);
      if (rc) { fprintf(stderr, "dns_load: %s %s: %s\n", opts[k][0], opts[k][1], ub_strerror(rc)); return 2; }
    }
    int rc = ub_ctx_add_ta_file(c, ta);
    if (rc) { fprintf(stderr, "dns_load: trust anchor: %s\n", ub_strerror(rc)); return 2; }
    rc = ub_ctx_async(c, 1);
    if (rc) { fprintf(stderr, "dns_load: async: %s\n", ub_strerror(rc)); return 2; }
    ctxs[i] = c;
  }
  double t0 = now(), stop_at = t0 + tlimit;
  struct pollfd pf[MAXCTX];
  for (;;) {
    double t = now();
    while (next_dom < ndoms && inflight < window && t < stop_at) {
      long d = next_dom++;
      inflight++;
      submit((int)d, doms[d].name, 15, 0);
      complete_if_done((int)d);
    }
    if (inflight == 0 && (next_dom >= ndoms || t >= stop_at)) break;
    if (t > stop_at + 10) break; /* hard stop: give up on what is still in flight */
    for (int i = 0; i < nctx; i++) {
      pf[i].fd = ub_fd(ctxs[i]);
      pf[i].events = POLLIN;
      pf[i].revents = 0;
    }
    int n = poll(pf, (nfds_t)nctx, 50);
    if (n <= 0) continue;
    for (int i = 0; i < nctx; i++)
      if (pf[i].revents & POLLIN) ub_process(ctxs[i]);
  }
  double wall = now() - t0;
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  double cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
               (double)ru.ru_stime.tv_usec / 1e6;
  printf("{\"tool\":\"dns_load\",\"domains\":%ld,\"sets\":%ld,\"sets_all_secure\":%ld,\"unfinished\":%ld,"
         "\"lookups\":%ld,\"secure\":%ld,\"insecure\":%ld,\"bogus\":%ld,\"failed\":%ld,\"wall_s\":%.3f,"
         "\"rate\":%.1f,\"lookups_per_s\":%.1f,\"cpu_s\":%.3f,\"cpu_us_per_set\":%.1f,\"cpu_us_per_lookup\":%.1f,"
         "\"contexts\":%d,\"window\":%ld}\n",
         ndoms, sets_done, sets_all_secure, inflight, lookups, n_secure, n_insecure, n_bogus, n_failed, wall,
         wall > 0 ? (double)sets_done / wall : 0, wall > 0 ? (double)lookups / wall : 0, cpu,
         sets_done ? cpu * 1e6 / (double)sets_done : 0, lookups ? cpu * 1e6 / (double)lookups : 0, nctx, window);
  /* _exit: skip ub_ctx_delete of contexts that may still hold queries after a hard stop */
  fflush(stdout);
  _exit(sets_done > 0 ? 0 : 1);
}
