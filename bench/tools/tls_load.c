/* tls_load: STARTTLS handshake load client for the danekit bench.
 *
 * Opens SMTP sessions to a list of targets (address, port, SNI) and on each one
 * does what a DANE checker does on the wire: greeting, EHLO, STARTTLS, a full
 * TLS handshake (no session cache, no tickets, so never a resumption) that
 * receives the server's chain, then QUIT inside TLS and the server's 221.
 * Non-blocking sockets on one epoll loop per worker process.
 *
 *   tls_load -f TARGETS [-n TOTAL] [-c CONCURRENCY] [-p PER_ADDR] [-j PROCS]
 *            [-T SECONDS] [-t CONN_TIMEOUT]
 *
 * TARGETS: one "address port sni" per line. Targets are used round-robin.
 * Stops by itself after TOTAL sessions or SECONDS, whichever comes first.
 * Prints one JSON object: sessions completed, failures by stage, wall time,
 * rate, and the CPU the client used (getrusage of the worker processes).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum stage { ST_CONNECT, ST_BANNER, ST_EHLO, ST_STARTTLS, ST_HANDSHAKE, ST_QUIT, ST_NSTAGES };
static const char *stage_name[ST_NSTAGES] = {"connect", "banner", "ehlo", "starttls", "handshake", "quit"};

struct target {
  struct sockaddr_storage sa;
  socklen_t salen;
  char sni[256];
  int addr_id;
};

struct conn {
  int fd;
  int target;
  enum stage st;
  SSL *ssl;
  double deadline;
  char buf[4096];
  size_t len;
  int used;
};

struct counts {
  long done;
  long failed[ST_NSTAGES];
  long no_starttls;
  double first_start, last_end;
};

static struct target *targets;
static int ntargets;
static int *addr_active;
static int naddrs;

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *msg) {
  perror(msg);
  exit(2);
}

static void load_targets(const char *path) {
  FILE *f = fopen(path, "r");
  if (!f) die(path);
  char line[1024];
  int cap = 0;
  char (*addrs)[64] = NULL;
  int acap = 0;
  while (fgets(line, sizeof line, f)) {
    char addr[64], sni[256];
    int port;
    if (sscanf(line, "%63s %d %255s", addr, &port, sni) != 3) continue;
    if (ntargets == cap) {
      cap = cap ? cap * 2 : 64;
      targets = realloc(targets, (size_t)cap * sizeof *targets);
    }
    struct target *t = &targets[ntargets];
    memset(t, 0, sizeof *t);
    struct addrinfo hints = {.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV, .ai_socktype = SOCK_STREAM}, *res;
    char ports[16];
    snprintf(ports, sizeof ports, "%d", port);
    if (getaddrinfo(addr, ports, &hints, &res) != 0) {
      fprintf(stderr, "tls_load: bad address %s\n", addr);
      exit(2);
    }
    memcpy(&t->sa, res->ai_addr, res->ai_addrlen);
    t->salen = res->ai_addrlen;
    freeaddrinfo(res);
    snprintf(t->sni, sizeof t->sni, "%s", sni);
    int id = -1;
    for (int i = 0; i < naddrs; i++)
      if (strcmp(addrs[i], addr) == 0) { id = i; break; }
    if (id < 0) {
      if (naddrs == acap) {
        acap = acap ? acap * 2 : 64;
        addrs = realloc(addrs, (size_t)acap * sizeof *addrs);
      }
      snprintf(addrs[naddrs], 64, "%s", addr);
      id = naddrs++;
    }
    t->addr_id = id;
    ntargets++;
  }
  fclose(f);
  free(addrs);
  if (ntargets == 0) {
    fprintf(stderr, "tls_load: no targets in %s\n", path);
    exit(2);
  }
  addr_active = calloc((size_t)naddrs, sizeof *addr_active);
}

/* A reply is complete when its last line is "NNN " + text + CRLF. Returns the
 * reply code, 0 while incomplete, -1 on garbage. *offered is set when an EHLO
 * reply line names STARTTLS. */
static int reply_complete(struct conn *c, int *offered) {
  size_t start = 0;
  for (size_t i = 0; i < c->len; i++) {
    if (c->buf[i] != '\n') continue;
    size_t l = i + 1 - start;
    const char *p = c->buf + start;
    if (l < 5) return -1;
    if (offered && l >= 12 && strncasecmp(p + 4, "STARTTLS", 8) == 0) *offered = 1;
    if (p[3] == ' ') {
      c->len = 0;
      return (p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0');
    }
    if (p[3] != '-') return -1;
    start = i + 1;
  }
  if (c->len == sizeof c->buf) return -1;
  return 0;
}

static int epfd;
static SSL_CTX *ctx;
static struct conn *conns;
static int nconns_max;
static int active;
static struct counts cnt;
static long started, total;
static int next_target;
static int per_addr;
static double conn_timeout;

static void finish(struct conn *c, int ok) {
  if (!ok) cnt.failed[c->st]++;
  else {
    cnt.done++;
    cnt.last_end = now();
  }
  if (c->ssl) SSL_free(c->ssl);
  c->ssl = NULL;
  epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
  close(c->fd);
  addr_active[targets[c->target].addr_id]--;
  c->used = 0;
  active--;
}

static void want(struct conn *c, uint32_t ev) {
  struct epoll_event e = {.events = ev, .data.ptr = c};
  epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &e);
}

