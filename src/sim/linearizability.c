/* Linearizability of one register's history: Wing & Gong's search with Lowe's just-in-time lifting and a memo of (linearized set, state). */
#include <stdlib.h>
#include <string.h>

#include "sim/sim.h"
#include "util/assert.h"

/*
 * The history of a KV map splits into one history per key: the keys are
 * independent registers, and a history of independent objects is
 * linearizable iff each object's is (Herlihy & Wing, locality).
 *
 * The search (G. Lowe, "Testing for linearizability", 2017, after Wing &
 * Gong 1993): the call and return events in real-time order form a list.
 * Walking it, a call whose operation the model accepts in the current state
 * is linearized: the operation's call and return leave the list and the walk
 * restarts at its head. Reaching a return whose operation is not linearized
 * yet means a wrong choice was made earlier: undo the last linearization and
 * try the next call after it. The memo of (set of linearized operations,
 * state) pairs already explored keeps the search polynomial in practice.
 * An operation whose outcome is unknown (a write whose client timed out)
 * returns at infinity: it may take effect anywhere after its call, or never.
 */

#define END ((int)(2 * LIN_OPS_MAX + 1))

typedef struct ent {
    uint64_t time;
    uint32_t op;
    bool call;
    bool infinite;
    int prev, next, match;
} ent;

typedef struct memo {
    uint64_t *bits;
    uint64_t *state;
    uint8_t *used;
    size_t cap, n;
} memo;

static uint64_t memo_hash(uint64_t bits, uint64_t state)
{
    uint64_t x = bits * 0x9e3779b97f4a7c15ull ^ state;
    return sim_splitmix64(&x);
}

static bool memo_insert(memo *m, uint64_t bits, uint64_t state);

static void memo_grow(memo *m)
{
    memo old = *m;
    m->cap = old.cap ? old.cap * 2 : 1024;
    m->n = 0;
    m->bits = calloc(m->cap, sizeof(uint64_t));
    m->state = calloc(m->cap, sizeof(uint64_t));
    m->used = calloc(m->cap, 1);
    TCN_ASSERT(m->bits != NULL && m->state != NULL && m->used != NULL);
    for (size_t i = 0; i < old.cap; i++)
        if (old.used[i])
            (void)memo_insert(m, old.bits[i], old.state[i]);
    free(old.bits);
    free(old.state);
    free(old.used);
}

/* True when (bits, state) was not there yet. */
static bool memo_insert(memo *m, uint64_t bits, uint64_t state)
{
    if ((m->n + 1) * 2 > m->cap)
        memo_grow(m);
    size_t j = memo_hash(bits, state) & (m->cap - 1);
    for (;;) {
        if (!m->used[j]) {
            m->used[j] = 1;
            m->bits[j] = bits;
            m->state[j] = state;
            m->n++;
            return true;
        }
        if (m->bits[j] == bits && m->state[j] == state)
            return false;
        j = (j + 1) & (m->cap - 1);
    }
}

/* The register's sequential specification. */
static bool model_step(const lin_op *o, uint64_t state, uint64_t *next)
{
    switch (o->kind) {
    case SIM_OP_PUT:
        *next = o->a;
        return true;
    case SIM_OP_GET:
        *next = state;
        return o->result == state;
    case SIM_OP_CAS: {
        bool hit = state == o->a;
        *next = hit ? o->b : state;
        return o->unknown || (o->result != 0) == hit;
    }
    default:
        return false;
    }
}

static int cmp_ent(const void *x, const void *y)
{
    const ent *a = x, *b = y;
    if (a->time != b->time)
        return a->time < b->time ? -1 : 1;
    if (a->call != b->call)
        return a->call ? -1 : 1; /* cannot happen with distinct event numbers */
    return a->op < b->op ? -1 : a->op > b->op;
}

static void lift(ent *e, int i)
{
    ent *c = &e[i], *r = &e[c->match];
    e[c->prev].next = c->next;
    e[c->next].prev = c->prev;
    e[r->prev].next = r->next;
    e[r->next].prev = r->prev;
}

static void unlift(ent *e, int i)
{
    ent *c = &e[i], *r = &e[c->match];
    e[r->prev].next = c->match;
    e[r->next].prev = c->match;
    e[c->prev].next = i;
    e[c->next].prev = i;
}

int lin_check_register(const lin_op *ops, size_t n, uint64_t budget, uint64_t *steps_out)
{
    TCN_ASSERT(n <= LIN_OPS_MAX);
    if (steps_out != NULL)
        *steps_out = 0;
    if (n == 0)
        return LIN_OK;
    /* Entries 0..2n-1 sorted by time, then head (2n) and tail (END) sentinels. */
    ent e[2 * LIN_OPS_MAX + 2];
    size_t k = 0;
    for (uint32_t i = 0; i < n; i++) {
        e[k++] = (ent){.time = ops[i].call, .op = i, .call = true};
        e[k++] = (ent){.time = ops[i].unknown ? UINT64_MAX : ops[i].ret, .op = i, .call = false,
                       .infinite = ops[i].unknown};
    }
    qsort(e, k, sizeof(ent), cmp_ent);
    int head = (int)k;
    e[head] = (ent){.prev = -1, .next = 0};
    e[END] = (ent){.prev = (int)k - 1, .next = -1};
    for (int i = 0; i < (int)k; i++) {
        e[i].prev = i == 0 ? head : i - 1;
        e[i].next = i == (int)k - 1 ? END : i + 1;
    }
    int call_of[LIN_OPS_MAX], ret_of[LIN_OPS_MAX];
    for (int i = 0; i < (int)k; i++) {
        if (e[i].call)
            call_of[e[i].op] = i;
        else
            ret_of[e[i].op] = i;
    }
    for (uint32_t i = 0; i < n; i++)
        e[call_of[i]].match = ret_of[i];

    memo m = {0};
    struct {
        int entry;
        uint64_t state;
    } stack[LIN_OPS_MAX];
    size_t depth = 0;
    uint64_t state = 0, bits = 0, steps = 0;
    int result = LIN_OK;
    int cur = e[head].next;
    while (e[head].next != END) {
        if (++steps > budget) {
            result = LIN_UNKNOWN;
            break;
        }
        TCN_ASSERT(cur != END);
        ent *x = &e[cur];
        if (x->call) {
            uint64_t next;
            if (model_step(&ops[x->op], state, &next)) {
                uint64_t nb = bits | (1ull << x->op);
                if (memo_insert(&m, nb, next)) {
                    stack[depth].entry = cur;
                    stack[depth].state = state;
                    depth++;
                    state = next;
                    bits = nb;
                    lift(e, cur);
                    cur = e[head].next;
                    continue;
                }
            }
            cur = x->next;
            continue;
        }
        if (x->infinite)
            break; /* only operations of unknown outcome are left: they need not have happened */
        if (depth == 0) {
            result = LIN_VIOLATION;
            break;
        }
        depth--;
        int c = stack[depth].entry;
        state = stack[depth].state;
        bits &= ~(1ull << e[c].op);
        unlift(e, c);
        cur = e[c].next;
    }
    free(m.bits);
    free(m.state);
    free(m.used);
    if (steps_out != NULL)
        *steps_out = steps;
    return result;
}
