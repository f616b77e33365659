/* The chain model: slots and blockhashes, accounts, and the submission
 * pipeline (Agave runtime/src/bank/check_transactions.rs for the age,
 * durable-nonce and status checks; svm account_loader.rs validate_fee_payer
 * for the fee payer; svm transaction_processor for rollback on failure). */
#include "chain/model.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain/base58.h"
#include "chain/model_internal.h"
#include "chain/rent.h"
#include "chain/system.h"
#include "chain/transaction.h"
#include "util/assert.h"
#include "util/buf.h"
#include "util/hash.h"

#define RECENT_SLOTS (TCN_CHAIN_MAX_PROCESSING_AGE + 1u)

struct tcn_chain_model {
    tcn_chain_model_opts opts;
    uint64_t slot;
    tcn_chain_hash recent[RECENT_SLOTS]; /* recent[s % RECENT_SLOTS] = blockhash of slot s */
    tcn_chain_account_store accounts;
    tcn_chain_status_store statuses;
    uint64_t minted;
    uint64_t fees;
    uint64_t airdrops; /* makes each airdrop's signature unique */
};

int tcn_chain_model_new(const void *seed, size_t seed_len, const tcn_chain_model_opts *opts, tcn_chain_model **out,
                        tcn_error *err)
{
    *out = NULL;
    TCN_ENSURE(seed != NULL && seed_len > 0, err, TCN_ERR_USAGE, "chain model: an empty seed");
    TCN_ENSURE(opts == NULL || opts->nonce_source == TCN_CHAIN_NONCE_FROM_BANK ||
                   opts->nonce_source == TCN_CHAIN_NONCE_FROM_MESSAGE,
               err, TCN_ERR_USAGE, "chain model: nonce_source: unknown value");
    tcn_chain_model *m = calloc(1, sizeof(*m));
    TCN_ENSURE(m != NULL, err, TCN_ERR_NOMEM, "chain model: out of memory");
    if (opts != NULL)
        m->opts = *opts;
    tcn_sha256(seed, seed_len, m->recent[0].b);
    *out = m;
    return TCN_OK;
}

void tcn_chain_model_free(tcn_chain_model *m)
{
    if (m == NULL)
        return;
    tcn_chain_store_free(&m->accounts);
    tcn_chain_status_free(&m->statuses);
    free(m);
}

/* --- Slots ------------------------------------------------------------------ */

uint64_t tcn_chain_model_slot(const tcn_chain_model *m) { return m->slot; }

static const tcn_chain_hash *latest(const tcn_chain_model *m) { return &m->recent[m->slot % RECENT_SLOTS]; }

void tcn_chain_model_latest_blockhash(const tcn_chain_model *m, tcn_chain_hash *out, uint64_t *last_valid_slot)
{
    *out = *latest(m);
    if (last_valid_slot != NULL)
        *last_valid_slot = m->slot + TCN_CHAIN_MAX_PROCESSING_AGE;
}

void tcn_chain_model_advance_slot(tcn_chain_model *m)
{
    tcn_chain_hash next;
    tcn_sha256(latest(m)->b, TCN_CHAIN_HASH_LEN, next.b);
    m->slot++;
    m->recent[m->slot % RECENT_SLOTS] = next;
}

bool tcn_chain_model_blockhash_valid(const tcn_chain_model *m, const tcn_chain_hash *bh)
{
    uint64_t n = m->slot + 1 < RECENT_SLOTS ? m->slot + 1 : RECENT_SLOTS;
    for (uint64_t i = 0; i < n; i++)
        if (tcn_chain_hash_eq(&m->recent[(m->slot - i) % RECENT_SLOTS], bh))
            return true;
    return false;
}

/* --- Accounts ----------------------------------------------------------- */

bool tcn_chain_model_get_account(const tcn_chain_model *m, const tcn_chain_pubkey *pk, tcn_chain_account_view *out)
{
    const tcn_chain_account *a = tcn_chain_store_find(&m->accounts, pk);
    memset(out, 0, sizeof(*out));
    out->owner = tcn_chain_system_program_id;
    if (a == NULL || a->lamports == 0)
        return false;
    out->lamports = a->lamports;
    out->owner = a->owner;
    out->executable = a->executable;
    out->data = a->data;
    out->data_len = a->data_len;
    return true;
}

