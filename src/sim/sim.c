/* tcn-sim: the deterministic cluster simulator's command line, set-up, step loop and its two phases (faults, then liveness). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/sim.h"
#include "util/assert.h"

/*
 * tcn-sim --seed S [--steps N] [--nodes 3|5] [--faults LIST] [--bug NAME] [--verbose]
 *
 * Prints the seed and the parameters it chose first. On success the last
 * line is exactly
 *   seed=S steps=N commits=C elections=E violations=0
 * and the exit status 0. On a violation: a "VIOLATION: <checker>: <details>"
 * line, a "reproduce: ..." line with the command that replays the run
 * exactly, and exit status 1. Usage errors exit 2. A run whose cluster is
 * wedged (at the heal, by Raft's own rules no set of running nodes can
 * elect a leader; docs/SIMULATION.md tells the one shape found and its fix)
 * prints a "WEDGED: ..." line and a reproduce line and exits 3: a failure.
 * Every safety check still ran on a wedged run up to its end.
 *
 * A step advances simulated time by SIM_STEP_US: faults act, the membership
 * manager and the clients act, the messages due are delivered (each one
 * drains its receiver's ready), every machine's clock advances and its core
 * ticks; then the checkers run over every log.
 */

static const struct {
    const char *name;
    uint32_t bit;
} fault_names[] = {
    {"delay", SIM_F_DELAY},         {"loss", SIM_F_LOSS},   {"dup", SIM_F_DUP},
    {"reorder", SIM_F_REORDER},     {"partition", SIM_F_PARTITION}, {"crash", SIM_F_CRASH},
    {"pause", SIM_F_PAUSE},         {"drift", SIM_F_DRIFT}, {"membership", SIM_F_MEMBERSHIP},
    {"snapshot", SIM_F_SNAPSHOT},   {"transfer", SIM_F_TRANSFER},
};

static const struct {
    const char *name;
    sim_bug bug;
    uint32_t raft;
    bool payouts; /* a bug of the payout layer: needs --workload payouts */
} bug_names[] = {
    {"none", SIM_BUG_NONE, 0, false},
    {"figure8", SIM_BUG_FIGURE8, TCN_RAFT_BUG_FIGURE8, false},
    {"vote_twice", SIM_BUG_VOTE_TWICE, TCN_RAFT_BUG_VOTE_TWICE, false},
    {"skip_log_matching", SIM_BUG_SKIP_LOG_MATCHING, TCN_RAFT_BUG_SKIP_LOG_MATCHING, false},
    {"rejoin_same_id", SIM_BUG_REJOIN_SAME_ID, 0, false},
    {"release_before_commit", SIM_BUG_RELEASE_BEFORE_COMMIT, 0, true},
    {"refund_before_landing", SIM_BUG_REFUND_BEFORE_LANDING, 0, true},
    {"skip_resume", SIM_BUG_SKIP_RESUME, 0, true},
    {"trust_lagging_status", SIM_BUG_TRUST_LAGGING_STATUS, 0, true},
    {"refund_empties_escrow", SIM_BUG_REFUND_EMPTIES_ESCROW, 0, true},
};

static bool bug_names_payouts(sim_bug b)
{
    for (size_t i = 0; i < TCN_ARRAY_LEN(bug_names); i++)
        if (bug_names[i].bug == b)
            return bug_names[i].payouts;
    return false;
}

static void usage(FILE *out)
{
    fprintf(out, "usage: tcn-sim --seed S [--steps N] [--nodes 3|5] [--faults LIST] [--workload kv|payouts] [--bug NAME] "
                 "[--verbose]\n"
                 "  --seed S      the one seed that drives the run (required)\n"
                 "  --workload W  kv (default): KV registers checked for linearizability;\n"
                 "                payouts: the coordinator state machine, its executor and the chain model\n"
                 "  --steps N     steps of the fault phase, %u ms each (default %u)\n"
                 "  --nodes 3|5   voters at genesis (default: the seed chooses)\n"
                 "  --faults LIST comma list of",
            SIM_STEP_US / 1000, SIM_STEPS_DEFAULT);
    for (size_t i = 0; i < TCN_ARRAY_LEN(fault_names); i++)
        fprintf(out, "%s%s", i ? "," : " ", fault_names[i].name);
    fprintf(out, "; or all (default), none\n"
                 "  --bug NAME    a deliberately broken variant:");
    for (size_t i = 1; i < TCN_ARRAY_LEN(bug_names); i++)
        fprintf(out, "%s%s", i > 1 ? "," : " ", bug_names[i].name);
    fprintf(out, " (release_before_commit, refund_before_landing, skip_resume, trust_lagging_status need --workload payouts)");
    fprintf(out, "\n  --verbose     print every event and a digest of the whole trace\n"
                 "exit status: 0 passed, 1 violation, 2 usage, 3 wedged (see docs/SIMULATION.md)\n");
}

