/* The System program as the chain model runs it: CreateAccount, Transfer,
 * AdvanceNonceAccount, InitializeNonceAccount, with the runtime's account
 * rules (Agave programs/system system_processor.rs and system_instruction.rs;
 * transaction-context BorrowedAccount for the lamport/data/owner checks). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain/base58.h"
#include "chain/model_internal.h"
#include "chain/nonce.h"
#include "chain/rent.h"
#include "chain/system.h"
#include "util/assert.h"

typedef struct ictx {
    tcn_chain_exec *x;
    unsigned ix_index;
    const uint8_t *accounts; /* instruction account -> transaction account */
    unsigned n_accounts;
    tcn_chain_tx_error *out;
} ictx;

static int fail(ictx *c, tcn_chain_ixerr kind, uint32_t custom, const char *fmt, ...) TCN_PRINTF(4, 5);

/* Records InstructionError(ix_index, kind) and the program's message. */
static int fail(ictx *c, tcn_chain_ixerr kind, uint32_t custom, const char *fmt, ...)
{
    c->out->kind = TCN_CHAIN_TXERR_INSTRUCTION_ERROR;
    c->out->index = (uint8_t)c->ix_index;
    c->out->ix = kind;
    c->out->custom = kind == TCN_CHAIN_IXERR_CUSTOM ? custom : 0;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->x->log, TCN_CHAIN_MODEL_LOG_MAX, fmt, ap);
    va_end(ap);
    return TCN_ERR_POLICY;
}

static int fail_sys(ictx *c, tcn_chain_syserr code, const char *what)
{
    return fail(c, TCN_CHAIN_IXERR_CUSTOM, code, "%s: %s", what, tcn_chain_syserr_name(code));
}

static tcn_chain_exec_account *acct(ictx *c, unsigned i)
{
    TCN_ASSERT(i < c->n_accounts);
    return &c->x->acc[c->accounts[i]];
}

/* InstructionContext::get_signers: keys of the instruction's signing accounts. */
static bool is_ix_signer(const ictx *c, const tcn_chain_pubkey *key)
{
    for (unsigned i = 0; i < c->n_accounts; i++) {
        const tcn_chain_exec_account *a = &c->x->acc[c->accounts[i]];
        if (a->signer && tcn_chain_pubkey_eq(&a->key, key))
            return true;
    }
    return false;
}

static bool owned_by_system(const tcn_chain_exec_account *a)
{
    return tcn_chain_pubkey_eq(&a->owner, &tcn_chain_system_program_id);
}

/* --- BorrowedAccount rules, in Agave's order ---------------------------- */

static tcn_chain_ixerr set_lamports(tcn_chain_exec_account *a, uint64_t v)
{
    if (!owned_by_system(a) && v < a->lamports)
        return TCN_CHAIN_IXERR_EXTERNAL_ACCOUNT_LAMPORT_SPEND;
    if (!a->writable)
        return TCN_CHAIN_IXERR_READONLY_LAMPORT_CHANGE;
    a->lamports = v;
    return TCN_CHAIN_IXERR_NONE;
}

static tcn_chain_ixerr sub_lamports(tcn_chain_exec_account *a, uint64_t n)
{
    if (n > a->lamports)
        return TCN_CHAIN_IXERR_ARITHMETIC_OVERFLOW;
    return set_lamports(a, a->lamports - n);
}

static tcn_chain_ixerr add_lamports(tcn_chain_exec_account *a, uint64_t n)
{
    if (a->lamports > UINT64_MAX - n)
        return TCN_CHAIN_IXERR_ARITHMETIC_OVERFLOW;
    return set_lamports(a, a->lamports + n);
}

static tcn_chain_ixerr can_change_data(const tcn_chain_exec_account *a)
{
    if (!a->writable)
        return TCN_CHAIN_IXERR_READONLY_DATA_MODIFIED;
    if (!owned_by_system(a))
        return TCN_CHAIN_IXERR_EXTERNAL_ACCOUNT_DATA_MODIFIED;
    return TCN_CHAIN_IXERR_NONE;
}

