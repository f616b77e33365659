/* Legacy message compiler, strict parser and canonical encoder (Solana docs
 * "Transactions": message header, compact-array of account addresses,
 * recent blockhash, compact-array of instructions; solana-message
 * legacy::Message::sanitize for the consistency rules). */
#include "chain/message.h"

#include <string.h>

#include "chain/base58.h"
#include "chain/shortvec.h"
#include "util/assert.h"

const uint8_t *tcn_chain_message_ix_accounts(const tcn_chain_message *m, unsigned i)
{
    TCN_ASSERT(i < m->n_instructions);
    return m->arena + m->ix[i].accounts_off;
}

const uint8_t *tcn_chain_message_ix_data(const tcn_chain_message *m, unsigned i)
{
    TCN_ASSERT(i < m->n_instructions);
    return m->arena + m->ix[i].data_off;
}

bool tcn_chain_message_is_signer(const tcn_chain_message *m, unsigned key_index)
{
    return key_index < m->header.num_required_signatures;
}

bool tcn_chain_message_is_writable_index(const tcn_chain_message *m, unsigned key_index)
{
    const tcn_chain_message_header *h = &m->header;
    if (key_index < h->num_required_signatures)
        return key_index < (unsigned)(h->num_required_signatures - h->num_readonly_signed);
    return key_index < m->n_keys && key_index < (unsigned)(m->n_keys - h->num_readonly_unsigned);
}

int tcn_chain_message_key_index(const tcn_chain_message *m, const tcn_chain_pubkey *key)
{
    for (unsigned i = 0; i < m->n_keys; i++)
        if (tcn_chain_pubkey_eq(&m->keys[i], key))
            return (int)i;
    return -1;
}

/* --- Consistency rules shared by both directions ----------------------- */

/* `code` is MALFORMED when parsing, USAGE when encoding (the caller built
 * something impossible). */
static int validate(const tcn_chain_message *m, int code, tcn_error *err)
{
    const tcn_chain_message_header *h = &m->header;
    TCN_ENSURE(m->n_keys >= 1 && m->n_keys <= TCN_CHAIN_MESSAGE_KEYS_MAX, err, code,
               "message: account_keys: %u keys, want 1..%u", m->n_keys, TCN_CHAIN_MESSAGE_KEYS_MAX);
    /* The fee payer (key 0) signs and is writable. */
    TCN_ENSURE(h->num_readonly_signed < h->num_required_signatures, err, code,
               "message: header: num_readonly_signed_accounts %u not below num_required_signatures %u",
               h->num_readonly_signed, h->num_required_signatures);
    TCN_ENSURE((unsigned)h->num_required_signatures + h->num_readonly_unsigned <= m->n_keys, err, code,
               "message: header: %u signers + %u read-only unsigned exceed the %u account keys",
               h->num_required_signatures, h->num_readonly_unsigned, m->n_keys);
    for (unsigned i = 1; i < m->n_keys; i++)
        for (unsigned j = 0; j < i; j++)
            TCN_ENSURE(!tcn_chain_pubkey_eq(&m->keys[i], &m->keys[j]), err, code,
                       "message: account_keys[%u]: duplicates account_keys[%u]", i, j);
    TCN_ENSURE(m->n_instructions <= TCN_CHAIN_MESSAGE_INSTRUCTIONS_MAX, err, code,
               "message: instructions: %u exceed %u", m->n_instructions, TCN_CHAIN_MESSAGE_INSTRUCTIONS_MAX);
    for (unsigned i = 0; i < m->n_instructions; i++) {
        const tcn_chain_compiled_ix *ix = &m->ix[i];
        TCN_ENSURE(ix->program_index < m->n_keys, err, code,
                   "message: instructions[%u].program_id_index: %u outside the %u account keys", i,
                   ix->program_index, m->n_keys);
        TCN_ENSURE(ix->program_index != 0, err, code,
                   "message: instructions[%u].program_id_index: 0 is the fee payer, not a program", i);
        TCN_ENSURE((size_t)ix->accounts_off + ix->n_accounts <= m->arena_len &&
                       (size_t)ix->data_off + ix->data_len <= m->arena_len,
                   err, code, "message: instructions[%u]: accounts/data outside the message", i);
        const uint8_t *acc = m->arena + ix->accounts_off;
        for (unsigned k = 0; k < ix->n_accounts; k++)
            TCN_ENSURE(acc[k] < m->n_keys, err, code,
                       "message: instructions[%u].accounts[%u]: index %u outside the %u account keys", i, k, acc[k],
                       m->n_keys);
    }
    return TCN_OK;
}

