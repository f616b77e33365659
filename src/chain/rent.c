/* Rent-exempt minimum and rent-state transitions (solana-rent; Agave
 * svm-rent-collector rent_state.rs). */
#include "chain/rent.h"

#include "chain/limits.h"
#include "util/assert.h"

uint64_t tcn_chain_rent_minimum_balance(uint64_t data_len)
{
    TCN_ASSERT(data_len <= TCN_CHAIN_ACCOUNT_DATA_MAX);
    /* Solana computes ((overhead + len) * per_byte_year) as f64 * threshold;
     * with the default threshold 2.0 the product is exact in integers. */
    return (TCN_CHAIN_RENT_ACCOUNT_STORAGE_OVERHEAD + data_len) * TCN_CHAIN_RENT_LAMPORTS_PER_BYTE_YEAR *
           TCN_CHAIN_RENT_EXEMPTION_THRESHOLD;
}

tcn_chain_rent_state tcn_chain_rent_state_of(uint64_t lamports, uint64_t data_len)
{
    if (lamports == 0)
        return TCN_CHAIN_RENT_UNINITIALIZED;
    if (lamports >= tcn_chain_rent_minimum_balance(data_len))
        return TCN_CHAIN_RENT_EXEMPT;
    return TCN_CHAIN_RENT_PAYING;
}

bool tcn_chain_rent_transition_allowed(uint64_t pre_lamports, uint64_t pre_len, uint64_t post_lamports,
                                       uint64_t post_len)
{
    if (tcn_chain_rent_state_of(post_lamports, post_len) != TCN_CHAIN_RENT_PAYING)
        return true;
    if (tcn_chain_rent_state_of(pre_lamports, pre_len) != TCN_CHAIN_RENT_PAYING)
        return false;
    return post_len == pre_len && post_lamports <= pre_lamports;
}