static bool parse_u64(const char *p, uint64_t *out)
{
    if (p == NULL || *p < '0' || *p > '9')
        return false;
    uint64_t v = 0;
    for (; *p; p++) {
        if (*p < '0' || *p > '9' || v > (UINT64_MAX - 9) / 10)
            return false;
        v = v * 10 + (uint64_t)(*p - '0');
    }
    *out = v;
    return true;
}

static bool parse_faults(const char *list, uint32_t *out)
{
    if (strcmp(list, "all") == 0) {
        *out = SIM_F_ALL;
        return true;
    }
    if (strcmp(list, "none") == 0) {
        *out = 0;
        return true;
    }
    uint32_t m = 0;
    const char *p = list;
    for (size_t guard = 0; guard < 64; guard++) {
        const char *e = strchr(p, ',');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        bool found = false;
        for (size_t i = 0; i < TCN_ARRAY_LEN(fault_names); i++)
            if (strlen(fault_names[i].name) == n && strncmp(fault_names[i].name, p, n) == 0) {
                m |= fault_names[i].bit;
                found = true;
            }
        if (!found)
            return false;
        if (e == NULL) {
            *out = m;
            return true;
        }
        p = e + 1;
    }
    return false;
}

static void faults_str(uint32_t m, char *out, size_t cap)
{
    if (m == SIM_F_ALL) {
        snprintf(out, cap, "all");
        return;
    }
    if (m == 0) {
        snprintf(out, cap, "none");
        return;
    }
    size_t k = 0;
    out[0] = 0;
    for (size_t i = 0; i < TCN_ARRAY_LEN(fault_names); i++)
        if ((m & fault_names[i].bit) && k + 16 < cap)
            k += (size_t)snprintf(out + k, cap - k, "%s%s", k ? "," : "", fault_names[i].name);
}

/* --- Shared services ---------------------------------------------------------- */

bool sim_has(const sim *s, uint32_t fault) { return (s->opt.faults & fault) != 0; }

uint64_t sim_election_max_global_ms(const sim *s)
{
    /* The slowest clock (rate 0.85 with drift) stretches every timeout. */
    uint64_t e = s->ropts.election_timeout_ms_max;
    return sim_has(s, SIM_F_DRIFT) ? e * 100 / 85 + 1 : e;
}

void sim_violation(sim *s, const char *checker, const char *fmt, ...)
{
    if (s->violated)
        return;
    s->violated = true;
    int k = snprintf(s->violation, sizeof(s->violation), "%s: ", checker);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->violation + k, sizeof(s->violation) - (size_t)k, fmt, ap);
    va_end(ap);
    sim_trace(s, "VIOLATION found: %s", s->violation);
}

void sim_trace_bytes(sim *s, const void *p, size_t n) { tcn_sha256_update(&s->trace, p, n); }

void sim_trace(sim *s, const char *fmt, ...)
{
    if (!s->opt.verbose)
        return;
    char line[1024];
    int k = snprintf(line, sizeof(line), "[%10.3f] ", (double)s->now_us / 1e6);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line + k, sizeof(line) - (size_t)k, fmt, ap);
    va_end(ap);
    puts(line);
    sim_trace_bytes(s, line, strlen(line));
}

/* --- Set-up ------------------------------------------------------------------- */