static int start_one(void) {
  int tries = ntargets, ti = -1;
  while (tries-- > 0) {
    int cand = next_target;
    next_target = (next_target + 1) % ntargets;
    if (addr_active[targets[cand].addr_id] < per_addr) { ti = cand; break; }
  }
  if (ti < 0) return 0;
  struct conn *c = NULL;
  for (int i = 0; i < nconns_max; i++)
    if (!conns[i].used) { c = &conns[i]; break; }
  if (!c) return 0;
  struct target *t = &targets[ti];
  int fd = socket(t->sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  memset(c, 0, sizeof *c);
  c->fd = fd;
  c->target = ti;
  c->used = 1;
  c->st = ST_CONNECT;
  c->deadline = now() + conn_timeout;
  addr_active[t->addr_id]++;
  active++;
  started++;
  if (cnt.first_start == 0) cnt.first_start = now();
  struct epoll_event e = {.events = EPOLLOUT, .data.ptr = c};
  epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &e);
  if (connect(fd, (struct sockaddr *)&t->sa, t->salen) < 0 && errno != EINPROGRESS) finish(c, 0);
  return 1;
}

static int send_all(struct conn *c, const char *s) {
  size_t n = strlen(s);
  return write(c->fd, s, n) == (ssize_t)n ? 0 : -1; /* tiny writes on a fresh socket */
}

static void drive_tls(struct conn *c) {
  if (c->st == ST_HANDSHAKE) {
    int rc = SSL_do_handshake(c->ssl);
    if (rc == 1) {
      if (!SSL_get0_peer_certificate(c->ssl)) { finish(c, 0); return; }
      c->st = ST_QUIT;
      if (SSL_write(c->ssl, "QUIT\r\n", 6) != 6) { finish(c, 0); return; }
    } else {
      int e = SSL_get_error(c->ssl, rc);
      if (e == SSL_ERROR_WANT_READ) want(c, EPOLLIN);
      else if (e == SSL_ERROR_WANT_WRITE) want(c, EPOLLOUT);
      else { ERR_clear_error(); finish(c, 0); }
      return;
    }
  }
  /* ST_QUIT: read the 221 inside TLS */
  for (;;) {
    int n = SSL_read(c->ssl, c->buf + c->len, (int)(sizeof c->buf - c->len));
    if (n > 0) {
      c->len += (size_t)n;
      int code = reply_complete(c, NULL);
      if (code != 0) { finish(c, code == 221); return; }
      continue;
    }
    int e = SSL_get_error(c->ssl, n);
    if (e == SSL_ERROR_WANT_READ) { want(c, EPOLLIN); return; }
    if (e == SSL_ERROR_WANT_WRITE) { want(c, EPOLLOUT); return; }
    ERR_clear_error();
    /* the server closed right after QUIT without a readable 221: count the
       handshake, which is what is measured */
    finish(c, 1);
    return;
  }
}

static void on_event(struct conn *c, uint32_t ev) {
  if (c->st == ST_CONNECT) {
    int err = 0;
    socklen_t l = sizeof err;
    getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &l);
    if (err || (ev & (EPOLLERR | EPOLLHUP))) { finish(c, 0); return; }
    c->st = ST_BANNER;
    want(c, EPOLLIN);
    return;
  }
  if (c->st >= ST_HANDSHAKE) { drive_tls(c); return; }
  ssize_t n = read(c->fd, c->buf + c->len, sizeof c->buf - c->len);
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
  if (n <= 0) { finish(c, 0); return; }
  c->len += (size_t)n;
  int offered = 0;
  int code = reply_complete(c, c->st == ST_EHLO ? &offered : NULL);
  if (code == 0) return;
  switch (c->st) {
    case ST_BANNER:
      if (code != 220 || send_all(c, "EHLO bench.danekit.invalid\r\n")) { finish(c, 0); return; }
      c->st = ST_EHLO;
      return;
    case ST_EHLO:
      if (code != 250) { finish(c, 0); return; }
      if (!offered) { cnt.no_starttls++; finish(c, 0); return; }
      if (send_all(c, "STARTTLS\r\n")) { finish(c, 0); return; }
      c->st = ST_STARTTLS;
      return;
    case ST_STARTTLS:
      if (code != 220) { finish(c, 0); return; }
      c->ssl = SSL_new(ctx);
      SSL_set_fd(c->ssl, c->fd);
      SSL_set_tlsext_host_name(c->ssl, targets[c->target].sni);
      SSL_set_connect_state(c->ssl);
      c->st = ST_HANDSHAKE;
      drive_tls(c);
      return;
    default:
      finish(c, 0);
  }
}