/* --- Parse ---------------------------------------------------------------- */

int tcn_chain_message_parse(tcn_cursor *c, tcn_chain_message *m, tcn_error *err)
{
    uint16_t n;
    memset(&m->header, 0, sizeof(m->header));
    m->n_keys = 0;
    m->n_instructions = 0;
    m->arena_len = 0;

    uint8_t first;
    TCN_ENSURE(tcn_cur_u8(c, &first) == TCN_OK, err, TCN_ERR_TRUNCATED,
               "message: header.num_required_signatures: missing");
    TCN_ENSURE((first & TCN_CHAIN_MESSAGE_VERSION_PREFIX) == 0, err, TCN_ERR_UNSUPPORTED,
               "message: version prefix 0x%02x: versioned messages are not supported (legacy only)", first);
    m->header.num_required_signatures = first;
    TCN_ENSURE(tcn_cur_u8(c, &m->header.num_readonly_signed) == TCN_OK, err, TCN_ERR_TRUNCATED,
               "message: header.num_readonly_signed_accounts: missing");
    TCN_ENSURE(tcn_cur_u8(c, &m->header.num_readonly_unsigned) == TCN_OK, err, TCN_ERR_TRUNCATED,
               "message: header.num_readonly_unsigned_accounts: missing");

    TCN_GUARD(tcn_chain_shortvec_read(c, &n, "message: account_keys.len", err));
    TCN_ENSURE(n >= 1 && n <= TCN_CHAIN_MESSAGE_KEYS_MAX, err, n == 0 ? TCN_ERR_MALFORMED : TCN_ERR_TOO_LARGE,
               "message: account_keys.len: %u, want 1..%u", n, TCN_CHAIN_MESSAGE_KEYS_MAX);
    for (unsigned i = 0; i < n; i++)
        TCN_ENSURE(tcn_cur_copy(c, m->keys[i].b, TCN_CHAIN_PUBKEY_LEN) == TCN_OK, err, TCN_ERR_TRUNCATED,
                   "message: account_keys[%u]: ends early", i);
    m->n_keys = (uint8_t)n;
    TCN_ENSURE(tcn_cur_copy(c, m->recent_blockhash.b, TCN_CHAIN_HASH_LEN) == TCN_OK, err, TCN_ERR_TRUNCATED,
               "message: recent_blockhash: ends early");

    TCN_GUARD(tcn_chain_shortvec_read(c, &n, "message: instructions.len", err));
    TCN_ENSURE(n <= TCN_CHAIN_MESSAGE_INSTRUCTIONS_MAX, err, TCN_ERR_TOO_LARGE,
               "message: instructions.len: %u exceeds %u", n, TCN_CHAIN_MESSAGE_INSTRUCTIONS_MAX);
    for (unsigned i = 0; i < n; i++) {
        tcn_chain_compiled_ix *ix = &m->ix[i];
        uint16_t n_acc, n_data;
        const uint8_t *p;
        TCN_ENSURE(tcn_cur_u8(c, &ix->program_index) == TCN_OK, err, TCN_ERR_TRUNCATED,
                   "message: instructions[%u].program_id_index: missing", i);
        if (tcn_chain_shortvec_read(c, &n_acc, "accounts.len", err) != TCN_OK)
            return tcn_err_wrap(err, "message: instructions[%u]", i);
        TCN_ENSURE(tcn_cur_view(c, n_acc, &p) == TCN_OK, err, TCN_ERR_TRUNCATED,
                   "message: instructions[%u].accounts: %u indexes, input ends early", i, n_acc);
        /* The arena cannot overflow: it holds a subset of the bytes read,
         * and a message is never longer than a packet (checked below). */
        TCN_ENSURE((size_t)m->arena_len + n_acc <= sizeof(m->arena), err, TCN_ERR_TOO_LARGE,
                   "message: instructions[%u].accounts: message exceeds %u bytes", i, TCN_CHAIN_PACKET_BYTES_MAX);
        ix->n_accounts = n_acc;
        ix->accounts_off = m->arena_len;
        memcpy(m->arena + m->arena_len, p, n_acc);
        m->arena_len = (uint16_t)(m->arena_len + n_acc);
        if (tcn_chain_shortvec_read(c, &n_data, "data.len", err) != TCN_OK)
            return tcn_err_wrap(err, "message: instructions[%u]", i);
        TCN_ENSURE(tcn_cur_view(c, n_data, &p) == TCN_OK, err, TCN_ERR_TRUNCATED,
                   "message: instructions[%u].data: %u bytes, input ends early", i, n_data);
        TCN_ENSURE((size_t)m->arena_len + n_data <= sizeof(m->arena), err, TCN_ERR_TOO_LARGE,
                   "message: instructions[%u].data: message exceeds %u bytes", i, TCN_CHAIN_PACKET_BYTES_MAX);
        ix->data_len = n_data;
        ix->data_off = m->arena_len;
        if (n_data > 0)
            memcpy(m->arena + m->arena_len, p, n_data);
        m->arena_len = (uint16_t)(m->arena_len + n_data);
        m->n_instructions = (uint8_t)(i + 1);
    }
    return validate(m, TCN_ERR_MALFORMED, err);
}

