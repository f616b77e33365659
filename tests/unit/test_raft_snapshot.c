/* Unit tests: Raft snapshots — requests, compaction, chunked InstallSnapshot, loss, suffix retention. */
#include "raft_harness.h"

static void test_snapshot_requested_and_log_compacted(void **state)
{
    (void)state;
    harness h;
    h_init(&h, 1);
    h.opts.snapshot_entries_max = 50;
    h.opts.snapshot_trailing = 10;
    h_start(&h, 3);
    int l = h_wait_leader(&h, 5000);
    uint64_t last = h_replicate(&h, l, 120, 5000);
    for (int i = 0; i < 3; i++) {
        h_node *nd = &h.nodes[i];
        assert_true(nd->snapshot_wanted);
        assert_true(nd->snapshots_taken >= 1);
        uint64_t first = tcn_raft_first_index(nd->r);
        assert_true(first > 1);
        assert_true(last - first + 1 <= 50 + 10 + 1);
        tcn_raft_entry e;
        assert_false(tcn_raft_entry_at(nd->r, first - 1, &e));
        assert_true(tcn_raft_entry_at(nd->r, first, &e));
    }
    /* the application may only snapshot what it applied */
    tcn_raft *r = h.nodes[l].r;
    assert_int_equal(tcn_raft_snapshot_done(r, tcn_raft_applied_index(r) + 1, "x", 1), TCN_ERR_USAGE);
    assert_int_equal(tcn_raft_snapshot_done(r, 0, "x", 1), TCN_ERR_USAGE);
    h_check_logs(&h);
    h_free(&h);
}

typedef struct {
    int follower;
    uint32_t chunks, acks, max_chunk;
    uint64_t size;
    uint32_t drop_every; /* drop every n-th chunk (0: none) */
    uint32_t seen;
} snap_watch;

static bool watch_snapshot(harness *h, int from, int to, tcn_raft_msg *m, void *arg)
{
    (void)h;
    snap_watch *w = arg;
    if (m->type == TCN_RAFT_MSG_SNAPSHOT && to == w->follower) {
        w->seen++;
        if (w->drop_every && w->seen % w->drop_every == 0)
            return false;
        w->chunks++;
        w->size = m->snapshot.size;
        if (m->snapshot.len > w->max_chunk)
            w->max_chunk = m->snapshot.len;
    }
    if (m->type == TCN_RAFT_MSG_SNAPSHOT_RESULT && from == w->follower)
        w->acks++;
    return true;
}

/* A follower that was away while the others compacted gets the snapshot in
 * fixed-size chunks, each acknowledged, then the entries after it. */
static void run_lagging_follower(uint32_t drop_every, uint32_t dup_permille, snap_watch *w)
{
    harness h;
    h_init(&h, 2);
    h.opts.snapshot_entries_max = 50;
    h.opts.snapshot_trailing = 5;
    h.opts.snapshot_chunk_bytes = 1000;
    h.snapshot_pad = 10000;
    h_start(&h, 3);
    int l = h_wait_leader(&h, 5000);
    int f = (l + 1) % 3;
    (void)h_replicate(&h, l, 5, 1000);
    h_isolate(&h, f);
    h.nodes[f].up = false; /* also stop its clock: it must not campaign */
    char buf[32];
    for (int k = 0; k < 200; k++) {
        snprintf(buf, sizeof(buf), "while-away-%d", k);
        (void)h_propose(&h, l, buf);
        if (k % 20 == 0)
            h_run(&h, 20);
    }
    h_run(&h, 500);
    assert_true(tcn_raft_first_index(h.nodes[l].r) > tcn_raft_last_index(h.nodes[f].r) + 1);
    memset(w, 0, sizeof(*w));
    w->follower = f;
    w->drop_every = drop_every;
    h.filter = watch_snapshot;
    h.filter_arg = w;
    h.dup_permille = dup_permille;
    h.delay_max_ms = dup_permille > 0 ? 30 : 0; /* copies arrive apart */
    h.nodes[f].up = true;
    h_heal(&h);
    h_run(&h, 5000);
    (void)h_replicate(&h, l, 3, 2000); /* and entries flow after it */
    assert_int_equal(h.nodes[f].snapshots_restored, 1);
    assert_int_equal(h.nodes[f].applied, h.nodes[l].applied);
    assert_memory_equal(h.nodes[f].sm, h.nodes[l].sm, TCN_SHA256_LEN);
    assert_int_equal(h.nodes[f].n_normal, h.nodes[l].n_normal);
    h_check_logs(&h);
    h_free(&h);
}

static void test_lagging_follower_gets_snapshot_in_chunks(void **state)
{
    (void)state;
    snap_watch w;
    run_lagging_follower(0, 0, &w);
    uint32_t need = (uint32_t)((w.size + 999) / 1000);
    assert_true(w.size >= 10000);
    assert_int_equal(w.max_chunk, 1000);
    assert_int_equal(w.chunks, need); /* one per chunk, none repeated */
    assert_int_equal(w.acks, need);   /* each acknowledged */
}

