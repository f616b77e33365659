/* Benchmark: Raft replication in a fault-free in-process 3-node cluster — entries committed per CPU second,
 * messages per committed entry, heap bytes per retained entry — against a same-process SHA-256 baseline. */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "raft/codec.h"
#include "raft/raft.h"
#include "util/buf.h"
#include "util/hash.h"

/*
 * The cluster: three cores of tcn_core (the daemon's core, no bug switches)
 * bootstrapped together, one leader. A round proposes `batch` entries of
 * ENTRY_BYTES at the leader, then pumps every ready to quiescence: messages go
 * straight to their receiver's tcn_raft_step, either as the structs the core
 * produced ("direct") or encoded and decoded by the codec ("codec"), with
 * zero network latency, so the figure is the cores' own cost. The
 * application applies every committed entry (it counts them) and takes a
 * tiny snapshot whenever asked (default limits: every 65,536 entries), so
 * memory stays bounded. Time is frozen after the election: no heartbeats,
 * no timeouts. Committed = the leader's commit index.
 *
 * Every entry costs at least three SHA-256 computations across the cluster
 * (the leader's chain hash, each follower's recomputation), which is why
 * the baseline is SHA-256 of 150-byte inputs (the chain hash input for a
 * 100-byte entry is 32 + 21 + 100 bytes).
 */

#define ENTRY_BYTES 100
#define NODES 3

static double cpu_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

typedef struct cluster {
    tcn_raft *r[NODES];
    uint64_t now;
    bool codec;
    tcn_buf enc;
    tcn_raft_decoder dec;
    uint64_t msgs, bytes, applied;
} cluster;

static void die(const char *what)
{
    fprintf(stderr, "bench_raft: %s\n", what);
    exit(1);
}

static int index_of(uint64_t id) { return (int)id - 1; }

static void deliver(cluster *c, const tcn_raft_msg *m)
{
    tcn_raft *to = c->r[index_of(m->to)];
    c->msgs++;
    if (!c->codec) {
        if (tcn_raft_step(to, m) != TCN_OK)
            die("step refused a message");
        return;
    }
    tcn_error err;
    c->enc.len = 0;
    if (tcn_raft_msg_encode(m, &c->enc, &err) != TCN_OK)
        die(err.msg);
    c->bytes += c->enc.len;
    tcn_raft_msg d;
    if (tcn_raft_msg_decode(&c->dec, c->enc.p, c->enc.len, &d, &err) != TCN_OK)
        die(err.msg);
    if (tcn_raft_step(to, &d) != TCN_OK)
        die("step refused a message");
}

/* Drains every ready until none is left. */
static void pump(cluster *c)
{
    for (int round = 0; round < 1000000; round++) {
        bool any = false;
        for (int i = 0; i < NODES; i++) {
            if (!tcn_raft_has_ready(c->r[i]))
                continue;
            tcn_raft_ready rd;
            tcn_raft_get_ready(c->r[i], &rd);
            any |= rd.n_msgs > 0 || rd.n_entries > 0;
            c->applied += rd.n_entries;
            for (size_t k = 0; k < rd.n_msgs; k++)
                deliver(c, &rd.msgs[k]);
            bool want = rd.snapshot_wanted;
            tcn_raft_advance(c->r[i]);
            if (want) {
                uint64_t a = tcn_raft_applied_index(c->r[i]);
                if (tcn_raft_snapshot_done(c->r[i], a, &a, sizeof(a)) != TCN_OK)
                    die("snapshot_done");
                any = true;
            }
        }
        if (!any)
            return;
    }
    die("the cluster does not settle");
}

static int leader_of(const cluster *c)
{
    for (int i = 0; i < NODES; i++)
        if (tcn_raft_role_of(c->r[i]) == TCN_RAFT_LEADER)
            return i;
    return -1;
}

static void cluster_start(cluster *c, bool codec, uint64_t snapshot_entries_max)
{
    memset(c, 0, sizeof(*c));
    c->codec = codec;
    const uint64_t ids[NODES] = {1, 2, 3};
    for (int i = 0; i < NODES; i++) {
        tcn_raft_options o;
        tcn_raft_options_default(&o, ids[i], 1);
        if (snapshot_entries_max != 0) {
            o.snapshot_entries_max = snapshot_entries_max;
            o.snapshot_log_bytes_max = 1ull << 40;
        }
        tcn_error err;
        if (tcn_raft_create(&c->r[i], &o, 0, &err) != TCN_OK)
            die(err.msg);
        if (tcn_raft_bootstrap(c->r[i], ids, NODES) != TCN_OK)
            die("bootstrap");
    }
    for (int t = 0; t < 10000 && leader_of(c) < 0; t++) {
        c->now += 10;
        for (int i = 0; i < NODES; i++)
            tcn_raft_tick(c->r[i], c->now);
        pump(c);
    }
    if (leader_of(c) < 0)
        die("no leader");
}

static void cluster_free(cluster *c)
{
    for (int i = 0; i < NODES; i++)
        tcn_raft_destroy(c->r[i]);
    tcn_buf_free(&c->enc);
    tcn_raft_decoder_free(&c->dec);
}

/* Proposes `batch` entries and pumps until they are committed. */
static void round_trip(cluster *c, int l, uint32_t batch, const uint8_t *payload)
{
    uint64_t idx = 0;
    for (uint32_t k = 0; k < batch; k++)
        if (tcn_raft_propose(c->r[l], payload, ENTRY_BYTES, &idx) != TCN_OK)
            die("propose");
    pump(c);
    if (tcn_raft_commit_index(c->r[l]) < idx)
        die("a round did not commit");
}