static void worker(int wid, int nworkers, long my_total, int concurrency, double tlimit, int outfd) {
  (void)nworkers;
  ctx = SSL_CTX_new(TLS_client_method());
  SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
  epfd = epoll_create1(EPOLL_CLOEXEC);
  nconns_max = concurrency;
  conns = calloc((size_t)concurrency, sizeof *conns);
  total = my_total;
  next_target = (int)((long)wid * ntargets / (nworkers > 0 ? nworkers : 1)) % ntargets;
  double t0 = now(), stop_at = t0 + tlimit;
  struct epoll_event evs[256];
  for (;;) {
    double t = now();
    while (started < total && t < stop_at && active < concurrency) {
      int r = start_one();
      if (r <= 0) break;
    }
    if (active == 0 && (started >= total || t >= stop_at)) break;
    int n = epoll_wait(epfd, evs, 256, 50);
    for (int i = 0; i < n; i++) on_event(evs[i].data.ptr, evs[i].events);
    t = now();
    for (int i = 0; i < nconns_max; i++)
      if (conns[i].used && conns[i].deadline < t) finish(&conns[i], 0);
    if (t > stop_at + conn_timeout + 1) break;
  }
  if (write(outfd, &cnt, sizeof cnt) != (ssize_t)sizeof cnt) _exit(3);
  SSL_CTX_free(ctx);
}

int main(int argc, char **argv) {
  const char *file = NULL;
  long n = 1000;
  int conc = 64, procs = 1, opt;
  double tlimit = 60;
  per_addr = 16;
  conn_timeout = 10;
  while ((opt = getopt(argc, argv, "f:n:c:p:j:T:t:")) != -1) {
    switch (opt) {
      case 'f': file = optarg; break;
      case 'n': n = atol(optarg); break;
      case 'c': conc = atoi(optarg); break;
      case 'p': per_addr = atoi(optarg); break;
      case 'j': procs = atoi(optarg); break;
      case 'T': tlimit = atof(optarg); break;
      case 't': conn_timeout = atof(optarg); break;
      default:
        fprintf(stderr, "usage: tls_load -f TARGETS [-n TOTAL] [-c CONC] [-p PER_ADDR] [-j PROCS] [-T S] [-t S]\n");
        return 2;
    }
  }
  if (!file || n < 1 || conc < 1 || procs < 1 || per_addr < 1) {
    fprintf(stderr, "tls_load: bad arguments\n");
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  load_targets(file);
  int pfd[2];
  if (pipe(pfd) < 0) die("pipe");
  double t0 = now();
  /* per-address limit is per process: split it so the total holds */
  int pa = per_addr / procs > 0 ? per_addr / procs : 1;
  per_addr = pa;
  for (int w = 0; w < procs; w++) {
    pid_t pid = fork();
    if (pid < 0) die("fork");
    if (pid == 0) {
      close(pfd[0]);
      long mine = n / procs + (w < n % procs ? 1 : 0);
      int c = conc / procs + (w < conc % procs ? 1 : 0);
      worker(w, procs, mine, c > 0 ? c : 1, tlimit, pfd[1]);
      _exit(0);
    }
  }
  close(pfd[1]);
  struct counts sum = {0};
  for (int w = 0; w < procs; w++) {
    struct counts c;
    if (read(pfd[0], &c, sizeof c) != (ssize_t)sizeof c) break;
    sum.done += c.done;
    sum.no_starttls += c.no_starttls;
    for (int s = 0; s < ST_NSTAGES; s++) sum.failed[s] += c.failed[s];
    if (c.first_start && (!sum.first_start || c.first_start < sum.first_start)) sum.first_start = c.first_start;
    if (c.last_end > sum.last_end) sum.last_end = c.last_end;
  }
  while (wait(NULL) > 0) {}
  double wall = now() - t0;
  struct rusage ru;
  getrusage(RUSAGE_CHILDREN, &ru);
  double cpu_u = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6;
  double cpu_s = (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
  double span = sum.last_end > sum.first_start ? sum.last_end - sum.first_start : wall;
  long failed = 0;
  printf("{\"tool\":\"tls_load\",\"targets\":%d,\"addresses\":%d,\"sessions\":%ld,\"failed\":", ntargets, naddrs,
         sum.done);
  for (int s = 0; s < ST_NSTAGES; s++) failed += sum.failed[s];
  printf("%ld,\"failed_by_stage\":{", failed);
  for (int s = 0; s < ST_NSTAGES; s++) printf("%s\"%s\":%ld", s ? "," : "", stage_name[s], sum.failed[s]);
  printf("},\"no_starttls\":%ld,\"wall_s\":%.3f,\"span_s\":%.3f,\"rate\":%.1f,\"cpu_user_s\":%.3f,\"cpu_sys_s\":%.3f,"
         "\"cpu_us_per_session\":%.1f,\"procs\":%d,\"concurrency\":%d}\n",
         sum.no_starttls, wall, span, span > 0 ? (double)sum.done / span : 0, cpu_u, cpu_s,
         sum.done ? (cpu_u + cpu_s) * 1e6 / (double)sum.done : 0, procs, conc);
  return sum.done > 0 ? 0 : 1;
}
