/* Every limit of the client API (api.h, reqsig.h, docs/API.md), named, in one
 * place. Included by node/limits.h; includes nothing. */
#ifndef TCN_NODE_API_LIMITS_H
#define TCN_NODE_API_LIMITS_H


/* A signed request's timestamp may differ from the node's clock by at most
 * this much; the replay cache holds each signature for as long. */
#define TCN_API_REQUEST_SKEW_MS 30000u
/* How far apart the members' clocks may be for the replay guard (api.h
 * leader_since_ms): a previous leader accepted timestamps up to the skew
 * ahead of its own clock, which may run this much ahead of ours. */
#define TCN_API_CLOCK_SPREAD_MS 5000u
/* Signatures remembered at once. Only keys that hold a role reach the cache
 * (anyone may make valid signatures with a fresh key), so filling it takes
 * authorised clients sending ~35,000 writes a second for the whole window;
 * when full, new writes are refused (503) rather than a signature forgotten
 * early. (65,536 capped a node at 2,184 signed writes a second.) */
#define TCN_API_REPLAY_ENTRIES_MAX (1u << 20)
/* Request bodies (a key import with a 64-byte share and a full policy is
 * under 2 KiB) and headers. evhttp answers 413 above the body limit. */
#define TCN_API_BODY_MAX (64u * 1024u)
#define TCN_API_HEADERS_MAX (16u * 1024u)
/* Concurrent client connections; more are refused in the TLS handshake. */
#define TCN_API_CONNECTIONS_MAX 256u
/* A connection that sends or takes nothing for this long is closed
 * (evhttp's read/write timeouts are idle timeouts, reset by each byte). */
#define TCN_API_IO_TIMEOUT_S 10
/* A POST /v1/swaps waits this long for the swap to be OPEN with a refund
 * before answering 202 (the client then polls GET /v1/swaps/{id}). */
#define TCN_API_SWAP_WAIT_MS 15000u
/* Requests waiting for a proposal or for a swap to open, at once. */
#define TCN_API_PENDING_MAX 1024u
/* A swap created without a deadline may pay out for this long. */
#define TCN_API_DEFAULT_DEADLINE_MS (7ull * 86400000ull)
/* Status: members listed (TCN_STATE_MEMBERS_MAX in state/limits.h). */
#define TCN_API_MEMBERS_MAX 16u
#define TCN_API_ROLE_CHARS_MAX 15u
/* Redirect hops a client follows before giving up. */
#define TCN_API_REDIRECTS_MAX 5u
/* Request signing headers. */
#define TCN_REQSIG_HEADER_KEY "X-Tcn-Key"
#define TCN_REQSIG_HEADER_TS "X-Tcn-Timestamp"
#define TCN_REQSIG_HEADER_SIG "X-Tcn-Signature"
#define TCN_REQSIG_DOMAIN "tcn-request-v1"
/* A timestamp in decimal milliseconds: at most 20 digits. */
#define TCN_REQSIG_TS_CHARS_MAX 20u


/* Mirrors of node/limits.h's TCN_NODE_NAME_CHARS_MAX and
 * TCN_NODE_ADDR_CHARS_MAX (reqsig.c asserts they agree). */
#define TCN_API_NAME_CHARS_MAX 63u
#define TCN_API_ADDR_CHARS_MAX 261u

#endif