uint64_t tcn_chain_model_balance(const tcn_chain_model *m, const tcn_chain_pubkey *pk)
{
    const tcn_chain_account *a = tcn_chain_store_find(&m->accounts, pk);
    return a ? a->lamports : 0;
}

/* An account with 0 lamports is gone: forget its owner and data. */
static void reap(tcn_chain_account *a)
{
    if (a->lamports != 0)
        return;
    free(a->data);
    a->data = NULL;
    a->data_len = 0;
    a->owner = tcn_chain_system_program_id;
    a->executable = false;
}

int tcn_chain_model_airdrop(tcn_chain_model *m, const tcn_chain_pubkey *pk, uint64_t lamports, tcn_error *err)
{
    tcn_chain_account *a;
    TCN_ENSURE(lamports <= UINT64_MAX - m->minted, err, TCN_ERR_USAGE, "airdrop: total supply would overflow u64");
    TCN_ENSURE(tcn_chain_store_get(&m->accounts, pk, &a) == TCN_OK, err, TCN_ERR_NOMEM, "airdrop: out of memory");
    TCN_ENSURE(tcn_chain_pubkey_eq(&a->owner, &tcn_chain_system_program_id) && a->data_len == 0, err, TCN_ERR_USAGE,
               "airdrop: the account is not a System account without data");
    a->lamports += lamports;
    m->minted += lamports;
    return TCN_OK;
}

int tcn_chain_model_set_account(tcn_chain_model *m, const tcn_chain_pubkey *pk, uint64_t lamports,
                                const tcn_chain_pubkey *owner, const uint8_t *data, size_t data_len, tcn_error *err)
{
    tcn_chain_account *a;
    TCN_ENSURE(data_len <= TCN_CHAIN_ACCOUNT_DATA_MAX, err, TCN_ERR_USAGE, "set_account: %zu data bytes exceed %u",
               data_len, TCN_CHAIN_ACCOUNT_DATA_MAX);
    TCN_ENSURE(tcn_chain_store_get(&m->accounts, pk, &a) == TCN_OK, err, TCN_ERR_NOMEM,
               "set_account: out of memory");
    uint64_t minted = m->minted - a->lamports;
    TCN_ENSURE(lamports <= UINT64_MAX - minted, err, TCN_ERR_USAGE, "set_account: total supply would overflow u64");
    TCN_ENSURE(tcn_chain_account_set_data(a, data, data_len) == TCN_OK, err, TCN_ERR_NOMEM,
               "set_account: out of memory");
    a->lamports = lamports;
    a->owner = owner ? *owner : tcn_chain_system_program_id;
    a->executable = false;
    m->minted = minted + lamports;
    reap(a);
    return TCN_OK;
}

int tcn_chain_model_nonce(const tcn_chain_model *m, const tcn_chain_pubkey *pk, tcn_chain_nonce_state *out,
                          tcn_error *err)
{
    tcn_chain_account_view v;
    char b58[TCN_CHAIN_BASE58_PUBKEY_CHARS];
    tcn_chain_pubkey_to_base58(pk, b58);
    TCN_ENSURE(tcn_chain_model_get_account(m, pk, &v), err, TCN_ERR_NOT_FOUND, "nonce account %s: does not exist",
               b58);
    TCN_ENSURE(tcn_chain_pubkey_eq(&v.owner, &tcn_chain_system_program_id), err, TCN_ERR_MALFORMED,
               "nonce account %s: owner: not the System program", b58);
    if (tcn_chain_nonce_parse(v.data, v.data_len, true, out, err) != TCN_OK)
        return tcn_err_wrap(err, "%s", b58);
    return TCN_OK;
}

/* --- Submission --------------------------------------------------------- */

/* Keys the runtime never lets a transaction write (Agave
 * ReservedAccountKeys: builtin programs and sysvars; the subset we know). */
static bool is_reserved(const tcn_chain_pubkey *k)
{
    return tcn_chain_pubkey_eq(k, &tcn_chain_system_program_id) ||
           tcn_chain_pubkey_eq(k, &tcn_chain_sysvar_recent_blockhashes_id) ||
           tcn_chain_pubkey_eq(k, &tcn_chain_sysvar_rent_id) || tcn_chain_pubkey_eq(k, &tcn_chain_sysvar_owner_id);
}

