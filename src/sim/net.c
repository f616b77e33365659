/* The simulated network: encoded messages in a priority queue keyed by delivery time; delay, loss, duplication, reordering, partitions. */
#include <stdlib.h>
#include <string.h>

#include "sim/sim.h"
#include "util/assert.h"

/*
 * Every message a core sends is encoded with the codec, decoded back and
 * compared (a round-trip check), and travels as bytes; the receiver decodes
 * it again. Links are directed: cutting a -> b alone is an asymmetric
 * partition. A cut is checked when the message leaves and again when it
 * arrives, so a partition drops what is in flight. Without the reorder fault
 * every link is FIFO; with it, equal delivery times break ties by a seeded
 * random number and some messages are held back.
 */

static bool pkt_before(const sim_pkt *a, const sim_pkt *b)
{
    if (a->at_us != b->at_us)
        return a->at_us < b->at_us;
    if (a->tie != b->tie)
        return a->tie < b->tie;
    return a->seq < b->seq;
}

static void heap_push(sim_net *n, sim_pkt p)
{
    if (n->n == n->cap) {
        size_t c = n->cap ? n->cap * 2 : 1024;
        sim_pkt *h = realloc(n->heap, c * sizeof(*h));
        TCN_ASSERT(h != NULL);
        n->heap = h;
        n->cap = c;
    }
    size_t i = n->n++;
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!pkt_before(&p, &n->heap[parent]))
            break;
        n->heap[i] = n->heap[parent];
        i = parent;
    }
    n->heap[i] = p;
}

static sim_pkt heap_pop(sim_net *n)
{
    TCN_ASSERT(n->n > 0);
    sim_pkt top = n->heap[0];
    sim_pkt last = n->heap[--n->n];
    size_t i = 0;
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        const sim_pkt *best = &last;
        if (l < n->n && pkt_before(&n->heap[l], best)) {
            m = l;
            best = &n->heap[l];
        }
        if (r < n->n && pkt_before(&n->heap[r], best))
            m = r;
        if (m == i)
            break;
        n->heap[i] = n->heap[m];
        i = m;
    }
    if (n->n > 0)
        n->heap[i] = last;
    return top;
}

void net_link_calm(sim *s, uint32_t a, uint32_t b)
{
    sim_link *l = &s->net.link[a][b];
    l->cut = false;
    l->loss_ppm = 0;
    l->latency_us = 200;
    l->jitter_us = sim_has(s, SIM_F_DELAY) ? 800 : 100;
}

/* A link's delay and loss, drawn per seed and redrawn by the delay and loss faults. */
void net_randomize_link(sim *s, uint32_t a, uint32_t b)
{
    sim_link *l = &s->net.link[a][b];
    if (sim_has(s, SIM_F_DELAY)) {
        /* Mostly a LAN, sometimes a slow or distant peer. */
        uint64_t lat = sim_rng_ppm(&s->rng_net, 200000) ? sim_rng_range(&s->rng_net, 5000, 40000)
                                                          : sim_rng_range(&s->rng_net, 100, 3000);
        l->latency_us = (uint32_t)lat;
        l->jitter_us = (uint32_t)sim_rng_range(&s->rng_net, 0, lat);
    } else {
        l->latency_us = 200;
        l->jitter_us = 100;
    }
    if (sim_has(s, SIM_F_LOSS) && sim_rng_ppm(&s->rng_net, 300000))
        l->loss_ppm = (uint32_t)sim_rng_range(&s->rng_net, 1000, 250000);
    else
        l->loss_ppm = 0;
}

void net_init(sim *s)
{
    sim_net *n = &s->net;
    memset(n, 0, sizeof(*n));
    n->reorder = sim_has(s, SIM_F_REORDER);
    n->reorder_ppm = n->reorder ? (uint32_t)sim_rng_range(&s->rng_net, 10000, 100000) : 0;
    n->dup_ppm = sim_has(s, SIM_F_DUP) ? (uint32_t)sim_rng_range(&s->rng_net, 2000, 40000) : 0;
    n->spike_ppm = sim_has(s, SIM_F_DELAY) ? (uint32_t)sim_rng_range(&s->rng_net, 0, 3000) : 0;
    n->spike_max_us = (uint32_t)sim_rng_range(&s->rng_net, 50000, 800000);
    for (uint32_t a = 0; a < SIM_MACHINES_MAX; a++)
        for (uint32_t b = 0; b < SIM_MACHINES_MAX; b++)
            net_randomize_link(s, a, b);
}

void net_free(sim *s)
{
    sim_net *n = &s->net;
    for (size_t i = 0; i < n->n; i++)
        free(n->heap[i].bytes);
    free(n->heap);
    tcn_buf_free(&n->enc);
    tcn_raft_decoder_free(&n->dec);
    tcn_raft_decoder_free(&n->dec_check);
    memset(n, 0, sizeof(*n));
}

void net_cut(sim *s, uint32_t a, uint32_t b, bool cut) { s->net.link[a][b].cut = cut; }

void net_cut_both(sim *s, uint32_t a, uint32_t b, bool cut)
{
    s->net.link[a][b].cut = cut;
    s->net.link[b][a].cut = cut;
}

void net_isolate(sim *s, uint32_t a, bool cut)
{
    for (uint32_t b = 0; b < SIM_MACHINES_MAX; b++)
        if (b != a)
            net_cut_both(s, a, b, cut);
}

void net_heal_all(sim *s)
{
    for (uint32_t a = 0; a < SIM_MACHINES_MAX; a++)
        for (uint32_t b = 0; b < SIM_MACHINES_MAX; b++)
            s->net.link[a][b].cut = false;
}

