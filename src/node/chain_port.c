/* The executor's chain port over Solana JSON-RPC: getSlot, getLatestBlockhash, getMultipleAccounts,
 * sendTransaction and getSignatureStatuses at one commitment, answers never older than what was seen. */
#include "node/chain_port.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "chain/nonce.h"
#include "chain/transaction.h"
#include "chain/types.h"
#include "util/assert.h"
#include "util/buf.h"

struct tcn_chain_port {
    char url[TCN_CHAIN_PORT_URL_MAX + 1];
    char shown[TCN_CHAIN_PORT_URL_MAX + 1]; /* scheme://host[:port]: what errors show of the URL */
    tcn_chain_port_options o;
    uint64_t next_id;
    tcn_buf req, ans;
    tcn_chain_tx tx;               /* scratch for send (large: kept off the stack) */
    atomic_flag in_call;           /* one caller at a time */
    pthread_mutex_t mu;            /* guards st */
    tcn_chain_port_stats st;
};

void tcn_chain_port_options_default(tcn_chain_port_options *o)
{
    memset(o, 0, sizeof(*o));
    o->timeout_ms = TCN_CHAIN_PORT_TIMEOUT_MS_DEFAULT;
    o->commitment = TCN_CHAIN_COMMITMENT_FINALIZED;
    o->batch_tries = TCN_CHAIN_PORT_BATCH_TRIES_DEFAULT;
}

/* scheme://host[:port] of url, without user info, path, query or fragment. */
static void shown_url(const char *url, char *out, size_t cap)
{
    const char *auth = strstr(url, "://");
    if (auth == NULL) {
        snprintf(out, cap, "(url)");
        return;
    }
    auth += 3;
    size_t end = strcspn(auth, "/?#");
    const char *at = memchr(auth, '@', end);
    const char *host = at ? at + 1 : auth;
    snprintf(out, cap, "%.*s%.*s", (int)(auth - url), url, (int)(end - (size_t)(host - auth)), host);
}

int tcn_chain_port_new(const char *rpc_url, const tcn_chain_port_options *o, tcn_chain_port **out, tcn_error *err)
{
    *out = NULL;
    tcn_chain_port_options opt;
    if (o == NULL)
        tcn_chain_port_options_default(&opt);
    else
        opt = *o;
    TCN_ENSURE(rpc_url != NULL && (strncasecmp(rpc_url, "http://", 7) == 0 || strncasecmp(rpc_url, "https://", 8) == 0),
               err, TCN_ERR_USAGE, "chain port: rpc URL must start with http:// or https://");
    TCN_ENSURE(strlen(rpc_url) <= TCN_CHAIN_PORT_URL_MAX, err, TCN_ERR_USAGE,
               "chain port: rpc URL longer than %u bytes", TCN_CHAIN_PORT_URL_MAX);
    TCN_ENSURE(opt.timeout_ms >= 1 && opt.timeout_ms <= TCN_CHAIN_PORT_TIMEOUT_MS_MAX, err, TCN_ERR_USAGE,
               "chain port: timeout_ms %u outside 1..%u", opt.timeout_ms, TCN_CHAIN_PORT_TIMEOUT_MS_MAX);
    TCN_ENSURE(tcn_chain_commitment_name(opt.commitment) != NULL, err, TCN_ERR_USAGE,
               "chain port: unknown commitment %d", (int)opt.commitment);
    TCN_ENSURE(opt.batch_tries >= 1 && opt.batch_tries <= TCN_CHAIN_PORT_BATCH_TRIES_MAX, err, TCN_ERR_USAGE,
               "chain port: batch_tries %u outside 1..%u", opt.batch_tries, TCN_CHAIN_PORT_BATCH_TRIES_MAX);
    tcn_chain_port *p = calloc(1, sizeof(*p));
    TCN_ENSURE(p != NULL, err, TCN_ERR_NOMEM, "chain port: out of memory");
    snprintf(p->url, sizeof(p->url), "%s", rpc_url);
    shown_url(p->url, p->shown, sizeof(p->shown));
    p->o = opt;
    p->next_id = 1;
    atomic_flag_clear(&p->in_call);
    if (pthread_mutex_init(&p->mu, NULL) != 0) {
        free(p);
        return tcn_err_set(err, TCN_ERR_INTERNAL, "chain port: pthread_mutex_init failed");
    }
    *out = p;
    return TCN_OK;
}

