/* The node's event loop and its Raft driver: messages between the mesh and
 * the core, ticks, readies acted on in the order raft.h prescribes, and the
 * committed entries applied to the state (through a queue, since the
 * executor's thread may be reading the state: the loop never blocks). */
#include "node/node.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>
#include <event2/thread.h>
#include <sodium.h>

#include "node/node_internal.h"
#include "raft/codec.h"
#include "state/cmd.h"
#include "util/encoding.h"
#include "util/log.h"
#include "util/secmem.h"

/* How often the core is ticked, at most, and at least (ms). */
#define NODE_TICK_DIVISOR 5u
/* A proposal waited on longer than this is answered "timed out". */
#define NODE_WAIT_MS_MAX 15000u
/* A stopping leader waits this long for the hand-over before leaving. */
#define NODE_STOP_HANDOVER_MS 2000

uint64_t node_mono_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000u + (uint64_t)t.tv_nsec / 1000000u;
}

uint64_t node_wall_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (uint64_t)t.tv_sec * 1000u + (uint64_t)t.tv_nsec / 1000000u;
}

static void u64s(char *out, size_t cap, uint64_t v) { snprintf(out, cap, "%llu", (unsigned long long)v); }

static void hex_id(char out[17], uint64_t id) { snprintf(out, 17, "%016llx", (unsigned long long)id); }

void node_fail(tcn_node *n, int code, const char *msg)
{
    if (n->fatal == TCN_OK) {
        n->fatal = code;
        size_t k = strlen(msg);
        if (k >= sizeof(n->fatal_msg))
            k = sizeof(n->fatal_msg) - 1;
        memcpy(n->fatal_msg, msg, k);
        n->fatal_msg[k] = '\0';
        tcn_log(TCN_LOG_ERROR, "node stopping", "why", msg, NULL);
    }
    event_base_loopbreak(n->base);
}

/* ---- waiters (API proposals) ------------------------------------------------------ */

static void waiter_answer(tcn_node *n, size_t i, int code, const tcn_state_result *res)
{
    node_waiter w = n->waiters[i];
    n->waiters[i] = n->waiters[--n->waiters_n];
    w.done(w.arg, code, res);
}

/* Entry `index` of `term` was applied with res (NULL: not a command). */
static void waiters_on_apply(tcn_node *n, uint64_t index, uint64_t term, const tcn_state_result *res)
{
    for (size_t i = 0; i < n->waiters_n;) {
        node_waiter *w = &n->waiters[i];
        if (w->index == index) {
            if (w->term == term && res != NULL)
                waiter_answer(n, i, TCN_OK, res);
            else
                waiter_answer(n, i, TCN_ERR_NOT_LEADER, NULL); /* another leader's entry took the index */
            continue;
        }
        if (w->index < index) { /* skipped by a snapshot: its fate is unknown here */
            waiter_answer(n, i, TCN_ERR_NOT_LEADER, NULL);
            continue;
        }
        i++;
    }
}

static void waiters_expire(tcn_node *n, uint64_t now)
{
    for (size_t i = 0; i < n->waiters_n;) {
        if (n->waiters[i].deadline_ms <= now) {
            waiter_answer(n, i, TCN_ERR_BUSY, NULL);
            continue;
        }
        i++;
    }
}

/* Acts on the core's ready once the loop has run every callback that is
 * ready now: proposals and messages that arrive together (16 clients'
 * writes, a burst of answers) then leave in one AppendEntries per peer
 * instead of one each. */
static void on_drain(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    tcn_node *n = arg;
    n->drain_scheduled = false;
    node_drain(n);
}

void node_drain_soon(tcn_node *n)
{
    if (n->drain_scheduled)
        return;
    n->drain_scheduled = true;
    event_active(n->ev_drain, EV_TIMEOUT, 0);
}

int node_propose(tcn_node *n, const uint8_t *cmd, size_t len, uint64_t *index)
{
    if (n->stopping)
        return TCN_ERR_NOT_LEADER;
    uint64_t idx = 0;
    int rc = tcn_raft_propose(n->raft, cmd, len, &idx);
    if (rc == TCN_OK) {
        if (index)
            *index = idx;
        node_drain_soon(n);
    }
    return rc;
}

