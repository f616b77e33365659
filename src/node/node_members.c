/* Who is in the network: bootstrap (Consul's --bootstrap-expect), joins
 * (an attested node that is not a member becomes a learner), promotion,
 * automatic replacement of a dead voter, the first GENESIS. Leader-side
 * decisions run on every tick; they are retried until the core accepts
 * them (one membership change at a time, DESIGN §6). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "node/frame.h"
#include "node/node_internal.h"
#include "state/cmd.h"
#include "util/log.h"

static void hex_id(char out[17], uint64_t id) { snprintf(out, 17, "%016llx", (unsigned long long)id); }

node_peer *node_peer_find(tcn_node *n, uint64_t id)
{
    for (size_t i = 0; i < n->n_peers; i++)
        if (n->peers[i].id == id)
            return &n->peers[i];
    return NULL;
}

static bool group_zero(const uint8_t *g)
{
    for (size_t i = 0; i < TCN_RATLS_GROUP_ID_LEN; i++)
        if (g[i] != 0)
            return false;
    return true;
}

/* Bootstrap (Consul's --bootstrap-expect N, made deterministic): the first
 * configuration is this node and the N-1 nodes its join list names (the
 * configuration check makes the list name exactly N-1 others), once all of
 * them are connected, attested, and belong to no network. Every bootstrap
 * node names the same set, so every one computes the same configuration;
 * only the smallest id creates it, the others wait for its messages. A
 * node that is not in a join list (a joiner) never counts, so a fourth node
 * can never make two configurations. Re-evaluated at every peer change and
 * tick until the node has a configuration. A node that sees a peer of an
 * existing network joins that network instead. */
static void maybe_bootstrap(tcn_node *n)
{
    if (n->cfg.bootstrap_expect == 0 || tcn_raft_config_of(n->raft)->n != 0 || n->bootstrapped)
        return;
    uint64_t ids[TCN_RAFT_MEMBERS_MAX];
    size_t k = 0;
    ids[k++] = n->self_id;
    for (size_t i = 0; i < n->n_peers; i++) {
        node_peer *p = &n->peers[i];
        if (p->up == 0)
            continue;
        if (p->group_present) {
            if (!n->join_instead) {
                n->join_instead = true;
                tcn_log(TCN_LOG_INFO, "a network exists: joining it instead of bootstrapping", "peer", p->name, NULL);
            }
            return;
        }
        if (p->in_join && k < TCN_RAFT_MEMBERS_MAX)
            ids[k++] = p->id;
    }
    if (k != n->cfg.bootstrap_expect)
        return;
    /* Alone (bootstrap_expect 1) but told of other nodes: give them an
     * election timeout to show us a network we should join instead. */
    if (k == 1 && n->cfg.join_count > 0 && node_mono_ms() < n->boot_ms + n->cfg.election_timeout_ms)
        return;
    uint64_t smallest = n->self_id;
    for (size_t i = 1; i < k; i++)
        if (ids[i] < smallest)
            smallest = ids[i];
    if (smallest != n->self_id) {
        if (!n->bootstrap_waiting) {
            n->bootstrap_waiting = true;
            char a[17];
            hex_id(a, smallest);
            tcn_log(TCN_LOG_INFO, "bootstrap: all nodes seen; the smallest id creates the first configuration",
                    "creator", a, NULL);
        }
        return;
    }
    if (tcn_raft_bootstrap(n->raft, ids, k) != TCN_OK) {
        tcn_log(TCN_LOG_ERROR, "bootstrap refused by the raft core", NULL);
        return;
    }
    n->bootstrapped = true;
    char nb[24];
    snprintf(nb, sizeof(nb), "%zu", k);
    tcn_log(TCN_LOG_INFO, "bootstrap: first configuration created", "voters", nb, NULL);
}

void node_members_boot_tick(tcn_node *n) { maybe_bootstrap(n); }

