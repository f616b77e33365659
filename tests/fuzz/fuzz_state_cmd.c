/* libFuzzer target: state commands, decoded and applied. Whatever decodes must re-encode to the same bytes;
 * apply must decide (every refusal with a reason), never crash, and leave a state whose snapshot restores to
 * the same bytes. The state starts from a snapshot with a funded swap, a scheduled payout and an open intent,
 * so the fuzzer reaches the swap and payout checks.
 *
 * Input: a first byte equal to the command version is one command; any other first byte starts a sequence of
 * commands, each preceded by its length (u16, big endian). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "state/cmd.h"
#include "state/state.h"
#include "util/buf.h"
#include "util/hash.h"
#include "util/secmem.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define STEPS_MAX 16

static void must(int ok)
{
    if (!ok)
        abort();
}

static void seed(uint8_t out[32], uint8_t n) { memset(out, n, 32); }

static tcn_chain_pubkey key(uint8_t n)
{
    tcn_chain_pubkey k;
    memset(k.b, n, sizeof(k.b));
    return k;
}

static uint64_t g_index;

static tcn_state_result apply(tcn_state *st, tcn_cmd *c)
{
    tcn_buf b = {0};
    tcn_error err;
    must(tcn_cmd_encode(c, &b, &err) == TCN_OK);
    tcn_cmd_wipe(c);
    tcn_state_result r;
    must(tcn_state_apply(st, ++g_index, b.p, b.len, &r) == TCN_OK);
    tcn_buf_free_wipe(&b);
    return r;
}

static void refund(tcn_state *st, uint64_t swap, const tcn_chain_hash *v, uint64_t lamports, uint8_t *out,
                   uint16_t *len)
{
    uint64_t bal = tcn_state_refund_balance(st, swap, lamports);
    *len = 0;
    if (tcn_state_refund_lamports(bal) == 0)
        return;
    tcn_buf b = {0};
    tcn_error err;
    must(tcn_state_sign_refund(st, swap, v, bal, &b, &err) == TCN_OK);
    memcpy(out, b.p, b.len);
    *len = (uint16_t)b.len;
    tcn_buf_free(&b);
}

/* Genesis, a user, a funded OPEN swap with two payouts, the first with an open intent. */
static void build_base(tcn_buf *snap)
{
    const uint64_t t0 = 1767225600000ull, amount = 50000000;
    tcn_state *st;
    tcn_error err;
    must(tcn_crypto_init() == TCN_OK);
    must(tcn_state_new(&st) == TCN_OK);
    tcn_cmd c;
    memset(&c, 0, sizeof(c));
    c.type = TCN_CMD_GENESIS;
    c.ts_ms = t0;
    memset(c.u.genesis.group_id, 1, 16);
    seed(c.u.genesis.coordinator_seed, 2);
    c.u.genesis.operator_key = key(3);
    must(apply(st, &c).code == TCN_OK);
    memset(&c, 0, sizeof(c));
    c.type = TCN_CMD_CLIENT_SET;
    c.ts_ms = t0;
    c.actor = key(3);
    c.u.client_set.client = key(4);
    c.u.client_set.role = TCN_ROLE_USER;
    must(apply(st, &c).code == TCN_OK);
    for (int s = 0; s < 2; s++) {
        memset(&c, 0, sizeof(c));
        c.type = TCN_CMD_SWAP_CREATE;
        c.ts_ms = t0;
        c.actor = key(4);
        seed(c.u.swap_create.escrow_seed, (uint8_t)(10 + 2 * s));
        seed(c.u.swap_create.nonce_seed, (uint8_t)(11 + 2 * s));
        c.u.swap_create.lp = key(5);
        c.u.swap_create.refund_to = key(6);
        c.u.swap_create.amount = amount;
        c.u.swap_create.deadline_ms = t0 + 86400000ull * 30;
        must(apply(st, &c).code == TCN_OK);
    }
    tcn_chain_hash v;
    memset(v.b, 7, sizeof(v.b));
    memset(&c, 0, sizeof(c));
    c.type = TCN_CMD_SWAP_OBSERVED;
    c.ts_ms = t0;
    c.u.swap_observed.swap_id = 1;
    c.u.swap_observed.slot = 5;
    c.u.swap_observed.nonce_initialized = true;
    c.u.swap_observed.nonce_value = v;
    c.u.swap_observed.escrow_lamports = amount;
    refund(st, 1, &v, amount, c.u.swap_observed.refund, &c.u.swap_observed.refund_len);
    must(apply(st, &c).code == TCN_OK);
    for (int p = 0; p < 2; p++) {
        memset(&c, 0, sizeof(c));
        c.type = TCN_CMD_PAYOUT_SCHEDULE;
        c.ts_ms = t0;
        c.actor = key(4);
        c.u.payout_schedule.swap_id = 1;
        c.u.payout_schedule.destination = key((uint8_t)(20 + p));
        c.u.payout_schedule.amount = 1000000;
        c.u.payout_schedule.due_ms = t0;
        must(apply(st, &c).code == TCN_OK);
    }
    memset(&c, 0, sizeof(c));
    c.type = TCN_CMD_PAYOUT_INTENT;
    c.ts_ms = t0;
    c.u.payout_intent.swap_id = 1;
    c.u.payout_intent.payout_id = 1;
    c.u.payout_intent.nonce_value = v;
    tcn_buf b = {0};
    must(tcn_state_sign_payout(st, 1, &v, &b, &err) == TCN_OK);
    memcpy(c.u.payout_intent.tx, b.p, b.len);
    c.u.payout_intent.tx_len = (uint16_t)b.len;
    tcn_buf_free(&b);
    must(apply(st, &c).code == TCN_OK);
    must(tcn_state_snapshot(st, snap, &err) == TCN_OK);
    tcn_state_free(st);
}

