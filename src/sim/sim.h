/* The deterministic cluster simulator (tcn-sim): the state its parts share, and each part's entry points. */
#ifndef TCN_SIM_SIM_H
#define TCN_SIM_SIM_H

/*
 * One process runs a whole cluster of Raft cores on simulated time and a
 * simulated network. One seed drives everything (prng.h). The parts:
 *   sim.c              command line, set-up, the step loop, the two phases
 *   net.c              the network: a priority queue of encoded messages keyed
 *                      by delivery time; delay, loss, duplication, reordering,
 *                      symmetric and asymmetric partitions
 *   node.c             a machine: a Raft core, its clock (drift, pauses), its
 *                      boots; drains the core's ready
 *   kv.c               the application: a KV map applied from the log, its
 *                      snapshots
 *   faults.c           the seeded fault schedule, targeted scenarios, and the
 *                      healing of a majority for the liveness phase
 *   members.c          the membership manager: joins new nodes as learners,
 *                      replaces dead members, changes the voter count
 *   workload.c         KV clients (put/cas through the log, get through
 *                      ReadIndex) and their history
 *   checker.c          safety checkers, run as the cluster moves and after
 *                      every step
 *   linearizability.c  the history checker (Wing & Gong / Lowe, memoized)
 *
 * Time: the global clock counts microseconds; a step advances it by
 * SIM_STEP_US. Machines read their own clocks (a rate per machine) and hand
 * milliseconds to their cores.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chain/keypair.h"
#include "chain/model.h"
#include "chain/types.h"
#include "exec/exec.h"
#include "raft/codec.h"
#include "raft/raft.h"
#include "state/state.h"
#include "sim/prng.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/hash.h"

/* --- Limits ---------------------------------------------------------------- */

#define SIM_MACHINES_MAX 8u           /* 5 voters, learners and spare machines */
#define SIM_CLIENTS_MAX 8u            /* the last one is the scenarios' */
#define SIM_STEP_US 10000u            /* one step: 10 ms of simulated time */
#define SIM_STEPS_DEFAULT 2000u
#define SIM_STEPS_MAX 100000000u
#define SIM_DELIVERIES_PER_STEP_MAX 200000u
#define SIM_DRAIN_ROUNDS_MAX 16u
#define SIM_PENDING_MAX 64u           /* client requests waiting at one node */
#define SIM_KEYS_ACTIVE 3u            /* keys the clients work on at a time */
#define SIM_KEY_OPS_MAX 40u           /* operations on one key before it is retired */
#define SIM_OPS_MAX 1000000u          /* operations in one history */
#define SIM_LIN_BUDGET 5000000u       /* search steps per key for the linearizability check */
#define SIM_CONF_IDX_MAX 16u          /* configuration entries remembered per node log */
#define SIM_VIOLATION_MAX 2048u

/* --- Faults and bugs ----------------------------------------------------- */

enum {
    SIM_F_DELAY = 1u << 0,
    SIM_F_LOSS = 1u << 1,
    SIM_F_DUP = 1u << 2,
    SIM_F_REORDER = 1u << 3,
    SIM_F_PARTITION = 1u << 4,
    SIM_F_CRASH = 1u << 5,
    SIM_F_PAUSE = 1u << 6,
    SIM_F_DRIFT = 1u << 7,
    SIM_F_MEMBERSHIP = 1u << 8,
    SIM_F_SNAPSHOT = 1u << 9,
    SIM_F_TRANSFER = 1u << 10,
    SIM_F_ALL = (1u << 11) - 1,
};

