/* libFuzzer target: peer frames. The bytes are read twice, frame by frame
 * with the one-shot parser and as a stream cut into pieces the input picks;
 * both must agree, every accepted frame must re-encode to its own bytes,
 * every refusal must say why, and the stream decoder must hold no more than
 * about twice what it was given of an unfinished frame. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "node/frame.h"
#include "util/buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct seen {
    tcn_buf enc; /* the re-encoding of every frame delivered, in order */
    size_t n;
} seen;

static int on_frame(void *ctx, const tcn_frame *f, tcn_error *err)
{
    seen *s = ctx;
    if (tcn_frame_encode(f, &s->enc, err) != TCN_OK)
        abort(); /* the encoder refuses what the decoder accepted */
    s->n++;
    return TCN_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    /* The first byte picks how the stream is cut; the rest is the stream. */
    uint8_t cut_seed = data[0];
    data++, size--;

    tcn_error err;
    tcn_buf one = {0};
    size_t at = 0, frames = 0;
    int one_rc = TCN_OK;
    for (;;) {
        tcn_frame f;
        size_t used = 0;
        tcn_err_clear(&err);
        one_rc = tcn_frame_decode(data + at, size - at, &f, &used, &err);
        if (one_rc != TCN_OK)
            break;
        size_t before = one.len;
        if (tcn_frame_encode(&f, &one, &err) != TCN_OK)
            abort();
        if (one.len - before != used || memcmp(one.p + before, data + at, used) != 0)
            abort(); /* not canonical */
        at += used;
        frames++;
    }
    if (one_rc != TCN_ERR_TRUNCATED && err.msg[0] == '\0')
        abort(); /* a refusal names what is wrong */

    seen s = {0};
    tcn_frame_decoder d = {0};
    size_t pos = 0;
    int st_rc = TCN_OK;
    uint32_t x = cut_seed * 2654435761u + 1;
    while (pos < size && st_rc == TCN_OK) {
        x = x * 1103515245u + 12345u;
        size_t piece = cut_seed < 16 ? 1 + cut_seed : 1 + (x >> 16) % (size_t)(4 * cut_seed + 1);
        if (piece > size - pos)
            piece = size - pos;
        st_rc = tcn_frame_decoder_feed(&d, data + pos, piece, on_frame, &s, &err);
        pos += piece;
        /* A buffer above BUF_KEEP exists only for the frame in progress,
         * and is at most twice what arrived of it. */
        size_t pending = tcn_frame_decoder_pending(&d), cap = tcn_frame_decoder_capacity(&d);
        size_t held = pending > TCN_FRAME_HEADER_BYTES ? pending - TCN_FRAME_HEADER_BYTES : 0;
        if (cap > TCN_FRAME_DECODER_BUF_KEEP && cap > 2 * held)
            abort();
    }
    /* The same frames, and the same verdict: the stream fails exactly where
     * the one-shot parser refused, and otherwise waits for what is missing. */
    if (s.n != frames || s.enc.len != one.len || (one.len && memcmp(s.enc.p, one.p, one.len) != 0))
        abort();
    if (one_rc == TCN_ERR_TRUNCATED) {
        if (st_rc != TCN_OK || tcn_frame_decoder_pending(&d) != size - at)
            abort();
    } else if (st_rc != one_rc) {
        abort();
    }
    tcn_frame_decoder_free(&d);
    tcn_buf_free(&s.enc);
    tcn_buf_free(&one);
    return 0;
}
