/* Unit tests: deterministic apply — each command's success and each refusal (code, reason naming the check,
 * nothing changed), the rules every command shares, at most one committed intent per (nonce account, value),
 * outcome and refund committed together, DROPPED returning a payout to SCHEDULED, and a random walk that checks
 * the exactly-once invariants after every command. */
#include "test_state_harness.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "chain/base58.h"

static tcn_cmd raw(uint8_t type, uint64_t ts, const tcn_chain_pubkey *actor) { return h_cmd(type, ts, actor); }

/* --- Rules every command shares ------------------------------------------------------ */

static void test_before_genesis(void **state)
{
    (void)state;
    h_t t;
    memset(&t, 0, sizeof(t));
    assert_int_equal(tcn_crypto_init(), TCN_OK);
    assert_int_equal(tcn_state_new(&t.st), TCN_OK);
    t.op = h_pub(H_OP);
    assert_false(tcn_state_has_genesis(t.st));
    static const tcn_chain_pubkey zero;
    assert_memory_equal(tcn_state_coordinator_key(t.st), &zero, sizeof(zero));
    /* Every other type is refused before genesis. */
    for (uint8_t type = TCN_CMD_CLIENT_SET; type <= TCN_CMD_TYPE_MAX_; type++) {
        tcn_cmd c = raw(type, H_T0, &t.op);
        if (type == TCN_CMD_KEY_IMPORT) {
            c.u.key_import.kind = TCN_KEY_FROST_SHARE;
            c.u.key_import.len = 1;
        } else if (type == TCN_CMD_PAYOUT_INTENT) {
            c.u.payout_intent.tx_len = 1;
        } else if (type == TCN_CMD_PAYOUT_OUTCOME) {
            c.u.payout_outcome.result = TCN_PAYOUT_DROPPED;
        }
        h_refused(&t, &c, TCN_ERR_USAGE, "no genesis yet");
    }
    /* Bytes that do not decode: MALFORMED whatever the decoder said. */
    tcn_state_result r;
    const uint8_t junk[3] = {9, 9, 9};
    assert_int_equal(tcn_state_apply(t.st, ++t.index, junk, sizeof(junk), &r), TCN_OK);
    assert_int_equal(r.code, TCN_ERR_MALFORMED);
    assert_non_null(strstr(r.reason, "version"));
    assert_int_equal(tcn_state_apply(t.st, ++t.index, NULL, 0, &r), TCN_OK);
    assert_int_equal(r.code, TCN_ERR_MALFORMED);

    /* GENESIS's own checks. */
    tcn_cmd g = raw(TCN_CMD_GENESIS, H_T0, &t.op);
    h_seed(H_COORD, g.u.genesis.coordinator_seed);
    memset(g.u.genesis.group_id, 1, 16);
    g.u.genesis.operator_key = t.op;
    h_refused(&t, &g, TCN_ERR_USAGE, "GENESIS: actor: the network proposes");
    g = raw(TCN_CMD_GENESIS, H_T0, NULL);
    h_seed(H_COORD, g.u.genesis.coordinator_seed);
    g.u.genesis.operator_key = t.op;
    h_refused(&t, &g, TCN_ERR_USAGE, "group_id: all zero");
    g = raw(TCN_CMD_GENESIS, H_T0, NULL);
    h_seed(H_COORD, g.u.genesis.coordinator_seed);
    memset(g.u.genesis.group_id, 1, 16);
    h_refused(&t, &g, TCN_ERR_USAGE, "operator_key: the zero key");
    assert_false(tcn_state_has_genesis(t.st));
    assert_int_equal(tcn_state_now_ms(t.st), 0);

    h_genesis(&t);
    assert_true(tcn_state_has_genesis(t.st));
    tcn_chain_pubkey coord = h_pub(H_COORD);
    assert_memory_equal(tcn_state_coordinator_key(t.st), &coord, sizeof(coord));
    uint8_t gid[16];
    memset(gid, 0x47, sizeof(gid));
    assert_memory_equal(tcn_state_group_id(t.st), gid, 16);
    assert_int_equal(tcn_state_client_role(t.st, &t.op), TCN_ROLE_OPERATOR);
    assert_int_equal(tcn_state_now_ms(t.st), H_T0);
    g = raw(TCN_CMD_GENESIS, H_T0, NULL);
    h_seed(H_COORD + 1, g.u.genesis.coordinator_seed);
    memset(g.u.genesis.group_id, 2, 16);
    g.u.genesis.operator_key = t.op;
    h_refused(&t, &g, TCN_ERR_USAGE, "genesis: already applied");
    h_free(&t);
}

/* now = max(now, ts_ms); checks use the command's own ts_ms; refusals move
 * only the applied index. */
static void test_time_and_index(void **state)
{
    (void)state;
    h_t t;
    h_init(&t);
    tcn_chain_pubkey c1 = h_pub(500);
    tcn_cmd c = raw(TCN_CMD_CLIENT_SET, H_T0 + 5000, &t.op);
    c.u.client_set.client = c1;
    c.u.client_set.role = TCN_ROLE_USER;
    h_ok(&t, &c);
    assert_int_equal(tcn_state_now_ms(t.st), H_T0 + 5000);
    c = raw(TCN_CMD_CLIENT_SET, H_T0 + 1000, &t.op); /* a leader with a slower clock */
    c.u.client_set.client = c1;
    c.u.client_set.role = TCN_ROLE_LP;
    h_ok(&t, &c);
    assert_int_equal(tcn_state_now_ms(t.st), H_T0 + 5000);
    assert_int_equal(tcn_state_client_role(t.st, &c1), TCN_ROLE_LP);
    /* A swap's deadline is checked against the command's ts_ms, not now. */
    tcn_cmd s = h_swap_cmd(&t, H_MIN_AMOUNT, H_T0 + 3000, NULL);
    s.ts_ms = H_T0 + 2000;
    assert_true(h_ok(&t, &s) == 1);
    s = h_swap_cmd(&t, H_MIN_AMOUNT, H_T0 + 3000, NULL);
    s.ts_ms = H_T0 + 3000;
    h_refused(&t, &s, TCN_ERR_USAGE, "deadline_ms");
    /* Indexes may skip (entries of other kinds sit between), never repeat. */
    tcn_state_result r;
    t.index += 10;
    assert_int_equal(tcn_state_apply(t.st, t.index, (const uint8_t *)"", 0, &r), TCN_OK);
    assert_int_equal(tcn_state_applied_index(t.st), t.index);
    h_free(&t);
}

/* An index that does not increase is a programmer error: apply aborts. */
static void test_index_must_increase(void **state)
{
    (void)state;
    h_t t;
    h_init(&t);
    for (int k = 0; k < 2; k++) {
        uint64_t index = k == 0 ? t.index : t.index - 1;
        fflush(NULL);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            tcn_state_result r;
            if (freopen("/dev/null", "w", stderr) == NULL) /* the assertion's message */
                _exit(2);
            if (tcn_state_apply(t.st, index, (const uint8_t *)"", 0, &r) == TCN_OK)
                _exit(0);
            _exit(1);
        }
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT);
    }
    h_free(&t);
}

/* --- CLIENT_SET ------------------------------------------------------------------------ */