typedef enum {
    SIM_BUG_NONE = 0,
    SIM_BUG_FIGURE8,
    SIM_BUG_VOTE_TWICE,
    SIM_BUG_SKIP_LOG_MATCHING,
    SIM_BUG_REJOIN_SAME_ID, /* simulator side: a crashed node rejoins with its old id and empty state */
    SIM_BUG_RELEASE_BEFORE_COMMIT, /* payouts: the executor sends payout bytes before the intent commits */
    SIM_BUG_REFUND_BEFORE_LANDING, /* payouts: outcome and new refund committed without waiting for the landing */
    SIM_BUG_SKIP_RESUME,           /* payouts: a new leader leaves open intents of an earlier one alone */
    SIM_BUG_TRUST_LAGGING_STATUS,  /* payouts: DROPPED decided from a status answer older than the nonce read */
    SIM_BUG_REFUND_EMPTIES_ESCROW, /* payouts: the old refund rule (balance - fee, no reserve kept) */
} sim_bug;

typedef enum {
    SIM_WL_KV = 0,      /* KV registers, linearizability */
    SIM_WL_PAYOUTS = 1, /* the coordinator state machine, the executor and the chain model (payouts.c) */
} sim_workload_kind;

/* --- Network ------------------------------------------------------------- */

typedef struct sim_pkt {
    uint64_t at_us; /* delivery time */
    uint64_t tie;   /* seeded tie-break among equal times */
    uint64_t seq;
    uint32_t from, to; /* machine slots */
    uint64_t to_id;    /* the node (boot) it is addressed to */
    uint8_t *bytes;
    uint32_t len;
} sim_pkt;

typedef struct sim_link {
    bool cut;            /* from -> to drops everything */
    uint32_t loss_ppm;
    uint32_t latency_us; /* base one-way delay */
    uint32_t jitter_us;  /* plus uniform [0, jitter] */
    uint64_t last_at_us; /* FIFO when reordering is off */
} sim_link;

typedef struct sim_net {
    sim_pkt *heap;
    size_t n, cap;
    uint64_t seq;
    sim_link link[SIM_MACHINES_MAX][SIM_MACHINES_MAX];
    bool reorder;          /* random tie-breaks, no per-link FIFO */
    uint32_t reorder_ppm;  /* messages held back a little longer */
    uint32_t dup_ppm;
    uint32_t spike_ppm;    /* rare long delays */
    uint32_t spike_max_us;
    tcn_buf enc;
    tcn_raft_decoder dec, dec_check;
    uint64_t sent, delivered, dropped, duplicated, bytes;
} sim_net;

/* --- Application (kv.c) -------------------------------------------------- */

typedef struct sim_kv_pair {
    uint32_t key;
    uint64_t val;
} sim_kv_pair;

typedef struct sim_kv {
    sim_kv_pair *e;
    uint32_t n, cap;
    uint64_t sum; /* order-independent checksum of the pairs */
} sim_kv;

/* One client command, the payload of a NORMAL entry. */
enum { SIM_OP_PUT = 1, SIM_OP_GET = 2, SIM_OP_CAS = 3 };
typedef struct sim_cmd {
    uint8_t kind;
    uint32_t client;
    uint32_t op; /* index in the history */
    uint32_t key;
    uint64_t a, b; /* put: a = value; cas: a = expected, b = new */
} sim_cmd;

/* --- Nodes (node.c) ------------------------------------------------------ */

typedef struct sim_pending_write {
    uint64_t index;
    uint32_t op;
} sim_pending_write;

typedef struct sim_pending_read {
    uint32_t op;
    uint64_t index;
    bool confirmed; /* the ReadIndex answer came: respond once applied >= index */
    uint64_t floor; /* highest index applied anywhere when it was asked */
} sim_pending_read;

/* The simulator's own copy of a node log's hash chain (checker.c). */
typedef struct sim_mirror {
    uint64_t base; /* index of h[0] */
    size_t n, cap;
    uint8_t (*h)[TCN_SHA256_LEN];
} sim_mirror;