int tcn_chain_message_decode(const uint8_t *p, size_t len, tcn_chain_message *out, tcn_error *err)
{
    tcn_cursor c;
    TCN_ENSURE(len <= TCN_CHAIN_PACKET_BYTES_MAX, err, TCN_ERR_TOO_LARGE, "message: %zu bytes exceed %u", len,
               TCN_CHAIN_PACKET_BYTES_MAX);
    tcn_cur_init(&c, p, len);
    TCN_GUARD(tcn_chain_message_parse(&c, out, err));
    TCN_ENSURE(tcn_cur_remaining(&c) == 0, err, TCN_ERR_MALFORMED, "message: %zu trailing bytes",
               tcn_cur_remaining(&c));
    return TCN_OK;
}

/* --- Encode --------------------------------------------------------------- */

static int enc(int rc, tcn_error *err)
{
    if (rc == TCN_OK)
        return TCN_OK;
    return tcn_err_set(err, rc, "message: encoding: %s", tcn_err_message(rc));
}

int tcn_chain_message_encode(const tcn_chain_message *m, tcn_buf *out, tcn_error *err)
{
    TCN_GUARD(validate(m, TCN_ERR_USAGE, err));
    TCN_ENSURE((m->header.num_required_signatures & TCN_CHAIN_MESSAGE_VERSION_PREFIX) == 0, err, TCN_ERR_USAGE,
               "message: header.num_required_signatures: %u sets the version bit", m->header.num_required_signatures);
    size_t start = out->len;
    TCN_GUARD(enc(tcn_buf_u8(out, m->header.num_required_signatures), err));
    TCN_GUARD(enc(tcn_buf_u8(out, m->header.num_readonly_signed), err));
    TCN_GUARD(enc(tcn_buf_u8(out, m->header.num_readonly_unsigned), err));
    TCN_GUARD(enc(tcn_chain_shortvec_write(out, m->n_keys), err));
    for (unsigned i = 0; i < m->n_keys; i++)
        TCN_GUARD(enc(tcn_buf_append(out, m->keys[i].b, TCN_CHAIN_PUBKEY_LEN), err));
    TCN_GUARD(enc(tcn_buf_append(out, m->recent_blockhash.b, TCN_CHAIN_HASH_LEN), err));
    TCN_GUARD(enc(tcn_chain_shortvec_write(out, m->n_instructions), err));
    for (unsigned i = 0; i < m->n_instructions; i++) {
        const tcn_chain_compiled_ix *ix = &m->ix[i];
        TCN_GUARD(enc(tcn_buf_u8(out, ix->program_index), err));
        TCN_GUARD(enc(tcn_chain_shortvec_write(out, ix->n_accounts), err));
        TCN_GUARD(enc(tcn_buf_append(out, m->arena + ix->accounts_off, ix->n_accounts), err));
        TCN_GUARD(enc(tcn_chain_shortvec_write(out, ix->data_len), err));
        TCN_GUARD(enc(tcn_buf_append(out, m->arena + ix->data_off, ix->data_len), err));
    }
    if (out->len - start > TCN_CHAIN_PACKET_BYTES_MAX) {
        size_t n = out->len - start;
        out->len = start;
        return tcn_err_set(err, TCN_ERR_TOO_LARGE, "message: %zu bytes exceed %u", n, TCN_CHAIN_PACKET_BYTES_MAX);
    }
    return TCN_OK;
}

