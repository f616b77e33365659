/* System program instruction builders and decoder (solana-system-interface
 * instruction.rs: the enum order gives the u32 discriminants; bincode
 * encodes integers little endian with fixed width). */
#include "chain/system.h"

#include <string.h>

#include "util/assert.h"
#include "util/cursor.h"

static void put_u32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void put_u64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void meta(tcn_chain_ix *ix, const tcn_chain_pubkey *pk, bool signer, bool writable)
{
    TCN_ASSERT(ix->n_accounts < TCN_CHAIN_IX_ACCOUNTS_MAX);
    tcn_chain_account_meta *m = &ix->accounts[ix->n_accounts++];
    m->pubkey = *pk;
    m->is_signer = signer;
    m->is_writable = writable;
}

static void begin(tcn_chain_ix *ix, uint32_t kind, uint16_t data_len)
{
    memset(ix, 0, sizeof(*ix));
    ix->program_id = tcn_chain_system_program_id;
    TCN_ASSERT(data_len <= TCN_CHAIN_IX_DATA_MAX);
    ix->data_len = data_len;
    put_u32(ix->data, kind);
}

void tcn_chain_system_create_account(tcn_chain_ix *out, const tcn_chain_pubkey *from, const tcn_chain_pubkey *to,
                                     uint64_t lamports, uint64_t space, const tcn_chain_pubkey *owner)
{
    begin(out, TCN_CHAIN_SYS_CREATE_ACCOUNT, TCN_CHAIN_SYS_CREATE_ACCOUNT_BYTES);
    put_u64(out->data + 4, lamports);
    put_u64(out->data + 12, space);
    memcpy(out->data + 20, owner->b, TCN_CHAIN_PUBKEY_LEN);
    meta(out, from, true, true);
    meta(out, to, true, true);
}

void tcn_chain_system_transfer(tcn_chain_ix *out, const tcn_chain_pubkey *from, const tcn_chain_pubkey *to,
                               uint64_t lamports)
{
    begin(out, TCN_CHAIN_SYS_TRANSFER, TCN_CHAIN_SYS_TRANSFER_BYTES);
    put_u64(out->data + 4, lamports);
    meta(out, from, true, true);
    meta(out, to, false, true);
}

void tcn_chain_system_advance_nonce(tcn_chain_ix *out, const tcn_chain_pubkey *nonce,
                                    const tcn_chain_pubkey *authority)
{
    begin(out, TCN_CHAIN_SYS_ADVANCE_NONCE_ACCOUNT, TCN_CHAIN_SYS_ADVANCE_NONCE_BYTES);
    meta(out, nonce, false, true);
    meta(out, &tcn_chain_sysvar_recent_blockhashes_id, false, false);
    meta(out, authority, true, false);
}

void tcn_chain_system_initialize_nonce(tcn_chain_ix *out, const tcn_chain_pubkey *nonce,
                                       const tcn_chain_pubkey *authority)
{
    begin(out, TCN_CHAIN_SYS_INITIALIZE_NONCE_ACCOUNT, TCN_CHAIN_SYS_INITIALIZE_NONCE_BYTES);
    memcpy(out->data + 4, authority->b, TCN_CHAIN_PUBKEY_LEN);
    meta(out, nonce, false, true);
    meta(out, &tcn_chain_sysvar_recent_blockhashes_id, false, false);
    meta(out, &tcn_chain_sysvar_rent_id, false, false);
}

const char *tcn_chain_system_kind_name(uint32_t kind)
{
    static const char *const names[] = {
        "CreateAccount",       "Assign",           "Transfer",       "CreateAccountWithSeed",
        "AdvanceNonceAccount", "WithdrawNonceAccount", "InitializeNonceAccount", "AuthorizeNonceAccount",
        "Allocate",            "AllocateWithSeed", "AssignWithSeed", "TransferWithSeed",
        "UpgradeNonceAccount",
    };
    return kind < sizeof(names) / sizeof(names[0]) ? names[kind] : "unknown";
}

int tcn_chain_system_decode(const uint8_t *data, size_t len, bool allow_trailing, tcn_chain_system_ix *out,
                            tcn_error *err)
{
    tcn_cursor c;
    uint32_t kind;
    memset(out, 0, sizeof(*out));
    tcn_cur_init(&c, data, len);
    TCN_ENSURE(tcn_cur_u32le(&c, &kind) == TCN_OK, err, TCN_ERR_TRUNCATED,
               "system instruction: discriminant: %zu bytes, need 4", len);
    out->kind = kind;
    const char *name = tcn_chain_system_kind_name(kind);
    switch (kind) {
    case TCN_CHAIN_SYS_CREATE_ACCOUNT:
        TCN_ENSURE(tcn_cur_u64le(&c, &out->lamports) == TCN_OK, err, TCN_ERR_TRUNCATED,
                   "system instruction CreateAccount: lamports: ends early");
        TCN_ENSURE(tcn_cur_u64le(&c, &out->space) == TCN_OK, err, TCN_ERR_TRUNCATED,
                   "system instruction CreateAccount: space: ends early");
        TCN_ENSURE(tcn_cur_copy(&c, out->owner.b, TCN_CHAIN_PUBKEY_LEN) == TCN_OK, err, TCN_ERR_TRUNCATED,
                   "system instruction CreateAccount: owner: ends early");
        break;
    case TCN_CHAIN_SYS_TRANSFER:
        TCN_ENSURE(tcn_cur_u64le(&c, &out->lamports) == TCN_OK, err, TCN_ERR_TRUNCATED,
                   "system instruction Transfer: lamports: ends early");
        break;
    case TCN_CHAIN_SYS_ADVANCE_NONCE_ACCOUNT:
        break;
    case TCN_CHAIN_SYS_INITIALIZE_NONCE_ACCOUNT:
        TCN_ENSURE(tcn_cur_copy(&c, out->authority.b, TCN_CHAIN_PUBKEY_LEN) == TCN_OK, err, TCN_ERR_TRUNCATED,
                   "system instruction InitializeNonceAccount: authority: ends early");
        break;
    default:
        if (kind <= TCN_CHAIN_SYS_UPGRADE_NONCE_ACCOUNT)
            return tcn_err_set(err, TCN_ERR_UNSUPPORTED, "system instruction: discriminant %u (%s) is not supported",
                               kind, name);
        return tcn_err_set(err, TCN_ERR_MALFORMED, "system instruction: discriminant %u is unknown", kind);
    }
    TCN_ENSURE(allow_trailing || tcn_cur_remaining(&c) == 0, err, TCN_ERR_MALFORMED,
               "system instruction %s: %zu trailing bytes", name, tcn_cur_remaining(&c));
    return TCN_OK;
}