static void test_client_set(void **state)
{
    (void)state;
    h_t t;
    h_init(&t);
    tcn_chain_pubkey x = h_pub(600), op2 = h_pub(H_OP2);
    static const tcn_chain_pubkey zero;
    tcn_cmd c = raw(TCN_CMD_CLIENT_SET, H_T0, &t.user);
    c.u.client_set.client = x;
    c.u.client_set.role = TCN_ROLE_USER;
    h_refused(&t, &c, TCN_ERR_USAGE, "CLIENT_SET: actor: role USER may not do this");
    c = raw(TCN_CMD_CLIENT_SET, H_T0, &x);
    c.u.client_set.client = x;
    c.u.client_set.role = TCN_ROLE_USER;
    h_refused(&t, &c, TCN_ERR_USAGE, "is not a client");
    c = raw(TCN_CMD_CLIENT_SET, H_T0, NULL);
    c.u.client_set.client = x;
    c.u.client_set.role = TCN_ROLE_USER;
    h_refused(&t, &c, TCN_ERR_USAGE, "actor");
    c = raw(TCN_CMD_CLIENT_SET, H_T0, &t.op);
    c.u.client_set.client = zero;
    c.u.client_set.role = TCN_ROLE_USER;
    h_refused(&t, &c, TCN_ERR_USAGE, "client: the zero key");
    c = raw(TCN_CMD_CLIENT_SET, H_T0, &t.op);
    c.u.client_set.client = x;
    c.u.client_set.role = TCN_ROLE_NONE;
    h_refused(&t, &c, TCN_ERR_USAGE, "is not a client");
    /* The last operator stays. */
    c = raw(TCN_CMD_CLIENT_SET, H_T0, &t.op);
    c.u.client_set.client = t.op;
    c.u.client_set.role = TCN_ROLE_NONE;
    h_refused(&t, &c, TCN_ERR_USAGE, "is the last operator");
    c = raw(TCN_CMD_CLIENT_SET, H_T0, &t.op);
    c.u.client_set.client = t.op;
    c.u.client_set.role = TCN_ROLE_USER;
    h_refused(&t, &c, TCN_ERR_USAGE, "is the last operator");
    /* With a second operator, the first may go; then the second is the last. */
    h_client(&t, &op2, TCN_ROLE_OPERATOR);
    c = raw(TCN_CMD_CLIENT_SET, H_T0, &op2);
    c.u.client_set.client = t.op;
    c.u.client_set.role = TCN_ROLE_NONE;
    h_ok(&t, &c);
    assert_int_equal(tcn_state_client_role(t.st, &t.op), TCN_ROLE_NONE);
    c = raw(TCN_CMD_CLIENT_SET, H_T0, &op2);
    c.u.client_set.client = op2;
    c.u.client_set.role = TCN_ROLE_LP;
    h_refused(&t, &c, TCN_ERR_USAGE, "is the last operator");
    /* A removed client can no longer act. */
    c = raw(TCN_CMD_CLIENT_SET, H_T0, &op2);
    c.u.client_set.client = t.user;
    c.u.client_set.role = TCN_ROLE_NONE;
    h_ok(&t, &c);
    tcn_cmd s = h_swap_cmd(&t, H_MIN_AMOUNT, H_T0 + H_DAY_MS, NULL);
    h_refused(&t, &s, TCN_ERR_USAGE, "SWAP_CREATE: actor");
    /* Many clients: the table grows, removals keep the others. */
    for (uint32_t i = 0; i < 300; i++) {
        tcn_chain_pubkey k = h_pub(10000 + i);
        c = raw(TCN_CMD_CLIENT_SET, H_T0, &op2);
        c.u.client_set.client = k;
        c.u.client_set.role = (uint8_t)(1 + i % 3);
        h_ok(&t, &c);
    }
    for (uint32_t i = 0; i < 300; i += 2) {
        tcn_chain_pubkey k = h_pub(10000 + i);
        c = raw(TCN_CMD_CLIENT_SET, H_T0, &op2);
        c.u.client_set.client = k;
        c.u.client_set.role = TCN_ROLE_NONE;
        h_ok(&t, &c);
    }
    for (uint32_t i = 0; i < 300; i++) {
        tcn_chain_pubkey k = h_pub(10000 + i);
        assert_int_equal(tcn_state_client_role(t.st, &k), i % 2 ? (tcn_role)(1 + i % 3) : TCN_ROLE_NONE);
    }
    h_free(&t);
}

/* --- KEY_IMPORT, POLICY_SET ---------------------------------------------------------------- */

static tcn_cmd key_import(const tcn_chain_pubkey *actor, uint8_t kind, uint32_t seed_no, uint16_t len)
{
    tcn_cmd c = raw(TCN_CMD_KEY_IMPORT, H_T0, actor);
    c.u.key_import.kind = kind;
    c.u.key_import.len = len;
    uint8_t seed[32];
    h_seed(seed_no, seed);
    memcpy(c.u.key_import.secret, seed, len < 32 ? len : 32);
    if (len > 32)
        memcpy(c.u.key_import.secret + 32, seed, len - 32);
    return c;
}

static void test_key_import(void **state)
{
    (void)state;
    h_t t;
    h_init(&t);
    tcn_chain_pubkey x = h_pub(600);
    tcn_cmd c = key_import(&x, TCN_KEY_ED25519_SEED, 700, 32);
    h_refused(&t, &c, TCN_ERR_USAGE, "KEY_IMPORT: actor");
    c = key_import(NULL, TCN_KEY_ED25519_SEED, 700, 32);
    h_refused(&t, &c, TCN_ERR_USAGE, "KEY_IMPORT: actor");
    c = key_import(&t.lp, TCN_KEY_ED25519_SEED, 700, 32);
    assert_int_equal(h_ok(&t, &c), 1);
    tcn_key_view k;
    assert_true(tcn_state_key(t.st, 1, &k));
    tcn_chain_pubkey want = h_pub(700);
    assert_memory_equal(&k.pubkey, &want, 32);
    assert_memory_equal(&k.owner, &t.lp, 32);
    assert_int_equal(k.kind, TCN_KEY_ED25519_SEED);
    assert_int_equal(k.swap_id, 0);
    assert_int_equal(k.policy.n_destinations + k.policy.n_windows, 0);
    assert_int_equal(k.policy.max_per_day + k.policy.max_per_payout, 0);
    /* The same key again, by anyone: one chain account, one part. */
    c = key_import(&t.user, TCN_KEY_ED25519_SEED, 700, 32);
    h_refused(&t, &c, TCN_ERR_USAGE, "already held as key 1");
    c = key_import(&t.user, TCN_KEY_ED25519_SEED, H_COORD, 32);
    h_refused(&t, &c, TCN_ERR_USAGE, "already held as the coordinator key");
    /* Shares: held, no public key. */
    c = key_import(&t.user, TCN_KEY_FROST_SHARE, 701, 64);
    assert_int_equal(h_ok(&t, &c), 2);
    c = key_import(&t.user, TCN_KEY_FROST_SHARE, 701, 1);
    assert_int_equal(h_ok(&t, &c), 3);
    assert_true(tcn_state_key(t.st, 3, &k));
    static const tcn_chain_pubkey zero;
    assert_memory_equal(&k.pubkey, &zero, 32);
    assert_int_equal(k.kind, TCN_KEY_FROST_SHARE);
    assert_false(tcn_state_key(t.st, 4, &k));
    assert_false(tcn_state_key(t.st, 0, &k));
    /* A generated escrow key takes the next id of the same space. */
    uint64_t sid = h_swap(&t, H_MIN_AMOUNT, NULL);
    assert_int_equal(h_swap_view(&t, sid).escrow_key_id, 4);
    assert_true(tcn_state_key(t.st, 4, &k));
    assert_int_equal(k.swap_id, sid);
    assert_memory_equal(&k.owner, &t.user, 32);
    /* Importing a swap's nonce key is refused too. */
    c = key_import(&t.user, TCN_KEY_ED25519_SEED, t.next_seed - 1, 32);
    h_refused(&t, &c, TCN_ERR_USAGE, "already held as the nonce account of swap 1");
    c = key_import(&t.user, TCN_KEY_ED25519_SEED, t.next_seed - 2, 32);
    h_refused(&t, &c, TCN_ERR_USAGE, "already held as key 4");
    h_free(&t);
}

static tcn_cmd policy_set(const tcn_chain_pubkey *actor, uint64_t key_id, const tcn_key_policy *p)
{
    tcn_cmd c = raw(TCN_CMD_POLICY_SET, H_T0, actor);
    c.u.policy_set.key_id = key_id;
    c.u.policy_set.policy = *p;
    return c;
}

static void test_policy_set(void **state)
{
    (void)state;
    h_t t;
    h_init(&t);
    tcn_cmd c = key_import(&t.lp, TCN_KEY_ED25519_SEED, 700, 32);
    h_ok(&t, &c);
    tcn_key_policy p;
    memset(&p, 0, sizeof(p));
    p.n_destinations = 1;
    p.destinations[0] = h_pub(H_DEST);
    p.max_per_payout = 5;
    p.n_windows = 1;
    p.windows[0].start_min = 1380;
    p.windows[0].end_min = 60;
    c = policy_set(&t.lp, 2, &p);
    h_refused(&t, &c, TCN_ERR_USAGE, "POLICY_SET: key_id: 2: no such key");
    c = policy_set(&t.user, 1, &p);
    h_refused(&t, &c, TCN_ERR_USAGE, "actor: neither an operator nor the owner of key 1");
    c = policy_set(NULL, 1, &p);
    h_refused(&t, &c, TCN_ERR_USAGE, "actor");
    /* Not well formed. */
    tcn_key_policy bad = p;
    bad.windows[0].start_min = 1440;
    c = policy_set(&t.lp, 1, &bad);
    h_refused(&t, &c, TCN_ERR_USAGE, "policy: windows[0].start_min: 1440 above 1439");
    bad = p;
    bad.windows[0].end_min = 2000;
    c = policy_set(&t.lp, 1, &bad);
    h_refused(&t, &c, TCN_ERR_USAGE, "policy: windows[0].end_min");
    bad = p;
    bad.windows[0].end_min = 1380;
    c = policy_set(&t.lp, 1, &bad);
    h_refused(&t, &c, TCN_ERR_USAGE, "windows[0]: start_min equals end_min");
    bad = p;
    bad.n_destinations = 3;
    bad.destinations[1] = h_pub(H_DEST + 1);
    bad.destinations[2] = h_pub(H_DEST);
    c = policy_set(&t.lp, 1, &bad);
    h_refused(&t, &c, TCN_ERR_USAGE, "destinations[2]: repeats destinations[0]");
    bad = p;
    memset(&bad.destinations[0], 0, 32);
    c = policy_set(&t.lp, 1, &bad);
    h_refused(&t, &c, TCN_ERR_USAGE, "destinations[0]: the zero key");
    /* The owner sets it; an operator replaces it; leftovers beyond the counts are not kept. */
    tcn_key_policy messy = p;
    messy.destinations[5] = h_pub(9);
    messy.windows[3].start_min = 77;
    c = policy_set(&t.lp, 1, &messy);
    h_ok(&t, &c);
    tcn_key_view k;
    assert_true(tcn_state_key(t.st, 1, &k));
    assert_memory_equal(&k.policy, &p, sizeof(p));
    tcn_key_policy empty;
    memset(&empty, 0, sizeof(empty));
    c = policy_set(&t.op, 1, &empty);
    h_ok(&t, &c);
    assert_true(tcn_state_key(t.st, 1, &k));
    assert_memory_equal(&k.policy, &empty, sizeof(empty));
    h_free(&t);
}

