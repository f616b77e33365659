/* Base58 encoding and strict decoding (the Bitcoin alphabet, as Solana uses
 * for addresses, blockhashes and signatures: Solana docs "Accounts"). */
#include "chain/base58.h"

#include <string.h>

#include "util/assert.h"

static const char ALPHABET[] = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

/* Digit value of c, or -1 outside the alphabet. */
static int digit_of(unsigned char c)
{
    if (c >= '1' && c <= '9')
        return c - '1';
    if (c >= 'A' && c <= 'H')
        return 9 + (c - 'A');
    if (c >= 'J' && c <= 'N')
        return 17 + (c - 'J');
    if (c >= 'P' && c <= 'Z')
        return 22 + (c - 'P');
    if (c >= 'a' && c <= 'k')
        return 33 + (c - 'a');
    if (c >= 'm' && c <= 'z')
        return 44 + (c - 'm');
    return -1;
}

int tcn_chain_base58_encode(const uint8_t *in, size_t n, char *out, size_t cap)
{
    /* log(256)/log(58) < 1.366: n bytes need at most n*138/100+1 digits. */
    uint8_t digits[TCN_CHAIN_BASE58_BYTES_MAX * 138 / 100 + 1];
    if (n > TCN_CHAIN_BASE58_BYTES_MAX || out == NULL || cap == 0)
        return TCN_ERR_USAGE;
    size_t zeros = 0;
    while (zeros < n && in[zeros] == 0)
        zeros++;
    size_t nd = 0; /* digits used, least significant first */
    for (size_t i = zeros; i < n; i++) {
        unsigned carry = in[i];
        for (size_t j = 0; j < nd; j++) {
            carry += (unsigned)digits[j] << 8;
            digits[j] = (uint8_t)(carry % 58);
            carry /= 58;
        }
        while (carry > 0) {
            TCN_ASSERT(nd < sizeof(digits));
            digits[nd++] = (uint8_t)(carry % 58);
            carry /= 58;
        }
    }
    if (zeros + nd + 1 > cap)
        return TCN_ERR_USAGE;
    size_t o = 0;
    for (size_t i = 0; i < zeros; i++)
        out[o++] = '1';
    for (size_t j = nd; j > 0; j--)
        out[o++] = ALPHABET[digits[j - 1]];
    out[o] = '\0';
    return TCN_OK;
}

int tcn_chain_base58_decode(const char *s, size_t len, uint8_t *out, size_t cap, size_t *out_len, tcn_error *err)
{
    /* log(58)/log(256) < 0.733: len digits give at most len*733/1000+1 bytes. */
    uint8_t bytes[TCN_CHAIN_BASE58_CHARS_MAX * 733 / 1000 + 1];
    TCN_ENSURE(s != NULL || len == 0, err, TCN_ERR_USAGE, "base58: no input");
    TCN_ENSURE(len <= TCN_CHAIN_BASE58_CHARS_MAX, err, TCN_ERR_TOO_LARGE, "base58: %zu characters exceed %u", len,
               TCN_CHAIN_BASE58_CHARS_MAX);
    size_t zeros = 0;
    while (zeros < len && s[zeros] == '1')
        zeros++;
    size_t nb = 0; /* bytes used, least significant first */
    for (size_t i = zeros; i < len; i++) {
        int d = digit_of((unsigned char)s[i]);
        TCN_ENSURE(d >= 0, err, TCN_ERR_MALFORMED, "base58: character %zu (0x%02x) is not in the alphabet", i,
                   (unsigned char)s[i]);
        unsigned carry = (unsigned)d;
        for (size_t j = 0; j < nb; j++) {
            carry += (unsigned)bytes[j] * 58;
            bytes[j] = (uint8_t)(carry & 0xff);
            carry >>= 8;
        }
        while (carry > 0) {
            TCN_ASSERT(nb < sizeof(bytes));
            bytes[nb++] = (uint8_t)(carry & 0xff);
            carry >>= 8;
        }
    }
    TCN_ENSURE(zeros + nb <= cap, err, TCN_ERR_MALFORMED, "base58: value needs %zu bytes, more than %zu", zeros + nb,
               cap);
    memset(out, 0, zeros);
    for (size_t j = 0; j < nb; j++)
        out[zeros + j] = bytes[nb - 1 - j];
    *out_len = zeros + nb;
    return TCN_OK;
}