static void test_snapshot_chunk_loss_recovers(void **state)
{
    (void)state;
    snap_watch w;
    run_lagging_follower(3, 0, &w);
    assert_true(w.seen > w.chunks); /* some were lost and sent again */
}

/* Every message delivered twice: the copies of each answer must not make
 * the leader send more chunks (before the fix every copy sent another
 * chunk, whose answers were copied again: a storm; tcn-sim --seed 67
 * --steps 20000 --workload payouts). */
static void test_snapshot_duplicate_answers_send_nothing_more(void **state)
{
    (void)state;
    snap_watch w;
    run_lagging_follower(0, 1000, &w);
    uint32_t need = (uint32_t)((w.size + 999) / 1000);
    assert_true(w.size >= 10000);
    /* One send per chunk, however many copies (reordering may cost a few
     * retransmissions, never a multiplication). */
    assert_true(w.seen >= need && w.seen <= need + need / 4);
}

/* Direct: a follower holding the snapshot's last entry keeps what follows it;
 * one whose entry there has the same term but another hash reports corruption. */
static tcn_raft *follower_with_entries(uint64_t n_entries, tcn_raft_entry *e, uint8_t (*hashes)[TCN_SHA256_LEN])
{
    tcn_raft_options o;
    tcn_raft_options_default(&o, 2, 1);
    tcn_raft *r;
    tcn_error err;
    assert_int_equal(tcn_raft_create(&r, &o, 0, &err), TCN_OK);
    const uint64_t ids[] = {1, 2, 3};
    assert_int_equal(tcn_raft_bootstrap(r, ids, 3), TCN_OK);
    tcn_raft_msg out[8];
    (void)h_drain(r, out, 8);
    tcn_raft_entry g;
    assert_true(tcn_raft_entry_at(r, 1, &g));
    memcpy(hashes[1], g.hash, TCN_SHA256_LEN);
    for (uint64_t i = 0; i < n_entries; i++) {
        uint64_t idx = i + 2;
        e[i] = (tcn_raft_entry){.index = idx, .term = 2, .data = (const uint8_t *)"e", .len = 1,
                                .type = TCN_RAFT_ENTRY_NORMAL};
        tcn_raft_entry_hash(hashes[idx - 1], 2, idx, TCN_RAFT_ENTRY_NORMAL, e[i].data, 1, hashes[idx]);
    }
    tcn_raft_msg m = h_msg(TCN_RAFT_MSG_APPEND, 1, 2, 2);
    m.append.prev_index = 1;
    m.append.prev_term = 1;
    memcpy(m.append.prev_hash, hashes[1], TCN_SHA256_LEN);
    m.append.commit = 1; /* nothing new committed: the entries stay above commit */
    m.append.entries = e;
    m.append.n_entries = (uint32_t)n_entries;
    memcpy(m.append.last_hash, hashes[n_entries + 1], TCN_SHA256_LEN);
    assert_int_equal(tcn_raft_step(r, &m), TCN_OK);
    (void)h_drain(r, out, 8);
    return r;
}

static tcn_raft_msg snapshot_msg(uint64_t index, uint64_t term, const uint8_t *hash, const uint8_t *data,
                                 uint32_t len)
{
    tcn_raft_msg m = h_msg(TCN_RAFT_MSG_SNAPSHOT, 1, 2, 2);
    m.snapshot.index = index;
    m.snapshot.term = term;
    memcpy(m.snapshot.hash, hash, TCN_SHA256_LEN);
    m.snapshot.config.n = 3;
    for (uint32_t i = 0; i < 3; i++)
        m.snapshot.config.members[i] = (tcn_raft_member){.id = i + 1, .role = TCN_RAFT_VOTER};
    m.snapshot.size = len;
    m.snapshot.offset = 0;
    m.snapshot.data = data;
    m.snapshot.len = len;
    return m;
}

