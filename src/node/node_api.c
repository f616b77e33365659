/* The API's view of the node (api.h's backend table): status, the leader's
 * address for redirects, proposals answered once applied, our attestation,
 * and the node's metrics. Everything runs on the loop thread. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "node/node_internal.h"

static const tcn_state *be_state(void *ctx) { return ((tcn_node *)ctx)->st; }

static const char *member_role(const tcn_node *n, const tcn_raft_config *c, uint64_t id)
{
    const tcn_raft_member *m = tcn_raft_config_find(c, id);
    if (m == NULL)
        return "none";
    if (id == n->leader)
        return "leader";
    return tcn_raft_config_is_voter(c, id) ? "follower" : "learner";
}

static void be_status(void *ctx, tcn_api_status *out)
{
    tcn_node *n = ctx;
    memset(out, 0, sizeof(*out));
    snprintf(out->name, sizeof(out->name), "%s", n->cfg.name);
    out->node_id = n->self_id;
    const tcn_raft_config *c = tcn_raft_config_of(n->raft);
    snprintf(out->role, sizeof(out->role), "%s",
             n->role == TCN_RAFT_LEADER      ? "leader"
             : c->n == 0                     ? "joining"
             : tcn_raft_config_find(c, n->self_id) == NULL ? "none"
             : tcn_raft_config_is_voter(c, n->self_id)     ? tcn_raft_role_name((tcn_raft_role)n->role)
                                                           : "learner");
    out->term = n->term;
    if (n->leader != 0) {
        out->has_leader = true;
        out->leader_id = n->leader;
        if (n->leader == n->self_id) {
            snprintf(out->leader_name, sizeof(out->leader_name), "%s", n->cfg.name);
            snprintf(out->leader_api, sizeof(out->leader_api), "%s", n->self_api);
        } else {
            node_peer *p = node_peer_find(n, n->leader);
            if (p != NULL) {
                snprintf(out->leader_name, sizeof(out->leader_name), "%s", p->name);
                snprintf(out->leader_api, sizeof(out->leader_api), "%s", p->api);
            }
        }
    }
    out->commit_index = tcn_raft_commit_index(n->raft);
    out->applied_index = tcn_state_applied_index(n->st);
    for (uint32_t i = 0; i < c->n && out->n_members < TCN_API_MEMBERS_MAX; i++) {
        tcn_api_member *m = &out->members[out->n_members++];
        uint64_t id = c->members[i].id;
        m->node_id = id;
        snprintf(m->role, sizeof(m->role), "%s", member_role(n, c, id));
        if (id == n->self_id) {
            snprintf(m->name, sizeof(m->name), "%s", n->cfg.name);
            snprintf(m->api, sizeof(m->api), "%s", n->self_api);
            m->healthy = true;
            continue;
        }
        node_peer *p = node_peer_find(n, id);
        if (p != NULL) {
            snprintf(m->name, sizeof(m->name), "%s", p->name);
            snprintf(m->api, sizeof(m->api), "%s", p->api);
            m->healthy = p->up > 0;
        } else {
            snprintf(m->name, sizeof(m->name), "%016" PRIx64, id);
        }
    }
}

static bool be_writable(void *ctx)
{
    tcn_node *n = ctx;
    /* A standby serves no writes while a healthy voter can lead instead. */
    return n->role == TCN_RAFT_LEADER && !n->stopping && tcn_raft_commit_in_term(n->raft) &&
           !node_standby_handing_over(n);
}

static bool be_leader_api(void *ctx, char *out, size_t cap)
{
    tcn_node *n = ctx;
    if (n->leader == 0 || (n->leader == n->self_id && node_standby_handing_over(n)))
        return false; /* "no leader: retry" while a standby hands over, not a redirect to itself */
    if (n->leader == n->self_id) {
        snprintf(out, cap, "%s", n->self_api);
        return true;
    }
    node_peer *p = node_peer_find(n, n->leader);
    if (p == NULL || p->api[0] == '\0')
        return false;
    snprintf(out, cap, "%s", p->api);
    return true;
}