static void choose_params(sim *s)
{
    sim_rng *r = &s->rng_params;
    uint32_t nodes = sim_rng_below(r, 2) ? 5 : 3;
    s->n_nodes = s->opt.nodes ? s->opt.nodes : nodes;
    tcn_raft_options *o = &s->ropts;
    tcn_raft_options_default(o, 0, 0);
    o->heartbeat_ms = (uint32_t)sim_rng_range(r, 2, 8) * 10;
    o->election_timeout_ms_min = o->heartbeat_ms * (uint32_t)sim_rng_range(r, 5, 12);
    o->election_timeout_ms_max = 2 * o->election_timeout_ms_min;
    uint64_t batch = sim_rng_below(r, 3);
    /* One-entry batches expose commit-rule bugs (Raft thesis Figure 3.7). */
    o->append_entries_max = batch == 0 ? 1 : batch == 1 ? (uint32_t)sim_rng_range(r, 2, 8)
                                                        : (uint32_t)sim_rng_range(r, 9, 256);
    o->append_bytes_max = (uint32_t)sim_rng_range(r, 512, 65536);
    o->inflight_max = (uint32_t)sim_rng_range(r, 1, 16);
    o->promote_lag_max = sim_rng_range(r, 1, 64);
    o->uncommitted_bytes_max = sim_rng_range(r, 8192, 262144);
    uint64_t entries_max = sim_rng_range(r, 8, 150), log_bytes = sim_rng_range(r, 2048, 65536);
    uint64_t trailing = sim_rng_range(r, 1, 32);
    uint32_t chunk = (uint32_t)sim_rng_range(r, 64, 2048);
    uint32_t pad = (uint32_t)sim_rng_range(r, 0, 3000);
    if (sim_has(s, SIM_F_SNAPSHOT)) {
        /* Small limits: snapshots, compaction and InstallSnapshot all the time. */
        o->snapshot_entries_max = entries_max;
        o->snapshot_log_bytes_max = log_bytes;
        o->snapshot_trailing = trailing;
        o->snapshot_chunk_bytes = chunk;
        s->snap_pad = pad;
    } else {
        o->snapshot_entries_max = 1ull << 40;
        o->snapshot_log_bytes_max = 1ull << 40;
    }
    uint64_t flags = sim_rng_below(r, 10);
    o->flags = flags == 0 ? TCN_RAFT_FLAG_NO_PRE_VOTE : flags == 1 ? TCN_RAFT_FLAG_NO_CHECK_QUORUM : 0;
    for (size_t i = 0; i < TCN_ARRAY_LEN(bug_names); i++)
        if (bug_names[i].bug == s->opt.bug)
            o->bugs = bug_names[i].raft;
    sim_rng raft;
    sim_rng_init(&raft, s->opt.seed, SIM_STREAM_RAFT);
    s->raft_seed = sim_rng_next(&raft);
}

static void sim_init(sim *s, const sim_options *opt)
{
    memset(s, 0, sizeof(*s));
    s->opt = *opt;
    uint64_t seed = opt->seed;
    sim_rng_init(&s->rng_params, seed, SIM_STREAM_PARAMS);
    sim_rng_init(&s->rng_net, seed, SIM_STREAM_NET);
    sim_rng_init(&s->rng_faults, seed, SIM_STREAM_FAULTS);
    sim_rng_init(&s->rng_wl, seed, SIM_STREAM_WORKLOAD);
    sim_rng_init(&s->rng_members, seed, SIM_STREAM_MEMBERS);
    sim_rng_init(&s->rng_order, seed, SIM_STREAM_ORDER);
    tcn_sha256_init(&s->trace);
    choose_params(s);
    chk_init(s);
    faults_init(s);
    net_init(s);
    members_init(s);
    wl_init(s);
    if (s->opt.workload == SIM_WL_PAYOUTS)
        pay_init(s);
    s->next_id = 101;
}

/* Genesis: machines 0..n-1 boot nodes 1..n, each bootstrapping {1..n}. */
static void sim_genesis(sim *s)
{
    uint64_t ids[SIM_MACHINES_MAX];
    for (uint32_t i = 0; i < s->n_nodes; i++)
        ids[i] = i + 1;
    for (uint32_t i = 0; i < s->n_nodes; i++)
        node_boot(s, i, ids[i], ids, s->n_nodes);
}

static void sim_free(sim *s)
{
    node_free_all(s);
    net_free(s);
    wl_free(s);
    if (s->opt.workload == SIM_WL_PAYOUTS)
        pay_free(s);
    chk_free(s);
}

/* --- The step ------------------------------------------------------------------ */