void tcn_chain_port_free(tcn_chain_port *p)
{
    if (p == NULL)
        return;
    tcn_buf_free(&p->req);
    tcn_buf_free(&p->ans);
    pthread_mutex_destroy(&p->mu);
    free(p);
}

void tcn_chain_port_stats_get(tcn_chain_port *p, tcn_chain_port_stats *out)
{
    pthread_mutex_lock(&p->mu);
    *out = p->st;
    pthread_mutex_unlock(&p->mu);
}

/* --- Bookkeeping ---------------------------------------------------------------- */

static void count_call(tcn_chain_port *p)
{
    pthread_mutex_lock(&p->mu);
    p->st.calls++;
    pthread_mutex_unlock(&p->mu);
}

static void saw_slot(tcn_chain_port *p, uint64_t slot)
{
    pthread_mutex_lock(&p->mu);
    if (slot > p->st.highest_slot)
        p->st.highest_slot = slot;
    pthread_mutex_unlock(&p->mu);
}

static uint64_t highest(tcn_chain_port *p)
{
    pthread_mutex_lock(&p->mu);
    uint64_t s = p->st.highest_slot;
    pthread_mutex_unlock(&p->mu);
    return s;
}

/* err may be NULL: the port still needs the words for its counters. */
#define LOCAL_ERR(err)         \
    tcn_error local_err_;      \
    if ((err) == NULL)         \
        (err) = &local_err_

static tcn_chain_port *enter(void *ctx)
{
    tcn_chain_port *p = ctx;
    /* one thread at a time (chain_port.h): a second caller is a bug */
    TCN_ASSERT(!atomic_flag_test_and_set(&p->in_call));
    return p;
}

static int leave(tcn_chain_port *p, int rc, const tcn_error *err)
{
    if (rc != TCN_OK) {
        pthread_mutex_lock(&p->mu);
        p->st.errors++;
        if (rc == TCN_ERR_BUSY)
            p->st.busy++;
        /* the head of the message: the method and what failed come first */
        snprintf(p->st.last_error, sizeof(p->st.last_error), "%.*s", (int)sizeof(p->st.last_error) - 1,
                 err->msg);
        pthread_mutex_unlock(&p->mu);
    }
    atomic_flag_clear(&p->in_call);
    return rc;
}

/* Replaces the full URL in msg by its shown form: providers put API keys in paths and queries. */
static void redact(tcn_chain_port *p, tcn_error *err)
{
    char *at = strstr(err->msg, p->url);
    if (at == NULL || strcmp(p->url, p->shown) == 0)
        return;
    char rest[TCN_ERR_MSG_MAX];
    snprintf(rest, sizeof(rest), "%s", at + strlen(p->url));
    snprintf(at, sizeof(err->msg) - (size_t)(at - err->msg), "%s%s", p->shown, rest);
}

/* Posts p->req (built by the caller with id); the answer is in p->ans. */
static int post(tcn_chain_port *p, const char *method, tcn_error *err)
{
    count_call(p);
    if (tcn_chain_rpc_call(p->url, &p->req, &p->ans, (long)p->o.timeout_ms, err) != TCN_OK) {
        redact(p, err);
        return tcn_err_wrap(err, "chain: %s", method);
    }
    return TCN_OK;
}

/* A request builder failed: only our own arguments or memory. */
static int built(int rc, const char *method, tcn_error *err)
{
    if (rc == TCN_OK)
        return TCN_OK;
    return tcn_err_set(err, rc, "chain: %s: cannot build the request: %s", method, tcn_err_message(rc));
}

/* A JSON-RPC error answer: -32016 means the node is behind (TCN_ERR_BUSY);
 * anything else is the node refusing (TCN_ERR_IO with its code and words). */
static int refused(const tcn_chain_rpc_error *re, const char *method, uint64_t min_slot, tcn_error *err)
{
    if (re->code == TCN_CHAIN_RPC_MIN_CONTEXT_SLOT_NOT_REACHED) {
        if (re->has_context_slot)
            return tcn_err_set(err, TCN_ERR_BUSY, "chain: %s: node behind: at slot %llu, minContextSlot %llu",
                               method, (unsigned long long)re->context_slot, (unsigned long long)min_slot);
        return tcn_err_set(err, TCN_ERR_BUSY, "chain: %s: node behind minContextSlot %llu", method,
                           (unsigned long long)min_slot);
    }
    return tcn_err_set(err, TCN_ERR_IO, "chain: %s: refused: %lld %s", method, (long long)re->code, re->message);
}