int tcn_chain_base58_decode_exact(const char *s, size_t len, uint8_t *out, size_t want, const char *what,
                                  tcn_error *err)
{
    uint8_t tmp[TCN_CHAIN_BASE58_CHARS_MAX];
    size_t got = 0;
    TCN_ASSERT(want <= sizeof(tmp));
    if (tcn_chain_base58_decode(s, len, tmp, sizeof(tmp), &got, err) != TCN_OK)
        return tcn_err_wrap(err, "%s", what);
    TCN_ENSURE(got == want, err, TCN_ERR_MALFORMED, "%s: base58 decodes to %zu bytes, want %zu", what, got, want);
    memcpy(out, tmp, want);
    return TCN_OK;
}

int tcn_chain_pubkey_from_base58(const char *s, tcn_chain_pubkey *out, tcn_error *err)
{
    return tcn_chain_base58_decode_exact(s, s ? strlen(s) : 0, out->b, sizeof(out->b), "public key", err);
}

int tcn_chain_hash_from_base58(const char *s, tcn_chain_hash *out, tcn_error *err)
{
    return tcn_chain_base58_decode_exact(s, s ? strlen(s) : 0, out->b, sizeof(out->b), "hash", err);
}

int tcn_chain_signature_from_base58(const char *s, tcn_chain_signature *out, tcn_error *err)
{
    return tcn_chain_base58_decode_exact(s, s ? strlen(s) : 0, out->b, sizeof(out->b), "signature", err);
}

void tcn_chain_pubkey_to_base58(const tcn_chain_pubkey *pk, char out[TCN_CHAIN_BASE58_PUBKEY_CHARS])
{
    TCN_ASSERT(tcn_chain_base58_encode(pk->b, sizeof(pk->b), out, TCN_CHAIN_BASE58_PUBKEY_CHARS) == TCN_OK);
}

void tcn_chain_hash_to_base58(const tcn_chain_hash *h, char out[TCN_CHAIN_BASE58_PUBKEY_CHARS])
{
    TCN_ASSERT(tcn_chain_base58_encode(h->b, sizeof(h->b), out, TCN_CHAIN_BASE58_PUBKEY_CHARS) == TCN_OK);
}

void tcn_chain_signature_to_base58(const tcn_chain_signature *s, char out[TCN_CHAIN_BASE58_SIGNATURE_CHARS])
{
    TCN_ASSERT(tcn_chain_base58_encode(s->b, sizeof(s->b), out, TCN_CHAIN_BASE58_SIGNATURE_CHARS) == TCN_OK);
}

/* ICU's root collation on alphanumerics: the primary level ignores case and
 * puts digits before letters (ASCII order after folding to lowercase does
 * both); the tertiary level (case) decides only when the primary level ties. */
int tcn_chain_base58_collate(const char *a, const char *b)
{
    size_t i = 0;
    for (;; i++) {
        unsigned char x = (unsigned char)a[i], y = (unsigned char)b[i];
        unsigned char fx = (x >= 'A' && x <= 'Z') ? (unsigned char)(x + 32) : x;
        unsigned char fy = (y >= 'A' && y <= 'Z') ? (unsigned char)(y + 32) : y;
        if (fx != fy)
            return fx < fy ? -1 : 1; /* a prefix (NUL) sorts first */
        if (x == '\0')
            break;
    }
    for (i = 0; a[i] != '\0'; i++) {
        unsigned char x = (unsigned char)a[i], y = (unsigned char)b[i];
        if (x != y) /* same letter, other case: lowercase (caseFirst "lower") first */
            return (x >= 'a' && x <= 'z') ? -1 : 1;
    }
    return 0;
}
