/* Lifecycle, the step dispatcher with the term rules, tick, propose, and inspection. */
#include <stdlib.h>
#include <string.h>

#include "raft/internal.h"
#include "util/assert.h"

int tcn_raft_bugs_compiled(void)
{
#ifdef TCN_RAFT_BUGS
    return 1;
#else
    return 0;
#endif
}

void tcn_raft_grow(void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return;
    size_t c = *cap ? *cap : 16;
    while (c < need) {
        TCN_ASSERT(c <= SIZE_MAX / 2 / elem);
        c *= 2;
    }
    void *q = realloc(*p, c * elem);
    TCN_ASSERT(q != NULL); /* out of memory in bookkeeping: see internal.h */
    *p = q;
    *cap = c;
}

void tcn_raft_options_default(tcn_raft_options *o, uint64_t id, uint64_t seed)
{
    memset(o, 0, sizeof(*o));
    o->id = id;
    o->seed = seed;
    o->heartbeat_ms = TCN_RAFT_DEFAULT_HEARTBEAT_MS;
    o->election_timeout_ms_min = TCN_RAFT_DEFAULT_ELECTION_TIMEOUT_MS_MIN;
    o->election_timeout_ms_max = 2 * TCN_RAFT_DEFAULT_ELECTION_TIMEOUT_MS_MIN;
    o->append_bytes_max = TCN_RAFT_DEFAULT_APPEND_BYTES_MAX;
    o->append_entries_max = TCN_RAFT_DEFAULT_APPEND_ENTRIES_MAX;
    o->inflight_max = TCN_RAFT_DEFAULT_INFLIGHT_MAX;
    o->snapshot_chunk_bytes = TCN_RAFT_DEFAULT_SNAPSHOT_CHUNK_BYTES;
    o->snapshot_entries_max = TCN_RAFT_DEFAULT_SNAPSHOT_ENTRIES_MAX;
    o->snapshot_log_bytes_max = TCN_RAFT_DEFAULT_SNAPSHOT_LOG_BYTES_MAX;
    o->snapshot_trailing = TCN_RAFT_DEFAULT_SNAPSHOT_TRAILING;
    o->promote_lag_max = TCN_RAFT_DEFAULT_PROMOTE_LAG_MAX;
    o->promote_lag_ms_max = 0; /* follows election_timeout_ms_min */
    o->uncommitted_bytes_max = TCN_RAFT_DEFAULT_UNCOMMITTED_BYTES_MAX;
}

#define DEFAULT_IF_ZERO(field, value) \
    do {                              \
        if (o->field == 0)            \
            o->field = (value);       \
    } while (0)