static bool peer_in_join(const tcn_node *n, const tcn_peer_info *info)
{
    for (size_t i = 0; i < n->cfg.join_count; i++) {
        char a[TCN_NODE_ADDR_CHARS_MAX + 1];
        tcn_node_addr_format(&n->cfg.join[i], a, sizeof(a));
        if ((info->peer_addr != NULL && strcmp(a, info->peer_addr) == 0) ||
            (info->direction == TCN_PEER_OUTBOUND && info->remote != NULL && strcmp(a, info->remote) == 0))
            return true;
    }
    return false;
}

void node_peer_up(tcn_node *n, const tcn_peer_info *info)
{
    node_peer *p = node_peer_find(n, info->node_id);
    if (p == NULL) {
        if (n->n_peers == NODE_PEERS_MAX) {
            /* Forget the longest-gone peer that is not connected. */
            size_t victim = NODE_PEERS_MAX;
            for (size_t i = 0; i < n->n_peers; i++)
                if (n->peers[i].up == 0 &&
                    (victim == NODE_PEERS_MAX || n->peers[i].last_seen_ms < n->peers[victim].last_seen_ms))
                    victim = i;
            if (victim == NODE_PEERS_MAX)
                return;
            n->peers[victim] = n->peers[--n->n_peers];
        }
        p = &n->peers[n->n_peers++];
        memset(p, 0, sizeof(*p));
        p->id = info->node_id;
    }
    snprintf(p->name, sizeof(p->name), "%s", info->name);
    snprintf(p->api, sizeof(p->api), "%s", info->api_addr);
    snprintf(p->peer_addr, sizeof(p->peer_addr), "%s", info->peer_addr);
    p->group_present = !group_zero(info->group_id);
    if (p->group_present)
        memcpy(p->group_id, info->group_id, TCN_RATLS_GROUP_ID_LEN);
    p->up++;
    p->left = false;
    p->in_join = p->in_join || peer_in_join(n, info);
    p->last_seen_ms = node_mono_ms();
    maybe_bootstrap(n);
}

void node_peer_down(tcn_node *n, uint64_t id, const char *why)
{
    node_peer *p = node_peer_find(n, id);
    if (p == NULL)
        return;
    /* The mesh reports a BYE as "the peer said BYE <REASON> (...)"; the BYE
     * came over the peer's own attested channel, so only that node can say
     * it is leaving. */
    char bye[64];
    snprintf(bye, sizeof(bye), "the peer said BYE %s ", tcn_frame_bye_reason_name(TCN_FRAME_BYE_SHUTDOWN));
    if (why != NULL && strncmp(why, bye, strlen(bye)) == 0)
        p->left = true;
    if (p->up > 0)
        p->up--;
    p->last_seen_ms = node_mono_ms();
}

void node_members_on_config(tcn_node *n, const tcn_raft_config *c)
{
    /* The network's size: what we bootstrapped with, or, for a node that
     * joined, the voters of the first configuration it saw itself in. */
    if (n->voters_target == 0) {
        if (n->cfg.bootstrap_expect > 0 && !n->join_instead)
            n->voters_target = n->cfg.bootstrap_expect;
        else if (tcn_raft_config_find(c, n->self_id) != NULL)
            n->voters_target = tcn_raft_config_voters(c) > 0 ? tcn_raft_config_voters(c) : 1;
    }
}

static bool peer_dead(tcn_node *n, uint64_t id, uint64_t now)
{
    if (n->cfg.replace_after_ms == 0)
        return false;
    node_peer *p = node_peer_find(n, id);
    uint64_t since = n->lead_since_ms;
    if (p != NULL) {
        if (p->up > 0)
            return false;
        if (p->last_seen_ms > since)
            since = p->last_seen_ms;
    }
    return now >= since + n->cfg.replace_after_ms;
}