typedef struct sim_node {
    /* The machine. */
    bool present; /* part of the cluster (spare machines start absent) */
    bool up;      /* a process runs */
    bool paused;
    bool pause_drops; /* messages to a paused node are lost (else held until it resumes) */
    uint64_t pause_until_us;
    uint64_t restart_at_us; /* down: boots again then (0: stays down) */
    bool retired;           /* shut down after its removal from the configuration */
    uint64_t rate_ppm;      /* clock rate: 1000000 is real time */
    uint64_t clock_us;      /* its monotonic clock */
    uint64_t clock_frac;
    uint64_t wall_base_us; /* global time when the machine first appeared: its wall clock was set then (payouts) */
    uint64_t clock_global_us; /* global time the clock was last advanced to */
    uint64_t boot;            /* unique per boot, across the run */
    uint64_t id;              /* Raft id of this boot */
    uint64_t booted_us;
    bool joined; /* has appeared in a configuration since it booted */
    tcn_raft *r;

    /* The application. */
    sim_kv kv;
    tcn_state *st;  /* payouts workload: the coordinator state */
    tcn_exec *ex;   /* payouts workload: the executor (volatile, leader only) */
    uint64_t applied;
    uint8_t digest[TCN_SHA256_LEN]; /* chain over the hashes of applied entries */
    tcn_raft_config conf;           /* configuration as applied */
    bool have_conf;
    sim_pending_write pw[SIM_PENDING_MAX];
    uint32_t n_pw;
    sim_pending_read pr[SIM_PENDING_MAX];
    uint32_t n_pr;

    /* What the checkers remember about this boot. */
    uint8_t role;
    uint64_t term;
    uint64_t last_commit;
    uint64_t snap_index; /* last snapshot installed */
    uint64_t snap_term;
    uint8_t snap_hash[TCN_SHA256_LEN];
    sim_mirror mirror;
    uint64_t conf_idx[SIM_CONF_IDX_MAX]; /* configuration entries in its log, ascending */
    uint32_t n_conf_idx;
    uint64_t snapshots_taken, snapshots_restored;
} sim_node;

/* --- Workload (workload.c) ----------------------------------------------- */

enum { SIM_ST_PENDING = 0, SIM_ST_OK, SIM_ST_FAILED, SIM_ST_UNKNOWN };

typedef struct sim_op {
    uint8_t kind;
    uint8_t status;
    uint16_t client;
    uint32_t key;
    uint64_t a, b;
    uint64_t result; /* get: value read; cas: 1 applied, 0 not */
    uint64_t call_ev, ret_ev; /* event numbers: real-time order */
    uint64_t call_us, ret_us;
    uint64_t index; /* log index of a write (0: none known) */
    uint8_t hash[TCN_SHA256_LEN]; /* entry hash when acknowledged */
    uint32_t slot;  /* node it was sent to */
} sim_op;

typedef struct sim_client {
    bool busy;
    uint32_t op;
    uint32_t target; /* machine slot it talks to */
    uint64_t deadline_us;
    uint64_t next_us;
    uint64_t last_seen[SIM_KEYS_ACTIVE]; /* last value it saw per active key slot */
} sim_client;

typedef struct sim_workload {
    uint32_t n_clients;
    sim_client c[SIM_CLIENTS_MAX];
    sim_op *ops;
    uint32_t n_ops, cap_ops;
    uint64_t ev;
    uint32_t keys[SIM_KEYS_ACTIVE];
    uint32_t key_ops[SIM_KEYS_ACTIVE];
    uint32_t next_key;
    uint32_t pad_max; /* payload padding */
    uint64_t timeout_us;
    uint32_t think_max_us;
    uint64_t heal_ev; /* liveness phase: writes invoked after this event count */
    uint64_t live_index; /* index of the first such write acknowledged (0: none yet) */
    uint64_t acked_writes, acked_reads, failed, unknown;
} sim_workload;

/* --- Payouts workload (payouts.c) ----------------------------------------- */

