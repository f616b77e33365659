/* Ed25519 key pairs (libsodium) in secure memory. */
#include "chain/keypair.h"

#include <sodium.h>

#include "util/assert.h"
#include "util/secmem.h"

struct tcn_chain_keypair {
    tcn_chain_pubkey pk;
    uint8_t sk[crypto_sign_SECRETKEYBYTES]; /* libsodium layout: seed ‖ public key */
};

int tcn_chain_keypair_from_seed(const uint8_t seed[TCN_CHAIN_SEED_LEN], tcn_chain_keypair **out, tcn_error *err)
{
    _Static_assert(crypto_sign_SEEDBYTES == TCN_CHAIN_SEED_LEN, "Ed25519 seed size");
    _Static_assert(crypto_sign_PUBLICKEYBYTES == TCN_CHAIN_PUBKEY_LEN, "Ed25519 public key size");
    _Static_assert(crypto_sign_BYTES == TCN_CHAIN_SIGNATURE_LEN, "Ed25519 signature size");
    *out = NULL;
    tcn_chain_keypair *kp = tcn_secure_alloc(sizeof(*kp));
    TCN_ENSURE(kp != NULL, err, TCN_ERR_NOMEM, "chain keypair: secure memory exhausted");
    if (crypto_sign_seed_keypair(kp->pk.b, kp->sk, seed) != 0) {
        tcn_secure_free(kp);
        return tcn_err_set(err, TCN_ERR_CRYPTO, "chain keypair: libsodium refused the seed");
    }
    *out = kp;
    return TCN_OK;
}

void tcn_chain_keypair_free(tcn_chain_keypair *kp)
{
    tcn_secure_free(kp); /* wipes */
}

const tcn_chain_pubkey *tcn_chain_keypair_pubkey(const tcn_chain_keypair *kp)
{
    TCN_ASSERT(kp != NULL);
    return &kp->pk;
}

int tcn_chain_keypair_sign(const tcn_chain_keypair *kp, const uint8_t *msg, size_t len, tcn_chain_signature *out,
                           tcn_error *err)
{
    TCN_ASSERT(kp != NULL);
    TCN_ENSURE(crypto_sign_detached(out->b, NULL, msg, len, kp->sk) == 0, err, TCN_ERR_CRYPTO,
               "chain keypair: signing failed");
    return TCN_OK;
}

bool tcn_chain_verify(const tcn_chain_pubkey *pk, const uint8_t *msg, size_t len, const tcn_chain_signature *sig)
{
    return crypto_sign_verify_detached(sig->b, msg, len, pk->b) == 0;
}