static int options_resolve(tcn_raft_options *o, tcn_error *err)
{
    TCN_ENSURE(o->id != 0, err, TCN_ERR_CONFIG, "raft: options.id must be non-zero");
#ifdef TCN_RAFT_BUGS
    TCN_ENSURE((o->bugs & ~TCN_RAFT_BUGS_ALL) == 0, err, TCN_ERR_CONFIG, "raft: options.bugs: unknown bug 0x%x",
               o->bugs & ~TCN_RAFT_BUGS_ALL);
#else
    TCN_ENSURE(o->bugs == 0, err, TCN_ERR_CONFIG,
               "raft: options.bugs: this core was built without TCN_RAFT_BUGS and refuses bug switches");
#endif
    TCN_ENSURE((o->flags & ~(TCN_RAFT_FLAG_NO_PRE_VOTE | TCN_RAFT_FLAG_NO_CHECK_QUORUM)) == 0, err,
               TCN_ERR_CONFIG, "raft: options.flags: unknown flag");
    DEFAULT_IF_ZERO(heartbeat_ms, TCN_RAFT_DEFAULT_HEARTBEAT_MS);
    DEFAULT_IF_ZERO(election_timeout_ms_min, TCN_RAFT_DEFAULT_ELECTION_TIMEOUT_MS_MIN);
    DEFAULT_IF_ZERO(election_timeout_ms_max, 2 * o->election_timeout_ms_min);
    DEFAULT_IF_ZERO(append_bytes_max, TCN_RAFT_DEFAULT_APPEND_BYTES_MAX);
    DEFAULT_IF_ZERO(append_entries_max, TCN_RAFT_DEFAULT_APPEND_ENTRIES_MAX);
    DEFAULT_IF_ZERO(inflight_max, TCN_RAFT_DEFAULT_INFLIGHT_MAX);
    DEFAULT_IF_ZERO(snapshot_chunk_bytes, TCN_RAFT_DEFAULT_SNAPSHOT_CHUNK_BYTES);
    DEFAULT_IF_ZERO(snapshot_entries_max, TCN_RAFT_DEFAULT_SNAPSHOT_ENTRIES_MAX);
    DEFAULT_IF_ZERO(snapshot_log_bytes_max, TCN_RAFT_DEFAULT_SNAPSHOT_LOG_BYTES_MAX);
    DEFAULT_IF_ZERO(snapshot_trailing, TCN_RAFT_DEFAULT_SNAPSHOT_TRAILING);
    DEFAULT_IF_ZERO(promote_lag_max, TCN_RAFT_DEFAULT_PROMOTE_LAG_MAX);
    DEFAULT_IF_ZERO(promote_lag_ms_max, o->election_timeout_ms_min);
    DEFAULT_IF_ZERO(uncommitted_bytes_max, TCN_RAFT_DEFAULT_UNCOMMITTED_BYTES_MAX);
    TCN_ENSURE(o->heartbeat_ms < o->election_timeout_ms_min, err, TCN_ERR_CONFIG,
               "raft: options.heartbeat_ms (%u) must be below election_timeout_ms_min (%u)", o->heartbeat_ms,
               o->election_timeout_ms_min);
    TCN_ENSURE(o->election_timeout_ms_max > o->election_timeout_ms_min, err, TCN_ERR_CONFIG,
               "raft: options.election_timeout_ms_max must exceed election_timeout_ms_min");
    TCN_ENSURE(o->append_bytes_max <= TCN_RAFT_APPEND_BYTES_MAX, err, TCN_ERR_CONFIG,
               "raft: options.append_bytes_max exceeds %u", TCN_RAFT_APPEND_BYTES_MAX);
    TCN_ENSURE(o->append_entries_max <= TCN_RAFT_MSG_ENTRIES_MAX, err, TCN_ERR_CONFIG,
               "raft: options.append_entries_max exceeds %u", TCN_RAFT_MSG_ENTRIES_MAX);
    TCN_ENSURE(o->inflight_max <= TCN_RAFT_INFLIGHT_MAX, err, TCN_ERR_CONFIG,
               "raft: options.inflight_max exceeds %u", TCN_RAFT_INFLIGHT_MAX);
    TCN_ENSURE(o->snapshot_chunk_bytes <= TCN_RAFT_SNAPSHOT_CHUNK_BYTES_MAX, err, TCN_ERR_CONFIG,
               "raft: options.snapshot_chunk_bytes exceeds %u", TCN_RAFT_SNAPSHOT_CHUNK_BYTES_MAX);
    return TCN_OK;
}

