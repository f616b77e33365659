/* Peer frames: the typed messages nodes exchange inside their RA-TLS channel,
 * their strict codec, and an incremental decoder for a byte stream. */
#ifndef TCN_NODE_FRAME_H
#define TCN_NODE_FRAME_H

/*
 * Layout (version 1, docs/NODE.md). Integers are big-endian.
 *
 *   frame       magic:u8 ('T') version:u8 (1) type:u8 flags:u8 (0)
 *               length:u32be payload:length bytes
 *
 *   HELLO (1)               protocol_version:u16 (>= 1) node_id:u64 (!= 0)
 *                           group_id:16 bytes (all zero: not a member yet)
 *                           name_len:u8 name  (1..63 of [A-Za-z0-9._-])
 *                           api_len:u8 api    (1..63: IPv4:port or
 *                                              [IPv6]:port, canonical text)
 *                           peer_len:u8 peer  (the sender's peer listen
 *                                              address, same rules as api)
 *   RAFT (2)                one Raft codec message (raft/codec.h), 1 ..
 *                           TCN_FRAME_PAYLOAD_MAX bytes, opaque here
 *   REATTEST_CHALLENGE (3)  nonce:32 bytes
 *   REATTEST_EVIDENCE (4)   evidence blob, 1 .. TCN_FRAME_EVIDENCE_BYTES_MAX
 *                           bytes, opaque here (tls/ratls.h fresh evidence)
 *   PING (5), PONG (6)      nonce:u64 clock_ms:u64 (the sender's clock, for
 *                           the group clock of DESIGN §4 "Time"; a PONG
 *                           echoes the PING's nonce with its own clock)
 *   BYE (7)                 reason:u16 (a tcn_frame_bye_reason)
 *                           text_len:u8 text (0..127 printable ASCII)
 *
 * Each type's payload length is bounded (exactly, for fixed layouts) and
 * checked as soon as the header arrives, before any payload byte is read or
 * any memory is set aside for it. Payloads have no trailing bytes, so every
 * frame has exactly one encoding.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "node/limits.h"
#include "util/buf.h"
#include "util/err.h"

typedef enum {
    TCN_FRAME_HELLO = 1,
    TCN_FRAME_RAFT = 2,
    TCN_FRAME_REATTEST_CHALLENGE = 3,
    TCN_FRAME_REATTEST_EVIDENCE = 4,
    TCN_FRAME_PING = 5,
    TCN_FRAME_PONG = 6,
    TCN_FRAME_BYE = 7,
} tcn_frame_type;
#define TCN_FRAME_TYPE_MAX 7

/* Why a node closes a channel. */
typedef enum {
    TCN_FRAME_BYE_SHUTDOWN = 1,    /* the node is leaving (SIGTERM) */
    TCN_FRAME_BYE_PROTOCOL = 2,    /* a malformed or unexpected frame */
    TCN_FRAME_BYE_VERSION = 3,     /* a protocol version this node does not speak */
    TCN_FRAME_BYE_ATTESTATION = 4, /* re-attestation failed or the evidence aged out */
    TCN_FRAME_BYE_GROUP = 5,       /* another network's group id */
    TCN_FRAME_BYE_DUPLICATE = 6,   /* a channel with this node already exists */
    TCN_FRAME_BYE_REMOVED = 7,     /* the peer is not (or no longer) a member */
} tcn_frame_bye_reason;
#define TCN_FRAME_BYE_REASON_MAX 7

typedef struct tcn_frame_hello {
    uint16_t protocol_version;
    uint64_t node_id;
    uint8_t group_id[TCN_FRAME_GROUP_ID_BYTES];
    char name[TCN_FRAME_HELLO_NAME_BYTES_MAX + 1];    /* NUL-terminated */
    char api_addr[TCN_FRAME_HELLO_ADDR_BYTES_MAX + 1]; /* NUL-terminated */
    char peer_addr[TCN_FRAME_HELLO_ADDR_BYTES_MAX + 1]; /* NUL-terminated: where peers dial the sender */
} tcn_frame_hello;

/* Bytes the frame does not own: for a decoded frame they point into the
 * decoder's buffer or the caller's input (see tcn_frame_decoder_feed). */
typedef struct tcn_frame_bytes {
    const uint8_t *p;
    size_t len;
} tcn_frame_bytes;

typedef struct tcn_frame_ping {
    uint64_t nonce;
    uint64_t clock_ms;
} tcn_frame_ping;

