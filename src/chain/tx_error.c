/* Names and formatting of transaction outcomes. */
#include "chain/tx_error.h"

#include <stdio.h>
#include <string.h>

static const char *const TXERR_NAMES[TCN_CHAIN_TXERR_COUNT_] = {
    [TCN_CHAIN_TX_OK] = "Ok",
    [TCN_CHAIN_TXERR_ACCOUNT_NOT_FOUND] = "AccountNotFound",
    [TCN_CHAIN_TXERR_PROGRAM_ACCOUNT_NOT_FOUND] = "ProgramAccountNotFound",
    [TCN_CHAIN_TXERR_INSUFFICIENT_FUNDS_FOR_FEE] = "InsufficientFundsForFee",
    [TCN_CHAIN_TXERR_INVALID_ACCOUNT_FOR_FEE] = "InvalidAccountForFee",
    [TCN_CHAIN_TXERR_ALREADY_PROCESSED] = "AlreadyProcessed",
    [TCN_CHAIN_TXERR_BLOCKHASH_NOT_FOUND] = "BlockhashNotFound",
    [TCN_CHAIN_TXERR_INSTRUCTION_ERROR] = "InstructionError",
    [TCN_CHAIN_TXERR_SIGNATURE_FAILURE] = "SignatureFailure",
    [TCN_CHAIN_TXERR_INVALID_PROGRAM_FOR_EXECUTION] = "InvalidProgramForExecution",
    [TCN_CHAIN_TXERR_SANITIZE_FAILURE] = "SanitizeFailure",
    [TCN_CHAIN_TXERR_UNSUPPORTED_VERSION] = "UnsupportedVersion",
    [TCN_CHAIN_TXERR_INSUFFICIENT_FUNDS_FOR_RENT] = "InsufficientFundsForRent",
    [TCN_CHAIN_TXERR_OTHER] = "Other",
};

static const char *const IXERR_NAMES[TCN_CHAIN_IXERR_COUNT_] = {
    [TCN_CHAIN_IXERR_NONE] = "None",
    [TCN_CHAIN_IXERR_INVALID_ARGUMENT] = "InvalidArgument",
    [TCN_CHAIN_IXERR_INVALID_INSTRUCTION_DATA] = "InvalidInstructionData",
    [TCN_CHAIN_IXERR_INVALID_ACCOUNT_DATA] = "InvalidAccountData",
    [TCN_CHAIN_IXERR_ACCOUNT_DATA_TOO_SMALL] = "AccountDataTooSmall",
    [TCN_CHAIN_IXERR_INSUFFICIENT_FUNDS] = "InsufficientFunds",
    [TCN_CHAIN_IXERR_MISSING_REQUIRED_SIGNATURE] = "MissingRequiredSignature",
    [TCN_CHAIN_IXERR_MODIFIED_PROGRAM_ID] = "ModifiedProgramId",
    [TCN_CHAIN_IXERR_EXTERNAL_ACCOUNT_LAMPORT_SPEND] = "ExternalAccountLamportSpend",
    [TCN_CHAIN_IXERR_EXTERNAL_ACCOUNT_DATA_MODIFIED] = "ExternalAccountDataModified",
    [TCN_CHAIN_IXERR_READONLY_LAMPORT_CHANGE] = "ReadonlyLamportChange",
    [TCN_CHAIN_IXERR_READONLY_DATA_MODIFIED] = "ReadonlyDataModified",
    [TCN_CHAIN_IXERR_NOT_ENOUGH_ACCOUNT_KEYS] = "NotEnoughAccountKeys",
    [TCN_CHAIN_IXERR_ACCOUNT_DATA_SIZE_CHANGED] = "AccountDataSizeChanged",
    [TCN_CHAIN_IXERR_ARITHMETIC_OVERFLOW] = "ArithmeticOverflow",
    [TCN_CHAIN_IXERR_CUSTOM] = "Custom",
    [TCN_CHAIN_IXERR_OTHER] = "Other",
};

static const char *const SYSERR_NAMES[] = {
    "AccountAlreadyInUse",     "ResultWithNegativeLamports", "InvalidProgramId",
    "InvalidAccountDataLength", "MaxSeedLengthExceeded",     "AddressWithSeedMismatch",
    "NonceNoRecentBlockhashes", "NonceBlockhashNotExpired",  "NonceUnexpectedBlockhashValue",
};

const char *tcn_chain_txerr_name(tcn_chain_txerr kind)
{
    return (unsigned)kind < TCN_CHAIN_TXERR_COUNT_ ? TXERR_NAMES[kind] : "unknown";
}

tcn_chain_txerr tcn_chain_txerr_from_name(const char *name)
{
    for (int k = TCN_CHAIN_TXERR_ACCOUNT_NOT_FOUND; k < TCN_CHAIN_TXERR_OTHER; k++)
        if (strcmp(name, TXERR_NAMES[k]) == 0)
            return (tcn_chain_txerr)k;
    return TCN_CHAIN_TXERR_OTHER;
}

tcn_chain_ixerr tcn_chain_ixerr_from_name(const char *name)
{
    for (int k = TCN_CHAIN_IXERR_INVALID_ARGUMENT; k < TCN_CHAIN_IXERR_OTHER; k++)
        if (strcmp(name, IXERR_NAMES[k]) == 0)
            return (tcn_chain_ixerr)k;
    return TCN_CHAIN_IXERR_OTHER;
}

const char *tcn_chain_ixerr_name(tcn_chain_ixerr kind)
{
    return (unsigned)kind < TCN_CHAIN_IXERR_COUNT_ ? IXERR_NAMES[kind] : "unknown";
}

const char *tcn_chain_syserr_name(uint32_t code)
{
    return code < sizeof(SYSERR_NAMES) / sizeof(SYSERR_NAMES[0]) ? SYSERR_NAMES[code] : "unknown";
}

char *tcn_chain_tx_error_format(const tcn_chain_tx_error *e, char *out, size_t cap)
{
    switch (e->kind) {
    case TCN_CHAIN_TXERR_INSTRUCTION_ERROR:
        if (e->ix == TCN_CHAIN_IXERR_CUSTOM)
            snprintf(out, cap, "InstructionError(%u, Custom(%u))", e->index, e->custom);
        else
            snprintf(out, cap, "InstructionError(%u, %s)", e->index, tcn_chain_ixerr_name(e->ix));
        break;
    case TCN_CHAIN_TXERR_INSUFFICIENT_FUNDS_FOR_RENT:
        snprintf(out, cap, "InsufficientFundsForRent { account_index: %u }", e->index);
        break;
    default:
        snprintf(out, cap, "%s", tcn_chain_txerr_name(e->kind));
        break;
    }
    return out;
}

bool tcn_chain_tx_error_eq(const tcn_chain_tx_error *a, const tcn_chain_tx_error *b)
{
    if (a->kind != b->kind)
        return false;
    if (a->kind == TCN_CHAIN_TXERR_INSUFFICIENT_FUNDS_FOR_RENT)
        return a->index == b->index;
    if (a->kind == TCN_CHAIN_TXERR_INSTRUCTION_ERROR)
        return a->index == b->index && a->ix == b->ix && (a->ix != TCN_CHAIN_IXERR_CUSTOM || a->custom == b->custom);
    return true;
}