#define SIM_PAY_USERS 3u
#define SIM_PAY_SWAPS_MAX 48u
#define SIM_PAY_INBOX_MAX 4096u
#define SIM_PAY_DEPOSITS_MAX 16u /* third-party deposits remembered per swap (the griefer stops there) */
#define SIM_PAY_IMPORTS_MAX 16u  /* Ed25519 keys the users import as escrow authorities */
#define SIM_PAY_WATCH_MAX 256u   /* accounts whose past slots a lagging RPC node can answer for */
#define SIM_PAY_HIST 4u          /* slots of account history kept (lag 0-3) */

/* What an inbox transaction is, for the checkers and the statistics. */
typedef enum {
    SIM_PAY_TX_OTHER = 0, /* the coordinator's or a user's */
    SIM_PAY_TX_DEPOSIT,   /* a third party's transfer into an escrow */
    SIM_PAY_TX_DRAIN,     /* the holder of an imported escrow key moving lamports out */
    SIM_PAY_TX_SWEEP,     /* the leader's sweep */
    SIM_PAY_TX_REFUND,    /* a swap's refund (sent by its user, or by the leader past the deadline) */
} sim_pay_tx_kind;

/* A transaction on its way to the chain: sendTransaction has latency. */
typedef struct sim_pay_tx {
    uint64_t at_us;
    uint64_t seq;
    int from; /* machine slot, or -1 for a client */
    uint8_t kind; /* sim_pay_tx_kind */
    uint32_t swap_id; /* DEPOSIT, DRAIN: the swap whose escrow it touches */
    uint64_t lamports; /* DEPOSIT: how much */
    tcn_chain_hash bound; /* SWEEP, REFUND: the nonce value it is bound to */
    uint16_t len;
    uint8_t bytes[TCN_CHAIN_PACKET_BYTES_MAX];
} sim_pay_tx;

/* A committed payout intent (from the reference state), and what became of its bytes. */
typedef struct sim_pay_intent {
    tcn_chain_signature sig;
    uint64_t payout_id;
    tcn_chain_pubkey nonce;
    tcn_chain_hash value;
} sim_pay_intent;

/* Payout bytes released to the chain, by (nonce account, nonce value). */
typedef struct sim_pay_release {
    tcn_chain_pubkey nonce;
    tcn_chain_hash value;
    tcn_chain_signature sig;
} sim_pay_release;

typedef struct sim_pay_swap {
    bool funded;          /* the client put the amount in the escrow */
    bool user_refund;     /* the client sent its refund to the chain */
    uint64_t refund_at_us; /* when it will (0: never) */
    uint32_t planned;     /* payouts the client means to schedule */
    uint64_t plan_amount[4];
    uint64_t next_try_us; /* client retry pacing */
    /* Third-party deposits that landed in the escrow, with their slots. */
    uint32_t n_dep, dep_sent; /* landed; sent (the cap counts those on their way too) */
    uint64_t dep_slot[SIM_PAY_DEPOSITS_MAX], dep_lamports[SIM_PAY_DEPOSITS_MAX];
    int import_idx;       /* the imported key it uses as escrow (-1: a generated one; 0 unknown yet) */
    bool import_known;
    bool drained;         /* the key's holder moved lamports out behind the network's back */
    uint64_t checked;     /* the last (refund, chain) combination the refund checker saw land */
    bool paid;            /* a refund or sweep bound to paid_value landed: it moved the nonce, paying refund_to */
    tcn_chain_hash paid_value;
} sim_pay_swap;

/* A key a user imports (KEY_IMPORT) to use as an escrow authority; the
 * simulator is also its "holder", who can move the escrow's lamports. */
typedef struct sim_pay_import {
    uint8_t seed[32];
    tcn_chain_pubkey pubkey;
    uint32_t user;
    bool used; /* a swap was created with it */
} sim_pay_import;

/* The accounts as a lagging RPC node knows them: the end of one slot. */
typedef struct sim_pay_hist {
    uint64_t slot;
    size_t n; /* watched accounts recorded (watch[0..n)) */
    tcn_exec_account acc[SIM_PAY_WATCH_MAX];
} sim_pay_hist;