static void sim_step(sim *s)
{
    s->step++;
    s->now_us += SIM_STEP_US;
    faults_step(s);
    if (!s->violated)
        members_step(s);
    if (!s->violated) {
        s->event_us = s->now_us;
        if (s->opt.workload == SIM_WL_PAYOUTS)
            pay_step(s);
        else
            wl_step(s);
    }
    if (!s->violated)
        net_deliver_due(s);
    /* Machines tick in a seeded order that changes every step. */
    uint32_t order[SIM_MACHINES_MAX];
    for (uint32_t i = 0; i < s->n_machines; i++)
        order[i] = i;
    for (uint32_t i = s->n_machines; i > 1; i--) {
        uint32_t j = (uint32_t)sim_rng_below(&s->rng_order, i);
        uint32_t t = order[i - 1];
        order[i - 1] = order[j];
        order[j] = t;
    }
    for (uint32_t k = 0; k < s->n_machines && !s->violated; k++) {
        node_advance_clock(s, order[k]);
        node_tick(s, order[k]);
    }
    if (!s->violated)
        chk_step(s);
    if (!s->violated && s->opt.workload == SIM_WL_PAYOUTS)
        pay_check_step(s);
}

static void print_ids(const sim *s, uint32_t mask, char *out, size_t cap)
{
    size_t k = 0;
    out[0] = 0;
    for (uint32_t i = 0; i < SIM_MACHINES_MAX && k + 24 < cap; i++)
        if ((mask >> i) & 1u)
            k += (size_t)snprintf(out + k, cap - k, "%s%llu", k ? "," : "", (unsigned long long)s->m[i].id);
}

/* Liveness phase: a healed majority must elect a leader and commit a new
 * client write, applied by every healed node, within the bound. */
static void liveness(sim *s)
{
    uint32_t healed = faults_heal_majority(s);
    s->liveness = true;
    s->wl.heal_ev = s->wl.ev;
    bool payouts = s->opt.workload == SIM_WL_PAYOUTS;
    /* Payouts need more: proposals, the chain's latency, its slots. */
    uint64_t bound_ms = 30 * sim_election_max_global_ms(s) + (payouts ? 30000 : 5000);
    char why[256] = "";
    char ids[256];
    print_ids(s, healed, ids, sizeof(ids));
    printf("liveness: faults stop at %.3f s; healed nodes {%s}, the rest stays cut off; bound %llu ms\n",
           (double)s->now_us / 1e6, ids, (unsigned long long)bound_ms);
    uint64_t start = s->now_us;
    uint64_t steps = bound_ms * 1000 / SIM_STEP_US;
    for (uint64_t k = 0; k < steps && !s->violated; k++) {
        sim_step(s);
        uint64_t idx = payouts ? pay_liveness_index(s) : wl_liveness_index(s);
        int l = node_leader(s);
        if (idx == 0 || l < 0 || !((healed >> l) & 1u))
            continue;
        /* Every healed member of the leader's configuration (a healed node
         * may hold a stale configuration that the cluster left behind). */
        const tcn_raft_config *c = tcn_raft_config_of(s->m[l].r);
        bool all = true;
        for (uint32_t i = 0; i < s->n_machines; i++)
            if (((healed >> i) & 1u) && s->m[i].up && tcn_raft_config_find(c, s->m[i].id) != NULL &&
                s->m[i].applied < idx)
                all = false;
        if (all && payouts && !pay_settled(s, why, sizeof(why)))
            all = false;
        if (all) {
            printf("liveness: leader %llu (term %llu); a new write at index %llu applied by every healed node%s "
                   "after %llu ms\n",
                   (unsigned long long)s->m[l].id, (unsigned long long)tcn_raft_term(s->m[l].r),
                   (unsigned long long)idx, payouts ? ", every due payout landed once and recorded" : "",
                   (unsigned long long)((s->now_us - start) / 1000));
            return;
        }
    }
    if (s->violated)
        return;
    int l = node_leader(s);
    char detail[1536];
    size_t k = (size_t)snprintf(detail, sizeof(detail), "leader %llu;",
                                l >= 0 ? (unsigned long long)s->m[l].id : 0ull);
    for (uint32_t i = 0; i < s->n_machines && k + 128 < sizeof(detail); i++) {
        const sim_node *nd = &s->m[i];
        if (!nd->up)
            continue;
        tcn_raft_entry e;
        uint64_t last = tcn_raft_last_index(nd->r);
        uint64_t last_term = tcn_raft_entry_at(nd->r, last, &e) ? e.term : 0;
        k += (size_t)snprintf(detail + k, sizeof(detail) - k,
                              " node %llu%s %s t%llu last %llu/t%llu commit %llu, %u voters@%llu;",
                              (unsigned long long)nd->id, ((healed >> i) & 1u) ? "*" : "",
                              tcn_raft_role_name(tcn_raft_role_of(nd->r)), (unsigned long long)tcn_raft_term(nd->r),
                              (unsigned long long)last, (unsigned long long)last_term,
                              (unsigned long long)tcn_raft_commit_index(nd->r),
                              tcn_raft_config_voters(tcn_raft_config_of(nd->r)),
                              (unsigned long long)tcn_raft_config_index(nd->r));
    }
    if (s->faults.wedged) {
        /* Not the core's fault: by Raft's own rules nobody can win. */
        s->wedged = true;
        snprintf(s->wedge, sizeof(s->wedge),
                 "liveness: even all running nodes {%s} cannot elect a leader by Raft's rules (no node that may "
                 "campaign holds the most up-to-date log among a quorum of its configuration); nothing committed "
                 "within %llu ms (%s)",
                 ids, (unsigned long long)bound_ms, detail);
        return;
    }
    if (payouts && why[0] != 0 && pay_liveness_index(s) != 0)
        sim_violation(s, "liveness", "payouts not settled by the healed nodes {%s} within %llu ms: %s (%s)", ids,
                      (unsigned long long)bound_ms, why, detail);
    else
        sim_violation(s, "liveness", "no new write committed and applied by the healed nodes {%s} within %llu ms (%s)",
                      ids, (unsigned long long)bound_ms, detail);
}

