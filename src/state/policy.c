/* Key policies (DESIGN §7): validation, and the destination, window and per-day rules apply enforces. */
#include <stdlib.h>
#include <string.h>

#include "state/internal.h"
#include "util/assert.h"

bool tcn_state_policy_is_empty(const tcn_key_policy *p)
{
    return p->n_destinations == 0 && p->max_per_payout == 0 && p->max_per_day == 0 && p->n_windows == 0;
}

/* Well formed: counts within the limits, no zero or repeated destination,
 * each window [start, end) within the day's minutes 0..1439 and not empty
 * (start == end would be ambiguous: nothing, or the whole day). */
int tcn_state_policy_validate(const tcn_key_policy *p, tcn_error *err)
{
    static const tcn_chain_pubkey zero;
    TCN_ENSURE(p->n_destinations <= TCN_POLICY_DESTINATIONS_MAX, err, TCN_ERR_USAGE,
               "policy: n_destinations: %u exceeds %u", p->n_destinations, TCN_POLICY_DESTINATIONS_MAX);
    TCN_ENSURE(p->n_windows <= TCN_POLICY_WINDOWS_MAX, err, TCN_ERR_USAGE, "policy: n_windows: %u exceeds %u",
               p->n_windows, TCN_POLICY_WINDOWS_MAX);
    for (unsigned i = 0; i < p->n_destinations; i++) {
        TCN_ENSURE(!tcn_chain_pubkey_eq(&p->destinations[i], &zero), err, TCN_ERR_USAGE,
                   "policy: destinations[%u]: the zero key", i);
        for (unsigned j = 0; j < i; j++)
            TCN_ENSURE(!tcn_chain_pubkey_eq(&p->destinations[i], &p->destinations[j]), err, TCN_ERR_USAGE,
                       "policy: destinations[%u]: repeats destinations[%u]", i, j);
    }
    for (unsigned i = 0; i < p->n_windows; i++) {
        unsigned s = p->windows[i].start_min, e = p->windows[i].end_min;
        TCN_ENSURE(s < TCN_STATE_MINUTES_PER_DAY, err, TCN_ERR_USAGE, "policy: windows[%u].start_min: %u above 1439",
                   i, s);
        TCN_ENSURE(e < TCN_STATE_MINUTES_PER_DAY, err, TCN_ERR_USAGE, "policy: windows[%u].end_min: %u above 1439", i,
                   e);
        TCN_ENSURE(s != e, err, TCN_ERR_USAGE, "policy: windows[%u]: start_min equals end_min (%u)", i, s);
    }
    return TCN_OK;
}

bool tcn_state_policy_allows_destination(const tcn_key_policy *p, const tcn_chain_pubkey *dest)
{
    if (p->n_destinations == 0)
        return true;
    for (unsigned i = 0; i < p->n_destinations; i++)
        if (tcn_chain_pubkey_eq(&p->destinations[i], dest))
            return true;
    return false;
}

bool tcn_state_policy_in_window(const tcn_key_policy *p, uint64_t ts_ms)
{
    if (p->n_windows == 0)
        return true;
    unsigned m = (unsigned)((ts_ms / TCN_STATE_MS_PER_MINUTE) % TCN_STATE_MINUTES_PER_DAY);
    for (unsigned i = 0; i < p->n_windows; i++) {
        unsigned s = p->windows[i].start_min, e = p->windows[i].end_min;
        bool in = s < e ? (m >= s && m < e) : (m >= s || m < e); /* start > end wraps midnight */
        if (in)
            return true;
    }
    return false;
}

/* Whether every payout `tight` allows, `loose` allows too: destinations a
 * subset (no list = any destination), limits no higher (0 = no limit), every
 * allowed minute of the day inside loose's windows. */
bool tcn_state_policy_within(const tcn_key_policy *tight, const tcn_key_policy *loose)
{
    if (loose->n_destinations > 0) {
        if (tight->n_destinations == 0)
            return false;
        for (unsigned i = 0; i < tight->n_destinations; i++) {
            bool found = false;
            for (unsigned k = 0; k < loose->n_destinations && !found; k++)
                found = tcn_chain_pubkey_eq(&tight->destinations[i], &loose->destinations[k]);
            if (!found)
                return false;
        }
    }
    if (loose->max_per_payout != 0 && (tight->max_per_payout == 0 || tight->max_per_payout > loose->max_per_payout))
        return false;
    if (loose->max_per_day != 0 && (tight->max_per_day == 0 || tight->max_per_day > loose->max_per_day))
        return false;
    for (uint64_t m = 0; m < TCN_STATE_MINUTES_PER_DAY; m++) {
        uint64_t t = m * TCN_STATE_MS_PER_MINUTE;
        if (tcn_state_policy_in_window(tight, t) && !tcn_state_policy_in_window(loose, t))
            return false;
    }
    return true;
}

/* The per-day total keeps one day: the latest UTC day an intent counted in.
 * Leaders' clocks differ, so an intent may carry a ts_ms whose day is before
 * that one; it then counts against the later day (never under-counts: the
 * earlier day's own total is no longer known, and it can only be smaller). */
uint64_t tcn_state_key_spent(const tcn_state_key_rec *k, uint64_t ts_ms)
{
    uint64_t day = ts_ms / TCN_STATE_MS_PER_DAY;
    return day <= k->day ? k->day_spent : 0;
}

void tcn_state_key_spend(tcn_state_key_rec *k, uint64_t ts_ms, uint64_t amount)
{
    uint64_t day = ts_ms / TCN_STATE_MS_PER_DAY;
    if (day > k->day) {
        k->day = day;
        k->day_spent = 0;
    }
    /* The check before it bounds the sum (amount <= max - spent) or there is
     * no limit; saturate rather than wrap in that case. */
    k->day_spent = amount > UINT64_MAX - k->day_spent ? UINT64_MAX : k->day_spent + amount;
}

int tcn_state_policy_dup(const tcn_key_policy *p, tcn_key_policy **out)
{
    *out = NULL;
    if (tcn_state_policy_is_empty(p))
        return TCN_OK;
    tcn_key_policy *copy = calloc(1, sizeof(*copy));
    if (copy == NULL)
        return TCN_ERR_NOMEM;
    /* Canonical copy: entries beyond the counts stay zero, so snapshots and
     * views never depend on what a command left there. */
    copy->n_destinations = p->n_destinations;
    memcpy(copy->destinations, p->destinations, p->n_destinations * sizeof(p->destinations[0]));
    copy->max_per_payout = p->max_per_payout;
    copy->max_per_day = p->max_per_day;
    copy->n_windows = p->n_windows;
    memcpy(copy->windows, p->windows, p->n_windows * sizeof(p->windows[0]));
    *out = copy;
    return TCN_OK;
}
