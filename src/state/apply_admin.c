/* Apply of the administrative commands: GENESIS, CLIENT_SET, KEY_IMPORT, POLICY_SET, MEMBER_SET. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "state/internal.h"
#include "util/assert.h"
#include "util/secmem.h"

/* Why a public key cannot be taken: which part it already plays. */
static const char *held_as(uint64_t tag, char *buf, size_t cap)
{
    uint64_t id = tag & TCN_STATE_TAG_ID_MASK;
    switch (tag & ~TCN_STATE_TAG_ID_MASK) {
    case TCN_STATE_TAG_COORDINATOR:
        snprintf(buf, cap, "the coordinator key");
        break;
    case TCN_STATE_TAG_KEY:
        snprintf(buf, cap, "key %llu", (unsigned long long)id);
        break;
    default:
        snprintf(buf, cap, "the nonce account of swap %llu", (unsigned long long)id);
        break;
    }
    return buf;
}

/* GENESIS (network): once, before anything else. Records the group id
 * (DESIGN §4: clients pin it), derives the coordinator key from the seed the
 * leader generated inside its TEE, and makes operator_key the first operator. */
int tcn_state_apply_genesis(tcn_state *st, const tcn_cmd *c, uint64_t *id, tcn_error *err)
{
    (void)id;
    static const uint8_t zero_group[TCN_STATE_GROUP_ID_LEN];
    TCN_ENSURE(!st->genesis, err, TCN_ERR_USAGE, "genesis: already applied");
    TCN_GUARD(tcn_state_need_network(c, err));
    TCN_ENSURE(memcmp(c->u.genesis.group_id, zero_group, sizeof(zero_group)) != 0, err, TCN_ERR_USAGE,
               "group_id: all zero (genesis draws 16 random bytes)");
    TCN_ENSURE(!tcn_state_pubkey_is_zero(&c->u.genesis.operator_key), err, TCN_ERR_USAGE, "operator_key: the zero key");

    /* Nothing else can fail but memory: derive into the root, then size the tables. */
    tcn_chain_pubkey coordinator;
    tcn_state_ed25519_derive(c->u.genesis.coordinator_seed, st->root + TCN_STATE_ROOT_COORDINATOR, &coordinator);
    tcn_state_derive_hash_key(st);
    if (tcn_state_table_reserve(&st->clients, 1) != TCN_OK || tcn_state_table_reserve(&st->accounts, 1) != TCN_OK) {
        tcn_wipe(st->root, TCN_STATE_ROOT_BYTES);
        return TCN_ERR_NOMEM;
    }
    st->genesis = true;
    memcpy(st->group_id, c->u.genesis.group_id, TCN_STATE_GROUP_ID_LEN);
    st->coordinator = coordinator;
    tcn_state_table_put(&st->clients, &c->u.genesis.operator_key, TCN_ROLE_OPERATOR);
    st->n_operators = 1;
    tcn_state_table_put(&st->accounts, &coordinator, TCN_STATE_TAG_COORDINATOR);
    return TCN_OK;
}

/* CLIENT_SET (operator): sets a client key's role; NONE removes the client.
 * The last operator can be neither removed nor demoted (nobody could add
 * one again). */
int tcn_state_apply_client_set(tcn_state *st, const tcn_cmd *c, uint64_t *id, tcn_error *err)
{
    (void)id;
    char b58[48];
    const tcn_chain_pubkey *client = &c->u.client_set.client;
    TCN_GUARD(tcn_state_need_role(st, c, TCN_STATE_ROLE_BIT(TCN_ROLE_OPERATOR), err));
    TCN_ENSURE(!tcn_state_pubkey_is_zero(client), err, TCN_ERR_USAGE, "client: the zero key");
    tcn_role old = tcn_state_client_role(st, client), role = (tcn_role)c->u.client_set.role;
    TCN_ENSURE(role != TCN_ROLE_NONE || old != TCN_ROLE_NONE, err, TCN_ERR_USAGE, "client: %s is not a client",
               tcn_state_b58(client, b58));
    TCN_ENSURE(!(old == TCN_ROLE_OPERATOR && role != TCN_ROLE_OPERATOR && st->n_operators == 1), err, TCN_ERR_USAGE,
               "client: %s is the last operator", tcn_state_b58(client, b58));
    if (old == TCN_ROLE_NONE && tcn_state_table_reserve(&st->clients, 1) != TCN_OK)
        return TCN_ERR_NOMEM;
    if (old == TCN_ROLE_OPERATOR)
        st->n_operators--;
    if (role == TCN_ROLE_OPERATOR)
        st->n_operators++;
    if (role == TCN_ROLE_NONE)
        tcn_state_table_del(&st->clients, client);
    else
        tcn_state_table_put(&st->clients, client, role);
    return TCN_OK;
}

/* KEY_IMPORT (any client): a delegated Ed25519 seed (it can sign: an escrow
 * authority) or a FROST share (held for the threshold signer; never used
 * yet). The key gets the next key id, the actor as owner and the empty
 * policy. An Ed25519 key whose public key the state already holds in any
 * part is refused: one chain account, one part. */