static int run(const sim_options *opt)
{
    sim *s = calloc(1, sizeof(*s));
    TCN_ASSERT(s != NULL);
    char fl[256];
    faults_str(opt->faults, fl, sizeof(fl));
    const char *bug = "none";
    for (size_t i = 0; i < TCN_ARRAY_LEN(bug_names); i++)
        if (bug_names[i].bug == opt->bug)
            bug = bug_names[i].name;
    printf("seed=%llu\n", (unsigned long long)opt->seed);
    fflush(stdout);
    sim_init(s, opt);
    const tcn_raft_options *o = &s->ropts;
    printf("params: nodes=%u steps=%llu faults=%s workload=%s bug=%s heartbeat=%ums election=%u-%ums batch=%u inflight=%u "
           "snapshot=%s clients=%u\n",
           s->n_nodes, (unsigned long long)opt->steps, fl, opt->workload == SIM_WL_PAYOUTS ? "payouts" : "kv", bug,
           o->heartbeat_ms, o->election_timeout_ms_min,
           o->election_timeout_ms_max, o->append_entries_max, o->inflight_max,
           sim_has(s, SIM_F_SNAPSHOT) ? "small" : "off", s->wl.n_clients);
    sim_genesis(s);
    for (uint64_t k = 0; k < opt->steps && !s->violated; k++)
        sim_step(s);
    if (!s->violated)
        liveness(s);
    if (!s->violated) /* wedged or not: safety holds either way */
        s->opt.workload == SIM_WL_PAYOUTS ? pay_final_check(s) : wl_final_check(s);
    uint64_t snaps = 0, restores = 0;
    for (uint32_t i = 0; i < SIM_MACHINES_MAX; i++) {
        snaps += s->m[i].snapshots_taken;
        restores += s->m[i].snapshots_restored;
    }
    const sim_faults *f = &s->faults;
    printf("stats: messages sent %llu delivered %llu dropped %llu duplicated %llu; ops %u (acked writes %llu, reads "
           "%llu, failed %llu, unknown %llu) on %llu keys; snapshots %llu, installed %llu; partitions %llu crashes "
           "%llu pauses %llu transfers %llu; membership changes %llu; scenarios",
           (unsigned long long)s->net.sent, (unsigned long long)s->net.delivered, (unsigned long long)s->net.dropped,
           (unsigned long long)s->net.duplicated, s->wl.n_ops, (unsigned long long)s->wl.acked_writes,
           (unsigned long long)s->wl.acked_reads, (unsigned long long)s->wl.failed,
           (unsigned long long)s->wl.unknown, (unsigned long long)s->chk.lin_keys, (unsigned long long)snaps,
           (unsigned long long)restores, (unsigned long long)f->partitions, (unsigned long long)f->crashes,
           (unsigned long long)f->pauses, (unsigned long long)f->transfers, (unsigned long long)s->members.changes);
    for (int k = 1; k < SIM_SCN_COUNT_; k++)
        printf(" %s %llu/%llu", faults_scenario_name((sim_scenario)k), (unsigned long long)f->completed[k],
               (unsigned long long)f->started[k]);
    printf("\n");
    if (opt->workload == SIM_WL_PAYOUTS)
        pay_stats(s);
    if (opt->verbose) {
        uint8_t d[TCN_SHA256_LEN];
        tcn_sha256_final(&s->trace, d);
        printf("trace-digest=");
        for (int i = 0; i < TCN_SHA256_LEN; i++)
            printf("%02x", d[i]);
        printf("\n");
    }
    int rc = 0;
    if (s->wedged && !s->violated) {
        printf("WEDGED: %s\n", s->wedge);
        printf("reproduce: %s --seed %llu --steps %llu --nodes %u --faults %s --workload %s --bug %s\n", opt->argv0,
               (unsigned long long)opt->seed, (unsigned long long)opt->steps, s->n_nodes, fl,
               opt->workload == SIM_WL_PAYOUTS ? "payouts" : "kv", bug);
        rc = 3;
    } else if (s->violated) {
        printf("VIOLATION: %s\n", s->violation);
        printf("reproduce: %s --seed %llu --steps %llu --nodes %u --faults %s --workload %s --bug %s\n", opt->argv0,
               (unsigned long long)opt->seed, (unsigned long long)opt->steps, s->n_nodes, fl,
               opt->workload == SIM_WL_PAYOUTS ? "payouts" : "kv", bug);
        rc = 1;
    } else {
        printf("seed=%llu steps=%llu commits=%llu elections=%llu violations=0\n", (unsigned long long)opt->seed,
               (unsigned long long)s->step, (unsigned long long)s->chk.commit_max,
               (unsigned long long)s->chk.elections);
    }
    sim_free(s);
    free(s);
    return rc;
}