/* --- SWAP_CREATE ------------------------------------------------------------------------- */

static void test_swap_create(void **state)
{
    (void)state;
    h_t t;
    h_init(&t);
    static const tcn_chain_pubkey zero;
    tcn_cmd c = h_swap_cmd(&t, H_MIN_AMOUNT, H_T0 + H_DAY_MS, NULL);
    c.actor = t.lp;
    h_refused(&t, &c, TCN_ERR_USAGE, "SWAP_CREATE: actor: role LP may not do this");
    c = h_swap_cmd(&t, H_MIN_AMOUNT - 1, H_T0 + H_DAY_MS, NULL);
    h_refused(&t, &c, TCN_ERR_USAGE, "amount: 1791759 below 1791760");
    c = h_swap_cmd(&t, H_MIN_AMOUNT, H_T0, NULL);
    h_refused(&t, &c, TCN_ERR_USAGE, "deadline_ms");
    c = h_swap_cmd(&t, H_MIN_AMOUNT, H_T0 + 1, NULL);
    c.u.swap_create.lp = zero;
    h_refused(&t, &c, TCN_ERR_USAGE, "lp: the zero key");
    c = h_swap_cmd(&t, H_MIN_AMOUNT, H_T0 + 1, NULL);
    c.u.swap_create.refund_to = zero;
    h_refused(&t, &c, TCN_ERR_USAGE, "refund_to: the zero key");
    tcn_key_policy bad;
    memset(&bad, 0, sizeof(bad));
    bad.n_windows = 1;
    c = h_swap_cmd(&t, H_MIN_AMOUNT, H_T0 + 1, &bad);
    h_refused(&t, &c, TCN_ERR_USAGE, "windows[0]: start_min equals end_min");
    /* One chain account, one part: escrow == nonce, a nonce that is a key, refund_to the escrow. */
    c = h_swap_cmd(&t, H_MIN_AMOUNT, H_T0 + 1, NULL);
    memcpy(c.u.swap_create.nonce_seed, c.u.swap_create.escrow_seed, 32);
    h_refused(&t, &c, TCN_ERR_USAGE, "nonce_seed: its public key");
    c = h_swap_cmd(&t, H_MIN_AMOUNT, H_T0 + 1, NULL);
    h_seed(H_COORD, c.u.swap_create.nonce_seed);
    h_refused(&t, &c, TCN_ERR_USAGE, "nonce_seed: its public key");
    c = h_swap_cmd(&t, H_MIN_AMOUNT, H_T0 + 1, NULL);
    h_seed(H_COORD, c.u.swap_create.escrow_seed);
    h_refused(&t, &c, TCN_ERR_USAGE, "escrow_seed: its public key");
    c = h_swap_cmd(&t, H_MIN_AMOUNT, H_T0 + 1, NULL);
    {
        uint8_t sk[64];
        crypto_sign_seed_keypair(c.u.swap_create.refund_to.b, sk, c.u.swap_create.escrow_seed);
    }
    h_refused(&t, &c, TCN_ERR_USAGE, "refund_to: the swap's own escrow or nonce account");

    /* Success: a generated escrow key with the command's policy. */
    tcn_key_policy pol;
    memset(&pol, 0, sizeof(pol));
    pol.max_per_day = 123;
    c = h_swap_cmd(&t, H_MIN_AMOUNT, H_T0 + H_DAY_MS, &pol);
    tcn_chain_pubkey escrow, nonce;
    {
        uint8_t sk[64];
        crypto_sign_seed_keypair(escrow.b, sk, c.u.swap_create.escrow_seed);
        crypto_sign_seed_keypair(nonce.b, sk, c.u.swap_create.nonce_seed);
    }
    assert_int_equal(h_ok(&t, &c), 1);
    tcn_swap_view v = h_swap_view(&t, 1);
    assert_int_equal(v.status, TCN_SWAP_NEW);
    assert_memory_equal(&v.user, &t.user, 32);
    assert_memory_equal(&v.lp, &t.lp, 32);
    assert_memory_equal(&v.refund_to, &t.refund_to, 32);
    assert_memory_equal(&v.escrow, &escrow, 32);
    assert_memory_equal(&v.nonce, &nonce, 32);
    assert_int_equal(v.amount, H_MIN_AMOUNT);
    assert_int_equal(v.deadline_ms, H_T0 + H_DAY_MS);
    assert_int_equal(v.created_ms, H_T0);
    assert_false(v.funded);
    assert_false(v.nonce_initialized);
    assert_int_equal(v.refund_len + v.intent_tx_len + v.intent_payout_id + v.n_payouts + v.escrow_lamports, 0);
    assert_null(v.refund);
    tcn_key_view k;
    assert_true(tcn_state_key(t.st, v.escrow_key_id, &k));
    assert_int_equal(k.policy.max_per_day, 123);
    assert_int_equal(tcn_state_swap_count(t.st), 1);
    assert_false(tcn_state_swap(t.st, 2, &v));
    assert_false(tcn_state_swap(t.st, 0, &v));

    /* An existing key as escrow: the owner's Ed25519 key, free of open swaps. */
    tcn_cmd ki = key_import(&t.user, TCN_KEY_ED25519_SEED, 800, 32);
    uint64_t kid = h_ok(&t, &ki);
    ki = key_import(&t.user, TCN_KEY_FROST_SHARE, 801, 10);
    uint64_t share = h_ok(&t, &ki);
    ki = key_import(&t.user2, TCN_KEY_ED25519_SEED, 802, 32);
    uint64_t other = h_ok(&t, &ki);
    c = h_swap_cmd(&t, H_MIN_AMOUNT, H_T0 + H_DAY_MS, NULL);
    c.u.swap_create.escrow_key_id = kid;
    h_refused(&t, &c, TCN_ERR_USAGE, "escrow_seed: must be zero");
    c = h_swap_cmd(&t, H_MIN_AMOUNT, H_T0 + H_DAY_MS, NULL); /* h_apply wiped it */
    memset(c.u.swap_create.escrow_seed, 0, 32);
    c.u.swap_create.escrow_key_id = 99;
    h_refused(&t, &c, TCN_ERR_USAGE, "escrow_key_id: 99: no such key");
    c = h_swap_cmd(&t, H_MIN_AMOUNT, H_T0 + H_DAY_MS, NULL);
    memset(c.u.swap_create.escrow_seed, 0, 32);
    c.u.swap_create.escrow_key_id = share;
    h_refused(&t, &c, TCN_ERR_USAGE, "is a share");
    c = h_swap_cmd(&t, H_MIN_AMOUNT, H_T0 + H_DAY_MS, NULL);
    memset(c.u.swap_create.escrow_seed, 0, 32);
    c.u.swap_create.escrow_key_id = other;
    h_refused(&t, &c, TCN_ERR_USAGE, "is not the actor's");
    c = h_swap_cmd(&t, H_MIN_AMOUNT, H_T0 + H_DAY_MS, &pol); /* its policy is ignored */
    memset(c.u.swap_create.escrow_seed, 0, 32);
    c.u.swap_create.escrow_key_id = kid;
    uint64_t s2 = h_ok(&t, &c);
    assert_int_equal(h_swap_view(&t, s2).escrow_key_id, kid);
    assert_true(tcn_state_key(t.st, kid, &k));
    assert_int_equal(k.swap_id, s2);
    assert_int_equal(k.policy.max_per_day, 0);
    c = h_swap_cmd(&t, H_MIN_AMOUNT, H_T0 + H_DAY_MS, NULL);
    memset(c.u.swap_create.escrow_seed, 0, 32);
    c.u.swap_create.escrow_key_id = kid;
    h_refused(&t, &c, TCN_ERR_BUSY, "is the escrow of open swap 2");
    /* Once that swap closes, the key still serves no other swap: what it
     * signed for swap 2 may still be valid on the chain. */
    h_open(&t, s2, H_MIN_AMOUNT);
    tcn_chain_hash v2 = h_hash(5);
    tcn_cmd o = h_observed_cmd(&t, H_T0, s2, 20, true, &v2, 0);
    h_ok(&t, &o);
    assert_int_equal(h_swap_view(&t, s2).status, TCN_SWAP_CLOSED);
    assert_true(tcn_state_key(t.st, kid, &k));
    assert_int_equal(k.swap_id, 0);
    c = h_swap_cmd(&t, H_MIN_AMOUNT, H_T0 + H_DAY_MS, NULL);
    memset(c.u.swap_create.escrow_seed, 0, 32);
    c.u.swap_create.escrow_key_id = kid;
    h_refused(&t, &c, TCN_ERR_USAGE, "was the escrow of swap 2; an escrow key serves one swap");
    /* An operator may create a swap too. */
    c = h_swap_cmd(&t, H_MIN_AMOUNT, H_T0 + H_DAY_MS, NULL);
    c.actor = t.op;
    assert_int_equal(h_ok(&t, &c), 3);
    h_free(&t);
}