/* The API's propose: answered through done once applied. */
int node_propose_wait(tcn_node *n, const uint8_t *cmd, size_t len, tcn_api_done_fn done, void *arg);
int node_propose_wait(tcn_node *n, const uint8_t *cmd, size_t len, tcn_api_done_fn done, void *arg)
{
    if (n->waiters_n == n->waiters_cap) {
        size_t cap = n->waiters_cap ? 2 * n->waiters_cap : 64;
        node_waiter *w = realloc(n->waiters, cap * sizeof(*w));
        if (w == NULL)
            return TCN_ERR_NOMEM;
        n->waiters = w;
        n->waiters_cap = cap;
    }
    uint64_t index = 0;
    uint64_t term = tcn_raft_term(n->raft);
    int rc = tcn_raft_propose(n->raft, cmd, len, &index);
    if (rc != TCN_OK)
        return rc;
    n->waiters[n->waiters_n++] = (node_waiter){.index = index, .term = term,
                                               .deadline_ms = node_mono_ms() + NODE_WAIT_MS_MAX,
                                               .done = done, .arg = arg};
    node_drain_soon(n);
    return TCN_OK;
}

/* ---- applying committed entries --------------------------------------------------- */

static void count_outcome(tcn_node *n, const uint8_t *data, size_t len, const tcn_state_result *res)
{
    if (res->code != TCN_OK || len < 2 || data[1] != TCN_CMD_PAYOUT_OUTCOME)
        return;
    tcn_cmd c;
    tcn_error err;
    if (tcn_cmd_decode(data, len, &c, &err) == TCN_OK && c.u.payout_outcome.result == TCN_PAYOUT_LANDED_OK)
        n->payouts_landed++;
    tcn_cmd_wipe(&c);
}

/* A snapshot from the leader replaces the state (everything is checked
 * before anything is replaced). */
static int apply_snapshot(tcn_node *n, const tcn_raft_snapshot_view *sv)
{
    tcn_state *fresh = NULL;
    tcn_error err;
    if (tcn_state_restore(sv->data, sv->len, &fresh, &err) != TCN_OK) {
        /* The core checked the snapshot's hash against the log: bytes every
         * member agrees on that we cannot read mean a bug; stop. */
        char msg[TCN_ERR_MSG_MAX + 64];
        snprintf(msg, sizeof(msg), "cannot restore the state snapshot at %llu: %s", (unsigned long long)sv->index,
                 err.msg);
        node_fail(n, TCN_ERR_CORRUPT, msg);
        return TCN_ERR_CORRUPT;
    }
    tcn_state_free(n->st);
    n->st = fresh;
    n->applied_raft = sv->index;
    waiters_on_apply(n, sv->index, sv->term, NULL);
    node_exec_feed(n, true, 0, sv->index, sv->data, sv->len);
    return TCN_OK;
}

static int apply_entry(tcn_node *n, const tcn_raft_entry *e)
{
    n->applied_raft = e->index;
    if (e->type != TCN_RAFT_ENTRY_NORMAL) {
        waiters_on_apply(n, e->index, e->term, NULL);
        node_exec_feed(n, false, e->type, e->index, NULL, 0);
        return TCN_OK;
    }
    tcn_state_result res;
    int rc = tcn_state_apply(n->st, e->index, e->data, e->len, &res);
    if (rc != TCN_OK) {
        /* Another node would not have failed: continuing could diverge. */
        char msg[96];
        snprintf(msg, sizeof(msg), "out of memory applying index %llu", (unsigned long long)e->index);
        node_fail(n, rc, msg);
        return rc;
    }
    if (res.code == TCN_OK)
        n->applied_cmds++;
    else
        n->refused_cmds++;
    count_outcome(n, e->data, e->len, &res);
    waiters_on_apply(n, e->index, e->term, &res);
    node_exec_feed(n, false, e->type, e->index, e->data, e->len);
    return TCN_OK;
}

/* After a ready's entries: the group id pinned once known, a snapshot for
 * the core when it asked, waiting API requests, the executor woken. */