static void propose_genesis(tcn_node *n)
{
    if (tcn_state_has_genesis(n->st) || n->genesis_term == n->term)
        return;
    if (!n->cfg.operator_key_set) {
        if (n->genesis_term != n->term)
            tcn_log(TCN_LOG_ERROR, "cannot create the network: no operator_key configured", NULL);
        n->genesis_term = n->term;
        return;
    }
    tcn_cmd c;
    memset(&c, 0, sizeof(c));
    c.type = TCN_CMD_GENESIS;
    c.ts_ms = node_wall_ms();
    /* The group id and the coordinator's key come from this enclave's
     * randomness and exist only inside enclaves and TLS from now on. */
    randombytes_buf(c.u.genesis.group_id, sizeof(c.u.genesis.group_id));
    randombytes_buf(c.u.genesis.coordinator_seed, sizeof(c.u.genesis.coordinator_seed));
    c.u.genesis.operator_key = n->cfg.operator_key;
    tcn_buf b;
    memset(&b, 0, sizeof(b));
    tcn_error err;
    if (tcn_cmd_encode(&c, &b, &err) == TCN_OK && node_propose(n, b.p, b.len, NULL) == TCN_OK) {
        n->genesis_term = n->term;
        tcn_log(TCN_LOG_INFO, "genesis proposed: group id and coordinator key created in the enclave", NULL);
    }
    tcn_cmd_wipe(&c);
    tcn_buf_free_wipe(&b);
}

/* A standby that leads hands leadership to a healthy voter that holds the
 * whole log (at most once per election timeout); it leads only while no
 * such voter exists. */
/* A healthy voter holding our whole log, or 0. */
static uint64_t standby_target(tcn_node *n)
{
    if (!n->cfg.standby || n->role != TCN_RAFT_LEADER || n->standby_failures >= NODE_STANDBY_TRIES_MAX)
        return 0;
    const tcn_raft_config *c = tcn_raft_config_of(n->raft);
    uint64_t last = tcn_raft_last_index(n->raft);
    for (uint32_t i = 0; i < c->n; i++) {
        uint64_t id = c->members[i].id;
        node_peer *p = node_peer_find(n, id);
        tcn_raft_progress_info pi;
        if (id != n->self_id && tcn_raft_config_is_voter(c, id) && p != NULL && p->up > 0 &&
            tcn_raft_progress_of(n->raft, id, &pi) && pi.match >= last)
            return id;
    }
    return 0;
}

bool node_standby_handing_over(tcn_node *n)
{
    return standby_target(n) != 0;
}

static void standby_tick(tcn_node *n, uint64_t now)
{
    if (!n->cfg.standby || n->role != TCN_RAFT_LEADER || now < n->standby_next_ms)
        return;
    uint64_t to = standby_target(n);
    if (to == 0)
        return;
    n->standby_next_ms = now + n->cfg.election_timeout_ms;
    /* Counted as failed until we stop leading; after a few the standby
     * serves writes itself rather than refuse them for ever. */
    n->standby_failures++;
    if (tcn_raft_transfer_leadership(n->raft, to) == TCN_OK) {
        char a[17];
        hex_id(a, to);
        node_peer *p = node_peer_find(n, to);
        tcn_log(TCN_LOG_INFO, "standby: handing leadership over", "to", a, "name", p ? p->name : "", NULL);
    }
}