int tcn_state_apply_key_import(tcn_state *st, const tcn_cmd *c, uint64_t *id, tcn_error *err)
{
    char b58[48], held[64];
    TCN_GUARD(tcn_state_need_role(st, c, ~TCN_STATE_ROLE_BIT(TCN_ROLE_NONE), err));
    bool ed = c->u.key_import.kind == TCN_KEY_ED25519_SEED;
    if (tcn_state_reserve_key(st) != TCN_OK || tcn_state_table_reserve(&st->accounts, 1) != TCN_OK)
        return TCN_ERR_NOMEM;
    uint8_t *slot = tcn_state_secrets_at(&st->key_secrets, st->n_keys); /* scratch until committed */
    tcn_chain_pubkey pk;
    memset(&pk, 0, sizeof(pk));
    if (ed) {
        tcn_state_ed25519_derive(c->u.key_import.secret, slot, &pk);
        uint64_t tag = tcn_state_table_get(&st->accounts, &pk);
        if (tag != 0) {
            tcn_wipe(slot, TCN_STATE_SECRET_BYTES);
            return tcn_err_set(err, TCN_ERR_USAGE, "secret: its public key %s is already held as %s",
                               tcn_state_b58(&pk, b58), held_as(tag, held, sizeof(held)));
        }
    } else {
        memcpy(slot, c->u.key_import.secret, c->u.key_import.len);
    }
    tcn_state_key_rec *k = &st->keys[st->n_keys++];
    memset(k, 0, sizeof(*k));
    k->kind = c->u.key_import.kind;
    k->secret_len = ed ? TCN_STATE_SECRET_BYTES : (uint8_t)c->u.key_import.len;
    k->owner = c->actor;
    k->pubkey = pk;
    *id = st->n_keys;
    if (ed)
        tcn_state_table_put(&st->accounts, &pk, TCN_STATE_TAG_KEY | *id);
    return TCN_OK;
}

/* POLICY_SET (an operator, or the key's owner): replaces a key's policy. It
 * governs intents from then on; payouts already scheduled are checked
 * against it again when their intent is proposed. The owner may only
 * tighten it: a policy is there to bound what a stolen or misused client
 * key can get paid, so the key's owner alone cannot lift it (an operator
 * can). */
int tcn_state_apply_policy_set(tcn_state *st, const tcn_cmd *c, uint64_t *id, tcn_error *err)
{
    (void)id;
    uint64_t key_id = c->u.policy_set.key_id;
    const tcn_key_policy *pol = &c->u.policy_set.policy;
    TCN_GUARD(tcn_state_need_role(st, c, ~TCN_STATE_ROLE_BIT(TCN_ROLE_NONE), err));
    tcn_state_key_rec *k = tcn_state_key_get(st, key_id);
    TCN_ENSURE(k != NULL, err, TCN_ERR_USAGE, "key_id: %llu: no such key", (unsigned long long)key_id);
    TCN_ENSURE(tcn_state_client_role(st, &c->actor) == TCN_ROLE_OPERATOR || tcn_chain_pubkey_eq(&c->actor, &k->owner),
               err, TCN_ERR_USAGE, "actor: neither an operator nor the owner of key %llu", (unsigned long long)key_id);
    TCN_GUARD(tcn_state_policy_validate(pol, err));
    TCN_ENSURE(tcn_state_client_role(st, &c->actor) == TCN_ROLE_OPERATOR ||
                   tcn_state_policy_within(pol, tcn_state_key_policy(k)),
               err, TCN_ERR_POLICY,
               "policy: the owner of key %llu may only tighten its policy (a destination, limit or window beyond "
               "the current one needs an operator)",
               (unsigned long long)key_id);
    tcn_key_policy *copy;
    if (tcn_state_policy_dup(pol, &copy) != TCN_OK)
        return TCN_ERR_NOMEM;
    free(k->policy);
    k->policy = copy;
    return TCN_OK;
}

/* MEMBER_SET (network): records, replaces (same node id) or, with role NONE,
 * removes a member; kept sorted by node id, at most TCN_STATE_MEMBERS_MAX. */
int tcn_state_apply_member_set(tcn_state *st, const tcn_cmd *c, uint64_t *id, tcn_error *err)
{
    (void)id;
    uint64_t node = c->u.member_set.node_id;
    TCN_GUARD(tcn_state_need_network(c, err));
    TCN_ENSURE(node != 0, err, TCN_ERR_USAGE, "node_id: zero");
    size_t i = 0;
    while (i < st->n_members && st->members[i].node_id < node)
        i++;
    bool found = i < st->n_members && st->members[i].node_id == node;
    if (c->u.member_set.role == TCN_ROLE_NONE) {
        TCN_ENSURE(found, err, TCN_ERR_USAGE, "node_id: %llu is not a member", (unsigned long long)node);
        memmove(&st->members[i], &st->members[i + 1], (st->n_members - i - 1) * sizeof(st->members[0]));
        st->n_members--;
        memset(&st->members[st->n_members], 0, sizeof(st->members[0]));
        return TCN_OK;
    }
    TCN_ENSURE(c->u.member_set.address[0] != '\0', err, TCN_ERR_USAGE, "address: empty");
    if (!found) {
        TCN_ENSURE(st->n_members < TCN_STATE_MEMBERS_MAX, err, TCN_ERR_USAGE,
                   "node_id: already %u members, the maximum", TCN_STATE_MEMBERS_MAX);
        memmove(&st->members[i + 1], &st->members[i], (st->n_members - i) * sizeof(st->members[0]));
        st->n_members++;
    }
    tcn_state_member_rec *m = &st->members[i];
    memset(m, 0, sizeof(*m));
    m->node_id = node;
    memcpy(m->measurement, c->u.member_set.measurement, sizeof(m->measurement));
    memcpy(m->address, c->u.member_set.address, sizeof(m->address));
    return TCN_OK;
}