static void after_apply(tcn_node *n)
{
    if (!n->group_set && tcn_state_has_genesis(n->st)) {
        tcn_error err;
        if (tcn_peer_mesh_set_group(n->mesh, tcn_state_group_id(n->st), &err) == TCN_OK &&
            tcn_ratls_ctx_set_identity(n->api_ctx, n->id, &err) == TCN_OK) {
            n->group_set = true;
            char hex[2 * TCN_STATE_GROUP_ID_LEN + 1];
            tcn_hex_encode(tcn_state_group_id(n->st), TCN_STATE_GROUP_ID_LEN, hex);
            tcn_log(TCN_LOG_INFO, "group id known: peers are now pinned to it", "group", hex, NULL);
        } else {
            tcn_log(TCN_LOG_WARN, "cannot pin the group id", "error", err.msg, NULL);
        }
    }
    if (n->snapshot_wanted) {
        tcn_buf b;
        memset(&b, 0, sizeof(b));
        tcn_error err;
        if (tcn_state_snapshot(n->st, &b, &err) == TCN_OK) {
            if (tcn_raft_snapshot_done(n->raft, n->applied_raft, b.p, b.len) == TCN_OK)
                n->snapshot_wanted = false;
        } else {
            tcn_log(TCN_LOG_WARN, "cannot snapshot the state", "error", err.msg, NULL);
        }
        tcn_buf_free_wipe(&b);
    }
    if (n->api)
        tcn_api_on_applied(n->api);
    node_exec_kick(n);
}

/* ---- the Raft driver ------------------------------------------------------------- */

static void send_msg(tcn_node *n, const tcn_raft_msg *m)
{
    tcn_error err;
    n->sendbuf.len = 0;
    if (tcn_raft_msg_encode(m, &n->sendbuf, &err) != TCN_OK) {
        tcn_log(TCN_LOG_ERROR, "cannot encode a raft message", "error", err.msg, NULL);
        return;
    }
    /* Not connected or the peer is slow: Raft retransmits what matters. */
    int rc = tcn_peer_mesh_send_raft(n->mesh, m->to, n->sendbuf.p, n->sendbuf.len);
    (void)rc;
    /* Entries carry commands with seeds (GENESIS, SWAP_CREATE): no copy
     * stays behind in the reused buffer. */
    tcn_wipe(n->sendbuf.p, n->sendbuf.len);
}

/* Tells the executor's thread whether this node acts as leader, in which
 * term, and from which applied index on: the first index at which the
 * loop saw an entry of the term committed (and has applied it: the loop
 * applies synchronously). Its own copy of the state must reach that index
 * before it acts (Raft thesis §6.4: only then does it hold everything an
 * earlier leader committed). */
static void update_acting(tcn_node *n)
{
    uint64_t acting = 0;
    /* Everything committed is applied (a drain stops after 64 readies, so a
     * huge backlog may still be waiting: then not yet). */
    if (n->role == TCN_RAFT_LEADER && !n->stopping && tcn_raft_commit_in_term(n->raft) &&
        n->applied_raft >= tcn_raft_commit_index(n->raft))
        acting = n->term;
    node_exec_set_acting(n, acting, n->applied_raft);
    atomic_store(&n->acting_term, acting);
    atomic_store(&n->loop_alive_ms, node_mono_ms());
}

static void leave(tcn_node *n);