/* --- SWAP_OBSERVED ----------------------------------------------------------------------- */

static void test_swap_observed(void **state)
{
    (void)state;
    h_t t;
    h_init(&t);
    uint64_t amount = 5000000;
    uint64_t s = h_swap(&t, amount, NULL);
    tcn_chain_hash v0 = h_hash(1), v1 = h_hash(2);
    tcn_cmd c = h_observed_cmd(&t, H_T0, 9, 5, true, &v0, 0);
    h_refused(&t, &c, TCN_ERR_USAGE, "SWAP_OBSERVED: swap_id: 9: no such swap");
    c = h_observed_cmd(&t, H_T0, s, 5, true, &v0, 0);
    c.actor = t.op;
    h_refused(&t, &c, TCN_ERR_USAGE, "actor: the network proposes");
    /* Not initialized: only the balance is recorded, and no refund may come. */
    c = h_observed_cmd(&t, H_T0, s, 5, false, NULL, 100);
    c.u.swap_observed.refund_len = 1;
    h_refused(&t, &c, TCN_ERR_BINDING, "no nonce account to bind one to");
    c = h_observed_cmd(&t, H_T0, s, 5, false, NULL, 100);
    c.u.swap_observed.nonce_value = v0;
    h_refused(&t, &c, TCN_ERR_USAGE, "nonce_value: set while nonce_initialized is false");
    c = h_observed_cmd(&t, H_T0, s, 5, false, NULL, 100);
    h_ok(&t, &c);
    tcn_swap_view v = h_swap_view(&t, s);
    assert_int_equal(v.status, TCN_SWAP_NEW);
    assert_int_equal(v.escrow_lamports, 100);
    assert_int_equal(v.observed_slot, 5);
    assert_int_equal(v.refund_len, 0);
    /* The slot does not go back. */
    c = h_observed_cmd(&t, H_T0, s, 4, true, &v0, 0);
    h_refused(&t, &c, TCN_ERR_USAGE, "slot: 4 before the last observation's 5");
    /* Initialized: OPEN, and the refund must be exactly the state's: never
     * funded, so of the whole amount, though someone's 100 lamports sit in
     * the escrow (a deposit does not take the user's refund away). */
    c = h_observed_cmd(&t, H_T0, s, 5, true, &v0, 100);
    assert_true(c.u.swap_observed.refund_len > 0);
    h_ok(&t, &c);
    v = h_swap_view(&t, s);
    assert_int_equal(v.status, TCN_SWAP_OPEN);
    assert_true(v.nonce_initialized);
    assert_memory_equal(&v.nonce_value, &v0, 32);
    assert_int_equal(tcn_state_refund_balance(t.st, s, 100), amount);
    /* More than the amount before funding: the refund is for what it holds. */
    assert_int_equal(tcn_state_refund_balance(t.st, s, amount + 1), amount + 1);
    /* Empty escrow, never funded: the refund is for the whole amount. */
    assert_int_equal(tcn_state_refund_balance(t.st, s, 0), amount);
    c = h_observed_cmd(&t, H_T0, s, 6, true, &v0, 0);
    tcn_cmd no_refund = c;
    no_refund.u.swap_observed.refund_len = 0;
    h_refused(&t, &no_refund, TCN_ERR_BINDING, "refund: 0 bytes, want the");
    tcn_cmd bad = c;
    bad.u.swap_observed.refund[100] ^= 1;
    h_refused(&t, &bad, TCN_ERR_BINDING, "refund: differs at byte 100");
    h_ok(&t, &c);
    v = h_swap_view(&t, s);
    assert_true(v.refund_len > 0);
    {
        tcn_buf want = {0};
        tcn_error err;
        assert_int_equal(tcn_state_sign_refund(t.st, s, &v0, amount, &want, &err), TCN_OK);
        assert_int_equal(want.len, v.refund_len);
        assert_memory_equal(want.p, v.refund, want.len);
        tcn_buf_free(&want);
    }
    /* An OPEN swap's nonce account does not vanish. */
    c = h_observed_cmd(&t, H_T0, s, 7, false, NULL, 0);
    h_refused(&t, &c, TCN_ERR_USAGE, "nonce_initialized: false for swap 1, OPEN");
    /* Funded, at the same nonce value: the same refund bytes. */
    c = h_observed_cmd(&t, H_T0, s, 8, true, &v0, amount);
    h_ok(&t, &c);
    v = h_swap_view(&t, s);
    assert_true(v.funded);
    assert_int_equal(v.escrow_lamports, amount);
    /* A balance below 2 R + fee has no refund; from there on, one that
     * keeps R and moves the rest less the fee. */
    c = h_observed_cmd(&t, H_T0, s, 9, true, &v1, TCN_STATE_REFUND_MIN_BALANCE - 1);
    assert_int_equal(c.u.swap_observed.refund_len, 0);
    bad = h_observed_cmd(&t, H_T0, s, 9, true, &v1, TCN_STATE_REFUND_MIN_BALANCE);
    assert_true(bad.u.swap_observed.refund_len > 0);
    bad.u.swap_observed.escrow_lamports = TCN_STATE_REFUND_MIN_BALANCE - 1;
    h_refused(&t, &bad, TCN_ERR_BINDING, "want none (a balance of 1791759 has no refund");
    assert_int_equal(tcn_state_refund_lamports(TCN_STATE_REFUND_MIN_BALANCE - 1), 0);
    assert_int_equal(tcn_state_refund_lamports(TCN_STATE_REFUND_MIN_BALANCE), TCN_STATE_ESCROW_RESERVE);
    h_ok(&t, &c);
    assert_int_equal(h_swap_view(&t, s).refund_len, 0);
    assert_int_equal(h_swap_view(&t, s).status, TCN_SWAP_OPEN);
    /* Funded and empty: CLOSED; nothing more is observed. */
    c = h_observed_cmd(&t, H_T0, s, 10, true, &v0, 0);
    assert_int_equal(c.u.swap_observed.refund_len, 0);
    h_ok(&t, &c);
    v = h_swap_view(&t, s);
    assert_int_equal(v.status, TCN_SWAP_CLOSED);
    assert_null(v.refund);
    tcn_key_view k;
    assert_true(tcn_state_key(t.st, v.escrow_key_id, &k));
    assert_int_equal(k.swap_id, 0);
    c = h_observed_cmd(&t, H_T0, s, 11, true, &v0, 0);
    h_refused(&t, &c, TCN_ERR_USAGE, "swap 1: CLOSED");
    h_free(&t);
}

/* --- PAYOUT_SCHEDULE ------------------------------------------------------------------------ */

