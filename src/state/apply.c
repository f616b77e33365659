/* Deterministic apply (DESIGN §7): decode, the rules every command shares, and dispatch by type.
 *
 * Rules of every command:
 * - Before GENESIS, every other command is refused; GENESIS is accepted
 *   once, so it is the first command that changes anything.
 * - ts_ms is the proposing leader's clock. Leaders' clocks differ, so a
 *   ts_ms below the state's now is allowed; the checks of the command use
 *   its own ts_ms, and an applied command moves now to max(now, ts_ms).
 * - A refused command changes nothing but the applied index (every node
 *   refuses it the same way, and the log position is used up either way).
 * - Out of memory changes nothing at all, the applied index included, and
 *   the node must stop (another node would not have failed).
 * - Commands the network proposes (GENESIS, SWAP_OBSERVED, PAYOUT_INTENT,
 *   PAYOUT_OUTCOME, MEMBER_SET) carry the zero actor; the others carry the
 *   client key the API layer authenticated, and that client must hold a role. */
#include <string.h>

#include "state/internal.h"
#include "util/assert.h"

bool tcn_state_pubkey_is_zero(const tcn_chain_pubkey *pk)
{
    uint8_t acc = 0;
    for (size_t i = 0; i < sizeof(pk->b); i++)
        acc |= pk->b[i];
    return acc == 0;
}

const char *tcn_state_role_name(unsigned role)
{
    static const char *const names[] = {"NONE", "USER", "LP", "OPERATOR"};
    return role < sizeof(names) / sizeof(names[0]) ? names[role] : "unknown";
}

int tcn_state_need_network(const tcn_cmd *c, tcn_error *err)
{
    TCN_ENSURE(tcn_state_pubkey_is_zero(&c->actor), err, TCN_ERR_USAGE,
               "actor: the network proposes this command (zero actor), not a client");
    return TCN_OK;
}

int tcn_state_need_role(const tcn_state *st, const tcn_cmd *c, unsigned roles, tcn_error *err)
{
    char b58[48];
    tcn_role role = tcn_state_client_role(st, &c->actor);
    TCN_ENSURE(role != TCN_ROLE_NONE, err, TCN_ERR_USAGE, "actor: %s is not a client",
               tcn_state_b58(&c->actor, b58));
    TCN_ENSURE((roles & TCN_STATE_ROLE_BIT(role)) != 0, err, TCN_ERR_USAGE, "actor: role %s may not do this",
               tcn_state_role_name(role));
    return TCN_OK;
}

static const tcn_state_apply_fn apply_fns[TCN_CMD_TYPE_MAX_ + 1] = {
    [TCN_CMD_GENESIS] = tcn_state_apply_genesis,
    [TCN_CMD_CLIENT_SET] = tcn_state_apply_client_set,
    [TCN_CMD_KEY_IMPORT] = tcn_state_apply_key_import,
    [TCN_CMD_POLICY_SET] = tcn_state_apply_policy_set,
    [TCN_CMD_SWAP_CREATE] = tcn_state_apply_swap_create,
    [TCN_CMD_SWAP_OBSERVED] = tcn_state_apply_swap_observed,
    [TCN_CMD_PAYOUT_SCHEDULE] = tcn_state_apply_payout_schedule,
    [TCN_CMD_PAYOUT_INTENT] = tcn_state_apply_payout_intent,
    [TCN_CMD_PAYOUT_OUTCOME] = tcn_state_apply_payout_outcome,
    [TCN_CMD_MEMBER_SET] = tcn_state_apply_member_set,
};

static int dispatch(tcn_state *st, const tcn_cmd *c, uint64_t *id, tcn_error *err)
{
    TCN_ENSURE(st->genesis || c->type == TCN_CMD_GENESIS, err, TCN_ERR_USAGE,
               "no genesis yet: only GENESIS is accepted");
    TCN_ASSERT(c->type >= 1 && c->type <= TCN_CMD_TYPE_MAX_ && apply_fns[c->type] != NULL); /* decoded */
    return apply_fns[c->type](st, c, id, err);
}

int tcn_state_apply(tcn_state *st, uint64_t index, const uint8_t *bytes, size_t len, tcn_state_result *res)
{
    TCN_ASSERT(st != NULL && res != NULL);
    TCN_ASSERT(bytes != NULL || len == 0);
    TCN_ASSERT(index > st->applied_index); /* the log hands each index once, in order */
    memset(res, 0, sizeof(*res));
    tcn_error err;
    tcn_err_clear(&err);
    tcn_cmd c;
    uint64_t id = 0, ts_ms = 0;
    int rc = tcn_cmd_decode(bytes, len, &c, &err);
    if (rc != TCN_OK) {
        rc = TCN_ERR_MALFORMED; /* whatever the decoder said: the command does not decode */
    } else {
        ts_ms = c.ts_ms;
        rc = dispatch(st, &c, &id, &err);
        if (rc != TCN_OK && rc != TCN_ERR_NOMEM)
            (void)tcn_err_wrap(&err, "%s", tcn_cmd_type_name(c.type));
    }
    tcn_cmd_wipe(&c); /* seeds: they live on only in the secret store */
    if (rc == TCN_ERR_NOMEM)
        return TCN_ERR_NOMEM;
    res->code = rc;
    if (rc == TCN_OK) {
        res->id = id;
        if (ts_ms > st->now_ms)
            st->now_ms = ts_ms;
    } else {
        /* Reasons are built from public values only (ids, public keys,
         * amounts, field names): no function here formats a secret. */
        size_t n = strnlen(err.msg, sizeof(res->reason) - 1);
        memcpy(res->reason, err.msg, n);
        res->reason[n] = '\0';
    }
    st->applied_index = index;
    return TCN_OK;
}