/* set_data_length: a resize needs ownership, then the data-change rules; new
 * bytes are zero. *nomem on allocation failure. */
static tcn_chain_ixerr set_data_length(tcn_chain_exec_account *a, size_t len, bool *nomem)
{
    if (!owned_by_system(a) && len != a->data_len)
        return TCN_CHAIN_IXERR_ACCOUNT_DATA_SIZE_CHANGED;
    tcn_chain_ixerr e = can_change_data(a);
    if (e != TCN_CHAIN_IXERR_NONE || len == a->data_len)
        return e;
    uint8_t *p = len ? calloc(1, len) : NULL;
    if (len && p == NULL) {
        *nomem = true;
        return TCN_CHAIN_IXERR_NONE;
    }
    if (p != NULL && a->data_len > 0)
        memcpy(p, a->data, a->data_len < len ? a->data_len : len);
    free(a->data);
    a->data = p;
    a->data_len = len;
    return TCN_CHAIN_IXERR_NONE;
}

static bool is_zeroed(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != 0)
            return false;
    return true;
}

static tcn_chain_ixerr set_owner(tcn_chain_exec_account *a, const tcn_chain_pubkey *owner)
{
    if (!owned_by_system(a) || !a->writable || a->executable || !is_zeroed(a->data, a->data_len))
        return TCN_CHAIN_IXERR_MODIFIED_PROGRAM_ID;
    a->owner = *owner;
    return TCN_CHAIN_IXERR_NONE;
}

/* get_state / set_state of nonce::Versions on the account's data. */
static int get_nonce_state(ictx *c, tcn_chain_exec_account *a, tcn_chain_nonce_state *st, const char *what)
{
    tcn_error e;
    tcn_err_clear(&e);
    if (tcn_chain_nonce_parse(a->data, a->data_len, false, st, &e) != TCN_OK)
        return fail(c, TCN_CHAIN_IXERR_INVALID_ACCOUNT_DATA, 0, "%s: %s", what, e.msg);
    return TCN_OK;
}

static int set_nonce_state(ictx *c, tcn_chain_exec_account *a, const tcn_chain_nonce_state *st, const char *what)
{
    tcn_chain_ixerr e = can_change_data(a);
    if (e != TCN_CHAIN_IXERR_NONE)
        return fail(c, e, 0, "%s: nonce account data may not change", what);
    if (tcn_chain_nonce_serialize(st, a->data, a->data_len) == 0)
        return fail(c, TCN_CHAIN_IXERR_ACCOUNT_DATA_TOO_SMALL, 0, "%s: %zu bytes cannot hold the nonce state", what,
                    a->data_len);
    return TCN_OK;
}

static int need_accounts(ictx *c, unsigned n, const char *what)
{
    if (c->n_accounts < n)
        return fail(c, TCN_CHAIN_IXERR_NOT_ENOUGH_ACCOUNT_KEYS, 0, "%s: %u accounts, need %u", what, c->n_accounts, n);
    return TCN_OK;
}

/* get_sysvar_with_account_check: enough accounts, then the sysvar's key. */
static int need_sysvar(ictx *c, unsigned i, const tcn_chain_pubkey *id, const char *what)
{
    TCN_GUARD(need_accounts(c, i + 1, what));
    if (!tcn_chain_pubkey_eq(&acct(c, i)->key, id))
        return fail(c, TCN_CHAIN_IXERR_INVALID_ARGUMENT, 0, "%s: account %u is not the expected sysvar", what, i);
    return TCN_OK;
}

static int ix_check(ictx *c, tcn_chain_ixerr e, const char *what)
{
    return e == TCN_CHAIN_IXERR_NONE ? TCN_OK : fail(c, e, 0, "%s: %s", what, tcn_chain_ixerr_name(e));
}

/* --- Instructions --------------------------------------------------------- */

