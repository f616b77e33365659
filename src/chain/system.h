/* System program instructions (bincode, as solana-system-interface
 * SystemInstruction): builders and a strict decoder for the subset we use. */
#ifndef TCN_CHAIN_SYSTEM_H
#define TCN_CHAIN_SYSTEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chain/message.h"
#include "chain/types.h"
#include "util/err.h"

/* bincode enum discriminants (u32 little endian) of SystemInstruction. */
typedef enum {
    TCN_CHAIN_SYS_CREATE_ACCOUNT = 0,
    TCN_CHAIN_SYS_ASSIGN = 1,
    TCN_CHAIN_SYS_TRANSFER = 2,
    TCN_CHAIN_SYS_CREATE_ACCOUNT_WITH_SEED = 3,
    TCN_CHAIN_SYS_ADVANCE_NONCE_ACCOUNT = 4,
    TCN_CHAIN_SYS_WITHDRAW_NONCE_ACCOUNT = 5,
    TCN_CHAIN_SYS_INITIALIZE_NONCE_ACCOUNT = 6,
    TCN_CHAIN_SYS_AUTHORIZE_NONCE_ACCOUNT = 7,
    TCN_CHAIN_SYS_ALLOCATE = 8,
    TCN_CHAIN_SYS_ALLOCATE_WITH_SEED = 9,
    TCN_CHAIN_SYS_ASSIGN_WITH_SEED = 10,
    TCN_CHAIN_SYS_TRANSFER_WITH_SEED = 11,
    TCN_CHAIN_SYS_UPGRADE_NONCE_ACCOUNT = 12,
} tcn_chain_system_kind;

/* Serialized sizes: discriminant + fields. */
#define TCN_CHAIN_SYS_CREATE_ACCOUNT_BYTES 52u /* u32, lamports u64, space u64, owner 32 */
#define TCN_CHAIN_SYS_TRANSFER_BYTES 12u       /* u32, lamports u64 */
#define TCN_CHAIN_SYS_ADVANCE_NONCE_BYTES 4u   /* u32 */
#define TCN_CHAIN_SYS_INITIALIZE_NONCE_BYTES 36u /* u32, authority 32 */

/* Builders (accounts as solana-system-interface documents them):
 *   CreateAccount: [writable signer] funder, [writable signer] new account
 *   Transfer: [writable signer] from, [writable] to
 *   AdvanceNonceAccount: [writable] nonce, [] RecentBlockhashes sysvar, [signer] authority
 *   InitializeNonceAccount: [writable] nonce, [] RecentBlockhashes sysvar, [] Rent sysvar */
void tcn_chain_system_create_account(tcn_chain_ix *out, const tcn_chain_pubkey *from, const tcn_chain_pubkey *to,
                                     uint64_t lamports, uint64_t space, const tcn_chain_pubkey *owner);
void tcn_chain_system_transfer(tcn_chain_ix *out, const tcn_chain_pubkey *from, const tcn_chain_pubkey *to,
                               uint64_t lamports);
void tcn_chain_system_advance_nonce(tcn_chain_ix *out, const tcn_chain_pubkey *nonce,
                                    const tcn_chain_pubkey *authority);
void tcn_chain_system_initialize_nonce(tcn_chain_ix *out, const tcn_chain_pubkey *nonce,
                                       const tcn_chain_pubkey *authority);

/* One decoded instruction of the supported subset. */
typedef struct tcn_chain_system_ix {
    uint32_t kind;
    uint64_t lamports;          /* CreateAccount, Transfer */
    uint64_t space;             /* CreateAccount */
    tcn_chain_pubkey owner;     /* CreateAccount */
    tcn_chain_pubkey authority; /* InitializeNonceAccount */
} tcn_chain_system_ix;

/* Decodes instruction data. Strict by default: exactly the serialized size
 * of CreateAccount, Transfer, AdvanceNonceAccount or InitializeNonceAccount;
 * any other discriminant is TCN_ERR_UNSUPPORTED (a known System instruction
 * we do not handle) or TCN_ERR_MALFORMED (unknown). With allow_trailing,
 * bytes after the fields are ignored, as the runtime's bincode
 * limited_deserialize does (solana-bincode: allow_trailing_bytes); the
 * chain model uses that mode to behave as the System program does. */
int tcn_chain_system_decode(const uint8_t *data, size_t len, bool allow_trailing, tcn_chain_system_ix *out,
                            tcn_error *err) TCN_MUST_CHECK;
/* "CreateAccount", "Transfer", ... or "unknown". */
const char *tcn_chain_system_kind_name(uint32_t kind);

#endif
