/* Rent: the rent-exempt minimum and the account rent-state transitions the runtime allows. */
#ifndef TCN_CHAIN_RENT_H
#define TCN_CHAIN_RENT_H

#include <stdbool.h>
#include <stdint.h>

/* solana-rent Rent::minimum_balance with the default parameters:
 * (128 + data_len) * 3480 * 2 — 890,880 lamports for 0 bytes, 1,447,680 for
 * an 80-byte nonce account. data_len <= TCN_CHAIN_ACCOUNT_DATA_MAX. */
uint64_t tcn_chain_rent_minimum_balance(uint64_t data_len);

/* Agave svm-rent-collector RentState. */
typedef enum {
    TCN_CHAIN_RENT_UNINITIALIZED, /* 0 lamports */
    TCN_CHAIN_RENT_PAYING,        /* above 0, below the minimum */
    TCN_CHAIN_RENT_EXEMPT,        /* at least the minimum */
} tcn_chain_rent_state;

tcn_chain_rent_state tcn_chain_rent_state_of(uint64_t lamports, uint64_t data_len);
/* RentState::transition_allowed: an account may end uninitialized or exempt;
 * it may end rent-paying only if it was rent-paying before, with the same
 * data size and no more lamports than before. */
bool tcn_chain_rent_transition_allowed(uint64_t pre_lamports, uint64_t pre_len, uint64_t post_lamports,
                                       uint64_t post_len);

#endif