/* An answer for a slot below the minimum asked for (a server that ignores
 * minContextSlot): the node is behind, whatever it says. */
static int not_older(uint64_t got, uint64_t min_slot, const char *method, tcn_error *err)
{
    TCN_ENSURE(got >= min_slot, err, TCN_ERR_BUSY, "chain: %s: answered for slot %llu, below minContextSlot %llu",
               method, (unsigned long long)got, (unsigned long long)min_slot);
    return TCN_OK;
}

/* --- latest: getSlot + getLatestBlockhash --------------------------------------- */

static int do_latest(tcn_chain_port *p, uint64_t *slot, tcn_chain_hash *bh, tcn_error *err)
{
    tcn_chain_rpc_read r = {.commitment = p->o.commitment, .min_context_slot = highest(p)};
    tcn_chain_rpc_error re;
    uint64_t id = p->next_id++, s, ctx_slot, last;
    p->req.len = 0;
    TCN_GUARD(built(tcn_chain_rpc_request_get_slot_cfg(&p->req, id, &r), "getSlot", err));
    TCN_GUARD(post(p, "getSlot", err));
    if (tcn_chain_rpc_parse_get_slot((const char *)p->ans.p, p->ans.len, id, &s, &re, err) != TCN_OK)
        return tcn_err_wrap(err, "chain");
    if (re.present)
        return refused(&re, "getSlot", r.min_context_slot, err);
    TCN_GUARD(not_older(s, r.min_context_slot, "getSlot", err));
    saw_slot(p, s);

    /* the blockhash of that slot or a later one */
    r.min_context_slot = s;
    id = p->next_id++;
    p->req.len = 0;
    TCN_GUARD(built(tcn_chain_rpc_request_get_latest_blockhash_cfg(&p->req, id, &r), "getLatestBlockhash", err));
    TCN_GUARD(post(p, "getLatestBlockhash", err));
    if (tcn_chain_rpc_parse_get_latest_blockhash((const char *)p->ans.p, p->ans.len, id, &ctx_slot, bh, &last, &re,
                                                 err) != TCN_OK)
        return tcn_err_wrap(err, "chain");
    if (re.present)
        return refused(&re, "getLatestBlockhash", r.min_context_slot, err);
    TCN_GUARD(not_older(ctx_slot, r.min_context_slot, "getLatestBlockhash", err));
    saw_slot(p, ctx_slot);
    *slot = ctx_slot;
    return TCN_OK;
}

static int port_latest(void *ctx, uint64_t *slot, tcn_chain_hash *bh, tcn_error *err)
{
    LOCAL_ERR(err);
    tcn_chain_port *p = enter(ctx);
    return leave(p, do_latest(p, slot, bh, err), err);
}

/* --- accounts: getMultipleAccounts ---------------------------------------------- */

static void to_exec_account(const tcn_chain_rpc_account *a, tcn_exec_account *out)
{
    memset(out, 0, sizeof(*out));
    if (!a->exists)
        return;
    out->exists = true;
    out->lamports = a->lamports;
    /* a nonce account is the System program's, not executable, and holds an
     * initialized 80-byte nonce state (strict: nothing else is ours) */
    out->nonce_ok = tcn_chain_pubkey_eq(&a->owner, &tcn_chain_system_program_id) && !a->executable &&
                    tcn_chain_nonce_parse(a->data, a->data_len, true, &out->nonce, NULL) == TCN_OK;
    if (!out->nonce_ok)
        memset(&out->nonce, 0, sizeof(out->nonce));
}