static void test_payout_schedule(void **state)
{
    (void)state;
    h_t t;
    h_init(&t);
    uint64_t amount = 10000000;
    uint64_t s = h_swap(&t, amount, NULL), s2 = h_swap(&t, amount, NULL);
    tcn_chain_pubkey d = h_pub(H_DEST);
    static const tcn_chain_pubkey zero;
    tcn_cmd c = h_schedule_cmd(&t, 9, &d, 1000, H_T0);
    h_refused(&t, &c, TCN_ERR_USAGE, "PAYOUT_SCHEDULE: swap_id: 9: no such swap");
    c = h_schedule_cmd(&t, s, &d, 1000, H_T0);
    c.actor = t.user2;
    h_refused(&t, &c, TCN_ERR_USAGE, "actor: neither the user of swap 1 nor an operator");
    c = h_schedule_cmd(&t, s, &d, 1000, H_T0);
    c.actor = t.lp;
    h_refused(&t, &c, TCN_ERR_USAGE, "actor: neither the user");
    c = h_schedule_cmd(&t, s, &d, 0, H_T0);
    h_refused(&t, &c, TCN_ERR_USAGE, "amount: zero");
    c = h_schedule_cmd(&t, s, &d, 1000, H_T0 + 30 * H_DAY_MS + 1);
    h_refused(&t, &c, TCN_ERR_USAGE, "due_ms");
    c = h_schedule_cmd(&t, s, &zero, 1000, H_T0);
    h_refused(&t, &c, TCN_ERR_USAGE, "destination: the zero key");
    tcn_swap_view v = h_swap_view(&t, s);
    c = h_schedule_cmd(&t, s, &v.escrow, 1000, H_T0);
    h_refused(&t, &c, TCN_ERR_USAGE, "destination: the swap's own escrow or nonce account");
    c = h_schedule_cmd(&t, s, &v.nonce, 1000, H_T0);
    h_refused(&t, &c, TCN_ERR_USAGE, "destination: the swap's own escrow or nonce account");
    /* The sum: payouts plus a fee each, up to the amount less the reserve. */
    uint64_t half = (amount - TCN_STATE_ESCROW_RESERVE) / 2 - TCN_STATE_TX_FEE;
    assert_int_equal(h_schedule(&t, s, &d, half, H_T0), 1);
    c = h_schedule_cmd(&t, s, &d, half + 1, H_T0);
    h_refused(&t, &c, TCN_ERR_USAGE, "would take the swap's payouts above its 10000000 lamports less the 890880");
    c = h_schedule_cmd(&t, s, &d, UINT64_MAX, H_T0);
    h_refused(&t, &c, TCN_ERR_USAGE, "would take the swap's payouts above");
    c = h_schedule_cmd(&t, s, &d, UINT64_MAX - TCN_STATE_TX_FEE + 1, H_T0);
    h_refused(&t, &c, TCN_ERR_USAGE, "would take the swap's payouts above");
    /* Ids run across swaps; an operator may schedule. */
    assert_int_equal(h_schedule(&t, s2, &d, 5, H_T0), 2);
    c = h_schedule_cmd(&t, s, &d, half, H_T0 + 1);
    c.actor = t.op;
    assert_int_equal(h_ok(&t, &c), 3);
    v = h_swap_view(&t, s);
    assert_int_equal(v.n_payouts, 2);
    assert_int_equal(tcn_state_swap_payout(t.st, s, 0), 1);
    assert_int_equal(tcn_state_swap_payout(t.st, s, 1), 3);
    assert_int_equal(tcn_state_swap_payout(t.st, s, 2), 0);
    assert_int_equal(tcn_state_swap_payout(t.st, 99, 0), 0);
    tcn_payout_view p = h_payout_view(&t, 3);
    assert_int_equal(p.swap_id, s);
    assert_int_equal(p.status, TCN_PAYOUT_SCHEDULED);
    assert_int_equal(p.amount, half);
    assert_int_equal(p.due_ms, H_T0 + 1);
    assert_int_equal(p.attempts, 0);
    assert_memory_equal(&p.destination, &d, 32);
    assert_int_equal(tcn_state_payout_count(t.st), 3);
    /* At most TCN_STATE_SWAP_PAYOUTS_MAX per swap. */
    for (unsigned i = 1; i < TCN_STATE_SWAP_PAYOUTS_MAX; i++)
        h_schedule(&t, s2, &d, 5, H_T0);
    c = h_schedule_cmd(&t, s2, &d, 5, H_T0);
    h_refused(&t, &c, TCN_ERR_USAGE, "already 64 payouts, the maximum");
    assert_int_equal(h_swap_view(&t, s2).n_payouts, 64);
    /* A CLOSED swap takes no more. */
    h_open(&t, s2, amount);
    tcn_chain_hash z = h_hash(77);
    tcn_cmd o = h_observed_cmd(&t, H_T0, s2, 11, true, &z, 0);
    h_ok(&t, &o);
    c = h_schedule_cmd(&t, s2, &d, 5, H_T0);
    h_refused(&t, &c, TCN_ERR_USAGE, "swap 2: CLOSED");
    h_free(&t);
}

/* --- PAYOUT_INTENT, PAYOUT_OUTCOME ------------------------------------------------------------ */

/* A funded OPEN swap of `amount` at nonce value h_hash(1000 + id), with one payout. */
static uint64_t funded_swap(h_t *t, uint64_t amount, uint64_t pay, uint64_t *payout)
{
    uint64_t s = h_swap(t, amount, NULL);
    tcn_chain_pubkey d = h_pub(H_DEST);
    *payout = h_schedule(t, s, &d, pay, H_T0 + 60000);
    h_open(t, s, amount);
    return s;
}

static void test_payout_intent(void **state)
{
    (void)state;
    h_t t;
    h_init(&t);
    uint64_t amount = 10000000, pay = 3000000, pid;
    uint64_t s = h_swap(&t, amount, NULL);
    tcn_chain_pubkey d = h_pub(H_DEST);
    pid = h_schedule(&t, s, &d, pay, H_T0 + 60000);
    tcn_cmd c = h_intent_cmd(&t, pid, H_T0 + 60000);
    h_refused(&t, &c, TCN_ERR_BUSY, "PAYOUT_INTENT: swap 1: NEW");
    tcn_chain_hash v0 = h_hash(1001);
    tcn_cmd o = h_observed_cmd(&t, H_T0, s, 10, true, &v0, 0);
    h_ok(&t, &o);
    c = h_intent_cmd(&t, pid, H_T0 + 60000);
    h_refused(&t, &c, TCN_ERR_BUSY, "the escrow is not funded yet");
    o = h_observed_cmd(&t, H_T0, s, 11, true, &v0, amount);
    h_ok(&t, &o);
    c = h_intent_cmd(&t, pid, H_T0 + 59999);
    h_refused(&t, &c, TCN_ERR_BUSY, "payout 1: due at");
    c = h_intent_cmd(&t, pid, H_T0 + 30 * H_DAY_MS + 1);
    h_refused(&t, &c, TCN_ERR_POLICY, "deadline");
    c = h_intent_cmd(&t, pid, H_T0 + 60000);
    c.actor = t.op;
    h_refused(&t, &c, TCN_ERR_USAGE, "actor");
    c = h_intent_cmd(&t, pid, H_T0 + 60000);
    c.u.payout_intent.payout_id = 5;
    h_refused(&t, &c, TCN_ERR_USAGE, "payout_id: 5: no such payout");
    c = h_intent_cmd(&t, pid, H_T0 + 60000);
    c.u.payout_intent.swap_id = 2;
    h_refused(&t, &c, TCN_ERR_USAGE, "swap_id: payout 1 belongs to swap 1, not 2");
    /* Bound to the swap's current nonce value. */
    c = h_intent_cmd(&t, pid, H_T0 + 60000);
    c.u.payout_intent.nonce_value = h_hash(999);
    h_refused(&t, &c, TCN_ERR_BINDING, "nonce_value: not swap 1's current nonce value");
    {
        /* bytes signed against another value, with the right value beside them */
        tcn_buf b = {0};
        tcn_error err;
        tcn_chain_hash other = h_hash(999);
        assert_int_equal(tcn_state_sign_payout(t.st, pid, &other, &b, &err), TCN_OK);
        c = h_intent_cmd(&t, pid, H_T0 + 60000);
        memcpy(c.u.payout_intent.tx, b.p, b.len);
        tcn_buf_free(&b);
        h_refused(&t, &c, TCN_ERR_BINDING, "tx: differs at byte");
    }
    c = h_intent_cmd(&t, pid, H_T0 + 60000);
    c.u.payout_intent.tx_len--;
    h_refused(&t, &c, TCN_ERR_BINDING, "tx: 384 bytes, want the 385");
    /* Committed. */
    c = h_intent_cmd(&t, pid, H_T0 + 60000);
    tcn_chain_signature sig;
    memcpy(sig.b, c.u.payout_intent.tx + 1, 64);
    uint8_t tx[TCN_CHAIN_PACKET_BYTES_MAX];
    uint16_t tx_len = c.u.payout_intent.tx_len;
    memcpy(tx, c.u.payout_intent.tx, tx_len);
    h_ok(&t, &c);
    tcn_payout_view p = h_payout_view(&t, pid);
    assert_int_equal(p.status, TCN_PAYOUT_INTENT);
    assert_int_equal(p.attempts, 1);
    assert_memory_equal(&p.sig, &sig, 64);
    tcn_swap_view v = h_swap_view(&t, s);
    assert_int_equal(v.intent_payout_id, pid);
    assert_memory_equal(&v.intent_nonce_value, &v0, 32);
    assert_int_equal(v.intent_tx_len, tx_len);
    assert_memory_equal(v.intent_tx, tx, tx_len);
    tcn_key_view k;
    assert_true(tcn_state_key(t.st, v.escrow_key_id, &k));
    assert_int_equal(k.day, (H_T0 + 60000) / H_DAY_MS);
    assert_int_equal(k.day_spent, pay);
    /* Nothing else while it is open: not the same payout, not another, no observation. */
    c = h_intent_cmd(&t, pid, H_T0 + 60000);
    h_refused(&t, &c, TCN_ERR_BUSY, "the intent of payout 1 is open");
    o = h_observed_cmd(&t, H_T0, s, 12, true, &v0, amount);
    h_refused(&t, &o, TCN_ERR_BUSY, "SWAP_OBSERVED: swap 1: the intent of payout 1 is open");
    /* The escrow must pay amount + fee and keep the reserve R: the exact
     * boundary passes, one lamport more is refused, and so is emptying it
     * (the old rule allowed that: a 1-lamport deposit then made the payout
     * fail, InsufficientFundsForRent; tests/unit/test_exec.c lands these
     * on the chain model). */
    const uint64_t R = TCN_STATE_ESCROW_RESERVE;
    const uint64_t pay2 = 1000000;
    uint64_t p2;
    uint64_t s2 = funded_swap(&t, 3000000, pay2, &p2);
    tcn_chain_hash v2 = h_hash(1000 + (uint32_t)s2);
    o = h_observed_cmd(&t, H_T0, s2, 11, true, &v2, pay2 + TCN_STATE_TX_FEE + R - 1); /* one lamport short */
    h_ok(&t, &o);
    c = h_intent_cmd(&t, p2, H_T0 + 60000);
    h_refused(&t, &c, TCN_ERR_POLICY, "cannot pay 1000000 + the 10000 fee and keep the 890880 reserve");
    o = h_observed_cmd(&t, H_T0, s2, 12, true, &v2, pay2 + TCN_STATE_TX_FEE + R); /* leaves exactly R */
    h_ok(&t, &o);
    c = h_intent_cmd(&t, p2, H_T0 + 60000);
    h_ok(&t, &c);
    /* Emptying the escrow exactly (the old rule allowed it; a 1-lamport
     * deposit then made the payout fail) is refused already by the
     * schedule's sum: payouts and their fees fit in the amount less R. */
    uint64_t s3 = h_swap(&t, 2000000, NULL);
    c = h_schedule_cmd(&t, s3, &d, 2000000 - TCN_STATE_TX_FEE, H_T0);
    h_refused(&t, &c, TCN_ERR_USAGE, "less the 890880 reserve");
    (void)h_schedule(&t, s3, &d, 2000000 - R - TCN_STATE_TX_FEE, H_T0);
    h_free(&t);
}