static int transfer(ictx *c, unsigned from_i, unsigned to_i, uint64_t lamports, const char *what)
{
    tcn_chain_exec_account *from = acct(c, from_i);
    if (!from->signer) {
        char b58[TCN_CHAIN_BASE58_PUBKEY_CHARS];
        tcn_chain_pubkey_to_base58(&from->key, b58);
        return fail(c, TCN_CHAIN_IXERR_MISSING_REQUIRED_SIGNATURE, 0, "%s: `from` account %s must sign", what, b58);
    }
    if (from->data_len != 0)
        return fail(c, TCN_CHAIN_IXERR_INVALID_ARGUMENT, 0, "%s: `from` must not carry data", what);
    if (lamports > from->lamports)
        return fail(c, TCN_CHAIN_IXERR_CUSTOM, TCN_CHAIN_SYSERR_RESULT_WITH_NEGATIVE_LAMPORTS,
                    "%s: insufficient lamports %llu, need %llu", what, (unsigned long long)from->lamports,
                    (unsigned long long)lamports);
    TCN_GUARD(ix_check(c, sub_lamports(from, lamports), what));
    /* `to` is borrowed after `from` is released: the same account on both
     * sides ends where it started. */
    TCN_GUARD(ix_check(c, add_lamports(acct(c, to_i), lamports), what));
    return TCN_OK;
}

static int create_account(ictx *c, const tcn_chain_system_ix *in)
{
    static const char what[] = "Create Account";
    TCN_GUARD(need_accounts(c, 2, what));
    tcn_chain_exec_account *to = acct(c, 1);
    if (to->lamports > 0)
        return fail_sys(c, TCN_CHAIN_SYSERR_ACCOUNT_ALREADY_IN_USE, what);
    /* allocate */
    if (!is_ix_signer(c, &to->key))
        return fail(c, TCN_CHAIN_IXERR_MISSING_REQUIRED_SIGNATURE, 0, "Allocate: 'to' account must sign");
    if (to->data_len != 0 || !owned_by_system(to))
        return fail_sys(c, TCN_CHAIN_SYSERR_ACCOUNT_ALREADY_IN_USE, "Allocate");
    if (in->space > TCN_CHAIN_ACCOUNT_DATA_MAX)
        return fail_sys(c, TCN_CHAIN_SYSERR_INVALID_ACCOUNT_DATA_LENGTH, "Allocate");
    bool nomem = false;
    tcn_chain_ixerr e = set_data_length(to, (size_t)in->space, &nomem);
    if (nomem)
        return TCN_ERR_NOMEM;
    TCN_GUARD(ix_check(c, e, "Allocate"));
    /* assign */
    if (!tcn_chain_pubkey_eq(&to->owner, &in->owner)) {
        if (!is_ix_signer(c, &to->key))
            return fail(c, TCN_CHAIN_IXERR_MISSING_REQUIRED_SIGNATURE, 0, "Assign: account must sign");
        TCN_GUARD(ix_check(c, set_owner(to, &in->owner), "Assign"));
    }
    return transfer(c, 0, 1, in->lamports, "Transfer");
}

static int advance_nonce(ictx *c)
{
    static const char what[] = "Advance nonce account";
    TCN_GUARD(need_accounts(c, 1, what));
    TCN_GUARD(need_sysvar(c, 1, &tcn_chain_sysvar_recent_blockhashes_id, what));
    tcn_chain_exec_account *a = acct(c, 0);
    if (!a->writable)
        return fail(c, TCN_CHAIN_IXERR_INVALID_ARGUMENT, 0, "%s: account must be writeable", what);
    tcn_chain_nonce_state st;
    TCN_GUARD(get_nonce_state(c, a, &st, what));
    if (st.state != TCN_CHAIN_NONCE_INITIALIZED)
        return fail(c, TCN_CHAIN_IXERR_INVALID_ACCOUNT_DATA, 0, "%s: state is invalid", what);
    if (!is_ix_signer(c, &st.authority))
        return fail(c, TCN_CHAIN_IXERR_MISSING_REQUIRED_SIGNATURE, 0, "%s: authority must be a signer", what);
    tcn_chain_hash next;
    tcn_chain_durable_nonce_from_blockhash(&c->x->env_blockhash, &next);
    if (tcn_chain_hash_eq(&next, &st.durable_nonce))
        return fail(c, TCN_CHAIN_IXERR_CUSTOM, TCN_CHAIN_SYSERR_NONCE_BLOCKHASH_NOT_EXPIRED,
                    "%s: nonce can only advance once per slot", what);
    st.version = TCN_CHAIN_NONCE_VERSION_CURRENT;
    st.durable_nonce = next;
    st.lamports_per_signature = c->x->lamports_per_signature;
    return set_nonce_state(c, a, &st, what);
}