static uint64_t be_now_ms(void *ctx)
{
    (void)ctx;
    return node_wall_ms();
}

static void be_random(void *ctx, uint8_t *out, size_t len)
{
    (void)ctx;
    randombytes_buf(out, len);
}

int node_propose_wait(tcn_node *n, const uint8_t *cmd, size_t len, tcn_api_done_fn done, void *arg);

static int be_propose(void *ctx, const uint8_t *cmd, size_t len, tcn_api_done_fn done, void *arg)
{
    return node_propose_wait(ctx, cmd, len, done, arg);
}

static int be_attestation(void *ctx, tcn_buf *cert_der, tcn_claims *claims, uint8_t group_id[TCN_STATE_GROUP_ID_LEN],
                          bool *has_group)
{
    tcn_node *n = ctx;
    tcn_error err;
    size_t start = cert_der->len;
    TCN_GUARD(tcn_ratls_identity_cert_der(n->id, cert_der, &err));
    /* Our claims as any verifier reads them: our own certificate verified
     * with our own policy. */
    tcn_ratls_peer self;
    int rc = tcn_ratls_verify_der(cert_der->p + start, cert_der->len - start, &n->pol, &self, &err);
    if (rc != TCN_OK)
        return rc;
    *claims = self.claims;
    *has_group = tcn_ratls_identity_group(n->id, group_id);
    return TCN_OK;
}

static void put(tcn_buf *b, const char *name, const char *help, const char *type, uint64_t v)
{
    char line[512];
    int k = snprintf(line, sizeof(line), "# HELP %s %s\n# TYPE %s %s\n%s %" PRIu64 "\n", name, help, name, type,
                     name, v);
    if (k > 0 && tcn_buf_append(b, line, (size_t)k < sizeof(line) ? (size_t)k : sizeof(line) - 1) != TCN_OK)
        return; /* out of memory: the page ends early */
}

static void be_metrics(void *ctx, tcn_buf *out)
{
    tcn_node *n = ctx;
    tcn_peer_stats ps;
    tcn_peer_mesh_stats(n->mesh, &ps);
    tcn_chain_port_stats cs;
    tcn_chain_port_stats_get(n->port, &cs);
    tcn_exec_stats xcopy;
    pthread_mutex_lock(&n->exec_mu); /* the executor's thread updates its copy after each step */
    xcopy = n->exec_stats;
    pthread_mutex_unlock(&n->exec_mu);
    const tcn_exec_stats *xs = &xcopy;
    char line[256];
    int k = snprintf(line, sizeof(line),
                     "# HELP tcn_role 1 for the role this node has now\n# TYPE tcn_role gauge\n"
                     "tcn_role{role=\"leader\"} %d\ntcn_role{role=\"follower\"} %d\ntcn_role{role=\"candidate\"} %d\n",
                     n->role == TCN_RAFT_LEADER, n->role == TCN_RAFT_FOLLOWER,
                     n->role != TCN_RAFT_LEADER && n->role != TCN_RAFT_FOLLOWER);
    if (k > 0 && tcn_buf_append(out, line, (size_t)k < sizeof(line) ? (size_t)k : sizeof(line) - 1) != TCN_OK)
        return;
    put(out, "tcn_term", "the current Raft term", "gauge", n->term);
    put(out, "tcn_commit_index", "the Raft commit index", "gauge", tcn_raft_commit_index(n->raft));
    put(out, "tcn_applied_index", "the index the state machine has applied", "gauge", tcn_state_applied_index(n->st));
    put(out, "tcn_peers_connected", "peer connections up (both directions)", "gauge",
        (uint64_t)ps.conns_up_in + ps.conns_up_out);
    put(out, "tcn_attestation_failures_total", "peers refused by an attestation or protocol check", "counter",
        n->attest_refusals);
    put(out, "tcn_failovers_total", "leader changes this node has seen", "counter", n->leader_changes);
    put(out, "tcn_payouts_landed_total", "payout outcomes LANDED_OK this node applied", "counter", n->payouts_landed);
    put(out, "tcn_commands_applied_total", "commands applied", "counter", n->applied_cmds);
    put(out, "tcn_commands_refused_total", "commands refused by apply", "counter", n->refused_cmds);
    put(out, "tcn_peer_backpressure_drops_total", "raft messages dropped for a slow peer", "counter",
        ps.drops_backpressure);
    put(out, "tcn_peer_reattest_failures_total", "peers dropped at re-attestation", "counter", ps.reattest_failed);
    put(out, "tcn_chain_rpc_calls_total", "JSON-RPC calls to the chain", "counter", cs.calls);
    put(out, "tcn_chain_rpc_errors_total", "chain calls that failed", "counter", cs.errors);
    put(out, "tcn_exec_transactions_sent_total", "transactions the executor sent", "counter", xs->sent);
    put(out, "tcn_exec_steps_total", "executor passes", "counter", atomic_load(&n->exec_steps));
    put(out, "tcn_exec_sends_refused_total", "sends held back: leadership not confirmed lately", "counter",
        atomic_load(&n->sends_refused));
}

