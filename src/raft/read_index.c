/* ReadIndex (Raft thesis §6.4): linearizable reads confirmed by a heartbeat round, no log write. */
#include "raft/internal.h"
#include "util/assert.h"

static bool committed_in_term(const tcn_raft *r) { return tcn_raft_term_at(r, r->commit) == r->term; }

static tcn_raft_read_req *req_at(tcn_raft *r, uint32_t i)
{
    return &r->reads[(r->reads_start + i) % TCN_RAFT_READS_PENDING_MAX];
}

/* Step 1 of §6.4: the read index is the commit index, once the leader
 * knows it (it has committed an entry of its own term). Step 2: a round of
 * heartbeats, numbered, that a majority must answer. */
static void assign(tcn_raft *r, tcn_raft_read_req *q)
{
    q->index = r->commit;
    q->seq = r->read_seq + 1; /* the next round; one round serves all reads assigned before it */
    r->read_round_needed = true;
}

int tcn_raft_read_index(tcn_raft *r, uint64_t ctx)
{
    TCN_ASSERT(!r->in_ready);
    if (r->role != TCN_RAFT_LEADER)
        return TCN_ERR_NOT_LEADER;
    if (r->reads_count + r->n_reads_out >= TCN_RAFT_READS_PENDING_MAX)
        return TCN_ERR_BUSY;
    tcn_raft_read_req *q = req_at(r, r->reads_count++);
    q->ctx = ctx;
    q->index = 0;
    q->seq = 0;
    if (committed_in_term(r))
        assign(r, q);
    r->dirty = true;
    return TCN_OK;
}

void tcn_raft_reads_on_commit(tcn_raft *r)
{
    if (!committed_in_term(r))
        return;
    /* Waiting requests sit at the front: they all arrived before the first commit of the term. */
    for (uint32_t i = 0; i < r->reads_count; i++) {
        tcn_raft_read_req *q = req_at(r, i);
        if (q->index != 0)
            break;
        assign(r, q);
    }
}

void tcn_raft_reads_flush(tcn_raft *r)
{
    if (r->read_round_needed) {
        r->read_round_needed = false;
        r->read_seq++;
        r->read_seq_sent = r->read_seq;
        tcn_raft_send_heartbeats(r);
    }
    tcn_raft_reads_on_ack(r); /* a leader that is the only voter confirms alone */
}

static void emit(tcn_raft *r, const tcn_raft_read_req *q, int status)
{
    TCN_ASSERT(r->n_reads_out < TCN_RAFT_READS_PENDING_MAX);
    tcn_raft_read_result *o = &r->reads_out[r->n_reads_out++];
    o->ctx = q->ctx;
    o->index = status == TCN_OK ? q->index : 0;
    o->status = status;
    r->dirty = true;
}

void tcn_raft_reads_on_ack(tcn_raft *r)
{
    if (r->reads_count == 0)
        return;
    /* The highest round a majority of voters has confirmed. */
    uint64_t acks[TCN_RAFT_MEMBERS_MAX];
    uint32_t n = 0;
    if (tcn_raft_is_voter(r, r->id))
        acks[n++] = r->read_seq_sent;
    for (uint32_t i = 0; i < r->n_prs; i++)
        if (tcn_raft_is_voter(r, r->prs[i].id))
            acks[n++] = r->prs[i].read_ack;
    uint32_t q = tcn_raft_quorum(r);
    if (n < q)
        return;
    for (uint32_t i = 1; i < n; i++) {
        uint64_t v = acks[i];
        uint32_t j = i;
        while (j > 0 && acks[j - 1] < v) {
            acks[j] = acks[j - 1];
            j--;
        }
        acks[j] = v;
    }
    uint64_t confirmed = acks[q - 1];
    while (r->reads_count > 0) {
        tcn_raft_read_req *front = req_at(r, 0);
        if (front->index == 0 || front->seq > confirmed)
            break;
        emit(r, front, TCN_OK);
        r->reads_start = (r->reads_start + 1) % TCN_RAFT_READS_PENDING_MAX;
        r->reads_count--;
    }
}

void tcn_raft_reads_fail_all(tcn_raft *r)
{
    while (r->reads_count > 0) {
        emit(r, req_at(r, 0), TCN_ERR_NOT_LEADER);
        r->reads_start = (r->reads_start + 1) % TCN_RAFT_READS_PENDING_MAX;
        r->reads_count--;
    }
    r->read_round_needed = false;
}