/* --- Compile (web3.js order) ---------------------------------------------- */

typedef struct meta {
    tcn_chain_account_meta m;
    char b58[TCN_CHAIN_BASE58_PUBKEY_CHARS];
} meta;

/* web3.js compileMessage's comparator: signers first, writable first, then
 * the base58 strings by localeCompare. */
static int meta_cmp(const meta *x, const meta *y)
{
    if (x->m.is_signer != y->m.is_signer)
        return x->m.is_signer ? -1 : 1;
    if (x->m.is_writable != y->m.is_writable)
        return x->m.is_writable ? -1 : 1;
    return tcn_chain_base58_collate(x->b58, y->b58);
}

static int add_meta(meta *metas, unsigned *n, const tcn_chain_account_meta *am, tcn_error *err)
{
    for (unsigned i = 0; i < *n; i++) {
        if (tcn_chain_pubkey_eq(&metas[i].m.pubkey, &am->pubkey)) {
            metas[i].m.is_signer |= am->is_signer;
            metas[i].m.is_writable |= am->is_writable;
            return TCN_OK;
        }
    }
    TCN_ENSURE(*n < TCN_CHAIN_MESSAGE_KEYS_MAX, err, TCN_ERR_TOO_LARGE, "message: compile: more than %u accounts",
               TCN_CHAIN_MESSAGE_KEYS_MAX);
    metas[*n].m = *am;
    tcn_chain_pubkey_to_base58(&am->pubkey, metas[*n].b58);
    (*n)++;
    return TCN_OK;
}