int main(int argc, char **argv)
{
    sim_options opt = {.steps = SIM_STEPS_DEFAULT, .faults = SIM_F_ALL, .argv0 = argv[0]};
    bool have_seed = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        uint64_t n;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(a, "--verbose") == 0 || strcmp(a, "-v") == 0) {
            opt.verbose = true;
        } else if (strcmp(a, "--seed") == 0 && parse_u64(v, &opt.seed)) {
            have_seed = true;
            i++;
        } else if (strcmp(a, "--steps") == 0 && parse_u64(v, &n) && n <= SIM_STEPS_MAX) {
            opt.steps = n;
            i++;
        } else if (strcmp(a, "--nodes") == 0 && parse_u64(v, &n) && (n == 3 || n == 5)) {
            opt.nodes = (uint32_t)n;
            i++;
        } else if (strcmp(a, "--faults") == 0 && v != NULL && parse_faults(v, &opt.faults)) {
            i++;
        } else if (strcmp(a, "--workload") == 0 && v != NULL && (strcmp(v, "kv") == 0 || strcmp(v, "payouts") == 0)) {
            opt.workload = strcmp(v, "kv") == 0 ? SIM_WL_KV : SIM_WL_PAYOUTS;
            i++;
        } else if (strcmp(a, "--bug") == 0 && v != NULL) {
            bool found = false;
            for (size_t k = 0; k < TCN_ARRAY_LEN(bug_names); k++)
                if (strcmp(v, bug_names[k].name) == 0) {
                    opt.bug = bug_names[k].bug;
                    found = true;
                }
            if (!found) {
                fprintf(stderr, "tcn-sim: unknown bug '%s'\n", v);
                usage(stderr);
                return 2;
            }
            i++;
        } else {
            fprintf(stderr, "tcn-sim: bad or unknown option '%s'%s%s\n", a, v ? " " : "", v ? v : "");
            usage(stderr);
            return 2;
        }
    }
    if (!have_seed) {
        fprintf(stderr, "tcn-sim: --seed is required\n");
        usage(stderr);
        return 2;
    }
    for (size_t k = 0; k < TCN_ARRAY_LEN(bug_names); k++)
        if (bug_names[k].bug == opt.bug && bug_names[k].payouts && opt.workload != SIM_WL_PAYOUTS) {
            fprintf(stderr, "tcn-sim: --bug %s needs --workload payouts\n", bug_names[k].name);
            usage(stderr);
            return 2;
        }
    if (bug_names_payouts(opt.bug) && !tcn_exec_bugs_compiled()) {
        fprintf(stderr, "tcn-sim: this build's executor has no bug switches\n");
        return 2;
    }
    if (opt.bug != SIM_BUG_NONE && opt.bug != SIM_BUG_REJOIN_SAME_ID && !bug_names_payouts(opt.bug) &&
        !tcn_raft_bugs_compiled()) {
        fprintf(stderr, "tcn-sim: this build's Raft core has no bug switches\n");
        return 2;
    }
    return run(&opt);
}