static bool called_as_program(const tcn_chain_message *msg, unsigned i)
{
    for (unsigned k = 0; k < msg->n_instructions; k++)
        if (msg->ix[k].program_index == i)
            return true;
    return false;
}

/* solana-message legacy Message::is_writable: the header says writable, and
 * the key is neither reserved nor invoked as a program. */
static void account_flags(const tcn_chain_message *msg, bool *writable, bool *signer)
{
    for (unsigned i = 0; i < msg->n_keys; i++) {
        signer[i] = tcn_chain_message_is_signer(msg, i);
        writable[i] = tcn_chain_message_is_writable_index(msg, i) && !is_reserved(&msg->keys[i]) &&
                      !called_as_program(msg, i);
    }
}

/* Durable-nonce admission (Agave check_load_and_advance_message_nonce_account,
 * load_message_nonce_account, SVMMessage::get_durable_nonce,
 * solana-nonce-account verify_nonce_account): the first instruction is the
 * System program's AdvanceNonceAccount on a writable account; that account
 * exists, is System-owned, initialized, holds the message's blockhash as its
 * nonce, and its authority signs the first instruction; the nonce can
 * advance (the next value differs from the message's blockhash). On success
 * *advanced is the state a failed execution will still store. */
static bool nonce_admit(const tcn_chain_model *m, const tcn_chain_message *msg, const bool *writable,
                        const tcn_chain_hash *next, int *nonce_idx, tcn_chain_nonce_state *advanced)
{
    if (tcn_chain_hash_eq(&msg->recent_blockhash, next) || msg->n_instructions == 0)
        return false;
    const tcn_chain_compiled_ix *ix0 = &msg->ix[0];
    if (!tcn_chain_pubkey_eq(&msg->keys[ix0->program_index], &tcn_chain_system_program_id) || ix0->n_accounts == 0)
        return false;
    tcn_chain_system_ix in;
    if (tcn_chain_system_decode(tcn_chain_message_ix_data(msg, 0), ix0->data_len, true, &in, NULL) != TCN_OK ||
        in.kind != TCN_CHAIN_SYS_ADVANCE_NONCE_ACCOUNT)
        return false;
    const uint8_t *acc = tcn_chain_message_ix_accounts(msg, 0);
    unsigned ni = acc[0];
    if (!writable[ni])
        return false;
    const tcn_chain_account *a = tcn_chain_store_find(&m->accounts, &msg->keys[ni]);
    if (a == NULL || a->lamports == 0 || !tcn_chain_pubkey_eq(&a->owner, &tcn_chain_system_program_id))
        return false;
    tcn_chain_nonce_state st;
    if (tcn_chain_nonce_parse(a->data, a->data_len, false, &st, NULL) != TCN_OK ||
        st.state != TCN_CHAIN_NONCE_INITIALIZED || !tcn_chain_hash_eq(&st.durable_nonce, &msg->recent_blockhash))
        return false;
    bool authorized = false;
    for (unsigned k = 0; k < ix0->n_accounts; k++)
        if (tcn_chain_message_is_signer(msg, acc[k]) && tcn_chain_pubkey_eq(&msg->keys[acc[k]], &st.authority))
            authorized = true;
    if (!authorized)
        return false;
    st.version = TCN_CHAIN_NONCE_VERSION_CURRENT;
    st.durable_nonce = *next;
    st.lamports_per_signature = TCN_CHAIN_LAMPORTS_PER_SIGNATURE;
    *advanced = st;
    *nonce_idx = (int)ni;
    return true;
}

static void reject(tcn_chain_submit_result *out, tcn_chain_txerr kind, const char *fmt, ...) TCN_PRINTF(3, 4);

static void reject(tcn_chain_submit_result *out, tcn_chain_txerr kind, const char *fmt, ...)
{
    out->err.kind = kind;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out->log, sizeof(out->log), fmt, ap);
    va_end(ap);
}

