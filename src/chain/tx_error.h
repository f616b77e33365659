/* Transaction outcomes named as Solana names them (solana-transaction-error
 * TransactionError, solana-instruction InstructionError, SystemError). */
#ifndef TCN_CHAIN_TX_ERROR_H
#define TCN_CHAIN_TX_ERROR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* TransactionError variants the model produces (plus OK). */
typedef enum {
    TCN_CHAIN_TX_OK = 0,
    TCN_CHAIN_TXERR_ACCOUNT_NOT_FOUND,
    TCN_CHAIN_TXERR_PROGRAM_ACCOUNT_NOT_FOUND,
    TCN_CHAIN_TXERR_INSUFFICIENT_FUNDS_FOR_FEE,
    TCN_CHAIN_TXERR_INVALID_ACCOUNT_FOR_FEE,
    TCN_CHAIN_TXERR_ALREADY_PROCESSED,
    TCN_CHAIN_TXERR_BLOCKHASH_NOT_FOUND,
    TCN_CHAIN_TXERR_INSTRUCTION_ERROR, /* (index, tcn_chain_ixerr) */
    TCN_CHAIN_TXERR_SIGNATURE_FAILURE,
    TCN_CHAIN_TXERR_INVALID_PROGRAM_FOR_EXECUTION,
    TCN_CHAIN_TXERR_SANITIZE_FAILURE,
    TCN_CHAIN_TXERR_UNSUPPORTED_VERSION,
    TCN_CHAIN_TXERR_INSUFFICIENT_FUNDS_FOR_RENT, /* { account_index } */
    TCN_CHAIN_TXERR_OTHER, /* a variant the model never produces, read from an RPC answer */
    TCN_CHAIN_TXERR_COUNT_
} tcn_chain_txerr;

/* InstructionError variants the System program and the runtime's account
 * checks produce here. */
typedef enum {
    TCN_CHAIN_IXERR_NONE = 0,
    TCN_CHAIN_IXERR_INVALID_ARGUMENT,
    TCN_CHAIN_IXERR_INVALID_INSTRUCTION_DATA,
    TCN_CHAIN_IXERR_INVALID_ACCOUNT_DATA,
    TCN_CHAIN_IXERR_ACCOUNT_DATA_TOO_SMALL,
    TCN_CHAIN_IXERR_INSUFFICIENT_FUNDS,
    TCN_CHAIN_IXERR_MISSING_REQUIRED_SIGNATURE,
    TCN_CHAIN_IXERR_MODIFIED_PROGRAM_ID,
    TCN_CHAIN_IXERR_EXTERNAL_ACCOUNT_LAMPORT_SPEND,
    TCN_CHAIN_IXERR_EXTERNAL_ACCOUNT_DATA_MODIFIED,
    TCN_CHAIN_IXERR_READONLY_LAMPORT_CHANGE,
    TCN_CHAIN_IXERR_READONLY_DATA_MODIFIED,
    TCN_CHAIN_IXERR_NOT_ENOUGH_ACCOUNT_KEYS,
    TCN_CHAIN_IXERR_ACCOUNT_DATA_SIZE_CHANGED,
    TCN_CHAIN_IXERR_ARITHMETIC_OVERFLOW,
    TCN_CHAIN_IXERR_CUSTOM, /* a program's own code: SystemError for the System program */
    TCN_CHAIN_IXERR_OTHER,  /* a variant the model never produces, read from an RPC answer */
    TCN_CHAIN_IXERR_COUNT_
} tcn_chain_ixerr;

/* solana-system-interface SystemError: the Custom codes of the System program. */
typedef enum {
    TCN_CHAIN_SYSERR_ACCOUNT_ALREADY_IN_USE = 0,
    TCN_CHAIN_SYSERR_RESULT_WITH_NEGATIVE_LAMPORTS = 1,
    TCN_CHAIN_SYSERR_INVALID_PROGRAM_ID = 2,
    TCN_CHAIN_SYSERR_INVALID_ACCOUNT_DATA_LENGTH = 3,
    TCN_CHAIN_SYSERR_MAX_SEED_LENGTH_EXCEEDED = 4,
    TCN_CHAIN_SYSERR_ADDRESS_WITH_SEED_MISMATCH = 5,
    TCN_CHAIN_SYSERR_NONCE_NO_RECENT_BLOCKHASHES = 6,
    TCN_CHAIN_SYSERR_NONCE_BLOCKHASH_NOT_EXPIRED = 7,
    TCN_CHAIN_SYSERR_NONCE_UNEXPECTED_BLOCKHASH_VALUE = 8,
} tcn_chain_syserr;

/* One outcome; a plain value. */
typedef struct tcn_chain_tx_error {
    tcn_chain_txerr kind;
    uint8_t index;      /* InstructionError: the instruction; InsufficientFundsForRent: the account */
    tcn_chain_ixerr ix; /* InstructionError only */
    uint32_t custom;    /* InstructionError(_, Custom) only */
} tcn_chain_tx_error;

/* "BlockhashNotFound", "InstructionError", ... */
const char *tcn_chain_txerr_name(tcn_chain_txerr kind);
/* The kind of a name (TCN_CHAIN_TXERR_OTHER for an unknown one). */
tcn_chain_txerr tcn_chain_txerr_from_name(const char *name);
tcn_chain_ixerr tcn_chain_ixerr_from_name(const char *name);
/* "InvalidArgument", "Custom", ... */
const char *tcn_chain_ixerr_name(tcn_chain_ixerr kind);
/* "AccountAlreadyInUse", ... or "unknown". */
const char *tcn_chain_syserr_name(uint32_t code);
/* Formats as Rust's Debug does: "Ok", "BlockhashNotFound",
 * "InstructionError(1, Custom(1))", "InsufficientFundsForRent { account_index: 2 }".
 * Returns out. */
char *tcn_chain_tx_error_format(const tcn_chain_tx_error *e, char *out, size_t cap);
bool tcn_chain_tx_error_eq(const tcn_chain_tx_error *a, const tcn_chain_tx_error *b);

#endif