static uint64_t splitmix64(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

int tcn_raft_create(tcn_raft **out, const tcn_raft_options *opts, uint64_t now_ms, tcn_error *err)
{
    *out = NULL;
    tcn_raft_options o = *opts;
    TCN_GUARD(options_resolve(&o, err));
    tcn_raft *r = calloc(1, sizeof(*r));
    if (r == NULL)
        return tcn_err_set(err, TCN_ERR_NOMEM, "raft: creating node");
    r->o = o;
    r->id = o.id;
    /* One seed can drive a whole simulated cluster: mix in the id so nodes draw different timeouts. */
    r->rng = o.seed ^ (o.id * 0xd1342543de82ef95ull);
    (void)splitmix64(&r->rng);
    tcn_raft_log_init(&r->log);
    r->role = TCN_RAFT_FOLLOWER;
    r->now = now_ms;
    r->snap_wanted_armed = true;
    r->rep_role = TCN_RAFT_FOLLOWER;
    tcn_raft_reset_election_timer(r);
    *out = r;
    return TCN_OK;
}

void tcn_raft_destroy(tcn_raft *r)
{
    if (r == NULL)
        return;
    tcn_raft_log_free(&r->log);
    tcn_raft_confs_free(&r->confs);
    tcn_buf_free_wipe(&r->snap.data); /* snapshots and commands hold the application's secrets */
    for (uint32_t i = 0; i < TCN_RAFT_SNAPSHOTS_RETAINED_MAX; i++)
        tcn_buf_free_wipe(&r->snap_kept[i].data);
    tcn_buf_free_wipe(&r->rx.data);
    free(r->out);
    free(r->out_entries);
    free(r->apply);
    free(r->scratch_hash);
    free(r);
}

uint64_t tcn_raft_random(tcn_raft *r) { return splitmix64(&r->rng); }

int tcn_raft_bootstrap(tcn_raft *r, const uint64_t *voters, size_t n)
{
    TCN_ASSERT(!r->in_ready);
    if (r->term != 0 || tcn_raft_log_last(&r->log) != 0 || tcn_raft_conf(r)->n != 0)
        return TCN_ERR_USAGE; /* only a fresh node creates a genesis */
    if (n == 0 || n > TCN_RAFT_MEMBERS_MAX)
        return TCN_ERR_USAGE;
    tcn_raft_config c = {0};
    bool self = false;
    for (size_t i = 0; i < n; i++) {
        if (voters[i] == 0 || tcn_raft_config_find(&c, voters[i]) != NULL)
            return TCN_ERR_USAGE;
        if (tcn_raft_config_set(&c, voters[i], TCN_RAFT_VOTER) != TCN_OK)
            return TCN_ERR_USAGE;
        self |= voters[i] == r->id;
    }
    if (!self)
        return TCN_ERR_USAGE;
    uint8_t payload[TCN_RAFT_CONFIG_BYTES_MAX];
    size_t len = tcn_raft_config_write(&c, payload);
    TCN_GUARD(tcn_raft_log_reserve(&r->log, 1, len));
    TCN_GUARD(tcn_raft_confs_reserve(&r->confs, 1));
    /* Every bootstrapping node writes the same bytes, hence the same hash. */
    r->term = 1;
    tcn_raft_log_append(&r->log, 1, TCN_RAFT_ENTRY_CONFIG, payload, (uint32_t)len);
    tcn_raft_confs_push(&r->confs, 1, &c);
    tcn_raft_note_config(r, &c);
    r->commit = 1;
    tcn_raft_config_changed(r);
    r->dirty = true;
    return TCN_OK;
}

/* --- Shared helpers ------------------------------------------------------ */

const tcn_raft_config *tcn_raft_conf(const tcn_raft *r) { return &tcn_raft_confs_current(&r->confs)->conf; }

bool tcn_raft_is_voter(const tcn_raft *r, uint64_t id) { return tcn_raft_config_is_voter(tcn_raft_conf(r), id); }

uint32_t tcn_raft_quorum(const tcn_raft *r) { return tcn_raft_config_voters(tcn_raft_conf(r)) / 2 + 1; }

uint64_t tcn_raft_term_at(const tcn_raft *r, uint64_t index)
{
    uint64_t t;
    TCN_ASSERT(tcn_raft_log_term(&r->log, index, &t));
    return t;
}

/* --- Step ---------------------------------------------------------------- */

static bool from_leader(uint8_t type)
{
    return type == TCN_RAFT_MSG_APPEND || type == TCN_RAFT_MSG_HEARTBEAT || type == TCN_RAFT_MSG_SNAPSHOT ||
           type == TCN_RAFT_MSG_TIMEOUT_NOW;
}

/* Term rules (Raft thesis §3.3), with the pre-vote and leader-lease
 * exceptions (§9.6, §4.2.3). Returns false when the message is consumed. */
static bool handle_term(tcn_raft *r, const tcn_raft_msg *m)
{
    if (m->term > r->term) {
        if (m->type == TCN_RAFT_MSG_VOTE) {
            /* A server that heard from a live leader within the minimum
             * election timeout ignores a pre-vote, and with check-quorum a
             * vote too: a partitioned or removed server cannot disrupt.
             * A leadership transfer overrides the lease. */
            bool lease = tcn_raft_heard_from_leader(r);
            if (lease && !m->vote.transfer &&
                (m->vote.pre_vote || !(r->o.flags & TCN_RAFT_FLAG_NO_CHECK_QUORUM)))
                return false;
            if (m->vote.pre_vote)
                return true; /* answered without changing our term */
            tcn_raft_become_follower(r, m->term, 0);
            return true;
        }
        if (m->type == TCN_RAFT_MSG_VOTE_RESULT && m->vote_result.pre_vote && m->vote_result.granted)
            return true; /* granted pre-votes carry the term we are about to campaign in */
        tcn_raft_become_follower(r, m->term, from_leader(m->type) ? m->from : 0);
        return true;
    }
    if (m->term < r->term) {
        if (m->type == TCN_RAFT_MSG_APPEND || m->type == TCN_RAFT_MSG_HEARTBEAT || m->type == TCN_RAFT_MSG_SNAPSHOT) {
            /* A stale leader learns our term and steps down. Without this a
             * node whose term ran ahead (e.g. after a TimeoutNow) could be
             * ignored forever while ignoring the leader's pre-votes. */
            tcn_raft_msg *o = tcn_raft_send(r, TCN_RAFT_MSG_HEARTBEAT_RESULT, m->from);
            o->heartbeat_result.read_seq = 0;
        } else if (m->type == TCN_RAFT_MSG_VOTE && m->vote.pre_vote) {
            tcn_raft_msg *o = tcn_raft_send(r, TCN_RAFT_MSG_VOTE_RESULT, m->from);
            o->vote_result.pre_vote = true;
            o->vote_result.granted = false;
        }
        return false;
    }
    return true;
}

int tcn_raft_step(tcn_raft *r, const tcn_raft_msg *m)
{
    TCN_ASSERT(!r->in_ready);
    if (m->to != r->id || m->from == 0 || m->from == r->id || m->type < TCN_RAFT_MSG_VOTE ||
        m->type > TCN_RAFT_MSG_TYPE_MAX)
        return TCN_ERR_MALFORMED;
    r->dirty = true;
    if (!handle_term(r, m))
        return TCN_OK;
    switch (m->type) {
    case TCN_RAFT_MSG_VOTE:
        tcn_raft_recv_vote(r, m);
        return TCN_OK;
    case TCN_RAFT_MSG_VOTE_RESULT:
        tcn_raft_recv_vote_result(r, m);
        return TCN_OK;
    case TCN_RAFT_MSG_APPEND:
        return tcn_raft_recv_append(r, m);
    case TCN_RAFT_MSG_APPEND_RESULT:
        tcn_raft_recv_append_result(r, m);
        return TCN_OK;
    case TCN_RAFT_MSG_HEARTBEAT:
        tcn_raft_recv_heartbeat(r, m);
        return TCN_OK;
    case TCN_RAFT_MSG_HEARTBEAT_RESULT:
        tcn_raft_recv_heartbeat_result(r, m);
        return TCN_OK;
    case TCN_RAFT_MSG_SNAPSHOT:
        return tcn_raft_recv_snapshot(r, m);
    case TCN_RAFT_MSG_SNAPSHOT_RESULT:
        tcn_raft_recv_snapshot_result(r, m);
        return TCN_OK;
    case TCN_RAFT_MSG_TIMEOUT_NOW:
        tcn_raft_recv_timeout_now(r, m);
        return TCN_OK;
    default:
        return TCN_ERR_MALFORMED;
    }
}

/* --- Tick and propose ---------------------------------------------------- */

void tcn_raft_tick(tcn_raft *r, uint64_t now_ms)
{
    TCN_ASSERT(!r->in_ready);
    TCN_ASSERT(now_ms >= r->now); /* a monotonic clock */
    r->now = now_ms;
    r->dirty = true;
    if (r->role == TCN_RAFT_LEADER) {
        tcn_raft_check_quorum(r);
        if (r->role == TCN_RAFT_LEADER) {
            tcn_raft_transfer_tick(r);
            tcn_raft_tick_leader(r);
            tcn_raft_membership_tick(r);
        }
    } else {
        tcn_raft_tick_election(r);
    }
    tcn_raft_snapshots_release(r);
}

static uint64_t uncommitted_bytes(const tcn_raft *r)
{
    const tcn_raft_log *l = &r->log;
    if (r->commit <= l->base_index)
        return l->arena_len;
    if (r->commit >= tcn_raft_log_last(l))
        return 0;
    const tcn_raft_slot *s = tcn_raft_log_slot(l, r->commit);
    return l->arena_len - (s->off + s->len);
}

int tcn_raft_propose(tcn_raft *r, const void *data, size_t len, uint64_t *index)
{
    TCN_ASSERT(!r->in_ready);
    if (r->role != TCN_RAFT_LEADER)
        return TCN_ERR_NOT_LEADER;
    if (r->transfer_target != 0)
        return TCN_ERR_BUSY; /* Raft thesis §3.10: no new requests during a transfer */
    if (len > TCN_RAFT_ENTRY_BYTES_MAX)
        return TCN_ERR_TOO_LARGE;
    if (uncommitted_bytes(r) + len > r->o.uncommitted_bytes_max)
        return TCN_ERR_BUSY;
    TCN_GUARD(tcn_raft_leader_append(r, TCN_RAFT_ENTRY_NORMAL, data, (uint32_t)len));
    if (index != NULL)
        *index = tcn_raft_log_last(&r->log);
    return TCN_OK;
}

/* --- Inspection ---------------------------------------------------------- */

uint64_t tcn_raft_id(const tcn_raft *r) { return r->id; }
tcn_raft_role tcn_raft_role_of(const tcn_raft *r) { return (tcn_raft_role)r->role; }
uint64_t tcn_raft_term(const tcn_raft *r) { return r->term; }
uint64_t tcn_raft_voted_for(const tcn_raft *r) { return r->vote; }
uint64_t tcn_raft_leader(const tcn_raft *r) { return r->leader; }
uint64_t tcn_raft_commit_index(const tcn_raft *r) { return r->commit; }
uint64_t tcn_raft_applied_index(const tcn_raft *r) { return r->applied; }
uint64_t tcn_raft_first_index(const tcn_raft *r) { return tcn_raft_log_first(&r->log); }
uint64_t tcn_raft_last_index(const tcn_raft *r) { return tcn_raft_log_last(&r->log); }
const tcn_raft_config *tcn_raft_config_of(const tcn_raft *r) { return tcn_raft_conf(r); }
uint64_t tcn_raft_config_index(const tcn_raft *r) { return tcn_raft_confs_current(&r->confs)->index; }
bool tcn_raft_ever_voter(const tcn_raft *r) { return r->ever_voter; }

bool tcn_raft_commit_in_term(const tcn_raft *r)
{
    uint64_t t;
    return tcn_raft_log_term(&r->log, r->commit, &t) && t == r->term;
}

bool tcn_raft_entry_at(const tcn_raft *r, uint64_t index, tcn_raft_entry *out)
{
    if (index <= r->log.base_index || index > tcn_raft_log_last(&r->log))
        return false;
    tcn_raft_log_view(&r->log, index, out);
    return true;
}

bool tcn_raft_progress_of(const tcn_raft *r, uint64_t peer, tcn_raft_progress_info *out)
{
    if (r->role != TCN_RAFT_LEADER)
        return false;
    for (uint32_t i = 0; i < r->n_prs; i++) {
        const tcn_raft_progress *pr = &r->prs[i];
        if (pr->id == peer) {
            out->match = pr->match;
            out->next = pr->next;
            out->state = pr->state;
            out->inflight = pr->in_count;
            return true;
        }
    }
    return false;
}

const char *tcn_raft_role_name(tcn_raft_role role)
{
    switch (role) {
    case TCN_RAFT_FOLLOWER:
        return "follower";
    case TCN_RAFT_PRE_CANDIDATE:
        return "pre-candidate";
    case TCN_RAFT_CANDIDATE:
        return "candidate";
    case TCN_RAFT_LEADER:
        return "leader";
    }
    return "?";
}

const char *tcn_raft_msg_type_name(uint8_t type)
{
    static const char *names[] = {"?",      "vote",      "vote_result",      "append",   "append_result",
                                  "heartbeat", "heartbeat_result", "snapshot", "snapshot_result",
                                  "timeout_now"};
    return type < TCN_ARRAY_LEN(names) ? names[type] : "?";
}