static void step(tcn_state *st, const uint8_t *p, size_t len, uint64_t index)
{
    static tcn_buf again;
    tcn_cmd c;
    tcn_error err;
    tcn_err_clear(&err);
    if (tcn_cmd_decode(p, len, &c, &err) == TCN_OK) {
        again.len = 0;
        must(tcn_cmd_encode(&c, &again, &err) == TCN_OK);
        must(again.len == len && memcmp(again.p, p, len) == 0); /* canonical */
        tcn_cmd_wipe(&c);
    } else {
        must(err.msg[0] != '\0');
    }
    tcn_state_result r;
    must(tcn_state_apply(st, index, p, len, &r) == TCN_OK);
    must(r.code == TCN_OK || r.reason[0] != '\0');
    must(r.code != TCN_OK || r.reason[0] == '\0');
    must(tcn_state_applied_index(st) == index);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static tcn_buf base;
    static tcn_buf s1, s2;
    if (base.len == 0)
        build_base(&base);
    tcn_state *st;
    tcn_error err;
    must(tcn_state_restore(base.p, base.len, &st, &err) == TCN_OK);
    uint64_t index = tcn_state_applied_index(st);
    if (size > 0 && data[0] == TCN_CMD_VERSION) {
        step(st, data, size, ++index);
    } else if (size > 0) {
        size_t off = 1;
        for (int n = 0; n < STEPS_MAX && off + 2 <= size; n++) {
            size_t len = (size_t)data[off] << 8 | data[off + 1];
            off += 2;
            if (len > size - off)
                len = size - off;
            step(st, data + off, len, ++index);
            off += len;
        }
    }
    s1.len = s2.len = 0;
    must(tcn_state_snapshot(st, &s1, &err) == TCN_OK);
    tcn_state *back;
    must(tcn_state_restore(s1.p, s1.len, &back, &err) == TCN_OK);
    must(tcn_state_snapshot(back, &s2, &err) == TCN_OK);
    must(s1.len == s2.len && memcmp(s1.p, s2.p, s1.len) == 0);
    uint8_t d[32];
    must(tcn_state_digest(st, d, &err) == TCN_OK);
    must(memcmp(d, s1.p + s1.len - 32, 32) == 0);
    tcn_state_free(back);
    tcn_state_free(st);
    return 0;
}
