/* The state object: creation and release, the dense id-indexed tables, and the read views (no secrets). */
#include <stdlib.h>
#include <string.h>

#include "chain/base58.h"
#include "state/internal.h"
#include "util/assert.h"
#include "util/secmem.h"

int tcn_state_new(tcn_state **out)
{
    TCN_ASSERT(out != NULL);
    *out = NULL;
    tcn_state *st = calloc(1, sizeof(*st));
    if (st == NULL)
        return TCN_ERR_NOMEM;
    st->root = tcn_secure_alloc(TCN_STATE_ROOT_BYTES);
    if (st->root == NULL) {
        free(st);
        return TCN_ERR_NOMEM;
    }
    memset(st->root, 0, TCN_STATE_ROOT_BYTES);
    *out = st;
    return TCN_OK;
}

void tcn_state_records_free(tcn_state *st)
{
    for (size_t i = 0; i < st->n_keys; i++)
        free(st->keys[i].policy);
    free(st->keys);
    for (size_t i = 0; i < st->n_swaps; i++) {
        free(st->swaps[i].refund);
        free(st->swaps[i].intent_tx);
        free(st->swaps[i].payouts);
    }
    free(st->swaps);
    free(st->payouts);
    st->keys = NULL;
    st->swaps = NULL;
    st->payouts = NULL;
    st->n_keys = st->cap_keys = st->n_swaps = st->cap_swaps = st->n_payouts = st->cap_payouts = 0;
}

void tcn_state_free(tcn_state *st)
{
    if (st == NULL)
        return;
    tcn_state_records_free(st);
    tcn_state_secrets_free(&st->key_secrets);
    tcn_state_secrets_free(&st->nonce_secrets);
    tcn_state_table_free(&st->clients);
    tcn_state_table_free(&st->accounts);
    tcn_secure_free(st->root); /* wipes the coordinator key and the hash key */
    tcn_wipe(st, sizeof(*st));
    free(st);
}

/* --- Dense tables ------------------------------------------------------------ */

tcn_state_key_rec *tcn_state_key_get(const tcn_state *st, uint64_t id)
{
    return id >= 1 && id <= st->n_keys ? &st->keys[id - 1] : NULL;
}

tcn_state_swap_rec *tcn_state_swap_get(const tcn_state *st, uint64_t id)
{
    return id >= 1 && id <= st->n_swaps ? &st->swaps[id - 1] : NULL;
}

tcn_state_payout_rec *tcn_state_payout_get(const tcn_state *st, uint64_t id)
{
    return id >= 1 && id <= st->n_payouts ? &st->payouts[id - 1] : NULL;
}

const uint8_t *tcn_state_key_secret(const tcn_state *st, uint64_t key_id)
{
    TCN_ASSERT(key_id >= 1 && key_id <= st->n_keys);
    return tcn_state_secrets_at(&st->key_secrets, key_id - 1);
}

const uint8_t *tcn_state_nonce_secret(const tcn_state *st, uint64_t swap_id)
{
    TCN_ASSERT(swap_id >= 1 && swap_id <= st->n_swaps);
    return tcn_state_secrets_at(&st->nonce_secrets, swap_id - 1);
}

const tcn_key_policy *tcn_state_key_policy(const tcn_state_key_rec *k)
{
    static const tcn_key_policy empty;
    return k->policy != NULL ? k->policy : &empty;
}

/* Grows a dense array to hold one more element (geometric, so appends are
 * amortised O(1)). The arrays hold no secrets, so realloc may move them. */
static int grow(void **v, size_t *cap, size_t n, size_t elem)
{
    if (n < *cap)
        return TCN_OK;
    size_t c = *cap ? *cap * 2 : 64;
    if (c > SIZE_MAX / elem)
        return TCN_ERR_NOMEM;
    void *p = realloc(*v, c * elem);
    if (p == NULL)
        return TCN_ERR_NOMEM;
    memset((uint8_t *)p + *cap * elem, 0, (c - *cap) * elem);
    *v = p;
    *cap = c;
    return TCN_OK;
}

int tcn_state_reserve_key(tcn_state *st)
{
    TCN_GUARD(grow((void **)&st->keys, &st->cap_keys, st->n_keys, sizeof(*st->keys)));
    return tcn_state_secrets_reserve(&st->key_secrets, st->n_keys + 1);
}

int tcn_state_reserve_swap(tcn_state *st)
{
    TCN_GUARD(grow((void **)&st->swaps, &st->cap_swaps, st->n_swaps, sizeof(*st->swaps)));
    return tcn_state_secrets_reserve(&st->nonce_secrets, st->n_swaps + 1);
}