typedef struct sim_pay {
    tcn_chain_model *chain;
    uint64_t next_slot_us;
    sim_pay_tx *inbox;
    size_t n_inbox;
    uint64_t inbox_seq;
    bool chain_down[SIM_MACHINES_MAX]; /* this machine cannot reach the chain */
    uint64_t next_chain_fault_us;
    tcn_state *ref;  /* the committed state: each index applied the first time any node applies it */
    sim_pay_intent *intents;
    size_t n_intents, cap_intents;
    sim_pay_release *released;
    size_t n_released, cap_released;
    uint32_t *landed; /* per payout id: landings of any of its transactions */
    size_t cap_landed;
    tcn_chain_pubkey operator_key;
    tcn_chain_pubkey users[SIM_PAY_USERS];
    tcn_chain_pubkey lp, refund_to[SIM_PAY_USERS];
    sim_pay_swap swaps[SIM_PAY_SWAPS_MAX + 1]; /* by swap id */
    uint64_t next_client_us;
    uint64_t client_retry_us;
    uint32_t exec_bugs;
    bool coordinator_funded;
    /* Liveness: a client command sent after the heal, and where it applied. */
    uint8_t live_cmd[256];
    size_t live_len;
    uint64_t live_index;
    bool live_sent;
    uint64_t lp_counter;
    /* Third parties: a griefer with funds, and the holders of imported keys. */
    tcn_chain_keypair *griefer;
    uint64_t griefer_funds;
    tcn_chain_pubkey holder_sink;
    uint64_t next_grief_us, next_drain_us;
    sim_pay_import imports[SIM_PAY_IMPORTS_MAX];
    uint32_t n_imports;
    /* Lagging account reads: accounts asked about, their last slots, and
     * per machine the oldest slot it may still be answered for. */
    tcn_chain_pubkey watch[SIM_PAY_WATCH_MAX];
    size_t n_watch;
    sim_pay_hist *hist; /* SIM_PAY_HIST of them, by slot % SIM_PAY_HIST */
    uint64_t acct_floor[SIM_MACHINES_MAX];
    /* statistics */
    uint64_t deposits_sent, deposits_landed, deposits_lamports, griefer_fees, drains_landed, lagged_reads;
    uint64_t sweeps_ok, sweeps_failed, swept_closed;
    uint64_t sends, landed_ok, landed_err, rejected, dropped_sends, refused, applied_cmds;
    uint64_t user_refunds, exec_steps, targeted_crashes;
} sim_pay;

/* --- Faults (faults.c) --------------------------------------------------- */

typedef enum {
    SIM_SCN_NONE = 0,
    SIM_SCN_LEADER_FLIP, /* Raft Figure 8 shape: minority leader, newborn leader cut off, ... */
    SIM_SCN_QUORUM_CRASH, /* lagging minority, crash of a quorum member, leader cut off */
    SIM_SCN_MASS_PAUSE,   /* every machine stalls at once and resumes at once */
    SIM_SCN_COUNT_,
} sim_scenario;

typedef struct sim_faults {
    bool stopped; /* liveness phase */
    bool wedged;  /* at the heal, no set of running nodes could elect (by Raft's rules) */
    /* Next time each random process acts (0: never). */
    uint64_t next_partition_us, heal_partition_us;
    uint64_t next_crash_us, next_pause_us, next_drift_us, next_loss_us, next_delay_us;
    uint64_t next_member_us, next_transfer_us, next_scenario_us;
    /* Per-run parameters. */
    uint32_t partition_gap_ms_max, crash_gap_ms_max, pause_gap_ms_max;
    uint32_t scenario_ppm; /* chance that an opportunity starts a scenario */
    /* A scenario chosen and waiting for a healthy cluster (random
     * partitions, crashes and pauses hold off meanwhile). */
    sim_scenario pending;
    uint64_t pending_deadline_us;
    /* The scenario in progress. */
    sim_scenario scn;
    int phase;
    uint64_t phase_deadline_us;
    int a, b, c;       /* machine slots the scenario works with */
    uint32_t group;    /* bit mask of slots */
    uint64_t term;     /* a term the scenario remembers */
    uint64_t commit;   /* a commit index it remembers */
    uint64_t started[SIM_SCN_COUNT_];
    uint64_t completed[SIM_SCN_COUNT_];
    uint64_t partitions, crashes, pauses, transfers, drifts;
} sim_faults;