void node_drain(tcn_node *n)
{
    bool leave_soon = false, applied = false;
    for (int round = 0; round < 64 && tcn_raft_has_ready(n->raft); round++) {
        tcn_raft_ready rd;
        tcn_raft_get_ready(n->raft, &rd);
        int rc = TCN_OK;
        if (rd.snapshot != NULL)
            rc = apply_snapshot(n, rd.snapshot);
        for (size_t i = 0; i < rd.n_entries && rc == TCN_OK; i++)
            rc = apply_entry(n, &rd.entries[i]);
        applied |= rd.snapshot != NULL || rd.n_entries > 0;
        for (size_t i = 0; i < rd.n_msgs; i++)
            send_msg(n, &rd.msgs[i]);
        if (rd.snapshot_wanted)
            n->snapshot_wanted = true;
        if (rd.state_changed) {
            bool was_leader = n->role == TCN_RAFT_LEADER;
            if (rd.leader != 0) {
                if (n->last_leader != 0 && rd.leader != n->last_leader)
                    n->leader_changes++;
                n->last_leader = rd.leader;
            }
            n->role = rd.role;
            n->term = rd.term;
            n->leader = rd.leader;
            char term[24], leader[17];
            u64s(term, sizeof(term), rd.term);
            hex_id(leader, rd.leader);
            tcn_log(TCN_LOG_INFO, "raft state", "role", tcn_raft_role_name((tcn_raft_role)rd.role), "term", term,
                    "leader", leader, NULL);
            if (rd.role == TCN_RAFT_LEADER && !was_leader) {
                n->lead_since_ms = node_mono_ms();
                n->standby_failures = 0;
            }
            if (n->stopping && was_leader && rd.role != TCN_RAFT_LEADER &&
                evtimer_pending(n->ev_stop_deadline, NULL)) {
                evtimer_del(n->ev_stop_deadline); /* handed over: leave now */
                leave_soon = true;
            }
        }
        for (size_t i = 0; i < rd.n_faults; i++) {
            node_peer *fp = node_peer_find(n, rd.faults[i].peer);
            if (fp != NULL && n->role == TCN_RAFT_LEADER)
                fp->corrupt = true;
            char peer[17], idx[24];
            hex_id(peer, rd.faults[i].peer);
            u64s(idx, sizeof(idx), rd.faults[i].index);
            tcn_log(TCN_LOG_ERROR, "raft log hash chain disagrees: message refused", "peer", peer, "index", idx,
                    NULL);
        }
        if (rd.config_changed && rd.config != NULL)
            node_members_on_config(n, rd.config);
        tcn_raft_advance(n->raft);
        if (rc != TCN_OK)
            return; /* node_fail said why; the loop stops */
    }
    if (applied)
        after_apply(n);
    update_acting(n);
    if (leave_soon)
        leave(n);
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    tcn_node *n = arg;
    uint64_t now = node_mono_ms();
    tcn_raft_tick(n->raft, now);
    node_members_boot_tick(n);
    node_members_tick(n);
    waiters_expire(n, now);
    node_drain(n);
}

/* ---- the mesh's callbacks --------------------------------------------------------- */

static void on_raft(void *ctx, uint64_t from, const uint8_t *p, size_t len)
{
    tcn_node *n = ctx;
    tcn_raft_msg m;
    tcn_error err;
    char peer[17];
    hex_id(peer, from);
    if (tcn_raft_msg_decode(&n->dec, p, len, &m, &err) != TCN_OK) {
        tcn_log(TCN_LOG_WARN, "raft message refused: does not decode", "peer", peer, "error", err.msg, NULL);
        return;
    }
    /* The channel authenticated the sender: a message may not speak for
     * another node, nor be meant for another. */
    if (m.from != from || m.to != n->self_id) {
        tcn_log(TCN_LOG_WARN, "raft message refused: sender or recipient is not the channel's", "peer", peer,
                NULL);
        return;
    }
    int rc = tcn_raft_step(n->raft, &m);
    if (rc == TCN_ERR_NOMEM) {
        node_fail(n, rc, "out of memory in the raft core");
        return;
    }
    if (rc != TCN_OK && rc != TCN_ERR_CORRUPT)
        tcn_log(TCN_LOG_DEBUG, "raft message refused by the core", "peer", peer, "type",
                tcn_raft_msg_type_name(m.type), NULL);
    node_drain_soon(n);
}

static void on_peer_up(void *ctx, const tcn_peer_info *info)
{
    tcn_node *n = ctx;
    node_peer_up(n, info);
    node_drain(n);
}