/* The sweep is due once a funded swap has no refund left, no open intent
 * and no scheduled payout that could still be paid, or past its deadline. */
static void test_sweep_due(void **state)
{
    (void)state;
    h_t t;
    h_init(&t);
    const uint64_t R = TCN_STATE_ESCROW_RESERVE;
    uint64_t amount = 5000000, pay = 3000000, pid;
    uint64_t s = funded_swap(&t, amount, pay, &pid);
    assert_false(tcn_state_sweep_due(t.st, s, H_T0)); /* a refund, a payout that fits */
    assert_false(tcn_state_sweep_due(t.st, 99, H_T0));
    tcn_cmd c = h_intent_cmd(&t, pid, H_T0 + 60000);
    h_ok(&t, &c);
    assert_false(tcn_state_sweep_due(t.st, s, H_T0 + 60000)); /* an open intent */
    tcn_chain_hash v1 = h_hash(7), v2 = h_hash(8);
    uint64_t after = amount - pay - TCN_STATE_TX_FEE; /* 1,990,000: still a refund */
    c = h_outcome_cmd(&t, H_T0, s, pid, TCN_PAYOUT_LANDED_OK, 20, &v1, after);
    h_ok(&t, &c);
    assert_true(h_swap_view(&t, s).refund_len > 0);
    assert_false(tcn_state_sweep_due(t.st, s, H_T0 + 60000));
    /* ... past the deadline the leader sends that refund; it lands: R is left. */
    c = h_observed_cmd(&t, H_T0, s, 21, true, &v2, R);
    h_ok(&t, &c);
    tcn_swap_view v = h_swap_view(&t, s);
    assert_int_equal(v.refund_len, 0);
    assert_int_equal(v.status, TCN_SWAP_OPEN);
    assert_true(tcn_state_sweep_due(t.st, s, H_T0 + 60000));
    {
        /* The sweep: the coordinator pays, everything to refund_to. */
        tcn_buf b = {0};
        tcn_error err;
        assert_int_equal(tcn_state_sign_sweep(t.st, s, &v2, R, &b, &err), TCN_OK);
        assert_true(b.len > 0);
        tcn_buf_free(&b);
        assert_int_equal(tcn_state_sign_sweep(t.st, s, &v2, 0, &b, &err), TCN_ERR_USAGE);
        tcn_buf_free(&b);
    }
    /* A scheduled payout that fits the escrow holds the sweep back until the deadline. */
    tcn_chain_pubkey d = h_pub(H_DEST);
    c = h_observed_cmd(&t, H_T0, s, 22, true, &v2, R + 20000 + TCN_STATE_TX_FEE);
    h_ok(&t, &c);
    uint64_t small = h_schedule(&t, s, &d, 20000, H_T0);
    assert_false(tcn_state_sweep_due(t.st, s, H_T0 + 60000));
    assert_true(tcn_state_sweep_due(t.st, s, H_T0 + 30 * H_DAY_MS + 1));
    (void)small;
    /* Swept: the escrow seen empty closes the swap; nothing is due any more. */
    c = h_observed_cmd(&t, H_T0, s, 23, true, &v1, 0);
    h_ok(&t, &c);
    assert_int_equal(h_swap_view(&t, s).status, TCN_SWAP_CLOSED);
    assert_false(tcn_state_sweep_due(t.st, s, H_T0 + 30 * H_DAY_MS + 1));
    /* Never funded, someone's deposit below a refund's worth in the escrow:
     * the only refund is for the amount, which would not land; past the
     * deadline the deposit is swept (before it, the user may still fund). */
    uint64_t u = h_swap(&t, amount, NULL);
    tcn_chain_hash vu = h_hash(1000 + (uint32_t)u);
    c = h_observed_cmd(&t, H_T0, u, 30, true, &vu, R);
    h_ok(&t, &c);
    assert_true(h_swap_view(&t, u).refund_len > 0);
    assert_false(tcn_state_sweep_due(t.st, u, H_T0 + 60000));
    assert_true(tcn_state_sweep_due(t.st, u, H_T0 + 30 * H_DAY_MS + 1));
    /* ... but not while its refund lands (a deposit with a refund of its own). */
    c = h_observed_cmd(&t, H_T0, u, 31, true, &vu, TCN_STATE_REFUND_MIN_BALANCE);
    h_ok(&t, &c);
    assert_false(tcn_state_sweep_due(t.st, u, H_T0 + 30 * H_DAY_MS + 1));
    h_free(&t);
}