/* Agave validate_fee_payer (svm account_loader.rs) on the stored fee payer. */
static bool fee_payer_ok(const tcn_chain_model *m, const tcn_chain_pubkey *key, uint64_t fee,
                         tcn_chain_submit_result *out)
{
    const tcn_chain_account *a = tcn_chain_store_find(&m->accounts, key);
    uint64_t lamports = a ? a->lamports : 0;
    if (lamports == 0) {
        reject(out, TCN_CHAIN_TXERR_ACCOUNT_NOT_FOUND, "fee payer does not exist");
        return false;
    }
    /* get_system_account_kind: a System account without data, or an
     * initialized nonce account (which must keep its rent-exempt minimum). */
    uint64_t min = 0;
    bool system = tcn_chain_pubkey_eq(&a->owner, &tcn_chain_system_program_id);
    if (system && a->data_len == TCN_CHAIN_NONCE_ACCOUNT_BYTES) {
        tcn_chain_nonce_state st;
        system = tcn_chain_nonce_parse(a->data, a->data_len, false, &st, NULL) == TCN_OK &&
                 st.state == TCN_CHAIN_NONCE_INITIALIZED;
        min = tcn_chain_rent_minimum_balance(TCN_CHAIN_NONCE_ACCOUNT_BYTES);
    } else if (a->data_len != 0) {
        system = false;
    }
    if (!system) {
        reject(out, TCN_CHAIN_TXERR_INVALID_ACCOUNT_FOR_FEE, "fee payer is not a System account");
        return false;
    }
    if (lamports < min || lamports - min < fee) {
        reject(out, TCN_CHAIN_TXERR_INSUFFICIENT_FUNDS_FOR_FEE,
               "fee payer has %llu lamports, needs %llu for the fee above a minimum of %llu",
               (unsigned long long)lamports, (unsigned long long)fee, (unsigned long long)min);
        return false;
    }
    if (!tcn_chain_rent_transition_allowed(lamports, a->data_len, lamports - fee, a->data_len)) {
        reject(out, TCN_CHAIN_TXERR_INSUFFICIENT_FUNDS_FOR_RENT,
               "fee payer would be left below the rent-exempt minimum");
        out->err.index = 0;
        return false;
    }
    return true;
}

/* Agave account loading after the fee payer: every invoked program must be
 * a loaded executable; the model knows only the System program. */
static bool programs_ok(const tcn_chain_model *m, const tcn_chain_message *msg, tcn_chain_submit_result *out)
{
    for (unsigned k = 0; k < msg->n_instructions; k++) {
        const tcn_chain_pubkey *pid = &msg->keys[msg->ix[k].program_index];
        if (tcn_chain_pubkey_eq(pid, &tcn_chain_system_program_id))
            continue;
        const tcn_chain_account *a = tcn_chain_store_find(&m->accounts, pid);
        if (a != NULL && a->lamports > 0)
            reject(out, TCN_CHAIN_TXERR_INVALID_PROGRAM_FOR_EXECUTION, "instruction %u: program is not executable",
                   k);
        else
            reject(out, TCN_CHAIN_TXERR_PROGRAM_ACCOUNT_NOT_FOUND, "instruction %u: program account not found", k);
        return false;
    }
    return true;
}

static void free_working_set(tcn_chain_exec_account *acc, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        free(acc[i].data);
        acc[i].data = NULL;
    }
}

static int load_working_set(const tcn_chain_model *m, const tcn_chain_message *msg, const bool *writable,
                            const bool *signer, tcn_chain_exec_account *acc)
{
    memset(acc, 0, sizeof(acc[0]) * msg->n_keys);
    for (unsigned i = 0; i < msg->n_keys; i++) {
        tcn_chain_exec_account *x = &acc[i];
        const tcn_chain_account *a = tcn_chain_store_find(&m->accounts, &msg->keys[i]);
        x->key = msg->keys[i];
        x->owner = tcn_chain_system_program_id;
        x->writable = writable[i];
        x->signer = signer[i];
        if (a == NULL || a->lamports == 0)
            continue;
        x->lamports = a->lamports;
        x->owner = a->owner;
        x->executable = a->executable;
        if (a->data_len > 0) {
            x->data = malloc(a->data_len);
            if (x->data == NULL) {
                free_working_set(acc, i);
                return TCN_ERR_NOMEM;
            }
            memcpy(x->data, a->data, a->data_len);
            x->data_len = a->data_len;
        }
    }
    return TCN_OK;
}