typedef struct tcn_frame_bye {
    uint16_t reason;
    char text[TCN_FRAME_BYE_TEXT_BYTES_MAX + 1]; /* NUL-terminated */
} tcn_frame_bye;

typedef struct tcn_frame {
    tcn_frame_type type;
    union {
        tcn_frame_hello hello;         /* HELLO */
        tcn_frame_bytes raft;          /* RAFT */
        uint8_t challenge[TCN_FRAME_CHALLENGE_BYTES]; /* REATTEST_CHALLENGE */
        tcn_frame_bytes evidence;      /* REATTEST_EVIDENCE */
        tcn_frame_ping ping;           /* PING and PONG */
        tcn_frame_bye bye;             /* BYE */
    } u;
} tcn_frame;

/* "HELLO", ... ; "?" for anything else. */
const char *tcn_frame_type_name(int type);
const char *tcn_frame_bye_reason_name(int reason);

/* Appends the encoding of f to out. Refuses (TCN_ERR_USAGE, naming the
 * field) any frame the decoder would refuse; out is then unchanged. */
int tcn_frame_encode(const tcn_frame *f, tcn_buf *out, tcn_error *err) TCN_MUST_CHECK;

/* Pure parser of one frame at the start of p[0, n). On TCN_OK *used is the
 * frame's size (bytes after it are left alone) and byte views in *out point
 * into p. TCN_ERR_TRUNCATED when p holds only a prefix of a frame that is
 * valid so far; any other error names what is wrong. */
int tcn_frame_decode(const uint8_t *p, size_t n, tcn_frame *out, size_t *used, tcn_error *err) TCN_MUST_CHECK;

/* Decodes a payload of the given type (the frame header already checked). */
int tcn_frame_payload_decode(int type, const uint8_t *p, size_t n, tcn_frame *out, tcn_error *err) TCN_MUST_CHECK;

/* Checks the first n (<= TCN_FRAME_HEADER_BYTES) bytes of a header: each
 * field is judged as soon as its bytes are present, so a bad magic is
 * refused at the first byte and an oversize length at the eighth. */
int tcn_frame_header_check(const uint8_t *h, size_t n, tcn_error *err) TCN_MUST_CHECK;

/* ---- the stream decoder ---------------------------------------------------
 * Takes a byte stream in pieces of any size and calls the handler once per
 * complete frame, in order. It holds at most one frame's header and the
 * payload bytes of that frame that have arrived, in a buffer that grows as
 * they arrive (never to an announced length ahead of the bytes). A zeroed
 * struct is ready to use; tcn_frame_decoder_free releases it. */
typedef int (*tcn_frame_handler)(void *ctx, const tcn_frame *f, tcn_error *err);

typedef struct tcn_frame_decoder {
    uint8_t hdr[TCN_FRAME_HEADER_BYTES];
    size_t hdr_len;    /* header bytes of the current frame received */
    uint8_t type;      /* valid once the header is complete */
    uint32_t length;   /* payload length, valid once the header is complete */
    uint8_t *buf;      /* payload bytes of the current frame received so far */
    size_t buf_len;
    size_t buf_cap;
    int failed;        /* the code of the first error: the stream is unusable */
    bool in_feed;
    uint64_t frames;   /* frames delivered */
} tcn_frame_decoder;

/* Feeds p[0, n). For each complete frame, calls handler(ctx, frame, err);
 * the frame's byte views (RAFT, REATTEST_EVIDENCE) are valid only during
 * that call. Returns TCN_OK when every byte was taken (a partial frame stays
 * buffered). A malformed frame is refused at the first byte that shows it
 * (TCN_ERR_MALFORMED, _UNSUPPORTED or _TOO_LARGE, naming the field); a
 * handler's non-OK return stops feeding and is returned as is. After either
 * the decoder is failed: every later feed returns that code again, since
 * the stream can no longer be read in step (the caller closes the channel).
 * The handler must not feed the same decoder. */
int tcn_frame_decoder_feed(tcn_frame_decoder *d, const void *p, size_t n, tcn_frame_handler handler, void *ctx,
                           tcn_error *err) TCN_MUST_CHECK;
/* Bytes of an incomplete frame held (header and payload): at the end of the
 * stream, non-zero means the peer stopped mid-frame. */
size_t tcn_frame_decoder_pending(const tcn_frame_decoder *d);
/* Bytes of payload buffer allocated now (for memory accounting and tests). */
size_t tcn_frame_decoder_capacity(const tcn_frame_decoder *d);
void tcn_frame_decoder_free(tcn_frame_decoder *d);

#endif