static uint64_t delay_us(sim *s, sim_link *l)
{
    sim_net *n = &s->net;
    uint64_t d = l->latency_us + (l->jitter_us ? sim_rng_below(&s->rng_net, (uint64_t)l->jitter_us + 1) : 0);
    if (n->spike_ppm && sim_rng_ppm(&s->rng_net, n->spike_ppm))
        d += sim_rng_range(&s->rng_net, 20000, n->spike_max_us);
    if (n->reorder && sim_rng_ppm(&s->rng_net, n->reorder_ppm))
        d += sim_rng_range(&s->rng_net, 1000, 60000);
    return d < 1 ? 1 : d;
}

void net_send(sim *s, uint32_t from, const tcn_raft_msg *m)
{
    sim_net *n = &s->net;
    tcn_error err;
    n->enc.len = 0;
    if (tcn_raft_msg_encode(m, &n->enc, &err) != TCN_OK) {
        sim_violation(s, "codec", "node %llu produced a %s the encoder refuses: %s", (unsigned long long)m->from,
                      tcn_raft_msg_type_name(m->type), err.msg);
        return;
    }
    tcn_raft_msg back;
    if (tcn_raft_msg_decode(&n->dec_check, n->enc.p, n->enc.len, &back, &err) != TCN_OK) {
        sim_violation(s, "codec", "a %s from node %llu does not decode: %s", tcn_raft_msg_type_name(m->type),
                      (unsigned long long)m->from, err.msg);
        return;
    }
    if (!tcn_raft_msg_equal(m, &back)) {
        sim_violation(s, "codec", "a %s from node %llu changes in an encode/decode round trip",
                      tcn_raft_msg_type_name(m->type), (unsigned long long)m->from);
        return;
    }
    n->sent++;
    n->bytes += n->enc.len;
    int to = node_slot_of_id(s, m->to);
    if (to < 0) {
        n->dropped++; /* nobody runs that id (crashed, removed) */
        return;
    }
    sim_link *l = &n->link[from][to];
    if (l->cut || sim_rng_ppm(&s->rng_net, l->loss_ppm)) {
        n->dropped++;
        return;
    }
    int copies = sim_rng_ppm(&s->rng_net, n->dup_ppm) ? 2 : 1;
    n->duplicated += (uint64_t)(copies - 1);
    for (int c = 0; c < copies; c++) {
        sim_pkt p;
        p.at_us = s->event_us + delay_us(s, l);
        if (!n->reorder) {
            if (p.at_us <= l->last_at_us)
                p.at_us = l->last_at_us + 1;
            l->last_at_us = p.at_us;
            p.tie = 0;
        } else {
            p.tie = sim_rng_next(&s->rng_net);
        }
        p.seq = n->seq++;
        p.from = from;
        p.to = (uint32_t)to;
        p.to_id = m->to;
        p.len = (uint32_t)n->enc.len;
        p.bytes = malloc(p.len);
        TCN_ASSERT(p.bytes != NULL);
        memcpy(p.bytes, n->enc.p, p.len);
        heap_push(n, p);
    }
}

/* Returns true when the packet was consumed (delivered or dropped), false
 * when it must wait (paused receiver that buffers). */
static bool deliver(sim *s, sim_pkt *p)
{
    sim_net *n = &s->net;
    sim_node *nd = &s->m[p->to];
    if (!nd->up || nd->id != p->to_id || n->link[p->from][p->to].cut) {
        n->dropped++;
        return true;
    }
    if (nd->paused) {
        if (nd->pause_drops) {
            n->dropped++;
            return true;
        }
        return false;
    }
    tcn_raft_msg m;
    tcn_error err;
    if (tcn_raft_msg_decode(&n->dec, p->bytes, p->len, &m, &err) != TCN_OK) {
        sim_violation(s, "codec", "a message to node %llu does not decode: %s", (unsigned long long)p->to_id,
                      err.msg);
        return true;
    }
    n->delivered++;
    if (s->opt.verbose) {
        sim_trace_bytes(s, p->bytes, p->len);
        sim_trace(s, "  %s %llu -> %llu term %llu (%u bytes, due at %.6f s)", tcn_raft_msg_type_name(m.type),
                  (unsigned long long)m.from, (unsigned long long)m.to, (unsigned long long)m.term, p->len,
                  (double)p->at_us / 1e6);
    }
    int rc = tcn_raft_step(nd->r, &m);
    if (rc != TCN_OK && rc != TCN_ERR_CORRUPT) {
        /* CORRUPT comes with a fault in the ready, which the checker reports. */
        sim_violation(s, "core", "node %llu refused a %s from node %llu: %s", (unsigned long long)nd->id,
                      tcn_raft_msg_type_name(m.type), (unsigned long long)m.from, tcn_err_name(rc));
        return true;
    }
    node_drain(s, p->to);
    return true;
}

void net_deliver_due(sim *s)
{
    sim_net *n = &s->net;
    for (uint32_t k = 0; k < SIM_DELIVERIES_PER_STEP_MAX; k++) {
        if (s->violated || n->n == 0 || n->heap[0].at_us > s->now_us)
            return;
        sim_pkt p = heap_pop(n);
        s->event_us = p.at_us;
        if (deliver(s, &p)) {
            free(p.bytes);
        } else {
            /* Held for a paused receiver: it reads its socket when it resumes. */
            const sim_node *nd = &s->m[p.to];
            uint64_t from_us = nd->pause_until_us > s->now_us ? nd->pause_until_us : s->now_us;
            p.at_us = from_us + sim_rng_below(&s->rng_net, 1000) + 1;
            p.seq = n->seq++;
            heap_push(n, p);
        }
    }
    sim_violation(s, "network", "more than %u deliveries within one step (a message storm)",
                  SIM_DELIVERIES_PER_STEP_MAX);
}