static void on_peer_down(void *ctx, uint64_t id, tcn_peer_direction direction, const char *why)
{
    (void)direction;
    tcn_node *n = ctx;
    node_peer_down(n, id, why);
    /* Every connection to our leader is gone (its process died and the
     * kernel closed its sockets, or it left): campaign now rather than an
     * election timeout from now. A mere flap costs one refused pre-vote. */
    node_peer *p = node_peer_find(n, id);
    if (p != NULL && p->up == 0 && id == n->leader && n->role != TCN_RAFT_LEADER && !n->stopping) {
        tcn_raft_leader_unreachable(n->raft, id);
        node_drain(n);
    }
}

static void on_refused(void *ctx, const char *remote, const char *check, const char *why)
{
    (void)remote;
    (void)check;
    (void)why;
    tcn_node *n = ctx;
    n->attest_refusals++;
}

/* ---- stopping -------------------------------------------------------------------- */

/* Leaving: BYE SHUTDOWN to every peer (the leader then removes us at
 * once), and the loop ends once they are out or the linger ran out. */
static void on_linger(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    tcn_node *n = arg;
    if (tcn_peer_mesh_idle(n->mesh) || node_mono_ms() >= n->linger_until_ms) {
        event_base_loopexit(n->base, NULL);
        return;
    }
    struct timeval tv = {0, 20 * 1000};
    evtimer_add(n->ev_linger, &tv);
}

static void leave(tcn_node *n)
{
    tcn_peer_mesh_close_all(n->mesh);
    n->linger_until_ms = node_mono_ms() + TCN_PEER_LINGER_MS + 200;
    on_linger(-1, 0, n);
}

static void on_stop_deadline(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    leave(arg);
}

void tcn_node_stop(tcn_node *n)
{
    if (n->stopping)
        return;
    n->stopping = true;
    atomic_store(&n->acting_term, 0);
    tcn_log(TCN_LOG_INFO, "stopping", NULL);
    /* A leader leaves through the log: it removes itself (the others commit
     * the smaller configuration, and the core steps it down once that is
     * committed), so even a two-voter network keeps a working majority.
     * When a membership change is already in progress it hands leadership
     * to the most caught-up voter instead (who then removes it when our
     * BYE arrives). Either way it leaves once it no longer leads, or after
     * NODE_STOP_HANDOVER_MS. */
    if (n->role == TCN_RAFT_LEADER && tcn_raft_config_voters(tcn_raft_config_of(n->raft)) > 1) {
        struct timeval tv = {NODE_STOP_HANDOVER_MS / 1000, (NODE_STOP_HANDOVER_MS % 1000) * 1000};
        evtimer_add(n->ev_stop_deadline, &tv);
        if (tcn_raft_remove(n->raft, n->self_id) == TCN_OK) {
            tcn_log(TCN_LOG_INFO, "leaving: removing ourselves from the configuration", NULL);
            node_drain(n);
            return;
        }
        const tcn_raft_config *c = tcn_raft_config_of(n->raft);
        uint64_t best = 0, best_match = 0;
        for (uint32_t i = 0; i < c->n; i++) {
            tcn_raft_progress_info pi;
            uint64_t id = c->members[i].id;
            if (id == n->self_id || !tcn_raft_config_is_voter(c, id) || !tcn_raft_progress_of(n->raft, id, &pi))
                continue;
            if (best == 0 || pi.match > best_match) {
                best = id;
                best_match = pi.match;
            }
        }
        if (best != 0 && tcn_raft_transfer_leadership(n->raft, best) == TCN_OK) {
            tcn_log(TCN_LOG_INFO, "leaving: handing leadership over first", NULL);
            node_drain(n);
            return;
        }
        evtimer_del(n->ev_stop_deadline);
    }
    leave(n);
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    (void)what;
    tcn_node *n = arg;
    char s[8];
    snprintf(s, sizeof(s), "%d", (int)sig);
    tcn_log(TCN_LOG_INFO, "signal", "signal", s, NULL);
    tcn_node_stop(n);
}

/* ---- lifecycle -------------------------------------------------------------------- */

uint64_t tcn_node_id(const tcn_node *n) { return n->self_id; }