/* --- Membership manager (members.c) -------------------------------------- */

typedef struct sim_members {
    bool frozen;
    uint32_t voters_target;
    uint32_t voters_min, voters_max;
    uint64_t changes, refused;
} sim_members;

/* --- Checkers (checker.c) ------------------------------------------------ */

typedef struct sim_rec {
    bool set;
    uint64_t by; /* node that applied it first */
    uint64_t term;
    uint8_t hash[TCN_SHA256_LEN];
    uint8_t digest[TCN_SHA256_LEN]; /* application state digest after it */
    uint64_t kvsum;
} sim_rec;

typedef struct sim_reg_slot {
    uint64_t index, term; /* index 0: empty */
    uint64_t by;          /* node whose log held it first */
    uint8_t hash[TCN_SHA256_LEN];
} sim_reg_slot;

/* A committed index as some node saw it, and the term that node was in: an
 * upper bound on the term in which it was committed. Every leader of a later
 * term must hold it (Leader Completeness). */
typedef struct sim_commit_mark {
    uint64_t index;
    uint64_t term_seen;
    uint64_t by;
    uint8_t hash[TCN_SHA256_LEN];
} sim_commit_mark;

typedef struct sim_term_leader {
    uint64_t boot; /* 0: nobody led this term */
    uint64_t id;
} sim_term_leader;

typedef struct sim_checker {
    sim_term_leader *leaders; /* term -> who led it */
    size_t leader_cap;
    sim_rec *rec; /* applied index -> what was applied there */
    size_t rec_cap;
    uint64_t applied_max;
    sim_reg_slot *reg; /* (index, term) -> hash, every entry of every log */
    size_t reg_cap, reg_n;
    uint64_t commit_max;
    sim_commit_mark *marks; /* ascending index; a new mark when the observing term changes */
    size_t n_marks, cap_marks;
    uint64_t elections;
    uint64_t term_max;
    uint64_t lin_keys, lin_ops, lin_unknown;
} sim_checker;

/* --- The simulation ------------------------------------------------------ */

typedef struct sim_options {
    sim_workload_kind workload;
    uint64_t seed;
    uint64_t steps;
    uint32_t nodes; /* 0: the seed chooses 3 or 5 */
    uint32_t faults;
    sim_bug bug;
    bool verbose;
    const char *argv0;
} sim_options;

typedef struct sim {
    sim_options opt;
    uint32_t n_nodes; /* voters at genesis */
    sim_rng rng_params, rng_net, rng_faults, rng_wl, rng_members, rng_order;
    uint64_t raft_seed; /* node seeds derive from it and the node id */
    tcn_raft_options ropts; /* template for every boot */
    uint32_t snap_pad;      /* padding bytes in application snapshots */
    uint64_t now_us;   /* global time */
    uint64_t event_us; /* time of the event being handled (messages leave then) */
    uint64_t step;
    bool liveness;
    uint32_t n_machines; /* slots in use: [0, n_machines) */
    sim_node m[SIM_MACHINES_MAX];
    uint64_t next_id;
    uint64_t boots;
    sim_net net;
    sim_faults faults;
    sim_members members;
    sim_workload wl;
    sim_pay pay;
    sim_checker chk;
    /* The first violation ends the run. */
    bool violated;
    bool wedged; /* liveness could not be had by Raft's rules (a violation takes precedence) */
    char wedge[SIM_VIOLATION_MAX];
    char violation[SIM_VIOLATION_MAX];
    /* Trace digest (verbose): every event folds in, so two runs can be compared. */
    tcn_sha256_ctx trace;
} sim;