/* One getMultipleAccounts of n <= 100 keys, no older than min_slot. */
static int read_batch(tcn_chain_port *p, const tcn_chain_pubkey *pks, size_t n, uint64_t min_slot,
                      tcn_exec_account *out, uint64_t *slot, tcn_error *err)
{
    static const char M[] = "getMultipleAccounts";
    tcn_chain_rpc_read r = {.commitment = p->o.commitment, .min_context_slot = min_slot};
    tcn_chain_rpc_account acc[TCN_CHAIN_RPC_ACCOUNTS_MAX];
    tcn_chain_rpc_error re;
    uint64_t id = p->next_id++;
    TCN_ASSERT(n >= 1 && n <= TCN_CHAIN_RPC_ACCOUNTS_MAX);
    p->req.len = 0;
    TCN_GUARD(built(tcn_chain_rpc_request_get_multiple_accounts(&p->req, id, pks, n, &r), M, err));
    TCN_GUARD(post(p, M, err));
    if (tcn_chain_rpc_parse_get_multiple_accounts((const char *)p->ans.p, p->ans.len, id, slot, acc, n, &re, err) !=
        TCN_OK)
        return tcn_err_wrap(err, "chain");
    int rc = TCN_OK;
    if (re.present)
        rc = refused(&re, M, min_slot, err);
    else
        rc = not_older(*slot, min_slot, M, err);
    for (size_t i = 0; i < n; i++) {
        if (rc == TCN_OK)
            to_exec_account(&acc[i], &out[i]);
        tcn_chain_rpc_account_free(&acc[i]);
    }
    if (rc == TCN_OK)
        saw_slot(p, *slot);
    return rc;
}

static int do_accounts(tcn_chain_port *p, const tcn_chain_pubkey *pks, size_t n, tcn_exec_account *out,
                       uint64_t *slot, tcn_error *err)
{
    TCN_ENSURE(n >= 1 && n <= TCN_CHAIN_PORT_ACCOUNTS_MAX, err, TCN_ERR_USAGE,
               "chain: getMultipleAccounts: %zu keys, want 1..%u", n, TCN_CHAIN_PORT_ACCOUNTS_MAX);
    uint64_t got = 0;
    for (uint32_t t = 0; t < p->o.batch_tries; t++) {
        /* never older than anything read before: answers do not go back in time */
        uint64_t min_slot = highest(p), at = 0;
        bool same = true;
        for (size_t off = 0; same && off < n; off += TCN_CHAIN_RPC_ACCOUNTS_MAX) {
            size_t k = n - off < TCN_CHAIN_RPC_ACCOUNTS_MAX ? n - off : TCN_CHAIN_RPC_ACCOUNTS_MAX;
            TCN_GUARD(read_batch(p, pks + off, k, min_slot, out + off, &got, err));
            if (off == 0)
                at = min_slot = got; /* the later batches: that slot or later ... */
            else
                same = got == at;    /* ... and it must be that slot */
        }
        if (same) {
            *slot = at;
            return TCN_OK;
        }
    }
    memset(out, 0, n * sizeof(*out));
    return tcn_err_set(err, TCN_ERR_BUSY,
                       "chain: getMultipleAccounts: %zu keys in batches of %u: no slot answered for all of them "
                       "(%u tries, last %llu)",
                       n, TCN_CHAIN_RPC_ACCOUNTS_MAX, p->o.batch_tries, (unsigned long long)got);
}

static int port_accounts(void *ctx, const tcn_chain_pubkey *pks, size_t n, tcn_exec_account *out, uint64_t *slot,
                         tcn_error *err)
{
    LOCAL_ERR(err);
    tcn_chain_port *p = enter(ctx);
    return leave(p, do_accounts(p, pks, n, out, slot, err), err);
}

/* --- send: sendTransaction ------------------------------------------------------ */

static int do_send(tcn_chain_port *p, const uint8_t *tx, size_t len, tcn_error *err)
{
    static const char M[] = "sendTransaction";
    if (tcn_chain_tx_decode(tx, len, &p->tx, err) != TCN_OK)
        return tcn_err_wrap(err, "chain: %s: not a transaction", M);
    tcn_chain_rpc_read r = {.commitment = p->o.commitment};
    tcn_chain_rpc_error re;
    tcn_chain_signature sig;
    uint64_t id = p->next_id++;
    p->req.len = 0;
    /* skipPreflight: see docs/CHAIN.md; the fate comes from status */
    TCN_GUARD(built(tcn_chain_rpc_request_send_transaction_cfg(&p->req, id, tx, len, true, &r), M, err));
    TCN_GUARD(post(p, M, err));
    if (tcn_chain_rpc_parse_send_transaction((const char *)p->ans.p, p->ans.len, id, &sig, &re, err) != TCN_OK)
        return tcn_err_wrap(err, "chain");
    if (re.present)
        return refused(&re, M, 0, err);
    TCN_ENSURE(tcn_chain_signature_eq(&sig, tcn_chain_tx_id(&p->tx)), err, TCN_ERR_MALFORMED,
               "chain: %s: result: not the transaction's signature", M);
    return TCN_OK;
}