static int make_mesh(tcn_node *n, tcn_error *err)
{
    tcn_peer_options o;
    memset(&o, 0, sizeof(o));
    o.node_id = n->self_id;
    o.name = n->cfg.name;
    o.api_addr = n->self_api;
    o.peer_addr = n->self_peer;
    o.reattest_interval_ms = n->cfg.reattest_interval_ms;
    o.evidence_max_age_ms = n->cfg.evidence_max_age_ms;
    tcn_peer_callbacks cb = {.ctx = n, .on_peer_up = on_peer_up, .on_raft = on_raft, .on_peer_down = on_peer_down,
                             .on_refused = on_refused};
    TCN_GUARD(tcn_peer_mesh_new(n->base, &o, n->id, &n->pol, &cb, &n->mesh, err));
    TCN_GUARD(tcn_peer_mesh_listen(n->mesh, &n->cfg.listen_peer, err));
    for (size_t i = 0; i < n->cfg.join_count; i++)
        if (!tcn_node_addr_equal(&n->cfg.join[i], &n->cfg.listen_peer) &&
            !tcn_node_addr_equal(&n->cfg.join[i], &n->cfg.advertise_peer))
            TCN_GUARD(tcn_peer_mesh_dial(n->mesh, &n->cfg.join[i], err));
    return TCN_OK;
}

static int make_api(tcn_node *n, tcn_error *err)
{
    TCN_GUARD(tcn_ratls_ctx_new(TCN_RATLS_SERVER, n->id, NULL, &n->api_ctx, err));
    tcn_api_backend be;
    node_api_backend(n, &be);
    tcn_api_options o;
    memset(&o, 0, sizeof(o));
    o.host = n->cfg.listen_api.host;
    o.port = n->cfg.listen_api.port;
    return tcn_api_new(n->base, n->api_ctx, &be, &o, &n->api, err);
}

int tcn_node_new(const tcn_node_config *cfg, tcn_provider *prov, tcn_node **out, tcn_error *err)
{
    *out = NULL;
    tcn_node *n = calloc(1, sizeof(*n));
    if (n == NULL)
        return tcn_err_set(err, TCN_ERR_NOMEM, "node: out of memory");
    n->cfg = *cfg;
    n->prov = prov;
    n->fatal = TCN_OK;
    n->boot_ms = node_mono_ms();
    /* The executor's thread wakes the loop (event_active). */
    evthread_use_pthreads();
    pthread_mutex_init(&n->exec_mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC); /* the host may step the wall clock */
    pthread_cond_init(&n->exec_cv, &ca);
    pthread_condattr_destroy(&ca);
    memset(&n->sendbuf, 0, sizeof(n->sendbuf));
    tcn_node_addr_format(&cfg->advertise_api, n->self_api, sizeof(n->self_api));
    tcn_node_addr_format(&cfg->advertise_peer, n->self_peer, sizeof(n->self_peer));
    int rc = TCN_OK;
    n->base = event_base_new();
    if (n->base == NULL) {
        rc = tcn_err_set(err, TCN_ERR_NOMEM, "node: cannot create the event loop");
        goto fail;
    }
    /* The TLS key is created here, inside the TEE; the evidence binds it. */
    rc = tcn_ratls_identity_new(prov, NULL, &n->id, err);
    if (rc != TCN_OK)
        goto fail;
    n->self_id = tcn_peer_node_id_from_key_hash(tcn_ratls_identity_key_hash(n->id));
    tcn_ratls_policy_default(&n->pol);
    n->pol.attest = cfg->policy;
    if (cfg->policy.measurement_self) {
        tcn_policy_measurement m;
        rc = tcn_ratls_identity_measurement(n->id, &m, err);
        if (rc == TCN_OK)
            rc = tcn_ratls_policy_set_self(&n->pol, m.v, m.len, err);
        if (rc != TCN_OK)
            goto fail;
    }
    rc = tcn_state_new(&n->st);
    if (rc != TCN_OK) {
        tcn_err_set(err, rc, "node: cannot create the state");
        goto fail;
    }
    tcn_raft_options ro;
    uint64_t seed;
    randombytes_buf(&seed, sizeof(seed));
    tcn_raft_options_default(&ro, n->self_id, seed);
    ro.heartbeat_ms = cfg->heartbeat_ms;
    ro.election_timeout_ms_min = cfg->election_timeout_ms;
    ro.election_timeout_ms_max = 2 * cfg->election_timeout_ms;
    rc = tcn_raft_create(&n->raft, &ro, node_mono_ms(), err);
    if (rc != TCN_OK)
        goto fail;
    n->ev_tick = event_new(n->base, -1, EV_PERSIST, on_tick, n);
    n->ev_stop_deadline = evtimer_new(n->base, on_stop_deadline, n);
    n->ev_linger = evtimer_new(n->base, on_linger, n);
    n->ev_drain = event_new(n->base, -1, 0, on_drain, n);
    if (n->ev_tick == NULL || n->ev_stop_deadline == NULL || n->ev_linger == NULL ||
        n->ev_drain == NULL) {
        rc = tcn_err_set(err, TCN_ERR_NOMEM, "node: out of memory");
        goto fail;
    }
    uint32_t tick = cfg->heartbeat_ms / NODE_TICK_DIVISOR;
    if (tick == 0)
        tick = 1;
    struct timeval tv = {tick / 1000, (tick % 1000) * 1000};
    evtimer_add(n->ev_tick, &tv);
    rc = make_mesh(n, err);
    if (rc != TCN_OK)
        goto fail;
    rc = make_api(n, err);
    if (rc != TCN_OK)
        goto fail;
    rc = node_exec_start(n, err);
    if (rc != TCN_OK)
        goto fail;
    char id[17];
    hex_id(id, n->self_id);
    tcn_log(TCN_LOG_INFO, "node up", "name", cfg->name, "node", id, "peer", n->self_peer, "api", n->self_api,
            NULL);
    *out = n;
    return TCN_OK;
fail:
    tcn_node_free(n);
    return rc;
}