int tcn_chain_message_compile(const tcn_chain_pubkey *fee_payer, const tcn_chain_hash *recent_blockhash,
                              const tcn_chain_ix *ixs, size_t n_ixs, tcn_chain_message *out, tcn_error *err)
{
    meta metas[TCN_CHAIN_MESSAGE_KEYS_MAX + 1];
    unsigned n = 0;
    TCN_ENSURE(n_ixs <= TCN_CHAIN_MESSAGE_INSTRUCTIONS_MAX, err, TCN_ERR_USAGE,
               "message: compile: %zu instructions exceed %u", n_ixs, TCN_CHAIN_MESSAGE_INSTRUCTIONS_MAX);
    for (size_t i = 0; i < n_ixs; i++) {
        TCN_ENSURE(ixs[i].n_accounts <= TCN_CHAIN_IX_ACCOUNTS_MAX && ixs[i].data_len <= TCN_CHAIN_IX_DATA_MAX, err,
                   TCN_ERR_USAGE, "message: compile: instruction %zu exceeds the builder limits", i);
        for (unsigned k = 0; k < ixs[i].n_accounts; k++)
            TCN_GUARD(add_meta(metas, &n, &ixs[i].accounts[k], err));
    }
    /* Program ids after every instruction's accounts, in order of first use. */
    for (size_t i = 0; i < n_ixs; i++) {
        tcn_chain_account_meta pm = {.pubkey = ixs[i].program_id, .is_signer = false, .is_writable = false};
        TCN_GUARD(add_meta(metas, &n, &pm, err));
    }
    /* Insertion sort: keys are distinct, so the comparator is a total order
     * and the result does not depend on the sort's stability. */
    for (unsigned i = 1; i < n; i++) {
        meta tmp = metas[i];
        unsigned j = i;
        while (j > 0 && meta_cmp(&tmp, &metas[j - 1]) < 0) {
            metas[j] = metas[j - 1];
            j--;
        }
        metas[j] = tmp;
    }
    /* The fee payer to the front, as a writable signer. */
    unsigned payer = n;
    for (unsigned i = 0; i < n; i++)
        if (tcn_chain_pubkey_eq(&metas[i].m.pubkey, fee_payer))
            payer = i;
    if (payer == n) {
        TCN_ENSURE(n < TCN_CHAIN_MESSAGE_KEYS_MAX, err, TCN_ERR_TOO_LARGE,
                   "message: compile: more than %u accounts", TCN_CHAIN_MESSAGE_KEYS_MAX);
        n++;
    }
    memmove(&metas[1], &metas[0], payer * sizeof(metas[0]));
    metas[0].m.pubkey = *fee_payer;
    metas[0].m.is_signer = true;
    metas[0].m.is_writable = true;

    memset(&out->header, 0, sizeof(out->header));
    out->n_keys = (uint8_t)n;
    for (unsigned i = 0; i < n; i++) {
        out->keys[i] = metas[i].m.pubkey;
        if (metas[i].m.is_signer) {
            out->header.num_required_signatures++;
            if (!metas[i].m.is_writable)
                out->header.num_readonly_signed++;
        } else if (!metas[i].m.is_writable) {
            out->header.num_readonly_unsigned++;
        }
    }
    out->recent_blockhash = *recent_blockhash;
    out->n_instructions = (uint8_t)n_ixs;
    out->arena_len = 0;
    for (size_t i = 0; i < n_ixs; i++) {
        const tcn_chain_ix *src = &ixs[i];
        tcn_chain_compiled_ix *ix = &out->ix[i];
        TCN_ENSURE((size_t)out->arena_len + src->n_accounts + src->data_len <= sizeof(out->arena), err,
                   TCN_ERR_TOO_LARGE, "message: compile: instructions exceed %u bytes", TCN_CHAIN_PACKET_BYTES_MAX);
        int pi = tcn_chain_message_key_index(out, &src->program_id);
        TCN_ASSERT(pi >= 0);
        ix->program_index = (uint8_t)pi;
        ix->n_accounts = src->n_accounts;
        ix->accounts_off = out->arena_len;
        for (unsigned k = 0; k < src->n_accounts; k++) {
            int ai = tcn_chain_message_key_index(out, &src->accounts[k].pubkey);
            TCN_ASSERT(ai >= 0);
            out->arena[out->arena_len++] = (uint8_t)ai;
        }
        ix->data_len = src->data_len;
        ix->data_off = out->arena_len;
        memcpy(out->arena + out->arena_len, src->data, src->data_len);
        out->arena_len = (uint16_t)(out->arena_len + src->data_len);
    }
    if (validate(out, TCN_ERR_USAGE, err) != TCN_OK)
        return tcn_err_wrap(err, "message: compile");
    return TCN_OK;
}