typedef struct result {
    double per_cpu_s, msgs_per_entry, bytes_per_entry, cpu;
    uint64_t entries;
} result;

static result run(bool codec, uint32_t batch, double min_s)
{
    cluster c;
    cluster_start(&c, codec, 0);
    int l = leader_of(&c);
    uint8_t payload[ENTRY_BYTES];
    for (int i = 0; i < ENTRY_BYTES; i++)
        payload[i] = (uint8_t)(i * 7);
    round_trip(&c, l, batch, payload); /* warm up: buffers grown */
    uint64_t c0 = tcn_raft_commit_index(c.r[l]), m0 = c.msgs, b0 = c.bytes;
    double t0 = cpu_s(), el;
    do {
        for (int k = 0; k < 64; k++)
            round_trip(&c, l, batch, payload);
        el = cpu_s() - t0;
    } while (el < min_s);
    result r;
    r.entries = tcn_raft_commit_index(c.r[l]) - c0;
    r.cpu = el;
    r.per_cpu_s = (double)r.entries / el;
    r.msgs_per_entry = (double)(c.msgs - m0) / (double)r.entries;
    r.bytes_per_entry = (double)(c.bytes - b0) / (double)r.entries;
    cluster_free(&c);
    return r;
}

/* Heap bytes per retained entry per node: the growth of the heap while the
 * three nodes retain `n` more committed entries (no snapshots). */
static double retained_bytes(uint64_t n)
{
    cluster c;
    cluster_start(&c, false, 1ull << 40);
    int l = leader_of(&c);
    uint8_t payload[ENTRY_BYTES] = {0};
    round_trip(&c, l, 1024, payload);
    struct mallinfo2 before = mallinfo2(); /* uordblks: arena chunks; hblkhd: mmap'd blocks (big arrays) */
    for (uint64_t k = 0; k < n; k += 1024)
        round_trip(&c, l, 1024, payload);
    for (int i = 0; i < NODES; i++)
        tcn_raft_tick(c.r[i], c.now + 1); /* a heartbeat carries the last commit to the followers */
    pump(&c);
    struct mallinfo2 after = mallinfo2();
    uint64_t kept = tcn_raft_last_index(c.r[l]) - tcn_raft_first_index(c.r[l]) + 1;
    for (int i = 0; i < NODES; i++)
        if (tcn_raft_last_index(c.r[i]) - tcn_raft_first_index(c.r[i]) + 1 < kept - 2048)
            die("a follower does not retain the log");
    double grown = (double)(after.uordblks + after.hblkhd) - (double)(before.uordblks + before.hblkhd);
    double per = grown / ((double)n * NODES);
    cluster_free(&c);
    return per;
}

/* SHA-256 of 150-byte inputs per CPU second, through the incremental calls
 * the log's chain hash uses (one_shot: through tcn_sha256, which OpenSSL 3
 * routes through EVP_Q_digest, fetching the algorithm on every call). */
static double sha_per_s(double min_s, bool one_shot)
{
    uint8_t in[150], out[TCN_SHA256_LEN];
    memset(in, 0x5a, sizeof(in));
    uint64_t n = 0;
    double t0 = cpu_s(), el;
    do {
        for (int k = 0; k < 4096; k++, n++) {
            in[0] = (uint8_t)n;
            if (one_shot) {
                tcn_sha256(in, sizeof(in), out);
            } else {
                tcn_sha256_ctx c;
                tcn_sha256_init(&c);
                tcn_sha256_update(&c, in, sizeof(in));
                tcn_sha256_final(&c, out);
            }
        }
        el = cpu_s() - t0;
    } while (el < min_s);
    return (double)n / el;
}

int main(int argc, char **argv)
{
    /* bench_raft [seconds per figure] [direct|codec] */
    double min_s = argc > 1 ? atof(argv[1]) : 1.0;
    if (min_s <= 0)
        min_s = 1.0;
    const char *only = argc > 2 ? argv[2] : NULL;
    double sha = sha_per_s(min_s, false);
    double sha_one_shot = sha_per_s(min_s / 4, true);
    printf("raft (3 nodes in one process, %d-byte entries, default options: batches of up to 1024 entries, "
           "snapshot every 65536):\n", ENTRY_BYTES);
    printf("  %-42s %12.0f /CPU s\n", "baseline: SHA-256 of 150 bytes", sha);
    printf("  %-42s %12.0f /CPU s\n", "  (tcn_sha256 one-shot, for comparison)", sha_one_shot);
    const uint32_t batches[] = {64, 1024};
    for (int codec = 0; codec <= 1; codec++)
        for (size_t b = 0; b < sizeof(batches) / sizeof(batches[0]); b++) {
            if (only != NULL && strcmp(only, codec ? "codec" : "direct") != 0)
                continue;
            result r = run(codec != 0, batches[b], min_s);
            char name[96];
            snprintf(name, sizeof(name), "committed, %s, %u proposals per round", codec ? "codec" : "direct",
                     batches[b]);
            printf("  %-42s %12.0f /CPU s  (%.2f x SHA-256; %.3f msgs/entry", name, r.per_cpu_s, r.per_cpu_s / sha,
                   r.msgs_per_entry);
            if (codec)
                printf(", %.1f wire bytes/entry", r.bytes_per_entry);
            printf("; %llu entries in %.2f s)%s\n", (unsigned long long)r.entries, r.cpu,
                   r.per_cpu_s >= 1e6 ? "" : "  BELOW TARGET 1,000,000");
        }
    printf("  %-42s %12.1f bytes (payload %d)\n", "heap per retained entry per node", retained_bytes(200000),
           ENTRY_BYTES);
    return 0;
}