static void test_snapshot_keeps_matching_suffix(void **state)
{
    (void)state;
    tcn_raft_entry e[9];
    uint8_t hashes[11][TCN_SHA256_LEN];
    tcn_raft *r = follower_with_entries(9, e, hashes); /* entries 2..10 of term 2 */
    assert_int_equal(tcn_raft_last_index(r), 10);
    assert_int_equal(tcn_raft_commit_index(r), 1);
    const uint8_t data[] = "state machine at 5";
    tcn_raft_msg m = snapshot_msg(5, 2, hashes[5], data, sizeof(data));
    assert_int_equal(tcn_raft_step(r, &m), TCN_OK);
    tcn_raft_ready rd;
    tcn_raft_get_ready(r, &rd);
    assert_non_null(rd.snapshot);
    assert_int_equal(rd.snapshot->index, 5);
    assert_int_equal(rd.snapshot->len, sizeof(data));
    assert_memory_equal(rd.snapshot->data, data, sizeof(data));
    assert_int_equal(rd.n_entries, 0); /* commit is 5 now: nothing above it to apply */
    assert_int_equal(rd.n_msgs, 1);
    assert_int_equal(rd.msgs[0].snapshot_result.offset, sizeof(data));
    tcn_raft_advance(r);
    assert_int_equal(tcn_raft_first_index(r), 6);
    assert_int_equal(tcn_raft_last_index(r), 10);
    assert_int_equal(tcn_raft_commit_index(r), 5);
    assert_int_equal(tcn_raft_applied_index(r), 5);
    tcn_raft_destroy(r);

    /* same term at index 5, another hash: corruption, log untouched */
    r = follower_with_entries(9, e, hashes);
    hashes[5][7] ^= 0x80;
    m = snapshot_msg(5, 2, hashes[5], data, sizeof(data));
    assert_int_equal(tcn_raft_step(r, &m), TCN_ERR_CORRUPT);
    tcn_raft_get_ready(r, &rd);
    assert_null(rd.snapshot);
    assert_int_equal(rd.n_faults, 1);
    assert_int_equal(rd.msgs[0].snapshot_result.status, TCN_RAFT_SNAPSHOT_CORRUPT);
    tcn_raft_advance(r);
    assert_int_equal(tcn_raft_first_index(r), 1);
    assert_int_equal(tcn_raft_last_index(r), 10);
    tcn_raft_destroy(r);

    /* a snapshot of another history (term differs at its index) replaces the whole log */
    r = follower_with_entries(9, e, hashes);
    m = snapshot_msg(7, 2, hashes[5], data, sizeof(data));
    m.term = 3;
    m.snapshot.term = 3;
    assert_int_equal(tcn_raft_step(r, &m), TCN_OK);
    tcn_raft_get_ready(r, &rd);
    assert_non_null(rd.snapshot);
    tcn_raft_advance(r);
    assert_int_equal(tcn_raft_first_index(r), 8);
    assert_int_equal(tcn_raft_last_index(r), 7);
    tcn_raft_destroy(r);
}

/* Chunks out of order or from an older transfer are answered with the offset held. */
static void test_snapshot_chunk_offsets(void **state)
{
    (void)state;
    tcn_raft_entry e[3];
    uint8_t hashes[5][TCN_SHA256_LEN];
    tcn_raft *r = follower_with_entries(3, e, hashes);
    uint8_t data[30];
    for (int i = 0; i < 30; i++)
        data[i] = (uint8_t)i;
    uint8_t h9[TCN_SHA256_LEN] = {9};
    tcn_raft_msg m = snapshot_msg(9, 2, h9, data, 10);
    m.snapshot.size = 30;
    tcn_raft_msg out[4];
    /* middle chunk first: "start over from 0" */
    m.snapshot.offset = 10;
    m.snapshot.data = data + 10;
    assert_int_equal(tcn_raft_step(r, &m), TCN_OK);
    assert_int_equal(h_drain(r, out, 4), 1);
    assert_int_equal(out[0].snapshot_result.offset, 0);
    /* first chunk, then the first again (duplicate), then the rest */
    m.snapshot.offset = 0;
    m.snapshot.data = data;
    assert_int_equal(tcn_raft_step(r, &m), TCN_OK);
    assert_int_equal(h_drain(r, out, 4), 1);
    assert_int_equal(out[0].snapshot_result.offset, 10);
    assert_int_equal(tcn_raft_step(r, &m), TCN_OK);
    assert_int_equal(h_drain(r, out, 4), 1);
    assert_int_equal(out[0].snapshot_result.offset, 10);
    m.snapshot.offset = 10;
    m.snapshot.data = data + 10;
    assert_int_equal(tcn_raft_step(r, &m), TCN_OK);
    assert_int_equal(h_drain(r, out, 4), 1);
    assert_int_equal(out[0].snapshot_result.offset, 20);
    m.snapshot.offset = 20;
    m.snapshot.data = data + 20;
    assert_int_equal(tcn_raft_step(r, &m), TCN_OK);
    tcn_raft_ready rd;
    tcn_raft_get_ready(r, &rd);
    assert_non_null(rd.snapshot);
    assert_int_equal(rd.snapshot->len, 30);
    assert_memory_equal(rd.snapshot->data, data, 30);
    assert_int_equal(rd.msgs[0].snapshot_result.offset, 30);
    tcn_raft_advance(r);
    assert_int_equal(tcn_raft_commit_index(r), 9);
    /* an impossible chunk is refused outright */
    m.snapshot.offset = 25;
    m.snapshot.len = 10;
    assert_int_equal(tcn_raft_step(r, &m), TCN_ERR_MALFORMED);
    tcn_raft_destroy(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_snapshot_requested_and_log_compacted),
        cmocka_unit_test(test_lagging_follower_gets_snapshot_in_chunks),
        cmocka_unit_test(test_snapshot_chunk_loss_recovers),
        cmocka_unit_test(test_snapshot_duplicate_answers_send_nothing_more),
        cmocka_unit_test(test_snapshot_keeps_matching_suffix),
        cmocka_unit_test(test_snapshot_chunk_offsets),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