/* Stores the lamports, owner and data of x (taking its data buffer). */
static int store_back(tcn_chain_model *m, tcn_chain_exec_account *x)
{
    tcn_chain_account *a;
    TCN_GUARD(tcn_chain_store_get(&m->accounts, &x->key, &a));
    free(a->data);
    a->data = x->data;
    a->data_len = x->data_len;
    x->data = NULL;
    a->lamports = x->lamports;
    a->owner = x->owner;
    a->executable = x->executable;
    reap(a);
    return TCN_OK;
}

/* Sum of the lamports of the distinct writable keys (keys are distinct). */
static uint64_t writable_sum(const tcn_chain_exec_account *acc, unsigned n)
{
    uint64_t s = 0;
    for (unsigned i = 0; i < n; i++)
        if (acc[i].writable)
            s += acc[i].lamports;
    return s;
}

/* Runs the instructions of a transaction that passed every check, and
 * commits: everything on success; on failure only the fee payer's fee and,
 * for a durable-nonce transaction, the advanced nonce (Solana docs,
 * "Durable Transaction Nonces": a failed transaction still advances the
 * nonce; Agave RollbackAccounts). */
static int execute_and_commit(tcn_chain_model *m, bool commit, const tcn_chain_message *msg, const bool *writable,
                              const bool *signer, const tcn_chain_hash *env, uint64_t fee, int nonce_idx,
                              const tcn_chain_nonce_state *advanced, tcn_chain_submit_result *out)
{
    tcn_chain_exec_account acc[TCN_CHAIN_MESSAGE_KEYS_MAX];
    TCN_GUARD(load_working_set(m, msg, writable, signer, acc));
    acc[0].lamports -= fee; /* fee_payer_ok checked it */
    uint64_t pre_sum = writable_sum(acc, msg->n_keys);
    uint64_t pre_lamports[TCN_CHAIN_MESSAGE_KEYS_MAX];
    size_t pre_len[TCN_CHAIN_MESSAGE_KEYS_MAX];
    for (unsigned i = 0; i < msg->n_keys; i++) {
        pre_lamports[i] = acc[i].lamports;
        pre_len[i] = acc[i].data_len;
    }

    int rc = TCN_OK;
    bool ok = programs_ok(m, msg, out);
    tcn_chain_exec x = {
        .msg = msg,
        .acc = acc,
        .env_blockhash = *env,
        .lamports_per_signature = TCN_CHAIN_LAMPORTS_PER_SIGNATURE,
        .log = out->log,
    };
    for (unsigned k = 0; ok && k < msg->n_instructions; k++) {
        rc = tcn_chain_exec_system(&x, k, &out->err);
        if (rc == TCN_ERR_NOMEM)
            goto done;
        ok = rc == TCN_OK;
        rc = TCN_OK;
    }
    /* Agave TransactionAccountStateInfo: every writable account's rent
     * state may only change as RentState::transition_allowed says. */
    for (unsigned i = 0; ok && i < msg->n_keys; i++) {
        if (acc[i].writable &&
            !tcn_chain_rent_transition_allowed(pre_lamports[i], pre_len[i], acc[i].lamports, acc[i].data_len)) {
            char b58[TCN_CHAIN_BASE58_PUBKEY_CHARS];
            tcn_chain_pubkey_to_base58(&acc[i].key, b58);
            reject(out, TCN_CHAIN_TXERR_INSUFFICIENT_FUNDS_FOR_RENT,
                   "account %s would hold %llu lamports, below the rent-exempt minimum %llu", b58,
                   (unsigned long long)acc[i].lamports,
                   (unsigned long long)tcn_chain_rent_minimum_balance(acc[i].data_len));
            out->err.index = (uint8_t)i;
            ok = false;
        }
    }
    if (ok) {
        /* The System program moves lamports, it never makes or destroys them. */
        TCN_ASSERT(writable_sum(acc, msg->n_keys) == pre_sum);
        out->err.kind = TCN_CHAIN_TX_OK;
        out->log[0] = '\0';
        for (unsigned i = 0; commit && rc == TCN_OK && i < msg->n_keys; i++)
            if (acc[i].writable)
                rc = store_back(m, &acc[i]);
    } else if (commit) {
        tcn_chain_account *a;
        rc = tcn_chain_store_get(&m->accounts, &msg->keys[0], &a);
        if (rc == TCN_OK) {
            a->lamports -= fee;
            reap(a);
        }
        if (rc == TCN_OK && nonce_idx >= 0) {
            rc = tcn_chain_store_get(&m->accounts, &msg->keys[nonce_idx], &a);
            if (rc == TCN_OK) {
                /* nonce_admit saw an initialized nonce here: 80 bytes or more. */
                size_t wrote = tcn_chain_nonce_serialize(advanced, a->data, a->data_len);
                TCN_ASSERT(wrote != 0);
            }
        }
    }
    if (rc == TCN_OK) {
        if (commit)
            m->fees += fee;
        out->landed = true;
        out->fee = fee;
    }
done:
    free_working_set(acc, msg->n_keys);
    return rc;
}