/* sim.c */
void sim_violation(sim *s, const char *checker, const char *fmt, ...) TCN_PRINTF(3, 4);
void sim_trace(sim *s, const char *fmt, ...) TCN_PRINTF(2, 3);
void sim_trace_bytes(sim *s, const void *p, size_t n);
bool sim_has(const sim *s, uint32_t fault);
/* Milliseconds of the election timeout's upper bound as the slowest clock sees it. */
uint64_t sim_election_max_global_ms(const sim *s);

/* net.c */
void net_init(sim *s);
void net_free(sim *s);
void net_send(sim *s, uint32_t from, const tcn_raft_msg *m);
/* Delivers every message due by s->now_us (each delivery drains the receiver). */
void net_deliver_due(sim *s);
void net_heal_all(sim *s);
void net_cut(sim *s, uint32_t a, uint32_t b, bool cut);      /* a -> b only */
void net_cut_both(sim *s, uint32_t a, uint32_t b, bool cut); /* both directions */
void net_isolate(sim *s, uint32_t a, bool cut);
/* Normal link parameters (no loss, base latency) for a -> b. */
void net_link_calm(sim *s, uint32_t a, uint32_t b);
void net_randomize_link(sim *s, uint32_t a, uint32_t b);

/* node.c */
int node_slot_of_id(const sim *s, uint64_t id); /* an up machine running id, or -1 */
void node_boot(sim *s, uint32_t slot, uint64_t id, const uint64_t *voters, size_t n_voters);
void node_crash(sim *s, uint32_t slot, uint64_t restart_at_us);
void node_pause(sim *s, uint32_t slot, uint64_t until_us, bool drops);
void node_resume(sim *s, uint32_t slot);
void node_advance_clock(sim *s, uint32_t slot);
void node_tick(sim *s, uint32_t slot);
/* Drains the core's ready until it has nothing more (bounded). */
void node_drain(sim *s, uint32_t slot);
bool node_usable(const sim *s, uint32_t slot); /* up and not paused */
/* The usable node that leads in the highest term, or -1. */
int node_leader(const sim *s);
void node_free_all(sim *s);

/* kv.c */
void kv_clear(sim_kv *kv);
void kv_free(sim_kv *kv);
uint64_t kv_get(const sim_kv *kv, uint32_t key);
/* Applies a decoded command; returns the result for the client. */
uint64_t kv_apply(sim_kv *kv, const sim_cmd *c);
size_t kv_cmd_encode(const sim_cmd *c, uint32_t pad, uint8_t *out, size_t cap);
bool kv_cmd_decode(const uint8_t *p, size_t len, sim_cmd *c);
#define SIM_CMD_BYTES_MAX 1024u
/* Application snapshot of node slot: its map, applied index and digest. */
int kv_snapshot_take(sim *s, uint32_t slot);
void kv_snapshot_restore(sim *s, uint32_t slot, const tcn_raft_snapshot_view *v);
void kv_apply_entry(sim *s, uint32_t slot, const tcn_raft_entry *e);

/* faults.c */
void faults_init(sim *s);
void faults_step(sim *s);
enum { SIM_EV_LEADER = 1, SIM_EV_COMMIT = 2 };
void faults_on_event(sim *s, uint32_t slot, int ev);
/* Liveness phase: stop the faults, heal a majority (returned as a slot mask). */
uint32_t faults_heal_majority(sim *s);
bool faults_crash_allowed(const sim *s, uint32_t slot);
/* Crashes slot now (restart later, as a new member) when the crash fault is
 * on, the fault phase runs and a quorum survives; true if it did. */
