/* libFuzzer target: the attestation policy section of a config file. */
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "attest/policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_error_t je;
    json_t *root = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &je);
    if (root == NULL)
        return 0;
    json_t *a = json_object_get(root, "attestation");
    tcn_policy p;
    tcn_error err;
    if (tcn_policy_from_json(a ? a : root, &p, &err) == TCN_OK) {
        tcn_claims c = {0};
        c.tee = TCN_TEE_SGX;
        c.measurement_len = 32;
        (void)tcn_policy_check(&p, &c, 0, &err);
    }
    json_decref(root);
    return 0;
}