static int process(tcn_chain_model *m, bool commit, const uint8_t *wire, size_t len, tcn_chain_submit_result *out)
{
    tcn_chain_tx tx;
    tcn_error e;
    tcn_err_clear(&e);
    memset(out, 0, sizeof(*out));
    out->slot = m->slot;

    /* 1. Sanitize. */
    if (tcn_chain_tx_decode(wire, len, &tx, &e) != TCN_OK) {
        reject(out, e.code == TCN_ERR_UNSUPPORTED ? TCN_CHAIN_TXERR_UNSUPPORTED_VERSION
                                                  : TCN_CHAIN_TXERR_SANITIZE_FAILURE,
               "%s", e.msg);
        return TCN_OK;
    }
    const tcn_chain_message *msg = &tx.msg;
    out->signature = tx.signatures[0];

    /* 2. Signatures (the sigverify stage, before the bank sees it). */
    if (tcn_chain_tx_verify(&tx, &e) != TCN_OK) {
        reject(out, TCN_CHAIN_TXERR_SIGNATURE_FAILURE, "%s", e.msg);
        return TCN_OK;
    }
    uint8_t digest[32];
    {
        tcn_buf b = {0};
        if (tcn_chain_message_encode(msg, &b, &e) != TCN_OK) {
            tcn_buf_free(&b);
            return e.code == TCN_ERR_NOMEM ? TCN_ERR_NOMEM : TCN_ERR_INTERNAL;
        }
        tcn_sha256(b.p, b.len, digest);
        tcn_buf_free(&b);
    }
    bool writable[TCN_CHAIN_MESSAGE_KEYS_MAX], signer[TCN_CHAIN_MESSAGE_KEYS_MAX];
    account_flags(msg, writable, signer);

    /* 3. Age, else durable nonce (Agave check_transaction_age). */
    tcn_chain_hash env, next;
    env = m->opts.nonce_source == TCN_CHAIN_NONCE_FROM_MESSAGE ? msg->recent_blockhash : *latest(m);
    tcn_chain_durable_nonce_from_blockhash(&env, &next);
    int nonce_idx = -1;
    tcn_chain_nonce_state advanced;
    memset(&advanced, 0, sizeof(advanced));
    if (!tcn_chain_model_blockhash_valid(m, &msg->recent_blockhash) &&
        !nonce_admit(m, msg, writable, &next, &nonce_idx, &advanced)) {
        reject(out, TCN_CHAIN_TXERR_BLOCKHASH_NOT_FOUND,
               "recent blockhash is neither a recent blockhash nor the current value of an advanceable nonce account "
               "authorized by the transaction");
        return TCN_OK;
    }

    /* 4. Status cache (Agave check_seen_transaction_cache). */
    if (tcn_chain_status_by_msg(&m->statuses, digest) != NULL ||
        tcn_chain_status_by_sig(&m->statuses, &tx.signatures[0]) != NULL) {
        reject(out, TCN_CHAIN_TXERR_ALREADY_PROCESSED, "this transaction has already landed");
        return TCN_OK;
    }

    /* 5. Fee payer. */
    uint64_t fee = (uint64_t)TCN_CHAIN_LAMPORTS_PER_SIGNATURE * msg->header.num_required_signatures;
    if (!fee_payer_ok(m, &msg->keys[0], fee, out))
        return TCN_OK;

    /* 6. Load, execute, commit: from here on it lands. */
    TCN_GUARD(execute_and_commit(m, commit, msg, writable, signer, &env, fee, nonce_idx, &advanced, out));
    if (!commit)
        return TCN_OK;
    tcn_chain_landed l = {.sig = tx.signatures[0], .slot = m->slot, .err = out->err};
    memcpy(l.msg_digest, digest, sizeof(digest));
    return tcn_chain_status_add(&m->statuses, &l);
}