int tcn_state_reserve_payout(tcn_state *st)
{
    return grow((void **)&st->payouts, &st->cap_payouts, st->n_payouts, sizeof(*st->payouts));
}

const char *tcn_state_b58(const tcn_chain_pubkey *pk, char out[48])
{
    tcn_chain_pubkey_to_base58(pk, out);
    return out;
}

/* --- Views ----------------------------------------------------------------------- */

uint64_t tcn_state_applied_index(const tcn_state *st) { return st->applied_index; }
uint64_t tcn_state_now_ms(const tcn_state *st) { return st->now_ms; }
bool tcn_state_has_genesis(const tcn_state *st) { return st->genesis; }
const tcn_chain_pubkey *tcn_state_coordinator_key(const tcn_state *st) { return &st->coordinator; }
const uint8_t *tcn_state_group_id(const tcn_state *st) { return st->group_id; }

tcn_role tcn_state_client_role(const tcn_state *st, const tcn_chain_pubkey *client)
{
    return (tcn_role)tcn_state_table_get(&st->clients, client);
}

bool tcn_state_key(const tcn_state *st, uint64_t key_id, tcn_key_view *out)
{
    const tcn_state_key_rec *k = tcn_state_key_get(st, key_id);
    memset(out, 0, sizeof(*out));
    if (k == NULL)
        return false;
    out->id = key_id;
    out->kind = k->kind;
    out->owner = k->owner;
    out->pubkey = k->pubkey;
    out->policy = *tcn_state_key_policy(k);
    out->day = k->day;
    out->day_spent = k->day_spent;
    out->swap_id = k->swap_id;
    return true;
}

uint64_t tcn_state_swap_count(const tcn_state *st) { return st->n_swaps; }

bool tcn_state_swap(const tcn_state *st, uint64_t swap_id, tcn_swap_view *out)
{
    const tcn_state_swap_rec *sw = tcn_state_swap_get(st, swap_id);
    memset(out, 0, sizeof(*out));
    if (sw == NULL)
        return false;
    out->id = swap_id;
    out->status = sw->status;
    out->user = sw->user;
    out->lp = sw->lp;
    out->refund_to = sw->refund_to;
    out->escrow_key_id = sw->escrow_key_id;
    out->escrow = tcn_state_key_get(st, sw->escrow_key_id)->pubkey;
    out->nonce = sw->nonce;
    out->amount = sw->amount;
    out->deadline_ms = sw->deadline_ms;
    out->created_ms = sw->created_ms;
    out->funded = sw->funded;
    out->nonce_initialized = sw->nonce_initialized;
    out->nonce_value = sw->nonce_value;
    out->escrow_lamports = sw->escrow_lamports;
    out->observed_slot = sw->observed_slot;
    out->refund = sw->refund;
    out->refund_len = sw->refund_len;
    out->intent_payout_id = sw->intent_payout_id;
    out->intent_nonce_value = sw->intent_nonce_value;
    out->intent_tx = sw->intent_tx;
    out->intent_tx_len = sw->intent_tx_len;
    out->n_payouts = sw->n_payouts;
    return true;
}

uint64_t tcn_state_payout_count(const tcn_state *st) { return st->n_payouts; }

bool tcn_state_payout(const tcn_state *st, uint64_t payout_id, tcn_payout_view *out)
{
    const tcn_state_payout_rec *p = tcn_state_payout_get(st, payout_id);
    memset(out, 0, sizeof(*out));
    if (p == NULL)
        return false;
    out->id = payout_id;
    out->swap_id = p->swap_id;
    out->status = p->status;
    out->destination = p->destination;
    out->amount = p->amount;
    out->due_ms = p->due_ms;
    out->attempts = p->attempts;
    out->sig = p->sig;
    out->landed_slot = p->landed_slot;
    return true;
}

uint64_t tcn_state_swap_payout(const tcn_state *st, uint64_t swap_id, size_t i)
{
    const tcn_state_swap_rec *sw = tcn_state_swap_get(st, swap_id);
    return sw != NULL && i < sw->n_payouts ? sw->payouts[i] : 0;
}

size_t tcn_state_member_count(const tcn_state *st) { return st->n_members; }

bool tcn_state_member_at(const tcn_state *st, size_t i, tcn_member_view *out)
{
    memset(out, 0, sizeof(*out));
    if (i >= st->n_members)
        return false;
    out->node_id = st->members[i].node_id;
    memcpy(out->measurement, st->members[i].measurement, sizeof(out->measurement));
    memcpy(out->address, st->members[i].address, sizeof(out->address));
    return true;
}