static int be_cluster_replace(void *ctx, uint64_t old_id, uint64_t new_id, tcn_error *err)
{
    tcn_node *n = ctx;
    const tcn_raft_config *c = tcn_raft_config_of(n->raft);
    TCN_ENSURE(tcn_raft_config_find(c, old_id) != NULL, err, TCN_ERR_NOT_FOUND, "node %016" PRIx64 " is not a member",
               old_id);
    TCN_ENSURE(new_id == 0 || tcn_raft_config_find(c, new_id) != NULL, err, TCN_ERR_NOT_FOUND,
               "node %016" PRIx64 " is not a member: it joins as a learner first (start it with --join)", new_id);
    TCN_ENSURE(old_id != n->self_id, err, TCN_ERR_USAGE,
               "node %016" PRIx64 " is the leader answering: transfer leadership first", old_id);
    int rc = new_id == 0 ? tcn_raft_remove(n->raft, old_id) : tcn_raft_replace(n->raft, old_id, new_id);
    if (rc == TCN_ERR_BUSY)
        return tcn_err_set(err, rc, "another membership change is in progress, or the learner has not caught up: retry");
    if (rc != TCN_OK)
        return tcn_err_set(err, rc, "refused by the raft core (%s)", tcn_err_name(rc));
    node_drain(n);
    return TCN_OK;
}

static int be_cluster_transfer(void *ctx, uint64_t to_id, tcn_error *err)
{
    tcn_node *n = ctx;
    const tcn_raft_config *c = tcn_raft_config_of(n->raft);
    TCN_ENSURE(tcn_raft_config_is_voter(c, to_id), err, TCN_ERR_NOT_FOUND, "node %016" PRIx64 " is not a voter", to_id);
    TCN_ENSURE(to_id != n->self_id, err, TCN_ERR_USAGE, "node %016" PRIx64 " already leads", to_id);
    int rc = tcn_raft_transfer_leadership(n->raft, to_id);
    if (rc != TCN_OK)
        return tcn_err_set(err, rc, "leadership transfer refused (%s): retry", tcn_err_name(rc));
    node_drain(n);
    return TCN_OK;
}

void node_api_backend(tcn_node *n, tcn_api_backend *b)
{
    memset(b, 0, sizeof(*b));
    b->ctx = n;
    b->state = be_state;
    b->status = be_status;
    b->writable = be_writable;
    b->leader_api = be_leader_api;
    b->now_ms = be_now_ms;
    b->random = be_random;
    b->propose = be_propose;
    b->attestation = be_attestation;
    b->metrics = be_metrics;
    b->cluster_replace = be_cluster_replace;
    b->cluster_transfer = be_cluster_transfer;
}