int tcn_chain_model_submit(tcn_chain_model *m, const uint8_t *wire, size_t len, tcn_chain_submit_result *out)
{
    return process(m, true, wire, len, out);
}

int tcn_chain_model_simulate(tcn_chain_model *m, const uint8_t *wire, size_t len, tcn_chain_submit_result *out)
{
    return process(m, false, wire, len, out);
}

int tcn_chain_model_request_airdrop(tcn_chain_model *m, const tcn_chain_pubkey *pk, uint64_t lamports,
                                    tcn_chain_signature *sig, tcn_error *err)
{
    static const char tag[] = "tcn-chain-airdrop";
    uint8_t buf[sizeof(tag) + 8 + 8 + 8 + TCN_CHAIN_PUBKEY_LEN];
    size_t n = 0;
    memcpy(buf, tag, sizeof(tag));
    n += sizeof(tag);
    for (int i = 0; i < 8; i++) {
        buf[n + (size_t)i] = (uint8_t)(m->slot >> (8 * i));
        buf[n + 8 + (size_t)i] = (uint8_t)(m->airdrops >> (8 * i));
        buf[n + 16 + (size_t)i] = (uint8_t)(lamports >> (8 * i));
    }
    n += 24;
    memcpy(buf + n, pk->b, TCN_CHAIN_PUBKEY_LEN);
    n += TCN_CHAIN_PUBKEY_LEN;
    tcn_chain_landed l;
    memset(&l, 0, sizeof(l));
    tcn_sha512(buf, n, l.sig.b);
    tcn_sha256(l.sig.b, sizeof(l.sig.b), l.msg_digest);
    l.slot = m->slot;
    TCN_GUARD(tcn_chain_model_airdrop(m, pk, lamports, err));
    m->airdrops++;
    TCN_ENSURE(tcn_chain_status_add(&m->statuses, &l) == TCN_OK, err, TCN_ERR_NOMEM, "airdrop: out of memory");
    *sig = l.sig;
    return TCN_OK;
}

void tcn_chain_model_signature_status(const tcn_chain_model *m, const tcn_chain_signature *sig,
                                      tcn_chain_sig_status *out)
{
    memset(out, 0, sizeof(*out));
    const tcn_chain_landed *l = tcn_chain_status_by_sig(&m->statuses, sig);
    if (l == NULL)
        return;
    out->state = l->err.kind == TCN_CHAIN_TX_OK ? TCN_CHAIN_SIG_LANDED_OK : TCN_CHAIN_SIG_LANDED_ERR;
    out->slot = l->slot;
    out->err = l->err;
}

/* --- Conservation ------------------------------------------------------------ */

void tcn_chain_model_supply(const tcn_chain_model *m, tcn_chain_supply *out)
{
    out->minted = m->minted;
    out->fees = m->fees;
    out->balances = 0;
    for (size_t i = 0; i < m->accounts.n; i++)
        out->balances += m->accounts.v[i].lamports; /* <= minted, so no overflow while the invariant holds */
}

int tcn_chain_model_check_conservation(const tcn_chain_model *m, tcn_error *err)
{
    tcn_chain_supply s;
    tcn_chain_model_supply(m, &s);
    TCN_ENSURE(s.balances <= s.minted && s.minted - s.balances == s.fees, err, TCN_ERR_CORRUPT,
               "chain model: conservation: balances %llu + fees %llu != minted %llu",
               (unsigned long long)s.balances, (unsigned long long)s.fees, (unsigned long long)s.minted);
    return TCN_OK;
}