int tcn_node_run(tcn_node *n, bool handle_signals, tcn_error *err)
{
    if (handle_signals) {
        n->ev_sigterm = evsignal_new(n->base, SIGTERM, on_signal, n);
        n->ev_sigint = evsignal_new(n->base, SIGINT, on_signal, n);
        if (n->ev_sigterm == NULL || n->ev_sigint == NULL)
            return tcn_err_set(err, TCN_ERR_NOMEM, "node: out of memory");
        evsignal_add(n->ev_sigterm, NULL);
        evsignal_add(n->ev_sigint, NULL);
        signal(SIGPIPE, SIG_IGN);
    }
    event_base_dispatch(n->base);
    if (n->fatal != TCN_OK)
        return tcn_err_set(err, n->fatal, "node: %s", n->fatal_msg);
    return TCN_OK;
}

void tcn_node_free(tcn_node *n)
{
    if (n == NULL)
        return;
    node_exec_stop(n);
    for (size_t i = 0; i < n->waiters_n; i++)
        n->waiters[i].done(n->waiters[i].arg, TCN_ERR_NOT_LEADER, NULL);
    n->waiters_n = 0;
    if (n->api)
        tcn_api_free(n->api);
    if (n->api_ctx)
        SSL_CTX_free(n->api_ctx);
    if (n->mesh)
        tcn_peer_mesh_free(n->mesh);
    if (n->ev_tick)
        event_free(n->ev_tick);
    if (n->ev_stop_deadline)
        event_free(n->ev_stop_deadline);
    if (n->ev_linger)
        event_free(n->ev_linger);
    if (n->ev_drain)
        event_free(n->ev_drain);
    if (n->ev_sigterm)
        event_free(n->ev_sigterm);
    if (n->ev_sigint)
        event_free(n->ev_sigint);
    if (n->raft)
        tcn_raft_destroy(n->raft);
    tcn_raft_decoder_free(&n->dec);
    tcn_buf_free_wipe(&n->sendbuf);
    free(n->waiters);
    tcn_state_free(n->st);
    if (n->id)
        tcn_ratls_identity_free(n->id);
    if (n->base)
        event_base_free(n->base);
    pthread_mutex_destroy(&n->exec_mu);
    pthread_cond_destroy(&n->exec_cv);
    free(n);
}