static int port_send(void *ctx, const uint8_t *tx, size_t len, tcn_error *err)
{
    LOCAL_ERR(err);
    tcn_chain_port *p = enter(ctx);
    return leave(p, do_send(p, tx, len, err), err);
}

/* --- status: getSignatureStatuses ----------------------------------------------- */

/* The level a status entry reached: its confirmationStatus, or for servers
 * without it, confirmations null = rooted (Solana docs). */
static tcn_chain_commitment entry_level(const tcn_chain_rpc_status *s)
{
    tcn_chain_commitment c;
    if (s->confirmation_status[0] != '\0' && tcn_chain_commitment_from_name(s->confirmation_status, &c))
        return c;
    return s->has_confirmations ? TCN_CHAIN_COMMITMENT_CONFIRMED : TCN_CHAIN_COMMITMENT_FINALIZED;
}

/* finalized > confirmed > processed */
static int strength(tcn_chain_commitment c)
{
    return c == TCN_CHAIN_COMMITMENT_FINALIZED ? 2 : c == TCN_CHAIN_COMMITMENT_CONFIRMED ? 1 : 0;
}

static int do_status(tcn_chain_port *p, const tcn_chain_signature *sig, uint64_t min_slot, tcn_chain_sig_status *out,
                     tcn_error *err)
{
    static const char M[] = "getSignatureStatuses";
    TCN_ENSURE(min_slot <= INT64_MAX, err, TCN_ERR_USAGE, "chain: %s: min slot %llu too large", M,
               (unsigned long long)min_slot);
    tcn_chain_rpc_status st;
    tcn_chain_rpc_error re;
    uint64_t id = p->next_id++, ctx_slot;
    memset(out, 0, sizeof(*out));
    p->req.len = 0;
    TCN_GUARD(built(tcn_chain_rpc_request_get_signature_statuses_cfg(&p->req, id, sig, 1, true, min_slot), M, err));
    TCN_GUARD(post(p, M, err));
    if (tcn_chain_rpc_parse_get_signature_statuses((const char *)p->ans.p, p->ans.len, id, &ctx_slot, &st, 1, &re,
                                                   err) != TCN_OK)
        return tcn_err_wrap(err, "chain");
    if (re.present)
        return refused(&re, M, min_slot, err);
    /* Solana nodes ignore minContextSlot here: the context slot decides */
    TCN_GUARD(not_older(ctx_slot, min_slot, M, err));
    if (!st.found)
        return TCN_OK; /* TCN_CHAIN_SIG_UNKNOWN as of ctx_slot */
    tcn_chain_commitment level = entry_level(&st);
    TCN_ENSURE(strength(level) >= strength(p->o.commitment), err, TCN_ERR_BUSY,
               "chain: %s: landed in slot %llu, %s, not yet %s", M, (unsigned long long)st.slot,
               tcn_chain_commitment_name(level), tcn_chain_commitment_name(p->o.commitment));
    out->state = st.err.kind == TCN_CHAIN_TX_OK ? TCN_CHAIN_SIG_LANDED_OK : TCN_CHAIN_SIG_LANDED_ERR;
    out->slot = st.slot;
    out->err = st.err;
    return TCN_OK;
}

static int port_status(void *ctx, const tcn_chain_signature *sig, uint64_t min_slot, tcn_chain_sig_status *out,
                       tcn_error *err)
{
    LOCAL_ERR(err);
    tcn_chain_port *p = enter(ctx);
    return leave(p, do_status(p, sig, min_slot, out, err), err);
}

void tcn_chain_port_table(tcn_chain_port *p, tcn_exec_chain *out)
{
    out->ctx = p;
    out->latest = port_latest;
    out->accounts = port_accounts;
    out->send = port_send;
    out->status = port_status;
}