static void test_payout_outcome(void **state)
{
    (void)state;
    h_t t;
    h_init(&t);
    uint64_t amount = 10000000, pay = 3000000, pid;
    uint64_t s = funded_swap(&t, amount, pay, &pid);
    tcn_chain_hash v0 = h_hash(1001), v1 = h_hash(7), v2 = h_hash(8);
    uint64_t after = amount - pay - TCN_STATE_TX_FEE;
    tcn_cmd c = h_outcome_cmd(&t, H_T0, s, pid, TCN_PAYOUT_LANDED_OK, 20, &v1, after);
    h_refused(&t, &c, TCN_ERR_USAGE, "PAYOUT_OUTCOME: swap 1: no open intent");
    c = h_intent_cmd(&t, pid, H_T0 + 60000);
    h_ok(&t, &c);
    c = h_outcome_cmd(&t, H_T0, 9, pid, TCN_PAYOUT_LANDED_OK, 20, &v1, after);
    h_refused(&t, &c, TCN_ERR_USAGE, "swap_id: 9: no such swap");
    c = h_outcome_cmd(&t, H_T0, s, pid + 1, TCN_PAYOUT_LANDED_OK, 20, &v1, after);
    h_refused(&t, &c, TCN_ERR_USAGE, "payout_id: 2 is not swap 1's open intent (payout 1)");
    c = h_outcome_cmd(&t, H_T0, s, pid, TCN_PAYOUT_LANDED_OK, 20, &v1, after);
    c.actor = t.op;
    h_refused(&t, &c, TCN_ERR_USAGE, "actor");
    c = h_outcome_cmd(&t, H_T0, s, pid, TCN_PAYOUT_LANDED_OK, 20, &v0, after);
    h_refused(&t, &c, TCN_ERR_USAGE, "nonce_value: still the intent's value, yet it landed");
    c = h_outcome_cmd(&t, H_T0, s, pid, TCN_PAYOUT_DROPPED, 0, &v0, amount);
    h_refused(&t, &c, TCN_ERR_BUSY, "its bytes may yet land");
    c = h_outcome_cmd(&t, H_T0, s, pid, TCN_PAYOUT_LANDED_OK, 0, &v1, after);
    h_refused(&t, &c, TCN_ERR_USAGE, "slot: zero for a landed transaction");
    c = h_outcome_cmd(&t, H_T0, s, pid, TCN_PAYOUT_DROPPED, 3, &v1, amount);
    h_refused(&t, &c, TCN_ERR_USAGE, "slot: 3 for DROPPED, want 0");
    /* Outcome and refund together: an outcome without the new refund, or
     * with the old one, is refused and the intent stays open. */
    c = h_outcome_cmd(&t, H_T0, s, pid, TCN_PAYOUT_LANDED_OK, 20, &v1, after);
    tcn_cmd no_refund = c;
    no_refund.u.payout_outcome.refund_len = 0;
    h_refused(&t, &no_refund, TCN_ERR_BINDING, "refund: 0 bytes");
    tcn_cmd old_refund = c;
    tcn_swap_view v = h_swap_view(&t, s);
    memcpy(old_refund.u.payout_outcome.refund, v.refund, v.refund_len);
    old_refund.u.payout_outcome.refund_len = (uint16_t)v.refund_len;
    h_refused(&t, &old_refund, TCN_ERR_BINDING, "refund: differs");
    tcn_cmd wrong_balance = h_outcome_cmd(&t, H_T0, s, pid, TCN_PAYOUT_LANDED_OK, 20, &v1, after + 1);
    wrong_balance.u.payout_outcome.escrow_lamports = after;
    h_refused(&t, &wrong_balance, TCN_ERR_BINDING, "refund: differs");
    assert_int_equal(h_swap_view(&t, s).intent_payout_id, pid);
    h_ok(&t, &c);
    tcn_payout_view p = h_payout_view(&t, pid);
    assert_int_equal(p.status, TCN_PAYOUT_PAID);
    assert_int_equal(p.landed_slot, 20);
    v = h_swap_view(&t, s);
    assert_int_equal(v.intent_payout_id, 0);
    assert_null(v.intent_tx);
    assert_int_equal(v.escrow_lamports, after);
    assert_memory_equal(&v.nonce_value, &v1, 32);
    assert_int_equal(v.observed_slot, 20);
    assert_int_equal(v.status, TCN_SWAP_OPEN);
    {
        tcn_buf want = {0};
        tcn_error err;
        assert_int_equal(tcn_state_sign_refund(t.st, s, &v1, after, &want, &err), TCN_OK);
        assert_int_equal(want.len, v.refund_len);
        assert_memory_equal(want.p, v.refund, want.len);
        tcn_buf_free(&want);
    }
    /* Another payout; it fails in execution: FAILED, fee paid, nonce moved. */
    tcn_chain_pubkey d = h_pub(H_DEST);
    uint64_t p2 = h_schedule(&t, s, &d, 1000000, H_T0);
    c = h_intent_cmd(&t, p2, H_T0 + 60000);
    h_ok(&t, &c);
    /* A landing slot older than the last observation (another RPC node's
     * view) is recorded as the landing slot; the observed slot stays. */
    c = h_outcome_cmd(&t, H_T0, s, p2, TCN_PAYOUT_LANDED_FAILED, 15, &v2, after - TCN_STATE_TX_FEE);
    h_ok(&t, &c);
    p = h_payout_view(&t, p2);
    assert_int_equal(p.status, TCN_PAYOUT_FAILED);
    assert_int_equal(p.landed_slot, 15);
    assert_int_equal(h_swap_view(&t, s).observed_slot, 20);
    c = h_intent_cmd(&t, p2, H_T0 + 60000);
    h_refused(&t, &c, TCN_ERR_USAGE, "payout 2: FAILED, not SCHEDULED");
    /* A FAILED payout no longer counts in the schedule's sum (the budget is
     * the amount less the reserve). */
    uint64_t left = amount - TCN_STATE_ESCROW_RESERVE - (pay + TCN_STATE_TX_FEE) - TCN_STATE_TX_FEE;
    c = h_schedule_cmd(&t, s, &d, left + 1, H_T0);
    h_refused(&t, &c, TCN_ERR_USAGE, "above");
    (void)h_schedule(&t, s, &d, left, H_T0);
    h_free(&t);
}

/* DROPPED: the user's refund landed first and moved the nonce; the payout's
 * bytes can never land, so it is SCHEDULED again; the next intent is bound
 * to the new value. */
static void test_dropped_returns_to_scheduled(void **state)
{
    (void)state;
    h_t t;
    h_init(&t);
    uint64_t amount = 10000000, pay = 3000000, pid;
    uint64_t s = funded_swap(&t, amount, pay, &pid);
    tcn_chain_hash v1 = h_hash(7), v2 = h_hash(8);
    tcn_cmd c = h_intent_cmd(&t, pid, H_T0 + 60000);
    tcn_chain_signature first;
    memcpy(first.b, c.u.payout_intent.tx + 1, 64);
    h_ok(&t, &c);
    /* The nonce moved without the payout: e.g. a refund failed in execution
     * (fee paid, nonce advanced), the escrow still holds the rest. */
    c = h_outcome_cmd(&t, H_T0, s, pid, TCN_PAYOUT_DROPPED, 0, &v1, amount - TCN_STATE_TX_FEE);
    h_ok(&t, &c);
    tcn_payout_view p = h_payout_view(&t, pid);
    assert_int_equal(p.status, TCN_PAYOUT_SCHEDULED);
    assert_int_equal(p.attempts, 1);
    assert_int_equal(p.landed_slot, 0);
    tcn_swap_view v = h_swap_view(&t, s);
    assert_int_equal(v.intent_payout_id, 0);
    assert_memory_equal(&v.nonce_value, &v1, 32);
    assert_int_equal(v.observed_slot, 10); /* DROPPED carries no slot */
    assert_int_equal(v.escrow_lamports, amount - TCN_STATE_TX_FEE);
    /* A new intent, bound to v1: other bytes, another transaction id. */
    c = h_intent_cmd(&t, pid, H_T0 + 60000);
    assert_memory_equal(&c.u.payout_intent.nonce_value, &v1, 32);
    h_ok(&t, &c);
    p = h_payout_view(&t, pid);
    assert_int_equal(p.attempts, 2);
    assert_memory_not_equal(&p.sig, &first, 64);
    /* This time the user's refund empties the escrow first: DROPPED, and the swap closes. */
    c = h_outcome_cmd(&t, H_T0, s, pid, TCN_PAYOUT_DROPPED, 0, &v2, 0);
    assert_int_equal(c.u.payout_outcome.refund_len, 0);
    h_ok(&t, &c);
    v = h_swap_view(&t, s);
    assert_int_equal(v.status, TCN_SWAP_CLOSED);
    assert_int_equal(h_payout_view(&t, pid).status, TCN_PAYOUT_SCHEDULED);
    c = h_intent_cmd(&t, pid, H_T0 + 60000);
    h_refused(&t, &c, TCN_ERR_USAGE, "swap 1: CLOSED");
    h_free(&t);
}

/* At most one committed intent per (nonce account, value): a second payout
 * of the swap waits for the first's outcome, and cannot use the old value. */
static void test_one_intent_per_nonce_value(void **state)
{
    (void)state;
    h_t t;
    h_init(&t);
    uint64_t amount = 10000000, a;
    uint64_t s = funded_swap(&t, amount, 1000000, &a);
    tcn_chain_pubkey d = h_pub(H_DEST + 1);
    uint64_t b = h_schedule(&t, s, &d, 1000000, H_T0);
    tcn_chain_hash v0 = h_hash(1001), v1 = h_hash(7);
    tcn_cmd ia = h_intent_cmd(&t, a, H_T0 + 60000);
    tcn_cmd ib_v0 = h_intent_cmd(&t, b, H_T0 + 60000); /* signed now, against v0 */
    h_ok(&t, &ia);
    tcn_cmd copy = ib_v0;
    h_refused(&t, &copy, TCN_ERR_BUSY, "the intent of payout 1 is open");
    uint64_t after = amount - 1000000 - TCN_STATE_TX_FEE;
    tcn_cmd oc = h_outcome_cmd(&t, H_T0, s, a, TCN_PAYOUT_LANDED_OK, 30, &v1, after);
    h_ok(&t, &oc);
    /* v0 is spent: B's bytes for v0 are refused, B at v1 is accepted. */
    copy = ib_v0;
    assert_memory_equal(&copy.u.payout_intent.nonce_value, &v0, 32);
    h_refused(&t, &copy, TCN_ERR_BINDING, "nonce_value: not swap 1's current nonce value");
    tcn_cmd ib = h_intent_cmd(&t, b, H_T0 + 60000);
    h_ok(&t, &ib);
    tcn_swap_view v = h_swap_view(&t, s);
    assert_memory_equal(&v.intent_nonce_value, &v1, 32);
    h_free(&t);
}

/* --- MEMBER_SET ------------------------------------------------------------------------------ */