static int initialize_nonce(ictx *c, const tcn_chain_system_ix *in)
{
    static const char what[] = "Initialize nonce account";
    TCN_GUARD(need_accounts(c, 1, what));
    TCN_GUARD(need_sysvar(c, 1, &tcn_chain_sysvar_recent_blockhashes_id, what));
    TCN_GUARD(need_sysvar(c, 2, &tcn_chain_sysvar_rent_id, what));
    tcn_chain_exec_account *a = acct(c, 0);
    if (!a->writable)
        return fail(c, TCN_CHAIN_IXERR_INVALID_ARGUMENT, 0, "%s: account must be writeable", what);
    tcn_chain_nonce_state st;
    TCN_GUARD(get_nonce_state(c, a, &st, what));
    if (st.state != TCN_CHAIN_NONCE_UNINITIALIZED)
        return fail(c, TCN_CHAIN_IXERR_INVALID_ACCOUNT_DATA, 0, "%s: state is invalid", what);
    uint64_t min = tcn_chain_rent_minimum_balance(a->data_len);
    if (a->lamports < min)
        return fail(c, TCN_CHAIN_IXERR_INSUFFICIENT_FUNDS, 0, "%s: insufficient lamports %llu, need %llu", what,
                    (unsigned long long)a->lamports, (unsigned long long)min);
    st.version = TCN_CHAIN_NONCE_VERSION_CURRENT;
    st.state = TCN_CHAIN_NONCE_INITIALIZED;
    st.authority = in->authority;
    tcn_chain_durable_nonce_from_blockhash(&c->x->env_blockhash, &st.durable_nonce);
    st.lamports_per_signature = c->x->lamports_per_signature;
    return set_nonce_state(c, a, &st, what);
}

int tcn_chain_exec_system(tcn_chain_exec *x, unsigned ix_index, tcn_chain_tx_error *out)
{
    const tcn_chain_message *m = x->msg;
    TCN_ASSERT(ix_index < m->n_instructions);
    ictx c = {
        .x = x,
        .ix_index = ix_index,
        .accounts = tcn_chain_message_ix_accounts(m, ix_index),
        .n_accounts = m->ix[ix_index].n_accounts,
        .out = out,
    };
    tcn_chain_system_ix in;
    tcn_error e;
    tcn_err_clear(&e);
    /* The runtime's limited_deserialize: trailing bytes are ignored; the
     * System instructions this model does not implement are refused as
     * InvalidInstructionData (a documented limit of the model). */
    if (tcn_chain_system_decode(tcn_chain_message_ix_data(m, ix_index), m->ix[ix_index].data_len, true, &in, &e) !=
        TCN_OK)
        return fail(&c, TCN_CHAIN_IXERR_INVALID_INSTRUCTION_DATA, 0, "%s", e.msg);
    switch (in.kind) {
    case TCN_CHAIN_SYS_CREATE_ACCOUNT:
        return create_account(&c, &in);
    case TCN_CHAIN_SYS_TRANSFER:
        TCN_GUARD(need_accounts(&c, 2, "Transfer"));
        return transfer(&c, 0, 1, in.lamports, "Transfer");
    case TCN_CHAIN_SYS_ADVANCE_NONCE_ACCOUNT:
        return advance_nonce(&c);
    case TCN_CHAIN_SYS_INITIALIZE_NONCE_ACCOUNT:
        return initialize_nonce(&c, &in);
    default:
        return fail(&c, TCN_CHAIN_IXERR_INVALID_INSTRUCTION_DATA, 0, "system instruction %u", in.kind);
    }
}