/* The leader's membership work, once per tick. */
void node_members_tick(tcn_node *n)
{
    if (n->role != TCN_RAFT_LEADER || n->stopping || !tcn_raft_commit_in_term(n->raft))
        return;
    uint64_t now = node_mono_ms();
    propose_genesis(n);
    standby_tick(n, now);
    const tcn_raft_config *c = tcn_raft_config_of(n->raft);
    char a[17], b[17];
    /* Attested nodes that are not members join as learners. A node of
     * another network (another group id) is not ours to add. */
    for (size_t i = 0; i < n->n_peers; i++) {
        node_peer *p = &n->peers[i];
        if (p->up == 0 || tcn_raft_config_find(c, p->id) != NULL)
            continue;
        if (p->group_present && tcn_state_has_genesis(n->st) &&
            memcmp(p->group_id, tcn_state_group_id(n->st), TCN_RATLS_GROUP_ID_LEN) != 0)
            continue;
        if (tcn_raft_add_learner(n->raft, p->id) == TCN_OK) {
            hex_id(a, p->id);
            tcn_log(TCN_LOG_INFO, "membership: learner added", "node", a, "name", p->name, NULL);
            return; /* one change at a time */
        }
    }
    /* A member that said it is leaving (SIGTERM) is removed at once rather
     * than after replace_after_ms. */
    for (size_t i = 0; i < n->n_peers; i++) {
        node_peer *p = &n->peers[i];
        if (!p->left || p->up > 0 || p->id == n->self_id || tcn_raft_config_find(c, p->id) == NULL)
            continue;
        if (tcn_raft_remove(n->raft, p->id) == TCN_OK) {
            hex_id(a, p->id);
            tcn_log(TCN_LOG_INFO, "membership: a member left (it said BYE SHUTDOWN): removed", "node", a, "name",
                    p->name, NULL);
        }
        return;
    }
    /* Learners that refuse our log (their hash chain disagrees: a node that
     * made a configuration of its own) are removed: they can never catch up. */
    for (uint32_t i = 0; i < c->n; i++) {
        uint64_t id = c->members[i].id;
        node_peer *p = node_peer_find(n, id);
        if (id == n->self_id || tcn_raft_config_is_voter(c, id) || p == NULL || !p->corrupt)
            continue;
        if (tcn_raft_remove(n->raft, id) == TCN_OK) {
            hex_id(a, id);
            tcn_log(TCN_LOG_WARN, "membership: a learner whose log disagrees with ours removed", "node", a, NULL);
        }
        return;
    }
    /* The voters: the target is the network's size (bootstrap_expect, or
     * the voters of the first configuration this node saw itself in), never
     * the most ever seen (a replacement briefly has one voter more). */
    uint32_t voters = tcn_raft_config_voters(c);
    uint64_t dead_voter = 0, dead_learner = 0, best = 0, best_match = 0;
    for (uint32_t i = 0; i < c->n; i++) {
        uint64_t id = c->members[i].id;
        if (id == n->self_id)
            continue;
        bool dead = peer_dead(n, id, now);
        if (tcn_raft_config_is_voter(c, id)) {
            if (dead && dead_voter == 0)
                dead_voter = id;
            continue;
        }
        if (dead) {
            if (dead_learner == 0)
                dead_learner = id;
            continue;
        }
        /* Only a learner that has caught up for real: it answered, it is
         * being replicated to, and it holds nearly our whole log (the
         * core's own check counts entries, which a brand-new learner of a
         * short log passes before it has received anything). */
        tcn_raft_progress_info pi;
        node_peer *p = node_peer_find(n, id);
        uint64_t last = tcn_raft_last_index(n->raft);
        if (p != NULL && p->up > 0 && tcn_raft_progress_of(n->raft, id, &pi) && pi.match > 0 &&
            pi.state == TCN_RAFT_PROGRESS_REPLICATE && pi.match + NODE_PROMOTE_LAG_MAX >= last &&
            (best == 0 || pi.match > best_match)) {
            best = id;
            best_match = pi.match;
        }
    }
    if (dead_learner != 0) {
        if (tcn_raft_remove(n->raft, dead_learner) == TCN_OK) {
            hex_id(a, dead_learner);
            tcn_log(TCN_LOG_INFO, "membership: dead learner removed", "node", a, NULL);
        }
        return;
    }
    if (dead_voter != 0 && voters > n->voters_target) {
        /* More voters than the network's size (an interrupted replacement):
         * the dead one goes, no learner needed. */
        if (tcn_raft_remove(n->raft, dead_voter) == TCN_OK) {
            hex_id(a, dead_voter);
            tcn_log(TCN_LOG_INFO, "membership: dead voter removed (more voters than the network's size)", "node", a,
                    NULL);
        }
        return;
    }
    if (best == 0)
        return;
    if (voters < n->voters_target) {
        if (tcn_raft_promote(n->raft, best) == TCN_OK) {
            hex_id(a, best);
            tcn_log(TCN_LOG_INFO, "membership: learner promoted", "node", a, NULL);
        }
        return;
    }
    if (dead_voter != 0 && tcn_raft_replace(n->raft, dead_voter, best) == TCN_OK) {
        hex_id(a, dead_voter);
        hex_id(b, best);
        tcn_log(TCN_LOG_INFO, "membership: dead voter replaced", "dead", a, "by", b, NULL);
    }
}
