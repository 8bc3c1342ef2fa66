/* nfq_delay: adds a fixed one-way delay to every packet of an NFQUEUE queue.
 *
 * The kernel here has no netem qdisc. With
 *   iptables-legacy -t mangle -A OUTPUT -o lo -j NFQUEUE --queue-num N --queue-bypass
 * inside a network namespace, every loopback packet is handed to this program,
 * held DELAY ms and then accepted. Each direction of a loopback exchange leaves
 * through OUTPUT, so a 25 ms hold gives about 50 ms round-trip time.
 * Run it inside the same namespace as the rule (netlink is per namespace).
 *
 *   nfq_delay [-q QUEUE] [-d DELAY_MS] [-T MAX_SECONDS] [-r]
 *
 * -r: run with SCHED_FIFO priority so that a busy machine delays packets less
 * than the load would (the summary reports how late releases were).
 * Prints "ready" on stdout once the queue is bound (add the rule after that).
 * Stops by itself after MAX_SECONDS (default 900), or on SIGTERM/SIGINT; before
 * it exits it accepts every packet it still holds. With --queue-bypass on the
 * rule, packets pass undelayed once it is gone. Prints a JSON summary on exit.
 *
 * The delay is constant, so packets leave in arrival order: a FIFO of packet
 * ids, released with one batch verdict (every id up to the newest due one).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <libnetfilter_queue/libnetfilter_queue.h>
#include <libnetfilter_queue/linux_nfnetlink_queue.h>
#include <linux/netfilter.h> /* NF_ACCEPT; after the libc network headers */
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define RING (1u << 20)

static uint32_t ring_id[RING];
static uint64_t ring_due[RING]; /* ns, CLOCK_MONOTONIC */
static uint32_t head, tail;     /* head: oldest held; tail: next free */
static uint64_t delay_ns;
static uint64_t packets, overflow, enobufs, max_held, released;
static uint64_t late_sum_ns, late_max_ns; /* release time minus due time */
static volatile sig_atomic_t stop;

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int on_packet(struct nfq_q_handle *qh, struct nfgenmsg *msg, struct nfq_data *nfa, void *data) {
  (void)msg;
  (void)data;
  struct nfqnl_msg_packet_hdr *ph = nfq_get_msg_packet_hdr(nfa);
  if (!ph) return 0;
  uint32_t id = ntohl(ph->packet_id);
  packets++;
  if (tail - head >= RING) {
    /* cannot hold it: let it through now rather than lose it */
    overflow++;
    nfq_set_verdict(qh, id, NF_ACCEPT, 0, NULL);
    return 0;
  }
  ring_id[tail % RING] = id;
  ring_due[tail % RING] = now_ns() + delay_ns;
  tail++;
  if (tail - head > max_held) max_held = tail - head;
  return 0;
}

static void release_due(struct nfq_q_handle *qh, uint64_t t, int all) {
  uint32_t last = 0;
  int any = 0;
  while (head != tail && (all || ring_due[head % RING] <= t)) {
    last = ring_id[head % RING];
    if (!all) {
      uint64_t late = t - ring_due[head % RING];
      late_sum_ns += late;
      if (late > late_max_ns) late_max_ns = late;
      released++;
    }
    any = 1;
    head++;
  }
  if (any) nfq_set_verdict_batch(qh, last, NF_ACCEPT);
}

static void on_signal(int s) {
  (void)s;
  stop = 1;
}

int main(int argc, char **argv) {
  int queue = 0, opt, rt = 0;
  double delay_ms = 25, max_s = 900;
  while ((opt = getopt(argc, argv, "q:d:T:r")) != -1) {
    switch (opt) {
      case 'q': queue = atoi(optarg); break;
      case 'd': delay_ms = atof(optarg); break;
      case 'T': max_s = atof(optarg); break;
      case 'r': rt = 1; break;
      default:
        fprintf(stderr, "usage: nfq_delay [-q QUEUE] [-d DELAY_MS] [-T MAX_SECONDS] [-r]\n");
        return 2;
    }
  }
  delay_ns = (uint64_t)(delay_ms * 1e6);
  if (rt) {
    struct sched_param sp = {.sched_priority = 10};
    if (sched_setscheduler(0, SCHED_FIFO, &sp) < 0) perror("nfq_delay: SCHED_FIFO (continuing without)");
  }
  struct sigaction sa = {.sa_handler = on_signal};
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGHUP, &sa, NULL);

  struct nfq_handle *h = nfq_open();
  if (!h) { perror("nfq_open"); return 1; }
  struct nfq_q_handle *qh = nfq_create_queue(h, (uint16_t)queue, on_packet, NULL);
  if (!qh) { perror("nfq_create_queue (is another program bound to this queue?)"); nfq_close(h); return 1; }
  if (nfq_set_mode(qh, NFQNL_COPY_META, 0) < 0) { perror("nfq_set_mode"); return 1; }
  nfq_set_queue_maxlen(qh, 200000);
  /* GSO: take loopback's large segments whole instead of having the kernel split them */
  nfq_set_queue_flags(qh, NFQA_CFG_F_GSO, NFQA_CFG_F_GSO);
  nfnl_rcvbufsiz(nfq_nfnlh(h), 64 * 1024 * 1024);
  int fd = nfq_fd(h);
  printf("ready\n");
  fflush(stdout);

  uint64_t t0 = now_ns(), end = t0 + (uint64_t)(max_s * 1e9);
  char buf[65536] __attribute__((aligned));
  while (!stop) {
    uint64_t t = now_ns();
    if (t >= end) break;
    release_due(qh, t, 0);
    uint64_t wait = 100000000ull;
    if (head != tail) {
      uint64_t due = ring_due[head % RING];
      wait = due > t ? due - t : 0;
    }
    struct timespec ts = {.tv_sec = (time_t)(wait / 1000000000ull), .tv_nsec = (long)(wait % 1000000000ull)};
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    int n = ppoll(&pfd, 1, &ts, NULL);
    if (n > 0) {
      for (;;) {
        ssize_t r = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
        if (r > 0) { nfq_handle_packet(h, buf, (int)r); continue; }
        if (r < 0 && errno == ENOBUFS) { enobufs++; continue; }
        break;
      }
    }
  }
  release_due(qh, 0, 1);
  nfq_destroy_queue(qh);
  nfq_close(h);
  fprintf(stderr,
          "{\"tool\":\"nfq_delay\",\"queue\":%d,\"delay_ms\":%.1f,\"packets\":%llu,\"max_held\":%llu,"
          "\"overflow\":%llu,\"enobufs\":%llu,\"late_avg_ms\":%.3f,\"late_max_ms\":%.3f,\"seconds\":%.1f}\n",
          queue, delay_ms, (unsigned long long)packets, (unsigned long long)max_held, (unsigned long long)overflow,
          (unsigned long long)enobufs, released ? (double)late_sum_ns / (double)released / 1e6 : 0.0,
          (double)late_max_ns / 1e6, (double)(now_ns() - t0) / 1e9);
  return 0;
}