static tcn_cmd member(uint64_t node, uint8_t role, const char *addr)
{
    tcn_cmd c = raw(TCN_CMD_MEMBER_SET, H_T0, NULL);
    c.u.member_set.node_id = node;
    c.u.member_set.role = role;
    memset(c.u.member_set.measurement, (int)node, TCN_STATE_MEASUREMENT_LEN);
    snprintf(c.u.member_set.address, sizeof(c.u.member_set.address), "%s", addr);
    return c;
}

static void test_member_set(void **state)
{
    (void)state;
    h_t t;
    h_init(&t);
    tcn_cmd c = member(3, TCN_ROLE_OPERATOR, "c:3");
    c.actor = t.op;
    h_refused(&t, &c, TCN_ERR_USAGE, "MEMBER_SET: actor");
    c = member(0, TCN_ROLE_OPERATOR, "z:0");
    h_refused(&t, &c, TCN_ERR_USAGE, "node_id: zero");
    c = member(3, TCN_ROLE_OPERATOR, "");
    h_refused(&t, &c, TCN_ERR_USAGE, "address: empty");
    c = member(3, TCN_ROLE_NONE, "c:3");
    h_refused(&t, &c, TCN_ERR_USAGE, "node_id: 3 is not a member");
    const uint64_t order[] = {3, 1, 2, 9};
    for (size_t i = 0; i < 4; i++) {
        char a[16];
        snprintf(a, sizeof(a), "n%llu:1", (unsigned long long)order[i]);
        c = member(order[i], TCN_ROLE_USER, a);
        h_ok(&t, &c);
    }
    c = member(2, TCN_ROLE_LP, "replaced:2");
    h_ok(&t, &c);
    assert_int_equal(tcn_state_member_count(t.st), 4);
    tcn_member_view m;
    const uint64_t sorted[] = {1, 2, 3, 9};
    for (size_t i = 0; i < 4; i++) {
        assert_true(tcn_state_member_at(t.st, i, &m));
        assert_int_equal(m.node_id, sorted[i]);
        assert_int_equal(m.measurement[0], (uint8_t)sorted[i]);
    }
    assert_true(tcn_state_member_at(t.st, 1, &m));
    assert_string_equal(m.address, "replaced:2");
    assert_false(tcn_state_member_at(t.st, 4, &m));
    c = member(2, TCN_ROLE_NONE, "");
    h_ok(&t, &c);
    assert_int_equal(tcn_state_member_count(t.st), 3);
    assert_true(tcn_state_member_at(t.st, 1, &m));
    assert_int_equal(m.node_id, 3);
    for (uint64_t n = 100; tcn_state_member_count(t.st) < TCN_STATE_MEMBERS_MAX; n++) {
        c = member(n, TCN_ROLE_USER, "x:1");
        h_ok(&t, &c);
    }
    c = member(50, TCN_ROLE_USER, "x:1");
    h_refused(&t, &c, TCN_ERR_USAGE, "already 16 members, the maximum");
    c = member(100, TCN_ROLE_USER, "again:1"); /* replacing stays possible */
    h_ok(&t, &c);
    h_free(&t);
}

/* --- A random walk with the invariants checked after every command --------------------------- */

static uint64_t rng_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

typedef struct used_pair {
    tcn_chain_pubkey nonce;
    tcn_chain_hash value;
} used_pair;

/* Commands, right and wrong, in a random order: intents at current and
 * stale nonce values, outcomes of every kind with right and wrong values,
 * observations. After each: at most one committed intent per (nonce
 * account, value) ever; no swap with a balance that has a refund
 * (tcn_state_refund_lamports) and an initialized nonce lacks one or an open
 * intent; a PAID payout never
 * gets another intent. */
static void test_random_walk_invariants(void **state)
{
    (void)state;
    h_t t;
    h_init(&t);
    enum { SWAPS = 6, STEPS = 900 };
    uint64_t rng = 42, sw[SWAPS];
    uint32_t next_value = 5000;
    used_pair used[STEPS];
    size_t n_used = 0;
    tcn_chain_pubkey d = h_pub(H_DEST);
    for (int i = 0; i < SWAPS; i++) {
        sw[i] = h_swap(&t, 20000000, NULL);
        for (int k = 0; k < 8; k++)
            (void)h_schedule(&t, sw[i], &d, 1000000 + 1000 * (uint64_t)k, H_T0);
        h_open(&t, sw[i], 20000000);
    }
    size_t accepted = 0;
    for (int step = 0; step < STEPS; step++) {
        uint64_t s = sw[rng_next(&rng) % SWAPS];
        tcn_swap_view v = h_swap_view(&t, s);
        if (v.status == TCN_SWAP_CLOSED)
            continue;
        unsigned pick = (unsigned)(rng_next(&rng) % 6);
        tcn_cmd c;
        tcn_chain_hash nv = rng_next(&rng) % 4 == 0 ? v.nonce_value : h_hash(next_value++);
        uint64_t bal = v.escrow_lamports;
        if (pick <= 1) { /* an intent for a random payout of the swap, maybe at a stale value */
            uint64_t pid = tcn_state_swap_payout(t.st, s, (size_t)(rng_next(&rng) % v.n_payouts));
            tcn_payout_view p = h_payout_view(&t, pid);
            if (p.status != TCN_PAYOUT_SCHEDULED || v.intent_payout_id != 0 || bal < p.amount + TCN_STATE_TX_FEE)
                continue;
            c = h_intent_cmd(&t, pid, H_T0 + 60000);
            if (pick == 1)
                c.u.payout_intent.nonce_value = h_hash((uint32_t)(rng_next(&rng) % next_value));
        } else if (pick <= 3 && v.intent_payout_id != 0) { /* an outcome */
            tcn_payout_view p = h_payout_view(&t, v.intent_payout_id);
            uint8_t result = (uint8_t)(1 + rng_next(&rng) % 3);
            uint64_t after = bal - TCN_STATE_TX_FEE - (result == TCN_PAYOUT_LANDED_OK ? p.amount : 0);
            if (result == TCN_PAYOUT_DROPPED)
                after = rng_next(&rng) % 10 == 0 ? 0 : bal;
            c = h_outcome_cmd(&t, H_T0, s, v.intent_payout_id, result,
                              result == TCN_PAYOUT_DROPPED ? 0 : v.observed_slot + 1, &nv, after);
        } else { /* an observation, refused while an intent is open */
            uint64_t after = rng_next(&rng) % 50 == 0 ? 0 : bal;
            c = h_observed_cmd(&t, H_T0, s, v.observed_slot + 1, true, &nv, after);
        }
        uint8_t type = c.type;
        tcn_chain_hash value = c.u.payout_intent.nonce_value;
        tcn_state_result r = h_apply(&t, &c);
        if (r.code != TCN_OK)
            continue;
        accepted++;
        if (type == TCN_CMD_PAYOUT_INTENT) {
            for (size_t i = 0; i < n_used; i++)
                assert_false(tcn_chain_pubkey_eq(&used[i].nonce, &v.nonce) &&
                             tcn_chain_hash_eq(&used[i].value, &value));
            used[n_used].nonce = v.nonce;
            used[n_used].value = value;
            n_used++;
        }
        for (int i = 0; i < SWAPS; i++) {
            tcn_swap_view w = h_swap_view(&t, sw[i]);
            if (w.status == TCN_SWAP_OPEN &&
                tcn_state_refund_lamports(tcn_state_refund_balance(t.st, sw[i], w.escrow_lamports)) > 0)
                assert_true(w.refund_len > 0 || w.intent_payout_id != 0);
            if (w.intent_payout_id != 0)
                assert_int_equal(h_payout_view(&t, w.intent_payout_id).status, TCN_PAYOUT_INTENT);
        }
    }
    fprintf(stderr, "walk: %zu accepted, %zu intents\n", accepted, n_used);
    /* The walk did something: intents and outcomes were accepted. */
    assert_true(n_used >= 10);
    assert_true(accepted >= 40);
    for (uint64_t pid = 1; pid <= tcn_state_payout_count(t.st); pid++) {
        tcn_payout_view p = h_payout_view(&t, pid);
        if (p.status == TCN_PAYOUT_PAID)
            assert_true(p.attempts >= 1 && p.landed_slot > 0);
    }
    h_free(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_before_genesis),
        cmocka_unit_test(test_time_and_index),
        cmocka_unit_test(test_index_must_increase),
        cmocka_unit_test(test_client_set),
        cmocka_unit_test(test_key_import),
        cmocka_unit_test(test_policy_set),
        cmocka_unit_test(test_swap_create),
        cmocka_unit_test(test_swap_observed),
        cmocka_unit_test(test_payout_schedule),
        cmocka_unit_test(test_payout_intent),
        cmocka_unit_test(test_payout_outcome),
        cmocka_unit_test(test_sweep_due),
        cmocka_unit_test(test_dropped_returns_to_scheduled),
        cmocka_unit_test(test_one_intent_per_nonce_value),
        cmocka_unit_test(test_member_set),
        cmocka_unit_test(test_random_walk_invariants),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