bool faults_crash_now(sim *s, uint32_t slot);
const char *faults_scenario_name(sim_scenario k);

/* members.c */
void members_init(sim *s);
void members_step(sim *s);

/* workload.c */
void wl_init(sim *s);
void wl_free(sim *s);
void wl_step(sim *s);
/* Scenarios: a client sends n writes to node slot now. */
void wl_inject_writes(sim *s, uint32_t slot, uint32_t n);
void wl_on_applied(sim *s, uint32_t slot, const tcn_raft_entry *e, const sim_cmd *c, uint64_t result);
void wl_on_read(sim *s, uint32_t slot, const tcn_raft_read_result *rr);
void wl_after_apply(sim *s, uint32_t slot);
void wl_on_restore(sim *s, uint32_t slot, uint64_t index);
void wl_on_down(sim *s, uint32_t slot);
/* The first write invoked after the heal and acknowledged: its index, or 0. */
uint64_t wl_liveness_index(const sim *s);
/* Linearizability per key and durability of acknowledged writes. */
void wl_final_check(sim *s);

/* payouts.c (the payouts workload; the wl_* hooks call these in that mode) */
void pay_init(sim *s);
void pay_free(sim *s);
void pay_node_boot(sim *s, uint32_t slot);
void pay_node_down(sim *s, uint32_t slot);
/* Applies a NORMAL entry to the node's state (folds the result into its digest). */
void pay_apply_entry(sim *s, uint32_t slot, const tcn_raft_entry *e);
int pay_snapshot_take(sim *s, uint32_t slot, tcn_buf *out);
bool pay_snapshot_restore(sim *s, uint32_t slot, const uint8_t *p, size_t len);
void pay_step(sim *s);
void pay_inject(sim *s, uint32_t slot, uint32_t n);
void pay_check_step(sim *s);
uint64_t pay_liveness_index(const sim *s);
/* Every payout that must land has landed once and been recorded; no intent left open. */
bool pay_settled(sim *s, char *why, size_t cap);
void pay_final_check(sim *s);
void pay_stats(const sim *s);

/* checker.c */
void chk_init(sim *s);
void chk_free(sim *s);
void chk_on_ready(sim *s, uint32_t slot, const tcn_raft_ready *rd);
void chk_on_apply(sim *s, uint32_t slot, const tcn_raft_entry *e);
void chk_on_restore(sim *s, uint32_t slot, const tcn_raft_snapshot_view *v);
void chk_on_config_applied(sim *s, uint32_t slot, uint64_t index, const tcn_raft_config *next);
void chk_after_advance(sim *s, uint32_t slot);
void chk_on_leader(sim *s, uint32_t slot);
void chk_step(sim *s);
/* Membership calls go through here: the change is checked against the rules. */
int chk_member_change(sim *s, uint32_t slot, int op, uint64_t a, uint64_t b);
enum { SIM_MC_ADD_LEARNER = 1, SIM_MC_PROMOTE, SIM_MC_REMOVE, SIM_MC_REPLACE };
uint32_t chk_voter_diff(const tcn_raft_config *a, const tcn_raft_config *b);
uint64_t chk_applied_max(const sim *s);

/* linearizability.c */
typedef struct lin_op {
    uint8_t kind; /* SIM_OP_* */
    bool unknown; /* outcome unknown: may have taken effect at any point after call */
    uint64_t a, b, result;
    uint64_t call, ret; /* ret ignored when unknown */
} lin_op;
enum { LIN_OK = 0, LIN_VIOLATION = 1, LIN_UNKNOWN = 2 };
#define LIN_OPS_MAX 64u
/* A register (initially 0) with put/get/cas: is the history linearizable?
 * n <= LIN_OPS_MAX. budget bounds the search steps (LIN_UNKNOWN past it). */
int lin_check_register(const lin_op *ops, size_t n, uint64_t budget, uint64_t *steps_out);

#endif
