/* Re-attestation over the live channel: fresh evidence for the same TLS key,
 * answering the verifier's challenge, and its verification. */
#include <string.h>

#include "tls/ratls_internal.h"
#include "util/assert.h"
#include "util/timefmt.h"

int tcn_ratls_fresh_evidence(tcn_ratls_identity *id, const uint8_t challenge[TCN_RATLS_CHALLENGE_LEN], tcn_buf *out,
                             tcn_error *err)
{
    bool group = id->group_present;
    return tcn_ratls_identity_attest(id, challenge, TCN_RATLS_CHALLENGE_LEN, &group, id->group_id, out, NULL, err);
}

int tcn_ratls_verify_fresh(const uint8_t *blob, size_t len, const tcn_ratls_policy *pol, const tcn_ratls_peer *channel,
                           const uint8_t challenge[TCN_RATLS_CHALLENGE_LEN], tcn_ratls_peer *out, tcn_error *err)
{
    TCN_ASSERT(pol != NULL && channel != NULL && out != NULL && out != channel);
    memset(out, 0, sizeof(*out));
    if (channel->reason != TCN_RATLS_OK || channel->spki_len == 0)
        return tcn_ratls_refuse(out, TCN_RATLS_PEER_KEY, err, TCN_ERR_USAGE,
                                "fresh evidence: the channel has no verified peer to re-attest");
    int64_t now = pol->now_ms != 0 ? pol->now_ms : tcn_time_now_ms();
    int rc = tcn_ratls_verify_ext(blob, len, channel->spki, channel->spki_len, pol, now, challenge,
                                  TCN_RATLS_CHALLENGE_LEN, TCN_RATLS_PEER_KEY, out, err);
    TCN_ASSERT((rc == TCN_OK) == (out->reason == TCN_RATLS_OK));
    return rc;
}
