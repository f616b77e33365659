/* Limits of the state machine, in one place. */
#ifndef TCN_STATE_LIMITS_H
#define TCN_STATE_LIMITS_H

#define TCN_STATE_GROUP_ID_LEN 16u
#define TCN_STATE_SHARE_BYTES_MAX 64u
#define TCN_STATE_MEASUREMENT_LEN 48u
#define TCN_STATE_ADDRESS_MAX 63u
#define TCN_STATE_REASON_MAX 192u
#define TCN_POLICY_DESTINATIONS_MAX 8u
#define TCN_POLICY_WINDOWS_MAX 4u
#define TCN_STATE_SWAP_PAYOUTS_MAX 64u   /* scheduled payouts per swap */
#define TCN_STATE_MEMBERS_MAX 16u
#define TCN_STATE_SNAPSHOT_VERSION 1u

#endif
